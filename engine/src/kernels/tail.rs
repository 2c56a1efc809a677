//! Small-sample calibration of robust z-scores: one scale for groups of 5 and of
//! 50,000 lines.
//!
//! A robust z, `|x - median| / (1.4826 * MAD)`, computed against a group of `n` values
//! is not standard normal even when the group is: a small group's median and MAD are
//! themselves uncertain, so large values are far more frequent. With normal data, 5.4%
//! of the lines of groups of 5 have `z > 3.5`, 0.38% of groups of 30, 0.047% of large
//! groups. The calibrated score is the z of a standard normal with the same tail
//! probability that `z` has under a Student-t with `0.4 n` degrees of freedom:
//!
//! ```text
//! p = P(T_nu > z),   nu = 0.4 n,   score = the z with P(Z > z) = p
//! ```
//!
//! so a score means the same rarity whatever the group's size, and a large group's
//! score is its z. The factor 0.4 comes from simulation: for normal groups of 5 to
//! 3,000 values (the line included in its own group, as in a scan), the degrees of
//! freedom that make the t quantile equal the robust z's `1 - 4.65e-4` quantile (the
//! normal tail beyond 3.5) are 0.39 n to 0.50 n, and the same for the IQR-based z
//! `|x - median| / (IQR / 1.349)`. (The MAD has about 37% of the efficiency of the
//! standard deviation: a group of `n` carries the spread information of about
//! `0.37 n` normal values.) `detect::scale` has the test that the share of lines above
//! the threshold is the same for every group size.
//!
//! # NaN
//! NaN, zero and negative inputs are returned unchanged.

use statrs::function::beta::{beta_reg, ln_beta};
use statrs::function::erf::{erfc, erfc_inv};

/// Degrees of freedom of the calibrating Student-t for a group of `n` values.
pub fn degrees_of_freedom(n: u64) -> f64 {
    let n = n as f64;
    let nu = if n % 2.0 == 1.0 {
        0.41 * n
    } else {
        0.385 * n + 0.86
    };
    nu.max(1.0)
}

/// The calibrated score of a robust z (`z > 0`) from a group of `n` values.
pub fn calibrated_z(z: f64, n: u64) -> f64 {
    if !(z > 0.0 && z.is_finite()) {
        return z;
    }
    normal_z_of_ln_sf(ln_sf_t(z, degrees_of_freedom(n)))
}

/// The score of several independent pieces of evidence, each a score on the same
/// scale (the `z` of a standard normal tail probability `p_i`), combined by Fisher's
/// method: `X = -2 sum ln p_i` is chi-square with `2k` degrees of freedom when no
/// piece is anomalous, and the combined score is the `z` of `P(chi2_2k > X)`. One
/// score is returned unchanged; two scores of 4 combine to 5.47.
///
/// # NaN
/// Scores that are not finite and positive are left out; none left: 0.
pub fn combined_z(scores: &[f64]) -> f64 {
    let ln_p: Vec<f64> = scores
        .iter()
        .filter(|s| s.is_finite() && **s > 0.0)
        .map(|&s| ln_normal_sf(s))
        .collect();
    match ln_p.len() {
        0 => 0.0,
        1 => scores.iter().copied().fold(0.0, f64::max),
        k => {
            // ln P(chi2_2k > 2L) = -L + ln sum_{j<k} L^j / j!, with L = -sum ln p_i.
            let l: f64 = -ln_p.iter().sum::<f64>();
            let (mut term, mut sum) = (1.0, 1.0);
            for j in 1..k {
                term *= l / j as f64;
                sum += term;
            }
            normal_z_of_ln_sf(-l + sum.ln())
        }
    }
}

/// `ln P(Z > z)` for a standard normal `Z` and `z > 0`.
pub fn ln_normal_sf(z: f64) -> f64 {
    if z < 37.0 {
        (0.5 * erfc(z / std::f64::consts::SQRT_2)).ln()
    } else {
        ln_normal_sf_far(z)
    }
}

/// `ln P(T_nu > t)` for `t > 0`, exact through the regularised incomplete beta function,
/// and from its leading term in the far tail, where the probability underflows.
fn ln_sf_t(t: f64, nu: f64) -> f64 {
    let (a, b) = (nu / 2.0, 0.5);
    let t2 = t * t;
    let x = nu / (nu + t2);
    let sf = 0.5 * beta_reg(a, b, x);
    if sf > 1e-280 {
        return sf.ln();
    }
    // I_x(a, b) ~ x^a (1 - x)^b / (a B(a, b)) as x -> 0; 1 - x written without the
    // cancellation.
    0.5f64.ln() + a * x.ln() + b * (t2 / (nu + t2)).ln() - a.ln() - ln_beta(a, b)
}

/// The `z` with `ln P(Z > z) = ln_p` for a standard normal `Z`.
pub fn normal_z_of_ln_sf(ln_p: f64) -> f64 {
    if ln_p > -690.0 {
        // P(Z > z) = erfc(z / sqrt 2) / 2.
        return std::f64::consts::SQRT_2 * erfc_inv(2.0 * ln_p.exp());
    }
    // Far tail (z > 37): Newton's method on the asymptotic series of ln P(Z > z).
    let mut z = (-2.0 * ln_p).sqrt();
    for _ in 0..6 {
        let f = ln_normal_sf_far(z) - ln_p;
        // d/dz ln P(Z > z) = -phi(z) / P(Z > z), about -(z + 1/z) out there.
        z += f / (z + 1.0 / z);
    }
    z
}

/// `ln P(Z > z)` for large `z`, from Mills' ratio:
/// `phi(z) / z * (1 - 1/z^2 + 3/z^4 - 15/z^6)`.
fn ln_normal_sf_far(z: f64) -> f64 {
    let r = 1.0 / (z * z);
    -0.5 * z * z - z.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
        + (1.0 - r + 3.0 * r * r - 15.0 * r * r * r).ln()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

    /// The same calibration through the distribution objects, where they are exact.
    fn naive(z: f64, n: u64) -> f64 {
        let nu = degrees_of_freedom(n);
        let p = StudentsT::new(0.0, 1.0, nu).unwrap().sf(z);
        -Normal::new(0.0, 1.0).unwrap().inverse_cdf(p)
    }

    proptest! {
        #[test]
        fn matches_the_distribution_objects(z in 0.01f64..30.0, n in 2u64..200_000) {
            let nu = degrees_of_freedom(n);
            prop_assume!(StudentsT::new(0.0, 1.0, nu).unwrap().sf(z) > 1e-250);
            let (fast, slow) = (calibrated_z(z, n), naive(z, n));
            prop_assert!((fast - slow).abs() <= 1e-6 * slow.abs().max(1.0), "{fast} vs {slow}");
        }

        #[test]
        fn never_above_z_and_increasing_in_z(z in 0.01f64..1e6, n in 1u64..1_000_000) {
            let c = calibrated_z(z, n);
            prop_assert!(c.is_finite() && c > 0.0 && c <= z * (1.0 + 1e-9), "{z} -> {c}");
            prop_assert!(calibrated_z(z * 1.01, n) >= c);
        }
    }

    proptest! {
        /// Fisher's combination through the chi-square distribution object.
        #[test]
        fn combined_matches_the_chi_square(a in 0.5f64..7.0, b in 0.5f64..7.0, c in 0.5f64..7.0) {
            use statrs::distribution::ChiSquared;
            let x = -2.0 * [a, b, c].iter().map(|&z| Normal::new(0.0, 1.0).unwrap().sf(z).ln()).sum::<f64>();
            let p = ChiSquared::new(6.0).unwrap().sf(x);
            let want = -Normal::new(0.0, 1.0).unwrap().inverse_cdf(p);
            let got = combined_z(&[a, b, c]);
            prop_assert!((got - want).abs() < 1e-6 * want.abs().max(1.0), "{got} vs {want}");
        }

        /// One score is itself; a second as strong raises it.
        #[test]
        fn one_score_is_itself(z in 0.01f64..1e4) {
            prop_assert_eq!(combined_z(&[z]), z);
            prop_assert!(combined_z(&[z, z]) >= z);
        }
    }

    #[test]
    fn combined_far_scores_stay_finite() {
        let c = combined_z(&[60.0, 500.0]);
        assert!(c.is_finite() && c > 500.0, "{c}");
        assert_eq!(combined_z(&[]), 0.0);
        assert_eq!(combined_z(&[f64::NAN, 4.0]), 4.0);
        assert!((combined_z(&[4.0, 4.0]) - 5.47).abs() < 0.01);
    }

    #[test]
    fn large_groups_score_their_z_small_ones_less() {
        assert!((calibrated_z(4.0, 10_000_000) - 4.0).abs() < 1e-3);
        assert!((calibrated_z(4.0, 10_000) - 4.0).abs() < 0.02);
        assert!(calibrated_z(4.0, 10) < 2.7);
        assert!(calibrated_z(20.0, 10) < calibrated_z(20.0, 100));
    }

    #[test]
    fn the_far_tail_joins_the_exact_one() {
        // Across the switch of both tails, the score keeps rising smoothly.
        let zs: Vec<f64> = (0..400).map(|i| 20.0 * 1.02f64.powi(i)).collect();
        for n in [5u64, 50, 500, 5_000] {
            let c: Vec<f64> = zs.iter().map(|&z| calibrated_z(z, n)).collect();
            for w in c.windows(2) {
                assert!(w[1] >= w[0] && w[1] - w[0] < 2.0, "n {n}: {w:?}");
            }
        }
        assert!(calibrated_z(f64::NAN, 10).is_nan());
        assert_eq!(calibrated_z(0.0, 10), 0.0);
    }
}
