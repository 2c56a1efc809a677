//! The walk of one series: the trailing and seasonal windows, the surge and drop rules,
//! episodes.

use super::{FlagScale, NotJudged, Series, SeriesFlag, Surge, SurgeCounts, SurgeScratch};
use crate::detect::Direction;
use crate::detect::scale::robust_sigma;
use crate::kernels::rolling::WindowStats;
use crate::series::entries::Prior;

impl Surge {
    /// Judge every period of a series from `series.from` on; `complete(t)` says whether
    /// the data covers period `t` entirely (drops are judged only there). Flags (one per
    /// episode) go to `out`, counts to `counts`.
    pub fn judge_series(
        &self,
        series: &Series<'_>,
        complete: impl Fn(usize) -> bool,
        scratch: &mut SurgeScratch,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) {
        let x = series.amounts;
        if x.len() <= self.min_history {
            counts.series_not_judged[NotJudged::TooShort as usize] += 1;
            return;
        }
        let active = x.iter().filter(|&&v| v > 0.0).count();
        if active < self.min_nonzero {
            counts.series_not_judged[NotJudged::SparseHistory as usize] += 1;
            return;
        }
        counts.periods_not_judged[NotJudged::TooShort as usize] += self.min_history as u64;
        // Each walk starts at `from`; when an episode is open there, it starts one
        // window earlier, until the episode's start is inside the walk.
        let drops = self.drops && active * 2 > self.min_history;
        for pass in [false, true] {
            if pass && !drops {
                break;
            }
            let mut start = series.from.max(self.min_history);
            loop {
                let (mark, saved) = (out.len(), *counts);
                let open = if pass {
                    self.drops(x, &complete, start, scratch, counts, out)
                } else {
                    self.surges(series, start, scratch, counts, out)
                };
                if !open || start <= self.min_history {
                    break;
                }
                out.truncate(mark);
                *counts = saved;
                start = start.saturating_sub(self.window).max(self.min_history);
            }
        }
    }

    /// The surge walk from `start`; whether period `start` was flagged.
    fn surges(
        &self,
        series: &Series<'_>,
        start: usize,
        scratch: &mut SurgeScratch,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) -> bool {
        let Series {
            amounts: x,
            lines,
            prior,
            ..
        } = *series;
        // Surges: ln amounts and line counts of active periods (absent = NaN).
        let SurgeScratch {
            kernel,
            ln,
            active_lines,
            sorted,
            dev,
        } = scratch;
        ln.clear();
        ln.extend(x.iter().map(|&v| if v > 0.0 { v.ln() } else { f64::NAN }));
        active_lines.clear();
        active_lines.extend(
            x.iter()
                .zip(lines)
                .map(|(&v, &n)| if v > 0.0 { n } else { f64::NAN }),
        );
        let (min_nonzero, window) = (self.min_nonzero, self.window);
        let mut judged = 0u64;
        let mut open = false;
        let mut episodes = Episodes::default();
        kernel.run(ln, start, |t, mut w| {
            let reason = match w.count() {
                0 => Some(NotJudged::AllZeroHistory),
                n if n < min_nonzero => Some(NotJudged::SparseHistory),
                _ => None,
            };
            if let Some(r) = reason {
                counts.periods_not_judged[r as usize] += 1;
                episodes.push(t, None, out);
                return;
            }
            judged += 1;
            // Only an active period can be a surge.
            let Some(w) = (x[t] > 0.0).then(|| w.spread_stats()).flatten() else {
                episodes.push(t, None, out);
                return;
            };
            let w = &w;
            // The line counts' window over the same periods (as many active ones as
            // the amounts' window), sorted only once the amount makes a surge possible:
            // most periods are turned down by `min_ratio` first.
            let mut wn = None;
            let mut lines_window = || {
                *wn.get_or_insert_with(|| {
                    let values = &active_lines[t.saturating_sub(window)..t];
                    WindowStats::of_with(values, sorted, dev)
                })
            };
            let flag = self
                .surge(ln[t], w, active_lines[t], &mut lines_window, prior)
                .and_then(|score| {
                    let seasonal = self.seasonal_window(ln, t).map(|sw| {
                        if sw.count == 0 {
                            Some(score)
                        } else {
                            let swn = || self.seasonal_window(active_lines, t);
                            self.surge(ln[t], &sw, active_lines[t], swn, prior)
                                .map(|s| s.min(score))
                        }
                    });
                    match seasonal {
                        None => Some(score),
                        Some(Some(s)) => Some(s),
                        Some(None) => {
                            counts.withdrawn_by_season += 1;
                            None
                        }
                    }
                })
                .map(|score| SeriesFlag {
                    t,
                    score,
                    direction: Direction::High,
                    observed: x[t],
                    window: *w,
                    scale: FlagScale::LnActive,
                    episode: 1,
                    lines_median: lines_window().map_or(f64::NAN, |s| s.median),
                });
            open |= t == start && flag.is_some();
            episodes.push(t, flag, out);
        });
        episodes.close(out);
        if judged > 0 {
            counts.series_judged += 1;
            counts.periods_judged += judged;
        } else {
            counts.series_not_judged[NotJudged::SparseHistory as usize] += 1;
        }
        open
    }

    /// The drop walk from `start` (amounts, zeros included, steady windows only: active
    /// in more than half of at least `min_history` periods); whether period `start` was
    /// flagged.
    fn drops(
        &self,
        x: &[f64],
        complete: &impl Fn(usize) -> bool,
        start: usize,
        scratch: &mut SurgeScratch,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) -> bool {
        if !self.has_steady_window(x, start) {
            return false;
        }
        let mut open = false;
        let mut episodes = Episodes::default();
        scratch.kernel.run(x, start, |t, mut w| {
            // A steady window (median above 0) is active in more than half its periods.
            let steady = self.steady(w.nonzero(), w.len());
            let Some(w) = (complete(t) && steady).then(|| w.spread_stats()).flatten() else {
                episodes.push(t, None, out);
                return;
            };
            let w = &w;
            let flag = (w.median > 0.0)
                .then(|| self.drop(x[t], w))
                .flatten()
                .and_then(|score| match self.seasonal_window(x, t) {
                    Some(sw) if sw.median > 0.0 => match self.drop(x[t], &sw) {
                        Some(s) => Some(s.min(score)),
                        None => {
                            counts.withdrawn_by_season += 1;
                            None
                        }
                    },
                    _ => Some(score),
                })
                .map(|score| SeriesFlag {
                    t,
                    score,
                    direction: Direction::Low,
                    observed: x[t],
                    window: *w,
                    scale: FlagScale::Amount,
                    episode: 1,
                    lines_median: f64::NAN,
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

    /// Surge score of ln amount `y` with `n` lines against the ln-amount and line-count
    /// statistics of the window's active periods: the amount must reach `min_ratio`
    /// times its median, and the amount or the line count must be `threshold` robust
    /// standard deviations above theirs.
    fn surge(
        &self,
        y: f64,
        w: &WindowStats,
        n: f64,
        lines_window: impl FnOnce() -> Option<WindowStats>,
        prior: Prior,
    ) -> Option<f64> {
        let scale = self
            .shrink(Self::scale(w, 0.0), w.count, prior.ln_amount)
            .max(self.min_relative_spread.ln_1p());
        if scale.is_nan() || scale <= 0.0 || (y - w.median).exp() < self.min_ratio {
            return None;
        }
        let z = (y - w.median) / scale;
        // Line counts: the Poisson standard deviation is the floor of their spread.
        let z_lines = lines_window().map_or(f64::NEG_INFINITY, |wn| {
            let scale = self
                .shrink(Self::scale(&wn, 0.0), wn.count, prior.lines)
                .max(wn.median.sqrt().max(1.0));
            (n - wn.median) / scale
        });
        let score = z.max(z_lines);
        (score > self.threshold).then_some(score)
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

    /// Drop score of amount `x` against amount-scale window statistics.
    fn drop(&self, x: f64, w: &WindowStats) -> Option<f64> {
        let scale = Self::scale(w, self.min_relative_spread * w.median);
        if scale.is_nan() || scale <= 0.0 {
            return None;
        }
        let z = (x - w.median) / scale;
        (z < -self.threshold && x * self.min_ratio <= w.median).then_some(-z)
    }

    /// The seasonal window of period `t` (a year back, `half` periods each side), when
    /// seasonal comparison is on and the data reaches that far back.
    fn seasonal_window(&self, x: &[f64], t: usize) -> Option<WindowStats> {
        let (lag, half) = self.seasonal?;
        if t < lag + half {
            return None;
        }
        let centre = t - lag;
        let w = &x[centre - half..=centre + half];
        Some(WindowStats::of(w).unwrap_or(WindowStats {
            len: w.len(),
            count: 0,
            nonzero: 0,
            median: f64::NAN,
            mad: f64::NAN,
            mean_ad: f64::NAN,
        }))
    }
}

/// Merges consecutive flags of one direction into episodes.
#[derive(Default)]
struct Episodes {
    /// First period and best flag so far of the open episode.
    open: Option<(usize, SeriesFlag)>,
}

impl Episodes {
    fn push(&mut self, t: usize, flag: Option<SeriesFlag>, out: &mut Vec<SeriesFlag>) {
        match (&mut self.open, flag) {
            (Some((first, best)), Some(f)) if *first + best.episode == t => {
                let len = best.episode + 1;
                if f.score > best.score {
                    *best = f;
                }
                best.episode = len;
            }
            (_, next) => {
                self.close(out);
                self.open = next.map(|f| (t, f));
            }
        }
    }

    fn close(&mut self, out: &mut Vec<SeriesFlag>) {
        if let Some((_, f)) = self.open.take() {
            out.push(f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::SurgeConfig;
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

    fn run(s: &Surge, x: &[f64]) -> (Vec<SeriesFlag>, SurgeCounts) {
        let mut out = Vec::new();
        let mut counts = SurgeCounts::default();
        let mut k = SurgeScratch::new(s);
        let lines = vec![1.0; x.len()];
        let series = Series {
            amounts: x,
            lines: &lines,
            prior: Prior::default(),
            from: 0,
        };
        s.judge_series(&series, |_| true, &mut k, &mut counts, &mut out);
        (out, counts)
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
        assert_eq!((f.t, f.direction, f.episode), (30, Direction::High, 1));
        assert!(f.score > 5.0 && (f.baseline_median() - 120.0).abs() < 1e-9);
        assert_eq!(counts.series_judged, 1);
        assert_eq!(counts.periods_judged, 40 - 8);
    }

    #[test]
    fn guard_chain_stops_short_zero_and_sparse_series() {
        let s = weekly();
        let (f, c) = run(&s, &[5.0; 6]);
        assert!(f.is_empty());
        assert_eq!(c.series_not_judged[NotJudged::TooShort as usize], 1);
        let (f, c) = run(&s, &[0.0; 50]);
        assert!(f.is_empty());
        assert_eq!(c.series_not_judged[NotJudged::SparseHistory as usize], 1);
        // A single non-zero week: never judgeable, not walked.
        let mut x = vec![0.0; 50];
        x[20] = 1e6;
        let (f, c) = run(&s, &x);
        assert!(f.is_empty());
        assert_eq!(c.series_not_judged[NotJudged::SparseHistory as usize], 1);
        // Zeros then activity: the first active periods see an all-zero window.
        let mut x = vec![0.0; 30];
        x.extend([10.0; 20]);
        let (_, c) = run(&s, &x);
        assert!(c.periods_not_judged[NotJudged::AllZeroHistory as usize] > 0);
        assert!(c.periods_not_judged[NotJudged::SparseHistory as usize] > 0);
    }

    #[test]
    fn a_surge_in_line_counts_flags_an_amount_within_its_spread() {
        // Amounts swing 16-fold (ln MAD ln 4): 3.5 times the median is no amount surge
        // (z = ln 3.5 / (1.4826 ln 4) = 0.61). One line a week, then 40 lines: the line
        // count's spread is its Poisson floor (1), z = 39.
        let mut x: Vec<f64> = (0..40).map(|i| [25.0, 100.0, 400.0][i % 3]).collect();
        let mut lines = vec![1.0; 40];
        (x[30], lines[30]) = (350.0, 40.0);
        (x[35], lines[35]) = (200.0, 40.0); // ratio 2 < min_ratio 3: not judged a surge
        let s = weekly();
        let (mut out, mut counts) = (Vec::new(), SurgeCounts::default());
        let series = Series {
            amounts: &x,
            lines: &lines,
            prior: Prior::default(),
            from: 0,
        };
        s.judge_series(
            &series,
            |_| true,
            &mut SurgeScratch::new(&s),
            &mut counts,
            &mut out,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        let f = out[0];
        assert_eq!(
            (f.t, f.direction, f.lines_median),
            (30, Direction::High, 1.0)
        );
        assert!((f.score - 39.0).abs() < 1e-9, "{}", f.score);
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
        assert!((flags[0].score - 4f64.ln() / 1.1f64.ln()).abs() < 1e-9);
    }

    #[test]
    fn drops_are_one_episode_and_need_complete_periods() {
        let mut x = vec![100.0; 30];
        for v in &mut x[24..27] {
            *v = 0.0;
        }
        let (flags, _) = run(&weekly(), &x);
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!((flags[0].direction, flags[0].episode), (Direction::Low, 3));
        let mut out = Vec::new();
        let mut counts = SurgeCounts::default();
        let s = weekly();
        let mut k = SurgeScratch::new(&s);
        let series = Series {
            amounts: &x,
            lines: &[1.0; 30],
            prior: Prior::default(),
            from: 0,
        };
        s.judge_series(&series, |t| t < 24, &mut k, &mut counts, &mut out);
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
        assert_eq!(flags[0].episode, 5);
        assert_eq!(counts.withdrawn_by_season, 1);
    }
}
