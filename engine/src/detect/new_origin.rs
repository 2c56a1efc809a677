//! `new-origin` (V03): a watched HS6 arrives from an origin never seen before.
//!
//! **What it detects.** A new supply route for a watched good: precursors suddenly
//! shipped from a country that never supplied them, ammunition from a new origin (a
//! possible transhipment or false declaration of origin).
//!
//! **Method.** For each HS6 in a configured family and each origin, the first period
//! with a line; reported when it lies at least `burn_in` periods after the start of the
//! data and the amount of that (HS6, origin) in the period is at least `min_amount` and
//! at least `min_ratio` times the median of the HS6's non-zero (origin, period) cells.
//! Series key `hs6_origin`.
//!
//! **Score.** On the calibrated scale: Fisher's combination of the robust z of
//! `ln(amount)` against the ln amounts of the HS6's non-zero (origin, period) cells
//! (calibrated for their count) and how rare a new origin is for the HS6
//! (`P = 1 - exp(-rate)`, `rate` its new origins per period after the burn-in);
//! [`super::novelty::novelty_score`].
//!
//! **Parameters.** Those of `first-time-importer` ([`super::NoveltyConfig`], shared in
//! [`super::novelty`]), under `[detectors.new-origin]`; same defaults but `min_ratio` 1
//! (against the origin cells), and no `established_min_ratio`.
//!
//! **Known false positives.** Small trading partners that supply a good once in a
//! while, origin codes that changed (a country split, a code corrected by the
//! declarant), lines whose origin was mistyped.

use super::DetectorKind;
use super::novelty::{FirstSeen, Novelty, novelty_finding, novelty_score};
use super::series::SeriesContext;
use crate::kernels::order_stats::OrderStats;
use crate::report::Finding;
use crate::series::SeriesKind;
use crate::series::cells::NO_SYMBOL;
use crate::series::entries::PanelView;

/// Judge the first period of every series of a panel of `hs6+origin` series.
/// `withheld` counts first appearances inside the burn-in (`[0]`) and below the amount
/// rule (`[1]`).
pub fn judge_panel(
    nov: &Novelty,
    p: &PanelView<'_>,
    typical: Option<OrderStats>,
    ctx: &SeriesContext<'_>,
    withheld: &mut [u64; 2],
    out: &mut Vec<Finding>,
) {
    // Newcomers per period after the burn-in: how rare a new origin is for this HS6.
    let newcomers = (0..p.index.keys.len())
        .filter(|&s| p.entries[p.index.offsets[s]].1 as usize >= nov.burn_in)
        .count();
    let rate = newcomers as f64 / ctx.grid.len.saturating_sub(nov.burn_in).max(1) as f64;
    for (s, &key) in p.index.keys.iter().enumerate() {
        let first = p.entries[p.index.offsets[s]];
        let seen = FirstSeen {
            importer: NO_SYMBOL,
            hs6: p.hs6,
            families: nov.families & p.mask,
            period: first.1 as usize,
            agg: first.2,
            typical,
        };
        match nov.withheld(&seen) {
            Some(in_burn_in) => withheld[usize::from(!in_burn_in)] += 1,
            None => out.push(novelty_finding(
                ctx,
                DetectorKind::NewOrigin,
                SeriesKind::Origin,
                &seen,
                key,
                (
                    "non-zero hs6+origin cells",
                    novelty_score(seen.agg.amount.value(), typical.as_ref(), rate, &[]),
                ),
                |out, families| {
                    format!(
                        "first line of origin {} for hs6 {} (in a watched family: {families})",
                        out.origin.as_deref().unwrap_or(""),
                        out.hs6
                    )
                },
            )),
        }
    }
}
