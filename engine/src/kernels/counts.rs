//! The count model of sparse volume series: how surprising a period's line count is
//! for a series that is active only now and then, given its own history and its panel.
//!
//! A series' lines per period are Poisson with a rate of its own; the rates of a
//! panel's series (the importers of one HS6) follow a gamma distribution, whose shape
//! `a` and rate `b` are estimated from the panel by the method of moments (empirical
//! Bayes). A series that declared `s` lines over `w` periods then has the posterior
//! rate `Gamma(a + s, b + w)`: its own history, shrunk towards the panel, the more so
//! the shorter it is (posterior mean `(a + s) / (b + w)`). The next period's count is
//! negative binomial (the Poisson-gamma mixture), with `r = a + s` and success
//! probability `p = (b + w) / (b + w + 1)`:
//!
//! ```text
//! P(K = k) = C(k + r - 1, k) p^r (1 - p)^k,   P(K >= k) = I_{1-p}(k, r)
//! ```
//!
//! (`I` the regularised incomplete beta function). Lines come in declarations of
//! several lines, so a count model of lines counts *clusters* (declarations) this way
//! and gives each a size: [`Clustered`] is the compound distribution of the lines, the
//! number of clusters negative binomial and their sizes geometric on `1, 2, ...` with a
//! mean `m` (`P(size = j) = (1 - t) t^(j - 1)`, `t = 1 - 1/m`), computed exactly by
//! Panjer's recursion (Panjer 1981; the geometric sizes make each step O(1)). An
//! occasional importer's week of 7 lines is then most likely one declaration of 7
//! lines, not 7 declarations. The tail probability is the
//! evidence: its normal-quantile score ranks with the calibrated price scores. This is
//! the model of the surveillance literature's count detectors (Farrington et al. 1996;
//! Noufaily et al. 2013 use the negative binomial for over-dispersed counts).
//!
//! # NaN
//! Non-finite or non-positive parameters give NaN.

use statrs::function::beta::beta_reg;
use statrs::function::gamma::ln_gamma;

/// The gamma distribution of a panel's series rates (lines per period).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GammaPrior {
    /// Shape `a`.
    pub shape: f64,
    /// Rate `b` (in periods).
    pub rate: f64,
}

impl Default for GammaPrior {
    /// [`GammaPrior::weak`] without a mean.
    fn default() -> Self {
        GammaPrior::weak(f64::NAN)
    }
}

impl GammaPrior {
    /// The method-of-moments fit to a panel's series, each given as (lines, periods):
    /// the mean rate `m` and the variance `v` of the rates beyond the Poisson noise
    /// give `a = m^2 / v`, `b = m / v`. `None` for fewer than two series, a zero mean,
    /// or no spread beyond the Poisson noise (then every series has the panel's rate,
    /// which no gamma describes).
    pub fn fit(series: &[(f64, f64)]) -> Option<GammaPrior> {
        let usable: Vec<(f64, f64)> = series
            .iter()
            .copied()
            .filter(|&(n, w)| n >= 0.0 && w > 0.0 && n.is_finite() && w.is_finite())
            .collect();
        if usable.len() < 2 {
            return None;
        }
        let k = usable.len() as f64;
        let rates = usable.iter().map(|&(n, w)| n / w);
        let mean = rates.clone().sum::<f64>() / k;
        let var = rates.map(|r| (r - mean).powi(2)).sum::<f64>() / (k - 1.0);
        // Each observed rate n / w carries Poisson noise of variance mean / w.
        let noise = usable.iter().map(|&(_, w)| mean / w).sum::<f64>() / k;
        let excess = var - noise;
        (mean > 0.0 && excess > 0.0).then(|| GammaPrior {
            shape: mean * mean / excess,
            rate: mean / excess,
        })
    }

    /// The posterior of a series with `lines` over `periods`.
    pub fn posterior(self, lines: f64, periods: f64) -> GammaPrior {
        GammaPrior {
            shape: self.shape + lines,
            rate: self.rate + periods,
        }
    }

    /// The mean rate.
    pub fn mean(self) -> f64 {
        self.shape / self.rate
    }

    /// `ln P(K >= k)` for the next period's count `K` under this rate distribution.
    pub fn ln_sf(self, k: f64) -> f64 {
        nb_ln_sf(k, self.shape, self.rate / (self.rate + 1.0))
    }

    /// `ln P(K <= k)` for the next period's count `K`.
    pub fn ln_cdf(self, k: f64) -> f64 {
        nb_ln_cdf(k, self.shape, self.rate / (self.rate + 1.0))
    }

    /// A weak prior when a panel gives none: the mean rate `mean` (or one line in 20
    /// periods without one), as uncertain as an exponential (shape 1).
    pub fn weak(mean: f64) -> GammaPrior {
        let mean = if mean > 0.0 && mean.is_finite() {
            mean
        } else {
            0.05
        };
        GammaPrior {
            shape: 1.0,
            rate: 1.0 / mean,
        }
    }
}

/// The lines of a period: a negative-binomial number of clusters (`r`, `p` as in
/// [`nb_ln_sf`]) of geometric sizes with mean `size` (>= 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clustered {
    /// Negative-binomial `r` of the cluster count.
    pub r: f64,
    /// Its success probability.
    pub p: f64,
    /// Mean cluster size (1: every cluster one line, the plain negative binomial).
    pub size: f64,
}

impl Clustered {
    /// The lines of the next period under a rate distribution of clusters (`rates`, in
    /// clusters per period) with clusters of mean size `size`.
    pub fn of(rates: GammaPrior, size: f64) -> Clustered {
        Clustered {
            r: rates.shape,
            p: rates.rate / (rates.rate + 1.0),
            size: size.max(1.0),
        }
    }

    /// Expected lines.
    pub fn mean(&self) -> f64 {
        self.r * (1.0 - self.p) / self.p * self.size
    }

    /// `ln P(L >= k)`; NaN for parameters out of range.
    pub fn ln_sf(&self, k: u64) -> f64 {
        if k == 0 {
            return 0.0;
        }
        self.walk(k, true)
    }

    /// `ln P(L <= k)`; NaN for parameters out of range.
    pub fn ln_cdf(&self, k: u64) -> f64 {
        self.walk(k, false)
    }

    /// Panjer's recursion for a negative-binomial count (`a = 1 - p`,
    /// `b = (r - 1)(1 - p)`, `g_0 = p^r`) and geometric sizes `f_j = c t^(j - 1)`:
    /// `g_i = a S0_i + (b / i) S1_i` with `S0_i = sum_j f_j g_(i-j)` and
    /// `S1_i = sum_j j f_j g_(i-j)`, each from its predecessor:
    /// `S0_i = c g_(i-1) + t S0_(i-1)`, `S1_i = c g_(i-1) + t (S1_(i-1) + S0_(i-1))`.
    /// The recursion's state is carried in a unit of its own (rescaled as it grows or
    /// shrinks) and the sums in log space, so neither a busy series' `p^r` nor a far
    /// tail underflows. The upper tail is `1 - P(L < k)` while that keeps its
    /// precision, and otherwise the sum of the terms from `k` on.
    fn walk(&self, k: u64, upper: bool) -> f64 {
        let Clustered { r, p, size } = *self;
        if !(r > 0.0 && r.is_finite() && p > 0.0 && p < 1.0 && size >= 1.0 && size.is_finite()) {
            return f64::NAN;
        }
        let (a, b) = (1.0 - p, (r - 1.0) * (1.0 - p));
        let t = 1.0 - 1.0 / size;
        let c = 1.0 - t;
        let mut unit = r * p.ln(); // ln of the state's unit: g_0 = 1 unit
        let (mut g, mut s0, mut s1) = (1.0f64, 0.0f64, 0.0f64);
        let mut below = LogSum::default();
        below.add(unit);
        let mut tail = LogSum::default();
        let last_below = if upper { k.saturating_sub(1) } else { k };
        let mut i = 1u64;
        loop {
            if i > last_below {
                if !upper {
                    return below.ln().min(0.0);
                }
                let cdf = below.ln().exp();
                if cdf < 1.0 - 1e-6 {
                    return (-cdf).ln_1p();
                }
            }
            let fresh = c * g;
            s1 = fresh + t * (s1 + s0);
            s0 = fresh + t * s0;
            g = a * s0 + b / i as f64 * s1;
            if g.is_nan() || g <= 0.0 {
                return if i > last_below { tail.ln() } else { f64::NAN };
            }
            let term = unit + g.ln();
            if i <= last_below {
                below.add(term);
            } else {
                let total = tail.ln();
                tail.add(term);
                if term < total + (1e-17f64).ln() || i >= k + 1_000_000 {
                    return tail.ln();
                }
            }
            if !(1e-200..=1e200).contains(&g) {
                unit += g.ln();
                (s0, s1, g) = (s0 / g, s1 / g, 1.0);
            }
            i += 1;
        }
    }
}

/// A sum of positive terms given by their logarithms.
#[derive(Debug, Clone, Copy)]
struct LogSum {
    /// The sum in units of `exp(unit)`.
    sum: f64,
    unit: f64,
}

impl Default for LogSum {
    fn default() -> Self {
        LogSum {
            sum: 0.0,
            unit: f64::NEG_INFINITY,
        }
    }
}

impl LogSum {
    fn add(&mut self, ln_term: f64) {
        if self.sum == 0.0 {
            (self.sum, self.unit) = (1.0, ln_term);
            return;
        }
        if ln_term > self.unit {
            self.sum = self.sum * (self.unit - ln_term).exp() + 1.0;
            self.unit = ln_term;
        } else {
            self.sum += (ln_term - self.unit).exp();
        }
    }

    fn ln(&self) -> f64 {
        if self.sum == 0.0 {
            f64::NEG_INFINITY
        } else {
            self.unit + self.sum.ln()
        }
    }
}

/// `ln P(K >= k)` for a negative binomial count `K` with `r` (> 0) and success
/// probability `p` in (0, 1): exact through the regularised incomplete beta function,
/// and by summing the terms in log space in the far tail, where it underflows. A
/// fractional `k` (a count divided by its dispersion) continues the tail through the
/// same incomplete beta.
pub fn nb_ln_sf(k: f64, r: f64, p: f64) -> f64 {
    if !(r > 0.0 && r.is_finite() && p > 0.0 && p < 1.0 && k.is_finite()) {
        return f64::NAN;
    }
    if k <= 0.0 {
        return 0.0;
    }
    let sf = beta_reg(k, r, 1.0 - p);
    if sf > 1e-280 {
        return sf.ln();
    }
    // Far tail: ln P(K = k) plus the log of the sum of the ratios of the following
    // terms (each ratio (1 - p)(j + r) / (j + 1) is below 1 out here).
    let mut ln_sum = 0.0f64;
    let (mut term, mut total) = (1.0f64, 1.0f64);
    let mut j = k;
    for _ in 0..1_000_000 {
        term *= (1.0 - p) * (j + r) / (j + 1.0);
        total += term;
        j += 1.0;
        if term < 1e-17 * total {
            break;
        }
        if total > 1e250 {
            ln_sum += total.ln();
            term /= total;
            total = 1.0;
        }
    }
    nb_ln_pmf(k, r, p) + ln_sum + total.ln()
}

/// `ln P(K <= k)` for a negative binomial count `K` (parameters as [`nb_ln_sf`]), by
/// summing the terms up to `floor(k)` in log space (a lower tail is judged at small
/// counts).
pub fn nb_ln_cdf(k: f64, r: f64, p: f64) -> f64 {
    if !(r > 0.0 && r.is_finite() && p > 0.0 && p < 1.0 && k.is_finite()) || k < 0.0 {
        return f64::NAN;
    }
    let top = k.floor();
    let lead = nb_ln_pmf(top, r, p);
    // Terms downwards from the top, relative to it: each is the one above times
    // (j + 1) / ((1 - p)(j + r)).
    let (mut term, mut total, mut j) = (1.0f64, 1.0f64, top - 1.0);
    while j >= 0.0 {
        term *= (j + 1.0) / ((1.0 - p) * (j + r));
        total += term;
        j -= 1.0;
    }
    (lead + total.ln()).min(0.0)
}

/// `ln P(K = k)` of the negative binomial.
pub fn nb_ln_pmf(k: f64, r: f64, p: f64) -> f64 {
    ln_gamma(k + r) - ln_gamma(k + 1.0) - ln_gamma(r) + r * p.ln() + k * (1.0 - p).ln()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    /// The tail by direct summation of the probabilities below `k`.
    fn naive_sf(k: u64, r: f64, p: f64) -> f64 {
        1.0 - (0..k).map(|j| nb_ln_pmf(j as f64, r, p).exp()).sum::<f64>()
    }

    /// The compound pmf by its definition: `n` clusters of geometric sizes sum to `l`
    /// with probability `C(l - 1, n - 1) c^n t^(l - n)`.
    fn naive_clustered_pmf(l: u64, m: &Clustered) -> f64 {
        let t = 1.0 - 1.0 / m.size;
        let c = 1.0 - t;
        if l == 0 {
            return nb_ln_pmf(0.0, m.r, m.p).exp();
        }
        (1..=l)
            .map(|n| {
                let ln_choose =
                    ln_gamma(l as f64) - ln_gamma(n as f64) - ln_gamma((l - n + 1) as f64);
                let sizes = if t == 0.0 {
                    if n == l { 0.0 } else { f64::NEG_INFINITY }
                } else {
                    ln_choose + n as f64 * c.ln() + (l - n) as f64 * t.ln()
                };
                (nb_ln_pmf(n as f64, m.r, m.p) + sizes).exp()
            })
            .sum()
    }

    proptest! {
        #[test]
        fn clustered_tails_match_the_compound_definition(
            k in 0u64..40, r in 0.05f64..20.0, p in 0.1f64..0.99, size in prop_oneof![Just(1.0), 1.0f64..6.0],
        ) {
            let m = Clustered { r, p, size };
            let pmf: Vec<f64> = (0..=k).map(|l| naive_clustered_pmf(l, &m)).collect();
            let below: f64 = pmf[..k as usize].iter().sum();
            let sf = 1.0 - below;
            prop_assume!(sf > 1e-9);
            prop_assert!((m.ln_sf(k).exp() - sf).abs() <= 1e-9 + 1e-7 * sf, "sf {} vs {sf}", m.ln_sf(k).exp());
            let cdf = below + pmf[k as usize];
            prop_assert!((m.ln_cdf(k) - cdf.ln()).abs() <= 1e-8, "cdf {} vs {}", m.ln_cdf(k), cdf.ln());
            // One line per cluster: the plain negative binomial.
            if size == 1.0 {
                prop_assert!((m.ln_sf(k) - nb_ln_sf(k as f64, r, p)).abs() <= 1e-8);
            }
        }

        /// Far out, where `1 - cdf` has no digits left, the tail is summed: it keeps
        /// falling, without jumps, and matches the plain negative binomial at size 1.
        #[test]
        fn clustered_far_tail_is_continuous_and_decreasing(r in 0.1f64..5.0, p in 0.5f64..0.99, size in 1.0f64..4.0) {
            let m = Clustered { r, p, size };
            let mut last = 0.0;
            for k in 1..600u64 {
                let v = m.ln_sf(k);
                prop_assert!(v.is_finite() && v <= last + 1e-9, "k {k}: {v} after {last}");
                prop_assert!(last - v < 10.0, "k {k}: a jump from {last} to {v}");
                last = v;
            }
            let one = Clustered { r, p, size: 1.0 };
            prop_assert!((one.ln_sf(300) - nb_ln_sf(300.0, r, p)).abs() < 1e-6 * nb_ln_sf(300.0, r, p).abs());
        }

        /// A busy series (`p^r` far below the smallest double) keeps its probabilities.
        #[test]
        fn clustered_busy_series_do_not_underflow(r in 2_000.0f64..20_000.0, size in 1.0f64..3.0) {
            let m = Clustered { r, p: 0.5, size };
            let mean = m.mean();
            prop_assert!(m.ln_sf(mean as u64) > -3.0);
            prop_assert!(m.ln_cdf(mean as u64) > -3.0);
            prop_assert!(m.ln_sf((mean * 1.5) as u64) < -20.0);
        }
    }

    proptest! {
        #[test]
        fn tail_matches_direct_summation(k in 0u64..60, r in 0.05f64..40.0, p in 0.05f64..0.98) {
            let want = naive_sf(k, r, p);
            prop_assume!(want > 1e-9);
            let got = nb_ln_sf(k as f64, r, p).exp();
            prop_assert!((got - want).abs() <= 1e-9 + 1e-7 * want, "{got} vs {want}");
        }

        /// The far tail joins the exact one and keeps falling.
        #[test]
        fn lower_tail_matches_direct_summation(k in 0u64..60, r in 0.05f64..40.0, p in 0.05f64..0.98) {
            let want: f64 = (0..=k).map(|j| nb_ln_pmf(j as f64, r, p).exp()).sum();
            prop_assume!(want > 1e-300);
            let got = nb_ln_cdf(k as f64, r, p);
            prop_assert!((got - want.ln()).abs() <= 1e-9, "{got} vs {}", want.ln());
        }

        #[test]
        fn far_tail_is_continuous_and_decreasing(r in 0.1f64..10.0, p in 0.5f64..0.99) {
            let mut last = 0.0;
            for k in 1..2_000u64 {
                let v = nb_ln_sf(k as f64, r, p);
                prop_assert!(v.is_finite() && v <= last + 1e-9, "k {k}: {v} after {last}");
                prop_assert!(last - v < 10.0, "k {k}: a jump from {last} to {v}");
                last = v;
            }
        }
    }

    /// The posterior is the closed form: shape + lines, rate + periods; its mean moves
    /// from the panel's towards the series' own rate as its history grows.
    #[test]
    fn shrinkage_is_the_closed_form() {
        let prior = GammaPrior {
            shape: 0.5,
            rate: 10.0,
        };
        let short = prior.posterior(3.0, 4.0);
        assert_eq!((short.shape, short.rate), (3.5, 14.0));
        assert!((short.mean() - 3.5 / 14.0).abs() < 1e-15);
        let long = prior.posterior(75.0, 100.0);
        assert!((long.mean() - 75.5 / 110.0).abs() < 1e-15);
        // Panel 0.05; own rates 0.75 both: the longer history stays nearer its own.
        assert!(prior.mean() < short.mean() && short.mean() < long.mean() && long.mean() < 0.75);
    }

    /// On gamma-Poisson series, the fitted prior's mean and variance are the true ones
    /// (within sampling error).
    #[test]
    fn the_prior_fits_simulated_panels() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let u = |rng: &mut ChaCha8Rng| ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        // Rates Gamma(shape 2, rate 8) (mean 0.25): shape 2 is a sum of two
        // exponentials; counts over 52 periods by Poisson inversion.
        let series: Vec<(f64, f64)> = (0..4_000)
            .map(|_| {
                let rate = -(u(&mut rng).ln() + u(&mut rng).ln()) / 8.0;
                let lambda = rate * 52.0;
                let (mut n, mut prod, limit) = (0.0, u(&mut rng), (-lambda).exp());
                while prod > limit {
                    prod *= u(&mut rng);
                    n += 1.0;
                }
                (n, 52.0)
            })
            .collect();
        let prior = GammaPrior::fit(&series).unwrap();
        assert!((prior.mean() - 0.25).abs() < 0.01, "{prior:?}");
        let var = prior.shape / (prior.rate * prior.rate);
        assert!((var - 2.0 / 64.0).abs() < 0.004, "{prior:?}");
        // No spread beyond Poisson noise: no prior.
        assert!(GammaPrior::fit(&[(13.0, 52.0), (13.0, 52.0), (12.0, 52.0)]).is_none());
        assert!(GammaPrior::fit(&[(1.0, 52.0)]).is_none());
    }

    #[test]
    fn a_burst_from_a_rare_importer_is_far_in_the_tail() {
        // Panel: importers buy 0.05 lines a week on average, widely spread.
        let prior = GammaPrior {
            shape: 0.5,
            rate: 10.0,
        };
        // 2 lines in 26 weeks, then 25 lines in one week.
        let ln_p = prior.posterior(2.0, 26.0).ln_sf(25.0);
        assert!(ln_p < -40.0, "{ln_p}");
        // A regular importer (2 lines a week) with 4 lines: ordinary.
        let ln_p = prior.posterior(52.0, 26.0).ln_sf(4.0);
        assert!(ln_p > (0.05f64).ln(), "{ln_p}");
        assert!(nb_ln_sf(3.0, -1.0, 0.5).is_nan());
    }
}
