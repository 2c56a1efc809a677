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
//! **Score.** As `first-time-importer`: `3.5 + max(0, z)` with `z` the robust z of
//! `ln(amount)` against the ln amounts of the HS6's other non-zero (origin, period)
//! cells.
//!
//! **Parameters.** Those of `first-time-importer` ([`super::NoveltyConfig`], shared in [`super::novelty`]), under
//! `[detectors.new-origin]`; same defaults.
//!
//! **Known false positives.** Small trading partners that supply a good once in a
//! while, origin codes that changed (a country split, a code corrected by the
//! declarant), lines whose origin was mistyped.

use super::DetectorKind;
use super::novelty::{FirstSeen, Novelty, novelty_finding};
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
                "non-zero hs6+origin cells",
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
