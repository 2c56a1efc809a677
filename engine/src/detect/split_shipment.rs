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

use crate::error::{Error, Result};
use crate::kernels::codes::HsCode;
use crate::volume::cells::SplitThreshold;

use super::first_time_importer::NOVELTY_BASE_SCORE;

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
