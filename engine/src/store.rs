//! Persisted baselines: `tradescan fit`, `scan --baseline`, `fit --update`.
//!
//! A baseline folder holds the history reduced to what the detectors read, twice: as
//! history rows (to update the baseline) and as the statistics a nightly scan needs
//! (so scoring a night reads no history row):
//!
//! - `lines.parquet`: one row per history line with a comparison key: full HS code,
//!   origin, unit and basis (packed), acceptance date, ln unit value and ln kg per unit;
//! - `cells.parquet`: the volume cells (HS6, importer, origin, office, period) with
//!   their fixed-point sums of amount and value and their line counts;
//! - `groups.parquet`: every comparison group of the history at every level of the
//!   fallback chain, per measure, with its count and exact order statistics;
//! - `series.parquet`: every volume series of every key kind, one row per non-empty
//!   period (series key, period, sums), panel after panel; `panels.parquet`: each
//!   panel (key kind and HS6) with its rows, pooled spreads and typical amounts;
//!   `symbols.parquet`: the importer and office names in the order of their ids;
//! - `baseline.json`: format version, id (fingerprint of the tables), tool, the
//!   settings the stored values depend on, the window, the first and last day, and
//!   every input file with its fingerprint.
//!
//! **Scoring with a baseline** (`scan NEW --baseline DIR`): new lines are judged
//! against the history's groups (resolved through the fallback chain with the
//! history's counts), and the volume series the new lines touch are the stored series
//! plus the new cells, judged over their whole range with the history's pooled spreads
//! and typical amounts; only the new lines and the periods they touch are reported.
//! This differs from one `scan` over history and new files in two ways, both by
//! design: the new lines are not part of the groups and panel statistics they are
//! judged against (a night cannot shift its own baseline), and series the new data does
//! not touch are not judged (a series that falls silent is a drop for a full scan).
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
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use rayon::prelude::*;

use crate::baseline::{FineKey, NO_GROUP, StoredGroups};
use crate::detect::{Prior, Surge};
use crate::error::{Error, Result};
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::fixed::FixedSum;
use crate::kernels::hash::{Fingerprint, FxHashMap};
use crate::kernels::order_stats::OrderStats;
use crate::kernels::unit_value::Basis;
use crate::pipeline::Engine;
use crate::price::UnitMeasures;
use crate::price::{MeasureOptions, measure_unit};
use crate::report::{InputRecord, commit, stage};
use crate::volume::analyse::PanelContext;
use crate::volume::cells::{CellAgg, CellKey, UnitCells};
use crate::volume::cells::{CellOptions, NO_SYMBOL, SymbolTable, merge as merge_cells};
use crate::volume::state::{PanelRecord, StoredEntry, VolumeState};
use crate::volume::{PeriodKind, SeriesKind, period_id, period_start};

/// Layout version of a baseline folder.
pub const FORMAT: u32 = 2;

/// `baseline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineMeta {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// Fingerprint of the tables.
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

/// A baseline in memory: the history rows and the statistics derived from them.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// `baseline.json`.
    pub meta: BaselineMeta,
    /// History lines, in canonical order.
    pub lines: Vec<StoredLine>,
    /// Volume cells, in canonical order.
    pub cells: Vec<StoredCell>,
    /// What scoring reads (computed by [`Engine::fit`]).
    pub state: BaselineState,
}

/// What scoring new data against a baseline reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaselineState {
    /// `baseline.json`.
    pub meta: Option<BaselineMeta>,
    /// History groups of ln unit values, per level.
    pub uv: StoredGroups,
    /// History groups of ln kg per unit, per level.
    pub kg: StoredGroups,
    /// Volume series and panels.
    pub volume: VolumeState,
    /// Milliseconds [`BaselineState::read`] took (0 when computed in memory).
    pub read_ms: u64,
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
    fn history_measures(&self) -> UnitMeasures {
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
        }
        m
    }

    /// Write the folder: the tables and `baseline.json`, each staged then renamed
    /// together, so a failed write leaves the previous baseline.
    pub fn write(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // One table at a time: encoded (in row chunks), fingerprinted, staged, freed.
        let v = &self.state.volume;
        type Encoder<'a> = &'a dyn Fn() -> Result<Vec<u8>>;
        let tables: [(&str, Encoder<'_>); 6] = [
            ("lines.parquet", &|| encode(&self.lines, lines_batch)),
            ("cells.parquet", &|| encode(&self.cells, cells_batch)),
            ("groups.parquet", &|| {
                encode(&[&self.state], |s| groups_batch(s[0]))
            }),
            ("series.parquet", &|| encode(&v.rows, series_batch)),
            ("panels.parquet", &|| encode(&[v], |v| panels_batch(v[0]))),
            ("symbols.parquet", &|| encode(&[v], |v| symbols_batch(v[0]))),
        ];
        let mut id = Fingerprint::new();
        let mut staged = Vec::new();
        let mut put = |name: &str, bytes: &[u8]| -> Result<()> {
            let path = dir.join(name);
            let s = stage(&path, |w| {
                std::io::Write::write_all(w, bytes).map_err(|e| Error::io(&path, e))
            })?;
            staged.push(s);
            Ok(())
        };
        let written = tables.iter().try_for_each(|(name, make)| {
            let bytes = make()?;
            id.update(&bytes);
            put(name, &bytes)
        });
        let written = written.and_then(|()| {
            self.meta.id = id.finish();
            let meta = serde_json::to_vec_pretty(&self.meta).map_err(|e| Error::Write {
                path: dir.join("baseline.json"),
                message: e.to_string(),
            })?;
            put("baseline.json", &meta)
        });
        if let Err(e) = written {
            crate::report::discard(staged);
            return Err(e);
        }
        self.state.meta = Some(self.meta.clone());
        commit(staged)
    }

    /// `baseline.json` of a folder, checked for its format.
    fn read_meta(dir: &Path) -> Result<BaselineMeta> {
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
        Ok(meta)
    }

    /// Read a baseline folder's history (to update it); a missing or malformed part is
    /// an error naming it.
    pub fn read(dir: &Path) -> Result<Baseline> {
        let meta = Baseline::read_meta(dir)?;
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
        Ok(Baseline {
            meta,
            lines,
            cells,
            state: BaselineState::default(),
        })
    }
}

impl BaselineState {
    /// Read what scoring needs of a baseline folder (no history row).
    pub fn read(dir: &Path) -> Result<BaselineState> {
        let t = std::time::Instant::now();
        let meta = Baseline::read_meta(dir)?;
        let mut volume = VolumeState {
            day_range: meta.day_range,
            ..Default::default()
        };
        // The series (the bulk) are decoded row group by row group in parallel.
        let (rows, groups) = rayon::join(
            || read_series(&dir.join("series.parquet")),
            || decode_groups(&read_batches(&dir.join("groups.parquet"))?),
        );
        volume.rows = rows?;
        let (uv, kg) = groups?;
        for b in read_batches(&dir.join("symbols.parquet"))? {
            decode_symbols(&b, &mut volume)?;
        }
        for b in read_batches(&dir.join("panels.parquet"))? {
            decode_panels(&b, &mut volume)?;
        }
        let rows = volume.rows.len();
        if let Some(p) = volume
            .panels
            .iter()
            .find(|p| p.rows.0 > p.rows.1 || p.rows.1 > rows)
        {
            return Err(table_error(
                &dir.join("panels.parquet"),
                format!(
                    "panel {} {} points at rows {}..{} of {rows} in series.parquet",
                    p.kind.name(),
                    crate::volume::cells::hs6_text(p.hs6),
                    p.rows.0,
                    p.rows.1
                ),
            ));
        }
        Ok(BaselineState {
            meta: Some(meta),
            uv,
            kg,
            volume,
            read_ms: t.elapsed().as_millis() as u64,
        })
    }
}

impl Engine {
    /// The settings of this engine that stored values depend on.
    fn baseline_settings(&self) -> Result<String> {
        let c = self.config();
        let levels: Vec<String> = c.levels()?.iter().map(|l| l.name()).collect();
        let kinds: Vec<&str> = c.volume.series_kinds()?.iter().map(|k| k.name()).collect();
        let surge = Surge::new(&c.detectors.surge, c.volume.period);
        Ok(format!(
            "denominator = {:?}\nperiod = {:?}\nmeasure = {:?}\nlevels = {:?}\n\
             series = {:?}\nsurge_min_nonzero = {}\nplausible_dates = {:?}\n",
            c.price.denominator,
            c.volume.period,
            c.volume.measure,
            levels,
            kinds,
            surge.min_nonzero(),
            c.volume.plausible_dates
        ))
    }

    /// Read what scoring needs of a baseline folder, on this engine's threads.
    pub fn read_baseline(&self, dir: &Path) -> Result<BaselineState> {
        self.pool().install(|| BaselineState::read(dir))
    }

    /// Refuse a baseline fitted with other settings (its values would not compare).
    pub(crate) fn check_baseline(&self, meta: &BaselineMeta) -> Result<()> {
        let mine = self.baseline_settings()?;
        if meta.settings != mine {
            return Err(Error::config(format!(
                "the baseline {} was fitted with other settings ({}) than this run's ({}); \
                 fit it again",
                meta.id,
                meta.settings.trim().replace('\n', ", "),
                mine.trim().replace('\n', ", ")
            )));
        }
        Ok(())
    }

    /// The statistics scoring reads, from a canonical history.
    fn baseline_state(&self, b: &Baseline) -> Result<BaselineState> {
        let c = self.config();
        let levels = c.levels()?;
        let history = b.history_measures();
        let (uv, kg) = self.pool().install(|| {
            let gid = history.gid.as_slice();
            (
                StoredGroups::build(&[(gid, &history.uv)], &history.keys, &levels),
                StoredGroups::build(&[(gid, &history.kgpu)], &history.keys, &levels),
            )
        });
        drop(history);
        let surge = Surge::new(&c.detectors.surge, c.volume.period);
        let cells = b
            .cells
            .iter()
            .map(|c| (c.key, c.importer.as_deref(), c.office.as_deref(), c.agg));
        let kinds = c.volume.series_kinds()?;
        let volume = self.pool().install(|| {
            VolumeState::build(
                cells,
                b.meta.day_range,
                c.volume.period,
                &kinds,
                Some(&surge),
            )
        });
        Ok(BaselineState {
            meta: None,
            uv,
            kg,
            volume,
            read_ms: 0,
        })
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
            self.check_baseline(&p.meta)?;
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
                plausible: c.volume.plausible_days()?,
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
        drop(merged);
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
                settings: self.baseline_settings()?,
                from: None,
                day_range: None,
                lines: 0,
                cells: 0,
                inputs: records,
            },
            lines,
            cells,
            state: BaselineState::default(),
        };
        b.canonicalise(from, period);
        b.state = self.baseline_state(&b)?;
        Ok(b)
    }
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
    Arc::new(Schema::new(
        vec![
            u("hs6"),
            Field::new("importer", DataType::Utf8, true),
            u("origin"),
            Field::new("office", DataType::Utf8, true),
            Field::new("period", DataType::Int32, false),
        ]
        .into_iter()
        .chain(agg_fields())
        .collect::<Vec<_>>(),
    ))
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
    ]
    .into_iter()
    .chain(agg_arrays(cells.iter().map(|c| &c.agg)))
    .collect();
    RecordBatch::try_new(cells_schema(), cols).map_err(|e| Error::Internal(e.to_string()))
}

/// Encode a table of `rows`, converted to record batches chunk by chunk.
fn encode<T>(rows: &[T], batch: impl Fn(&[T]) -> Result<RecordBatch>) -> Result<Vec<u8>> {
    const CHUNK: usize = 1 << 20;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_created_by(format!("tradescan {}", env!("CARGO_PKG_VERSION")))
        .build();
    let mut out = Vec::new();
    let err = |e: parquet::errors::ParquetError| {
        Error::Internal(format!("encoding a baseline table: {e}"))
    };
    let first = batch(&rows[..rows.len().min(CHUNK)])?;
    let mut w = ArrowWriter::try_new(&mut out, first.schema(), Some(props)).map_err(err)?;
    w.write(&first).map_err(err)?;
    drop(first);
    for chunk in rows.chunks(CHUNK).skip(1) {
        w.write(&batch(chunk)?).map_err(err)?;
    }
    w.close().map_err(err)?;
    Ok(out)
}

fn read_batches(path: &PathBuf) -> Result<Vec<RecordBatch>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| table_error(path, e))?
        .build()
        .map_err(|e| table_error(path, e))?
        .map(|b| b.map_err(|e| table_error(path, e)))
        .collect()
}

fn table_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::NotParquet {
        path: path.to_path_buf(),
        message: format!("baseline table: {e}"),
    }
}

/// Decode `series.parquet` into one vector, its row groups in parallel, each into its
/// own part of the vector.
fn read_series(path: &PathBuf) -> Result<Vec<StoredEntry>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let meta =
        ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| table_error(path, e))?;
    let counts: Vec<usize> = meta
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| usize::try_from(rg.num_rows()).unwrap_or(0))
        .collect();
    let mut rows = vec![StoredEntry::default(); counts.iter().sum()];
    let mut parts: Vec<&mut [StoredEntry]> = Vec::with_capacity(counts.len());
    let mut rest = rows.as_mut_slice();
    for &n in &counts {
        let (head, tail) = rest.split_at_mut(n);
        parts.push(head);
        rest = tail;
    }
    parts
        .into_par_iter()
        .enumerate()
        .try_for_each(|(rg, part)| -> Result<()> {
            let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
                .with_row_groups(vec![rg])
                .build()
                .map_err(|e| table_error(path, e))?;
            let mut at = 0;
            for b in reader {
                let b = b.map_err(|e| table_error(path, e))?;
                let n = b.num_rows();
                let into = part
                    .get_mut(at..at + n)
                    .ok_or_else(|| table_error(path, "more rows than the footer says"))?;
                decode_series(&b, into)?;
                at += n;
            }
            if at != part.len() {
                return Err(table_error(path, "fewer rows than the footer says"));
            }
            Ok(())
        })?;
    Ok(rows)
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

/// The columns of a cell's sums: fixed-point amount and value as two words each, and
/// the line count.
fn agg_fields() -> [Field; 5] {
    let u = |n: &str| Field::new(n, DataType::UInt64, false);
    [
        u("amount_lo"),
        u("amount_hi"),
        u("value_lo"),
        u("value_hi"),
        Field::new("lines", DataType::UInt32, false),
    ]
}

fn agg_arrays<'a>(aggs: impl Iterator<Item = &'a CellAgg> + Clone) -> [ArrayRef; 5] {
    let word = |f: fn(&CellAgg) -> u64| -> ArrayRef {
        Arc::new(aggs.clone().map(f).collect::<UInt64Array>())
    };
    [
        word(|a| a.amount.to_parts().0),
        word(|a| a.amount.to_parts().1),
        word(|a| a.value.to_parts().0),
        word(|a| a.value.to_parts().1),
        Arc::new(aggs.clone().map(|a| a.lines).collect::<UInt32Array>()),
    ]
}

/// [`agg_fields`] of a decoded batch.
struct AggColumns<'a> {
    words: [&'a [u64]; 4],
    lines: &'a [u32],
}

impl<'a> AggColumns<'a> {
    fn of(b: &'a RecordBatch) -> Result<Self> {
        let u64s = |n: &str| values::<UInt64Type>(b, n);
        Ok(AggColumns {
            words: [
                u64s("amount_lo")?,
                u64s("amount_hi")?,
                u64s("value_lo")?,
                u64s("value_hi")?,
            ],
            lines: values::<UInt32Type>(b, "lines")?,
        })
    }

    fn at(&self, i: usize) -> CellAgg {
        let w = &self.words;
        CellAgg {
            amount: FixedSum::from_parts(w[0][i], w[1][i]),
            value: FixedSum::from_parts(w[2][i], w[3][i]),
            lines: self.lines[i],
        }
    }
}

/// The order-statistics columns of a baseline table (`{prefix}q1`, `{prefix}median`, ...).
struct StatsColumns<'a> {
    q1: &'a [f64],
    median: &'a [f64],
    q3: &'a [f64],
    mad: &'a [f64],
    mean_ad: &'a [f64],
}

impl<'a> StatsColumns<'a> {
    fn of(b: &'a RecordBatch, prefix: &str) -> Result<Self> {
        let col = |n: &str| values::<Float64Type>(b, &format!("{prefix}{n}"));
        Ok(StatsColumns {
            q1: col("q1")?,
            median: col("median")?,
            q3: col("q3")?,
            mad: col("mad")?,
            mean_ad: col("mean_ad")?,
        })
    }

    fn at(&self, i: usize, count: u64) -> OrderStats {
        OrderStats {
            count,
            q1: self.q1[i],
            median: self.median[i],
            q3: self.q3[i],
            mad: self.mad[i],
            mean_ad: self.mean_ad[i],
        }
    }
}

/// A comparison key from its stored columns (basis 1: per kg).
fn fine_key(hs: u64, origin: u64, unit: u64, basis: u8) -> FineKey {
    FineKey {
        hs: HsCode(hs),
        origin: Code(origin),
        unit: Code(unit),
        basis: if basis == 1 {
            Basis::PerKg
        } else {
            Basis::PerUnit
        },
    }
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
            key: fine_key(hs[i], origin[i], unit[i], basis[i]),
            date: date[i],
            uv: uv[i],
            kgpu: kg[i],
        })
        .collect())
}

fn decode_cells(b: &RecordBatch) -> Result<Vec<StoredCell>> {
    let u64s = |n: &str| values::<UInt64Type>(b, n);
    let (hs6, origin) = (u64s("hs6")?, u64s("origin")?);
    let agg = AggColumns::of(b)?;
    let (importer, office) = (strings(b, "importer")?, strings(b, "office")?);
    let period = values::<Int32Type>(b, "period")?;
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
            agg: agg.at(i),
        })
        .collect())
}

fn groups_batch(state: &BaselineState) -> Result<RecordBatch> {
    let rows: Vec<(u8, u8, &FineKey, &OrderStats)> = [&state.uv, &state.kg]
        .iter()
        .enumerate()
        .flat_map(|(m, g)| {
            g.levels.iter().enumerate().flat_map(move |(l, groups)| {
                groups.iter().map(move |(k, st)| (m as u8, l as u8, k, st))
            })
        })
        .collect();
    let u8s = |f: fn(&(u8, u8, &FineKey, &OrderStats)) -> u8| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<UInt8Array>())
    };
    let u64s = |f: fn(&(u8, u8, &FineKey, &OrderStats)) -> u64| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<UInt64Array>())
    };
    let f64s = |f: fn(&OrderStats) -> f64| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(r.3)).collect::<Float64Array>())
    };
    let cols: Vec<ArrayRef> = vec![
        u8s(|r| r.0),
        u8s(|r| r.1),
        u64s(|r| r.2.hs.0),
        u64s(|r| r.2.origin.0),
        u64s(|r| r.2.unit.0),
        u8s(|r| u8::from(r.2.basis == Basis::PerKg)),
        u64s(|r| r.3.count),
        f64s(|s| s.q1),
        f64s(|s| s.median),
        f64s(|s| s.q3),
        f64s(|s| s.mad),
        f64s(|s| s.mean_ad),
    ];
    let schema = Schema::new(vec![
        Field::new("measure", DataType::UInt8, false),
        Field::new("level", DataType::UInt8, false),
        Field::new("hs", DataType::UInt64, false),
        Field::new("origin", DataType::UInt64, false),
        Field::new("unit", DataType::UInt64, false),
        Field::new("basis", DataType::UInt8, false),
        Field::new("count", DataType::UInt64, false),
        Field::new("q1", DataType::Float64, false),
        Field::new("median", DataType::Float64, false),
        Field::new("q3", DataType::Float64, false),
        Field::new("mad", DataType::Float64, false),
        Field::new("mean_ad", DataType::Float64, false),
    ]);
    RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| Error::Internal(e.to_string()))
}

fn decode_groups(batches: &[RecordBatch]) -> Result<(StoredGroups, StoredGroups)> {
    let mut out = (StoredGroups::default(), StoredGroups::default());
    for b in batches {
        let (measure, level, basis) = (
            values::<UInt8Type>(b, "measure")?,
            values::<UInt8Type>(b, "level")?,
            values::<UInt8Type>(b, "basis")?,
        );
        let u64s = |n: &str| values::<UInt64Type>(b, n);
        let (hs, origin, unit, count) =
            (u64s("hs")?, u64s("origin")?, u64s("unit")?, u64s("count")?);
        let stats = StatsColumns::of(b, "")?;
        for i in 0..b.num_rows() {
            let groups = if measure[i] == 0 {
                &mut out.0
            } else {
                &mut out.1
            };
            let l = level[i] as usize;
            if groups.levels.len() <= l {
                groups.levels.resize(l + 1, Vec::new());
            }
            let key = fine_key(hs[i], origin[i], unit[i], basis[i]);
            groups.levels[l].push((key, stats.at(i, count[i])));
        }
    }
    Ok(out)
}

fn series_batch(rows: &[StoredEntry]) -> Result<RecordBatch> {
    let cols: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.key).collect::<UInt64Array>()) as ArrayRef,
        Arc::new(rows.iter().map(|r| r.period).collect::<Int32Array>()),
    ]
    .into_iter()
    .chain(agg_arrays(rows.iter().map(|r| &r.agg)))
    .collect();
    let schema = Schema::new(
        [
            Field::new("key", DataType::UInt64, false),
            Field::new("period", DataType::Int32, false),
        ]
        .into_iter()
        .chain(agg_fields())
        .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| Error::Internal(e.to_string()))
}

fn decode_series(b: &RecordBatch, into: &mut [StoredEntry]) -> Result<()> {
    let key = values::<UInt64Type>(b, "key")?;
    let period = values::<Int32Type>(b, "period")?;
    let agg = AggColumns::of(b)?;
    for (i, r) in into.iter_mut().enumerate() {
        *r = StoredEntry {
            key: key[i],
            period: period[i],
            agg: agg.at(i),
        };
    }
    Ok(())
}

fn panels_batch(v: &VolumeState) -> Result<RecordBatch> {
    let p = &v.panels;
    let f64s = |f: fn(&PanelRecord) -> f64| -> ArrayRef {
        Arc::new(p.iter().map(f).collect::<Float64Array>())
    };
    let typical = |f: fn(&OrderStats) -> f64| -> ArrayRef {
        Arc::new(
            p.iter()
                .map(|r| r.context.typical.as_ref().map(f))
                .collect::<Float64Array>(),
        )
    };
    let u64s = |f: fn(&PanelRecord) -> u64| -> ArrayRef {
        Arc::new(p.iter().map(f).collect::<UInt64Array>())
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(
            p.iter()
                .map(|r| Some(r.kind.name()))
                .collect::<StringArray>(),
        ),
        u64s(|r| r.hs6),
        f64s(|r| r.context.prior.ln_amount),
        f64s(|r| r.context.prior.lines),
        Arc::new(
            p.iter()
                .map(|r| r.context.typical.map(|t| t.count))
                .collect::<UInt64Array>(),
        ),
        typical(|t| t.q1),
        typical(|t| t.median),
        typical(|t| t.q3),
        typical(|t| t.mad),
        typical(|t| t.mean_ad),
        u64s(|r| r.rows.0 as u64),
        u64s(|r| r.rows.1 as u64),
    ];
    let f = |n: &str| Field::new(n, DataType::Float64, true);
    let schema = Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("hs6", DataType::UInt64, false),
        f("prior_ln_amount"),
        f("prior_lines"),
        Field::new("typical_count", DataType::UInt64, true),
        f("typical_q1"),
        f("typical_median"),
        f("typical_q3"),
        f("typical_mad"),
        f("typical_mean_ad"),
        Field::new("rows_start", DataType::UInt64, false),
        Field::new("rows_end", DataType::UInt64, false),
    ]);
    RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| Error::Internal(e.to_string()))
}

fn decode_panels(b: &RecordBatch, v: &mut VolumeState) -> Result<()> {
    let kind = strings(b, "kind")?;
    let u64s = |n: &str| values::<UInt64Type>(b, n);
    let (hs6, start, end) = (u64s("hs6")?, u64s("rows_start")?, u64s("rows_end")?);
    let f64s = |n: &str| values::<Float64Type>(b, n);
    let (prior_a, prior_n) = (f64s("prior_ln_amount")?, f64s("prior_lines")?);
    let count_col = b
        .column_by_name("typical_count")
        .and_then(|a| a.as_primitive_opt::<UInt64Type>())
        .ok_or_else(|| Error::Internal("baseline table: column `typical_count`".into()))?;
    let stats = StatsColumns::of(b, "typical_")?;
    for i in 0..b.num_rows() {
        let kind = SeriesKind::parse(kind.value(i))?;
        let typical = count_col
            .is_valid(i)
            .then(|| stats.at(i, count_col.value(i)));
        v.panels.push(PanelRecord {
            kind,
            hs6: hs6[i],
            context: PanelContext {
                prior: Prior {
                    ln_amount: prior_a[i],
                    lines: prior_n[i],
                },
                typical,
            },
            rows: (start[i] as usize, end[i] as usize),
        });
    }
    Ok(())
}

fn symbols_batch(v: &VolumeState) -> Result<RecordBatch> {
    let kinds = v
        .importers
        .iter()
        .map(|_| "importer")
        .chain(v.offices.iter().map(|_| "office"));
    let names = v.importers.iter().chain(&v.offices).map(String::as_str);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(kinds.map(Some).collect::<StringArray>()),
        Arc::new(names.map(Some).collect::<StringArray>()),
    ];
    let schema = Schema::new(vec![
        Field::new("kind", DataType::Utf8, false),
        Field::new("name", DataType::Utf8, false),
    ]);
    RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| Error::Internal(e.to_string()))
}

fn decode_symbols(b: &RecordBatch, v: &mut VolumeState) -> Result<()> {
    let (kind, name) = (strings(b, "kind")?, strings(b, "name")?);
    for i in 0..b.num_rows() {
        let list = if kind.value(i) == "importer" {
            &mut v.importers
        } else {
            &mut v.offices
        };
        list.push(name.value(i).to_string());
    }
    Ok(())
}
