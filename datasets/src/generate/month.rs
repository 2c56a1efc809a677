//! Generation of one monthly partition: declaration headers, then each declaration's
//! lines (drawn by the profile: [`clean`](super::clean) or
//! [`realistic`](super::realistic)), written in row groups straight from column vectors
//! into a Parquet file through a [`Sink`].

use std::collections::BTreeSet;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, Float64Array, Int32Array, RecordBatch, StringArray};
use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use super::catalogue::{Catalogue, ORIGINS, round_to};
use super::clean;
use super::labels::LineLabel;
use super::plan::{MonthSpec, Plan, PlantedDecl, day_weight};
use super::realistic::{self, NoiseCounts, World};
use super::rng::{Cdf, Rand, STREAM_MONTH_LINES, STREAM_MONTH_PLAN};
use super::{
    GenerateError, GeneratorConfig, LINES_PER_DECLARATION_P, MAX_LINES_PER_DECLARATION,
    line_label_share,
};

/// Name of the file written in every partition.
pub(crate) const PART_FILE: &str = "part-0.parquet";

/// Share of declarations of a regular importer that use one of its usual origins.
const USUAL_ORIGIN_SHARE: f64 = 0.8;
/// Share of declarations lodged at the importer's home office.
const HOME_OFFICE_SHARE: f64 = 0.85;
/// Share of declarations lodged by the importer's usual declarant.
const USUAL_DECLARANT_SHARE: f64 = 0.9;
/// Share of the 2nd.. lines of a declaration that stay in the first line's HS6.
pub(crate) const SAME_HS6_SHARE: f64 = 0.5;

/// The canonical Arrow schema of the generated files.
pub(crate) fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("declaration_id", DataType::Utf8, false),
        Field::new("line_no", DataType::Int32, false),
        Field::new("date", DataType::Date32, false),
        Field::new("office", DataType::Utf8, false),
        Field::new("declarant_id", DataType::Utf8, false),
        Field::new("importer_id", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, false),
        Field::new("hs_code", DataType::Utf8, false),
        Field::new("quantity", DataType::Float64, false),
        Field::new("unit", DataType::Utf8, false),
        Field::new("net_mass_kg", DataType::Float64, false),
        Field::new("customs_value", DataType::Float64, false),
    ]))
}

/// Parquet writer properties: Snappy, fixed row groups, no dictionary on the
/// high-cardinality columns.
fn writer_properties(row_group_rows: usize) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(row_group_rows.max(1)));
    for col in ["declaration_id", "quantity", "net_mass_kg", "customs_value"] {
        b = b.set_column_dictionary_enabled(ColumnPath::from(col), false);
    }
    b.build()
}

/// What one month produced.
#[derive(Debug)]
pub(crate) struct MonthResult {
    /// The Parquet file.
    pub path: PathBuf,
    /// Lines written.
    pub rows: u64,
    /// Planted line labels.
    pub labels: Vec<LineLabel>,
    /// Unlabelled realistic noise applied (zero for the clean profile).
    pub noise: NoiseCounts,
    /// `(HS6, importer)` pairs with lines of a reclassified code in the weeks before
    /// the nomenclature update (realistic profile).
    pub reclassified_buyers: BTreeSet<(u32, u32)>,
}

/// Distribution of lines per declaration (truncated geometric on 1..=8).
fn lines_cdf() -> Cdf {
    let p = LINES_PER_DECLARATION_P;
    let w: Vec<f64> = (0..MAX_LINES_PER_DECLARATION)
        .map(|k| p * libm::pow(1.0 - p, k as f64))
        .collect();
    Cdf::new(&w)
}

/// Number of lines of each regular declaration of a month, filling exactly the
/// month's rows minus its planted lines (the last declaration is cut to fit).
pub(crate) fn plan_line_counts(spec: &MonthSpec, seed: u64) -> Vec<u8> {
    let mut left = spec.rows.saturating_sub(spec.planted_rows());
    let mut rng = Rand::new(seed, STREAM_MONTH_PLAN + u64::from(spec.index));
    let cdf = lines_cdf();
    let mut out = Vec::with_capacity((left / 2) as usize);
    while left > 0 {
        let n = (cdf.sample(&mut rng) as u64 + 1).min(left);
        out.push(n as u8);
        left -= n;
    }
    out
}

/// Shared, read-only context of the month writers.
pub(crate) struct Ctx<'a> {
    pub cfg: &'a GeneratorConfig,
    pub cat: &'a Catalogue,
    pub plan: &'a Plan,
    /// The realistic profile's models (`None` for the clean profile).
    pub world: Option<&'a World>,
    pub schema: SchemaRef,
    /// Probability of under-valuation on an eligible line.
    pub p_under: f64,
    /// Probability of over-valuation on an eligible line.
    pub p_over: f64,
    /// Probability of a wrong unit on an eligible non-KGM line.
    pub p_wrong_unit: f64,
}

impl<'a> Ctx<'a> {
    /// Context with the per-line planting probabilities derived from the catalogue.
    pub(crate) fn new(
        cfg: &'a GeneratorConfig,
        cat: &'a Catalogue,
        plan: &'a Plan,
        world: Option<&'a World>,
    ) -> Self {
        let rate = |label: &str, share: f64| {
            if share > 0.0 {
                (line_label_share(label) / share).min(0.3)
            } else {
                0.0
            }
        };
        Ctx {
            cfg,
            cat,
            plan,
            world,
            schema: schema(),
            p_under: rate("under_valuation", cat.eligible_share),
            p_over: rate("over_valuation", cat.eligible_share),
            p_wrong_unit: rate("wrong_unit", cat.eligible_non_kgm_share),
        }
    }
}

/// A declaration header.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub day: i32,
    key: u64,
    pub first_nat: u32,
    pub importer: u32,
    pub declarant: u32,
    pub origin: u16,
    pub office: u16,
    pub n_lines: u8,
    /// Index into the month's planted declarations, or `u32::MAX`.
    planted: u32,
}

const NOT_PLANTED: u32 = u32::MAX;

/// One declaration to write: its header, the planted series declaration it is (if
/// any), its id and whether its date is in the crisis window.
pub(crate) struct Decl<'a> {
    pub header: &'a Header,
    pub planted: Option<&'a PlantedDecl>,
    pub id: &'a [u8; DECL_ID_LEN],
    /// Two-digit year of the id.
    pub yy: u32,
    /// Sequence number of the id.
    pub seq: u64,
    pub in_crisis: bool,
}

impl Decl<'_> {
    /// Lines of the declaration: the planted lines, or the header's count.
    pub fn n_lines(&self) -> usize {
        match self.planted {
            Some(p) => p.lines.len(),
            None => usize::from(self.header.n_lines),
        }
    }

    /// The national code (catalogue index) of line `line` and, for a planted line, its
    /// raw quantity. The first line has the header's code; later lines stay in its HS6
    /// half the time. Both profiles draw codes this way, so `rng` advances alike.
    pub fn line_code(&self, cat: &Catalogue, line: usize, rng: &mut Rand) -> (usize, Option<f64>) {
        let h = self.header;
        match self.planted {
            Some(p) => {
                let (n, q) = p.lines[line];
                (n as usize, Some(q))
            }
            None if line == 0 => (h.first_nat as usize, None),
            None if rng.chance(SAME_HS6_SHARE) => {
                let first_hs6 = cat.nats[h.first_nat as usize].hs6 as usize;
                (cat.nat_of_hs6(first_hs6, rng), None)
            }
            None => (cat.nat_cdf.sample(rng), None),
        }
    }
}

/// Column vectors of the row group being built.
struct Columns {
    decl: Vec<u8>,
    line_no: Vec<i32>,
    date: Vec<i32>,
    office: Vec<u16>,
    declarant: Vec<u32>,
    importer: Vec<u32>,
    origin: Vec<u16>,
    nat: Vec<u32>,
    quantity: Vec<f64>,
    mass: Vec<f64>,
    value: Vec<f64>,
}

/// Width of a declaration id, e.g. `D25-0001234567`.
pub(crate) const DECL_ID_LEN: usize = 14;

/// Declaration id bytes.
fn decl_id(yy: u32, seq: u64) -> [u8; DECL_ID_LEN] {
    let mut b = *b"D00-0000000000";
    b[1] = b'0' + ((yy / 10) % 10) as u8;
    b[2] = b'0' + (yy % 10) as u8;
    let mut s = seq;
    for i in (4..DECL_ID_LEN).rev() {
        b[i] = b'0' + (s % 10) as u8;
        s /= 10;
    }
    b
}

/// The declaration id string (for labels).
pub(crate) fn decl_id_string(yy: u32, seq: u64) -> String {
    decl_id(yy, seq).iter().map(|&b| char::from(b)).collect()
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Columns {
            decl: Vec::with_capacity(n * DECL_ID_LEN),
            line_no: Vec::with_capacity(n),
            date: Vec::with_capacity(n),
            office: Vec::with_capacity(n),
            declarant: Vec::with_capacity(n),
            importer: Vec::with_capacity(n),
            origin: Vec::with_capacity(n),
            nat: Vec::with_capacity(n),
            quantity: Vec::with_capacity(n),
            mass: Vec::with_capacity(n),
            value: Vec::with_capacity(n),
        }
    }

    fn len(&self) -> usize {
        self.line_no.len()
    }

    /// Move the buffered rows into a record batch, leaving empty buffers of
    /// capacity `cap`.
    fn take_batch(&mut self, ctx: &Ctx<'_>, cap: usize) -> Result<RecordBatch, GenerateError> {
        let cat = ctx.cat;
        let n = self.len();
        let offsets: Vec<i32> = (0..=n).map(|i| (i * DECL_ID_LEN) as i32).collect();
        let decl = StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(std::mem::replace(
                &mut self.decl,
                Vec::with_capacity(cap * DECL_ID_LEN),
            )),
            None,
        )?;
        let parties = &cat.parties;
        // A reclassified code's lines before the nomenclature update carry its
        // predecessor (realistic profile).
        let hs_code: StringArray = match &ctx.plan.reclassification {
            None => StringArray::from_iter_values(
                self.nat.iter().map(|&c| cat.nats[c as usize].code.as_str()),
            ),
            Some(r) => StringArray::from_iter_values(
                self.nat
                    .iter()
                    .zip(&self.date)
                    .map(|(&c, &day)| r.declared_code(cat, c, day)),
            ),
        };
        let columns: Vec<ArrayRef> = vec![
            Arc::new(decl),
            Arc::new(Int32Array::from(std::mem::replace(
                &mut self.line_no,
                Vec::with_capacity(cap),
            ))),
            Arc::new(Date32Array::from(std::mem::replace(
                &mut self.date,
                Vec::with_capacity(cap),
            ))),
            Arc::new(StringArray::from_iter_values(
                self.office
                    .iter()
                    .map(|&o| cat.offices[usize::from(o)].as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                self.declarant.iter().map(|&p| parties[p as usize].as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                self.importer.iter().map(|&p| parties[p as usize].as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                self.origin.iter().map(|&o| ORIGINS[usize::from(o)]),
            )),
            Arc::new(hs_code),
            Arc::new(Float64Array::from(std::mem::replace(
                &mut self.quantity,
                Vec::with_capacity(cap),
            ))),
            Arc::new(StringArray::from_iter_values(
                self.nat.iter().map(|&c| cat.nats[c as usize].unit.code()),
            )),
            Arc::new(Float64Array::from(std::mem::replace(
                &mut self.mass,
                Vec::with_capacity(cap),
            ))),
            Arc::new(Float64Array::from(std::mem::replace(
                &mut self.value,
                Vec::with_capacity(cap),
            ))),
        ];
        self.office.clear();
        self.declarant.clear();
        self.importer.clear();
        self.origin.clear();
        self.nat.clear();
        Ok(RecordBatch::try_new(Arc::clone(&ctx.schema), columns)?)
    }
}

/// The Parquet writer of one month and the row group being built.
pub(crate) struct Sink<'c> {
    /// The run's context.
    pub ctx: &'c Ctx<'c>,
    cols: Columns,
    writer: ArrowWriter<BufWriter<File>>,
    /// Temporary file name (for errors).
    tmp: PathBuf,
    rg: usize,
    cap: usize,
    /// Lines written.
    pub rows: u64,
    /// Labels of the lines written.
    pub labels: Vec<LineLabel>,
    /// `(HS6, importer)` pairs seen buying a reclassified code before the update.
    reclassified_buyers: BTreeSet<(u32, u32)>,
}

impl Sink<'_> {
    /// Append one line (the value is rounded to cents here) and write the row group
    /// when it is full.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        id: &[u8; DECL_ID_LEN],
        line_no: u32,
        h: &Header,
        nat: u32,
        quantity: f64,
        mass: f64,
        value: f64,
    ) -> Result<(), GenerateError> {
        let cols = &mut self.cols;
        cols.decl.extend_from_slice(id);
        cols.line_no.push(line_no as i32);
        cols.date.push(h.day);
        cols.office.push(h.office);
        cols.declarant.push(h.declarant);
        cols.importer.push(h.importer);
        cols.origin.push(h.origin);
        cols.nat.push(nat);
        cols.quantity.push(quantity);
        cols.mass.push(mass);
        cols.value.push(cents(value));
        if let Some(r) = &self.ctx.plan.reclassification {
            r.note_buyer(
                self.ctx.cat,
                (nat, h.day, h.importer),
                &mut self.reclassified_buyers,
            );
        }
        self.rows += 1;
        if cols.len() >= self.rg {
            let batch = cols.take_batch(self.ctx, self.cap)?;
            self.writer
                .write(&batch)
                .map_err(|source| GenerateError::Parquet {
                    path: self.tmp.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Write the last row group and close the file; returns the file.
    fn finish(mut self) -> Result<(File, Vec<LineLabel>, u64), GenerateError> {
        let tmp = self.tmp.clone();
        let pq_err = |source| GenerateError::Parquet {
            path: tmp.clone(),
            source,
        };
        if self.cols.len() > 0 {
            let batch = self.cols.take_batch(self.ctx, 0)?;
            self.writer.write(&batch).map_err(pq_err)?;
        }
        let buf = self.writer.into_inner().map_err(pq_err)?;
        let file = buf.into_inner().map_err(|e| GenerateError::Io {
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        Ok((file, self.labels, self.rows))
    }
}

/// Round a value to cents, at least one cent.
#[inline]
pub(crate) fn cents(v: f64) -> f64 {
    round_to(v, 100.0).max(0.01)
}

/// Generate and write one month. `counts` are the regular declarations' line counts,
/// `seq_base` the number of declarations before this month in its year.
pub(crate) fn write_month(
    ctx: &Ctx<'_>,
    spec: &MonthSpec,
    counts: &[u8],
    seq_base: u64,
    out: &Path,
) -> Result<MonthResult, GenerateError> {
    let cat = ctx.cat;
    let mut rng = Rand::new(ctx.cfg.seed, STREAM_MONTH_LINES + u64::from(spec.index));
    let yy = spec.year.rem_euclid(100) as u32;

    // Headers of regular declarations, then planted ones; sorted by date.
    let day_cdf = Cdf::new(
        &(0..spec.n_days as i32)
            .map(|d| day_weight(spec.first_day + d))
            .collect::<Vec<_>>(),
    );
    let mut headers: Vec<Header> = Vec::with_capacity(counts.len() + spec.planted.len());
    for &n_lines in counts {
        let day = spec.first_day + day_cdf.sample(&mut rng) as i32;
        let first_nat = cat.nat_cdf.sample(&mut rng);
        let hs = &cat.hs6[cat.nats[first_nat].hs6 as usize];
        let regular = if rng.chance(super::catalogue::REGULAR_IMPORTER_SHARE) {
            hs.importers.get(hs.importer_cdf.sample(&mut rng)).copied()
        } else {
            None
        };
        let imp_idx = match regular {
            Some(i) => i as usize,
            None => cat.importer_cdf.sample(&mut rng),
        };
        let Some(imp) = cat.importers.get(imp_idx) else {
            continue;
        };
        let origin = if rng.chance(USUAL_ORIGIN_SHARE) {
            imp.pick_origin(&mut rng)
        } else {
            cat.origin_cdf.sample(&mut rng) as u16
        };
        let office = if rng.chance(HOME_OFFICE_SHARE) {
            imp.office
        } else {
            cat.office_cdf.sample(&mut rng) as u16
        };
        let declarant = if rng.chance(USUAL_DECLARANT_SHARE) {
            imp.declarant
        } else {
            cat.broker_cdf.sample(&mut rng) as u32
        };
        headers.push(Header {
            day,
            key: rng.next_u64(),
            first_nat: first_nat as u32,
            importer: imp.party,
            declarant,
            origin,
            office,
            n_lines,
            planted: NOT_PLANTED,
        });
    }
    for (i, p) in spec.planted.iter().enumerate() {
        headers.push(Header {
            day: p.day,
            key: rng.next_u64(),
            first_nat: 0,
            importer: p.importer,
            declarant: p.declarant,
            origin: p.origin,
            office: p.office,
            n_lines: p.lines.len().min(usize::from(u8::MAX)) as u8,
            planted: i as u32,
        });
    }
    headers.sort_by_key(|h| (h.day, h.key));

    // Output file.
    let dir = out
        .join(format!("year={:04}", spec.year))
        .join(format!("month={:02}", spec.month));
    std::fs::create_dir_all(&dir).map_err(|source| GenerateError::Io {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(PART_FILE);
    let tmp = dir.join(format!(".{PART_FILE}.tmp"));
    let file = File::create(&tmp).map_err(|source| GenerateError::Io {
        path: tmp.clone(),
        source,
    })?;
    let pq_err = |source| GenerateError::Parquet {
        path: tmp.clone(),
        source,
    };
    let writer = ArrowWriter::try_new(
        BufWriter::with_capacity(1 << 20, file),
        Arc::clone(&ctx.schema),
        Some(writer_properties(ctx.cfg.row_group_rows)),
    )
    .map_err(pq_err)?;

    let rg = ctx.cfg.row_group_rows.max(1);
    let cap = rg.min(spec.rows as usize).max(1);
    let mut sink = Sink {
        ctx,
        cols: Columns::with_capacity(cap),
        writer,
        tmp: tmp.clone(),
        rg,
        cap,
        rows: 0,
        labels: Vec::new(),
        reclassified_buyers: BTreeSet::new(),
    };
    let mut noise = NoiseCounts::default();
    let mut scratch = realistic::Scratch::default();
    let crisis = ctx.plan.crisis;

    for (i, h) in headers.iter().enumerate() {
        let seq = seq_base + i as u64 + 1;
        let id = decl_id(yy, seq);
        let decl = Decl {
            header: h,
            planted: spec.planted.get(h.planted as usize),
            id: &id,
            yy,
            seq,
            in_crisis: crisis.is_some_and(|(s, e)| h.day >= s && h.day < e),
        };
        match ctx.world {
            Some(world) => realistic::write_declaration(
                world,
                &decl,
                &mut rng,
                &mut sink,
                &mut scratch,
                &mut noise,
            )?,
            None => clean::write_declaration(&decl, &mut rng, &mut sink)?,
        }
    }
    let reclassified_buyers = std::mem::take(&mut sink.reclassified_buyers);
    let (file, labels, rows) = sink.finish()?;
    file.sync_all().map_err(|source| GenerateError::Io {
        path: tmp.clone(),
        source,
    })?;
    drop(file);
    std::fs::rename(&tmp, &path).map_err(|source| GenerateError::Io {
        path: path.clone(),
        source,
    })?;
    Ok(MonthResult {
        path,
        rows,
        labels,
        noise,
        reclassified_buyers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declaration_ids_are_fixed_width() {
        assert_eq!(decl_id_string(25, 1_234_567), "D25-0001234567");
        assert_eq!(decl_id_string(5, 9_999_999_999), "D05-9999999999");
    }
}
