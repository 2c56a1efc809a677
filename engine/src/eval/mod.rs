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
//! - **Line score**: the maximum `risk` of the line's findings (tradescan writes the
//!   line's risk on each; files without the column: the maximum score); for a
//!   detector's row, the maximum score of that detector's findings only. A missing or
//!   NaN score ranks last.
//! - **Ranking**: flagged lines by score descending, ties broken by `declaration_id`
//!   then `line_no` ascending (null line first), so the result never depends on file
//!   order.
//! - **Inspection rates** 0.5%, 1%, 5% and 10% of `N`, the number of lines scanned
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
//!   (overall ranking). A line with two label values counts for each. When the labels
//!   file has a `factor` column (the multiplier an anomaly applied, as the realistic
//!   generator writes it), lines whose factor is 5 or more either way are also reported
//!   under `<label>:factor>=5`.
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
mod findings;
#[cfg(test)]
mod fixtures;
mod labels;
mod lines;
mod model;
mod series;
mod text;

use std::path::PathBuf;

use crate::error::Result;

pub use findings::{locate_findings, read_findings, read_rows_total};
pub use lines::evaluate;
pub use model::{
    AtRate, EvalFinding, EvalReport, LabelRecall, Labels, LineLabel, LineScores, NEGATIVE_LABELS,
    RATES_PER_MILLE, RateK, RateRecall, Recall, SeriesFlags, SeriesId, SeriesLabel,
    SeriesLabelRecall, SeriesReport, is_negative_label,
};
pub use text::write_text;

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
    let labels = labels::read_labels(&opts.labels)?;
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
