//! Small, portable distributions on top of the ChaCha8 stream.
//!
//! Everything here uses only the raw `next_u64` stream, IEEE arithmetic and `libm`
//! (a pure-Rust libm), so a given seed produces the same numbers on every machine.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// 2^-53: turns the top 53 bits of a `u64` into a uniform double in [0, 1).
const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// Stream ids: every independent consumer of randomness gets its own ChaCha stream of
/// the same seed, so the output does not depend on how work is scheduled.
pub(crate) const STREAM_CATALOGUE: u64 = 1;
/// Stream of the planted series events.
pub(crate) const STREAM_EVENTS: u64 = 2;
/// Base stream of the per-month line-count plans (plus the month index).
pub(crate) const STREAM_MONTH_PLAN: u64 = 1 << 32;
/// Base stream of the per-month line contents (plus the month index).
pub(crate) const STREAM_MONTH_LINES: u64 = 2 << 32;

/// A seeded random source with the handful of distributions the generator needs.
pub(crate) struct Rand {
    rng: ChaCha8Rng,
    spare_normal: Option<f64>,
}

impl Rand {
    /// The ChaCha8 stream `stream` of `seed`.
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Rand {
            rng,
            spare_normal: None,
        }
    }

    /// Next raw 64-bit word.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * TWO_POW_M53
    }

    /// Uniform in (0, 1): never exactly 0, safe for `ln`.
    #[inline]
    pub(crate) fn open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * TWO_POW_M53
    }

    /// Uniform in [a, b).
    #[inline]
    pub(crate) fn uniform(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.f64()
    }

    /// Log-uniform in [a, b) (a, b > 0).
    #[inline]
    pub(crate) fn log_uniform(&mut self, a: f64, b: f64) -> f64 {
        libm::exp(self.uniform(libm::log(a), libm::log(b)))
    }

    /// Uniform integer in [0, n) (n > 0), by the multiply-high method.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index in [0, n) (n > 0).
    #[inline]
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability p.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Standard normal by the Box-Muller transform (the second value is kept for the
    /// next call).
    pub(crate) fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        let u1 = self.open01();
        let u2 = self.f64();
        let r = libm::sqrt(-2.0 * libm::log(u1));
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(r * libm::sin(theta));
        r * libm::cos(theta)
    }

    /// Normal with mean `mu` and standard deviation `sigma`.
    #[inline]
    pub(crate) fn gauss(&mut self, mu: f64, sigma: f64) -> f64 {
        mu + sigma * self.normal()
    }

    /// Fisher-Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// A discrete distribution over `0..n` given by weights: cumulative sums and a binary
/// search.
#[derive(Debug, Clone)]
pub(crate) struct Cdf {
    cum: Vec<f64>,
}

impl Cdf {
    /// From non-negative weights. An empty or all-zero weight vector gives a
    /// distribution that always returns 0.
    pub(crate) fn new(weights: &[f64]) -> Self {
        let mut cum = Vec::with_capacity(weights.len());
        let mut acc = 0.0;
        for &w in weights {
            acc += if w.is_finite() && w > 0.0 { w } else { 0.0 };
            cum.push(acc);
        }
        Cdf { cum }
    }

    /// Zipf-Mandelbrot weights `(rank + offset)^-exponent` for ranks 1..=n.
    pub(crate) fn zipf(n: usize, exponent: f64, offset: f64) -> Self {
        Cdf::new(&zipf_weights(n, exponent, offset))
    }

    /// Number of outcomes.
    pub(crate) fn len(&self) -> usize {
        self.cum.len()
    }

    /// Sum of the weights.
    pub(crate) fn total(&self) -> f64 {
        self.cum.last().copied().unwrap_or(0.0)
    }

    /// The weight of outcome `i` (0 outside the range).
    pub(crate) fn weight(&self, i: usize) -> f64 {
        match i {
            0 => self.cum.first().copied().unwrap_or(0.0),
            _ => match (self.cum.get(i), self.cum.get(i - 1)) {
                (Some(c), Some(p)) => c - p,
                _ => 0.0,
            },
        }
    }

    /// Draw one outcome.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rand) -> usize {
        let u = rng.f64() * self.total();
        let i = self.cum.partition_point(|&c| c <= u);
        i.min(self.cum.len().saturating_sub(1))
    }
}

/// Zipf-Mandelbrot weights `(rank + offset)^-exponent` for ranks 1..=n (not normalised).
pub(crate) fn zipf_weights(n: usize, exponent: f64, offset: f64) -> Vec<f64> {
    (1..=n)
        .map(|k| libm::pow(k as f64 + offset, -exponent))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rand::new(7, 3);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rand::new(7, 3);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = Rand::new(7, 4);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn normal_has_unit_moments() {
        let mut r = Rand::new(1, 0);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn cdf_follows_weights() {
        let cdf = Cdf::new(&[1.0, 0.0, 3.0]);
        let mut r = Rand::new(2, 0);
        let mut counts = [0u32; 3];
        for _ in 0..40_000 {
            counts[cdf.sample(&mut r)] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = f64::from(counts[2]) / f64::from(counts[0]);
        assert!((ratio - 3.0).abs() < 0.2, "{ratio}");
        assert_eq!(Cdf::new(&[]).sample(&mut r), 0);
    }
}
