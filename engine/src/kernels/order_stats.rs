//! Exact order statistics of a group of values: quartiles, median and MAD.
//!
//! Quantiles follow DuckDB's `quantile_cont` (and therefore its `median`): for `n`
//! values sorted ascending and a fraction `q`, the position is `p = (n - 1) * q`; with
//! `lo = floor(p)`, `hi = ceil(p)`, the quantile is `v[lo] + (p - lo) * (v[hi] - v[lo])`.
//! For an even count the median is the mean of the two middle values, computed in that
//! same form (`v[lo] + 0.5 * (v[hi] - v[lo])`), so an analyst re-checking a number with
//! SQL gets the same bits.
//!
//! The kernels select instead of sorting (`select_nth_unstable`), so a group of `n`
//! values costs O(n); small groups are sorted, which is faster there and gives the same
//! result.
//!
//! # NaN
//! Inputs must be finite: the engine drops NaN and infinite unit values (with a counted
//! reason) before grouping. Values are compared with `f64::total_cmp`.

/// Statistics of one group of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderStats {
    /// Number of values.
    pub count: u64,
    /// First quartile (`quantile_cont(x, 0.25)`).
    pub q1: f64,
    /// Median (`quantile_cont(x, 0.5)`).
    pub median: f64,
    /// Third quartile (`quantile_cont(x, 0.75)`).
    pub q3: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// Mean absolute deviation from the median; the fallback spread when `mad` is 0.
    pub mean_ad: f64,
}

/// Scale factor that makes the MAD a consistent estimator of the standard deviation
/// of a normal distribution.
pub const MAD_TO_SIGMA: f64 = 1.4826;
/// Scale factor that makes the mean absolute deviation a consistent estimator of the
/// standard deviation of a normal distribution.
pub const MEAN_AD_TO_SIGMA: f64 = 1.253_314;

/// The robust standard deviation: `1.4826 * MAD`, or, when more than half of the
/// values are equal and the MAD is 0 (or NaN), `1.253314 * mean absolute deviation
/// from the median` (Iglewicz & Hoaglin).
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

/// Groups up to this size are sorted instead of selected.
const SORT_BELOW: usize = 16;

/// Interpolate between two neighbouring order statistics as DuckDB does.
#[inline]
pub fn interpolate(lo: f64, hi: f64, frac: f64) -> f64 {
    if frac == 0.0 {
        lo
    } else {
        lo + frac * (hi - lo)
    }
}

/// Position split of `quantile_cont` for `n` values: `(floor index, fraction)`.
#[inline]
pub fn quantile_position(n: usize, q: f64) -> (usize, f64) {
    let p = (n - 1) as f64 * q;
    let lo = p.floor();
    (lo as usize, p - lo)
}

/// Compute [`OrderStats`] of `values`, reordering them in place; `scratch` is reused
/// for the absolute deviations. Returns `None` for an empty slice.
pub fn order_stats(values: &mut [f64], scratch: &mut Vec<f64>) -> Option<OrderStats> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let [q1, median, q3] = quartiles(values);
    scratch.clear();
    scratch.extend(values.iter().map(|v| (v - median).abs()));
    let mad = median_in_place(scratch);
    let mean_ad = pairwise_sum(scratch) / n as f64;
    Some(OrderStats {
        count: n as u64,
        q1,
        median,
        q3,
        mad,
        mean_ad,
    })
}

/// The median of `values` (reordered in place); NaN for an empty slice.
pub fn median_in_place(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    if values.len() <= SORT_BELOW {
        values.sort_unstable_by(f64::total_cmp);
        let (lo, frac) = quantile_position(values.len(), 0.5);
        return interpolate(values[lo], values[(lo + 1).min(values.len() - 1)], frac);
    }
    let (lo, frac) = quantile_position(values.len(), 0.5);
    let (left_hi, right) = select_with_next(values, lo);
    interpolate(left_hi, right, frac)
}

/// First quartile, median and third quartile of a non-empty slice (reordered in place).
pub fn quartiles(values: &mut [f64]) -> [f64; 3] {
    let n = values.len();
    let pos = [0.25, 0.5, 0.75].map(|q| quantile_position(n, q));
    if n <= SORT_BELOW {
        values.sort_unstable_by(f64::total_cmp);
        return pos.map(|(lo, frac)| interpolate(values[lo], values[(lo + 1).min(n - 1)], frac));
    }
    // Select the median first, then each quartile inside its half: three selections
    // over shrinking ranges, O(n) in total.
    let (m_lo, m_frac) = pos[1];
    let (m_val, m_next) = select_with_next(values, m_lo);
    let median = interpolate(m_val, m_next, m_frac);

    let (q1_lo, q1_frac) = pos[0];
    let q1 = if q1_lo == m_lo {
        interpolate(m_val, m_next, q1_frac)
    } else {
        let left = &mut values[..m_lo];
        let (v, next) = select_with_next(left, q1_lo);
        let next = if q1_lo + 1 == m_lo { m_val } else { next };
        interpolate(v, next, q1_frac)
    };

    let (q3_lo, q3_frac) = pos[2];
    let q3 = if q3_lo == m_lo {
        interpolate(m_val, m_next, q3_frac)
    } else {
        let right = &mut values[m_lo + 1..];
        let (v, next) = select_with_next(right, q3_lo - m_lo - 1);
        interpolate(v, next, q3_frac)
    };
    [q1, median, q3]
}

/// Put the `k`-th smallest value at `k` and return it with the `(k+1)`-th smallest
/// (itself when `k` is the last index).
fn select_with_next(values: &mut [f64], k: usize) -> (f64, f64) {
    let (_, kth, right) = values.select_nth_unstable_by(k, f64::total_cmp);
    let kth = *kth;
    let next = right.iter().copied().min_by(f64::total_cmp).unwrap_or(kth);
    (kth, next)
}

/// Sum with eight independent accumulators: vectorises, and the result depends only on
/// the order of the input, not on threads.
pub fn pairwise_sum(values: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let chunks = values.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    let mut total =
        ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for v in tail {
        total += v;
    }
    total
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: sort, then read positions exactly as `quantile_cont` defines them.
    fn naive_quantile(sorted: &[f64], q: f64) -> f64 {
        let p = (sorted.len() - 1) as f64 * q;
        let lo = p.floor() as usize;
        let hi = p.ceil() as usize;
        if lo == hi {
            sorted[lo]
        } else {
            sorted[lo] + (p - p.floor()) * (sorted[hi] - sorted[lo])
        }
    }

    fn naive(values: &[f64]) -> OrderStats {
        let mut s = values.to_vec();
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = naive_quantile(&s, 0.5);
        let mut dev: Vec<f64> = s.iter().map(|v| (v - median).abs()).collect();
        dev.sort_by(|a, b| a.partial_cmp(b).unwrap());
        OrderStats {
            count: s.len() as u64,
            q1: naive_quantile(&s, 0.25),
            median,
            q3: naive_quantile(&s, 0.75),
            mad: naive_quantile(&dev, 0.5),
            mean_ad: dev.iter().sum::<f64>() / s.len() as f64,
        }
    }

    fn check(values: &[f64]) {
        let want = naive(values);
        let got = order_stats(&mut values.to_vec(), &mut Vec::new()).unwrap();
        assert_eq!(got.count, want.count);
        assert_eq!(got.q1.to_bits(), want.q1.to_bits(), "q1 of {values:?}");
        assert_eq!(
            got.median.to_bits(),
            want.median.to_bits(),
            "median of {values:?}"
        );
        assert_eq!(got.q3.to_bits(), want.q3.to_bits(), "q3 of {values:?}");
        assert_eq!(got.mad.to_bits(), want.mad.to_bits(), "mad of {values:?}");
        // Summation order differs from the naive sum; compare with a relative bound.
        let tol = 1e-12 * want.mean_ad.abs().max(1e-300);
        assert!(
            (got.mean_ad - want.mean_ad).abs() <= tol,
            "mean_ad of {values:?}"
        );
    }

    #[test]
    fn empty_is_none() {
        assert!(order_stats(&mut [], &mut Vec::new()).is_none());
        assert!(median_in_place(&mut []).is_nan());
    }

    #[test]
    fn small_groups() {
        check(&[3.0]);
        check(&[3.0, 1.0]);
        check(&[1.0, 1.0]);
        check(&[5.0, 1.0, 3.0]);
        check(&[1.0, 2.0, 3.0, 4.0]);
        let s = order_stats(&mut [1.0, 2.0, 3.0, 4.0], &mut Vec::new()).unwrap();
        assert_eq!((s.q1, s.median, s.q3, s.mad), (1.75, 2.5, 3.25, 1.0));
    }

    #[test]
    fn large_groups_with_ties_use_selection() {
        let v: Vec<f64> = (0..1001).map(|i| f64::from(i % 7) * 0.5).collect();
        check(&v);
        let v: Vec<f64> = (0..1000)
            .map(|i| f64::from((i * 7919) % 1000) / 3.0)
            .collect();
        check(&v);
        check(&vec![2.5; 500]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn matches_sort_reference(values in prop::collection::vec(-50.0f64..50.0, 1..400)) {
            check(&values);
        }

        #[test]
        fn matches_sort_reference_with_heavy_ties(values in prop::collection::vec(0u8..6, 1..300)) {
            let v: Vec<f64> = values.iter().map(|&x| f64::from(x) / 4.0).collect();
            check(&v);
        }

        #[test]
        fn sum_is_close_to_naive(values in prop::collection::vec(-1e6f64..1e6, 0..200)) {
            let naive: f64 = values.iter().sum();
            let got = pairwise_sum(&values);
            let scale: f64 = values.iter().map(|v| v.abs()).sum::<f64>().max(1.0);
            prop_assert!((got - naive).abs() <= 1e-12 * scale);
        }
    }
}
