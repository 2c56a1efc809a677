//! Reading a baseline folder: `baseline.json` checked for its format, the history rows
//! (to update a baseline) or the statistics scoring needs (to score against it).

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{
    ArrowPrimitiveType, Float64Type, Int32Type, UInt8Type, UInt32Type, UInt64Type,
};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ParquetRecordBatchReaderBuilder};
use rayon::prelude::*;

use super::{Baseline, BaselineMeta, BaselineStats, FORMAT, StoredCell, StoredLine};
use crate::baseline::{FineKey, StoredGroup, StoredGroups};
use crate::error::{Error, Result};
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::counts::GammaPrior;
use crate::kernels::fixed::FixedSum;
use crate::kernels::order_stats::OrderStats;
use crate::kernels::tiers::Tiers;
use crate::kernels::unit_value::Basis;
use crate::series::SeriesKind;
use crate::series::cells::{CellAgg, CellKey, NO_SYMBOL, hs6_text};
use crate::series::entries::{PanelContext, Prior};
use crate::store::series::{PanelRecord, StoredEntry, StoredSeries};

impl Baseline {
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
            stats: BaselineStats::default(),
        })
    }
}

impl BaselineStats {
    /// Read what scoring needs of a baseline folder (no history row).
    pub fn read(dir: &Path) -> Result<BaselineStats> {
        let t = std::time::Instant::now();
        let meta = Baseline::read_meta(dir)?;
        let mut volume = StoredSeries {
            day_range: meta.day_range,
            ..Default::default()
        };
        // The series (the bulk) are decoded row group by row group in parallel.
        let (rows, groups) = rayon::join(
            || read_series(&dir.join("series.parquet")),
            || {
                let path = dir.join("groups.parquet");
                decode_groups(&path, &read_batches(&path)?)
            },
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
                    hs6_text(p.hs6),
                    p.rows.0,
                    p.rows.1
                ),
            ));
        }
        Ok(BaselineStats {
            meta: Some(meta),
            uv,
            kg,
            volume,
            read_ms: t.elapsed().as_millis() as u64,
        })
    }
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
                importer: NO_SYMBOL,
                origin: Code(origin[i]),
                office: NO_SYMBOL,
                period: period[i],
            },
            importer: text(importer, i),
            office: text(office, i),
            agg: agg.at(i),
        })
        .collect())
}

/// The groups of both measures, from `groups.parquet` at `path`.
fn decode_groups(path: &Path, batches: &[RecordBatch]) -> Result<(StoredGroups, StoredGroups)> {
    let mut out = (StoredGroups::default(), StoredGroups::default());
    for b in batches {
        let (measure, level, basis, tier) = (
            values::<UInt8Type>(b, "measure")?,
            values::<UInt8Type>(b, "level")?,
            values::<UInt8Type>(b, "basis")?,
            values::<UInt8Type>(b, "tier")?,
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
            let st = stats.at(i, count[i]);
            let level = &mut groups.levels[l];
            if tier[i] == 0 {
                level.push(StoredGroup {
                    key,
                    stats: st,
                    tiers: None,
                });
                continue;
            }
            // A tier row follows its group's row (and the group's earlier tiers).
            match level.last_mut() {
                Some(g)
                    if g.key == key
                        && usize::from(tier[i])
                            == g.tiers.as_ref().map_or(0, |t| t.stats.len()) + 1 =>
                {
                    g.tiers.get_or_insert_with(Tiers::default).stats.push(st);
                }
                _ => {
                    return Err(table_error(
                        path,
                        format!(
                            "row {i}: tier {} does not follow its group's earlier rows",
                            tier[i]
                        ),
                    ));
                }
            }
        }
    }
    Ok(out)
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

fn decode_panels(b: &RecordBatch, v: &mut StoredSeries) -> Result<()> {
    let kind = strings(b, "kind")?;
    let u64s = |n: &str| values::<UInt64Type>(b, n);
    let (hs6, start, end) = (u64s("hs6")?, u64s("rows_start")?, u64s("rows_end")?);
    let f64s = |n: &str| values::<Float64Type>(b, n);
    let (prior_a, prior_n) = (f64s("prior_ln_amount")?, f64s("prior_lines")?);
    let (shape, rate) = (f64s("prior_rates_shape")?, f64s("prior_rates_rate")?);
    let cluster_size = f64s("prior_cluster_size")?;
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
                    rates: GammaPrior {
                        shape: shape[i],
                        rate: rate[i],
                    },
                    cluster_size: cluster_size[i],
                },
                typical,
            },
            rows: (start[i] as usize, end[i] as usize),
        });
    }
    Ok(())
}

fn decode_symbols(b: &RecordBatch, v: &mut StoredSeries) -> Result<()> {
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
