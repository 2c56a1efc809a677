//! Reading a scan's outputs (findings in any of the three formats, `manifest.json`) and
//! label files, tolerant of extra columns and strict about malformed values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::csv::CsvReader;
use super::{EvalFinding, LineLabel, SeriesId, SeriesLabel};
use crate::error::{Error, Result};
use crate::kernels::arrow_edge::{NULL_DATE, date_days, f64_values, i64_values, strings};
use crate::kernels::dates::parse_ymd;
use crate::report::Format;

/// Findings columns `eval` reads; every other column is ignored.
const DETECTOR: &str = "detector";
const DECLARATION_ID: &str = "declaration_id";
const LINE_NO: &str = "line_no";
const SCORE: &str = "score";
const SERIES_KEY: &str = "series_key";
const HS6: &str = "hs6";
const IMPORTER_ID: &str = "importer_id";
const ORIGIN: &str = "origin";
const OFFICE: &str = "office";
const PERIOD_START: &str = "period_start";

/// Columns a findings file must have.
const REQUIRED: [&str; 3] = [DETECTOR, DECLARATION_ID, SCORE];
/// Columns read when present.
const OPTIONAL: [&str; 7] = [
    LINE_NO,
    SERIES_KEY,
    HS6,
    IMPORTER_ID,
    ORIGIN,
    OFFICE,
    PERIOD_START,
];

/// Label values that mean "inspected, nothing found" (compared case-insensitively after
/// trimming); such rows are counted as negatives, never as positives.
pub const NEGATIVE_LABELS: [&str; 7] = ["", "clean", "none", "negative", "no", "false", "0"];

/// Whether a label value means a negative outcome ([`NEGATIVE_LABELS`]).
pub fn is_negative_label(label: &str) -> bool {
    let l = label.trim();
    NEGATIVE_LABELS.iter().any(|n| l.eq_ignore_ascii_case(n))
}

fn bad_output(path: &Path, line: Option<u64>, message: impl Into<String>) -> Error {
    Error::BadScanOutput {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn bad_labels(path: &Path, line: u64, message: impl Into<String>) -> Error {
    Error::BadLabels {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// The findings file of a scan output: `path` itself when it is a file, otherwise the
/// first of `findings.parquet`, `findings.csv`, `findings.jsonl` inside the folder.
pub fn locate_findings(path: &Path) -> Result<(PathBuf, Format)> {
    if !path.exists() {
        return Err(Error::InputNotFound {
            path: path.to_path_buf(),
        });
    }
    let formats = [Format::Parquet, Format::Csv, Format::Jsonl];
    if path.is_file() {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let format = match ext.as_str() {
            "csv" => Format::Csv,
            "jsonl" | "json" | "ndjson" => Format::Jsonl,
            _ => Format::Parquet,
        };
        return Ok((path.to_path_buf(), format));
    }
    formats
        .iter()
        .map(|f| (path.join(f.file_name()), *f))
        .find(|(p, _)| p.is_file())
        .ok_or_else(|| {
            bad_output(
                path,
                None,
                "no findings.parquet, findings.csv or findings.jsonl in this folder",
            )
        })
}

/// `rows_total` of a scan's `manifest.json`.
pub fn read_rows_total(path: &Path) -> Result<u64> {
    let hint = "; pass --lines N to give the number of lines";
    let text = std::fs::read_to_string(path)
        .map_err(|e| bad_output(path, None, format!("cannot read: {e}{hint}")))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| bad_output(path, Some(e.line() as u64), format!("not JSON: {e}")))?;
    value
        .get("rows_total")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| {
            bad_output(
                path,
                None,
                format!("no non-negative integer field `rows_total`{hint}"),
            )
        })
}

/// Read every finding of a findings file in `format`.
pub fn read_findings(path: &Path, format: Format) -> Result<Vec<EvalFinding>> {
    match format {
        Format::Parquet => read_parquet(path),
        Format::Csv => read_csv(path),
        Format::Jsonl => read_jsonl(path),
    }
}

/// One finding's raw fields, before the line/series split.
#[derive(Default)]
struct RawFinding {
    detector: Option<String>,
    declaration_id: Option<String>,
    line_no: Option<i64>,
    score: Option<f64>,
    series_key: Option<String>,
    hs6: Option<String>,
    importer_id: Option<String>,
    origin: Option<String>,
    office: Option<String>,
    period_start: Option<i32>,
}

impl RawFinding {
    /// Into an [`EvalFinding`]; `where_` names the row for the error message.
    fn finish(self, path: &Path, line: Option<u64>, where_: &str) -> Result<EvalFinding> {
        let detector = self
            .detector
            .filter(|d| !d.is_empty())
            .ok_or_else(|| bad_output(path, line, format!("{where_}null or empty `detector`")))?;
        // A missing or NaN score ranks last.
        let score = self
            .score
            .filter(|s| !s.is_nan())
            .unwrap_or(f64::NEG_INFINITY);
        let series = self.series_key.map(|series_key| SeriesId {
            series_key,
            hs6: self.hs6,
            importer_id: self.importer_id,
            origin: self.origin,
            office: self.office,
            period_start: self.period_start,
        });
        Ok(EvalFinding {
            detector,
            declaration_id: self.declaration_id,
            line_no: self.line_no,
            score,
            series,
        })
    }
}

fn check_columns(path: &Path, available: &[String]) -> Result<()> {
    for r in REQUIRED {
        if !available.iter().any(|a| a == r) {
            return Err(bad_output(
                path,
                None,
                format!(
                    "column `{r}` not found; the file has: {}",
                    available.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn read_parquet(path: &Path) -> Result<Vec<EvalFinding>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::NotParquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    let schema = builder.schema().clone();
    let available: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    check_columns(path, &available)?;
    let roots: Vec<usize> = REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .filter_map(|c| schema.index_of(c).ok())
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .build()
        .map_err(|e| bad_output(path, None, format!("cannot read: {e}")))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad_output(path, None, format!("cannot decode: {e}")))?;
        let first_row = out.len();
        read_batch(path, &batch, first_row, &mut out)?;
    }
    Ok(out)
}

fn read_batch(
    path: &Path,
    batch: &RecordBatch,
    first_row: usize,
    out: &mut Vec<EvalFinding>,
) -> Result<()> {
    let column_error =
        |c: &str, e: ArrowError| bad_output(path, None, format!("column `{c}`: {e}"));
    let text = |c: &str| -> Result<Option<Vec<Option<String>>>> {
        batch
            .column_by_name(c)
            .map(|a| strings(a.as_ref()).map_err(|e| column_error(c, e)))
            .transpose()
    };
    let n = batch.num_rows();
    let mut detector = text(DETECTOR)?;
    let mut declaration_id = text(DECLARATION_ID)?;
    let line_no = batch
        .column_by_name(LINE_NO)
        .map(|a| i64_values(a.as_ref()).map_err(|e| column_error(LINE_NO, e)))
        .transpose()?;
    let score = batch
        .column_by_name(SCORE)
        .map(|a| f64_values(a.as_ref()).map_err(|e| column_error(SCORE, e)))
        .transpose()?;
    let mut series_key = text(SERIES_KEY)?;
    let mut hs6 = text(HS6)?;
    let mut importer_id = text(IMPORTER_ID)?;
    let mut origin = text(ORIGIN)?;
    let mut office = text(OFFICE)?;
    let period_start = batch
        .column_by_name(PERIOD_START)
        .map(|a| date_days(a.as_ref()).map_err(|e| column_error(PERIOD_START, e)))
        .transpose()?;
    let take = |v: &mut Option<Vec<Option<String>>>, i: usize| {
        v.as_mut().and_then(|v| v.get_mut(i)).and_then(Option::take)
    };
    for i in 0..n {
        let raw = RawFinding {
            detector: take(&mut detector, i),
            declaration_id: take(&mut declaration_id, i),
            line_no: line_no.as_ref().and_then(|v| v.get(i).copied().flatten()),
            score: score.as_ref().and_then(|v| v.get(i).copied()),
            series_key: take(&mut series_key, i),
            hs6: take(&mut hs6, i),
            importer_id: take(&mut importer_id, i),
            origin: take(&mut origin, i),
            office: take(&mut office, i),
            period_start: period_start
                .as_ref()
                .and_then(|v| v.get(i).copied())
                .filter(|&d| d != NULL_DATE),
        };
        out.push(raw.finish(path, None, &format!("row {}: ", first_row + i))?);
    }
    Ok(())
}

fn read_csv(path: &Path) -> Result<Vec<EvalFinding>> {
    let text = read_text(path)?;
    let mut reader = CsvReader::new(&text);
    let mut fields = Vec::new();
    let csv_err = |(line, message): (u64, String)| bad_output(path, Some(line), message);
    let Some(_) = reader.next_record(&mut fields).map_err(csv_err)? else {
        return Err(bad_output(path, Some(1), "empty file: no header"));
    };
    let header: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
    check_columns(path, &header)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let idx: BTreeMap<&str, usize> = REQUIRED
        .iter()
        .chain(OPTIONAL.iter())
        .filter_map(|&c| col(c).map(|i| (c, i)))
        .collect();
    let mut out = Vec::new();
    while let Some(line) = reader.next_record(&mut fields).map_err(csv_err)? {
        if fields.len() != header.len() {
            return Err(bad_output(
                path,
                Some(line),
                format!("{} fields, the header has {}", fields.len(), header.len()),
            ));
        }
        // Writers put an empty field for a null.
        let get = |c: &str| {
            idx.get(c)
                .and_then(|&i| fields.get(i))
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
        };
        let text = |c: &str| get(c).map(str::to_string);
        let number = |c: &str| -> Result<Option<f64>> {
            get(c)
                .map(|s| {
                    s.parse::<f64>().map_err(|_| {
                        bad_output(path, Some(line), format!("`{c}` `{s}` is not a number"))
                    })
                })
                .transpose()
        };
        let line_no = get(LINE_NO)
            .map(|s| {
                s.parse::<i64>().map_err(|_| {
                    bad_output(
                        path,
                        Some(line),
                        format!("`{LINE_NO}` `{s}` is not an integer"),
                    )
                })
            })
            .transpose()?;
        let period_start = get(PERIOD_START)
            .map(|s| {
                parse_ymd(s).ok_or_else(|| {
                    bad_output(
                        path,
                        Some(line),
                        format!("`{PERIOD_START}` `{s}` is not a YYYY-MM-DD date"),
                    )
                })
            })
            .transpose()?;
        let raw = RawFinding {
            detector: text(DETECTOR),
            declaration_id: text(DECLARATION_ID),
            line_no,
            score: number(SCORE)?,
            series_key: text(SERIES_KEY),
            hs6: text(HS6),
            importer_id: text(IMPORTER_ID),
            origin: text(ORIGIN),
            office: text(OFFICE),
            period_start,
        };
        out.push(raw.finish(path, Some(line), "")?);
    }
    Ok(out)
}

fn read_jsonl(path: &Path) -> Result<Vec<EvalFinding>> {
    use serde_json::Value;
    let text = read_text(path)?;
    let mut out = Vec::new();
    let mut header_checked = false;
    for (i, l) in text.lines().enumerate() {
        let line = i as u64 + 1;
        if l.trim().is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, Value> = serde_json::from_str(l)
            .map_err(|e| bad_output(path, Some(line), format!("not a JSON object: {e}")))?;
        if !header_checked {
            // Writers leave out null fields: only the always-present columns are required.
            let present: Vec<String> = obj.keys().cloned().collect();
            for r in [DETECTOR, SCORE] {
                if !obj.contains_key(r) {
                    return Err(bad_output(
                        path,
                        Some(line),
                        format!(
                            "field `{r}` not found; the object has: {}",
                            present.join(", ")
                        ),
                    ));
                }
            }
            header_checked = true;
        }
        let text = |c: &str| match obj.get(c) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let wrong = |c: &str, v: &Value| {
            bad_output(path, Some(line), format!("`{c}` {v} has the wrong type"))
        };
        let line_no = match obj.get(LINE_NO) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| wrong(LINE_NO, v))?),
        };
        let score = match obj.get(SCORE) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_f64().ok_or_else(|| wrong(SCORE, v))?),
        };
        let period_start = match obj.get(PERIOD_START) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_ymd(s).ok_or_else(|| {
                bad_output(
                    path,
                    Some(line),
                    format!("`{PERIOD_START}` `{s}` is not a YYYY-MM-DD date"),
                )
            })?),
            Some(v) => Some(
                v.as_i64()
                    .and_then(|d| i32::try_from(d).ok())
                    .ok_or_else(|| wrong(PERIOD_START, v))?,
            ),
        };
        let raw = RawFinding {
            detector: text(DETECTOR),
            declaration_id: text(DECLARATION_ID),
            line_no,
            score,
            series_key: text(SERIES_KEY),
            hs6: text(HS6),
            importer_id: text(IMPORTER_ID),
            origin: text(ORIGIN),
            office: text(OFFICE),
            period_start,
        };
        out.push(raw.finish(path, Some(line), "")?);
    }
    Ok(out)
}

/// Labels read from one or two files.
#[derive(Debug, Default)]
pub(crate) struct LabelFiles {
    pub lines: Vec<LineLabel>,
    pub series: Vec<SeriesLabel>,
    pub sources: Vec<PathBuf>,
}

/// Read labels from a folder (`lines.csv` and/or `series.csv`) or one CSV file whose
/// header says which kind it holds (a `series_key` column means series labels).
pub(crate) fn read_labels(path: &Path) -> Result<LabelFiles> {
    let not_found = || Error::NoLabels {
        path: path.to_path_buf(),
    };
    if !path.exists() {
        return Err(not_found());
    }
    let mut out = LabelFiles::default();
    if path.is_dir() {
        let lines = path.join("lines.csv");
        let series = path.join("series.csv");
        if !lines.is_file() && !series.is_file() {
            return Err(not_found());
        }
        if lines.is_file() {
            out.lines = read_line_labels(&lines, &read_text(&lines)?)?;
            out.sources.push(lines);
        }
        if series.is_file() {
            out.series = read_series_labels(&series, &read_text(&series)?)?;
            out.sources.push(series);
        }
    } else {
        let text = read_text(path)?;
        let first = text
            .trim_start_matches('\u{feff}')
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        if first.split(',').any(|h| {
            h.trim()
                .trim_matches('"')
                .eq_ignore_ascii_case("series_key")
        }) {
            out.series = read_series_labels(path, &text)?;
        } else {
            out.lines = read_line_labels(path, &text)?;
        }
        out.sources.push(path.to_path_buf());
    }
    Ok(out)
}

/// A label CSV's header: column positions by lower-case name.
struct Header {
    line: u64,
    names: Vec<String>,
}

impl Header {
    fn read(path: &Path, reader: &mut CsvReader<'_>, fields: &mut Vec<String>) -> Result<Self> {
        let line = reader
            .next_record(fields)
            .map_err(|(line, m)| bad_labels(path, line, m))?
            .ok_or_else(|| bad_labels(path, 1, "empty file: no header"))?;
        Ok(Header {
            line,
            names: fields
                .iter()
                .map(|f| f.trim().to_ascii_lowercase())
                .collect(),
        })
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    fn require(&self, path: &Path, names: &[&str], what: &str) -> Result<Vec<usize>> {
        names
            .iter()
            .map(|n| {
                self.position(n).ok_or_else(|| {
                    bad_labels(
                        path,
                        self.line,
                        format!(
                            "{what} need a header with columns {}; column `{n}` not found in: {}",
                            names.join(", "),
                            self.names.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }
}

/// Call `f` with each data record (trimmed fields) and its line, checking field counts.
fn for_records(
    path: &Path,
    reader: &mut CsvReader<'_>,
    header: &Header,
    mut f: impl FnMut(u64, &[&str]) -> Result<()>,
) -> Result<()> {
    let mut fields = Vec::new();
    while let Some(line) = reader
        .next_record(&mut fields)
        .map_err(|(line, m)| bad_labels(path, line, m))?
    {
        if fields.len() != header.names.len() {
            return Err(bad_labels(
                path,
                line,
                format!(
                    "{} fields, the header has {}",
                    fields.len(),
                    header.names.len()
                ),
            ));
        }
        let trimmed: Vec<&str> = fields.iter().map(|s| s.trim()).collect();
        f(line, &trimmed)?;
    }
    Ok(())
}

/// Line labels: a CSV with at least `declaration_id`, `line_no` and `label`, in any
/// order. An empty `line_no` matches findings whose `line_no` is null.
pub(crate) fn read_line_labels(path: &Path, text: &str) -> Result<Vec<LineLabel>> {
    let mut reader = CsvReader::new(text);
    let mut fields = Vec::new();
    let header = Header::read(path, &mut reader, &mut fields)?;
    let cols = header.require(path, &["declaration_id", "line_no", "label"], "line labels")?;
    let (c_decl, c_line, c_label) = (cols[0], cols[1], cols[2]);
    let mut out = Vec::new();
    for_records(path, &mut reader, &header, |line, f| {
        let decl = f[c_decl];
        if decl.is_empty() {
            return Err(bad_labels(path, line, "empty `declaration_id`"));
        }
        let line_no = match f[c_line] {
            "" => None,
            s => Some(s.parse::<i64>().map_err(|_| {
                bad_labels(path, line, format!("`line_no` `{s}` is not an integer"))
            })?),
        };
        out.push(LineLabel {
            declaration_id: decl.to_string(),
            line_no,
            label: f[c_label].to_string(),
        });
        Ok(())
    })?;
    Ok(out)
}

/// Series labels: `label,series_key,hs6,importer_id,origin,office,period,period_start`
/// in any order; `importer_id`, `origin`, `office` and `period` may be absent or empty.
pub(crate) fn read_series_labels(path: &Path, text: &str) -> Result<Vec<SeriesLabel>> {
    let mut reader = CsvReader::new(text);
    let mut fields = Vec::new();
    let header = Header::read(path, &mut reader, &mut fields)?;
    let cols = header.require(
        path,
        &["label", "series_key", "hs6", "period_start"],
        "series labels",
    )?;
    let (c_label, c_key, c_hs6, c_start) = (cols[0], cols[1], cols[2], cols[3]);
    let optional = |n: &str| header.position(n);
    let (c_imp, c_org, c_off, c_period) = (
        optional("importer_id"),
        optional("origin"),
        optional("office"),
        optional("period"),
    );
    let mut out = Vec::new();
    for_records(path, &mut reader, &header, |line, f| {
        let opt = |c: Option<usize>| {
            c.and_then(|i| f.get(i))
                .filter(|s| !s.is_empty())
                .map(|s| s.to_string())
        };
        let non_empty = |i: usize, name: &str| {
            Some(f[i])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| bad_labels(path, line, format!("empty `{name}`")))
        };
        let start = f[c_start];
        let period_start = parse_ymd(start).ok_or_else(|| {
            bad_labels(
                path,
                line,
                format!("`period_start` `{start}` is not a YYYY-MM-DD date"),
            )
        })?;
        out.push(SeriesLabel {
            label: f[c_label].to_string(),
            series_key: non_empty(c_key, "series_key")?,
            hs6: non_empty(c_hs6, "hs6")?,
            importer_id: opt(c_imp),
            origin: opt(c_org),
            office: opt(c_off),
            period: opt(c_period),
            period_start,
        });
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn line_labels_any_column_order_and_empty_line_no() {
        let p = Path::new("outcomes.csv");
        let got = read_line_labels(
            p,
            "label,extra,line_no,declaration_id\nunder_valuation,x,3,D1\r\nclean,,,\"D2\"\n",
        )
        .unwrap();
        assert_eq!(
            got,
            vec![
                LineLabel {
                    declaration_id: "D1".into(),
                    line_no: Some(3),
                    label: "under_valuation".into()
                },
                LineLabel {
                    declaration_id: "D2".into(),
                    line_no: None,
                    label: "clean".into()
                },
            ]
        );
        assert!(is_negative_label(" Clean ") && is_negative_label("") && !is_negative_label("x"));
        // An empty declaration id is an error, even on a negative row.
        let err =
            read_line_labels(p, "declaration_id,line_no,label\nD1,1,x\n,2,clean\n").unwrap_err();
        assert!(matches!(&err, Error::BadLabels { line: 3, .. }), "{err}");
    }

    #[test]
    fn bad_label_files_name_file_and_line() {
        let p = Path::new("labels/lines.csv");
        let err = read_line_labels(p, "declaration_id,label\nD1,x\n").unwrap_err();
        assert!(matches!(&err, Error::BadLabels { line: 1, .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("labels/lines.csv") && msg.contains("line_no"),
            "{msg}"
        );

        let err =
            read_line_labels(p, "declaration_id,line_no,label\nD1,1,x\nD2,two,x\n").unwrap_err();
        assert!(matches!(&err, Error::BadLabels { line: 3, .. }), "{err}");
        assert!(err.to_string().contains("line 3"), "{err}");

        let err = read_line_labels(p, "declaration_id,line_no,label\nD1,1\n").unwrap_err();
        assert!(matches!(&err, Error::BadLabels { line: 2, .. }), "{err}");

        let s = Path::new("series.csv");
        let err = read_series_labels(
            s,
            "label,series_key,hs6,importer_id,origin,office,period,period_start\n\
             volume_surge,hs6_importer,300490,IM1,,,week,2025-02-30\n",
        )
        .unwrap_err();
        assert!(matches!(&err, Error::BadLabels { line: 2, .. }), "{err}");
        assert!(err.to_string().contains("2025-02-30"), "{err}");
    }
}
