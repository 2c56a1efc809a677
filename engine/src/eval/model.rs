//! What `eval` passes around: findings and labels as read, and the report with its
//! parts. They live apart from the code that fills them so that the readers, the metrics
//! and the text writer depend on this file and not on each other.

use std::collections::BTreeMap;

use serde::Serialize;

/// Inspection rates, in per mille of the lines scanned (0.5%, 1%, 5%, 10%).
pub const RATES_PER_MILLE: [u64; 4] = [5, 10, 50, 100];

/// A rate in per mille as the percentage reports print it.
pub fn percent(per_mille: u64) -> f64 {
    per_mille as f64 / 10.0
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
    /// The inspection item's risk (the `risk` column); the score when absent.
    pub risk: f64,
    /// The flagged series period, for series findings (non-null `series_key`).
    pub series: Option<SeriesId>,
    /// The series periods folded into this finding as the same event (detector,
    /// series), from the `corroborated_by` column.
    pub corroborations: Vec<(String, SeriesId)>,
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

/// Label values that mean "inspected, nothing found" (compared case-insensitively after
/// trimming); such rows are counted as negatives, never as positives.
pub const NEGATIVE_LABELS: [&str; 7] = ["", "clean", "none", "negative", "no", "false", "0"];

/// Whether a label value means a negative outcome ([`NEGATIVE_LABELS`]).
pub fn is_negative_label(label: &str) -> bool {
    let l = label.trim();
    NEGATIVE_LABELS.iter().any(|n| l.eq_ignore_ascii_case(n))
}

/// Whether a series label marks a known-benign event (a negative label, or one named
/// `benign_...`: a seasonal peak, a tariff-code change): a flag on it is a false
/// alarm, counted apart, and it has no recall.
pub fn is_benign_label(label: &str) -> bool {
    is_negative_label(label) || label.trim().starts_with("benign_")
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
    /// The findings file read (empty when built by [`evaluate`](super::evaluate) alone).
    pub findings_file: String,
    /// The label files read.
    pub label_files: Vec<String>,
    /// Lines scanned, `N`.
    pub lines_total: u64,
    /// Where `N` came from: `manifest.json`, `--lines`, or `argument` (a direct call of
    /// [`evaluate`](super::evaluate)).
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
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateK {
    /// Rate in percent of `N`.
    pub rate_percent: f64,
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
    pub rate_percent: f64,
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
    pub rate_percent: f64,
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
    /// Known-benign labelled events (`benign_...` labels) and how many were flagged.
    pub benign: BTreeMap<String, BenignFlags>,
}

/// How often the detectors flag one kind of known-benign event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BenignFlags {
    /// Labelled benign series periods.
    pub labels: u64,
    /// Of those, flagged by any detector (each a false alarm).
    pub flagged: u64,
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
    /// Those matching at least one (not benign) series label.
    pub matched: u64,
    /// Those matching none: `flagged - matched`.
    pub false_alarms: u64,
}

/// `num / den`; null when `den` is 0.
pub(super) fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}
