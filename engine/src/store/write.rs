//! Writing a baseline folder: every table encoded, fingerprinted and staged, then all
//! renamed into place together.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray, UInt8Array, UInt32Array,
    UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{Baseline, BaselineStats, StoredCell, StoredLine};
use crate::baseline::FineKey;
use crate::error::{Error, Result};
use crate::kernels::hash::Fingerprint;
use crate::kernels::order_stats::OrderStats;
use crate::kernels::unit_value::Basis;
use crate::report::{commit, discard, stage};
use crate::series::cells::CellAgg;
use crate::store::series::{PanelRecord, StoredEntry, StoredSeries};

impl Baseline {
    /// Write the folder: the tables and `baseline.json`, each staged then renamed
    /// together, so a failed write leaves the previous baseline.
    pub fn write(&mut self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        // One table at a time: encoded (in row chunks), fingerprinted, staged, freed.
        let v = &self.stats.volume;
        type Encoder<'a> = &'a dyn Fn() -> Result<Vec<u8>>;
        let tables: [(&str, Encoder<'_>); 6] = [
            ("lines.parquet", &|| encode(&self.lines, lines_batch)),
            ("cells.parquet", &|| encode(&self.cells, cells_batch)),
            ("groups.parquet", &|| {
                encode(&[&self.stats], |s| groups_batch(s[0]))
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
            discard(staged);
            return Err(e);
        }
        self.stats.meta = Some(self.meta.clone());
        commit(staged)
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

/// One row of `groups.parquet`: measure, level, key, tier (0: the group, `i + 1`: its
/// tier `i`, in the rows right after the group's), statistics.
type GroupRow<'a> = (u8, u8, &'a FineKey, u8, &'a OrderStats);

fn groups_batch(state: &BaselineStats) -> Result<RecordBatch> {
    let rows: Vec<GroupRow> = [&state.uv, &state.kg]
        .iter()
        .enumerate()
        .flat_map(|(m, g)| {
            g.levels.iter().enumerate().flat_map(move |(l, groups)| {
                groups.iter().flat_map(move |g| {
                    let tiers = g.tiers.iter().flat_map(|t| t.stats.iter().enumerate());
                    std::iter::once((m as u8, l as u8, &g.key, 0, &g.stats)).chain(
                        tiers.map(move |(i, st)| (m as u8, l as u8, &g.key, i as u8 + 1, st)),
                    )
                })
            })
        })
        .collect();
    let u8s = |f: fn(&GroupRow) -> u8| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<UInt8Array>())
    };
    let u64s = |f: fn(&GroupRow) -> u64| -> ArrayRef {
        Arc::new(rows.iter().map(f).collect::<UInt64Array>())
    };
    let f64s = |f: fn(&OrderStats) -> f64| -> ArrayRef {
        Arc::new(rows.iter().map(|r| f(r.4)).collect::<Float64Array>())
    };
    let cols: Vec<ArrayRef> = vec![
        u8s(|r| r.0),
        u8s(|r| r.1),
        u64s(|r| r.2.hs.0),
        u64s(|r| r.2.origin.0),
        u64s(|r| r.2.unit.0),
        u8s(|r| u8::from(r.2.basis == Basis::PerKg)),
        u8s(|r| r.3),
        u64s(|r| r.4.count),
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
        Field::new("tier", DataType::UInt8, false),
        Field::new("count", DataType::UInt64, false),
        Field::new("q1", DataType::Float64, false),
        Field::new("median", DataType::Float64, false),
        Field::new("q3", DataType::Float64, false),
        Field::new("mad", DataType::Float64, false),
        Field::new("mean_ad", DataType::Float64, false),
    ]);
    RecordBatch::try_new(Arc::new(schema), cols).map_err(|e| Error::Internal(e.to_string()))
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

fn panels_batch(v: &StoredSeries) -> Result<RecordBatch> {
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
        f64s(|r| r.context.prior.rates.shape),
        f64s(|r| r.context.prior.rates.rate),
        f64s(|r| r.context.prior.cluster_size),
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
        f("prior_rates_shape"),
        f("prior_rates_rate"),
        f("prior_cluster_size"),
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

fn symbols_batch(v: &StoredSeries) -> Result<RecordBatch> {
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
