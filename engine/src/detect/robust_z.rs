//! `robust-z` (P01): a unit value far from its comparison group's median.
//!
//! **What it detects.** Lines whose price per unit (or per kg) is far below or above
//! what comparable trade declares: under-valuation (duty evasion, concealment of
//! goods), over-valuation (trade-based money laundering, illicit transfers), price
//! gouging of medical supplies in a crisis.
//!
//! **Method.** On `x = ln(unit value)` and the line's comparison group (see the fallback
//! levels), `z = (x - median) / (1.4826 * MAD)`. Both tails. The line is flagged when
//! `|z| > threshold`; the score is `|z|`.
//!
//! **MAD = 0.** When more than half of the group declares the same unit value the MAD is
//! 0. With `mad_zero = "mean-ad"` (default) the scale becomes `1.253314 * mean absolute
//! deviation from the median` (Iglewicz & Hoaglin); if that is 0 too, every line equals
//! the median and nothing is flagged. With `mad_zero = "skip"` such groups are not judged.
//!
//! **Calibration.** The score is z calibrated for the group's size
//! (`kernels::tail`): a z of 6 in a group of 30 lines is less rare than in a group of
//! 30,000, and the calibrated score says how rare. With `calibrate = false` the score
//! is z itself (the textbook rule, and the reference job of `benches/compare`).
//!
//! **Parameters.** `threshold` (default 3.5, Iglewicz & Hoaglin's cut-off for modified
//! z-scores), `mad_zero` (`mean-ad` | `skip`), `calibrate` (default true).
//!
//! **Known false positives.** Genuine quality differences hidden inside one code
//! (a "parts" or "other" subheading), volume discounts on very large lines, promotional
//! or sample shipments declared at token values, currency conversion errors.

use serde::{Deserialize, Serialize};

use super::scale::robust_z;
use super::{Detector, DetectorKind, Judgement, Measure};
use crate::kernels::order_stats::OrderStats;

/// What to do when a group's MAD is 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MadZero {
    /// Use 1.253314 x the mean absolute deviation from the median.
    #[default]
    MeanAd,
    /// Do not judge lines of such groups.
    Skip,
}

/// Parameters of [`RobustZ`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RobustZConfig {
    /// Flag when |z| is above this.
    pub threshold: f64,
    /// Policy for MAD = 0.
    pub mad_zero: MadZero,
    /// Calibrate the score for the group's size.
    pub calibrate: bool,
}

impl Default for RobustZConfig {
    fn default() -> Self {
        RobustZConfig {
            threshold: 3.5,
            mad_zero: MadZero::MeanAd,
            calibrate: true,
        }
    }
}

/// The robust-z detector.
#[derive(Debug, Clone)]
pub struct RobustZ {
    config: RobustZConfig,
}

impl RobustZ {
    /// With parameters.
    pub fn new(config: RobustZConfig) -> Self {
        RobustZ { config }
    }
}

impl Detector for RobustZ {
    fn kind(&self) -> DetectorKind {
        DetectorKind::RobustZ
    }

    fn measure(&self) -> Measure {
        Measure::UnitValue
    }

    fn judge(&self, x: f64, stats: &OrderStats) -> Judgement {
        let c = &self.config;
        robust_z(x, stats, c.threshold, c.mad_zero, c.calibrate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Direction;

    fn stats(median: f64, mad: f64, mean_ad: f64) -> OrderStats {
        OrderStats {
            count: 1_000_000,
            q1: median - mad,
            median,
            q3: median + mad,
            mad,
            mean_ad,
        }
    }

    #[test]
    fn flags_both_tails_strictly_above_threshold() {
        let d = RobustZ::new(RobustZConfig::default());
        let s = stats(0.0, 1.0 / 1.4826, 0.0);
        assert_eq!(d.judge(3.5, &s), Judgement::Pass);
        let Judgement::Flag {
            score,
            raw,
            direction,
        } = d.judge(4.0, &s)
        else {
            panic!("4 > 3.5 in a large group");
        };
        assert_eq!((raw, direction), (4.0, Direction::High));
        assert!((score - 4.0).abs() < 1e-3, "{score}");
        assert!(matches!(
            d.judge(-5.0, &s),
            Judgement::Flag {
                direction: Direction::Low,
                ..
            }
        ));
    }

    #[test]
    fn a_small_group_needs_a_larger_z() {
        let d = RobustZ::new(RobustZConfig::default());
        let small = OrderStats {
            count: 8,
            ..stats(0.0, 1.0 / 1.4826, 0.0)
        };
        assert_eq!(d.judge(5.0, &small), Judgement::Pass);
        assert!(matches!(d.judge(20.0, &small), Judgement::Flag { score, .. } if score < 20.0));
    }

    #[test]
    fn mad_zero_policies() {
        let s = stats(1.0, 0.0, 0.1);
        let d = RobustZ::new(RobustZConfig::default());
        assert!(matches!(d.judge(3.0, &s), Judgement::Flag { .. }));
        let skip = RobustZ::new(RobustZConfig {
            mad_zero: MadZero::Skip,
            ..Default::default()
        });
        assert_eq!(skip.judge(3.0, &s), Judgement::NoSpread);
        let flat = stats(1.0, 0.0, 0.0);
        assert_eq!(d.judge(1.0, &flat), Judgement::NoSpread);
    }
}
