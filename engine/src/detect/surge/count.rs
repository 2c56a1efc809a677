//! The count model's rule (see [`crate::kernels::counts`]): a period's line count
//! against the series' window shrunk towards its panel, and the judgement of an
//! occasional series from its active periods alone.

use super::walk::{Episodes, Judged, empty_window, reaching, with_season};
use super::{ActiveCell, NotJudged, SeriesFlag, Surge, SurgeBasis, SurgeCounts};
use crate::detect::Direction;
use crate::kernels::counts::Clustered;
use crate::kernels::rolling::WindowStats;
use crate::kernels::tail::normal_z_of_ln_sf;
use crate::series::entries::Prior;

impl Surge {
    /// Judge a series with fewer than `min_nonzero` active periods from those periods
    /// alone (`cells`, by period, over `len` periods): no window of it has enough active
    /// periods for the amount rule or is steady, so only the count model can flag it,
    /// and only in a period with `min_lines` lines. Flags and counts as
    /// [`Surge::judge_series`] gives for the same series.
    pub fn judge_occasional(
        &self,
        cells: &[ActiveCell],
        len: usize,
        prior: Prior,
        from: usize,
        counts: &mut SurgeCounts,
        out: &mut Vec<SeriesFlag>,
    ) {
        let Some(&(first, ..)) = cells.iter().find(|c| c.2 > 0.0) else {
            return;
        };
        if !self.count_occasional(first, len, from, counts) {
            return;
        }
        let judged_from = self.count_from(first);
        let active = |c: &ActiveCell| if c.2 > 0.0 { c.1 } else { 0.0 };
        let mark = out.len();
        let mut episodes = Episodes::default();
        let (mut lo, mut in_window) = (0, 0.0);
        for (i, &(t, lines, amount)) in cells.iter().enumerate() {
            // Lines of the active periods in [t - window, t).
            while cells[lo].0 + self.window < t {
                in_window -= active(&cells[lo]);
                lo += 1;
            }
            let flag = (t >= judged_from && amount > 0.0)
                .then(|| self.count_rule(lines, in_window, (t - first).min(self.window), prior))
                .flatten()
                .and_then(|j| {
                    let seasonal = self.seasonal_span(t).map(|(a, b)| {
                        let lines: f64 = cells
                            .iter()
                            .filter(|c| (a..b).contains(&c.0))
                            .map(active)
                            .sum();
                        (lines, b - a)
                    });
                    self.seasonal_count(j, lines, seasonal, prior, counts)
                })
                .map(|j| SeriesFlag {
                    t,
                    start: t,
                    score: j.score,
                    direction: Direction::High,
                    basis: j.basis,
                    observed: amount,
                    lines,
                    window: self.active_window(cells, lo, i, t),
                    episode: 1,
                    expected_lines: j.expected_lines,
                    window_lines: in_window,
                });
            // A period without a line between two flags ends the episode.
            if i > 0 && cells[i - 1].0 + 1 < t {
                episodes.push(t - 1, None, out);
            }
            episodes.push(t, flag, out);
            in_window += active(&cells[i]);
        }
        episodes.close(out);
        reaching(from, mark, out);
    }

    /// Count the periods of an occasional series whose first active period is `first`
    /// (of `len`, flags wanted from `from`) as [`Surge::judge_series`] counts them;
    /// whether any period is judged. A series with no period of `min_lines` lines is
    /// only counted: the count model cannot flag it.
    pub fn count_occasional(
        &self,
        first: usize,
        len: usize,
        from: usize,
        counts: &mut SurgeCounts,
    ) -> bool {
        let judged_from = self.count_from(first);
        let too_short = judged_from.min(len).saturating_sub(first.max(from));
        counts.periods_not_judged[NotJudged::TooShort as usize] += too_short as u64;
        match len.saturating_sub(judged_from.max(from)) {
            0 => {
                counts.series_not_judged[NotJudged::TooShort as usize] += 1;
                false
            }
            n => {
                counts.series_judged += 1;
                counts.periods_judged += n as u64;
                true
            }
        }
    }

    /// Lines a period needs to be flagged by the count model.
    pub fn min_lines(&self) -> f64 {
        self.min_lines
    }

    /// The window statistics of the ln amounts of `cells[lo..i]` (the active periods of
    /// period `t`'s window).
    fn active_window(&self, cells: &[ActiveCell], lo: usize, i: usize, t: usize) -> WindowStats {
        let ln: Vec<f64> = cells[lo..i]
            .iter()
            .filter(|c| c.2 > 0.0)
            .map(|c| c.2.ln())
            .collect();
        let len = t.min(self.window);
        WindowStats::of(&ln).map_or(empty_window(len), |w| WindowStats { len, ..w })
    }

    /// The lines of a period whose window holds `window_lines` over `periods` periods:
    /// the panel's rate prior updated by the window (in clusters), clusters of the
    /// panel's mean size.
    pub(super) fn count_model(window_lines: f64, periods: usize, prior: Prior) -> Clustered {
        let size = prior.cluster_size();
        Clustered::of(
            prior.rates.posterior(window_lines / size, periods as f64),
            size,
        )
    }

    /// The count model's judgement of `lines` in a period whose window holds
    /// `window_lines` over `periods` periods since the series' first line.
    pub(super) fn count_rule(
        &self,
        lines: f64,
        window_lines: f64,
        periods: usize,
        prior: Prior,
    ) -> Option<Judged> {
        if lines.is_nan() || lines < self.min_lines {
            return None;
        }
        let model = Self::count_model(window_lines, periods, prior);
        let expected = model.mean();
        if lines < self.min_ratio * expected {
            return None;
        }
        let score = normal_z_of_ln_sf(model.ln_sf(lines as u64));
        (score > self.threshold).then_some(Judged {
            score,
            basis: SurgeBasis::Count,
            expected_lines: expected,
        })
    }

    /// A count flag checked against the same season a year earlier (`seasonal`: its
    /// lines and periods): a season without lines confirms it; a season that explains
    /// it withdraws it (counted).
    pub(super) fn seasonal_count(
        &self,
        j: Judged,
        lines: f64,
        seasonal: Option<(f64, usize)>,
        prior: Prior,
        counts: &mut SurgeCounts,
    ) -> Option<Judged> {
        let season = seasonal
            .filter(|s| s.0 > 0.0)
            .map(|(season, periods)| self.count_rule(lines, season, periods, prior));
        with_season(j, season, counts)
    }
}
