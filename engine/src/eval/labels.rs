//! Reading label files (line labels, series labels), tolerant of extra columns and strict
//! about malformed values.

use std::path::{Path, PathBuf};

use super::csv::CsvReader;
use super::model::{LineLabel, SeriesLabel};
use crate::error::{Error, Result};
use crate::kernels::dates::parse_ymd;

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

/// The factor from which an anomaly counts as large (`<label>:factor>=5`).
const LARGE_FACTOR: f64 = 5.0;

/// Line labels: a CSV with at least `declaration_id`, `line_no` and `label`, in any
/// order. An empty `line_no` matches findings whose `line_no` is null. With a `factor`
/// column (the multiplier an anomaly applied), a line whose factor is 5 or more either
/// way also carries the label `<label>:factor>=5`, so that recall is reported for large
/// anomalies on their own.
pub(crate) fn read_line_labels(path: &Path, text: &str) -> Result<Vec<LineLabel>> {
    let mut reader = CsvReader::new(text);
    let mut fields = Vec::new();
    let header = Header::read(path, &mut reader, &mut fields)?;
    let cols = header.require(path, &["declaration_id", "line_no", "label"], "line labels")?;
    let (c_decl, c_line, c_label) = (cols[0], cols[1], cols[2]);
    let c_factor = header.position("factor");
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
        let label = f[c_label];
        let large = c_factor
            .and_then(|c| f[c].parse::<f64>().ok())
            .is_some_and(|x| x > 0.0 && x.max(1.0 / x) >= LARGE_FACTOR);
        if large {
            out.push(LineLabel {
                declaration_id: decl.to_string(),
                line_no,
                label: format!("{}:factor>={LARGE_FACTOR}", label.trim()),
            });
        }
        out.push(LineLabel {
            declaration_id: decl.to_string(),
            line_no,
            label: label.to_string(),
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
    use crate::eval::is_negative_label;

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
    fn large_factors_carry_a_second_label() {
        let got = read_line_labels(
            Path::new("l.csv"),
            "declaration_id,line_no,label,factor\nD1,1,under_valuation,0.1\n\
             D2,1,under_valuation,0.5\nD3,1,over_valuation,5\nD4,1,duplicate,\n",
        )
        .unwrap();
        let labels: Vec<(&str, &str)> = got
            .iter()
            .map(|l| (l.declaration_id.as_str(), l.label.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                ("D1", "under_valuation:factor>=5"),
                ("D1", "under_valuation"),
                ("D2", "under_valuation"),
                ("D3", "over_valuation:factor>=5"),
                ("D3", "over_valuation"),
                ("D4", "duplicate"),
            ]
        );
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
