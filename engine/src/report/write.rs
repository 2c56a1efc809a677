//! Writers of findings (Parquet, CSV, JSON lines) into any `impl io::Write`.

use std::io::Write;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use super::{Finding, Format};
use crate::error::{Error, Result};
/// The findings schema (column names are part of the product's interface).
pub fn findings_schema() -> SchemaRef {
    let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    let f = |n: &str, null: bool| Field::new(n, DataType::Float64, null);
    Arc::new(Schema::new(vec![
        s("detector", false),
        s("detector_id", false),
        s("declaration_id", true),
        Field::new("line_no", DataType::Int64, true),
        Field::new("date", DataType::Date32, true),
        s("office", true),
        s("importer_id", true),
        s("origin", true),
        s("hs_code", false),
        s("hs6", false),
        s("unit", true),
        f("quantity", true),
        f("net_mass_kg", true),
        f("customs_value", true),
        s("measure", false),
        f("observed", false),
        f("baseline_median", false),
        f("baseline_mad", true),
        f("baseline_q1", true),
        f("baseline_q3", true),
        s("group_level", false),
        s("group_key", false),
        Field::new("group_size", DataType::UInt64, false),
        f("score", false),
        f("raw_score", true),
        f("risk", false),
        s("direction", false),
        f("value_gap", true),
        s("watch_family", true),
        s("series_key", true),
        Field::new("period_start", DataType::Date32, true),
        s("period", true),
        Field::new("history_len", DataType::UInt64, true),
        s("rule", true),
        s("corroborated_by", true),
        s("explanation", false),
    ]))
}

/// Column `i` of the findings schema for the given findings, in order.
fn findings_column(f: &[Finding], i: usize) -> ArrayRef {
    fn strs<'a>(it: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
        Arc::new(it.collect::<StringArray>())
    }
    fn floats(it: impl Iterator<Item = Option<f64>>) -> ArrayRef {
        Arc::new(it.collect::<Float64Array>())
    }
    match i {
        0 => strs(f.iter().map(|x| Some(x.detector))),
        1 => strs(f.iter().map(|x| Some(x.detector_id))),
        2 => strs(f.iter().map(|x| x.declaration_id.as_deref())),
        3 => Arc::new(f.iter().map(|x| x.line_no).collect::<Int64Array>()),
        4 => Arc::new(f.iter().map(|x| x.date).collect::<Date32Array>()),
        5 => strs(f.iter().map(|x| x.office.as_deref())),
        6 => strs(f.iter().map(|x| x.importer_id.as_deref())),
        7 => strs(f.iter().map(|x| x.origin.as_deref())),
        8 => strs(f.iter().map(|x| Some(x.hs_code.as_str()))),
        9 => strs(f.iter().map(|x| Some(x.hs6.as_str()))),
        10 => strs(f.iter().map(|x| x.unit.as_deref())),
        11 => floats(f.iter().map(|x| x.quantity)),
        12 => floats(f.iter().map(|x| x.net_mass_kg)),
        13 => floats(f.iter().map(|x| x.customs_value)),
        14 => strs(f.iter().map(|x| Some(x.measure))),
        15 => floats(f.iter().map(|x| Some(x.observed))),
        16 => floats(f.iter().map(|x| Some(x.baseline_median))),
        17 => floats(f.iter().map(|x| x.baseline_mad)),
        18 => floats(f.iter().map(|x| x.baseline_q1)),
        19 => floats(f.iter().map(|x| x.baseline_q3)),
        20 => strs(f.iter().map(|x| Some(x.group_level.as_str()))),
        21 => strs(f.iter().map(|x| Some(x.group_key.as_str()))),
        22 => Arc::new(
            f.iter()
                .map(|x| Some(x.group_size))
                .collect::<UInt64Array>(),
        ),
        23 => floats(f.iter().map(|x| Some(x.score))),
        24 => floats(f.iter().map(|x| x.raw_score)),
        25 => floats(f.iter().map(|x| Some(x.risk()))),
        26 => strs(f.iter().map(|x| Some(x.direction))),
        27 => floats(f.iter().map(|x| x.value_gap)),
        28 => strs(f.iter().map(|x| x.watch_family.as_deref())),
        29 => strs(f.iter().map(|x| x.series_key)),
        30 => Arc::new(f.iter().map(|x| x.period_start).collect::<Date32Array>()),
        31 => strs(f.iter().map(|x| x.period)),
        32 => Arc::new(f.iter().map(|x| x.history_len).collect::<UInt64Array>()),
        33 => strs(f.iter().map(|x| x.rule)),
        34 => strs(f.iter().map(|x| x.corroborated_by.as_deref())),
        _ => strs(f.iter().map(|x| Some(x.explanation.as_str()))),
    }
}

/// Findings as one Arrow record batch, in the given order.
pub fn findings_batch(findings: &[Finding]) -> Result<RecordBatch> {
    let schema = findings_schema();
    let columns: Vec<ArrayRef> = (0..schema.fields().len())
        .map(|i| findings_column(findings, i))
        .collect();
    RecordBatch::try_new(schema, columns).map_err(|e| Error::Internal(e.to_string()))
}

/// Write findings in `format` to `w`.
pub fn write_findings<W: Write + Send>(findings: &[Finding], format: Format, w: W) -> Result<()> {
    write_findings_in(findings, format, w, None)
}

/// [`write_findings`], with Parquet row groups converted and encoded column by column in
/// `pool` (the same bytes as a serial write: each column chunk is encoded alone either
/// way, and chunks are appended in schema order).
pub fn write_findings_in<W: Write + Send>(
    findings: &[Finding],
    format: Format,
    w: W,
    pool: Option<&rayon::ThreadPool>,
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::Write {
        path: format.file_name().into(),
        message: e.to_string(),
    };
    // Converted and written a chunk at a time, so the Arrow copy of the findings never
    // exists whole; an empty list still writes one (empty) batch: schema and header.
    let chunks: Vec<&[Finding]> = if findings.is_empty() {
        vec![&[]]
    } else {
        findings.chunks(WRITE_CHUNK).collect()
    };
    let batches = chunks.iter().map(|c| findings_batch(c));
    match format {
        Format::Parquet => {
            let mut props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::default()))
                .set_max_row_group_row_count(Some(WRITE_CHUNK))
                .set_created_by(format!("tradescan {}", env!("CARGO_PKG_VERSION")));
            // Near-unique columns: a dictionary would hash every value only to fall
            // back to plain encoding (measured: a quarter of the write), and min/max
            // of free text help no reader.
            for column in UNIQUE_COLUMNS {
                props = props.set_column_dictionary_enabled(column.into(), false);
            }
            let props = props
                .set_column_statistics_enabled(
                    "explanation".into(),
                    parquet::file::properties::EnabledStatistics::None,
                )
                .build();
            let writer =
                ArrowWriter::try_new(w, findings_schema(), Some(props)).map_err(|e| err(&e))?;
            match pool {
                Some(pool) if !findings.is_empty() => {
                    write_parallel(writer, &chunks, pool).map_err(|e| err(&e))?;
                }
                _ => {
                    let mut writer = writer;
                    for batch in batches {
                        writer.write(&batch?).map_err(|e| err(&e))?;
                    }
                    writer.close().map_err(|e| err(&e))?;
                }
            }
        }
        Format::Csv => {
            let mut writer = arrow::csv::WriterBuilder::new().with_header(true).build(w);
            for batch in batches {
                writer.write(&batch?).map_err(|e| err(&e))?;
            }
        }
        Format::Jsonl => {
            let mut writer = arrow::json::LineDelimitedWriter::new(w);
            for batch in batches {
                writer.write(&batch?).map_err(|e| err(&e))?;
            }
            writer.finish().map_err(|e| err(&e))?;
        }
    }
    Ok(())
}

/// One row group per chunk; within a row group, each column is built and encoded on a
/// worker, then the encoded chunks are appended in schema order.
fn write_parallel<W: Write + Send>(
    writer: ArrowWriter<W>,
    chunks: &[&[Finding]],
    pool: &rayon::ThreadPool,
) -> parquet::errors::Result<()> {
    use parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
    use rayon::prelude::*;
    let schema = findings_schema();
    let (mut file, factory) = writer.into_serialized_writer()?;
    for (rg, chunk) in chunks.iter().enumerate() {
        let writers = factory.create_column_writers(rg)?;
        let encoded: Vec<parquet::errors::Result<ArrowColumnChunk>> = pool.install(|| {
            writers
                .into_par_iter()
                .enumerate()
                .map(|(i, mut column)| {
                    let array = findings_column(chunk, i);
                    for leaf in compute_leaves(schema.field(i), &array)? {
                        column.write(&leaf)?;
                    }
                    column.close()
                })
                .collect()
        });
        let mut row_group = file.next_row_group()?;
        for column in encoded {
            column?.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
    }
    file.close()?;
    Ok(())
}

/// Findings columns whose values are (nearly) all distinct: written without a dictionary.
const UNIQUE_COLUMNS: [&str; 10] = [
    "declaration_id",
    "quantity",
    "net_mass_kg",
    "customs_value",
    "observed",
    "score",
    "raw_score",
    "risk",
    "value_gap",
    "explanation",
];

/// Findings per written batch (and per Parquet row group).
const WRITE_CHUNK: usize = 65_536;
