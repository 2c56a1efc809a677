//! `iqr-fence` (P02): a unit value outside its group's interquartile fences.
//!
//! **What it detects.** The price-filter method of the trade-based money-laundering
//! literature (Pak & Zdanowicz): prices outside the range that the bulk of comparable
//! trade declares, abnormally low (under-invoicing) or high (over-invoicing).
//!
//! **Method.** On `x = ln(unit value)` with the group's quartiles `Q1`, `Q3` and
//! `IQR = Q3 - Q1`, the line is outside the fences when `x < Q1 - k*IQR` or
//! `x > Q3 + k*IQR`. Its statistic is `z = |x - median| / (IQR / 1.349)`, the same
//! standard-deviation scale as `robust-z`, and its score that z calibrated for the
//! group's size (`kernels::tail`), so findings rank together. A line outside the
//! fences is flagged when its score is also above `min_score`: the quartiles of a small
//! group are uncertain, and its fences alone would flag many more lines than a large
//! group's. Groups with `IQR = 0` are not judged.
//!
//! **Parameters.** `k` (default 3.0, Tukey's "far out" fence; 1.5 gives the classic
//! inner fence and many more findings), `min_score` (default 3.5, the common
//! threshold of the price detectors), `calibrate` (default true; false: the score is z
//! itself).
//!
//! **Known false positives.** As `robust-z`; in addition, groups whose prices are
//! bimodal (two grades under one code) have a wide IQR and hide anomalies between the
//! modes, while very tight groups fence out harmless rounding differences.

use serde::{Deserialize, Serialize};

use super::scale::calibrated_flag;
use super::{Detector, DetectorKind, Direction, IQR_TO_SIGMA, Judgement, Measure};
use crate::kernels::order_stats::OrderStats;

/// Parameters of [`IqrFence`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IqrFenceConfig {
    /// Fence multiplier.
    pub k: f64,
    /// Smallest calibrated score a line outside the fences is flagged with.
    pub min_score: f64,
    /// Calibrate the score for the group's size.
    pub calibrate: bool,
}

impl Default for IqrFenceConfig {
    fn default() -> Self {
        IqrFenceConfig {
            k: 3.0,
            min_score: 3.5,
            calibrate: true,
        }
    }
}

/// The interquartile-fence detector.
#[derive(Debug, Clone)]
pub struct IqrFence {
    config: IqrFenceConfig,
}

impl IqrFence {
    /// With parameters.
    pub fn new(config: IqrFenceConfig) -> Self {
        IqrFence { config }
    }
}

impl Detector for IqrFence {
    fn kind(&self) -> DetectorKind {
        DetectorKind::IqrFence
    }

    fn measure(&self) -> Measure {
        Measure::UnitValue
    }

    fn judge(&self, x: f64, s: &OrderStats) -> Judgement {
        let iqr = s.q3 - s.q1;
        if iqr.is_nan() || iqr <= 0.0 {
            return Judgement::NoSpread;
        }
        let k = self.config.k;
        if x < s.q1 - k * iqr || x > s.q3 + k * iqr {
            let z = (x - s.median).abs() / (iqr / IQR_TO_SIGMA);
            calibrated_flag(
                z,
                self.config.calibrate.then_some(s.count),
                self.config.min_score,
                Direction::of(x, s.median),
            )
        } else {
            Judgement::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences() {
        // A large group: the calibrated score is about z, and the fences decide.
        let s = OrderStats {
            count: 100_000,
            q1: -1.0,
            median: 0.0,
            q3: 1.0,
            mad: 1.0,
            mean_ad: 1.0,
        };
        let d = IqrFence::new(IqrFenceConfig::default());
        assert_eq!(d.judge(7.0, &s), Judgement::Pass);
        assert!(matches!(
            d.judge(7.01, &s),
            Judgement::Flag {
                direction: Direction::High,
                ..
            }
        ));
        assert!(matches!(
            d.judge(-7.5, &s),
            Judgement::Flag {
                direction: Direction::Low,
                ..
            }
        ));
        let flat = OrderStats {
            q1: 2.0,
            q3: 2.0,
            ..s
        };
        assert_eq!(d.judge(9.0, &flat), Judgement::NoSpread);
        // Nine lines: the same line outside the fences is not rare enough.
        let small = OrderStats { count: 9, ..s };
        assert_eq!(d.judge(7.01, &small), Judgement::Pass);
    }
}
