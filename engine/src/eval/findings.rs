//! Reading a scan's outputs (findings in any of the three formats, `manifest.json`),
//! tolerant of extra columns and strict about malformed values.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::csv::CsvReader;
use super::model::{EvalFinding, SeriesId};
use crate::error::{Error, Result};
use crate::kernels::arrow_edge::{NULL_DATE, date_days, f64_values, i64_values, strings};
use crate::kernels::dates::parse_ymd;
use crate::report::Format;

/// Findings columns `eval` reads; every other column is ignored.
const DETECTOR: &str = "detector";
const DECLARATION_ID: &str = "declaration_id";
const LINE_NO: &str = "line_no";
const SCORE: &str = "score";
/// Optional: the inspection item's risk (tradescan's outputs); the score without it.
const RISK: &str = "risk";
const SERIES_KEY: &str = "series_key";
const HS6: &str = "hs6";
const IMPORTER_ID: &str = "importer_id";
const ORIGIN: &str = "origin";
const OFFICE: &str = "office";
const PERIOD_START: &str = "period_start";
const CORROBORATED_BY: &str = "corroborated_by";

/// Columns a findings file must have.
const REQUIRED: [&str; 3] = [DETECTOR, DECLARATION_ID, SCORE];
/// Columns read when present.
const OPTIONAL: [&str; 8] = [
    LINE_NO,
    CORROBORATED_BY,
    SERIES_KEY,
    HS6,
    IMPORTER_ID,
    ORIGIN,
    OFFICE,
    PERIOD_START,
];

fn bad_output(path: &Path, line: Option<u64>, message: impl Into<String>) -> Error {
    Error::BadScanOutput {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
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
    risk: Option<f64>,
    series_key: Option<String>,
    hs6: Option<String>,
    importer_id: Option<String>,
    origin: Option<String>,
    office: Option<String>,
    period_start: Option<i32>,
    corroborated_by: Option<String>,
}

impl RawFinding {
    /// A text row's finding: its text columns by name, and the columns already parsed.
    fn of_text(
        text: impl Fn(&str) -> Option<String>,
        line_no: Option<i64>,
        (score, risk): (Option<f64>, Option<f64>),
        period_start: Option<i32>,
    ) -> RawFinding {
        RawFinding {
            detector: text(DETECTOR),
            declaration_id: text(DECLARATION_ID),
            line_no,
            score,
            risk,
            series_key: text(SERIES_KEY),
            hs6: text(HS6),
            importer_id: text(IMPORTER_ID),
            origin: text(ORIGIN),
            office: text(OFFICE),
            period_start,
            corroborated_by: text(CORROBORATED_BY),
        }
    }

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
        let risk = self.risk.filter(|s| !s.is_nan()).unwrap_or(score);
        let corroborations = match self.corroborated_by.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => c
                .split(';')
                .map(|entry| {
                    parse_corroboration(entry).ok_or_else(|| {
                        bad_output(
                            path,
                            line,
                            format!(
                                "{where_}`corroborated_by` entry `{entry}` is not \
                                 detector:group_key@YYYY-MM-DD"
                            ),
                        )
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            None => Vec::new(),
        };
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
            risk,
            series,
            corroborations,
        })
    }
}

/// One `corroborated_by` entry: `detector:group_key@YYYY-MM-DD`, the group key
/// `hs6=H` with at most one of `|importer=`, `|origin=`, `|office=`.
fn parse_corroboration(entry: &str) -> Option<(String, SeriesId)> {
    let (detector, rest) = entry.split_once(':')?;
    let (key, start) = rest.rsplit_once('@')?;
    let mut id = SeriesId {
        series_key: "hs6".into(),
        hs6: None,
        importer_id: None,
        origin: None,
        office: None,
        period_start: Some(parse_ymd(start)?),
    };
    for part in key.split('|') {
        let (k, v) = part.split_once('=')?;
        let v = Some(v.to_string());
        match k {
            "hs6" => id.hs6 = v,
            "importer" => (id.series_key, id.importer_id) = ("hs6_importer".into(), v),
            "origin" => (id.series_key, id.origin) = ("hs6_origin".into(), v),
            "office" => (id.series_key, id.office) = ("hs6_office".into(), v),
            _ => return None,
        }
    }
    id.hs6.as_ref()?;
    Some((detector.to_string(), id))
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
    let number = |c: &str| {
        batch
            .column_by_name(c)
            .map(|a| f64_values(a.as_ref()).map_err(|e| column_error(c, e)))
            .transpose()
    };
    let (score, risk) = (number(SCORE)?, number(RISK)?);
    let mut series_key = text(SERIES_KEY)?;
    let mut hs6 = text(HS6)?;
    let mut importer_id = text(IMPORTER_ID)?;
    let mut origin = text(ORIGIN)?;
    let mut office = text(OFFICE)?;
    let mut corroborated_by = text(CORROBORATED_BY)?;
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
            risk: risk.as_ref().and_then(|v| v.get(i).copied()),
            series_key: take(&mut series_key, i),
            hs6: take(&mut hs6, i),
            importer_id: take(&mut importer_id, i),
            origin: take(&mut origin, i),
            office: take(&mut office, i),
            period_start: period_start
                .as_ref()
                .and_then(|v| v.get(i).copied())
                .filter(|&d| d != NULL_DATE),
            corroborated_by: take(&mut corroborated_by, i),
        };
        out.push(raw.finish(path, None, &format!("row {}: ", first_row + i))?);
    }
    Ok(())
}

fn read_csv(path: &Path) -> Result<Vec<EvalFinding>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
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
        let scores = (number(SCORE)?, number(RISK)?);
        let raw = RawFinding::of_text(text, line_no, scores, period_start);
        out.push(raw.finish(path, Some(line), "")?);
    }
    Ok(out)
}

fn read_jsonl(path: &Path) -> Result<Vec<EvalFinding>> {
    use serde_json::Value;
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
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
        let number = |c: &str| match obj.get(c) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| wrong(c, v)),
        };
        let scores = (number(SCORE)?, number(RISK)?);
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
        let raw = RawFinding::of_text(text, line_no, scores, period_start);
        out.push(raw.finish(path, Some(line), "")?);
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::eval::fixtures::line;

    #[test]
    fn reads_a_findings_parquet_written_by_the_scanner() {
        use crate::report::{Finding, Format, write_findings};
        let dir = tempfile::tempdir().unwrap();
        let f = |decl: &str, score: f64| Finding {
            importer_id: Some("IM1".into()),
            baseline_mad: Some(0.1),
            baseline_q1: Some(1.0),
            baseline_q3: Some(1.0),
            group_level: "hs6+unit".into(),
            group_key: "k".into(),
            group_size: 30,
            score,
            direction: "low",
            explanation: "a, \"quoted\" sentence".into(),
            ..Finding::test_line("robust-z", decl)
        };
        let folded =
            "surge:hs6=300490|importer=IM1@2025-06-23;new-origin:hs6=300490|origin=CN@2025-06-30";
        let findings = vec![
            f("D1", 9.0),
            Finding {
                corroborated_by: Some(folded.into()),
                ..f("D2", 4.0)
            },
        ];
        let series =
            |key: &str, importer: Option<&str>, origin: Option<&str>, day: &str| SeriesId {
                series_key: key.into(),
                hs6: Some("300490".into()),
                importer_id: importer.map(Into::into),
                origin: origin.map(Into::into),
                office: None,
                period_start: parse_ymd(day),
            };
        let d2 = EvalFinding {
            corroborations: vec![
                (
                    "surge".into(),
                    series("hs6_importer", Some("IM1"), None, "2025-06-23"),
                ),
                (
                    "new-origin".into(),
                    series("hs6_origin", None, Some("CN"), "2025-06-30"),
                ),
            ],
            ..line("robust-z", "D2", 1, 4.0)
        };
        for format in [Format::Parquet, Format::Csv, Format::Jsonl] {
            let path = dir.path().join(format.file_name());
            let file = std::fs::File::create(&path).unwrap();
            write_findings(&findings, format, file).unwrap();
            let got = read_findings(&path, format).unwrap();
            assert_eq!(
                got,
                vec![line("robust-z", "D1", 1, 9.0), d2.clone()],
                "{format:?}"
            );
        }
    }

    #[test]
    fn a_malformed_corroboration_is_an_error_naming_the_row() {
        for bad in [
            "surge",
            "surge:hs6=1@2025-13-01",
            "surge:importer=IM1@2025-06-23",
            "surge:hs6=1|x=2@2025-06-23",
        ] {
            assert!(parse_corroboration(bad).is_none(), "{bad}");
        }
        let raw = RawFinding {
            detector: Some("robust-z".into()),
            corroborated_by: Some("surge:hs6=1".into()),
            ..RawFinding::default()
        };
        let e = raw
            .finish(Path::new("f.parquet"), None, "row 7: ")
            .unwrap_err()
            .to_string();
        assert!(e.contains("row 7") && e.contains("surge:hs6=1"), "{e}");
    }
}
