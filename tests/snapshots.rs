//! Golden snapshots of every detector, one test per stable detector id.
//!
//! Each test writes a small handcrafted fixture (plain arithmetic, no randomness) as
//! Parquet with the canonical column names, runs the built `tradescan scan` binary with
//! `--detectors <name>`, and renders the findings (in output order, floats rounded to 6
//! significant digits) and the run-record counters the detector affects as text. The
//! text is compared with `tests/golden/<id>-<name>.txt`; `TRADESCAN_BLESS=1` writes it
//! instead (see `tests/golden/README.md`).
//!
//! Before the comparison (and when blessing) every test checks the findings against an
//! independent naive computation over the fixture (sorting each group or window): which
//! lines or series are flagged, and the medians, MADs, scores, explanations and counts
//! they report. The golden file adds the rest of each finding and of the run record, so
//! that any other change shows up as a readable diff too.
//!
//! Only the CLI is used (no engine internals), so these tests keep working while the
//! engine's modules move.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use serde_json::Value;

use crate::{manifest, read_parquet, run, scan_args, stderr, write_parquet};

// ---------------------------------------------------------------------------------------
// Fixture lines
// ---------------------------------------------------------------------------------------

/// Monday 2025-01-06, days since 1970-01-01: week 0 of the volume fixtures.
const MONDAY: i32 = 20_094;

/// One declaration line with every canonical column.
#[derive(Debug, Clone)]
struct Line {
    decl: String,
    line_no: i64,
    day: i32,
    office: &'static str,
    importer: &'static str,
    origin: &'static str,
    hs: &'static str,
    quantity: f64,
    unit: &'static str,
    mass: f64,
    value: f64,
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// A price factor in 0.80..=1.20 (steps of 0.04, permuted over `i`): the ordinary spread
/// of a comparison group.
fn price_spread(i: usize) -> f64 {
    1.0 + 0.04 * (((i * 7) % 11) as f64 - 5.0)
}

/// A kilograms-per-unit factor in 0.85..=1.15 (steps of 0.03, another permutation).
fn mass_spread(i: usize) -> f64 {
    1.0 + 0.03 * (((i * 5) % 11) as f64 - 5.0)
}

/// One comparison group of a price fixture.
struct Spec {
    tag: &'static str,
    hs: &'static str,
    origin: &'static str,
    unit: &'static str,
    /// Price per kg (`KGM`) or per supplementary unit.
    price: f64,
    /// Kilograms per supplementary unit (non-`KGM` groups).
    kg_per_unit: f64,
    /// Quantity of line `i`: `base + step * (i % 9)`.
    qty: (f64, f64),
}

impl Spec {
    /// Line `i` priced at `price * price_spread(i) * factor`, with the group's ordinary
    /// kilograms per unit (times `mass_spread(i)`).
    fn line(&self, i: usize, factor: f64) -> Line {
        self.make(i, self.price * price_spread(i) * factor)
    }

    /// Line `i` priced at exactly `price * factor` (no spread).
    fn flat(&self, i: usize, factor: f64) -> Line {
        self.make(i, self.price * factor)
    }

    fn make(&self, i: usize, price: f64) -> Line {
        let quantity = self.qty.0 + self.qty.1 * (i % 9) as f64;
        let mass = if self.unit == "KGM" {
            quantity
        } else {
            round_to(quantity * self.kg_per_unit * mass_spread(i), 3)
        };
        Line {
            decl: format!("{}-{i:02}", self.tag),
            line_no: 1,
            day: MONDAY + (i % 20) as i32,
            office: "OFF-1",
            importer: "IMP-1",
            origin: self.origin,
            hs: self.hs,
            quantity,
            unit: self.unit,
            mass,
            value: round_to(quantity * price, 2),
        }
    }

    /// `n` ordinary lines.
    fn ordinary(&self, n: usize) -> Vec<Line> {
        (0..n).map(|i| self.line(i, 1.0)).collect()
    }
}

/// Rename a line (planted lines get readable declaration ids).
fn named(decl: &str, l: Line) -> Line {
    Line {
        decl: decl.into(),
        ..l
    }
}

/// A volume line on `day`: unit KGM, net mass = quantity, value 0.40 per kg.
fn vline(
    decl: String,
    day: i32,
    (importer, origin): (&'static str, &'static str),
    hs: &'static str,
    quantity: f64,
) -> Line {
    Line {
        decl,
        line_no: 1,
        day,
        office: "OFF-1",
        importer,
        origin,
        hs,
        quantity,
        unit: "KGM",
        mass: quantity,
        value: round_to(quantity * 0.4, 2),
    }
}

/// Wednesday of week `w` (weeks counted from [`MONDAY`]).
fn wednesday(w: usize) -> i32 {
    MONDAY + 7 * w as i32 + 2
}

fn batch(lines: &[Line]) -> RecordBatch {
    fn text(lines: &[Line], f: fn(&Line) -> &str) -> ArrayRef {
        Arc::new(StringArray::from_iter_values(lines.iter().map(f)))
    }
    fn number(lines: &[Line], f: fn(&Line) -> f64) -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(lines.iter().map(f)))
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("declaration_id", DataType::Utf8, false),
        Field::new("line_no", DataType::Int64, false),
        Field::new("date", DataType::Date32, false),
        Field::new("office", DataType::Utf8, false),
        Field::new("importer_id", DataType::Utf8, false),
        Field::new("origin", DataType::Utf8, false),
        Field::new("hs_code", DataType::Utf8, false),
        Field::new("quantity", DataType::Float64, false),
        Field::new("unit", DataType::Utf8, false),
        Field::new("net_mass_kg", DataType::Float64, false),
        Field::new("customs_value", DataType::Float64, false),
    ]));
    RecordBatch::try_new(
        schema,
        vec![
            text(lines, |l| &l.decl),
            Arc::new(Int64Array::from_iter_values(
                lines.iter().map(|l| l.line_no),
            )),
            Arc::new(Date32Array::from_iter_values(lines.iter().map(|l| l.day))),
            text(lines, |l| l.office),
            text(lines, |l| l.importer),
            text(lines, |l| l.origin),
            text(lines, |l| l.hs),
            number(lines, |l| l.quantity),
            text(lines, |l| l.unit),
            number(lines, |l| l.mass),
            number(lines, |l| l.value),
        ],
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// Running a scan and reading its findings
// ---------------------------------------------------------------------------------------

/// The findings columns a snapshot shows, in this order.
const COLUMNS: [&str; 24] = [
    "detector_id",
    "detector",
    "declaration_id",
    "line_no",
    "hs_code",
    "origin",
    "importer_id",
    "office",
    "group_level",
    "group_key",
    "group_size",
    "observed",
    "baseline_median",
    "baseline_mad",
    "score",
    "raw_score",
    "direction",
    "value_gap",
    "series_key",
    "period_start",
    "period",
    "rule",
    "corroborated_by",
    "explanation",
];

#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    Number(Option<f64>),
}

/// One finding as read back from `findings.parquet`.
#[derive(Debug, Clone)]
struct Found(BTreeMap<&'static str, Cell>);

impl Found {
    fn opt_text(&self, column: &str) -> Option<&str> {
        match &self.0[column] {
            Cell::Text(t) => t.as_deref(),
            Cell::Number(_) => panic!("{column} is a number"),
        }
    }

    fn text(&self, column: &str) -> &str {
        self.opt_text(column)
            .unwrap_or_else(|| panic!("{column} is null in {self:?}"))
    }

    fn opt_number(&self, column: &str) -> Option<f64> {
        match &self.0[column] {
            Cell::Number(v) => *v,
            Cell::Text(_) => panic!("{column} is text"),
        }
    }

    fn number(&self, column: &str) -> f64 {
        self.opt_number(column)
            .unwrap_or_else(|| panic!("{column} is null in {self:?}"))
    }

    fn group_size(&self) -> u64 {
        self.text("group_size").parse().unwrap()
    }

    /// The snapshot row: tab-separated, `-` for null.
    fn row(&self) -> String {
        COLUMNS
            .iter()
            .map(|c| match &self.0[c] {
                Cell::Text(Some(s)) => s.clone(),
                Cell::Number(Some(v)) => g6(*v),
                Cell::Text(None) | Cell::Number(None) => "-".into(),
            })
            .collect::<Vec<_>>()
            .join("\t")
    }
}

fn read_findings(path: &Path) -> Vec<Found> {
    let mut out = Vec::new();
    for b in read_parquet(path) {
        let mut columns: Vec<(&'static str, ArrayRef)> = Vec::new();
        for c in COLUMNS {
            let a = b
                .column_by_name(c)
                .unwrap_or_else(|| panic!("findings have no column {c}"));
            columns.push((c, Arc::clone(a)));
        }
        for i in 0..b.num_rows() {
            let mut row = BTreeMap::new();
            for (name, a) in &columns {
                let cell = if *a.data_type() == DataType::Float64 {
                    let f = a.as_primitive::<Float64Type>();
                    Cell::Number(f.is_valid(i).then(|| f.value(i)))
                } else {
                    let s = arrow::compute::cast(a, &DataType::Utf8).unwrap();
                    let s = s.as_string::<i32>();
                    Cell::Text(s.is_valid(i).then(|| s.value(i).to_string()))
                };
                row.insert(*name, cell);
            }
            out.push(Found(row));
        }
    }
    out
}

/// What a snapshot test runs: the detector and its configuration.
struct Snapshot {
    /// `P01`, ...
    id: &'static str,
    /// `robust-z`, ...
    name: &'static str,
    /// TOML written to a config file and passed with `--config`.
    config: Option<&'static str>,
    /// Run-record keys shown (`volume` is shown field by field).
    manifest_keys: &'static [&'static str],
}

/// Counters of the price pass.
const PRICE_KEYS: &[&str] = &[
    "rows_total",
    "rows_read",
    "rows_scored",
    "rows_skipped",
    "no_spread",
    "withdrawn_by_local_check",
    "groups_per_level",
    "lines_per_level",
    "findings",
    "lines_flagged",
    "findings_by_detector",
    "findings_by_level",
    "findings_by_watch_family",
];

/// Counters of the volume pass (plus every field of the `volume` record but its
/// dense/sparse storage split).
const VOLUME_KEYS: &[&str] = &[
    "rows_total",
    "rows_read",
    "findings",
    "findings_by_detector",
    "findings_by_series_key",
    "findings_by_watch_family",
    "volume",
];

/// Fields of the `volume` record left out: how panels are stored, not what is found.
const VOLUME_STORAGE: [&str; 2] = ["dense_panels", "sparse_panels"];

struct Scanned {
    findings: Vec<Found>,
    manifest: Value,
    rows: usize,
}

impl Snapshot {
    fn golden_name(&self) -> String {
        format!("{}-{}.txt", self.id, self.name)
    }

    /// Write `lines` to a temporary folder and scan them with this detector.
    fn scan(&self, lines: &[Line]) -> Scanned {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("declarations.parquet");
        write_parquet(&data, &[batch(lines)], None);
        let config = self.config.map(|text| {
            let p = tmp.path().join("tradescan.toml");
            std::fs::write(&p, text).unwrap();
            p
        });
        let out = tmp.path().join("out");
        let o = run(scan_args(
            config.as_deref(),
            &[&data],
            &out,
            &["--detectors", self.name, "--quiet"],
        ));
        assert_eq!(o.status.code(), Some(0), "scan failed: {}", stderr(&o));
        let findings = read_findings(&out.join("findings.parquet"));
        for f in &findings {
            assert_eq!(
                (f.text("detector_id"), f.text("detector")),
                (self.id, self.name)
            );
        }
        // Output order: score descending.
        for w in findings.windows(2) {
            assert!(w[0].number("score") >= w[1].number("score"));
        }
        Scanned {
            findings,
            manifest: manifest(&out),
            rows: lines.len(),
        }
    }

    /// The snapshot text of a scan.
    fn render(&self, s: &Scanned) -> String {
        let mut t = format!(
            "# {} {}: golden snapshot of tests/snapshots.rs (see tests/golden/README.md)\n\
             # tradescan scan declarations.parquet ({} lines) --detectors {}\n",
            self.id, self.name, s.rows, self.name
        );
        match self.config {
            None => t.push_str("# config: none\n"),
            Some(c) => {
                t.push_str("# config:\n");
                for l in c.lines() {
                    t.push_str(&format!("#   {l}\n").replace("#   \n", "#\n"));
                }
            }
        }
        t.push_str(&format!("\n## findings: {}\n", s.findings.len()));
        t.push_str(&COLUMNS.join("\t"));
        t.push('\n');
        for f in &s.findings {
            t.push_str(&f.row());
            t.push('\n');
        }
        t.push_str("\n## manifest.json\n");
        for &k in self.manifest_keys {
            match &s.manifest.get(k) {
                Some(Value::Object(o)) if k == "volume" => {
                    for (field, v) in o {
                        if !VOLUME_STORAGE.contains(&field.as_str()) {
                            t.push_str(&format!("volume.{field} = {v}\n"));
                        }
                    }
                }
                Some(v) => t.push_str(&format!("{k} = {v}\n")),
                None => t.push_str(&format!("{k} = <absent>\n")),
            }
        }
        t
    }

    /// Compare the snapshot with its golden file, or write it with `TRADESCAN_BLESS=1`.
    fn check(&self, s: &Scanned) {
        let actual = self.render(s);
        let path = golden_dir().join(self.golden_name());
        if std::env::var("TRADESCAN_BLESS").as_deref() == Ok("1") {
            std::fs::create_dir_all(golden_dir()).unwrap();
            std::fs::write(&path, &actual).unwrap();
            return;
        }
        let expected = match std::fs::read_to_string(&path) {
            Ok(t) => t.replace("\r\n", "\n"),
            Err(e) => panic!(
                "cannot read {}: {e}\nwrite it with TRADESCAN_BLESS=1 cargo test -p tradescan-cli \
                 --test integration snapshots, then review it",
                path.display()
            ),
        };
        if expected != actual {
            panic!(
                "{} differs from this run (- golden, + now). Review the change; if it is \
                 intended, re-bless with TRADESCAN_BLESS=1 cargo test -p tradescan-cli --test \
                 integration snapshots\n{}",
                path.display(),
                line_diff(&expected, &actual)
            );
        }
    }
}

fn golden_dir() -> PathBuf {
    let cli = Path::new(env!("CARGO_MANIFEST_DIR"));
    cli.parent().unwrap_or(cli).join("tests/golden")
}

/// A line diff (longest common subsequence), unchanged runs longer than 3 lines elided.
fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let mut out = String::new();
    let mut k = 0;
    while k < ops.len() {
        if ops[k].0 != ' ' {
            out.push_str(&format!("{} {}\n", ops[k].0, ops[k].1));
            k += 1;
            continue;
        }
        let end = k + ops[k..].iter().take_while(|o| o.0 == ' ').count();
        if end - k > 3 {
            out.push_str(&format!("  ... {} unchanged lines\n", end - k));
        } else {
            for o in &ops[k..end] {
                out.push_str(&format!("  {}\n", o.1));
            }
        }
        k = end;
    }
    out
}

// ---------------------------------------------------------------------------------------
// Number formatting and the naive reference
// ---------------------------------------------------------------------------------------

/// `v` rounded to 6 significant digits, trailing zeros dropped; exponent notation outside
/// 1e-4..1e9.
fn g6(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return v.to_string();
    }
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    let exp = v.abs().log10().floor() as i32;
    if !(-4..9).contains(&exp) {
        let s = format!("{v:.5e}");
        let (mantissa, exponent) = s.split_once('e').unwrap();
        return format!("{}e{exponent}", trim(mantissa));
    }
    let decimals = (5 - exp).max(0) as usize;
    trim(&format!("{v:.decimals$}"))
}

/// How explanations print numbers: four significant digits, exponent notation outside
/// 1e-3..1e6.
fn sig4(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        v.to_string()
    } else if v.abs() >= 1e6 || v.abs() < 1e-3 {
        format!("{v:.3e}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[track_caller]
fn assert_close(got: f64, want: f64, what: &str) {
    assert!(close(got, want), "{what}: got {got}, want {want}");
}

/// Order statistics by sorting, quantiles as DuckDB's `quantile_cont`.
#[derive(Debug, Clone, Copy)]
struct Naive {
    n: u64,
    q1: f64,
    median: f64,
    q3: f64,
    mad: f64,
    mean_ad: f64,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let p = (sorted.len() - 1) as f64 * q;
    let (lo, hi) = (p.floor() as usize, p.ceil() as usize);
    sorted[lo] + (p - lo as f64) * (sorted[hi] - sorted[lo])
}

fn naive(values: &[f64]) -> Naive {
    assert!(!values.is_empty());
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let median = quantile(&v, 0.5);
    let mut dev: Vec<f64> = v.iter().map(|x| (x - median).abs()).collect();
    dev.sort_by(f64::total_cmp);
    Naive {
        n: v.len() as u64,
        q1: quantile(&v, 0.25),
        median,
        q3: quantile(&v, 0.75),
        mad: quantile(&dev, 0.5),
        mean_ad: dev.iter().sum::<f64>() / dev.len() as f64,
    }
}

/// The robust spread: `1.4826 * MAD`, or `1.253314 * mean AD` when the MAD is 0.
fn robust_scale(s: &Naive) -> f64 {
    if s.mad > 0.0 {
        1.4826 * s.mad
    } else {
        1.253_314 * s.mean_ad
    }
}

/// `yyyy-mm-dd` of a day count since 1970-01-01.
fn ymd(day: i32) -> String {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

// ---------------------------------------------------------------------------------------
// Price detectors: the naive reference
// ---------------------------------------------------------------------------------------

/// The default fallback chain.
const LEVELS: [&str; 4] = ["hs+origin+unit", "hs6+origin+unit", "hs6+unit", "hs4+unit"];
/// The level of an expected finding judged against a fixed reference, not a group.
const REFERENCE: usize = usize::MAX;

fn level_key(l: &Line, level: usize) -> String {
    match level {
        0 => format!("hs={}|origin={}|unit={}", l.hs, l.origin, l.unit),
        1 => format!("hs6={}|origin={}|unit={}", &l.hs[..6], l.origin, l.unit),
        2 => format!("hs6={}|unit={}", &l.hs[..6], l.unit),
        _ => format!("hs4={}|unit={}", &l.hs[..4], l.unit),
    }
}

/// The denominator of a line's unit value under `auto`: net mass for KGM lines, the
/// quantity otherwise.
fn denominator(l: &Line) -> f64 {
    if l.unit == "KGM" { l.mass } else { l.quantity }
}

/// ln unit value under the `auto` denominator.
fn ln_unit_value(l: &Line) -> Option<f64> {
    Some((l.value / denominator(l)).ln())
}

/// ln kilograms per supplementary unit (lines with a non-mass unit).
fn ln_kg_per_unit(l: &Line) -> Option<f64> {
    (l.quantity > 0.0 && l.mass > 0.0).then(|| (l.mass / l.quantity).ln())
}

/// What a price detector measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    /// ln unit value, every level of the chain (robust-z, iqr-fence).
    UnitValue,
    /// ln kg per unit, national-code groups only (mass-per-unit).
    KgPerUnit,
}

impl Measure {
    fn of(self, l: &Line) -> Option<f64> {
        match self {
            Measure::UnitValue => ln_unit_value(l),
            Measure::KgPerUnit => ln_kg_per_unit(l),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    /// Raw statistic, calibrated score, side.
    Flag(f64, f64, &'static str),
    Pass,
    NoSpread,
}

/// The calibrated score of a statistic `z` from a group of `n` lines: the normal z of
/// the tail probability `z` has under a Student-t whose degrees of freedom follow the
/// group's size (0.41 n for odd n, 0.385 n + 0.86 for even n).
fn calibrated(z: f64, n: u64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
    let n = n as f64;
    let df = if n % 2.0 == 1.0 {
        0.41 * n
    } else {
        0.385 * n + 0.86
    }
    .max(1.0);
    let p = StudentsT::new(0.0, 1.0, df).unwrap().sf(z);
    -Normal::new(0.0, 1.0).unwrap().inverse_cdf(p)
}

/// Flag statistic `z` of a group of `n` lines when its calibrated score passes 3.5.
fn flag_calibrated(z: f64, n: u64, side: &'static str) -> Verdict {
    let score = calibrated(z, n);
    if z > 3.5 && score > 3.5 {
        Verdict::Flag(z, score, side)
    } else {
        Verdict::Pass
    }
}

fn side(x: f64, median: f64) -> &'static str {
    if x < median { "low" } else { "high" }
}

/// robust-z: `|x - median| / robust_scale`, calibrated, above 3.5.
fn judge_robust_z(x: f64, s: &Naive) -> Verdict {
    let scale = robust_scale(s);
    if scale <= 0.0 {
        return Verdict::NoSpread;
    }
    flag_calibrated(((x - s.median) / scale).abs(), s.n, side(x, s.median))
}

/// mass-per-unit: as robust-z with a spread of at least 0.1 (so never without spread).
fn judge_mass_per_unit(x: f64, s: &Naive) -> Verdict {
    let scale = robust_scale(s).max(0.1);
    flag_calibrated(((x - s.median) / scale).abs(), s.n, side(x, s.median))
}

/// iqr-fence: outside `[Q1 - 3 IQR, Q3 + 3 IQR]`, statistic `|x - median| / (IQR / 1.349)`,
/// calibrated.
fn judge_iqr_fence(x: f64, s: &Naive) -> Verdict {
    let iqr = s.q3 - s.q1;
    if iqr <= 0.0 {
        return Verdict::NoSpread;
    }
    if x < s.q1 - 3.0 * iqr || x > s.q3 + 3.0 * iqr {
        flag_calibrated((x - s.median).abs() / (iqr / 1.349), s.n, side(x, s.median))
    } else {
        Verdict::Pass
    }
}

/// One expected line finding.
#[derive(Debug, Clone)]
struct Expected {
    decl: String,
    x: f64,
    level: usize,
    key: String,
    stats: Naive,
    /// The statistic before calibration.
    raw: f64,
    score: f64,
    direction: &'static str,
    /// The line's own smaller group (fallback check): key and statistics.
    local: Option<(String, Naive)>,
    /// Customs value minus the value at the median (price measures).
    value_gap: Option<f64>,
}

/// What the naive reference expects of a price scan.
#[derive(Debug, Default)]
struct PriceReference {
    flags: Vec<Expected>,
    scored: u64,
    no_spread: u64,
    withdrawn: u64,
    group_too_small: u64,
    no_applicable_detector: u64,
}

impl PriceReference {
    fn flagged(&self) -> BTreeSet<&str> {
        self.flags.iter().map(|e| e.decl.as_str()).collect()
    }
}

/// The naive price scan: each line's group is the first level of the chain with at least
/// 30 values of the measure (lines without the measure: no applicable detector); a flag
/// at a fallback level must also be a flag against its most specific group with at least
/// 3 values (same spread, that group's median).
fn price_reference(
    lines: &[Line],
    measure: Measure,
    judge: fn(f64, &Naive) -> Verdict,
) -> PriceReference {
    let chain = LEVELS.len();
    let values = |l: &Line, level: usize| -> Vec<f64> {
        let key = level_key(l, level);
        lines
            .iter()
            .filter(|o| level_key(o, level) == key)
            .filter_map(|o| measure.of(o))
            .collect()
    };
    let resolve = |l: &Line, min: usize| (0..chain).find(|&lv| values(l, lv).len() >= min);
    let mut r = PriceReference::default();
    for l in lines {
        let Some(x) = measure.of(l) else {
            r.no_applicable_detector += 1;
            continue;
        };
        // mass-per-unit judges a kilogram line against its own net mass: ln(net mass /
        // quantity) against 0, spread 0.1, no group, no size calibration.
        if measure == Measure::KgPerUnit && l.unit == "KGM" {
            r.scored += 1;
            let z = (x / 0.1).abs();
            if z > 3.5 {
                r.flags.push(Expected {
                    decl: l.decl.clone(),
                    x,
                    level: REFERENCE,
                    key: "quantity=net_mass".into(),
                    stats: Naive {
                        n: 0,
                        q1: 0.0,
                        median: 0.0,
                        q3: 0.0,
                        mad: 0.0,
                        mean_ad: 0.0,
                    },
                    raw: z,
                    score: z,
                    direction: side(x, 0.0),
                    local: None,
                    value_gap: None,
                });
            }
            continue;
        }
        // mass-per-unit judges a line of a supplementary unit against its national
        // code's group only: the chain ends there.
        let chain_end = if measure == Measure::KgPerUnit {
            1
        } else {
            chain
        };
        let Some(level) = resolve(l, 30).filter(|&lv| lv < chain_end) else {
            r.group_too_small += 1;
            continue;
        };
        r.scored += 1;
        let stats = naive(&values(l, level));
        let (raw, score, direction) = match judge(x, &stats) {
            Verdict::Pass => continue,
            Verdict::NoSpread => {
                r.no_spread += 1;
                continue;
            }
            Verdict::Flag(raw, score, direction) => (raw, score, direction),
        };
        let mut e = Expected {
            decl: l.decl.clone(),
            x,
            level,
            key: level_key(l, level),
            stats,
            raw,
            score,
            direction,
            local: None,
            value_gap: (measure == Measure::UnitValue)
                .then(|| l.value - stats.median.exp() * denominator(l)),
        };
        if let Some(local) = resolve(l, 3).filter(|&lv| lv < level) {
            let own = naive(&values(l, local));
            let shift = own.median - stats.median;
            let recentred = Naive {
                q1: stats.q1 + shift,
                median: own.median,
                q3: stats.q3 + shift,
                ..stats
            };
            match judge(x, &recentred) {
                Verdict::Flag(r, s, _) => {
                    if s < score {
                        (e.raw, e.score) = (r, s);
                    }
                    e.local = Some((level_key(l, local), own));
                }
                _ => {
                    r.withdrawn += 1;
                    continue;
                }
            }
        }
        r.flags.push(e);
    }
    r
}

/// Check a price scan's findings and counters against the naive reference.
fn check_price(s: &Scanned, want: &PriceReference, detector: &str, measure: &str) {
    let got: BTreeSet<&str> = s
        .findings
        .iter()
        .map(|f| f.text("declaration_id"))
        .collect();
    assert_eq!(got, want.flagged(), "flagged lines");
    assert_eq!(s.findings.len(), want.flags.len());
    for e in &want.flags {
        let f = s
            .findings
            .iter()
            .find(|f| f.text("declaration_id") == e.decl)
            .unwrap();
        let what = |c: &str| format!("{} {c}", e.decl);
        let level = LEVELS.get(e.level).copied().unwrap_or("quantity=net_mass");
        assert_eq!(f.text("group_level"), level, "{}", what("level"));
        assert_eq!(f.text("group_key"), e.key, "{}", what("group_key"));
        assert_eq!(f.group_size(), e.stats.n, "{}", what("group_size"));
        assert_eq!(f.text("direction"), e.direction, "{}", what("direction"));
        assert_close(f.number("observed"), e.x.exp(), &what("observed"));
        assert_close(
            f.number("baseline_median"),
            e.stats.median.exp(),
            &what("median"),
        );
        assert_close(f.number("baseline_mad"), e.stats.mad, &what("mad"));
        assert_close(f.number("score"), e.score, &what("score"));
        assert_close(f.number("raw_score"), e.raw, &what("raw_score"));
        match e.value_gap {
            Some(gap) => assert_close(f.number("value_gap"), gap, &what("value_gap")),
            None => assert_eq!(f.opt_number("value_gap"), None, "{}", what("value_gap")),
        }
        // The explanation states the same numbers.
        let ratio = (e.x - e.stats.median).abs().exp();
        let side = if e.direction == "high" {
            "above"
        } else {
            "below"
        };
        let mut want_text = if e.level == REFERENCE {
            format!(
                "{measure} {} is {ratio:.1}x {side} its net mass per declared kilogram (1: a \
                 kilogram line's quantity is its net mass); {detector} z {:.2}",
                sig4(e.x.exp()),
                e.raw
            )
        } else {
            format!(
                "{measure} {} is {ratio:.1}x {side} the median {} of {} lines in {} (level {} \
                 of 4: {})",
                sig4(e.x.exp()),
                sig4(e.stats.median.exp()),
                e.stats.n,
                e.key,
                e.level + 1,
                LEVELS[e.level],
            )
        };
        if let Some((key, own)) = &e.local {
            want_text.push_str(&format!(
                ", and far from the median {} of its own {} lines in {key}",
                sig4(own.median.exp()),
                own.n
            ));
        }
        if e.level != REFERENCE {
            want_text.push_str(&format!(
                "; {detector} z {:.2}, score {:.2} for a group of {}",
                e.raw, e.score, e.stats.n
            ));
        }
        let tens = ratio.log10().round();
        if tens >= 1.0 && (ratio.log10() - tens).abs() < 1.15f64.log10() {
            want_text.push_str(&format!(
                "; {}x is a power of ten: {}",
                10u64.pow(tens as u32),
                if measure == "kg per unit" {
                    "quantity or net mass declared in another unit?"
                } else {
                    "a decimal or unit slip in the value or the quantity?"
                }
            ));
        }
        assert_eq!(f.text("explanation"), want_text);
    }
    let m = &s.manifest;
    assert_eq!(m["rows_total"], s.rows as u64);
    assert_eq!(m["rows_scored"], want.scored, "rows_scored");
    let count = |map: &str, key: &str| m[map].get(key).and_then(Value::as_u64).unwrap_or(0);
    assert_eq!(count("no_spread", detector), want.no_spread, "no_spread");
    assert_eq!(
        count("withdrawn_by_local_check", detector),
        want.withdrawn,
        "withdrawn_by_local_check"
    );
    assert_eq!(
        count("rows_skipped", "group_too_small"),
        want.group_too_small
    );
    assert_eq!(
        count("rows_skipped", "no_applicable_detector"),
        want.no_applicable_detector
    );
    assert_eq!(
        count("findings_by_detector", detector),
        want.flags.len() as u64
    );
}

// ---------------------------------------------------------------------------------------
// P01 robust-z
// ---------------------------------------------------------------------------------------

const VEG: Spec = Spec {
    tag: "A",
    hs: "0710809590",
    origin: "CN",
    unit: "KGM",
    price: 1.20,
    kg_per_unit: 1.0,
    qty: (50.0, 10.0),
};

/// A group of 4 lines under a code no other line shares down to hs4: too small at every
/// level.
const COFFEE: Spec = Spec {
    tag: "E",
    hs: "0901110000",
    origin: "BR",
    unit: "KGM",
    price: 3.0,
    kg_per_unit: 1.0,
    qty: (100.0, 25.0),
};

/// - A: frozen vegetables (hs 0710809590, CN, per kg), 40 ordinary lines at 1.20/kg
///   +-20%, and planted: A-HIGH at 20x, A-LOW at 1/15; A-NEAR at 1.5x must pass.
/// - B: laptops (8471300000, CN, per unit), 35 ordinary lines: nothing to find.
/// - C: 0710801000, 5 ordinary lines and C-HIGH at 30x: too few for their own group,
///   judged at hs6+origin+unit (A + C + D), and C-HIGH is far from its own 6 lines too.
/// - D: 0710802000, 5 lines all at 8x the hs6 price (a dearer product under the same
///   hs6): far from the hs6 group, but close to their own median, so the fallback check
///   withdraws all 5.
/// - E: 4 lines too few at every level (group_too_small).
fn p01_fixture() -> Vec<Line> {
    let laptops = Spec {
        tag: "B",
        hs: "8471300000",
        origin: "CN",
        unit: "NAR",
        price: 250.0,
        kg_per_unit: 2.5,
        qty: (1.0, 1.0),
    };
    let c = Spec {
        tag: "C",
        hs: "0710801000",
        qty: (60.0, 10.0),
        ..VEG
    };
    let d = Spec {
        tag: "D",
        hs: "0710802000",
        price: 9.60,
        ..VEG
    };
    let mut lines = VEG.ordinary(40);
    lines.push(named("A-HIGH", VEG.line(40, 20.0)));
    lines.push(named("A-LOW", VEG.line(41, 1.0 / 15.0)));
    lines.push(named("A-NEAR", VEG.line(42, 1.5)));
    lines.extend(laptops.ordinary(35));
    lines.extend(c.ordinary(5));
    lines.push(named("C-HIGH", c.line(5, 30.0)));
    lines.extend(d.ordinary(5));
    lines.extend(COFFEE.ordinary(4));
    lines
}

#[test]
fn p01_robust_z() {
    let snap = Snapshot {
        id: "P01",
        name: "robust-z",
        config: None,
        manifest_keys: PRICE_KEYS,
    };
    let lines = p01_fixture();
    let s = snap.scan(&lines);
    let want = price_reference(&lines, Measure::UnitValue, judge_robust_z);
    // The reference itself: exactly the planted lines, and the fallback cases as meant.
    assert_eq!(
        want.flagged(),
        BTreeSet::from(["A-HIGH", "A-LOW", "C-HIGH"])
    );
    assert_eq!((want.withdrawn, want.group_too_small), (5, 4));
    let a: Vec<f64> = lines
        .iter()
        .filter(|l| l.hs == VEG.hs)
        .filter_map(ln_unit_value)
        .collect();
    assert_eq!(a.len(), 43);
    let high = want.flags.iter().find(|e| e.decl == "A-HIGH").unwrap();
    assert_eq!(high.stats.median, naive(&a).median);
    assert!((high.stats.median.exp() - 1.2).abs() < 0.05);
    let c_high = want.flags.iter().find(|e| e.decl == "C-HIGH").unwrap();
    assert_eq!(
        (
            c_high.level,
            c_high.stats.n,
            c_high.local.as_ref().map(|l| l.1.n)
        ),
        (1, 54, Some(6))
    );
    check_price(&s, &want, "robust-z", "value per kg");
    snap.check(&s);
}

// ---------------------------------------------------------------------------------------
// P02 iqr-fence
// ---------------------------------------------------------------------------------------

/// - M: medicaments (3004900000, IN, per unit), 40 ordinary lines at 4.50 +-20%, and
///   planted: M-HIGH at 12x, M-LOW at 1/10; M-NEAR at 1.7x lies inside the fence.
/// - F: masks (6307909800, CN, per unit), 32 lines at exactly 0.50, F-33 at 0.55 and
///   F-HIGH at 10x: the quartiles are equal (IQR 0), so the group is not judged (34
///   lines counted under no_spread), F-HIGH included.
/// - E: 4 lines too few at every level.
fn p02_fixture() -> Vec<Line> {
    let meds = Spec {
        tag: "M",
        hs: "3004900000",
        origin: "IN",
        unit: "NAR",
        price: 4.50,
        kg_per_unit: 0.05,
        qty: (100.0, 20.0),
    };
    let masks = Spec {
        tag: "F",
        hs: "6307909800",
        origin: "CN",
        unit: "NAR",
        price: 0.50,
        kg_per_unit: 0.004,
        qty: (1000.0, 500.0),
    };
    let mut lines = meds.ordinary(40);
    lines.push(named("M-HIGH", meds.line(40, 12.0)));
    lines.push(named("M-LOW", meds.line(41, 0.1)));
    lines.push(named("M-NEAR", meds.line(42, 1.7)));
    lines.extend((0..32).map(|i| masks.flat(i, 1.0)));
    lines.push(masks.flat(33, 1.1));
    lines.push(named("F-HIGH", masks.flat(34, 10.0)));
    lines.extend(COFFEE.ordinary(4));
    lines
}

#[test]
fn p02_iqr_fence() {
    let snap = Snapshot {
        id: "P02",
        name: "iqr-fence",
        config: None,
        manifest_keys: PRICE_KEYS,
    };
    let lines = p02_fixture();
    let s = snap.scan(&lines);
    let want = price_reference(&lines, Measure::UnitValue, judge_iqr_fence);
    assert_eq!(want.flagged(), BTreeSet::from(["M-HIGH", "M-LOW"]));
    assert_eq!((want.no_spread, want.group_too_small), (34, 4));
    // M-NEAR is inside the upper fence, by a visible margin.
    let m: Vec<f64> = lines
        .iter()
        .filter(|l| l.hs == "3004900000")
        .filter_map(ln_unit_value)
        .collect();
    let st = naive(&m);
    let near = lines.iter().find(|l| l.decl == "M-NEAR").unwrap();
    let fence = st.q3 + 3.0 * (st.q3 - st.q1);
    assert!(ln_unit_value(near).unwrap() < fence - 0.05);
    let e = want.flags.iter().find(|e| e.decl == "M-HIGH").unwrap();
    assert_eq!((e.stats.q1, e.stats.q3), (st.q1, st.q3));
    assert_close(
        e.raw,
        (e.x - st.median) / ((st.q3 - st.q1) / 1.349),
        "M-HIGH statistic",
    );
    check_price(&s, &want, "iqr-fence", "value per unit");
    snap.check(&s);
}

// ---------------------------------------------------------------------------------------
// P03 mass-per-unit
// ---------------------------------------------------------------------------------------

/// - G: syringes (9018390000, DE, NAR), 40 ordinary lines at 0.012 kg per piece +-15%,
///   and planted: G-GRAMS declares its net mass in grams (1000x the kg per piece),
///   G-THOUSANDS a quantity 1000x too high (1/1000 the kg per piece); G-NEAR at 1.3x
///   must pass. Their values are ordinary: only the kg per piece gives them away.
/// - H: 9018391000, 4 ordinary lines and H-GRAMS (1000x): 5 lines, too few for their
///   national code; mass-per-unit judges lines of a supplementary unit only against
///   their national code, so none is judged (no_applicable_detector).
/// - K: 3 kilogram lines: judged at every level, but no group of theirs reaches 30
///   lines (group_too_small).
fn p03_fixture() -> Vec<Line> {
    let syringes = Spec {
        tag: "G",
        hs: "9018390000",
        origin: "DE",
        unit: "NAR",
        price: 0.80,
        kg_per_unit: 0.012,
        qty: (1000.0, 100.0),
    };
    let h = Spec {
        tag: "H",
        hs: "9018391000",
        ..syringes
    };
    let grams = |l: Line| Line {
        mass: l.mass * 1000.0,
        ..l
    };
    let mut lines = syringes.ordinary(40);
    lines.push(named("G-GRAMS", grams(syringes.line(40, 1.0))));
    let t = syringes.line(41, 1.0);
    lines.push(Line {
        decl: "G-THOUSANDS".into(),
        quantity: t.quantity * 1000.0,
        ..t
    });
    let n = syringes.line(42, 1.0);
    lines.push(Line {
        decl: "G-NEAR".into(),
        mass: round_to(n.mass * 1.3, 3),
        ..n
    });
    lines.extend(h.ordinary(4));
    lines.push(named("H-GRAMS", grams(h.line(4, 1.0))));
    let k = Spec { tag: "K", ..VEG };
    lines.extend(k.ordinary(3));
    // A kilogram line whose quantity was keyed in grams: judged against its own net
    // mass, though its code has 4 lines.
    let slip = k.line(3, 1.0);
    lines.push(Line {
        decl: "K-GRAMS".into(),
        quantity: slip.quantity * 1000.0,
        ..slip
    });
    lines
}

#[test]
fn p03_mass_per_unit() {
    let snap = Snapshot {
        id: "P03",
        name: "mass-per-unit",
        config: None,
        manifest_keys: PRICE_KEYS,
    };
    let lines = p03_fixture();
    let s = snap.scan(&lines);
    let want = price_reference(&lines, Measure::KgPerUnit, judge_mass_per_unit);
    assert_eq!(
        want.flagged(),
        BTreeSet::from(["G-GRAMS", "G-THOUSANDS", "K-GRAMS"])
    );
    // The 43 lines of 9018390000 are judged against their national code; H (5 lines)
    // has no national-code group of 30 lines and is not judged at its HS6's; K (4
    // kilogram lines) needs no group.
    assert_eq!(
        (
            want.group_too_small,
            want.no_applicable_detector,
            want.scored
        ),
        (5, 0, 47)
    );
    let g: Vec<f64> = lines
        .iter()
        .filter(|l| l.hs == "9018390000")
        .filter_map(ln_kg_per_unit)
        .collect();
    let st = naive(&g);
    assert!((st.median.exp() - 0.012).abs() < 0.001);
    for e in want.flags.iter().filter(|e| e.level != REFERENCE) {
        assert_eq!(e.stats.median, st.median);
        assert!(e.raw > 30.0 && e.score > 8.0, "{e:?}");
    }
    check_price(&s, &want, "mass-per-unit", "kg per unit");
    snap.check(&s);
}

// ---------------------------------------------------------------------------------------
// Volume detectors
// ---------------------------------------------------------------------------------------

/// A volume finding's identity: (series key, hs6, importer or origin, period start).
fn series_of(f: &Found) -> (String, String, String, String) {
    let who = f
        .opt_text("importer_id")
        .or(f.opt_text("origin"))
        .unwrap_or("-");
    (
        f.text("series_key").to_string(),
        f.text("hs_code").to_string(),
        who.to_string(),
        f.text("period_start").to_string(),
    )
}

fn series(key: &str, hs6: &str, who: &str, start: i32) -> (String, String, String, String) {
    (key.into(), hs6.into(), who.into(), ymd(start))
}

/// Weekly amounts of one importer's hs6 series over `weeks` weeks.
fn weekly(lines: &[Line], hs6: &str, importer: &str, weeks: usize) -> Vec<f64> {
    let mut x = vec![0.0; weeks];
    for l in lines
        .iter()
        .filter(|l| l.hs.starts_with(hs6) && l.importer == importer)
    {
        x[((l.day - MONDAY) / 7) as usize] += l.quantity;
    }
    x
}

/// Median and robust scale of a slice of ln amounts ([`robust_scale`]).
fn ln_stats(amounts: &[f64]) -> Naive {
    let ln: Vec<f64> = amounts
        .iter()
        .filter(|&&a| a > 0.0)
        .map(|a| a.ln())
        .collect();
    naive(&ln)
}

// --- V01 surge -------------------------------------------------------------------------

/// Weeks of the surge fixture.
const SURGE_WEEKS: usize = 30;

/// Ammonium nitrate (hs6 310230, a watched family) to four importers over 30 weeks, one
/// line a week on Wednesdays (STEADY-CO's first and last lines on the first Monday and
/// the last Sunday, so every week is complete):
/// - SURGE-CO: 1000-1200 a week, and 12000 in week 24 (a surge, ~11x the median);
/// - STEADY-CO: 800-920 a week, 1600 in week 20 (under 2x: no surge);
/// - DROP-CO: 500-550 a week in 30 lines, nothing in weeks 18 and 19 (a drop, one
///   episode: a busy series without a line);
/// - SPARSE-CO: 5000 in weeks 5, 15 and 25 only, one line each (judged by the count
///   model alone, and ordinary).
fn v01_fixture() -> Vec<Line> {
    let hs = "3102300000";
    let mut lines = Vec::new();
    for w in 0..SURGE_WEEKS {
        let mut add = |who: &'static str, day: i32, q: f64, n: u32| {
            for i in 1..=n {
                let mut l = vline(
                    format!("{who}-W{w:02}"),
                    day,
                    (who, "NL"),
                    hs,
                    q / f64::from(n),
                );
                l.line_no = i64::from(i);
                lines.push(l);
            }
        };
        let surge = if w == 24 {
            12_000.0
        } else {
            1000.0 + 50.0 * (w % 5) as f64
        };
        add("SURGE-CO", wednesday(w), surge, 1);
        let steady_day = match w {
            0 => MONDAY,
            w if w == SURGE_WEEKS - 1 => MONDAY + 7 * w as i32 + 6,
            w => wednesday(w),
        };
        let steady = if w == 20 {
            1600.0
        } else {
            800.0 + 40.0 * (w % 4) as f64
        };
        add("STEADY-CO", steady_day, steady, 1);
        if w != 18 && w != 19 {
            add("DROP-CO", wednesday(w), 500.0 + 25.0 * (w % 3) as f64, 30);
        }
        if w % 10 == 5 {
            add("SPARSE-CO", wednesday(w), 5000.0, 1);
        }
    }
    lines
}

#[test]
fn v01_surge() {
    let snap = Snapshot {
        id: "V01",
        name: "surge",
        config: None,
        manifest_keys: VOLUME_KEYS,
    };
    let lines = v01_fixture();
    let s = snap.scan(&lines);
    let found: BTreeSet<_> = s.findings.iter().map(series_of).collect();
    let week = |w: usize| MONDAY + 7 * w as i32;
    assert_eq!(
        found,
        BTreeSet::from([
            series("hs6_importer", "310230", "SURGE-CO", week(24)),
            series("hs6_importer", "310230", "DROP-CO", week(18)),
        ])
    );

    // The surge, by hand. The panel's prior: the median over its walked series (at
    // least 4 active weeks) of the robust spread of all their active ln amounts.
    let x: BTreeMap<&str, Vec<f64>> = ["SURGE-CO", "STEADY-CO", "DROP-CO", "SPARSE-CO"]
        .into_iter()
        .map(|who| (who, weekly(&lines, "310230", who, SURGE_WEEKS)))
        .collect();
    let spreads: Vec<f64> = x
        .values()
        .filter(|v| v.iter().filter(|&&a| a > 0.0).count() >= 4)
        .map(|v| robust_scale(&ln_stats(v)))
        .collect();
    assert_eq!(spreads.len(), 3);
    let prior = naive(&spreads).median;
    // Week 24 against the previous 24 weeks (all active); shrunk towards the prior with
    // weight 8, never under ln 1.1; calibrated as a robust z from 24 + 8 values; one
    // line a week, so line counts add nothing.
    let sx = &x["SURGE-CO"];
    let w = ln_stats(&sx[..24]);
    assert_eq!(w.median, 1100f64.ln(), "median of 1000..1200 x 24 weeks");
    let own = robust_scale(&w);
    let scale = ((24.0 * own * own + 8.0 * prior * prior) / 32.0)
        .sqrt()
        .max(1.1f64.ln());
    let z = (12_000f64.ln() - w.median) / scale;
    let score = calibrated(z, 32);
    assert!(score > 5.0 && score < z);
    let f = s
        .findings
        .iter()
        .find(|f| f.opt_text("importer_id") == Some("SURGE-CO"))
        .unwrap();
    assert_eq!(f.text("direction"), "high");
    assert_eq!(f.text("rule"), "amount");
    let day = ymd(week(24));
    // The most specific corroborations first (origin and office alike: the higher
    // score, then output order), then the HS6's.
    assert_eq!(
        f.text("corroborated_by"),
        format!(
            "surge:hs6=310230|office=OFF-1@{day};surge:hs6=310230|origin=NL@{day};\
             surge:hs6=310230@{day}"
        )
    );
    assert_close(f.number("observed"), 12_000.0, "observed");
    assert_close(f.number("baseline_median"), 1100.0, "median");
    assert_close(f.number("baseline_mad"), w.mad, "mad");
    assert_close(f.number("score"), score, "score");
    assert_eq!(f.group_size(), 24);
    assert!(
        f.text("explanation").contains(&format!(
            "quantity 12000 in the week of {} is {:.1}x the median 1100 of the active weeks \
             (24 of the previous 24; score {score:.1}, probability",
            ymd(week(24)),
            12_000.0 / 1100.0
        )),
        "{}",
        f.text("explanation")
    );

    // The drop: weeks 18 and 19 are one episode. Window of week 18: weeks 0..18,
    // amounts 500/525/550 x 6: median 525, MAD 25; the amount's robust z is at most
    // 10 (the scale's floor is 10% of the median), which a window of 18 weeks does not
    // make rare; 540 lines over those 18 weeks and none in week 18 are.
    let dx = &x["DROP-CO"];
    let d = naive(&dx[..18]);
    assert_close(d.median, 525.0, "median");
    assert_close(d.mad, 25.0, "mad");
    let f = s
        .findings
        .iter()
        .find(|f| f.opt_text("importer_id") == Some("DROP-CO"))
        .unwrap();
    assert_eq!(f.text("direction"), "low");
    assert_close(f.number("observed"), 0.0, "observed");
    assert_close(f.number("baseline_median"), d.median, "median");
    assert_close(f.number("baseline_mad"), d.mad, "mad");
    assert!(f.number("score") > 5.0);
    assert!(calibrated(10.0, 18) < 5.0);
    assert!(
        f.text("explanation")
            .contains("one episode of 2 consecutive weeks"),
        "{}",
        f.text("explanation")
    );

    // STEADY-CO's week 20 is under 3x its median (sqrt(840 * 880)): no surge.
    let st = ln_stats(&x["STEADY-CO"][..20]);
    assert!(1600.0 / st.median.exp() < 3.0);

    let v = &s.manifest["volume"];
    assert_eq!(
        v["series"],
        serde_json::json!({"hs6+importer": 4, "hs6+origin": 1, "hs6+office": 1, "hs6": 1})
    );
    assert_eq!(v["series_judged"], 7);
    assert_eq!(v["series_not_judged"], serde_json::json!({}));
    // The 8 weeks after each of the 7 series' first line.
    assert_eq!(v["periods_not_judged"]["too_short"], 56);
    // SURGE-CO's 10,900 over its median explains the week's excess of its origin, its
    // office and its HS6 (every company ships from NL through OFF-1): one event.
    assert_eq!(v["folded_into_events"], 3);
    assert_eq!(v["partial_first_period"], false);
    assert_eq!(v["partial_last_period"], false);
    snap.check(&s);
}

// --- V02 first-time-importer -----------------------------------------------------------

/// Ammonium nitrate (310230) over 20 weeks; burn-in 13 weeks (default):
/// - REG-A (1000-1200) and REG-B (2000-2100) every week: first seen in week 0 (burn-in);
/// - NEW-EARLY: weeks 5 and 12 (first inside the burn-in);
/// - CROSS: 310240 (same family) in week 2, then 310230 in week 16: not new to the family;
/// - NEW-BIG: two lines (4000 + 5000) in week 16, its first line of any good: the
///   finding (12.9x the median first purchase, over `min_ratio` 5 for a new trader);
/// - NEW-SMALL: 100 in week 17 (below min_ratio);
/// - FIRST-1 .. FIRST-5: 400 .. 800 in weeks 14 .. 18, ordinary first purchases;
/// - EST: frozen vegetables in week 3, then 20000 of 310230 in week 15: 28.6x the
///   median first purchase, under `established_min_ratio` 50 for a known trader;
/// - VEG-NEW: first line of frozen vegetables (not watched) in week 16: not followed.
fn v02_fixture() -> Vec<Line> {
    let an = "3102300000";
    let mut lines = Vec::new();
    let mut add = |who: &'static str, w: usize, hs: &'static str, q: f64| {
        let decl = format!("{who}-W{w:02}-{}", lines.len());
        lines.push(vline(decl, wednesday(w), (who, "NL"), hs, q));
    };
    for w in 0..20 {
        add("REG-A", w, an, 1000.0 + 100.0 * (w % 3) as f64);
        add("REG-B", w, an, 2000.0 + 100.0 * (w % 2) as f64);
    }
    add("NEW-EARLY", 5, an, 1500.0);
    add("NEW-EARLY", 12, an, 1500.0);
    add("CROSS", 2, "3102400000", 800.0);
    add("CROSS", 16, an, 1200.0);
    add("NEW-BIG", 16, an, 4000.0);
    add("NEW-BIG", 16, an, 5000.0);
    add("NEW-SMALL", 17, an, 100.0);
    for (i, who) in ["FIRST-1", "FIRST-2", "FIRST-3", "FIRST-4", "FIRST-5"]
        .into_iter()
        .enumerate()
    {
        add(who, 14 + i, an, 400.0 + 100.0 * i as f64);
    }
    add("EST", 3, "0710809590", 500.0);
    add("EST", 15, an, 20_000.0);
    add("VEG-NEW", 16, "0710809590", 3000.0);
    lines
}

#[test]
fn v02_first_time_importer() {
    let snap = Snapshot {
        id: "V02",
        name: "first-time-importer",
        config: None,
        manifest_keys: VOLUME_KEYS,
    };
    let lines = v02_fixture();
    let s = snap.scan(&lines);
    let week16 = MONDAY + 7 * 16;
    let found: Vec<_> = s.findings.iter().map(series_of).collect();
    assert_eq!(
        found,
        vec![series("hs6_importer", "310230", "NEW-BIG", week16)]
    );
    // The first purchases of hs6 310230 after the burn-in (weeks 13 on): CROSS 1200,
    // NEW-BIG 9000, NEW-SMALL 100, FIRST-1..5 400..800, EST 20000; median 700.
    let firsts = [
        1200.0, 9000.0, 100.0, 400.0, 500.0, 600.0, 700.0, 800.0, 20_000.0,
    ];
    let t = ln_stats(&firsts);
    assert_eq!(t.median.exp().round(), 700.0);
    // The score: the amount's robust z against them, calibrated for 9 values. Newcomers
    // are common here (9 in 7 weeks) and so are new traders (7 of the 8 family-first
    // appearances): neither adds evidence.
    let z = (9000f64.ln() - t.median) / robust_scale(&t);
    let f = &s.findings[0];
    assert_close(f.number("observed"), 9000.0, "observed");
    assert_close(f.number("baseline_median"), t.median.exp(), "median");
    assert_close(f.number("baseline_mad"), t.mad, "mad");
    assert_close(f.number("score"), calibrated(z, 9), "score");
    assert_eq!(f.group_size(), 9);
    assert_eq!(
        f.text("explanation"),
        format!(
            "first line of importer NEW-BIG in a watched family (ied_precursors): hs6 310230, \
             quantity 9000 in 2 lines in the week of {}, after 16 weeks of data without one; \
             the median of the hs6's 9 first purchases is 700.0; 12.9x that median, by a new \
             trader (no earlier line in any good); 1.286 newcomers a week in this hs6",
            ymd(week16)
        )
    );
    let v = &s.manifest["volume"];
    // REG-A, REG-B, NEW-EARLY and CROSS (310240 in week 2) first appear in the burn-in.
    assert_eq!(
        v["first_appearances_in_burn_in"],
        serde_json::json!({"first-time-importer": 4})
    );
    // NEW-SMALL, FIRST-1..5 and EST are below their ratio.
    assert_eq!(
        v["first_appearances_below_min_amount"],
        serde_json::json!({"first-time-importer": 7})
    );
    snap.check(&s);
}

// --- V03 new-origin --------------------------------------------------------------------

/// Small-arms ammunition (930630) over 20 weeks; burn-in 13 weeks (default):
/// - DE (5000-6000) and CZ (3000-3300) every week: first seen in week 0 (burn-in);
/// - TR: weeks 4 and 10 (first inside the burn-in);
/// - RS: two lines of 6000 in week 15, its first: the finding;
/// - US: 200 in week 17, under the median cell (below min_ratio);
/// - PE: first frozen vegetables (not watched) in week 15: not followed.
fn v03_fixture() -> Vec<Line> {
    let ammo = "9306300000";
    let mut lines = Vec::new();
    let mut add = |origin: &'static str, w: usize, hs: &'static str, q: f64| {
        let decl = format!("{origin}-W{w:02}-{}", lines.len());
        lines.push(vline(decl, wednesday(w), ("IMP-1", origin), hs, q));
    };
    for w in 0..20 {
        add("DE", w, ammo, 5000.0 + 500.0 * (w % 3) as f64);
        add("CZ", w, ammo, 3000.0 + 300.0 * (w % 2) as f64);
    }
    add("TR", 4, ammo, 4000.0);
    add("TR", 10, ammo, 4000.0);
    add("RS", 15, ammo, 6000.0);
    add("RS", 15, ammo, 6000.0);
    add("US", 17, ammo, 200.0);
    add("PE", 15, "0710809590", 3000.0);
    lines
}

#[test]
fn v03_new_origin() {
    let snap = Snapshot {
        id: "V03",
        name: "new-origin",
        config: None,
        manifest_keys: VOLUME_KEYS,
    };
    let lines = v03_fixture();
    let s = snap.scan(&lines);
    let week15 = MONDAY + 7 * 15;
    let found: Vec<_> = s.findings.iter().map(series_of).collect();
    assert_eq!(found, vec![series("hs6_origin", "930630", "RS", week15)]);
    let mut cells: BTreeMap<(&str, i32), f64> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.hs.starts_with("930630")) {
        *cells.entry((l.origin, (l.day - MONDAY) / 7)).or_default() += l.quantity;
    }
    let amounts: Vec<f64> = cells.values().copied().collect();
    let t = ln_stats(&amounts);
    assert_eq!((t.n, t.median.exp().round()), (44, 4000.0));
    let z = (12_000f64.ln() - t.median) / robust_scale(&t);
    let f = &s.findings[0];
    assert_close(f.number("observed"), 12_000.0, "observed");
    assert_close(f.number("baseline_median"), t.median.exp(), "median");
    assert_close(f.number("baseline_mad"), t.mad, "mad");
    // The score: the amount's z calibrated for 44 cells, and how rare a new origin is
    // here (RS and US in the 7 weeks after the burn-in: P = 1 - exp(-2/7)), combined by
    // Fisher's method (chi-square with 4 degrees of freedom).
    let normal = statrs::distribution::Normal::new(0.0, 1.0).unwrap();
    use statrs::distribution::ContinuousCDF;
    let (p_amount, p_rare) = (normal.sf(calibrated(z, 44)), -(-2.0f64 / 7.0).exp_m1());
    let half_x = -(p_amount.ln() + p_rare.ln());
    let p = (-half_x).exp() * (1.0 + half_x);
    assert_close(f.number("score"), -normal.inverse_cdf(p), "score");
    assert_eq!(f.group_size(), t.n);
    assert_eq!(
        f.text("explanation"),
        format!(
            "first line of origin RS for hs6 930630 (in a watched family: salw_ammunition), \
             quantity 12000 in 2 lines in the week of {}, after 15 weeks of data without one; \
             the median of the hs6's 44 non-zero hs6+origin cells is 4000",
            ymd(week15)
        )
    );
    let v = &s.manifest["volume"];
    // DE, CZ and TR first appear in the burn-in; US is below the median cell.
    assert_eq!(
        v["first_appearances_in_burn_in"],
        serde_json::json!({"new-origin": 3})
    );
    assert_eq!(
        v["first_appearances_below_min_amount"],
        serde_json::json!({"new-origin": 1})
    );
    snap.check(&s);
}

// --- V04 split-shipment ----------------------------------------------------------------

/// Thresholds: 1000 (quantity) for 3102.30, 500 for 2847; band 20%, 3 lines a day.
const SPLIT_CONFIG: &str = "[[detectors.split-shipment.thresholds]]\n\
                            hs = \"3102.30\"\n\
                            amount = 1000\n\
                            \n\
                            [[detectors.split-shipment.thresholds]]\n\
                            hs = \"2847\"\n\
                            amount = 500\n";

/// Monday 2025-06-02.
const SPLIT_DAY: i32 = 20_241;

/// On Monday 2025-06-02 and the two days after:
/// - SPLITTER: 4 lines of 900-990 (two national codes of 310230) on one day: a finding;
/// - EDGE: 800, 800, 999 on one day (800 is the band's inclusive lower end): a finding;
/// - PEROXIDE-CO: 4 lines of 420-499 of hydrogen peroxide on one day: a finding;
/// - PAIR: 2 lines just under (too few); SMALL: 3 lines of 100 (far under);
///   AT-LIMIT: 3 lines of exactly 1000 (not under); SPREAD: 950 on three days;
///   REGULAR: 5000 a week (over); OTHER: 3 x 950 of a code without a threshold.
fn v04_fixture() -> Vec<Line> {
    let (an, an2, hp, veg) = ("3102300000", "3102301000", "2847000000", "0710809590");
    let d = SPLIT_DAY;
    let rows: Vec<(&'static str, &'static str, i32, f64)> = vec![
        ("REGULAR", an, d - 14, 5000.0),
        ("REGULAR", an, d - 7, 5000.0),
        ("REGULAR", an, d, 5000.0),
        ("SPLITTER", an, d, 950.0),
        ("SPLITTER", an, d, 990.0),
        ("SPLITTER", an2, d, 900.0),
        ("SPLITTER", an, d, 960.0),
        ("EDGE", an, d, 800.0),
        ("EDGE", an, d, 800.0),
        ("EDGE", an, d, 999.0),
        ("PAIR", an, d, 980.0),
        ("PAIR", an, d, 970.0),
        ("SMALL", an, d, 100.0),
        ("SMALL", an, d, 100.0),
        ("SMALL", an, d, 100.0),
        ("AT-LIMIT", an, d, 1000.0),
        ("AT-LIMIT", an, d, 1000.0),
        ("AT-LIMIT", an, d, 1000.0),
        ("SPREAD", an, d, 950.0),
        ("SPREAD", an, d + 1, 950.0),
        ("SPREAD", an, d + 2, 950.0),
        ("PEROXIDE-CO", hp, d + 1, 450.0),
        ("PEROXIDE-CO", hp, d + 1, 480.0),
        ("PEROXIDE-CO", hp, d + 1, 499.0),
        ("PEROXIDE-CO", hp, d + 1, 420.0),
        ("OTHER", veg, d, 950.0),
        ("OTHER", veg, d, 950.0),
        ("OTHER", veg, d, 950.0),
    ];
    rows.into_iter()
        .enumerate()
        .map(|(i, (who, hs, day, q))| vline(format!("S-{i:02}"), day, (who, "NL"), hs, q))
        .collect()
}

#[test]
fn v04_split_shipment() {
    let snap = Snapshot {
        id: "V04",
        name: "split-shipment",
        config: Some(SPLIT_CONFIG),
        manifest_keys: VOLUME_KEYS,
    };
    let lines = v04_fixture();
    let s = snap.scan(&lines);
    // The naive grouping: candidates in [0.8 t, t), by importer, hs6 and day; groups of
    // at least 3 adding up to at least t.
    let thresholds = [("310230", 1000.0), ("2847", 500.0)];
    let mut groups: BTreeMap<(&str, &str, i32), (usize, f64, f64)> = BTreeMap::new();
    let mut candidates = 0;
    for l in &lines {
        for (prefix, t) in thresholds {
            if l.hs.starts_with(prefix) && l.quantity < t && l.quantity >= t * 0.8 {
                candidates += 1;
                let g = groups.entry((l.importer, &l.hs[..6], l.day)).or_default();
                (g.0, g.1, g.2) = (g.0 + 1, g.1 + l.quantity, t);
            }
        }
    }
    let want: BTreeMap<(&str, &str, i32), (usize, f64, f64)> = groups
        .into_iter()
        .filter(|(_, g)| g.0 >= 3 && g.1 >= g.2)
        .collect();
    assert_eq!(
        want.keys().map(|k| k.0).collect::<BTreeSet<_>>(),
        BTreeSet::from(["EDGE", "PEROXIDE-CO", "SPLITTER"])
    );
    assert_eq!(s.findings.len(), want.len());
    for ((who, hs6, day), (n, total, t)) in &want {
        let f = s
            .findings
            .iter()
            .find(|f| f.opt_text("importer_id") == Some(who))
            .unwrap_or_else(|| panic!("no finding for {who}"));
        assert_eq!(
            series_of(f),
            series("hs6_importer", hs6, who, *day),
            "{who}"
        );
        assert_eq!(f.text("period"), "day");
        assert_eq!(f.group_size(), *n as u64);
        assert_close(f.number("observed"), *total, "total");
        assert_close(f.number("baseline_median"), *t, "threshold");
        assert_close(f.number("score"), 3.5 * *n as f64 / 3.0, "score");
        assert_eq!(
            f.text("explanation"),
            format!(
                "importer {who} declared {n} lines of hs6 {hs6} in the day of {}, each within \
                 20% under the threshold {} and together {} ({:.1}x the threshold)",
                ymd(*day),
                sig4(*t),
                sig4(*total),
                total / t
            )
        );
    }
    let v = &s.manifest["volume"];
    assert_eq!(v["split_thresholds"], 2);
    assert_eq!(v["split_candidate_lines"], candidates);
    assert_eq!(candidates, 16);
    snap.check(&s);
}
