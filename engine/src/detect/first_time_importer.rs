//! `first-time-importer` (V02): an importer declares a watched good for the first time.
//!
//! **What it detects.** A trader with no earlier line in a watch family (explosive
//! precursors, arms and ammunition, dual-use goods by default) who now declares one:
//! a new buyer of ammonium nitrate, a company that never imported ammunition.
//!
//! **Method.** For each importer and each configured family, the first period in which
//! the importer has a line of an HS6 in that family. It is reported when that period
//! lies at least `burn_in` periods after the start of the data (before that, "first"
//! only means "first since the data starts"), the importer's amount of that HS6 in
//! that period is at least `min_amount` (in the volume measure) and at least
//! `min_ratio` times the median of the HS6's non-zero (importer, period) cells (a
//! first purchase smaller than what importers of the good typically declare in a
//! period is left out). One finding per HS6 the importer declares in its first period,
//! series key `hs6_importer`.
//!
//! **Score.** `3.5 + max(0, z)`, where `z` is the robust z of `ln(amount)` against the
//! ln amounts of all non-zero (importer, period) cells of the same HS6: every first-time
//! importer sits at the flag level, and a first purchase far larger than what importers
//! of that good usually declare in a period ranks higher. `baseline_median` and
//! `baseline_mad` are that distribution's median (natural scale) and MAD (ln scale).
//!
//! **Defaults.** `families = ["ied_precursors", "salw_ammunition", "dual_use"]`,
//! `burn_in` 13 weeks or 3 months, `min_amount` 0, `min_ratio` 1.
//!
//! **Known false positives.** Importers whose earlier purchases went through another
//! company id (mergers, a new EORI number), regular importers whose previous purchase
//! fell before the start of the data (use a longer history, or a stored baseline), and
//! HS6 codes in a family that are mostly harmless (the lists are over-inclusive).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::kernels::order_stats::OrderStats;
use crate::volume::PeriodKind;

use super::MAD_TO_SIGMA;

/// The flag level novelty scores start from.
pub const NOVELTY_BASE_SCORE: f64 = 3.5;

/// Parameters of `first-time-importer` and `new-origin`
/// (`[detectors.first-time-importer]`, `[detectors.new-origin]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoveltyConfig {
    /// Watch families whose goods are followed.
    pub families: Vec<String>,
    /// Periods from the start of the data before a first appearance counts.
    pub burn_in: Option<usize>,
    /// Smallest amount (volume measure) in the first period worth reporting.
    pub min_amount: f64,
    /// Smallest ratio of that amount to the median of the HS6's non-zero cells of the
    /// same key kind (the typical importer-period, or origin-period, amount).
    pub min_ratio: f64,
}

impl Default for NoveltyConfig {
    fn default() -> Self {
        NoveltyConfig {
            families: ["ied_precursors", "salw_ammunition", "dual_use"]
                .map(String::from)
                .to_vec(),
            burn_in: None,
            min_amount: 0.0,
            min_ratio: 1.0,
        }
    }
}

impl NoveltyConfig {
    /// Check the parameters.
    pub fn validate(&self, name: &str) -> Result<()> {
        if !(self.min_amount.is_finite() && self.min_amount >= 0.0) {
            return Err(Error::config(format!(
                "detectors.{name}.min_amount must be 0 or more"
            )));
        }
        if !(self.min_ratio.is_finite() && self.min_ratio >= 0.0) {
            return Err(Error::config(format!(
                "detectors.{name}.min_ratio must be 0 or more"
            )));
        }
        Ok(())
    }

    /// The burn-in for a period kind (13 weeks or 3 months unless set).
    pub fn burn_in(&self, period: PeriodKind) -> usize {
        self.burn_in.unwrap_or(match period {
            PeriodKind::Week => 13,
            PeriodKind::Month => 3,
        })
    }
}

/// Whether a first appearance of `amount` passes the amount thresholds, given the
/// ln-amount statistics of the HS6's cells of the same kind.
pub fn novelty_passes(c: &NoveltyConfig, amount: f64, typical: Option<&OrderStats>) -> bool {
    amount >= c.min_amount && typical.is_none_or(|t| amount >= c.min_ratio * t.median.exp())
}

/// Score of a first appearance with amount `amount`, against the ln amounts of the
/// HS6's other cells of the same key kind (`None`: no such cells).
pub fn novelty_score(amount: f64, typical: Option<&OrderStats>) -> f64 {
    let Some(t) = typical else {
        return NOVELTY_BASE_SCORE;
    };
    let scale = if t.mad > 0.0 {
        MAD_TO_SIGMA * t.mad
    } else {
        1.253_314 * t.mean_ad
    };
    let z = if scale > 0.0 && amount > 0.0 {
        (amount.ln() - t.median) / scale
    } else {
        0.0
    };
    NOVELTY_BASE_SCORE + z.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::order_stats::order_stats;

    #[test]
    fn large_first_purchases_rank_higher() {
        let mut ln: Vec<f64> = [10.0f64, 12.0, 9.0, 11.0, 10.0]
            .iter()
            .map(|v| v.ln())
            .collect();
        let stats = order_stats(&mut ln, &mut Vec::new());
        let small = novelty_score(5.0, stats.as_ref());
        let large = novelty_score(500.0, stats.as_ref());
        assert_eq!(small, NOVELTY_BASE_SCORE);
        assert!(large > small + 5.0);
        assert_eq!(novelty_score(500.0, None), NOVELTY_BASE_SCORE);
    }
}
