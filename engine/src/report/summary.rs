use std::collections::BTreeMap;

use serde::Serialize;

/// Where a data-quality issue was first seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssueExample {
    /// File.
    pub file: String,
    /// Row group in the file.
    pub row_group: usize,
    /// Row inside the row group.
    pub row: u64,
    /// Canonical column concerned.
    pub column: String,
}

/// One input file as the run record lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InputRecord {
    /// Path as given (or found under a given folder).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// XXH3-128 of the file's bytes.
    pub fingerprint: String,
    /// Rows in the file.
    pub rows: u64,
    /// Row groups in the file.
    pub row_groups: u64,
}

/// An output file as the run record lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputRecord {
    /// File name in the output folder.
    pub file: String,
    /// Rows (findings) in it.
    pub rows: u64,
    /// XXH3-128 of its bytes.
    pub fingerprint: String,
}

/// How a run was executed: settings that do not change its results.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Execution {
    /// Worker threads.
    pub threads: usize,
    /// Rows per decoded batch.
    pub batch_size: usize,
}

/// The run record written as `manifest.json`. Everything but `execution` and
/// `timings_ms` is deterministic for a given input and configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Version of this record's layout.
    pub manifest_version: u32,
    /// `tradescan <version>`.
    pub tool: String,
    /// Every input file read, in path order, with its fingerprint.
    pub inputs: Vec<InputRecord>,
    /// The output files, with their fingerprints.
    pub outputs: Vec<OutputRecord>,
    /// Id of the stored baseline scored against (`scan --baseline`), if any.
    pub baseline: Option<String>,
    /// XXH3-128 of the resolved configuration (`config`).
    pub config_hash: String,
    /// Input files read.
    pub files: u64,
    /// Bytes of the input files.
    pub bytes: u64,
    /// Row groups in the input files.
    pub row_groups: u64,
    /// Row groups skipped by date statistics.
    pub row_groups_pruned: u64,
    /// Input files left out by `--keep-going`, with the error (their rows, when known,
    /// are in `rows_total` and skipped as `unreadable_input`).
    pub inputs_skipped: Vec<crate::scan::SkippedInput>,
    /// Rows in the input files (including pruned row groups).
    pub rows_total: u64,
    /// Rows decoded.
    pub rows_read: u64,
    /// Rows judged by at least one detector.
    pub rows_scored: u64,
    /// Rows not scored, by reason (data problems, date window, group too small).
    pub rows_skipped: BTreeMap<String, u64>,
    /// Lines that were scored but carry a data-quality note (`unknown_unit`,
    /// `missing_date`), by note.
    pub data_quality: BTreeMap<String, u64>,
    /// First occurrence of each data-quality reason or note.
    pub first_seen: BTreeMap<String, IssueExample>,
    /// Lines not judged by a detector because their group had no spread, by detector.
    pub no_spread: BTreeMap<String, u64>,
    /// Fallback-level flags withdrawn because the line is close to the median of its
    /// own smaller group (`price.local_min_group_size`), by detector.
    pub withdrawn_by_local_check: BTreeMap<String, u64>,
    /// Resolved comparison groups per fallback level (unit-value baselines).
    pub groups_per_level: BTreeMap<String, u64>,
    /// Scored lines per fallback level (unit-value baselines).
    pub lines_per_level: BTreeMap<String, u64>,
    /// Comparison groups with several price tiers per fallback level (`[price.tiers]`):
    /// their lines are judged against their nearest tier.
    pub tiered_groups_per_level: BTreeMap<String, u64>,
    /// Scored lines of such groups per fallback level.
    pub tiered_lines_per_level: BTreeMap<String, u64>,
    /// Number of findings.
    pub findings: u64,
    /// Distinct lines with at least one (line) finding.
    pub lines_flagged: u64,
    /// Findings per detector.
    pub findings_by_detector: BTreeMap<String, u64>,
    /// Findings per watch family (`none` for lines in no watched family).
    pub findings_by_watch_family: BTreeMap<String, u64>,
    /// Line findings per fallback level.
    pub findings_by_level: BTreeMap<String, u64>,
    /// The volume pass: series, guards, periods (absent when no volume detector ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeSummary>,
    /// The inspection budget applied (`--budget`), if any.
    pub budget: Option<BudgetRecord>,
    /// Findings per volume series key (`hs6_importer`, ...).
    pub findings_by_series_key: BTreeMap<String, u64>,
    /// The resolved configuration (TOML).
    pub config: String,
    /// Threads and batch size of this run.
    pub execution: Execution,
    /// Wall time per stage, milliseconds.
    pub timings_ms: BTreeMap<String, u64>,
}

/// The volume part of the run record (`manifest.json`, key `volume`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct VolumeSummary {
    /// `week` or `month`.
    pub period: String,
    /// The amount measure.
    pub measure: String,
    /// Volume detectors run.
    pub detectors: Vec<String>,
    /// First day of the first period.
    pub first_period: Option<String>,
    /// First day of the last period.
    pub last_period: Option<String>,
    /// Periods in the data range (every series has this many).
    pub periods: u64,
    /// Whether the data starts after the first period's first day.
    pub partial_first_period: bool,
    /// Whether the data ends before the last period's last day (drops are not judged
    /// there).
    pub partial_last_period: bool,
    /// Lines placed in a series.
    pub lines_used: u64,
    /// Lines that could not be placed in a series, by reason.
    pub lines_skipped: BTreeMap<String, u64>,
    /// Lines placed with a missing or negative amount (counted as 0).
    pub lines_without_measure: u64,
    /// Non-empty (series, period) cells of the data, summed over the key kinds.
    pub cells: u64,
    /// Series per key kind.
    pub series: BTreeMap<String, u64>,
    /// Panels (one per HS6 and key kind) stored dense.
    pub dense_panels: u64,
    /// Panels stored sparse.
    pub sparse_panels: u64,
    /// `surge`: series with at least one judged period.
    pub series_judged: u64,
    /// `surge`: series with no judged period, by reason.
    pub series_not_judged: BTreeMap<String, u64>,
    /// `surge`: periods judged.
    pub periods_judged: u64,
    /// `surge`: periods not judged, by guard.
    pub periods_not_judged: BTreeMap<String, u64>,
    /// `surge`: flags the seasonal comparison withdrew.
    pub withdrawn_by_season: u64,
    /// Findings folded into a more specific finding of the same event (`run::events`).
    pub folded_into_events: u64,
    /// `first-time-importer` / `new-origin`: first appearances inside the burn-in.
    pub first_appearances_in_burn_in: BTreeMap<String, u64>,
    /// `first-time-importer` / `new-origin`: first appearances below `min_amount`.
    pub first_appearances_below_min_amount: BTreeMap<String, u64>,
    /// `split-shipment`: configured thresholds.
    pub split_thresholds: u64,
    /// `split-shipment`: lines just under a threshold.
    pub split_candidate_lines: u64,
    /// Remarks on detectors that could not work (no thresholds, no importer column).
    pub notes: Vec<String>,
}

/// What the budget did (in the run record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetRecord {
    /// Items kept overall (or per group).
    pub budget: usize,
    /// The grouping (`office`), if any.
    pub per: Option<String>,
    /// Inspection items (lines, series findings) before the budget.
    pub items_before: u64,
    /// Items kept.
    pub items_kept: u64,
    /// Findings before the budget.
    pub findings_before: u64,
}
