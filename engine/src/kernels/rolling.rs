//! Trailing-window statistics of a time series: for each period `t`, the median, MAD
//! and mean absolute deviation of the previous `window` periods (`x[t-window..t]`,
//! clipped at the start; the current period is excluded).
//!
//! The window is kept sorted: each step inserts one value and removes one (binary
//! search and a shift, O(window)), and the median is read off the middle. The absolute
//! deviations of the two halves of the window (left half reversed) are two ascending
//! runs: the MAD is selected from them by binary search (O(log window)), and the mean
//! absolute deviation, where asked for, merges them and sums in ascending order. A
//! series of `n` periods costs O(n * window) for the shifts, with no allocation after
//! the first call.
//!
//! Medians follow the same definition as [`super::order_stats`] (DuckDB's
//! `quantile_cont(x, 0.5)`), so a trailing median can be re-checked in SQL.
//!
//! NaN marks an absent period: it takes a place in the window (`len`) but no value
//! (`count`); the statistics describe the values present. The volume detectors use it
//! to judge ln amounts of active periods only (ln 0 is absent).

use super::order_stats::{interpolate, pairwise_sum, quantile_position};

/// Statistics of one trailing window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowStats {
    /// Periods in the window (less than the window length near the start).
    pub len: usize,
    /// Periods in the window with a value (not NaN).
    pub count: usize,
    /// Periods in the window with a non-zero value.
    pub nonzero: usize,
    /// Median of the window.
    pub median: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad: f64,
    /// Mean absolute deviation from the median.
    pub mean_ad: f64,
}

impl WindowStats {
    /// Statistics of a window given whole, by sorting (for short ad-hoc windows: the
    /// seasonal comparison); `None` when no value is present.
    pub fn of(values: &[f64]) -> Option<WindowStats> {
        Self::of_with(values, &mut Vec::new(), &mut Vec::new())
    }

    /// [`WindowStats::of`] with reused buffers.
    pub fn of_with(
        values: &[f64],
        sorted: &mut Vec<f64>,
        dev: &mut Vec<f64>,
    ) -> Option<WindowStats> {
        sorted.clear();
        sorted.extend(values.iter().copied().filter(|v| !v.is_nan()));
        sorted.sort_unstable_by(f64::total_cmp);
        stats_of_sorted(sorted, values.len(), dev, MeanAd::Always)
    }
}

/// Reusable state of the trailing-window kernel.
#[derive(Debug, Clone, Default)]
pub struct TrailingWindow {
    window: usize,
    sorted: Vec<f64>,
    dev: Vec<f64>,
}

impl TrailingWindow {
    /// A kernel for windows of `window` periods (at least 1).
    pub fn new(window: usize) -> TrailingWindow {
        TrailingWindow {
            window: window.max(1),
            sorted: Vec::with_capacity(window + 1),
            dev: Vec::with_capacity(window + 1),
        }
    }

    /// Call `f(t, window)` for every `t` in `from..x.len()` with `from >= 1`, where
    /// `window` is `x[t.saturating_sub(window)..t]`. Periods before `from` only feed the
    /// window. Counts are O(log window); [`Window::stats`] costs O(window), so callers
    /// ask for it only where they need it.
    pub fn run(&mut self, x: &[f64], from: usize, mut f: impl FnMut(usize, Window<'_>)) {
        let from = from.max(1);
        self.sorted.clear();
        if from > x.len() {
            return;
        }
        for &v in &x[from.saturating_sub(self.window)..from] {
            insert(&mut self.sorted, v);
        }
        for t in from..x.len() {
            f(
                t,
                Window {
                    sorted: &self.sorted,
                    len: t.min(self.window),
                    dev: &mut self.dev,
                },
            );
            if t + 1 > self.window {
                slide(&mut self.sorted, x[t - self.window], x[t]);
            } else {
                insert(&mut self.sorted, x[t]);
            }
        }
    }
}

/// One trailing window, as [`TrailingWindow::run`] hands it over.
#[derive(Debug)]
pub struct Window<'a> {
    sorted: &'a [f64],
    len: usize,
    dev: &'a mut Vec<f64>,
}

impl Window<'_> {
    /// Periods in the window.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the window has no period.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Periods with a value (not NaN).
    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// Periods with a non-zero value.
    pub fn nonzero(&self) -> usize {
        let neg = self.sorted.partition_point(|&v| v < 0.0);
        let zero = self.sorted[neg..].partition_point(|&v| v == 0.0);
        self.sorted.len() - zero
    }

    /// The median of the window's values, as [`Window::stats`] gives it (without the
    /// deviations): a rule that needs a value far from the median can be ruled out
    /// before its spread is computed.
    pub fn median(&self) -> Option<f64> {
        let n = self.sorted.len();
        (n > 0).then(|| {
            let (lo, frac) = quantile_position(n, 0.5);
            interpolate(self.sorted[lo], self.sorted[(lo + 1).min(n - 1)], frac)
        })
    }

    /// The window's statistics; `None` when no value is present.
    pub fn stats(&mut self) -> Option<WindowStats> {
        stats_of_sorted(self.sorted, self.len, self.dev, MeanAd::Always)
    }

    /// [`Window::stats`] for the robust-spread rule, which reads the mean absolute
    /// deviation only when the MAD is 0: the deviations are merged (for the mean AD)
    /// only then, and `mean_ad` is NaN when `mad > 0`.
    pub fn spread_stats(&mut self) -> Option<WindowStats> {
        stats_of_sorted(self.sorted, self.len, self.dev, MeanAd::AtZeroMad)
    }
}

fn insert(sorted: &mut Vec<f64>, v: f64) {
    if v.is_nan() {
        return;
    }
    let at = sorted.partition_point(|&s| s.total_cmp(&v).is_lt());
    sorted.insert(at, v);
}

/// Remove `old` (present unless NaN) and insert `new`, shifting only the values between
/// their places.
fn slide(sorted: &mut Vec<f64>, old: f64, new: f64) {
    if old.is_nan() || new.is_nan() {
        remove(sorted, old);
        insert(sorted, new);
        return;
    }
    let from = sorted.partition_point(|&s| s.total_cmp(&old).is_lt());
    if !sorted.get(from).is_some_and(|s| s.total_cmp(&old).is_eq()) {
        insert(sorted, new);
        return;
    }
    let to = sorted.partition_point(|&s| s.total_cmp(&new).is_lt());
    if to > from {
        sorted.copy_within(from + 1..to, from);
        sorted[to - 1] = new;
    } else {
        sorted.copy_within(to..from, to + 1);
        sorted[to] = new;
    }
}

fn remove(sorted: &mut Vec<f64>, v: f64) {
    if v.is_nan() {
        return;
    }
    let at = sorted.partition_point(|&s| s.total_cmp(&v).is_lt());
    if sorted.get(at).is_some_and(|s| s.total_cmp(&v).is_eq()) {
        sorted.remove(at);
    }
}

/// Statistics of the ascending values present in a window of `len` periods; `dev` is
/// scratch for the sorted deviations.
fn stats_of_sorted(
    sorted: &[f64],
    len: usize,
    dev: &mut Vec<f64>,
    mean_ad: MeanAd,
) -> Option<WindowStats> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let (lo, frac) = quantile_position(n, 0.5);
    let median = interpolate(sorted[lo], sorted[(lo + 1).min(n - 1)], frac);
    // Deviations of the values below the median grow leftwards, those at or above it
    // grow rightwards: two ascending runs. The MAD is selected from them by binary
    // search (O(log n)); the mean absolute deviation, needed less often, merges them.
    let split = sorted.partition_point(|&v| v < median);
    let mut merge = Deviations {
        sorted,
        median,
        left: split,
        right: split,
    };
    dev.clear();
    let mad = if sorted[0].is_finite() && sorted[n - 1].is_finite() {
        let (at, next) = merge.select(lo, frac != 0.0);
        interpolate(at, next, frac)
    } else {
        // Infinite values make NaN deviations, which break the runs' order: merge.
        merge.fill(dev, (lo + 2).min(n));
        interpolate(dev[lo], dev[(lo + 1).min(n - 1)], frac)
    };
    let mean_ad = if mean_ad == MeanAd::Always || mad <= 0.0 || mad.is_nan() {
        merge.fill(dev, n);
        pairwise_sum(dev) / n as f64
    } else {
        f64::NAN
    };
    let neg = sorted.partition_point(|&v| v < 0.0);
    let nonzero = n - sorted[neg..].partition_point(|&v| v == 0.0);
    Some(WindowStats {
        len,
        count: n,
        nonzero,
        median,
        mad,
        mean_ad,
    })
}

/// When [`stats_of_sorted`] computes the mean absolute deviation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MeanAd {
    Always,
    /// Only when the MAD is 0 (NaN otherwise).
    AtZeroMad,
}

/// The absolute deviations from the median of a sorted window, in ascending order: a
/// merge of the values below the median (walked leftwards from `left`) and those at or
/// above it (rightwards from `right`).
struct Deviations<'a> {
    sorted: &'a [f64],
    median: f64,
    left: usize,
    right: usize,
}

impl Deviations<'_> {
    /// Deviation `left - 1 - i` below the median (the `i`-th of the left run).
    fn below(&self, i: usize) -> f64 {
        self.median - self.sorted[self.left - 1 - i]
    }

    /// Deviation `right + j` at or above the median (the `j`-th of the right run).
    fn above(&self, j: usize) -> f64 {
        self.sorted[self.right + j] - self.median
    }

    /// The `k`-th deviation in ascending order and, when `with_next`, the one after it
    /// (the `k`-th again at the end), as [`Deviations::fill`] would place them, without
    /// merging: a binary search for how many of the first `k + 1` come from the left
    /// run. The runs must be ascending (no NaN deviation), and nothing taken yet.
    fn select(&self, k: usize, with_next: bool) -> (f64, f64) {
        let (na, nb) = (self.left, self.sorted.len() - self.right);
        let m = k + 1;
        // Taking `i` from the left is too few when the left's next one comes before the
        // right's last one taken (ties go left first, as in the merge). Within the
        // search, `i < na` and `0 <= m - i - 1 < nb`.
        let too_few = |i: usize| self.below(i) <= self.above(m - i - 1);
        let (mut lo, mut hi) = (m.saturating_sub(nb), m.min(na));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if too_few(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let (i, j) = (lo, m - lo);
        let at = match (i, j) {
            (0, _) => self.above(j - 1),
            (_, 0) => self.below(i - 1),
            _ => self.below(i - 1).max(self.above(j - 1)),
        };
        let next = match (i < na, j < nb) {
            _ if !with_next => at,
            (true, true) => self.below(i).min(self.above(j)),
            (true, false) => self.below(i),
            (false, true) => self.above(j),
            (false, false) => at,
        };
        (at.abs(), next.abs())
    }

    /// Extend `dev` with the next deviations until it holds `upto` of them.
    fn fill(&mut self, dev: &mut Vec<f64>, upto: usize) {
        let (sorted, median, n) = (self.sorted, self.median, self.sorted.len());
        while dev.len() < upto {
            let left = (self.left > 0).then(|| median - sorted[self.left - 1]);
            let right = (self.right < n).then(|| sorted[self.right] - median);
            match (left, right) {
                (Some(l), Some(r)) if l.total_cmp(&r).is_le() => {
                    dev.push(l.abs());
                    self.left -= 1;
                }
                (Some(_), Some(r)) | (None, Some(r)) => {
                    dev.push(r.abs());
                    self.right += 1;
                }
                (Some(l), None) => {
                    dev.push(l.abs());
                    self.left -= 1;
                }
                (None, None) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Independent reference: slice the window, sort it, sort the deviations.
    fn naive(x: &[f64], window: usize, t: usize) -> Option<WindowStats> {
        let w = &x[t.saturating_sub(window)..t];
        let mut s: Vec<f64> = w.iter().copied().filter(|v| !v.is_nan()).collect();
        if s.is_empty() {
            return None;
        }
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let mid = |v: &[f64]| {
            if n % 2 == 1 {
                v[n / 2]
            } else {
                let (a, b) = (v[n / 2 - 1], v[n / 2]);
                a + 0.5 * (b - a)
            }
        };
        let median = mid(&s);
        let mut d: Vec<f64> = s.iter().map(|v| (v - median).abs()).collect();
        d.sort_by(f64::total_cmp);
        Some(WindowStats {
            len: w.len(),
            count: n,
            nonzero: s.iter().filter(|&&v| v != 0.0).count(),
            median,
            mad: mid(&d),
            mean_ad: pairwise_sum(&d) / n as f64,
        })
    }

    fn check(x: &[f64], window: usize, from: usize) {
        let mut k = TrailingWindow::new(window);
        let mut seen = Vec::new();
        k.run(x, from, |t, mut w| {
            // The spread statistics are the full ones, but for the mean AD when the
            // MAD is not 0.
            let spread = w.spread_stats().map(|s| (s.mad > 0.0, s));
            let s = w.stats();
            let want = s.map(|s| {
                let mad_positive = s.mad > 0.0;
                let mean_ad = if mad_positive { f64::NAN } else { s.mean_ad };
                (mad_positive, WindowStats { mean_ad, ..s })
            });
            assert_eq!(
                format!("{spread:?}"),
                format!("{want:?}"),
                "spread_stats at t={t}"
            );
            if let Some(s) = s {
                assert_eq!(
                    (w.count(), w.nonzero(), w.len()),
                    (s.count, s.nonzero, s.len)
                );
                seen.push((t, s));
            }
        });
        let expected: Vec<(usize, WindowStats)> = (from.max(1)..x.len())
            .filter_map(|t| naive(x, window, t).map(|s| (t, s)))
            .collect();
        assert_eq!(seen, expected, "x={x:?} window={window} from={from}");
    }

    #[test]
    fn edge_cases() {
        // All-zero series: median, MAD and spread are 0, no non-zero period.
        check(&[0.0; 40], 26, 1);
        let mut k = TrailingWindow::new(26);
        k.run(&[0.0; 40], 8, |_, mut w| {
            let s = w.stats().unwrap_or_else(|| panic!("zeros are values"));
            assert_eq!((s.median, s.mad, s.mean_ad, s.nonzero), (0.0, 0.0, 0.0, 0));
        });
        // A single non-zero week, seen inside the window then leaving it.
        let mut x = vec![0.0; 60];
        x[10] = 500.0;
        check(&x, 26, 1);
        let mut nz = Vec::new();
        TrailingWindow::new(26).run(&x, 1, |t, w| nz.push((t, w.nonzero())));
        assert!(nz.iter().all(|&(t, n)| n == usize::from(t > 10 && t <= 36)));
        // Series shorter than the window, and shorter than `from`.
        check(&[3.0, 1.0, 2.0], 26, 1);
        check(&[3.0, 1.0, 2.0], 26, 5);
        check(&[], 26, 1);
        // Window of one period.
        check(&[1.0, 5.0, 2.0, 2.0, 9.0], 1, 1);
        // Absent periods take a place in the window but no value.
        let x = [f64::NAN, 2.0, f64::NAN, 4.0, f64::NAN, f64::NAN];
        check(&x, 3, 1);
        let mut seen = Vec::new();
        TrailingWindow::new(3).run(&x, 1, |t, mut w| {
            if let Some(s) = w.stats() {
                seen.push((t, s.len, s.count, s.median));
            }
        });
        assert_eq!(
            seen,
            vec![
                (2, 2, 1, 2.0),
                (3, 3, 1, 2.0),
                (4, 3, 2, 3.0),
                (5, 3, 1, 4.0)
            ]
        );
        // Even window: median is the mean of the two middle values.
        let s = WindowStats::of(&[1.0, 2.0, 4.0, 10.0]).unwrap_or_else(|| panic!("empty"));
        assert_eq!((s.median, s.mad), (3.0, 1.5));
    }

    proptest! {
        /// The MAD's binary-search selection places every deviation where the merge
        /// does: signed zeros, ties, negative values and deviations that overflow.
        #[test]
        fn selection_matches_the_merge(
            mut x in prop::collection::vec(
                prop_oneof![
                    2 => Just(0.0),
                    2 => Just(-0.0),
                    3 => (-3i32..4).prop_map(f64::from),
                    1 => Just(f64::MAX),
                    1 => Just(-f64::MAX),
                    4 => -1e6f64..1e6,
                ],
                1..80,
            ),
        ) {
            x.sort_by(f64::total_cmp);
            let n = x.len();
            let (lo, frac) = quantile_position(n, 0.5);
            let median = interpolate(x[lo], x[(lo + 1).min(n - 1)], frac);
            let split = x.partition_point(|&v| v < median);
            let runs = || Deviations { sorted: &x, median, left: split, right: split };
            let mut merged = Vec::new();
            runs().fill(&mut merged, n);
            for k in 0..n {
                let (at, next) = runs().select(k, true);
                let want = (merged[k], merged[(k + 1).min(n - 1)]);
                prop_assert_eq!((at.to_bits(), next.to_bits()), (want.0.to_bits(), want.1.to_bits()), "k={}", k);
                prop_assert_eq!(runs().select(k, false).0.to_bits(), at.to_bits());
            }
        }

        #[test]
        fn matches_naive_reference(
            x in prop::collection::vec(
                prop_oneof![
                    3 => Just(0.0),
                    1 => Just(f64::NAN),
                    2 => (0u32..5).prop_map(f64::from),
                    4 => 0.0f64..1e6,
                ],
                0..120,
            ),
            window in 1usize..40,
            from in 0usize..20,
        ) {
            check(&x, window, from);
        }
    }
}
