//! The `eval` report as readable tables.

use std::io::{self, Write};

use super::model::{EvalReport, RATES_PER_MILLE, SeriesFlags, percent};

/// `0.123`, or `-` for null.
fn fmt3(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |x| format!("{x:.3}"))
}

/// Render the report as readable tables: per detector and overall precision, recall and
/// AUC-PR; recall per label; series recall and false alarms.
pub fn write_text(r: &EvalReport, w: &mut impl Write) -> io::Result<()> {
    let ks: Vec<String> = r
        .inspected_at
        .iter()
        .map(|x| format!("{}% = {}", x.rate_percent, x.k))
        .collect();
    writeln!(
        w,
        "lines: {} (from {}); findings: {} line, {} series{}",
        r.lines_total,
        r.lines_total_source,
        r.line_findings,
        r.series_findings,
        if r.unidentified_findings > 0 {
            format!(
                ", {} without declaration or series (ignored)",
                r.unidentified_findings
            )
        } else {
            String::new()
        }
    )?;
    if !r.findings_file.is_empty() {
        writeln!(w, "findings file: {}", r.findings_file)?;
    }
    if !r.label_files.is_empty() {
        writeln!(w, "labels: {}", r.label_files.join(", "))?;
    }
    writeln!(
        w,
        "positive lines: {}; labelled negative: {}; lines inspected at {}",
        r.positive_lines,
        r.negative_lines,
        ks.join(", ")
    )?;
    writeln!(w)?;

    // ---- line metrics -----------------------------------------------------------------
    let width = r
        .by_detector
        .keys()
        .map(String::len)
        .chain([8])
        .max()
        .unwrap_or(8);
    write!(w, "{:<width$} {:>9}", "detector", "flagged")?;
    for rate in RATES_PER_MILLE.map(percent) {
        write!(
            w,
            " {:>7} {:>7}",
            format!("P@{rate}%"),
            format!("R@{rate}%")
        )?;
    }
    writeln!(w, " {:>7}", "AUC-PR")?;
    let rows = r
        .by_detector
        .iter()
        .map(|(d, s)| (d.as_str(), s))
        .chain([("all", &r.overall)]);
    for (name, s) in rows {
        write!(w, "{name:<width$} {:>9}", s.flagged_lines)?;
        for a in &s.at {
            write!(w, " {:>7} {:>7}", fmt3(a.precision), fmt3(a.recall))?;
        }
        writeln!(w, " {:>7}", fmt3(s.average_precision))?;
    }

    // ---- recall per label -------------------------------------------------------------
    writeln!(w)?;
    if r.by_label.is_empty() {
        writeln!(w, "no positive line labels")?;
    } else {
        let lw = r
            .by_label
            .keys()
            .map(String::len)
            .chain([5])
            .max()
            .unwrap_or(5);
        write!(w, "{:<lw$} {:>7} {:>7}", "label", "lines", "found")?;
        for rate in RATES_PER_MILLE.map(percent) {
            write!(w, " {:>7}", format!("R@{rate}%"))?;
        }
        for d in r.by_detector.keys() {
            write!(w, " {:>w$}", d, w = d.len().max(7))?;
        }
        writeln!(w)?;
        for (label, l) in &r.by_label {
            write!(w, "{label:<lw$} {:>7} {:>7}", l.lines, fmt3(Some(l.recall)))?;
            for a in &l.at {
                write!(w, " {:>7}", fmt3(Some(a.recall)))?;
            }
            for (d, x) in &l.by_detector {
                write!(w, " {:>w$}", fmt3(Some(x.recall)), w = d.len().max(7))?;
            }
            writeln!(w)?;
        }
        writeln!(
            w,
            "(found: share of the label's lines with any finding; R@: share among the \
             inspected lines of the overall ranking; per detector: any finding of it)"
        )?;
    }

    // ---- series ---------------------------------------------------------------------
    writeln!(w)?;
    let s = &r.series;
    if s.by_label.is_empty() && s.by_series_key.is_empty() {
        writeln!(w, "series: no series labels and no series findings")?;
        return Ok(());
    }
    if s.by_label.is_empty() {
        writeln!(w, "no series labels")?;
    } else {
        let lw = s
            .by_label
            .keys()
            .map(String::len)
            .chain([12])
            .max()
            .unwrap_or(12);
        writeln!(
            w,
            "{:<lw$} {:>7} {:>7} {:>7}",
            "series label", "labels", "found", "recall"
        )?;
        for (label, l) in &s.by_label {
            write!(
                w,
                "{label:<lw$} {:>7} {:>7} {:>7}",
                l.labels,
                l.found,
                fmt3(Some(l.recall))
            )?;
            let per: Vec<String> = l
                .by_detector
                .iter()
                .map(|(d, x)| format!("{d} {}", x.found))
                .collect();
            if !per.is_empty() {
                write!(w, "  ({})", per.join(", "))?;
            }
            writeln!(w)?;
        }
    }
    writeln!(w)?;
    if s.by_series_key.is_empty() {
        writeln!(w, "no series findings")?;
        return Ok(());
    }
    let rows: Vec<(String, &SeriesFlags)> = s
        .by_series_key
        .iter()
        .map(|(k, f)| (format!("all / {k}"), f))
        .chain(
            s.by_detector
                .iter()
                .flat_map(|(d, m)| m.iter().map(move |(k, f)| (format!("{d} / {k}"), f))),
        )
        .collect();
    let kw = rows
        .iter()
        .map(|(k, _)| k.len())
        .chain([26])
        .max()
        .unwrap_or(26);
    writeln!(
        w,
        "{:<kw$} {:>9} {:>9} {:>12}",
        "series findings (detector / key)", "flagged", "matched", "false alarms"
    )?;
    for (k, f) in rows {
        writeln!(
            w,
            "{k:<kw$} {:>9} {:>9} {:>12}",
            f.flagged, f.matched, f.false_alarms
        )?;
    }
    for (label, b) in &s.benign {
        writeln!(
            w,
            "known-benign {label}: {} of {} flagged (false alarms)",
            b.flagged, b.labels
        )?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::eval::evaluate;
    use crate::eval::fixtures::case;

    #[test]
    fn text_report_has_every_row() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        let mut out = Vec::new();
        write_text(&r, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let row = |start: &str| {
            text.lines()
                .find(|l| l.starts_with(start))
                .unwrap_or_else(|| panic!("no row {start} in\n{text}"))
                .split_whitespace()
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            row("all "),
            vec![
                "all", "6", "1.000", "0.250", "1.000", "0.250", "0.400", "0.500", "0.500", "0.750",
                "0.542"
            ]
        );
        assert_eq!(row("robust-z ")[10], "0.375");
        assert_eq!(
            row("wrong_unit"),
            vec![
                "wrong_unit",
                "2",
                "0.500",
                "0.000",
                "0.000",
                "0.000",
                "0.500",
                "0.500",
                "0.500"
            ]
        );
        assert_eq!(
            row("volume_surge")[..4],
            ["volume_surge", "2", "1", "0.500"]
        );
        assert_eq!(row("all / hs6_importer")[3..], ["2", "1", "1"]);
    }
}
