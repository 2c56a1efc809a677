//! Ground-truth files in `OUT/_labels/`: `lines.csv`, `series.csv`, `generator.json`,
//! each written to a temporary name and renamed into place.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::catalogue::Catalogue;
use super::month::{LineLabel, decl_id_string};
use super::plan::{Plan, SeriesLabel};
use super::{GenerateError, GeneratorConfig, LINE_LABEL_SHARES};
use crate::calendar::format_date;

/// Write `bytes` to `path` atomically (temporary file in the same directory, fsync,
/// rename).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), GenerateError> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| GenerateError::Io { path: p, source }
    };
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// `lines.csv`: `declaration_id,line_no,label`, sorted by declaration id then line.
pub(crate) fn lines_csv(labels: &[LineLabel]) -> String {
    let mut s = String::with_capacity(32 + labels.len() * 40);
    s.push_str("declaration_id,line_no,label\n");
    for l in labels {
        let _ = writeln!(
            s,
            "{},{},{}",
            decl_id_string(l.yy, l.seq),
            l.line_no,
            l.label.name()
        );
    }
    s
}

/// `series.csv`, rows sorted.
pub(crate) fn series_csv(series: &[SeriesLabel], cat: &Catalogue) -> String {
    let mut rows: Vec<String> = series
        .iter()
        .map(|s| {
            let hs6 = cat.hs6.get(s.hs6 as usize).map_or("", |h| h.code.as_str());
            let importer = cat
                .parties
                .get(s.importer as usize)
                .map_or("", |p| p.as_str());
            format!(
                "{},hs6_importer,{hs6},{importer},,,week,{}",
                s.label.name(),
                format_date(s.week_monday)
            )
        })
        .collect();
    rows.sort();
    let mut out =
        String::from("label,series_key,hs6,importer_id,origin,office,period,period_start\n");
    for r in rows {
        out.push_str(&r);
        out.push('\n');
    }
    out
}

/// JSON string literal.
fn json_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object of counts.
fn json_counts(map: &BTreeMap<String, u64>) -> String {
    let body: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    format!("{{{}}}", body.join(", "))
}

/// Everything `generator.json` reports.
pub(crate) struct RunSummary<'a> {
    pub cfg: &'a GeneratorConfig,
    pub cat: &'a Catalogue,
    pub plan: &'a Plan,
    pub rows: u64,
    pub files: &'a [PathBuf],
    pub out: &'a Path,
    pub line_labels: &'a BTreeMap<String, u64>,
    pub series_labels: &'a BTreeMap<String, u64>,
}

/// `generator.json` (hand-written, stable key order).
pub(crate) fn generator_json(r: &RunSummary<'_>) -> String {
    let cfg = r.cfg;
    let files: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            let rel = f.strip_prefix(r.out).unwrap_or(f);
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            json_str(&parts.join("/"))
        })
        .collect();
    let shares: Vec<String> = LINE_LABEL_SHARES
        .iter()
        .map(|(k, v)| format!("{}: {v}", json_str(k)))
        .collect();
    let crisis = match r.plan.crisis {
        Some((s, e)) => format!(
            "{{\"start\": {}, \"end_exclusive\": {}}}",
            json_str(&format_date(s)),
            json_str(&format_date(e))
        ),
        None => "null".to_string(),
    };
    let eligible = r.cat.nats.iter().filter(|n| n.eligible).count();
    let mut s = String::new();
    s.push_str("{\n");
    let _ = writeln!(
        s,
        "  \"generator\": {},",
        json_str(concat!("tradescan-datasets ", env!("CARGO_PKG_VERSION")))
    );
    let _ = writeln!(
        s,
        "  \"config\": {{\"rows\": {}, \"seed\": {}, \"start_year\": {}, \"start_month\": {}, \"months\": {}, \"row_group_rows\": {}}},",
        cfg.rows, cfg.seed, cfg.start_year, cfg.start_month, cfg.months, cfg.row_group_rows
    );
    let _ = writeln!(s, "  \"rows\": {},", r.rows);
    let _ = writeln!(s, "  \"files\": [{}],", files.join(", "));
    let _ = writeln!(
        s,
        "  \"range\": {{\"start\": {}, \"end\": {}}},",
        json_str(&format_date(r.plan.range_start)),
        json_str(&format_date(r.plan.range_end))
    );
    let _ = writeln!(s, "  \"crisis_window\": {crisis},");
    let _ = writeln!(
        s,
        "  \"catalogue\": {{\"hs6_codes\": {}, \"national_codes\": {}, \"national_codes_eligible_for_price_plants\": {eligible}, \"importers\": {}, \"declarant_brokers\": {}, \"offices\": {}, \"origins\": {}}},",
        r.cat.hs6.len(),
        r.cat.nats.len(),
        r.cat.importers.len(),
        r.cat.n_brokers,
        r.cat.offices.len(),
        r.cat.origin_offset.len()
    );
    let _ = writeln!(s, "  \"line_label_shares\": {{{}}},", shares.join(", "));
    let _ = writeln!(s, "  \"line_labels\": {},", json_counts(r.line_labels));
    let _ = writeln!(s, "  \"series_labels\": {}", json_counts(r.series_labels));
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_str("a\"b\\c\n"), "\"a\\\"b\\\\c\\n\"");
        assert_eq!(json_str("\u{1}"), "\"\\u0001\"");
    }
}
