//! Price tiers: two or three separate price populations inside one comparison group.
//!
//! A national code often covers several grades or brands, each with its own price
//! (Riani et al. 2008 fit one regression line per population for this reason). Judged
//! against the pooled median and MAD of such a group, every line of a minor tier looks
//! like an anomaly, and an anomaly inside a wide group hides between the tiers. This
//! kernel finds the tiers so that a line is judged against its own.
//!
//! **Screen.** The fit sorts; a group is fitted only when its order statistics (free:
//! the group has them) say it may hold tiers: its mean absolute deviation from the
//! median is out of proportion to its MAD, or its quartiles are lopsided. One
//! population has a mean-AD / MAD ratio of 1.18 (normal) to 1.44 (Student-t with 3
//! degrees of freedom) and a quartile skewness `(Q3 + Q1 - 2 median) / IQR` near 0; a
//! minor tier raises the ratio or skews the quartiles, two tiers of similar weight
//! lower the ratio towards 1 (the MAD then spans the gap). The screen keeps 99% of the
//! groups the fit splits (a test draws them).
//!
//! **Fit.** On the sorted values with `trim` of each end left out (wild values must not
//! place the split), the split that maximises the between-part variance (Otsu's
//! criterion, exact over every split point) with at least `min_lines` and `min_share`
//! of the group's values on each side. The split is kept when the two parts' medians
//! are at least `separation` times the sum of their robust standard deviations apart
//! (the halves of a normal group are 1.1 apart by this measure, of a Student-t(3)
//! group 1.3; the bar rises by `1 + 2 / sqrt(m)` for a smaller part of `m` values,
//! whose spread is uncertain), and each part holds `min_lines` and `min_share` of the
//! values within 3 of its robust sd of its median (a small cluster padded out with
//! another tier's tail is no tier). Each part is then split again the same way while
//! there are fewer than `max_tiers` parts. Every tier's statistics are exact order
//! statistics of its values (all of them, trimmed ends included), so a line is judged
//! against its tier exactly as against a group.

use super::order_stats::{OrderStats, order_stats, robust_sigma};

/// A group whose mean-AD / MAD ratio is above this may have a minor tier.
const SCREEN_HIGH: f64 = 1.5;
/// A group whose quartile skewness is beyond this may have a minor tier.
const SCREEN_SKEW: f64 = 0.15;
/// A group whose mean-AD / MAD ratio is below this may have tiers of similar weight.
const SCREEN_LOW: f64 = 1.1;

/// How close to its median (in its robust sd) a tier's `min_tier` values must be.
const CORE: f64 = 3.0;

/// How tiers are found. `min_share` is the breakdown point: a burst of anomalies
/// holding that share of a group's lines (a scheme, a long crisis) becomes a tier.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TierRule {
    /// Fewest values of a tier.
    pub min_lines: usize,
    /// Smallest share of the group's values in a tier.
    pub min_share: f64,
    /// Distance between neighbouring tiers' medians, in sums of their robust sd.
    pub separation: f64,
    /// Share of the values left out at each end when placing a split.
    pub trim: f64,
    /// Most tiers in a group.
    pub max_tiers: usize,
}

impl Default for TierRule {
    fn default() -> Self {
        TierRule {
            min_lines: 10,
            min_share: 0.1,
            separation: 2.0,
            trim: 0.025,
            max_tiers: 3,
        }
    }
}

/// The tiers of a group, in ascending price order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tiers {
    /// Exact order statistics of each tier's values.
    pub stats: Vec<OrderStats>,
}

impl Tiers {
    /// Index of the tier `x` is nearest to, in robust standard deviations of each
    /// tier (ties: the lower tier).
    pub fn nearest(&self, x: f64) -> usize {
        let mut best = (f64::INFINITY, 0);
        for (i, s) in self.stats.iter().enumerate() {
            let d = (x - s.median).abs() / spread(s);
            if d < best.0 {
                best = (d, i);
            }
        }
        best.1
    }
}

/// The robust sd of a tier; the smallest positive number when it is 0, so that
/// distance still orders tiers.
fn spread(s: &OrderStats) -> f64 {
    let sd = robust_sigma(s.mad, s.mean_ad);
    if sd > 0.0 { sd } else { f64::MIN_POSITIVE }
}

/// The tiers of a group whose order statistics are `pooled` (`None`: one population).
/// `values` are reordered; `scratch` is reused.
pub fn fit_tiers(
    values: &mut [f64],
    pooled: &OrderStats,
    rule: &TierRule,
    scratch: &mut Vec<f64>,
) -> Option<Tiers> {
    if screened_out(pooled) {
        return None;
    }
    fit(values, rule, scratch)
}

/// Whether the screen rules out tiers in a group with statistics `pooled`.
fn screened_out(pooled: &OrderStats) -> bool {
    let ratio = pooled.mean_ad / pooled.mad;
    let iqr = pooled.q3 - pooled.q1;
    let skew = (pooled.q3 + pooled.q1 - 2.0 * pooled.median) / iqr;
    !(pooled.mad > 0.0 && iqr > 0.0)
        || ((SCREEN_LOW..=SCREEN_HIGH).contains(&ratio) && skew.abs() <= SCREEN_SKEW)
}

/// [`fit_tiers`] without the screen.
fn fit(values: &mut [f64], rule: &TierRule, scratch: &mut Vec<f64>) -> Option<Tiers> {
    let n = values.len();
    let min_tier = rule
        .min_lines
        .max((rule.min_share * n as f64).ceil() as usize)
        .max(1);
    if n < 2 * min_tier || rule.max_tiers < 2 {
        return None;
    }
    values.sort_unstable_by(f64::total_cmp);
    // Parts as ranges of the sorted values; split the widest-separated first.
    let mut parts = vec![(0, n)];
    let mut i = 0;
    while i < parts.len() && parts.len() < rule.max_tiers {
        let (a, b) = parts[i];
        match split(&values[a..b], min_tier, rule, scratch) {
            Some(at) => {
                parts[i] = (a, a + at);
                parts.insert(i + 1, (a + at, b));
            }
            None => i += 1,
        }
    }
    if parts.len() < 2 {
        return None;
    }
    let stats = parts
        .iter()
        .filter_map(|&(a, b)| stats_of(&values[a..b], scratch))
        .collect();
    Some(Tiers { stats })
}

/// Exact order statistics of a part of the sorted values (left in order: computed on a
/// copy in `scratch`).
fn stats_of(part: &[f64], scratch: &mut Vec<f64>) -> Option<OrderStats> {
    scratch.clear();
    scratch.extend_from_slice(part);
    order_stats(scratch, &mut Vec::new())
}

/// Where to split sorted `v` in two tiers (the index of the first value of the upper
/// one), if the best split is separated enough.
fn split(v: &[f64], min_tier: usize, rule: &TierRule, scratch: &mut Vec<f64>) -> Option<usize> {
    let n = v.len();
    if n < 2 * min_tier {
        return None;
    }
    let cut = ((rule.trim * n as f64).floor() as usize).min(min_tier - 1);
    let w = &v[cut..n - cut];
    let total: f64 = w.iter().sum();
    // Split after `lo + k` sorted values: both sides must hold `min_tier` of all values.
    let (first, last) = (min_tier - cut, n - min_tier - cut);
    let mut left = 0.0;
    let mut best: Option<(f64, usize)> = None;
    for (k, &x) in w.iter().enumerate().take(last) {
        left += x;
        let k1 = k + 1;
        if k1 < first || w[k1] == x {
            continue;
        }
        let (nl, nr) = (k1 as f64, (w.len() - k1) as f64);
        let diff = left / nl - (total - left) / nr;
        let between = nl * nr * diff * diff;
        if best.is_none_or(|(b, _)| between > b) {
            best = Some((between, cut + k1));
        }
    }
    let (_, at) = best?;
    let (lo, hi) = (stats_of(&v[..at], scratch)?, stats_of(&v[at..], scratch)?);
    // A tier is a population: `min_tier` values close to its median, not a small
    // cluster that the side's size requirement filled up with another tier's tail.
    let core = |part: &[f64], s: &OrderStats| {
        let r = CORE * spread(s);
        part.partition_point(|&x| x <= s.median + r) - part.partition_point(|&x| x < s.median - r)
    };
    if core(&v[..at], &lo) < min_tier || core(&v[at..], &hi) < min_tier {
        return None;
    }
    // Small parts' spreads are uncertain: the bar rises as the smaller part shrinks.
    let smaller = lo.count.min(hi.count) as f64;
    let bar = rule.separation * (1.0 + 2.0 / smaller.sqrt()) * (spread(&lo) + spread(&hi));
    (hi.median - lo.median >= bar).then_some(at)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    fn uniform(rng: &mut ChaCha8Rng) -> f64 {
        ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let (a, b) = (uniform(rng), uniform(rng));
        (-2.0 * a.ln()).sqrt() * (2.0 * std::f64::consts::PI * b).cos()
    }

    /// Student-t with `nu` degrees of freedom (integer `nu`).
    fn student(rng: &mut ChaCha8Rng, nu: u32) -> f64 {
        let chi: f64 = (0..nu).map(|_| normal(rng).powi(2)).sum();
        normal(rng) / (chi / f64::from(nu)).sqrt()
    }

    fn tiers_of(values: &[f64]) -> Option<Tiers> {
        let pooled = order_stats(&mut values.to_vec(), &mut Vec::new()).unwrap();
        fit_tiers(
            &mut values.to_vec(),
            &pooled,
            &TierRule::default(),
            &mut Vec::new(),
        )
    }

    /// One population, normal or heavy-tailed, of any size, is (nearly) never split.
    #[test]
    fn one_population_is_one_tier() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for size in [20usize, 40, 100, 500, 3000] {
            for nu in [0u32, 3, 5] {
                let groups = 200;
                let split = (0..groups)
                    .filter(|_| {
                        let v: Vec<f64> = (0..size)
                            .map(|_| {
                                0.2 * if nu == 0 {
                                    normal(&mut rng)
                                } else {
                                    student(&mut rng, nu)
                                }
                            })
                            .collect();
                        tiers_of(&v).is_some()
                    })
                    .count();
                assert!(split <= 2, "{split} of {groups} groups of {size}, nu {nu}");
            }
        }
    }

    /// Two or three tiers a price ratio of 2 or more apart are found, and every line of
    /// a tier is nearest its own tier's median.
    #[test]
    fn separate_tiers_are_found() {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for (offsets, shares) in [
            (vec![0.0, 2f64.ln()], vec![0.8, 0.2]),
            (vec![0.0, 4f64.ln()], vec![0.5, 0.5]),
            (vec![0.0, 3f64.ln(), 9f64.ln()], vec![0.3, 0.5, 0.2]),
        ] {
            let mut v = Vec::new();
            let mut tier_of = Vec::new();
            for (t, (&o, &s)) in offsets.iter().zip(&shares).enumerate() {
                for _ in 0..(s * 400.0) as usize {
                    v.push(o + 0.08 * student(&mut rng, 5));
                    tier_of.push(t);
                }
            }
            let tiers = tiers_of(&v).unwrap_or_else(|| panic!("no tiers in {offsets:?}"));
            assert_eq!(tiers.stats.len(), offsets.len(), "{offsets:?}");
            let wrong = v
                .iter()
                .zip(&tier_of)
                .filter(|&(&x, &t)| tiers.nearest(x) != t)
                .count();
            assert!(wrong <= v.len() / 100, "{wrong} lines nearer another tier");
            assert_eq!(
                tiers.stats.iter().map(|s| s.count).sum::<u64>(),
                v.len() as u64
            );
        }
    }

    /// The screen passes every group the fit would split: two or three tiers of
    /// random shares, distances and noise, with and without wild values.
    #[test]
    fn the_screen_keeps_every_group_with_tiers() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let (mut split, mut kept) = (0, 0);
        for _ in 0..3000 {
            let k = 2 + (rng.next_u64() % 2) as usize;
            let size = 40 + (rng.next_u64() % 1500) as usize;
            let nu = [0u32, 3, 5][(rng.next_u64() % 3) as usize];
            let scale = 0.05 + 0.3 * uniform(&mut rng);
            let weights: Vec<f64> = (0..k).map(|_| 0.1 + uniform(&mut rng)).collect();
            let total: f64 = weights.iter().sum();
            let mut offset = 0.0;
            let mut v = Vec::new();
            for w in &weights {
                for _ in 0..(w / total * size as f64) as usize {
                    let e = if nu == 0 {
                        normal(&mut rng)
                    } else {
                        student(&mut rng, nu)
                    };
                    v.push(offset + scale * e);
                }
                offset += scale * (2.0 + 12.0 * uniform(&mut rng));
            }
            if rng.next_u64() % 2 == 0 {
                v.extend([1000f64.ln(); 3]);
            }
            let pooled = order_stats(&mut v.clone(), &mut Vec::new()).unwrap();
            if fit(&mut v, &TierRule::default(), &mut Vec::new()).is_some() {
                split += 1;
                kept += usize::from(!screened_out(&pooled));
            }
        }
        assert!(split > 1000, "only {split} groups split");
        assert!(
            kept * 100 >= split * 99,
            "the screen drops {} of {split}",
            split - kept
        );
    }

    /// A few wild values (unit slips) do not make a tier, nor does a burst of
    /// anomalies below `min_share` (gouging in a crisis: a tenth of the lines at 6 to
    /// 15 times the price).
    #[test]
    fn a_few_wild_values_are_no_tier() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut v: Vec<f64> = (0..500).map(|_| 0.1 * normal(&mut rng)).collect();
        v.extend([1000f64.ln(); 12]);
        v.extend([-(100f64.ln()); 6]);
        assert!(tiers_of(&v).is_none());
        v.extend((0..55).map(|_| 6f64.ln() + uniform(&mut rng) * (15f64 / 6.0).ln()));
        assert!(tiers_of(&v).is_none());
    }

    /// Each tier's statistics are the exact order statistics of its values, and the
    /// tiers cover the sorted values in order.
    #[test]
    fn tier_statistics_are_exact() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut v: Vec<f64> = (0..300).map(|_| 0.1 * normal(&mut rng)).collect();
        v.extend((0..100).map(|_| 2.0 + 0.1 * normal(&mut rng)));
        let tiers = tiers_of(&v).unwrap();
        let mut sorted = v.clone();
        sorted.sort_by(f64::total_cmp);
        let mut at = 0;
        for s in &tiers.stats {
            let part = &sorted[at..at + s.count as usize];
            let want = order_stats(&mut part.to_vec(), &mut Vec::new()).unwrap();
            assert_eq!(*s, want);
            at += s.count as usize;
        }
        assert_eq!(at, v.len());
    }
}
