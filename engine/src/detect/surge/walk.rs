//! The walk of one series: the trailing and seasonal windows, the surge and drop rules,
//! episodes.

use std::cmp::Ordering;

use super::{NotJudged, Series, SeriesFlag, Surge, SurgeBasis, SurgeCounts, SurgeScratch};
use crate::detect::Direction;
use crate::detect::scale::robust_sigma;
use crate::kernels::rolling::WindowStats;
use crate::kernels::tail::{calibrated_z, normal_z_of_ln_sf};
use crate::series::entries::Prior;

/// A rule's score with what the explanation needs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Judged {
    pub(super) score: f64,
    pub(super) basis: SurgeBasis,
    pub(super) expected_lines: f64,
}

impl Surge {
    /// Judge every period of a series from `series.from` on; `complete(t)` says whether
    /// the data covers period `t` entirely (drops are judged only there). Flags (one per
    /// episode that reaches `from`) go to `out`, counts to `counts`.
    pub fn judge_series(
        &self,
        series: &Series<'_>,
        complete: impl Fn(usize) -> bool,
        scratch: &mut SurgeScratch,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) {
        let x = series.amounts;
        let Some(first) = x.iter().position(|&v| v > 0.0) else {
            return;
        };
        if x.len() <= self.count_from(first) {
            counts.series_not_judged[NotJudged::TooShort as usize] += 1;
            counts.periods_not_judged[NotJudged::TooShort as usize] +=
                (x.len() - first.max(series.from).min(x.len())) as u64;
            return;
        }
        scratch.prepare(x, series.lines);
        let mark = out.len();
        // Each walk starts at `from`; when an episode is open there, it starts one
        // window earlier, until the episode's start is inside the walk.
        let active = x.iter().filter(|&&v| v > 0.0).count();
        let drops = self.drops && active * 2 > self.min_history;
        for pass in [false, true] {
            if pass && !drops {
                break;
            }
            let mut start = series.from.max(first);
            loop {
                let (pass_mark, saved) = (out.len(), *counts);
                let open = if pass {
                    self.drops(series, first, &complete, start, scratch, counts, out)
                } else {
                    self.surges(series, first, start, scratch, counts, out)
                };
                if !open || start <= first + self.min_history {
                    break;
                }
                out.truncate(pass_mark);
                *counts = saved;
                start = start.saturating_sub(self.window).max(first);
            }
        }
        reaching(series.from, mark, out);
    }

    /// The surge walk from `start` (`first`: the series' first active period); whether
    /// period `start` was flagged.
    fn surges(
        &self,
        series: &Series<'_>,
        first: usize,
        start: usize,
        scratch: &mut SurgeScratch,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) -> bool {
        let (x, prior) = (series.amounts, series.prior);
        let SurgeScratch {
            kernel,
            ln,
            active_lines,
            cum,
            sorted,
            dev,
        } = scratch;
        let window = self.window;
        let mut judged = 0u64;
        let mut open = false;
        let mut episodes = Episodes::default();
        if start == 0 {
            // The kernel starts at period 1: period 0 has no history.
            counts.periods_not_judged[NotJudged::TooShort as usize] += 1;
        }
        let count_from = self.count_from(first);
        kernel.run(ln, start, |t, mut w| {
            if t < count_from {
                counts.periods_not_judged[NotJudged::TooShort as usize] += 1;
                episodes.push(t, None, out);
                return;
            }
            // The series' first periods: too little history of its own for the robust
            // rules; the count model leans on the panel.
            let early = t < first + self.min_history;
            judged += 1;
            if x[t] <= 0.0 {
                episodes.push(t, None, out);
                return;
            }
            let (active, len) = (w.count(), w.len());
            let steady = self.steady(active, len);
            // Both robust rules need the amount at `min_ratio` times the window's median:
            // the spread is computed only when it is.
            let robust_window = active >= self.min_nonzero && !early;
            let far =
                |m: f64| (ln[t] - m).exp().partial_cmp(&self.min_ratio) != Some(Ordering::Less);
            let mut amounts = if robust_window && w.median().is_some_and(far) {
                w.spread_stats()
            } else {
                None
            };
            let in_window = cum[t] - cum[t.saturating_sub(window)];
            let robust = amounts.and_then(|aw| {
                let lines_window = || {
                    steady
                        .then(|| {
                            WindowStats::of_with(
                                &active_lines[t.saturating_sub(window)..t],
                                sorted,
                                dev,
                            )
                        })
                        .flatten()
                };
                let score = self.robust_rules(ln[t], &aw, active_lines[t], lines_window, prior)?;
                // Against the same season a year earlier.
                let season = self
                    .seasonal_window(ln, t)
                    .filter(|sw| sw.count > 0)
                    .map(|sw| {
                        let swn = || self.seasonal_window(active_lines, t);
                        self.robust_rules(ln[t], &sw, active_lines[t], swn, prior)
                    });
                with_season(score, season, counts)
            });
            let count = self
                .count_rule(active_lines[t], in_window, (t - first).min(window), prior)
                .and_then(|j| {
                    let seasonal = self.seasonal_span(t).map(|(a, b)| (cum[b] - cum[a], b - a));
                    self.seasonal_count(j, active_lines[t], seasonal, prior, counts)
                });
            let best = match (robust, count) {
                (Some(a), Some(b)) => Some(if b.score > a.score { b } else { a }),
                (a, b) => a.or(b),
            };
            if best.is_some() && amounts.is_none() && robust_window {
                amounts = w.spread_stats();
            }
            let flag = best.map(|j| SeriesFlag {
                t,
                start: t,
                score: j.score,
                direction: Direction::High,
                basis: j.basis,
                observed: x[t],
                lines: active_lines[t],
                window: amounts
                    .or_else(|| WindowStats::of_with(&ln[t.saturating_sub(window)..t], sorted, dev))
                    .unwrap_or(empty_window(len)),
                episode: 1,
                expected_lines: j.expected_lines,
                window_lines: in_window,
            });
            open |= t == start && flag.is_some();
            episodes.push(t, flag, out);
        });
        episodes.close(out);
        if judged > 0 {
            counts.series_judged += 1;
            counts.periods_judged += judged;
        } else {
            counts.series_not_judged[NotJudged::TooShort as usize] += 1;
        }
        open
    }

    /// The first period of a series whose first active period is `first` that the count
    /// model judges: `first` itself (against the panel alone), unless the series began
    /// within the data's first `min_history` periods, when it may have begun before the
    /// data and its first periods are left out (`too_short`).
    pub(super) fn count_from(&self, first: usize) -> usize {
        if first < self.min_history {
            first + self.min_history
        } else {
            first
        }
    }

    /// The drop walk from `start` (amounts, zeros included, steady windows only: active
    /// in more than half of at least `min_history` periods); whether period `start` was
    /// flagged.
    #[allow(clippy::too_many_arguments)]
    fn drops(
        &self,
        series: &Series<'_>,
        first: usize,
        complete: &impl Fn(usize) -> bool,
        start: usize,
        scratch: &mut SurgeScratch,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) -> bool {
        let (x, prior) = (series.amounts, series.prior);
        if !self.has_steady_window(x, start) {
            return false;
        }
        let SurgeScratch {
            kernel,
            active_lines,
            cum,
            ..
        } = scratch;
        let mut open = false;
        let mut episodes = Episodes::default();
        kernel.run(x, start, |t, mut w| {
            // A steady window (median above 0) is active in more than half its periods.
            // A drop needs the amount at most the median over `min_ratio`: the spread is
            // computed only then.
            let steady = self.steady(w.nonzero(), w.len());
            let low = |m: f64| (x[t] * self.min_ratio).partial_cmp(&m) != Some(Ordering::Greater);
            let judged = complete(t) && steady && w.median().is_some_and(low);
            let Some(w) = judged.then(|| w.spread_stats()).flatten() else {
                episodes.push(t, None, out);
                return;
            };
            let w = &w;
            let lines = if active_lines[t].is_nan() {
                0.0
            } else {
                active_lines[t]
            };
            let in_window = cum[t] - cum[t.saturating_sub(self.window)];
            let periods = (t - first).min(self.window);
            let judge = |w: &WindowStats, window_lines: f64, periods: usize| {
                self.drop(x[t], w, lines, window_lines, periods, prior)
            };
            let flag = (w.median > 0.0)
                .then(|| judge(w, in_window, periods))
                .flatten()
                .and_then(|score| match self.seasonal_window(x, t) {
                    Some(sw) if sw.median > 0.0 => {
                        let (a, b) = self.seasonal_span(t).unwrap_or((t, t));
                        match judge(&sw, cum[b] - cum[a], b - a) {
                            Some(s) => Some(s.min(score)),
                            None => {
                                counts.withdrawn_by_season += 1;
                                None
                            }
                        }
                    }
                    _ => Some(score),
                })
                .map(|score| SeriesFlag {
                    t,
                    start: t,
                    score,
                    direction: Direction::Low,
                    basis: SurgeBasis::Drop,
                    observed: x[t],
                    lines,
                    window: *w,
                    episode: 1,
                    expected_lines: f64::NAN,
                    window_lines: in_window,
                });
            open |= t == start && flag.is_some();
            episodes.push(t, flag, out);
        });
        episodes.close(out);
        open
    }

    /// Whether a window of `len` periods with `nonzero` non-zero ones is steady.
    fn steady(&self, nonzero: usize, len: usize) -> bool {
        nonzero * 2 > len && nonzero >= self.min_nonzero
    }

    /// Whether any window the drop walk from `start` sees is steady, by a sliding count
    /// of non-zero periods: most sparse series have none, and their walk (a sorted
    /// window of mostly zeros) is skipped.
    fn has_steady_window(&self, x: &[f64], start: usize) -> bool {
        let nonzero = |v: f64| usize::from(v != 0.0 && !v.is_nan());
        let from = start.max(1);
        if from >= x.len() {
            return false;
        }
        let first = from.saturating_sub(self.window);
        let mut count: usize = x[first..from].iter().map(|&v| nonzero(v)).sum();
        for t in from..x.len() {
            if self.steady(count, t.min(self.window)) {
                return true;
            }
            count += nonzero(x[t]);
            if t + 1 > self.window {
                count -= nonzero(x[t - self.window]);
            }
        }
        false
    }

    /// The spread of a window, with the mean-AD rule at MAD = 0 and a floor.
    fn scale(w: &WindowStats, floor: f64) -> f64 {
        robust_sigma(w.mad, w.mean_ad).max(floor)
    }

    /// The amount and steady-lines rules: ln amount `y` with `n` lines against the
    /// ln-amount statistics of the window's active periods and (`lines_window`, in a
    /// steady window) their line counts. The amount must reach `min_ratio` times its
    /// median; the better calibrated score must exceed `threshold`.
    fn robust_rules(
        &self,
        y: f64,
        w: &WindowStats,
        n: f64,
        lines_window: impl FnOnce() -> Option<WindowStats>,
        prior: Prior,
    ) -> Option<Judged> {
        let scale = self
            .shrink(Self::scale(w, 0.0), w.count, prior.ln_amount)
            .max(self.min_relative_spread.ln_1p());
        if scale.is_nan() || scale <= 0.0 || (y - w.median).exp() < self.min_ratio {
            return None;
        }
        let amount = Judged {
            score: self.calibrated((y - w.median) / scale, self.shrunk_size(w.count)),
            basis: SurgeBasis::Amount,
            expected_lines: f64::NAN,
        };
        // Line counts: the Poisson standard deviation is the floor of their spread.
        let lines = lines_window().map(|wn| {
            let scale = self
                .shrink(Self::scale(&wn, 0.0), wn.count, prior.lines)
                .max(wn.median.sqrt().max(1.0));
            Judged {
                score: self.calibrated((n - wn.median) / scale, self.shrunk_size(wn.count)),
                basis: SurgeBasis::Lines,
                expected_lines: wn.median,
            }
        });
        let best = match lines {
            Some(l) if l.score > amount.score => l,
            _ => amount,
        };
        (best.score > self.threshold).then_some(best)
    }

    /// The calibrated score of a robust z from `n` values where it can pass the
    /// threshold: calibration only lowers a score, so a z at or under the threshold is
    /// returned as it is (and fails it all the same) without the incomplete beta.
    fn calibrated(&self, z: f64, n: u64) -> f64 {
        if z > self.threshold {
            calibrated_z(z, n)
        } else {
            z
        }
    }

    /// The values a spread shrunk from `k` values is worth: `k` and the prior's weight.
    fn shrunk_size(&self, k: usize) -> u64 {
        k as u64 + self.prior_weight.round() as u64
    }

    /// A window spread from `k` values, shrunk towards the panel's pooled spread:
    /// `sqrt((k * own^2 + w * prior^2) / (k + w))` with `w = prior_weight`.
    fn shrink(&self, own: f64, k: usize, prior: f64) -> f64 {
        let (k, w) = (k as f64, self.prior_weight);
        if prior.is_nan() || prior <= 0.0 || w == 0.0 {
            return own;
        }
        ((k * own * own + w * prior * prior) / (k + w)).sqrt()
    }

    /// The spreads of one series' active periods over its whole range (ln amounts and
    /// line counts), for pooling into a [`Prior`]; `None` for a series with fewer than
    /// `min_nonzero` active periods.
    pub fn series_spread(
        &self,
        x: &[f64],
        lines: &[f64],
        scratch: &mut SurgeScratch,
    ) -> Option<(f64, f64)> {
        let SurgeScratch {
            ln: buf,
            sorted,
            dev,
            ..
        } = scratch;
        buf.clear();
        buf.extend(x.iter().filter(|&&v| v > 0.0).map(|v| v.ln()));
        if buf.len() < self.min_nonzero {
            return None;
        }
        let ln = Self::scale(&WindowStats::of_with(buf, sorted, dev)?, 0.0);
        buf.clear();
        buf.extend(
            x.iter()
                .zip(lines)
                .filter(|(v, _)| **v > 0.0)
                .map(|(_, n)| *n),
        );
        let n = Self::scale(&WindowStats::of_with(buf, sorted, dev)?, 0.0);
        Some((ln, n))
    }

    /// Drop score of amount `x` with `lines` against amount-scale window statistics
    /// and the window's `window_lines` over `periods`: the amount must be at most its
    /// median over `min_ratio`; the score is the better of the calibrated robust z of
    /// the amount and the count model's lower tail `P(K <= k)` of the lines (a week
    /// without a line in a busy series), and must exceed `threshold`.
    fn drop(
        &self,
        x: f64,
        w: &WindowStats,
        lines: f64,
        window_lines: f64,
        periods: usize,
        prior: Prior,
    ) -> Option<f64> {
        let scale = Self::scale(w, self.min_relative_spread * w.median);
        if scale.is_nan() || scale <= 0.0 || x * self.min_ratio > w.median {
            return None;
        }
        let amount = self.calibrated((w.median - x) / scale, w.len as u64);
        let model = Self::count_model(window_lines, periods, prior);
        let count = if periods > 0 && lines * self.min_ratio <= model.mean() {
            normal_z_of_ln_sf(model.ln_cdf(lines as u64))
        } else {
            f64::NAN
        };
        let score = amount.max(count);
        (score > self.threshold).then_some(score)
    }

    /// The seasonal span of period `t`: `[t - lag - half, t - lag + half]` as a
    /// half-open range, when seasonal comparison is on and the data reaches that far
    /// back.
    pub(super) fn seasonal_span(&self, t: usize) -> Option<(usize, usize)> {
        let (lag, half) = self.seasonal?;
        (t >= lag + half).then(|| (t - lag - half, t - lag + half + 1))
    }

    /// The seasonal window of period `t` (a year back, `half` periods each side).
    fn seasonal_window(&self, x: &[f64], t: usize) -> Option<WindowStats> {
        let (a, b) = self.seasonal_span(t)?;
        let w = &x[a..b];
        Some(WindowStats::of(w).unwrap_or(empty_window(w.len())))
    }
}

/// The statistics of a window of `len` periods without a value.
pub(super) fn empty_window(len: usize) -> WindowStats {
    WindowStats {
        len,
        count: 0,
        nonzero: 0,
        median: f64::NAN,
        mad: f64::NAN,
        mean_ad: f64::NAN,
    }
}

/// A flag checked against the same rule on the season a year earlier: `season` is
/// `None` without a season to compare with (the flag stands), `Some(None)` when the rule
/// does not flag against it (withdrawn, and counted), `Some(Some(s))` when it does (the
/// smaller score).
pub(super) fn with_season(
    flag: Judged,
    season: Option<Option<Judged>>,
    counts: &mut SurgeCounts,
) -> Option<Judged> {
    match season {
        None => Some(flag),
        Some(Some(s)) => Some(Judged {
            score: s.score.min(flag.score),
            ..flag
        }),
        Some(None) => {
            counts.withdrawn_by_season += 1;
            None
        }
    }
}

/// Keep, of the flags from `out[mark..]`, the episodes that reach period `from` (the
/// earlier ones were reported when their periods were new).
pub(super) fn reaching(from: usize, mark: usize, out: &mut Vec<SeriesFlag>) {
    let mut i = mark;
    for j in mark..out.len() {
        if out[j].start + out[j].episode > from {
            out[i] = out[j];
            i += 1;
        }
    }
    out.truncate(i);
}

/// Merges consecutive flags of one direction into episodes.
#[derive(Default)]
pub(super) struct Episodes {
    /// Best flag so far of the open episode (its `start` is the episode's first period).
    open: Option<SeriesFlag>,
}

impl Episodes {
    pub(super) fn push(&mut self, t: usize, flag: Option<SeriesFlag>, out: &mut Vec<SeriesFlag>) {
        match (&mut self.open, flag) {
            (Some(best), Some(f)) if best.start + best.episode == t => {
                let (start, len) = (best.start, best.episode + 1);
                if f.score > best.score {
                    *best = f;
                }
                best.start = start;
                best.episode = len;
            }
            (_, next) => {
                self.close(out);
                self.open = next.map(|f| SeriesFlag { start: t, ..f });
            }
        }
    }

    pub(super) fn close(&mut self, out: &mut Vec<SeriesFlag>) {
        if let Some(f) = self.open.take() {
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::SurgeConfig;
    use crate::detect::surge::ActiveCell;
    use crate::kernels::counts::{Clustered, GammaPrior};
    use crate::kernels::rolling::TrailingWindow;
    use crate::series::PeriodKind;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// A walk from `from` reports, at and after `from`, exactly the flags of a walk
        /// over the whole series: episodes open at `from` are followed back to their
        /// start.
        #[test]
        fn a_walk_from_a_period_reports_what_a_whole_walk_reports_there(
            base in prop::collection::vec(prop_oneof![Just(0.0), 1.0f64..3.0], 10..80),
            bursts in prop::collection::vec((0usize..80, 1usize..30, 5.0f64..60.0), 0..4),
            from in 0usize..80,
            drops in any::<bool>(),
        ) {
            let mut x = base.clone();
            for (at, len, k) in bursts {
                for v in x.iter_mut().skip(at).take(len) {
                    *v = (*v).max(1.0) * k;
                }
            }
            let c = SurgeConfig { drops, ..SurgeConfig::default() };
            let s = Surge::new(&c, PeriodKind::Week);
            let lines: Vec<f64> = x.iter().map(|v| v.ceil()).collect();
            let walk = |from: usize| {
                let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
                let series = Series { amounts: &x, lines: &lines, prior: Prior::default(), from };
                s.judge_series(&series, |t| t + 1 < x.len(), &mut SurgeScratch::new(&s), &mut counts, &mut out);
                let mut at: Vec<(usize, u64, u8)> = out.iter()
                    .filter(|f| f.t >= from)
                    .map(|f| (f.t, f.score.to_bits(), f.direction as u8))
                    .collect();
                at.sort_unstable();
                at
            };
            prop_assert_eq!(walk(from), walk(0).into_iter().filter(|f| f.0 >= from).collect::<Vec<_>>());
        }
    }

    proptest! {
        /// The sliding count finds a steady window exactly where the drop walk's sorted
        /// windows see one.
        #[test]
        fn steady_window_check_agrees_with_the_walk(
            x in prop::collection::vec(prop_oneof![3 => Just(0.0), 1 => Just(f64::NAN), 3 => 1.0f64..9.0], 0..90),
            start in 0usize..40,
            window in 1usize..30,
        ) {
            let s = Surge::new(&SurgeConfig { window: Some(window), ..SurgeConfig::default() }, PeriodKind::Week);
            let mut any = false;
            TrailingWindow::new(s.window).run(&x, start, |_, w| {
                any |= w.nonzero() * 2 > w.len() && w.nonzero() >= s.min_nonzero;
            });
            prop_assert_eq!(s.has_steady_window(&x, start), any);
        }
    }

    proptest! {
        /// A series with fewer than `min_nonzero` active periods: judging its active
        /// periods alone gives the walk's flags (and, from the start, its counts).
        #[test]
        fn an_occasional_series_is_judged_as_its_walk_judges_it(
            len in 1usize..120,
            cells in prop::collection::vec((0usize..120, 1u32..40, prop_oneof![Just(0.0), 0.5f64..1e4]), 0..4),
            from in 0usize..120,
            shape in 0.2f64..3.0,
            rate in 1.0f64..50.0,
            cluster_size in 0.0f64..3.0,
            seasonal in any::<bool>(),
        ) {
            let mut cells: Vec<ActiveCell> = cells
                .into_iter()
                .filter(|c| c.0 < len)
                .map(|(t, n, a)| (t, f64::from(n), a))
                .collect();
            cells.sort_by_key(|c| c.0);
            cells.dedup_by_key(|c| c.0);
            let (mut x, mut lines) = (vec![0.0; len], vec![0.0; len]);
            for &(t, n, a) in &cells {
                (x[t], lines[t]) = (a, n);
            }
            let from = from.min(len);
            let prior = Prior { rates: GammaPrior { shape, rate }, cluster_size, ..Prior::default() };
            let s = Surge::new(&SurgeConfig { seasonal, min_lines: 2, ..SurgeConfig::default() }, PeriodKind::Week);
            let (mut walked, mut walk_counts) = (Vec::new(), SurgeCounts::default());
            let series = Series { amounts: &x, lines: &lines, prior, from };
            s.judge_series(&series, |_| true, &mut SurgeScratch::new(&s), &mut walk_counts, &mut walked);
            let (mut judged, mut counts) = (Vec::new(), SurgeCounts::default());
            s.judge_occasional(&cells, len, prior, from, &mut counts, &mut judged);
            let key = |f: &SeriesFlag| (f.t, f.start, f.episode, f.score.to_bits(), f.basis as u8);
            prop_assert_eq!(walked.iter().map(key).collect::<Vec<_>>(), judged.iter().map(key).collect::<Vec<_>>());
            if from == 0 {
                prop_assert_eq!(walk_counts, counts);
            }
        }
    }

    fn run_with(
        s: &Surge,
        x: &[f64],
        lines: &[f64],
        prior: Prior,
    ) -> (Vec<SeriesFlag>, SurgeCounts) {
        let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
        let series = Series {
            amounts: x,
            lines,
            prior,
            from: 0,
        };
        s.judge_series(
            &series,
            |_| true,
            &mut SurgeScratch::new(s),
            &mut counts,
            &mut out,
        );
        (out, counts)
    }

    fn run(s: &Surge, x: &[f64]) -> (Vec<SeriesFlag>, SurgeCounts) {
        run_with(s, x, &vec![1.0; x.len()], Prior::default())
    }

    fn weekly() -> Surge {
        Surge::new(&SurgeConfig::default(), PeriodKind::Week)
    }

    #[test]
    fn a_surge_week_is_flagged_once() {
        let mut x: Vec<f64> = (0..40).map(|i| 100.0 + f64::from(i % 5) * 10.0).collect();
        x[30] = 2_000.0;
        let (flags, counts) = run(&weekly(), &x);
        assert_eq!(flags.len(), 1, "{flags:?}");
        let f = flags[0];
        assert_eq!(
            (f.t, f.direction, f.episode, f.basis),
            (30, Direction::High, 1, SurgeBasis::Amount)
        );
        assert!(f.score > 5.0 && (f.baseline_median() - 120.0).abs() < 1e-9);
        assert_eq!(counts.series_judged, 1);
        assert_eq!(counts.periods_judged, 40 - 8);
    }

    #[test]
    fn every_period_after_the_series_first_weeks_is_judged() {
        let s = weekly();
        let (f, c) = run(&s, &[5.0; 6]);
        assert!(f.is_empty());
        assert_eq!(c.series_not_judged[NotJudged::TooShort as usize], 1);
        assert_eq!(c.periods_not_judged[NotJudged::TooShort as usize], 6);
        // A series whose first line is in week 20 of 50 began inside the data: all its
        // 30 weeks are judged (the first 8 by the count model alone); the weeks before
        // it are not its periods.
        let mut x = vec![0.0; 50];
        x[20..].fill(10.0);
        let (_, c) = run(&s, &x);
        assert_eq!(c.periods_not_judged[NotJudged::TooShort as usize], 0);
        assert_eq!((c.series_judged, c.periods_judged), (1, 30));
        // One whose first line is in week 3 may have begun before the data: its first 8
        // weeks are too short.
        let mut x = vec![0.0; 50];
        x[3..].fill(10.0);
        let (_, c) = run(&s, &x);
        assert_eq!(c.periods_not_judged[NotJudged::TooShort as usize], 8);
        assert_eq!((c.series_judged, c.periods_judged), (1, 39));
        // Never active: nothing to judge, nothing counted.
        assert_eq!(run(&s, &[0.0; 50]).1, SurgeCounts::default());
    }

    /// A panel of occasional importers: one declaration in 20 weeks on average (gamma
    /// shape 0.5, rate 10), of two lines on average.
    fn occasional_panel() -> Prior {
        Prior {
            rates: GammaPrior {
                shape: 0.5,
                rate: 10.0,
            },
            cluster_size: 2.0,
            ..Prior::default()
        }
    }

    #[test]
    fn a_burst_from_an_occasional_importer_scores_its_compound_tail() {
        let prior = occasional_panel();
        let s = weekly();
        // 3 lines in week 2, then 25 lines in week 40.
        let cells = [(2, 3.0, 300.0), (40, 25.0, 5_000.0)];
        let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
        s.judge_occasional(&cells, 60, prior, 0, &mut counts, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        // Week 40's window (weeks 14-39) has no line: the posterior is the prior with 26
        // more weeks (shape 0.5, rate 36), so declarations are negative binomial with
        // r 0.5, p 36/37, and 25 lines are judged in its compound tail
        // (`kernels::counts` checks that tail against the compound's definition).
        let model = Clustered {
            r: 0.5,
            p: 36.0 / 37.0,
            size: 2.0,
        };
        let f = out[0];
        assert_eq!(
            (f.t, f.basis, f.lines, f.window_lines),
            (40, SurgeBasis::Count, 25.0, 0.0)
        );
        let want = normal_z_of_ln_sf(model.ln_sf(25));
        assert!(
            want > 5.0 && (f.score - want).abs() < 1e-12,
            "{} vs {want}",
            f.score
        );
        assert!((f.expected_lines - 0.5 / 36.0 * 2.0).abs() < 1e-12);
        assert_eq!(counts.periods_not_judged[NotJudged::TooShort as usize], 8);
        assert_eq!(counts.periods_judged, 50);
        // Fewer than `min_lines` lines are never a surge, however rare.
        let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
        s.judge_occasional(
            &[(2, 1.0, 1.0), (40, 4.0, 1e6)],
            60,
            prior,
            0,
            &mut counts,
            &mut out,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn a_series_that_begins_with_a_burst_is_judged_against_its_panel() {
        let prior = occasional_panel();
        let s = weekly();
        // 30 lines in the first week of a series that begins in week 20: no history of
        // its own, so the rates are the panel's prior (negative binomial r 0.5,
        // p 10/11 declarations of 2 lines on average).
        let burst = [(20, 30.0, 3_000.0)];
        let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
        s.judge_occasional(&burst, 60, prior, 0, &mut counts, &mut out);
        let model = Clustered {
            r: 0.5,
            p: 10.0 / 11.0,
            size: 2.0,
        };
        let want = normal_z_of_ln_sf(model.ln_sf(30));
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(want > 5.0 && (out[0].score - want).abs() < 1e-12);
        assert_eq!((out[0].t, out[0].window_lines), (20, 0.0));
        assert!((out[0].expected_lines - 0.5 / 10.0 * 2.0).abs() < 1e-12);
        assert_eq!((counts.periods_judged, counts.series_judged), (40, 1));
        // The whole walk agrees.
        let mut x = vec![0.0; 60];
        let mut lines = vec![0.0; 60];
        (x[20], lines[20]) = (3_000.0, 30.0);
        let (walked, _) = run_with(&s, &x, &lines, prior);
        assert_eq!(walked.len(), 1);
        assert_eq!(walked[0].score.to_bits(), out[0].score.to_bits());
        // The same burst in week 2 may be a series that began before the data: not
        // judged.
        let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
        s.judge_occasional(&[(2, 30.0, 3_000.0)], 60, prior, 0, &mut counts, &mut out);
        assert!(out.is_empty());
        assert_eq!(counts.periods_not_judged[NotJudged::TooShort as usize], 8);
    }

    #[test]
    fn a_surge_in_line_counts_flags_an_amount_within_its_spread() {
        // Amounts swing 16-fold (ln MAD ln 4): 3.5 times the median is no amount surge.
        // One line a week, then 40 lines.
        let mut x: Vec<f64> = (0..40).map(|i| [25.0, 100.0, 400.0][i % 3]).collect();
        let mut lines = vec![1.0; 40];
        (x[30], lines[30]) = (350.0, 40.0);
        let s = weekly();
        let (out, _) = run_with(&s, &x, &lines, Prior::default());
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!((out[0].t, out[0].direction), (30, Direction::High));
        assert!(out[0].basis != SurgeBasis::Amount);
        // The same amounts with one line every week: nothing.
        let (flags, _) = run(&s, &x);
        assert!(flags.is_empty(), "{flags:?}");
    }

    #[test]
    fn steady_series_are_judged_on_the_spread_floor() {
        // MAD = 0 and mean AD = 0: the floor (10% of the median) gives the scale.
        let mut x = vec![100.0; 30];
        x[20] = 150.0; // z = ln 1.5 / ln 1.1 = 4.3, and ratio 1.5 < 3: not a surge
        x[25] = 400.0; // z = ln 4 / ln 1.1 = 14.5, ratio 4
        let (flags, _) = run(&weekly(), &x);
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].t, 25);
        // Calibrated as a robust z from the window's 25 active weeks and the prior's 8.
        let want = calibrated_z(4f64.ln() / 1.1f64.ln(), 25 + 8);
        assert!(
            (flags[0].score - want).abs() < 1e-9,
            "{} vs {want}",
            flags[0].score
        );
    }

    #[test]
    fn drops_are_one_episode_and_need_complete_periods() {
        // 30 lines a week, then three weeks without a line.
        let mut x = vec![100.0; 30];
        let mut lines = vec![30.0; 30];
        for t in 24..27 {
            (x[t], lines[t]) = (0.0, 0.0);
        }
        let s = weekly();
        let prior = Prior {
            rates: GammaPrior::weak(30.0),
            ..Prior::default()
        };
        let (flags, _) = run_with(&s, &x, &lines, prior);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!((flags[0].direction, flags[0].episode), (Direction::Low, 3));
        assert_eq!(flags[0].basis, SurgeBasis::Drop);
        // A series of one line a week: a week without one is no evidence.
        assert!(run(&s, &x).0.is_empty());
        let mut out = Vec::new();
        let mut counts = SurgeCounts::default();
        let series = Series {
            amounts: &x,
            lines: &lines,
            prior,
            from: 0,
        };
        s.judge_series(
            &series,
            |t| t < 24,
            &mut SurgeScratch::new(&s),
            &mut counts,
            &mut out,
        );
        assert!(out.is_empty());
    }

    #[test]
    fn seasonal_comparison_withdraws_a_yearly_peak() {
        // A five-week season at 10x, and the same season a year later.
        let mut x: Vec<f64> = (0..110).map(|i| 100.0 + f64::from(i % 3) * 5.0).collect();
        x[38..43].fill(1_000.0);
        x[92] = 1_000.0;
        let plain = run(&weekly(), &x).0;
        assert!(plain.iter().any(|f| f.t == 92));
        let seasonal = Surge::new(
            &SurgeConfig {
                seasonal: true,
                ..Default::default()
            },
            PeriodKind::Week,
        );
        let (flags, counts) = run(&seasonal, &x);
        assert!(flags.iter().all(|f| f.t != 92), "{flags:?}");
        // Last year's season has no season before it: flagged, as one episode.
        assert_eq!(flags.len(), 1);
        assert_eq!((flags[0].start, flags[0].episode), (38, 5));
        assert_eq!(counts.withdrawn_by_season, 1);
    }
}
