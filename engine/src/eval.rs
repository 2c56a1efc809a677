//! `tradescan eval`: score a scan's findings against ground truth.
//!
//! Inputs are a scan output (`findings.parquet`, `.csv` or `.jsonl`, and `manifest.json`
//! for the number of lines) and labels: the generator's `_labels/` folder, or any CSV of
//! line outcomes with the columns `declaration_id`, `line_no`, `label` (real inspection
//! results work the same way). [`evaluate_paths`] reads them and calls [`evaluate`],
//! which is pure; [`write_text`] renders the [`EvalReport`] as tables, and the report
//! serialises to JSON with a stable key order.
//!
//! # Line metrics
//!
//! A *line* is `(declaration_id, line_no)`. A line is *positive* when at least one label
//! row names it with a value that is not negative (`clean`, `none`, `negative`, `no`,
//! `false`, `0` or empty, case-insensitive: [`NEGATIVE_LABELS`]); negative rows are only
//! counted. A label with an empty `line_no` matches findings whose `line_no` is null.
//!
//! - **Line score**: the maximum score of the line's findings; for a detector's row,
//!   the maximum of that detector's findings only. A missing or NaN score ranks last.
//! - **Ranking**: flagged lines by score descending, ties broken by `declaration_id`
//!   then `line_no` ascending (null line first), so the result never depends on file
//!   order.
//! - **Inspection rates** 1%, 5% and 10% of `N`, the number of lines scanned
//!   (`rows_total` in `manifest.json`, or `--lines`): `k = ceil(rate * N)`, computed in
//!   integers. The *inspected* lines are the top `k` of the ranking, or all flagged lines
//!   when fewer are flagged.
//! - **precision@rate** = positives among inspected / inspected; null (`-` in the table)
//!   when nothing is inspected.
//! - **recall@rate** = positives among inspected / all positive lines in the labels;
//!   null when the labels have no positive line. Positives that were not scanned (other
//!   dates, other files) still count in the denominator.
//! - **AUC-PR** (average precision) = the sum, over positive lines in ranked order, of
//!   the precision at that line's rank, divided by all positive lines; a positive that
//!   is never flagged contributes 0. It is 1 when every positive is flagged and ranked
//!   above every negative.
//! - **Recall per label type**: per label value, the share of its lines with any finding
//!   (overall and per detector) and the share among the inspected lines at each rate
//!   (overall ranking). A line with two label values counts for each.
//!
//! # Series metrics
//!
//! Series findings (null `declaration_id`, non-null `series_key`) flag a period of a
//! series: `series_key` (`hs6_importer`, `hs6_origin`, `hs6_office`, `hs6`), `hs6`,
//! the key's `importer_id` / `origin` / `office`, and `period_start`. A series label is
//! *found* when a series finding has the same `series_key`, the same `hs6`, the label's
//! non-empty `importer_id`, `origin` and `office`, and the same `period_start`. Reported:
//! recall per series label type (overall and per detector), and per `series_key` (and
//! per detector and `series_key`): the distinct flagged series periods (`series_key`,
//! key fields, `period_start`), those matching a label, and the *false alarms* matching
//! none. Files without the series columns simply have no series findings; unknown
//! columns are ignored.
//!
//! ```no_run
//! # fn main() -> tradescan::Result<()> {
//! use tradescan::eval::{EvalOptions, evaluate_paths, write_text};
//! let report = evaluate_paths(&EvalOptions {
//!     findings: "out".into(),
//!     labels: "data/_labels".into(),
//!     lines: None,
//! })?;
//! write_text(&report, &mut std::io::stdout()).map_err(|e| tradescan::Error::io("stdout", e))?;
//! # Ok(()) }
//! ```

mod csv;
mod read;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::PathBuf;

use serde::Serialize;

use crate::error::Result;

pub use read::{
    NEGATIVE_LABELS, is_negative_label, locate_findings, read_findings, read_rows_total,
};

/// Inspection rates, in percent of the lines scanned.
pub const RATES_PERCENT: [u64; 3] = [1, 5, 10];

/// What `tradescan eval` reads.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// A scan output folder (`findings.parquet|csv|jsonl` and `manifest.json`), or a
    /// findings file (then `manifest.json` is looked for beside it).
    pub findings: PathBuf,
    /// A labels folder (`lines.csv` and/or `series.csv`) or one labels CSV file.
    pub labels: PathBuf,
    /// Number of lines scanned; overrides `rows_total` of `manifest.json`.
    pub lines: Option<u64>,
}

/// One finding as `eval` needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalFinding {
    /// Detector name.
    pub detector: String,
    /// Declaration id; null for series findings.
    pub declaration_id: Option<String>,
    /// Line number.
    pub line_no: Option<i64>,
    /// Score; a missing or NaN score is read as negative infinity.
    pub score: f64,
    /// The flagged series period, for series findings (non-null `series_key`).
    pub series: Option<SeriesId>,
}

/// A flagged series period: the series kind, its key fields and the period start.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesId {
    /// `hs6_importer`, `hs6_origin`, `hs6_office` or `hs6`.
    pub series_key: String,
    /// HS6 code.
    pub hs6: Option<String>,
    /// Importer, where part of the key.
    pub importer_id: Option<String>,
    /// Origin, where part of the key.
    pub origin: Option<String>,
    /// Office, where part of the key.
    pub office: Option<String>,
    /// First day of the period (days since 1970-01-01).
    pub period_start: Option<i32>,
}

/// One row of a line-labels file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineLabel {
    /// Declaration id.
    pub declaration_id: String,
    /// Line number; `None` matches findings with a null `line_no`.
    pub line_no: Option<i64>,
    /// Label value (anomaly type, or a negative value such as `clean`).
    pub label: String,
}

/// One row of a series-labels file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesLabel {
    /// Label value (`volume_surge`, ...).
    pub label: String,
    /// Series kind.
    pub series_key: String,
    /// HS6 code.
    pub hs6: String,
    /// Importer, when part of the key.
    pub importer_id: Option<String>,
    /// Origin, when part of the key.
    pub origin: Option<String>,
    /// Office, when part of the key.
    pub office: Option<String>,
    /// `week` or `month` (informational: matching uses `period_start`).
    pub period: Option<String>,
    /// First day of the period (days since 1970-01-01).
    pub period_start: i32,
}

impl SeriesLabel {
    /// Whether `id` flags this labelled series period (rule in the module docs).
    pub fn matches(&self, id: &SeriesId) -> bool {
        let same = |label: &Option<String>, found: &Option<String>| {
            label.is_none() || label.as_deref() == found.as_deref()
        };
        self.series_key == id.series_key
            && Some(self.hs6.as_str()) == id.hs6.as_deref()
            && same(&self.importer_id, &id.importer_id)
            && same(&self.origin, &id.origin)
            && same(&self.office, &id.office)
            && Some(self.period_start) == id.period_start
    }
}

/// Ground truth: line labels and series labels.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// Line label rows, positive and negative.
    pub lines: Vec<LineLabel>,
    /// Series label rows.
    pub series: Vec<SeriesLabel>,
}

/// Everything `eval` reports. Field order is the JSON key order; maps are sorted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvalReport {
    /// The findings file read (empty when built by [`evaluate`] alone).
    pub findings_file: String,
    /// The label files read.
    pub label_files: Vec<String>,
    /// Lines scanned, `N`.
    pub lines_total: u64,
    /// Where `N` came from: `manifest.json`, `--lines`, or `argument` (a direct call of
    /// [`evaluate`]).
    pub lines_total_source: String,
    /// Line findings read.
    pub line_findings: u64,
    /// Series findings read.
    pub series_findings: u64,
    /// Findings with neither a declaration id nor a series key: not evaluated.
    pub unidentified_findings: u64,
    /// Distinct positive lines in the labels.
    pub positive_lines: u64,
    /// Distinct lines labelled only negative.
    pub negative_lines: u64,
    /// Lines inspected at each rate: `k = ceil(rate * N)`.
    pub inspected_at: Vec<RateK>,
    /// All detectors together.
    pub overall: LineScores,
    /// Per detector with line findings.
    pub by_detector: BTreeMap<String, LineScores>,
    /// Recall per line label value.
    pub by_label: BTreeMap<String, LabelRecall>,
    /// Series labels and series findings.
    pub series: SeriesReport,
}

/// `k` for one inspection rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RateK {
    /// Rate in percent of `N`.
    pub rate_percent: u64,
    /// `ceil(rate * N)`.
    pub k: u64,
}

/// Precision and recall of one ranking of lines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineScores {
    /// Distinct lines with at least one finding.
    pub flagged_lines: u64,
    /// Positive lines among them.
    pub flagged_positives: u64,
    /// Precision and recall at each inspection rate.
    pub at: Vec<AtRate>,
    /// Average precision (AUC-PR); null without positive labels.
    pub average_precision: Option<f64>,
}

/// Precision and recall at one inspection rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AtRate {
    /// Rate in percent of `N`.
    pub rate_percent: u64,
    /// Lines inspected: `min(k, flagged lines)`.
    pub inspected: u64,
    /// Positive lines among them.
    pub positives: u64,
    /// `positives / inspected`; null when nothing is inspected.
    pub precision: Option<f64>,
    /// `positives / positive lines`; null without positive labels.
    pub recall: Option<f64>,
}

/// Recall of one line label value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelRecall {
    /// Lines with this label.
    pub lines: u64,
    /// Of those, lines with any finding.
    pub found: u64,
    /// `found / lines`.
    pub recall: f64,
    /// Recall among the inspected lines of the overall ranking, per rate.
    pub at: Vec<RateRecall>,
    /// Recall by any finding of each detector.
    pub by_detector: BTreeMap<String, Recall>,
}

/// Found count and recall at one rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateRecall {
    /// Rate in percent of `N`.
    pub rate_percent: u64,
    /// Labelled lines among the inspected.
    pub found: u64,
    /// `found / labelled lines`.
    pub recall: f64,
}

/// A found count and its share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recall {
    /// Found.
    pub found: u64,
    /// `found / total`.
    pub recall: f64,
}

/// Series results.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SeriesReport {
    /// Recall per series label value.
    pub by_label: BTreeMap<String, SeriesLabelRecall>,
    /// Flagged series periods per `series_key`, any detector.
    pub by_series_key: BTreeMap<String, SeriesFlags>,
    /// Flagged series periods per detector, then `series_key`.
    pub by_detector: BTreeMap<String, BTreeMap<String, SeriesFlags>>,
}

/// Recall of one series label value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesLabelRecall {
    /// Labelled series periods.
    pub labels: u64,
    /// Of those, found by any detector.
    pub found: u64,
    /// `found / labels`.
    pub recall: f64,
    /// Found per detector (detectors with series findings).
    pub by_detector: BTreeMap<String, Recall>,
}

/// Distinct flagged series periods and how many match a label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeriesFlags {
    /// Distinct flagged series periods (series key, key fields, period start).
    pub flagged: u64,
    /// Those matching at least one series label.
    pub matched: u64,
    /// Those matching none: `flagged - matched`.
    pub false_alarms: u64,
}

/// Read the scan output and labels named in `opts` and evaluate.
pub fn evaluate_paths(opts: &EvalOptions) -> Result<EvalReport> {
    let (findings_path, format) = locate_findings(&opts.findings)?;
    let (lines_total, source) = match opts.lines {
        Some(n) => (n, "--lines".to_string()),
        None => {
            let dir = findings_path
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            (
                read_rows_total(&dir.join("manifest.json"))?,
                "manifest.json".to_string(),
            )
        }
    };
    let labels = read::read_labels(&opts.labels)?;
    let findings = read_findings(&findings_path, format)?;
    let mut report = evaluate(
        &findings,
        &Labels {
            lines: labels.lines,
            series: labels.series,
        },
        lines_total,
    );
    report.findings_file = findings_path.display().to_string();
    report.label_files = labels
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    report.lines_total_source = source;
    Ok(report)
}

/// `ceil(percent * n / 100)` in integers.
fn k_at(percent: u64, n: u64) -> u64 {
    (u128::from(percent) * u128::from(n)).div_ceil(100) as u64
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Counts from one ranking of flagged lines.
struct Ranked {
    scores: LineScores,
    /// Per label type: lines with any finding in this ranking.
    found_by_type: Vec<u64>,
    /// Per rate, per label type: lines among the inspected.
    found_at: Vec<Vec<u64>>,
}

/// Score one ranking. `scores[i]` is line `i`'s score in it (`None`: not flagged);
/// line ids are in tie-break order. `types_of[i]` lists the label types of positive
/// line `i` (empty for other lines).
fn rank(
    scores: &[Option<f64>],
    types_of: &[Vec<usize>],
    n_types: usize,
    positives: u64,
    lines_total: u64,
) -> Ranked {
    let mut order: Vec<(f64, usize)> = scores
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (s, i)))
        .collect();
    // Score descending, then line id ascending (declaration id, line number).
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let ks: Vec<u64> = RATES_PERCENT
        .iter()
        .map(|&p| k_at(p, lines_total))
        .collect();
    let mut found_by_type = vec![0; n_types];
    let mut found_at = vec![vec![0; n_types]; ks.len()];
    let mut hits_at = vec![0u64; ks.len()];
    let mut hits = 0u64;
    let mut precision_sum = 0.0;
    for (rank0, &(_, line)) in order.iter().enumerate() {
        let types = &types_of[line];
        if types.is_empty() {
            continue;
        }
        hits += 1;
        precision_sum += hits as f64 / (rank0 + 1) as f64;
        for &t in types {
            found_by_type[t] += 1;
        }
        for (r, &k) in ks.iter().enumerate() {
            if (rank0 as u64) < k {
                hits_at[r] += 1;
                for &t in types {
                    found_at[r][t] += 1;
                }
            }
        }
    }
    let flagged = order.len() as u64;
    let at = RATES_PERCENT
        .iter()
        .zip(&ks)
        .zip(&hits_at)
        .map(|((&rate_percent, &k), &h)| {
            let inspected = k.min(flagged);
            AtRate {
                rate_percent,
                inspected,
                positives: h,
                precision: ratio(h, inspected),
                recall: ratio(h, positives),
            }
        })
        .collect();
    Ranked {
        scores: LineScores {
            flagged_lines: flagged,
            flagged_positives: hits,
            at,
            average_precision: (positives > 0).then(|| precision_sum / positives as f64),
        },
        found_by_type,
        found_at,
    }
}

/// Evaluate `findings` against `labels` for a scan of `lines_total` lines (metrics in
/// the module docs). Pure: the same inputs in any order give the same report.
pub fn evaluate(findings: &[EvalFinding], labels: &Labels, lines_total: u64) -> EvalReport {
    // ---- line findings: line ids in (declaration_id, line_no) order --------------------
    let mut line_ids: BTreeMap<(&str, Option<i64>), usize> = BTreeMap::new();
    let mut line_findings = Vec::new();
    let mut series_findings = Vec::new();
    let mut unidentified = 0u64;
    for f in findings {
        match (&f.series, &f.declaration_id) {
            (Some(id), _) => series_findings.push((f.detector.as_str(), id)),
            (None, Some(d)) => {
                line_ids.insert((d.as_str(), f.line_no), 0);
                line_findings.push(f);
            }
            (None, None) => unidentified += 1,
        }
    }
    for (i, id) in line_ids.values_mut().enumerate() {
        *id = i;
    }
    let n_lines = line_ids.len();
    let detectors: BTreeSet<&str> = line_findings.iter().map(|f| f.detector.as_str()).collect();
    let detectors: Vec<&str> = detectors.into_iter().collect();
    let mut overall: Vec<Option<f64>> = vec![None; n_lines];
    let mut per_detector: Vec<Vec<Option<f64>>> = vec![vec![None; n_lines]; detectors.len()];
    for f in &line_findings {
        let (Some(d), Some(&line)) = (
            detectors.binary_search(&f.detector.as_str()).ok(),
            f.declaration_id
                .as_deref()
                .and_then(|decl| line_ids.get(&(decl, f.line_no))),
        ) else {
            continue;
        };
        for slot in [&mut overall[line], &mut per_detector[d][line]] {
            *slot = Some(slot.map_or(f.score, |s| s.max(f.score)));
        }
    }

    // ---- line labels ------------------------------------------------------------------
    let mut positive: BTreeMap<(&str, Option<i64>), BTreeSet<&str>> = BTreeMap::new();
    let mut negative: BTreeSet<(&str, Option<i64>)> = BTreeSet::new();
    for l in &labels.lines {
        let key = (l.declaration_id.as_str(), l.line_no);
        if is_negative_label(&l.label) {
            negative.insert(key);
        } else {
            positive.entry(key).or_default().insert(l.label.trim());
        }
    }
    negative.retain(|k| !positive.contains_key(k));
    let types: Vec<&str> = positive
        .values()
        .flatten()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut lines_by_type = vec![0u64; types.len()];
    let mut types_of: Vec<Vec<usize>> = vec![Vec::new(); n_lines];
    for (key, ts) in &positive {
        let idx: Vec<usize> = ts
            .iter()
            .filter_map(|t| types.binary_search(t).ok())
            .collect();
        for &t in &idx {
            lines_by_type[t] += 1;
        }
        if let Some(&line) = line_ids.get(key) {
            types_of[line] = idx;
        }
    }
    let positives = positive.len() as u64;

    // ---- rankings -----------------------------------------------------------------------
    let all = rank(&overall, &types_of, types.len(), positives, lines_total);
    let each: Vec<Ranked> = per_detector
        .iter()
        .map(|s| rank(s, &types_of, types.len(), positives, lines_total))
        .collect();
    let share = |num: u64, den: u64| ratio(num, den).unwrap_or(0.0);
    let by_label = types
        .iter()
        .enumerate()
        .map(|(t, name)| {
            let n = lines_by_type[t];
            let recall = LabelRecall {
                lines: n,
                found: all.found_by_type[t],
                recall: share(all.found_by_type[t], n),
                at: RATES_PERCENT
                    .iter()
                    .zip(&all.found_at)
                    .map(|(&rate_percent, found)| RateRecall {
                        rate_percent,
                        found: found[t],
                        recall: share(found[t], n),
                    })
                    .collect(),
                by_detector: detectors
                    .iter()
                    .zip(&each)
                    .map(|(d, r)| {
                        let found = r.found_by_type[t];
                        (
                            d.to_string(),
                            Recall {
                                found,
                                recall: share(found, n),
                            },
                        )
                    })
                    .collect(),
            };
            (name.to_string(), recall)
        })
        .collect();

    EvalReport {
        findings_file: String::new(),
        label_files: Vec::new(),
        lines_total,
        lines_total_source: "argument".to_string(),
        line_findings: line_findings.len() as u64,
        series_findings: series_findings.len() as u64,
        unidentified_findings: unidentified,
        positive_lines: positives,
        negative_lines: negative.len() as u64,
        inspected_at: RATES_PERCENT
            .iter()
            .map(|&p| RateK {
                rate_percent: p,
                k: k_at(p, lines_total),
            })
            .collect(),
        overall: all.scores,
        by_detector: detectors
            .iter()
            .zip(each)
            .map(|(d, r)| (d.to_string(), r.scores))
            .collect(),
        by_label,
        series: evaluate_series(&series_findings, &labels.series),
    }
}

/// Series recall and false alarms (rules in the module docs).
fn evaluate_series(findings: &[(&str, &SeriesId)], labels: &[SeriesLabel]) -> SeriesReport {
    // Candidate labels by (series_key, hs6, period_start); the optional key fields are
    // checked by `SeriesLabel::matches`.
    let mut candidates: BTreeMap<(&str, &str, i32), Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        candidates
            .entry((l.series_key.as_str(), l.hs6.as_str(), l.period_start))
            .or_default()
            .push(i);
    }
    let matching = |id: &SeriesId| -> Vec<usize> {
        let (Some(hs6), Some(start)) = (id.hs6.as_deref(), id.period_start) else {
            return Vec::new();
        };
        candidates
            .get(&(id.series_key.as_str(), hs6, start))
            .map(|c| {
                c.iter()
                    .copied()
                    .filter(|&i| labels[i].matches(id))
                    .collect()
            })
            .unwrap_or_default()
    };

    let distinct: BTreeSet<(&str, &SeriesId)> = findings.iter().copied().collect();
    let mut found_by: BTreeMap<&str, BTreeSet<usize>> = BTreeMap::new();
    let mut by_detector: BTreeMap<String, BTreeMap<String, SeriesFlags>> = BTreeMap::new();
    let mut by_series_key: BTreeMap<String, SeriesFlags> = BTreeMap::new();
    let mut overall_seen: BTreeSet<&SeriesId> = BTreeSet::new();
    for (detector, id) in distinct {
        let matched = matching(id);
        let count = |flags: &mut SeriesFlags| {
            flags.flagged += 1;
            if matched.is_empty() {
                flags.false_alarms += 1;
            } else {
                flags.matched += 1;
            }
        };
        count(
            by_detector
                .entry(detector.to_string())
                .or_default()
                .entry(id.series_key.clone())
                .or_default(),
        );
        if overall_seen.insert(id) {
            count(by_series_key.entry(id.series_key.clone()).or_default());
        }
        found_by.entry(detector).or_default().extend(matched);
    }
    let found_any: BTreeSet<usize> = found_by.values().flatten().copied().collect();

    let mut by_label: BTreeMap<String, SeriesLabelRecall> = BTreeMap::new();
    for (i, l) in labels.iter().enumerate() {
        if is_negative_label(&l.label) {
            continue;
        }
        let e = by_label
            .entry(l.label.trim().to_string())
            .or_insert_with(|| SeriesLabelRecall {
                labels: 0,
                found: 0,
                recall: 0.0,
                by_detector: found_by
                    .keys()
                    .map(|d| {
                        (
                            d.to_string(),
                            Recall {
                                found: 0,
                                recall: 0.0,
                            },
                        )
                    })
                    .collect(),
            });
        e.labels += 1;
        e.found += u64::from(found_any.contains(&i));
        for (d, set) in &found_by {
            if let Some(r) = e.by_detector.get_mut(*d) {
                r.found += u64::from(set.contains(&i));
            }
        }
    }
    for e in by_label.values_mut() {
        let n = e.labels;
        e.recall = ratio(e.found, n).unwrap_or(0.0);
        for r in e.by_detector.values_mut() {
            r.recall = ratio(r.found, n).unwrap_or(0.0);
        }
    }
    SeriesReport {
        by_label,
        by_series_key,
        by_detector,
    }
}

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
    for rate in RATES_PERCENT {
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
        for rate in RATES_PERCENT {
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
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::kernels::dates::parse_ymd;

    fn line(detector: &str, decl: &str, line_no: i64, score: f64) -> EvalFinding {
        EvalFinding {
            detector: detector.into(),
            declaration_id: Some(decl.into()),
            line_no: Some(line_no),
            score,
            series: None,
        }
    }

    fn series(detector: &str, importer: &str, start: &str, score: f64) -> EvalFinding {
        EvalFinding {
            detector: detector.into(),
            declaration_id: None,
            line_no: None,
            score,
            series: Some(SeriesId {
                series_key: "hs6_importer".into(),
                hs6: Some("300490".into()),
                importer_id: Some(importer.into()),
                origin: None,
                office: None,
                period_start: parse_ymd(start),
            }),
        }
    }

    fn label(decl: &str, line_no: i64, label: &str) -> LineLabel {
        LineLabel {
            declaration_id: decl.into(),
            line_no: Some(line_no),
            label: label.into(),
        }
    }

    fn series_label(label: &str, importer: &str, start: &str) -> SeriesLabel {
        SeriesLabel {
            label: label.into(),
            series_key: "hs6_importer".into(),
            hs6: "300490".into(),
            importer_id: Some(importer.into()),
            origin: None,
            office: None,
            period: Some("week".into()),
            period_start: parse_ymd(start).unwrap(),
        }
    }

    fn close(a: Option<f64>, b: f64) {
        let a = a.expect("a value");
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    /// The hand-computed case. N = 100 lines, so k = 1, 5 and 10 at 1%, 5%, 10%.
    ///
    /// Findings (line score = max over its findings):
    ///
    /// | line | robust-z | iqr-fence | line score | label |
    /// |---|---|---|---|---|
    /// | D1/1 | 9 | 4 | 9 | under_valuation |
    /// | D2/1 | 7 |   | 7 | clean (negative) |
    /// | D3/1 |   | 5 | 5 | under_valuation |
    /// | D4/1 | 5 |   | 5 | - |
    /// | D5/1 |   | 3 | 3 | - |
    /// | D6/1 | 2 | 3 | 3 | wrong_unit |
    /// | D9/1 |   |   | never flagged | wrong_unit |
    ///
    /// Positive lines P = 4 (D1, D3, D6, D9). Ties D3/D4 (5) and D5/D6 (3) break by
    /// declaration id, so the overall ranking is D1+ D2- D3+ D4- D5- D6+.
    fn case() -> (Vec<EvalFinding>, Labels) {
        let findings = vec![
            // Input order is deliberately not the ranking order.
            line("robust-z", "D6", 1, 2.0),
            line("iqr-fence", "D5", 1, 3.0),
            line("robust-z", "D4", 1, 5.0),
            line("iqr-fence", "D3", 1, 5.0),
            line("robust-z", "D2", 1, 7.0),
            line("iqr-fence", "D1", 1, 4.0),
            line("robust-z", "D1", 1, 9.0),
            line("iqr-fence", "D6", 1, 3.0),
            // Series: the labelled IM1 week is found (twice: one distinct period);
            // the IM1 week after is a false alarm.
            series("volume-surge", "IM1", "2025-03-03", 6.0),
            series("volume-surge", "IM1", "2025-03-03", 6.5),
            series("volume-surge", "IM1", "2025-03-10", 4.0),
        ];
        let labels = Labels {
            lines: vec![
                label("D1", 1, "under_valuation"),
                label("D3", 1, "under_valuation"),
                label("D6", 1, "wrong_unit"),
                label("D9", 1, "wrong_unit"),
                label("D2", 1, "clean"),
            ],
            series: vec![
                series_label("volume_surge", "IM1", "2025-03-03"),
                series_label("volume_surge", "IM2", "2025-03-03"),
            ],
        };
        (findings, labels)
    }

    #[test]
    fn hand_computed_overall() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(r.positive_lines, 4);
        assert_eq!(r.negative_lines, 1);
        assert_eq!(r.line_findings, 8);
        assert_eq!(r.series_findings, 3);
        assert_eq!(
            r.inspected_at.iter().map(|x| x.k).collect::<Vec<_>>(),
            vec![1, 5, 10]
        );
        let o = &r.overall;
        assert_eq!(o.flagged_lines, 6);
        assert_eq!(o.flagged_positives, 3);
        // 1%: k = 1, inspected D1 -> 1 hit. P = 1/1, R = 1/4.
        assert_eq!((o.at[0].inspected, o.at[0].positives), (1, 1));
        close(o.at[0].precision, 1.0);
        close(o.at[0].recall, 0.25);
        // 5%: k = 5, inspected D1..D5 -> hits D1, D3. P = 2/5, R = 2/4.
        // (Had the tie D5/D6 broken the other way, D6 would be inside: 3 hits.)
        assert_eq!((o.at[1].inspected, o.at[1].positives), (5, 2));
        close(o.at[1].precision, 0.4);
        close(o.at[1].recall, 0.5);
        // 10%: k = 10 but only 6 flagged -> 6 inspected, hits D1, D3, D6. P = 3/6, R = 3/4.
        assert_eq!((o.at[2].inspected, o.at[2].positives), (6, 3));
        close(o.at[2].precision, 0.5);
        close(o.at[2].recall, 0.75);
        // AP: D1 at rank 1 -> 1/1, D3 at rank 3 -> 2/3, D6 at rank 6 -> 3/6, D9 never
        // flagged -> 0. (1 + 2/3 + 1/2) / 4 = 13/24 = 0.541666...
        close(o.average_precision, 13.0 / 24.0);
    }

    #[test]
    fn hand_computed_per_detector() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(
            r.by_detector.keys().collect::<Vec<_>>(),
            vec!["iqr-fence", "robust-z"]
        );
        // robust-z ranks D1(9)+ D2(7)- D4(5)- D6(2)+.
        let z = &r.by_detector["robust-z"];
        assert_eq!((z.flagged_lines, z.flagged_positives), (4, 2));
        close(z.at[0].precision, 1.0); // D1
        close(z.at[0].recall, 0.25);
        assert_eq!(z.at[1].inspected, 4); // k = 5 > 4 flagged
        close(z.at[1].precision, 0.5); // D1, D6 of 4
        close(z.at[1].recall, 0.5);
        close(z.at[2].precision, 0.5);
        close(z.at[2].recall, 0.5);
        // AP: 1/1 (D1) + 2/4 (D6 at rank 4) = 1.5; / 4 = 0.375.
        close(z.average_precision, 0.375);

        // iqr-fence ranks D3(5)+ D1(4)+ D5(3)- D6(3)+ (tie D5/D6 by declaration id).
        let q = &r.by_detector["iqr-fence"];
        assert_eq!((q.flagged_lines, q.flagged_positives), (4, 3));
        close(q.at[0].precision, 1.0); // D3
        close(q.at[0].recall, 0.25);
        close(q.at[1].precision, 0.75); // 3 of 4
        close(q.at[1].recall, 0.75);
        // AP: 1/1 + 2/2 + 3/4 = 2.75; / 4 = 0.6875.
        close(q.average_precision, 0.6875);
    }

    #[test]
    fn hand_computed_recall_per_label() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        assert_eq!(
            r.by_label.keys().collect::<Vec<_>>(),
            vec!["under_valuation", "wrong_unit"]
        );
        // under_valuation = {D1, D3}: both flagged. Ranks 1 and 3 overall: 1/2 at k = 1,
        // 2/2 at k = 5 and 10. robust-z flags D1 only; iqr-fence both.
        let u = &r.by_label["under_valuation"];
        assert_eq!((u.lines, u.found), (2, 2));
        let at: Vec<f64> = u.at.iter().map(|a| a.recall).collect();
        assert_eq!(at, vec![0.5, 1.0, 1.0]);
        assert_eq!(u.by_detector["robust-z"].recall, 0.5);
        assert_eq!(u.by_detector["iqr-fence"].recall, 1.0);
        // wrong_unit = {D6, D9}: D6 flagged (rank 6), D9 never. 0 at k = 1 and 5, 1/2 at
        // k = 10; both detectors flag D6.
        let w = &r.by_label["wrong_unit"];
        assert_eq!((w.lines, w.found), (2, 1));
        assert_eq!(w.recall, 0.5);
        let at: Vec<f64> = w.at.iter().map(|a| a.recall).collect();
        assert_eq!(at, vec![0.0, 0.0, 0.5]);
        assert_eq!(w.by_detector["robust-z"].recall, 0.5);
        assert_eq!(w.by_detector["iqr-fence"].recall, 0.5);
    }

    #[test]
    fn hand_computed_series() {
        let (findings, labels) = case();
        let r = evaluate(&findings, &labels, 100);
        // Labels: IM1 week of 2025-03-03 (found), IM2 same week (not found): recall 1/2.
        let v = &r.series.by_label["volume_surge"];
        assert_eq!((v.labels, v.found), (2, 1));
        assert_eq!(v.recall, 0.5);
        assert_eq!(v.by_detector["volume-surge"].found, 1);
        // Distinct flagged periods: IM1 03-03 (matched) and IM1 03-10 (false alarm).
        let want = SeriesFlags {
            flagged: 2,
            matched: 1,
            false_alarms: 1,
        };
        assert_eq!(r.series.by_series_key["hs6_importer"], want);
        assert_eq!(r.series.by_detector["volume-surge"]["hs6_importer"], want);
        // Series findings never enter the line rankings.
        assert!(!r.by_detector.contains_key("volume-surge"));
    }

    #[test]
    fn series_match_rule() {
        let l = series_label("volume_surge", "IM1", "2025-03-03");
        let (_, mut id) = match series("d", "IM1", "2025-03-03", 1.0).series {
            Some(id) => ((), id),
            None => unreachable!(),
        };
        assert!(l.matches(&id));
        // A key field the label leaves empty does not constrain the finding.
        id.origin = Some("CN".into());
        assert!(l.matches(&id));
        let mut other = id.clone();
        other.importer_id = Some("IM2".into());
        assert!(!l.matches(&other));
        let mut other = id.clone();
        other.series_key = "hs6_origin".into();
        assert!(!l.matches(&other));
        let mut other = id.clone();
        other.period_start = parse_ymd("2025-03-04");
        assert!(!l.matches(&other));
        let mut other = id;
        other.hs6 = Some("300491".into());
        assert!(!l.matches(&other));
    }

    #[test]
    fn order_of_findings_does_not_matter_and_edges() {
        let (mut findings, labels) = case();
        let a = evaluate(&findings, &labels, 100);
        findings.reverse();
        assert_eq!(evaluate(&findings, &labels, 100), a);

        // k rounds up: 1% of 150 lines is 2 lines.
        assert_eq!(k_at(1, 150), 2);
        assert_eq!(k_at(10, 0), 0);
        // No lines scanned: nothing inspected, precision null, recall 0.
        let r = evaluate(&findings, &labels, 0);
        assert_eq!(r.overall.at[0].inspected, 0);
        assert_eq!(r.overall.at[0].precision, None);
        assert_eq!(r.overall.at[0].recall, Some(0.0));
        // No labels: recall and AP null, precision 0.
        let r = evaluate(&findings, &Labels::default(), 100);
        assert_eq!(r.overall.average_precision, None);
        assert_eq!(r.overall.at[0].recall, None);
        assert_eq!(r.overall.at[0].precision, Some(0.0));
        // A line label with an empty line_no matches a finding with a null line_no.
        let f = vec![EvalFinding {
            line_no: None,
            ..line("robust-z", "D7", 0, 1.0)
        }];
        let l = Labels {
            lines: vec![LineLabel {
                declaration_id: "D7".into(),
                line_no: None,
                label: "x".into(),
            }],
            series: Vec::new(),
        };
        assert_eq!(evaluate(&f, &l, 10).overall.flagged_positives, 1);
    }

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
                "all", "6", "1.000", "0.250", "0.400", "0.500", "0.500", "0.750", "0.542"
            ]
        );
        assert_eq!(row("robust-z ")[8], "0.375");
        assert_eq!(
            row("wrong_unit"),
            vec![
                "wrong_unit",
                "2",
                "0.500",
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

    #[test]
    fn reads_a_findings_parquet_written_by_the_scanner() {
        use crate::report::{Finding, Format, write_findings};
        let dir = tempfile::tempdir().unwrap();
        let f = |decl: &str, score: f64| Finding {
            detector: "robust-z",
            detector_id: "P01",
            declaration_id: Some(decl.into()),
            line_no: Some(1),
            date: None,
            office: None,
            importer_id: Some("IM1".into()),
            origin: None,
            hs_code: "3004900000".into(),
            hs6: "300490".into(),
            unit: None,
            quantity: None,
            net_mass_kg: None,
            customs_value: None,
            measure: "value_per_kg",
            observed: 1.0,
            baseline_median: 1.0,
            baseline_mad: Some(0.1),
            baseline_q1: Some(1.0),
            baseline_q3: Some(1.0),
            group_level: "hs6+unit".into(),
            group_key: "k".into(),
            group_size: 30,
            score,
            direction: "low",
            value_gap: None,
            watch_family: None,
            series_key: None,
            period_start: None,
            period: None,
            history_len: None,
            explanation: "a, \"quoted\" sentence".into(),
            locator: (0, 0),
        };
        let findings = vec![f("D1", 9.0), f("D2", 4.0)];
        for format in [Format::Parquet, Format::Csv, Format::Jsonl] {
            let path = dir.path().join(format.file_name());
            let file = std::fs::File::create(&path).unwrap();
            write_findings(&findings, format, file).unwrap();
            let got = read_findings(&path, format).unwrap();
            assert_eq!(
                got,
                vec![
                    line("robust-z", "D1", 1, 9.0),
                    line("robust-z", "D2", 1, 4.0)
                ],
                "{format:?}"
            );
        }
    }
}
