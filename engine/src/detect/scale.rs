//! The robust scale every detector scores with: a standard deviation estimated from
//! the median absolute deviation, so that one wild value does not widen it.
//!
//! `sigma = 1.4826 * MAD` (consistent for a normal distribution). When more than half
//! of the values are equal the MAD is 0, and `sigma = 1.253314 * mean absolute
//! deviation from the median` instead (Iglewicz & Hoaglin). `IQR / 1.349` is the same
//! scale from the quartiles.

use super::{Direction, Judgement, MadZero};
use crate::kernels::order_stats::OrderStats;

/// Scale factor that makes the MAD a consistent estimator of the standard deviation
/// of a normal distribution.
pub const MAD_TO_SIGMA: f64 = 1.4826;
/// Scale factor that makes the mean absolute deviation a consistent estimator of the
/// standard deviation of a normal distribution.
pub const MEAN_AD_TO_SIGMA: f64 = 1.253_314;
/// Scale factor that makes the IQR a consistent estimator of the standard deviation
/// of a normal distribution.
pub const IQR_TO_SIGMA: f64 = 1.349;

/// The robust standard deviation: from the MAD, or from the mean absolute deviation
/// when the MAD is 0 (or NaN).
///
/// # Zero
/// 0 when both are 0: every value equals the median.
#[inline]
pub fn robust_sigma(mad: f64, mean_ad: f64) -> f64 {
    if mad > 0.0 {
        MAD_TO_SIGMA * mad
    } else {
        MEAN_AD_TO_SIGMA * mean_ad
    }
}

/// Robust z of `x` against a group's median and spread under a MAD = 0 policy, both
/// tails, flagged above `threshold`: the rule of the detectors that score in robust
/// standard deviations.
pub fn robust_z(x: f64, stats: &OrderStats, threshold: f64, mad_zero: MadZero) -> Judgement {
    let usable = stats.mad > 0.0 || (mad_zero == MadZero::MeanAd && stats.mean_ad > 0.0);
    if !usable {
        return Judgement::NoSpread;
    }
    let z = (x - stats.median) / robust_sigma(stats.mad, stats.mean_ad);
    if z.abs() > threshold && z.is_finite() {
        Judgement::Flag {
            score: z.abs(),
            direction: Direction::of(x, stats.median),
        }
    } else {
        Judgement::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_ad_takes_over_at_mad_zero() {
        assert_eq!(robust_sigma(2.0, 5.0), MAD_TO_SIGMA * 2.0);
        assert_eq!(robust_sigma(0.0, 2.0), MEAN_AD_TO_SIGMA * 2.0);
        assert_eq!(robust_sigma(f64::NAN, 2.0), MEAN_AD_TO_SIGMA * 2.0);
        assert_eq!(robust_sigma(0.0, 0.0), 0.0);
    }
}
