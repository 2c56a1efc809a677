//! Persisted baselines: `tradescan fit`, `scan --baseline`, `fit --update`.
//!
//! A baseline folder holds the history a scan needs, already reduced to what the
//! detectors read, so a nightly scan does not decode months of raw declarations again:
//!
//! - `lines.parquet`: one row per history line with a comparison key: full HS code,
//!   origin, unit and basis (packed), acceptance date, ln unit value and ln kg per unit;
//! - `cells.parquet`: the volume cells (HS6, importer, origin, office, period) with
//!   their fixed-point sums of amount and value and their line counts;
//! - `baseline.json`: format version, id (fingerprint of the two files), tool, the
//!   settings the stored values depend on, the window, the first and last day, and
//!   every input file with its fingerprint.
//!
//! **Scoring with a baseline** (`scan NEW --baseline DIR`): the stored history and the
//! new lines form the comparison groups and series together, exactly as a scan over
//! history and new files would, but only the new lines (and the series periods the
//! new data touches) are scored and reported. So the findings equal those of one
//! `scan` over all the files, restricted to the new lines and periods.
//!
//! **Updating** (`fit --update DIR NEW... [--from D]`): stored and new rows are put
//! together, rows before the window start dropped, and everything is written in one
//! canonical order, so the result is byte for byte the baseline a fresh `fit` over the
//! same files and window writes. The window start is rounded down to the start of its
//! period (a Monday for weeks), so volume cells are never cut.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, RecordBatch, StringArray, UInt8Array,
    UInt32Array, UInt64Array,
};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Float64Type, Int32Type, Schema, UInt8Type, UInt32Type,
    UInt64Type,
};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::baseline::{FineKey, NO_GROUP};
use crate::error::{Error, Result};
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::fixed::FixedSum;
use crate::kernels::hash::{FxHashMap, fingerprint};
use crate::kernels::unit_value::Basis;
use crate::pipeline::Engine;
use crate::price::UnitMeasures;
use crate::price::{MeasureOptions, measure_unit};
use crate::report::{InputRecord, commit, stage};
use crate::volume::cells::{CellAgg, CellKey, UnitCells};
use crate::volume::cells::{CellOptions, NO_SYMBOL, SymbolTable, merge as merge_cells};
use crate::volume::{PeriodKind, VolumeMeasure, period_id, period_start};

/// Layout version of a baseline folder.
pub const FORMAT: u32 = 1;

/// `baseline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineMeta {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// Fingerprint of `lines.parquet` and `cells.parquet`.
    pub id: String,
    /// Tool that wrote it.
    pub tool: String,
    /// The settings stored values depend on: denominator rule, volume period and
    /// measure (TOML).
    pub settings: String,
    /// First day kept (`YYYY-MM-DD`), when a window was set.
    pub from: Option<String>,
    /// First and last acceptance day of the stored lines.
    pub day_range: Option<(i32, i32)>,
    /// Stored history lines.
    pub lines: u64,
    /// Stored volume cells.
    pub cells: u64,
    /// Every input file ever folded in, in path order.
    pub inputs: Vec<InputRecord>,
}

/// One stored history line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredLine {
    /// Comparison key.
    pub key: FineKey,
    /// Acceptance date (days since 1970-01-01).
    pub date: i32,
    /// ln unit value (NaN when none).
    pub uv: f64,
    /// ln kg per unit (NaN when none).
    pub kgpu: f64,
}

/// One stored volume cell.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCell {
    /// Key (importer and office symbols unused: the names below hold them).
    pub key: CellKey,
    /// Importer name.
    pub importer: Option<String>,
    /// Office name.
    pub office: Option<String>,
    /// Sums.
    pub agg: CellAgg,
}

/// A baseline in memory.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// `baseline.json`.
    pub meta: BaselineMeta,
    /// History lines, in canonical order.
    pub lines: Vec<StoredLine>,
    /// Volume cells, in canonical order.
    pub cells: Vec<StoredCell>,
}

impl Baseline {
    /// Put rows in canonical order, fold equal cells, drop rows before `from` (rounded
    /// down to its period's start), and fill in the counts and the day range.
    pub fn canonicalise(&mut self, from: Option<i32>, period: PeriodKind) {
        let from = from.map(|d| period_start(period, period_id(period, d)));
        if let Some(f) = from {
            self.lines.retain(|l| l.date >= f);
            let first = period_id(period, f);
            self.cells.retain(|c| c.key.period >= first);
        }
        self.lines.sort_by(|a, b| {
            (a.key, a.date, a.uv.to_bits(), a.kgpu.to_bits()).cmp(&(
                b.key,
                b.date,
                b.uv.to_bits(),
                b.kgpu.to_bits(),
            ))
        });
        // Borrowed keys: no string is cloned per comparison.
        fn order(c: &StoredCell) -> (u64, Option<&str>, Code, Option<&str>, i32) {
            (
                c.key.hs6,
                c.importer.as_deref(),
                c.key.origin,
                c.office.as_deref(),
                c.key.period,
            )
        }
        self.cells.sort_by(|a, b| order(a).cmp(&order(b)));
        self.cells.dedup_by(|next, kept| {
            let same = order(next) == order(kept);
            if same {
                kept.agg.add(&next.agg);
            }
            same
        });
        self.meta.lines = self.lines.len() as u64;
        self.meta.cells = self.cells.len() as u64;
        let dates = self
            .lines
            .iter()
            .map(|l| l.date)
            .filter(|&d| d != crate::kernels::arrow_edge::NULL_DATE);
        self.meta.day_range = dates.fold(None, |r, d| match r {
            None => Some((d, d)),
            Some((lo, hi)) => Some((lo.min(d), hi.max(d))),
        });
        self.meta.from = from.map(crate::kernels::dates::format_ymd);
    }

    /// The history lines as one measure unit: keys, group ids, ln measures.
    pub fn history_measures(&self) -> UnitMeasures {
        let mut m = UnitMeasures::default();
        let mut ids: FxHashMap<FineKey, u32> = FxHashMap::default();
        for l in &self.lines {
            let id = *ids.entry(l.key).or_insert_with(|| {
                m.keys.push(l.key);
                (m.keys.len() - 1) as u32
            });
            m.gid.push(id);
            m.uv.push(l.uv);
            m.kgpu.push(l.kgpu);
            m.reason.push(0);
        }
        m
    }

    /// The volume cells as one finished unit.
    pub fn history_cells(&self) -> UnitCells {
        UnitCells::from_stored(
            self.cells
                .iter()
                .map(|c| (c.key, c.importer.as_deref(), c.office.as_deref(), c.agg)),
            self.meta.day_range,
        )
    }

    /// Write the folder: the two tables and `baseline.json`, each staged then renamed
    /// together, so a failed write leaves the previous baseline.
    pub fn write(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let lines = encode(&lines_batch(&self.lines)?)?;
        let cells = encode(&cells_batch(&self.cells)?)?;
        let mut both = lines.clone();
        both.extend_from_slice(&cells);
        self.meta.id = fingerprint(&both);
        let meta = serde_json::to_vec_pretty(&self.meta).map_err(|e| Error::Write {
            path: dir.join("baseline.json"),
            message: e.to_string(),
        })?;
        let mut staged = Vec::new();
        for (name, bytes) in [
            ("lines.parquet", &lines),
            ("cells.parquet", &cells),
            ("baseline.json", &meta),
        ] {
            let path = dir.join(name);
            match stage(&path, |w| {
                std::io::Write::write_all(w, bytes).map_err(|e| Error::io(&path, e))
            }) {
                Ok(s) => staged.push(s),
                Err(e) => {
                    crate::report::discard(staged);
                    return Err(e);
                }
            }
        }
        commit(staged)
    }

    /// Read a baseline folder; a missing or malformed part is an error naming it.
    pub fn read(dir: &Path) -> Result<Baseline> {
        let path = dir.join("baseline.json");
        let text = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let meta: BaselineMeta = serde_json::from_slice(&text).map_err(|e| Error::Config {
            path: Some(path.clone()),
            message: format!("not a tradescan baseline: {e}"),
        })?;
        if meta.format != FORMAT {
            return Err(Error::Config {
                path: Some(path),
                message: format!(
                    "baseline format {} is not supported (this tool reads format {FORMAT}); \
                     fit the baseline again",
                    meta.format
                ),
            });
        }
        let lines = read_batches(&dir.join("lines.parquet"))?
            .iter()
            .map(decode_lines)
            .collect::<Result<Vec<_>>>()?
            .concat();
        let cells = read_batches(&dir.join("cells.parquet"))?
            .iter()
            .map(decode_cells)
            .collect::<Result<Vec<_>>>()?
            .concat();
        Ok(Baseline { meta, lines, cells })
    }
}

impl Engine {
    /// The settings of this engine that stored values depend on.
    fn baseline_settings(&self) -> String {
        let c = self.config();
        settings_text(c.price.denominator, c.volume.period, c.volume.measure)
    }

    /// Refuse a baseline fitted with other settings (its values would not compare).
    pub(crate) fn check_baseline(&self, b: &Baseline) -> Result<()> {
        if b.meta.settings != self.baseline_settings() {
            return Err(Error::config(format!(
                "the baseline {} was fitted with other settings ({}) than this run's ({}); \
                 fit it again",
                b.meta.id,
                b.meta.settings.trim().replace('\n', ", "),
                self.baseline_settings().trim().replace('\n', ", ")
            )));
        }
        Ok(())
    }

    /// Build a baseline from `inputs`, on top of `previous` when updating, keeping the
    /// lines from `from` on (rounded down to the start of its period).
    pub fn fit(
        &self,
        inputs: &[PathBuf],
        previous: Option<Baseline>,
        from: Option<i32>,
    ) -> Result<Baseline> {
        if let Some(p) = &previous {
            self.check_baseline(p)?;
        }
        let c = self.config();
        let period = c.volume.period;
        let from = from.map(|d| period_start(period, period_id(period, d)));
        let plan = self.plan(inputs)?;
        let window = (from, None);
        let opts = MeasureOptions {
            denominator: c.price.denominator,
            window,
            kg_per_unit: true,
            batch_size: c.scan.batch_size,
            volume: Some(CellOptions {
                period,
                measure: c.volume.measure,
                split: Vec::new(),
                split_band: 0.0,
                window,
            }),
            keep_dates: true,
        };
        let mut units: Vec<UnitMeasures> = self.pool().install(|| {
            plan.units
                .par_iter()
                .map(|u| measure_unit(&plan, u, &opts))
                .collect::<Result<Vec<_>>>()
        })?;
        let mut lines = Vec::new();
        for u in &units {
            for (row, &gid) in u.gid.iter().enumerate() {
                if gid == NO_GROUP {
                    continue;
                }
                lines.push(StoredLine {
                    key: u.keys[gid as usize],
                    date: u.dates[row],
                    uv: u.uv[row],
                    kgpu: u.kgpu.get(row).copied().unwrap_or(f64::NAN),
                });
            }
        }
        let unit_cells: Vec<UnitCells> = units.iter_mut().filter_map(|u| u.cells.take()).collect();
        drop(units);
        let merged = self.pool().install(|| merge_cells(unit_cells));
        let name = |t: &SymbolTable, s: u32| (s != NO_SYMBOL).then(|| t.name(s).to_string());
        let mut cells: Vec<StoredCell> = merged
            .shards
            .iter()
            .flatten()
            .map(|(k, a)| StoredCell {
                key: CellKey {
                    importer: NO_SYMBOL,
                    office: NO_SYMBOL,
                    ..*k
                },
                importer: name(&merged.importers, k.importer),
                office: name(&merged.offices, k.office),
                agg: *a,
            })
            .collect();
        let mut records = crate::pipeline::input_records(&plan, self.pool())?;
        if let Some(p) = previous {
            lines.extend(p.lines);
            cells.extend(p.cells);
            let new: std::collections::BTreeSet<String> =
                records.iter().map(|r| r.path.clone()).collect();
            records.extend(p.meta.inputs.into_iter().filter(|r| !new.contains(&r.path)));
        }
        records.sort_by(|a, b| a.path.cmp(&b.path));
        let mut b = Baseline {
            meta: BaselineMeta {
                format: FORMAT,
                id: String::new(),
                tool: format!("tradescan {}", env!("CARGO_PKG_VERSION")),
                settings: self.baseline_settings(),
                from: None,
                day_range: None,
                lines: 0,
                cells: 0,
                inputs: records,
            },
            lines,
            cells,
        };
        b.canonicalise(from, period);
        Ok(b)
    }
}

/// The settings a baseline's stored values depend on, as TOML text.
pub fn settings_text(
    denominator: crate::config::Denominator,
    period: PeriodKind,
    measure: VolumeMeasure,
) -> String {
    format!(
        "denominator = {:?}\nperiod = {:?}\nmeasure = {:?}\n",
        denominator, period, measure
    )
}

fn lines_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("hs", DataType::UInt64, false),
        Field::new("origin", DataType::UInt64, false),
        Field::new("unit", DataType::UInt64, false),
        Field::new("basis", DataType::UInt8, false),
        Field::new("date", DataType::Int32, false),
        Field::new("ln_unit_value", DataType::Float64, false),
        Field::new("ln_kg_per_unit", DataType::Float64, false),
    ]))
}

fn lines_batch(lines: &[StoredLine]) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(lines.iter().map(|l| l.key.hs.0).collect::<UInt64Array>()),
        Arc::new(
            lines
                .iter()
                .map(|l| l.key.origin.0)
                .collect::<UInt64Array>(),
        ),
        Arc::new(lines.iter().map(|l| l.key.unit.0).collect::<UInt64Array>()),
        Arc::new(
            lines
                .iter()
                .map(|l| u8::from(l.key.basis == Basis::PerKg))
                .collect::<UInt8Array>(),
        ),
        Arc::new(lines.iter().map(|l| l.date).collect::<Int32Array>()),
        Arc::new(lines.iter().map(|l| l.uv).collect::<Float64Array>()),
        Arc::new(lines.iter().map(|l| l.kgpu).collect::<Float64Array>()),
    ];
    RecordBatch::try_new(lines_schema(), cols).map_err(|e| Error::Internal(e.to_string()))
}

fn cells_schema() -> Arc<Schema> {
    let u = |n: &str| Field::new(n, DataType::UInt64, false);
    Arc::new(Schema::new(vec![
        u("hs6"),
        Field::new("importer", DataType::Utf8, true),
        u("origin"),
        Field::new("office", DataType::Utf8, true),
        Field::new("period", DataType::Int32, false),
        u("amount_lo"),
        u("amount_hi"),
        u("value_lo"),
        u("value_hi"),
        Field::new("lines", DataType::UInt32, false),
    ]))
}

fn cells_batch(cells: &[StoredCell]) -> Result<RecordBatch> {
    let word = |f: fn(&StoredCell) -> u64| -> ArrayRef {
        Arc::new(cells.iter().map(f).collect::<UInt64Array>())
    };
    let cols: Vec<ArrayRef> = vec![
        word(|c| c.key.hs6),
        Arc::new(
            cells
                .iter()
                .map(|c| c.importer.as_deref())
                .collect::<StringArray>(),
        ),
        word(|c| c.key.origin.0),
        Arc::new(
            cells
                .iter()
                .map(|c| c.office.as_deref())
                .collect::<StringArray>(),
        ),
        Arc::new(cells.iter().map(|c| c.key.period).collect::<Int32Array>()),
        word(|c| c.agg.amount.to_parts().0),
        word(|c| c.agg.amount.to_parts().1),
        word(|c| c.agg.value.to_parts().0),
        word(|c| c.agg.value.to_parts().1),
        Arc::new(cells.iter().map(|c| c.agg.lines).collect::<UInt32Array>()),
    ];
    RecordBatch::try_new(cells_schema(), cols).map_err(|e| Error::Internal(e.to_string()))
}

fn encode(batch: &RecordBatch) -> Result<Vec<u8>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("tradescan {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut out = Vec::new();
    let err = |e: parquet::errors::ParquetError| {
        Error::Internal(format!("encoding a baseline table: {e}"))
    };
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).map_err(err)?;
    w.write(batch).map_err(err)?;
    w.close().map_err(err)?;
    Ok(out)
}

fn read_batches(path: &PathBuf) -> Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let bad = |m: String| Error::NotParquet {
        path: path.clone(),
        message: format!("baseline table: {m}"),
    };
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| bad(e.to_string()))?
        .build()
        .map_err(|e| bad(e.to_string()))?
        .map(|b| b.map_err(|e| bad(e.to_string())))
        .collect()
}

/// The values of a non-null primitive column of a baseline table.
fn values<'a, T: ArrowPrimitiveType>(b: &'a RecordBatch, name: &str) -> Result<&'a [T::Native]> {
    b.column_by_name(name)
        .and_then(|a| a.as_primitive_opt::<T>())
        .map(|a| &**a.values())
        .ok_or_else(|| {
            Error::Internal(format!(
                "baseline table: column `{name}` is missing or not {}",
                T::DATA_TYPE
            ))
        })
}

/// A nullable string column of a baseline table.
fn strings<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a StringArray> {
    b.column_by_name(name)
        .and_then(|a| a.as_string_opt::<i32>())
        .ok_or_else(|| {
            Error::Internal(format!(
                "baseline table: column `{name}` is missing or not utf8"
            ))
        })
}

fn decode_lines(b: &RecordBatch) -> Result<Vec<StoredLine>> {
    let (hs, origin, unit) = (
        values::<UInt64Type>(b, "hs")?,
        values::<UInt64Type>(b, "origin")?,
        values::<UInt64Type>(b, "unit")?,
    );
    let basis = values::<UInt8Type>(b, "basis")?;
    let date = values::<Int32Type>(b, "date")?;
    let uv = values::<Float64Type>(b, "ln_unit_value")?;
    let kg = values::<Float64Type>(b, "ln_kg_per_unit")?;
    Ok((0..b.num_rows())
        .map(|i| StoredLine {
            key: FineKey {
                hs: HsCode(hs[i]),
                origin: Code(origin[i]),
                unit: Code(unit[i]),
                basis: if basis[i] == 1 {
                    Basis::PerKg
                } else {
                    Basis::PerUnit
                },
            },
            date: date[i],
            uv: uv[i],
            kgpu: kg[i],
        })
        .collect())
}

fn decode_cells(b: &RecordBatch) -> Result<Vec<StoredCell>> {
    let u64s = |n: &str| values::<UInt64Type>(b, n);
    let (hs6, origin) = (u64s("hs6")?, u64s("origin")?);
    let (alo, ahi, vlo, vhi) = (
        u64s("amount_lo")?,
        u64s("amount_hi")?,
        u64s("value_lo")?,
        u64s("value_hi")?,
    );
    let (importer, office) = (strings(b, "importer")?, strings(b, "office")?);
    let period = values::<Int32Type>(b, "period")?;
    let lines = values::<UInt32Type>(b, "lines")?;
    let text = |a: &StringArray, i: usize| a.is_valid(i).then(|| a.value(i).to_string());
    Ok((0..b.num_rows())
        .map(|i| StoredCell {
            key: CellKey {
                hs6: hs6[i],
                importer: crate::volume::cells::NO_SYMBOL,
                origin: Code(origin[i]),
                office: crate::volume::cells::NO_SYMBOL,
                period: period[i],
            },
            importer: text(importer, i),
            office: text(office, i),
            agg: CellAgg {
                amount: FixedSum::from_parts(alo[i], ahi[i]),
                value: FixedSum::from_parts(vlo[i], vhi[i]),
                lines: lines[i],
            },
        })
        .collect())
}
