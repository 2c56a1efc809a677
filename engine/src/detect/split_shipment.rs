//! `split-shipment` (V04): one consignment declared as many lines just under a threshold.
//!
//! **What it detects.** Structuring: an importer who splits a quantity that would need
//! a licence, a declaration to a competent authority or a closer check into several
//! lines or declarations that each stay just under the threshold (for example
//! explosive precursors split into lots under a reporting quantity).
//!
//! **Method.** Thresholds are configured per HS prefix, in the volume measure
//! (`[volume] measure`, quantity by default). A line is a candidate when its HS code
//! starts with the prefix and its amount is in `[threshold * (1 - band), threshold)`.
//! Candidates are grouped by importer, HS6, threshold and `window` (the acceptance day,
//! or its ISO week); a group of at least `min_lines` candidates whose amounts add up to
//! at least the threshold is reported (series key `hs6_importer`, period `day` or
//! `week`; `observed` is the group's total, `baseline_median` the threshold).
//!
//! **Score.** `3.5 * lines / min_lines`: more lines just under the threshold, more
//! evidence of splitting.
//!
//! **Parameters.** `thresholds` (a list of `{ hs = "310230", amount = 1000.0 }`;
//! **none by default**: thresholds come from the law the unit enforces, so the detector
//! does nothing until they are configured, and `manifest.json` says so), `band` 0.2,
//! `min_lines` 3, `window` `day` (or `week`).
//!
//! **Known false positives.** Goods sold in standard lots just under a round number
//! (a 950 kg pallet size), regular daily deliveries to a large plant.

use serde::{Deserialize, Serialize};

use super::DetectorKind;
use super::novelty::NOVELTY_BASE_SCORE;
use super::series::SeriesContext;
use crate::error::{Error, Result};
use crate::kernels::codes::HsCode;
use crate::kernels::dates::format_ymd;
use crate::report::{Finding, sig};
use crate::series::cells::{CellAgg, SplitLine, SplitThreshold};
use crate::series::{PeriodKind, SeriesKind, period_id, period_start};

/// One configured threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// HS prefix (2 to 12 digits; dots and spaces ignored).
    pub hs: String,
    /// Threshold amount, in the volume measure.
    pub amount: f64,
}

/// Grouping window of split-shipment candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitWindow {
    /// The acceptance day.
    #[default]
    Day,
    /// The ISO week of the acceptance day.
    Week,
}

impl SplitWindow {
    /// Value of the findings' `period` column.
    pub fn name(self) -> &'static str {
        match self {
            SplitWindow::Day => "day",
            SplitWindow::Week => "week",
        }
    }
}

/// Parameters of `split-shipment` (`[detectors.split-shipment]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SplitShipmentConfig {
    /// Thresholds by HS prefix.
    pub thresholds: Vec<ThresholdSpec>,
    /// How far under a threshold a line may be and still count.
    pub band: f64,
    /// Candidate lines needed in one window.
    pub min_lines: usize,
    /// Grouping window.
    pub window: SplitWindow,
}

impl Default for SplitShipmentConfig {
    fn default() -> Self {
        SplitShipmentConfig {
            thresholds: Vec::new(),
            band: 0.2,
            min_lines: 3,
            window: SplitWindow::Day,
        }
    }
}

impl SplitShipmentConfig {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        self.parsed()?;
        if !(self.band > 0.0 && self.band < 1.0) {
            return Err(Error::config(
                "detectors.split-shipment.band must be between 0 and 1",
            ));
        }
        if self.min_lines < 2 {
            return Err(Error::config(
                "detectors.split-shipment.min_lines must be at least 2",
            ));
        }
        Ok(())
    }

    /// The thresholds with their prefixes parsed.
    pub fn parsed(&self) -> Result<Vec<SplitThreshold>> {
        self.thresholds
            .iter()
            .map(|t| {
                let digits: String = t.hs.chars().filter(char::is_ascii_digit).collect();
                let prefix = match digits.len() {
                    2 | 3 => HsCode::parse(&format!("{digits}00")).map(|c| c.prefix(2)),
                    _ => HsCode::parse(&digits),
                };
                match prefix {
                    Some(prefix) if t.amount.is_finite() && t.amount > 0.0 => Ok(SplitThreshold {
                        prefix,
                        amount: t.amount,
                    }),
                    _ => Err(Error::config(format!(
                        "detectors.split-shipment.thresholds: `{}` with amount {} is not an HS \
                         prefix of 2-12 digits with a positive amount",
                        t.hs, t.amount
                    ))),
                }
            })
            .collect()
    }
}

/// Score of a split group of `lines` candidates.
pub fn split_score(lines: usize, min_lines: usize) -> f64 {
    NOVELTY_BASE_SCORE * lines as f64 / min_lines.max(1) as f64
}

/// The split-shipment detector with its thresholds parsed.
#[derive(Debug, Clone)]
pub struct SplitShipment {
    /// Thresholds by HS prefix (empty: nothing is judged).
    pub thresholds: Vec<SplitThreshold>,
    /// How far under a threshold a line may be and still count.
    pub band: f64,
    min_lines: usize,
    window: SplitWindow,
}

impl SplitShipment {
    /// Resolve the configured parameters.
    pub fn resolve(c: &SplitShipmentConfig) -> Result<SplitShipment> {
        Ok(SplitShipment {
            thresholds: c.parsed()?,
            band: c.band,
            min_lines: c.min_lines,
            window: c.window,
        })
    }

    /// Group the candidate lines (the measure pass picks them) by importer, HS6,
    /// threshold and window, and report the groups that add up. With `restrict` (the
    /// `--watch` mask), only HS6 codes in those families.
    pub fn findings(
        &self,
        lines: &[SplitLine],
        ctx: &SeriesContext<'_>,
        restrict: u64,
        findings: &mut Vec<Finding>,
    ) {
        let window = |day: i32| match self.window {
            SplitWindow::Day => day,
            SplitWindow::Week => period_start(PeriodKind::Week, period_id(PeriodKind::Week, day)),
        };
        let mut sorted: Vec<(u32, u64, u16, i32, f64)> = lines
            .iter()
            .map(|l| (l.importer, l.hs6, l.threshold, window(l.day), l.amount))
            .collect();
        sorted.sort_by_key(|a| (a.0, a.1, a.2, a.3));
        let mut at = 0;
        while at < sorted.len() {
            let key = (sorted[at].0, sorted[at].1, sorted[at].2, sorted[at].3);
            let end = at + sorted[at..].partition_point(|l| (l.0, l.1, l.2, l.3) == key);
            let group = &sorted[at..end];
            at = end;
            if restrict != 0 && ctx.watch.mask_of(HsCode(key.1)) & restrict == 0 {
                continue;
            }
            let threshold = self.thresholds[key.2 as usize].amount;
            let total: f64 = group.iter().map(|l| l.4).sum();
            if group.len() < self.min_lines || total < threshold {
                continue;
            }
            findings.push(self.finding(ctx, key.0, key.1, key.3, group.len(), total, threshold));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        ctx: &SeriesContext<'_>,
        importer: u32,
        hs6: u64,
        start: i32,
        lines: usize,
        total: f64,
        threshold: f64,
    ) -> Finding {
        let period = self.window.name();
        let agg = CellAgg::default();
        let mut out = ctx.base(
            DetectorKind::SplitShipment,
            hs6,
            SeriesKind::Importer,
            u64::from(importer),
            start,
            period,
            total,
            &agg,
        );
        out.customs_value = None;
        out.baseline_median = threshold;
        out.group_size = lines as u64;
        out.score = split_score(lines, self.min_lines);
        out.explanation = format!(
            "importer {} declared {lines} lines of hs6 {} in the {period} of {}, each within \
             {:.0}% under the threshold {} and together {} ({:.1}x the threshold)",
            out.importer_id.as_deref().unwrap_or(""),
            out.hs6,
            format_ymd(start),
            self.band * 100.0,
            sig(threshold),
            sig(total),
            total / threshold
        );
        out
    }
}
