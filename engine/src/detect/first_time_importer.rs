//! `first-time-importer` (V02): an importer declares a watched good for the first time.
//!
//! **What it detects.** A trader with no earlier line in a watch family (explosive
//! precursors, arms and ammunition, dual-use goods by default) who now declares one:
//! a new buyer of ammonium nitrate, a company that never imported ammunition.
//!
//! **Method.** For each importer and each configured family, the first period in which
//! the importer has a line of an HS6 in that family. It is reported when that period
//! lies at least `burn_in` periods after the start of the data (before that, "first"
//! only means "first since the data starts"), the importer's amount of that HS6 in
//! that period is at least `min_amount` (in the volume measure) and at least
//! `min_ratio` times the median of the HS6's non-zero (importer, period) cells (a
//! first purchase smaller than what importers of the good typically declare in a
//! period is left out). One finding per HS6 the importer declares in its first period,
//! series key `hs6_importer`.
//!
//! **Score.** `3.5 + max(0, z)`, where `z` is the robust z of `ln(amount)` against the
//! ln amounts of all non-zero (importer, period) cells of the same HS6: every first-time
//! importer sits at the flag level, and a first purchase far larger than what importers
//! of that good usually declare in a period ranks higher. `baseline_median` and
//! `baseline_mad` are that distribution's median (natural scale) and MAD (ln scale).
//!
//! **Defaults.** `families = ["ied_precursors", "salw_ammunition", "dual_use"]`,
//! `burn_in` 13 weeks or 3 months, `min_amount` 0, `min_ratio` 1.
//!
//! **Known false positives.** Importers whose earlier purchases went through another
//! company id (mergers, a new EORI number), regular importers whose previous purchase
//! fell before the start of the data (use a longer history, or a stored baseline), and
//! HS6 codes in a family that are mostly harmless (the lists are over-inclusive).

use super::DetectorKind;
use super::novelty::{FirstSeen, Novelty, novelty_finding};
use super::series::SeriesContext;
use crate::kernels::order_stats::OrderStats;
use crate::report::{Finding, VolumeSummary};
use crate::series::SeriesKind;
use crate::series::entries::PanelView;

/// Note every importer's first period in a panel of `hs6+importer` series; the
/// first appearances are resolved across HS6 codes by [`first_time_findings`].
pub fn collect_first_seen(
    nov: &Novelty,
    p: &PanelView<'_>,
    typical: Option<OrderStats>,
    seen: &mut Vec<FirstSeen>,
) {
    for (s, &key) in p.index.keys.iter().enumerate() {
        let first = p.entries[p.index.offsets[s]];
        seen.push(FirstSeen {
            importer: key as u32,
            hs6: p.hs6,
            families: nov.families & p.mask,
            period: first.1 as usize,
            agg: first.2,
            typical,
        });
    }
}

/// Resolve first appearances per (importer, family) across HS6 codes, and report
/// those after the burn-in that pass the amount rule.
pub fn first_time_findings(
    mut seen: Vec<FirstSeen>,
    nov: &Novelty,
    ctx: &SeriesContext<'_>,
    findings: &mut Vec<Finding>,
    summary: &mut VolumeSummary,
) {
    seen.sort_by_key(|a| (a.importer, a.period, a.hs6));
    let name = DetectorKind::FirstTimeImporter.name();
    let mut at = 0;
    while at < seen.len() {
        let importer = seen[at].importer;
        let end = at + seen[at..].partition_point(|s| s.importer == importer);
        // Sorted by period: the first entry carrying a family bit is its first period.
        let mut first = [usize::MAX; 64];
        for s in &seen[at..end] {
            for (bit, slot) in first.iter_mut().enumerate() {
                if s.families & (1 << bit) != 0 && *slot == usize::MAX {
                    *slot = s.period;
                }
            }
        }
        for s in &seen[at..end] {
            let is_first =
                (0..64).any(|bit| s.families & (1 << bit) != 0 && first[bit] == s.period);
            if !is_first {
                continue;
            }
            match nov.withheld(s) {
                Some(true) => {
                    *summary
                        .first_appearances_in_burn_in
                        .entry(name.into())
                        .or_default() += 1
                }
                Some(false) => {
                    *summary
                        .first_appearances_below_min_amount
                        .entry(name.into())
                        .or_default() += 1
                }
                None => findings.push(novelty_finding(
                    ctx,
                    DetectorKind::FirstTimeImporter,
                    SeriesKind::Importer,
                    s,
                    u64::from(importer),
                    |out, families| {
                        format!(
                            "first line of importer {} in a watched family ({families}): hs6 {}",
                            out.importer_id.as_deref().unwrap_or(""),
                            out.hs6
                        )
                    },
                )),
            }
        }
        at = end;
    }
}
