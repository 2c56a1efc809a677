//! The realistic profile's per-code models (goods class, noise scale, price tiers)
//! and per-line planting probabilities, built once per run from stream
//! [`STREAM_REALISTIC`] of the seed.

use super::{
    CLASSES, CURRENCY, CURRENCY_RATES, GoodsClass, LINE_LABEL_SHARES, TIER_RATIO, TIER_WEIGHT,
    goods_class,
};
use crate::generate::catalogue::{Catalogue, ORIGINS};
use crate::generate::rng::Rand;
use crate::generate::{LINES_PER_DECLARATION_P, MAX_LINES_PER_DECLARATION};

/// Stream of the realistic per-code models (the clean profile uses streams 1 and 2 and
/// the month streams).
pub(crate) const STREAM_REALISTIC: u64 = 3;

/// Price tiers of a national code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tiers {
    /// Number of tiers, 1..=3.
    pub n: u8,
    /// ln price offset of each tier, ascending; the share-weighted mean is 0.
    pub offset: [f64; 3],
    /// Cumulative shares.
    pub cum: [f64; 3],
}

impl Tiers {
    /// The tier whose cumulative share first exceeds `u` in [0, 1).
    #[inline]
    pub(crate) fn at(&self, u: f64) -> usize {
        let n = usize::from(self.n);
        self.cum[..n].iter().position(|&c| u < c).unwrap_or(n - 1)
    }

    /// The share of tier `k`.
    #[cfg(test)]
    pub(crate) fn share(&self, k: usize) -> f64 {
        if k == 0 {
            self.cum[0]
        } else {
            self.cum[k] - self.cum[k - 1]
        }
    }
}

/// The realistic model of one national code.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeModel {
    /// Goods class.
    pub class: GoodsClass,
    /// Noise scale `s`.
    pub scale: f64,
    /// Price tiers.
    pub tiers: Tiers,
}

/// The realistic profile's models, built once per run.
#[derive(Debug)]
pub(crate) struct World {
    /// Per national code, in catalogue order.
    pub(crate) codes: Vec<CodeModel>,
    /// Seed (for the importer-tier hash).
    pub(crate) seed: u64,
    /// Per-line probability of under-valuation, by class.
    pub(crate) p_under: [f64; 3],
    /// Per-line probability of over-valuation.
    pub(crate) p_over: f64,
    /// Per-line probability of a wrong unit.
    pub(crate) p_wrong_unit: f64,
    /// Per-line probability of a currency slip on a line whose origin has a rate.
    pub(crate) p_currency: f64,
    /// Per-line probability of a duplicate on the 2nd.. line of a declaration.
    pub(crate) p_duplicate: f64,
    /// Rate of each origin (index into `ORIGINS`), 0 where it carries no slips.
    pub(crate) origin_rate: Vec<f64>,
    /// Line share of each class.
    pub(crate) class_share: [f64; 3],
    /// National codes by expected lines: < 10, 10-50, 50-500, >= 500.
    pub(crate) codes_by_size: [u64; 4],
}

/// The documented share of a realistic line label (0 for unknown names).
pub(crate) fn share(label: &str) -> f64 {
    LINE_LABEL_SHARES
        .iter()
        .find(|(k, _)| *k == label)
        .map_or(0.0, |(_, v)| *v)
}

impl World {
    /// Build the per-code models from stream [`STREAM_REALISTIC`] of `seed`.
    pub(crate) fn build(seed: u64, rows: u64, cat: &Catalogue) -> World {
        let mut rng = Rand::new(seed, STREAM_REALISTIC);
        let mut class_share = [0.0; 3];
        let mut codes_by_size = [0u64; 4];
        let codes: Vec<CodeModel> = cat
            .nats
            .iter()
            .map(|nat| {
                let class = goods_class(&nat.code);
                let p = class.params();
                class_share[class as usize] += nat.share;
                let expected = rows as f64 * nat.share;
                let size = match expected {
                    e if e < 10.0 => 0,
                    e if e < 50.0 => 1,
                    e if e < 500.0 => 2,
                    _ => 3,
                };
                codes_by_size[size] += 1;
                let scale = rng.uniform(p.scale.0, p.scale.1);
                let u = rng.f64();
                let n = if u < p.p_three_tiers {
                    3
                } else if u < p.p_three_tiers + p.p_two_tiers {
                    2
                } else {
                    1
                };
                CodeModel {
                    class,
                    scale,
                    tiers: draw_tiers(n, &mut rng),
                }
            })
            .collect();

        let under_norm: f64 = CLASSES
            .iter()
            .zip(class_share)
            .map(|(c, s)| c.under_weight * s)
            .sum();
        let p_under = CLASSES.map(|c| {
            if under_norm > 0.0 {
                share("under_valuation") * c.under_weight / under_norm
            } else {
                0.0
            }
        });
        let origin_rate: Vec<f64> = ORIGINS
            .iter()
            .map(|o| {
                CURRENCY_RATES
                    .iter()
                    .find(|(c, _, r)| c == o && *r >= CURRENCY.min_rate)
                    .map_or(0.0, |(_, _, r)| *r)
            })
            .collect();
        let origin_total = cat.origin_cdf.total();
        let slip_origin_share: f64 = (0..ORIGINS.len())
            .filter(|&o| origin_rate[o] > 0.0)
            .map(|o| cat.origin_cdf.weight(o) / origin_total)
            .sum();
        World {
            codes,
            seed,
            p_under,
            p_over: share("over_valuation"),
            p_wrong_unit: share("wrong_unit"),
            p_currency: if slip_origin_share > 0.0 {
                (share("currency_slip") / slip_origin_share).min(0.3)
            } else {
                0.0
            },
            p_duplicate: share("duplicate") / later_line_share(),
            origin_rate,
            class_share,
            codes_by_size,
        }
    }

    /// Number of national codes with 1, 2 and 3 tiers.
    pub(crate) fn tier_counts(&self) -> [u64; 3] {
        let mut out = [0u64; 3];
        for c in &self.codes {
            out[usize::from(c.tiers.n) - 1] += 1;
        }
        out
    }

    /// Number of national codes by class.
    pub(crate) fn class_counts(&self) -> [u64; 3] {
        let mut out = [0u64; 3];
        for c in &self.codes {
            out[c.class as usize] += 1;
        }
        out
    }

    /// The importer's preferred tier of a code: a fixed hash of (seed, importer, code)
    /// read as a uniform draw over the tier shares.
    #[inline]
    pub(crate) fn preferred_tier(&self, importer: u32, nat: usize) -> usize {
        let tiers = &self.codes[nat].tiers;
        if tiers.n == 1 {
            return 0;
        }
        let h = splitmix64(self.seed ^ (u64::from(importer) << 32) ^ nat as u64);
        tiers.at((h >> 11) as f64 / 9_007_199_254_740_992.0)
    }
}

/// Share of lines that are not the first of their declaration (truncated geometric).
fn later_line_share() -> f64 {
    let p = LINES_PER_DECLARATION_P;
    let w: Vec<f64> = (0..MAX_LINES_PER_DECLARATION)
        .map(|k| p * libm::pow(1.0 - p, k as f64))
        .collect();
    let total: f64 = w.iter().sum();
    let mean: f64 = w
        .iter()
        .enumerate()
        .map(|(k, x)| (k + 1) as f64 * x)
        .sum::<f64>()
        / total;
    1.0 - 1.0 / mean
}

/// Tiers: `n` prices with adjacent ratios in [`TIER_RATIO`] and shares from
/// [`TIER_WEIGHT`], centred so the share-weighted mean ln offset is 0.
fn draw_tiers(n: u8, rng: &mut Rand) -> Tiers {
    let k = usize::from(n);
    let mut offset = [0.0; 3];
    for i in 1..k {
        offset[i] = offset[i - 1] + libm::log(rng.uniform(TIER_RATIO.0, TIER_RATIO.1));
    }
    let mut w = [0.0; 3];
    if k == 1 {
        w[0] = 1.0;
    } else {
        for x in w.iter_mut().take(k) {
            *x = rng.uniform(TIER_WEIGHT.0, TIER_WEIGHT.1);
        }
    }
    let total: f64 = w.iter().sum();
    let mean: f64 = (0..k).map(|i| offset[i] * w[i] / total).sum();
    let mut cum = [1.0; 3];
    let mut acc = 0.0;
    for i in 0..k {
        offset[i] -= mean;
        acc += w[i] / total;
        cum[i] = if i + 1 == k { 1.0 } else { acc };
    }
    Tiers { n, offset, cum }
}

/// SplitMix64 finaliser: a fixed, portable 64-bit mix.
#[inline]
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
