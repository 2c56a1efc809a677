//! `surge` (V01): a period far above (or below) its series' own recent history.
//!
//! **What it detects.** A surge of ammonium nitrate to one importer, a spike of mask
//! imports from one origin, precursors piling up at one office, a burst of lines from
//! an importer that usually ships once a quarter; with `drops`, a sudden collapse of a
//! steady series (an office whose declarations of a good stop, diversion to another
//! route).
//!
//! **Method.** For each series (see [`crate::series`]) and period `t`, the trailing
//! window is the previous `window` periods (`t` excluded; fewer at the start of the
//! data). Only a period with a line can be a surge. The robust rules judge a period once
//! the series has `min_history` periods since its first line; the count model judges
//! its first periods too, from its first line on, leaning on the panel (a series that
//! begins with a burst of lines is a surge). Three rules, each scored on the
//! scale of the calibrated price scores (the `z` of a standard normal with the same
//! tail probability), the highest score counting:
//!
//! - **Amount** (a window with at least `min_nonzero` active periods). Amounts are
//!   heavy-tailed (a week's total is often one or two large lines), so the ln amounts
//!   of the window's *active* periods are compared: with their median `m`, MAD and mean
//!   absolute deviation, `own = 1.4826 * MAD` (or `1.253314 * mean abs. deviation` when
//!   MAD = 0). A few active periods say little about their spread, so `own` is shrunk
//!   towards the panel's pooled spread `p` (the median spread of the series of the same
//!   HS6 and key kind): `scale = sqrt((k * own^2 + w * p^2) / (k + w))` with `k` the
//!   active periods and `w = prior_weight`, never less than
//!   `ln(1 + min_relative_spread)`. `z = (ln x_t - m) / scale`, calibrated as a robust
//!   z from `k + w` values ([`crate::kernels::tail::calibrated_z`]). The amount must be
//!   at least `min_ratio` times `exp(m)`.
//! - **Lines in a steady series** (a window active in more than half its periods and
//!   in at least `min_nonzero`): the period's line count against the line counts of
//!   the same active periods, with the same shrinkage (towards the panel's pooled
//!   line-count spread), never less than the Poisson spread `sqrt(median)` (at least
//!   1), calibrated likewise; the amount must reach `min_ratio` times its median too.
//! - **Lines against the count model** (every window, empty ones included): the
//!   Poisson-gamma count model of [`crate::kernels::counts`]. The series' rate of lines
//!   per period has the panel's gamma prior (method of moments over the panel's series,
//!   each its lines since its first line), updated by the window's lines over the
//!   window's periods since the series' first line (empirical Bayes: a short history
//!   leans on the panel). Lines come in declarations of several lines, so the model
//!   counts clusters (lines divided by the panel's mean cluster size) and judges the
//!   period's lines by their tail probability in the compound distribution: a
//!   negative-binomial number of clusters of geometric sizes
//!   ([`crate::kernels::counts::Clustered`]); an occasional importer's week of 7 lines
//!   is most likely one declaration of 7 lines. The mean cluster size is the mean line
//!   count of the active periods of the panel's occasional series (active in at most
//!   half their periods: one declaration in most such periods), those above three times
//!   their upper quartile left out. The period needs at least `min_lines` lines and
//!   `min_ratio` times the model's expected lines (the minimum-count rule of the
//!   surveillance literature).
//!
//! A surge's score must exceed `threshold`. `baseline_median` is `exp(m)` (the median
//! active amount; for an even count, the geometric mean of the two middle ones; empty
//! without an active period) and `baseline_mad` the MAD of the ln amounts.
//!
//! **Drops** (when `drops`) are judged on the amounts themselves, zeros included, and
//! only in *steady* windows (above) and in periods the data covers entirely (a
//! half-loaded last week is not a drop): `scale = 1.4826 * MAD` (mean-AD rule at
//! MAD = 0), never less than `min_relative_spread * median`; a drop is
//! `x_t <= median / min_ratio` with a calibrated `|z|` (from the window's periods)
//! above `threshold`. `baseline_median` and `baseline_mad` are the window's median and
//! MAD of amounts.
//!
//! Consecutive flagged periods of the same direction are one episode, reported once at
//! its highest score (its length is in the explanation).
//!
//! **Guard** (counted in `manifest.json` under `volume.periods_not_judged`): a series
//! whose first line falls in the data's first `min_history` periods may have begun
//! before the data, so its periods before `min_history` periods after that line are
//! `too_short`; a series whose whole range is that short is counted under
//! `volume.series_not_judged`. Every other period of every series is judged.
//!
//! **Seasonal comparison** (`seasonal = true`): when the data holds the same period a
//! year earlier with `seasonal_half_width` periods on each side (52 weeks or 12 months
//! back), a trailing flag must also be a flag, same direction and same rule, against
//! that seasonal window; the score is the smaller of the two. A seasonal window without
//! activity confirms a surge. Flags the season explains are withdrawn and counted
//! (`volume.withdrawn_by_season`).
//!
//! **Defaults.** Weeks: `window` 26, `min_history` 8, `min_nonzero` 4. Months: 12, 6, 3.
//! `threshold` 5, `min_ratio` 3, `min_lines` 5, `min_relative_spread` 0.1,
//! `prior_weight` 8 (periods), `drops` true, `seasonal` false, `seasonal_half_width` 2
//! (weeks) or 1 (month).
//!
//! **Known false positives.** Seasonal goods without `seasonal`; an importer who
//! consolidates a quarter's purchases into one shipment; a new contract; the first
//! weeks after a tariff-code change (the old code's series drops, the new one's starts).

use serde::{Deserialize, Serialize};

mod count;
mod panel;
mod walk;

pub use panel::{SurgeWork, panel_context};

use super::{Direction, positive};
use crate::error::{Error, Result};
use crate::kernels::rolling::{TrailingWindow, WindowStats};
use crate::series::PeriodKind;
use crate::series::entries::Prior;

/// Parameters of [`Surge`] (`[detectors.surge]`); unset lengths take the period's
/// default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurgeConfig {
    /// Trailing window, in periods.
    pub window: Option<usize>,
    /// Periods of history needed before a period is judged.
    pub min_history: Option<usize>,
    /// Non-zero periods needed in the window.
    pub min_nonzero: Option<usize>,
    /// |z| above which a period is flagged.
    pub threshold: f64,
    /// Ratio to the trailing median a surge must reach (a drop: its inverse).
    pub min_ratio: f64,
    /// Lines a period needs to be a surge by the count model.
    pub min_lines: u32,
    /// The scale is never less than this share of the trailing median.
    pub min_relative_spread: f64,
    /// Weight, in periods, of the panel's pooled spread in a window's spread.
    pub prior_weight: f64,
    /// Also flag drops.
    pub drops: bool,
    /// Also require a flag against the same season a year earlier, when available.
    pub seasonal: bool,
    /// Periods on each side of the seasonal window's centre.
    pub seasonal_half_width: Option<usize>,
}

impl Default for SurgeConfig {
    fn default() -> Self {
        SurgeConfig {
            window: None,
            min_history: None,
            min_nonzero: None,
            threshold: 5.0,
            min_ratio: 3.0,
            min_lines: 5,
            min_relative_spread: 0.1,
            prior_weight: 8.0,
            drops: true,
            seasonal: false,
            seasonal_half_width: None,
        }
    }
}

impl SurgeConfig {
    /// Check the parameters.
    pub fn validate(&self) -> Result<()> {
        positive("detectors.surge.threshold", self.threshold)?;
        if !(self.min_ratio.is_finite() && self.min_ratio >= 1.0) {
            return Err(Error::config(format!(
                "detectors.surge.min_ratio must be at least 1, got {}",
                self.min_ratio
            )));
        }
        if !(self.prior_weight.is_finite() && self.prior_weight >= 0.0) {
            return Err(Error::config(
                "detectors.surge.prior_weight must be 0 or more",
            ));
        }
        if !(self.min_relative_spread.is_finite() && self.min_relative_spread >= 0.0) {
            return Err(Error::config(
                "detectors.surge.min_relative_spread must be 0 or more",
            ));
        }
        for (name, v) in [
            ("window", self.window),
            ("min_history", self.min_history),
            ("min_nonzero", self.min_nonzero),
        ] {
            if v == Some(0) {
                return Err(Error::config(format!(
                    "detectors.surge.{name} must be at least 1"
                )));
            }
        }
        Ok(())
    }
}

/// Why a period was not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotJudged {
    /// Fewer than `min_history` periods since the series' first line.
    TooShort,
}

impl NotJudged {
    /// Every reason, in guard order.
    pub const ALL: [NotJudged; 1] = [NotJudged::TooShort];

    /// snake_case name used in summaries.
    pub fn name(self) -> &'static str {
        match self {
            NotJudged::TooShort => "too_short",
        }
    }
}

/// An active period of a series: (period index, lines, amount).
pub type ActiveCell = (usize, f64, f64);

/// Which rule made a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurgeBasis {
    /// The amount against the ln amounts of the window's active periods.
    Amount,
    /// The line count against the line counts of a steady window's active periods.
    Lines,
    /// The line count against the count model.
    Count,
    /// A drop of the amount against the window's amounts, zeros included.
    Drop,
}

/// One flagged episode of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesFlag {
    /// Period index (within the data range) of the episode's highest score.
    pub t: usize,
    /// First period of the episode.
    pub start: usize,
    /// Calibrated score (the smaller of trailing and seasonal when seasonal).
    pub score: f64,
    /// `high` for a surge, `low` for a drop.
    pub direction: Direction,
    /// The rule that gave the score.
    pub basis: SurgeBasis,
    /// The period's amount.
    pub observed: f64,
    /// The period's lines.
    pub lines: f64,
    /// Trailing window statistics: of the ln amounts of its active periods (`count` 0
    /// when it has none), or of its amounts for a drop.
    pub window: WindowStats,
    /// Consecutive flagged periods of the episode.
    pub episode: usize,
    /// The lines the window leads one to expect: the median line count of its active
    /// periods, or the count model's mean.
    pub expected_lines: f64,
    /// Lines in the window.
    pub window_lines: f64,
}

impl SurgeBasis {
    /// The findings' `rule` value.
    pub fn name(self) -> &'static str {
        match self {
            SurgeBasis::Amount => "amount",
            SurgeBasis::Lines => "lines",
            SurgeBasis::Count => "count_model",
            SurgeBasis::Drop => "drop",
        }
    }
}

impl SeriesFlag {
    /// The window's median amount (natural scale; NaN when no active period).
    pub fn baseline_median(&self) -> f64 {
        match self.basis {
            SurgeBasis::Drop => self.window.median,
            _ if self.window.count == 0 => f64::NAN,
            _ => self.window.median.exp(),
        }
    }
}

/// Counts of series walks, added up for the run record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SurgeCounts {
    /// Series walked with at least one judged period.
    pub series_judged: u64,
    /// Series not judged at all, by [`NotJudged`] (index `reason as usize`).
    pub series_not_judged: [u64; NotJudged::ALL.len()],
    /// Periods judged.
    pub periods_judged: u64,
    /// Periods not judged by reason.
    pub periods_not_judged: [u64; NotJudged::ALL.len()],
    /// Flags withdrawn by the seasonal comparison.
    pub withdrawn_by_season: u64,
}

impl SurgeCounts {
    /// Add another walk's counts.
    pub fn add(&mut self, o: &SurgeCounts) {
        self.series_judged += o.series_judged;
        self.periods_judged += o.periods_judged;
        self.withdrawn_by_season += o.withdrawn_by_season;
        for i in 0..NotJudged::ALL.len() {
            self.series_not_judged[i] += o.series_not_judged[i];
            self.periods_not_judged[i] += o.periods_not_judged[i];
        }
    }
}

/// One series as [`Surge::judge_series`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Amount per period (`>= 0`).
    pub amounts: &'a [f64],
    /// Lines per period.
    pub lines: &'a [f64],
    /// The panel's pooled spreads.
    pub prior: Prior,
    /// First period whose flags are wanted (0: all). Earlier periods are history: they
    /// feed the windows, and are judged only as far back as an episode open at `from`
    /// reaches, so the episodes reported are those of a walk over the whole series.
    pub from: usize,
}

/// Reusable buffers of [`Surge::judge_series`].
#[derive(Debug, Clone, Default)]
pub struct SurgeScratch {
    kernel: TrailingWindow,
    ln: Vec<f64>,
    active_lines: Vec<f64>,
    /// Cumulative line counts (the window's lines for the count model).
    cum: Vec<f64>,
    /// Scratch of the windows sorted whole: line counts where a surge is possible, and
    /// a series' spreads over its whole range.
    sorted: Vec<f64>,
    dev: Vec<f64>,
}

impl SurgeScratch {
    /// The walk's views of a series: ln amounts and line counts of its active periods
    /// (absent = NaN), and cumulative line counts.
    fn prepare(&mut self, x: &[f64], lines: &[f64]) {
        self.ln.clear();
        self.ln
            .extend(x.iter().map(|&v| if v > 0.0 { v.ln() } else { f64::NAN }));
        self.active_lines.clear();
        self.active_lines.extend(
            x.iter()
                .zip(lines)
                .map(|(&v, &n)| if v > 0.0 { n } else { f64::NAN }),
        );
        self.cum.clear();
        self.cum.push(0.0);
        for (i, &n) in self.active_lines.iter().enumerate() {
            self.cum
                .push(self.cum[i] + if n.is_nan() { 0.0 } else { n });
        }
    }

    /// Buffers for `surge`'s window.
    pub fn new(surge: &Surge) -> SurgeScratch {
        SurgeScratch {
            kernel: TrailingWindow::new(surge.window),
            ..Default::default()
        }
    }
}

/// The surge-and-drop detector with its parameters resolved for a period kind.
#[derive(Debug, Clone)]
pub struct Surge {
    window: usize,
    min_history: usize,
    min_nonzero: usize,
    threshold: f64,
    min_ratio: f64,
    min_lines: f64,
    min_relative_spread: f64,
    prior_weight: f64,
    drops: bool,
    seasonal: Option<(usize, usize)>,
}

impl Surge {
    /// Resolve the parameters for `period`.
    pub fn new(c: &SurgeConfig, period: PeriodKind) -> Surge {
        let (window, min_history, min_nonzero, half) = match period {
            PeriodKind::Week => (26, 8, 4, 2),
            PeriodKind::Month => (12, 6, 3, 1),
        };
        Surge {
            window: c.window.unwrap_or(window),
            min_history: c.min_history.unwrap_or(min_history),
            min_nonzero: c.min_nonzero.unwrap_or(min_nonzero),
            threshold: c.threshold,
            min_ratio: c.min_ratio,
            min_lines: f64::from(c.min_lines.max(1)),
            min_relative_spread: c.min_relative_spread,
            prior_weight: c.prior_weight,
            drops: c.drops,
            seasonal: c.seasonal.then(|| {
                (
                    period.per_year(),
                    c.seasonal_half_width
                        .unwrap_or(half)
                        .min(period.per_year() / 2),
                )
            }),
        }
    }

    /// Active periods a series needs before it is judged.
    pub fn min_nonzero(&self) -> usize {
        self.min_nonzero
    }

    /// Trailing window length.
    pub fn window(&self) -> usize {
        self.window
    }

    /// Whether a series with `cells` periods holding a line is walked period by period
    /// ([`Surge::judge_series`]); a sparser one can only be judged by the count model,
    /// on its active periods alone ([`Surge::judge_occasional`]).
    pub fn walks(&self, cells: usize) -> bool {
        cells >= self.min_nonzero
    }
}
