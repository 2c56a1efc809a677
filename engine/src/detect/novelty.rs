//! What `first-time-importer` (V02) and `new-origin` (V03) share: a first appearance
//! in a watched good, its parameters, the amount rule, the score and the finding.

use serde::{Deserialize, Serialize};

use super::DetectorKind;
use super::scale::robust_sigma;
use super::series::SeriesContext;
use crate::error::{Error, Result};
use crate::kernels::dates::format_ymd;
use crate::kernels::order_stats::OrderStats;
use crate::kernels::tail::{calibrated_z, combined_z, normal_z_of_ln_sf};
use crate::report::{Finding, sig};
use crate::series::cells::CellAgg;
use crate::series::{PeriodKind, SeriesKind};
use crate::watch::WatchIndex;

/// The flag level novelty scores start from.
pub const NOVELTY_BASE_SCORE: f64 = 3.5;

/// Parameters of `first-time-importer` and `new-origin`
/// (`[detectors.first-time-importer]`, `[detectors.new-origin]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NoveltyConfig {
    /// Watch families whose goods are followed.
    pub families: Vec<String>,
    /// Periods from the start of the data before a first appearance counts.
    pub burn_in: Option<usize>,
    /// Smallest amount (volume measure) in the first period worth reporting.
    pub min_amount: f64,
    /// Smallest ratio of that amount to its comparison: for `new-origin` the median of
    /// the HS6's non-zero (origin, period) cells (default 1); for
    /// `first-time-importer` the median first purchase of the HS6, for a trader new to
    /// the data (default 5).
    pub min_ratio: Option<f64>,
    /// `first-time-importer` only: the ratio for a trader with earlier lines in other
    /// goods (default 50).
    pub established_min_ratio: Option<f64>,
}

impl Default for NoveltyConfig {
    fn default() -> Self {
        NoveltyConfig {
            families: ["ied_precursors", "salw_ammunition", "dual_use"]
                .map(String::from)
                .to_vec(),
            burn_in: None,
            min_amount: 0.0,
            min_ratio: None,
            established_min_ratio: None,
        }
    }
}

impl NoveltyConfig {
    /// Check the parameters.
    pub fn validate(&self, name: &str) -> Result<()> {
        if !(self.min_amount.is_finite() && self.min_amount >= 0.0) {
            return Err(Error::config(format!(
                "detectors.{name}.min_amount must be 0 or more"
            )));
        }
        for (key, v) in [
            ("min_ratio", self.min_ratio),
            ("established_min_ratio", self.established_min_ratio),
        ] {
            if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                return Err(Error::config(format!(
                    "detectors.{name}.{key} must be 0 or more"
                )));
            }
        }
        if name != DetectorKind::FirstTimeImporter.name() && self.established_min_ratio.is_some() {
            return Err(Error::config(format!(
                "detectors.{name}.established_min_ratio is a first-time-importer parameter"
            )));
        }
        Ok(())
    }

    /// The burn-in for a period kind (13 weeks or 3 months unless set).
    pub fn burn_in(&self, period: PeriodKind) -> usize {
        self.burn_in.unwrap_or(match period {
            PeriodKind::Week => 13,
            PeriodKind::Month => 3,
        })
    }
}

/// Whether a first appearance of `amount` passes the amount thresholds (`min_amount`,
/// and `min_ratio` times the median of `typical`, ln amounts).
pub fn novelty_passes(
    min_amount: f64,
    min_ratio: f64,
    amount: f64,
    typical: Option<&OrderStats>,
) -> bool {
    amount >= min_amount && typical.is_none_or(|t| amount >= min_ratio * t.median.exp())
}

/// The score of a first appearance on the calibrated scale (`kernels::tail`): Fisher's
/// combination of the amount's robust z against `compared` (ln amounts, calibrated for
/// their count), how rare a newcomer is in its HS6 (`P = 1 - exp(-rate)`, `rate` its
/// first appearances per period after the burn-in) and `extra` evidence on the same
/// scale. Evidence that is not rare (a score at or under 0) adds nothing.
pub fn novelty_score(amount: f64, compared: Option<&OrderStats>, rate: f64, extra: &[f64]) -> f64 {
    let z_amount = compared.map_or(0.0, |t| {
        let scale = robust_sigma(t.mad, t.mean_ad);
        if scale > 0.0 && amount > 0.0 {
            calibrated_z((amount.ln() - t.median) / scale, t.count)
        } else {
            0.0
        }
    });
    let z_rare = if rate > 0.0 {
        normal_z_of_ln_sf((-(-rate).exp_m1()).ln())
    } else {
        0.0
    };
    let mut scores = vec![z_amount, z_rare];
    scores.extend_from_slice(extra);
    combined_z(&scores)
}

/// A novelty detector's parameters resolved for a run.
#[derive(Debug, Clone)]
pub struct Novelty {
    /// The followed families' mask.
    pub families: u64,
    /// Burn-in, in periods.
    pub burn_in: usize,
    /// Smallest amount.
    pub min_amount: f64,
    /// Smallest ratio to the comparison (for a new trader, with `first-time-importer`).
    pub min_ratio: f64,
    /// `first-time-importer`: the smallest ratio for an established trader.
    pub established_min_ratio: f64,
}

impl Novelty {
    /// Resolve `config` of detector `kind` against the watch families in force.
    pub fn resolve(
        kind: DetectorKind,
        config: &NoveltyConfig,
        watch: &WatchIndex,
        period: PeriodKind,
    ) -> Result<Novelty> {
        Ok(Novelty {
            families: watch.mask_of_names(
                &config.families,
                &format!("detectors.{}.families", kind.name()),
            )?,
            burn_in: config.burn_in(period),
            min_amount: config.min_amount,
            min_ratio: config.min_ratio.unwrap_or(match kind {
                DetectorKind::FirstTimeImporter => 5.0,
                _ => 1.0,
            }),
            established_min_ratio: config.established_min_ratio.unwrap_or(50.0),
        })
    }

    /// Why a first appearance is not reported: inside the burn-in (`Some(true)`),
    /// below the amount rule (`Some(false)`), or reported (`None`).
    pub fn withheld(&self, s: &FirstSeen) -> Option<bool> {
        if s.period < self.burn_in {
            Some(true)
        } else if !novelty_passes(
            self.min_amount,
            self.min_ratio,
            s.agg.amount.value(),
            s.typical.as_ref(),
        ) {
            Some(false)
        } else {
            None
        }
    }
}

/// A series' first period with a line, in an HS6 of a followed family.
#[derive(Debug, Clone)]
pub struct FirstSeen {
    /// Importer symbol (first-time-importer).
    pub importer: u32,
    /// HS6 bits.
    pub hs6: u64,
    /// The followed families of the HS6.
    pub families: u64,
    /// Period index.
    pub period: usize,
    /// The series' sums in that period.
    pub agg: CellAgg,
    /// The ln amounts of the HS6's non-zero cells of the same key kind.
    pub typical: Option<OrderStats>,
}

/// The finding of a first appearance of series `key` (of `kind`); `who` opens the
/// explanation.
pub fn novelty_finding(
    ctx: &SeriesContext<'_>,
    detector: DetectorKind,
    kind: SeriesKind,
    s: &FirstSeen,
    key: u64,
    (compared_with, score): (&str, f64),
    who: impl FnOnce(&Finding, &str) -> String,
) -> Finding {
    let g = &ctx.grid;
    let families = ctx.watch.names_of(s.families).unwrap_or_default();
    let measure = ctx.measure.name().replace('_', " ");
    let mut out = ctx.base(
        detector,
        s.hs6,
        kind,
        key,
        g.start(s.period),
        g.kind.name(),
        s.agg.amount.value(),
        &s.agg,
    );
    let who = who(&out, &families);
    let mut explanation = format!(
        "{who}, {measure} {} in {} lines in the {} {}, after {} {}s of data without one",
        sig(s.agg.amount.value()),
        s.agg.lines,
        g.label(),
        format_ymd(g.start(s.period)),
        s.period,
        g.kind.name(),
    );
    if let Some(t) = &s.typical {
        explanation.push_str(&format!(
            "; the median of the hs6's {} {compared_with} is {}",
            t.count,
            sig(t.median.exp())
        ));
        out.baseline_median = t.median.exp();
        out.baseline_mad = Some(t.mad);
        out.group_size = t.count;
    }
    out.score = score;
    out.history_len = Some(s.period as u64);
    out.rule = Some("first_appearance");
    out.explanation = explanation;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::order_stats::order_stats;

    #[test]
    fn large_and_rare_first_appearances_rank_higher() {
        let mut ln: Vec<f64> = [10.0f64, 12.0, 9.0, 11.0, 10.0]
            .iter()
            .map(|v| v.ln())
            .collect();
        let stats = order_stats(&mut ln, &mut Vec::new());
        // An ordinary amount in a good that gains a newcomer every week: no evidence.
        assert_eq!(novelty_score(10.0, stats.as_ref(), 1.0, &[]), 0.0);
        let large = novelty_score(500.0, stats.as_ref(), 1.0, &[]);
        assert!(large > 2.0, "{large}");
        // The same amount where newcomers are rare ranks higher; more evidence, higher.
        let rare = novelty_score(500.0, stats.as_ref(), 0.01, &[]);
        assert!(rare > large, "{rare} vs {large}");
        assert!(novelty_score(500.0, stats.as_ref(), 0.01, &[2.0]) > rare);
        // Without a comparison, the rarity alone: 1 - exp(-0.01) is about 0.00995.
        let alone = novelty_score(500.0, None, 0.01, &[]);
        assert!((alone - 2.328).abs() < 0.01, "{alone}");
    }
}
