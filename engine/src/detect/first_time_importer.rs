//! `first-time-importer` (V02): an importer declares a watched good for the first time,
//! in an amount unusual for a first purchase of that good.
//!
//! **What it detects.** A trader with no earlier line in a watch family (explosive
//! precursors, arms and ammunition, dual-use goods by default) who now declares one in
//! bulk: a company never seen before that buys tonnes of ammonium nitrate, a firm that
//! never imported ammunition ordering fifty times what newcomers usually order. In a
//! good that gains new importers every week (fertilisers), a first purchase of
//! ordinary size is routine and is not reported.
//!
//! **Method.** For each importer and each configured family, the first period in which
//! the importer has a line of an HS6 in that family. It is judged when that period lies
//! at least `burn_in` periods after the start of the data (before that, "first" only
//! means "first since the data starts"), against the HS6's *first purchases*: the
//! importer-period amounts of every importer's first period with the HS6 after the
//! burn-in (against the HS6's non-zero importer-period cells when it has fewer than 5).
//! It is reported when its amount is at least `min_amount` and at least
//!
//! - `min_ratio` (5) times their median for a **new trader**: an importer whose first
//!   line in any good is in this period (a company that appears, buys a watched good in
//!   bulk and is gone is the classic diversion pattern);
//! - `established_min_ratio` (50) times their median for a trader with earlier lines in
//!   other goods (known to the authority, whose first order of a new good is often a
//!   new line of business).
//!
//! One finding per HS6 the importer declares in its first period, series key
//! `hs6_importer`. First appearances inside the burn-in or below the ratio are counted in
//! `manifest.json` (`volume.first_appearances_in_burn_in`, `..._below_min_amount`).
//!
//! **Score.** Three pieces of evidence, each the `z` of a tail probability, combined by
//! Fisher's method ([`crate::kernels::tail::combined_z`]; on the price scores' scale):
//! the amount's robust z against the first purchases (calibrated for their number),
//! how rare a newcomer is in the HS6 (`P = 1 - exp(-lambda)`, `lambda` its first
//! purchases per period after the burn-in), and, for a new trader, how rare new traders
//! are among the run's first appearances in watched goods. `baseline_median` and
//! `baseline_mad` are the first purchases' median (natural scale) and MAD (ln scale).
//!
//! **Defaults.** `families = ["ied_precursors", "salw_ammunition", "dual_use"]`,
//! `burn_in` 13 weeks or 3 months, `min_amount` 0, `min_ratio` 5,
//! `established_min_ratio` 50. A family judged more strictly gets its own run with a
//! lower `min_ratio` and `families` set to it.
//!
//! **Known false positives.** Importers whose earlier purchases went through another
//! company id (mergers, a new EORI number), regular importers whose previous purchase
//! fell before the start of the data (use a longer history, or a stored baseline), and
//! HS6 codes in a family that are mostly harmless (the lists are over-inclusive).

use std::collections::BTreeMap;

use super::DetectorKind;
use super::novelty::{FirstSeen, Novelty, novelty_finding, novelty_score};
use super::series::SeriesContext;
use crate::kernels::order_stats::{OrderStats, order_stats};
use crate::kernels::tail::normal_z_of_ln_sf;
use crate::report::{Finding, VolumeSummary, sig};
use crate::series::SeriesKind;
use crate::series::entries::PanelView;

/// First purchases an HS6 needs to be their own comparison.
const MIN_FIRST_PURCHASES: u64 = 5;

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

/// What an HS6's first purchases after the burn-in say.
struct FirstPurchases {
    /// Their ln amounts' statistics (`None`: fewer than [`MIN_FIRST_PURCHASES`]).
    stats: Option<OrderStats>,
    /// Newcomers per period after the burn-in.
    rate: f64,
}

/// Resolve first appearances per (importer, family) across HS6 codes, and report
/// those after the burn-in that pass the amount rule. `first_any` holds each
/// importer's first period with a line of any good, sorted by importer.
pub fn first_time_findings(
    mut seen: Vec<FirstSeen>,
    nov: &Novelty,
    ctx: &SeriesContext<'_>,
    first_any: &[(u32, u32)],
    findings: &mut Vec<Finding>,
    summary: &mut VolumeSummary,
) {
    let judged_periods = ctx.grid.len.saturating_sub(nov.burn_in).max(1) as f64;
    let mut by_hs6: BTreeMap<u64, Vec<f64>> = BTreeMap::new();
    for s in seen.iter().filter(|s| s.period >= nov.burn_in) {
        let amount = s.agg.amount.value();
        by_hs6
            .entry(s.hs6)
            .or_default()
            .push(if amount > 0.0 { amount.ln() } else { f64::NAN });
    }
    let purchases: BTreeMap<u64, FirstPurchases> = by_hs6
        .into_iter()
        .map(|(hs6, mut ln)| {
            let rate = ln.len() as f64 / judged_periods;
            ln.retain(|v| !v.is_nan());
            let stats =
                order_stats(&mut ln, &mut Vec::new()).filter(|t| t.count >= MIN_FIRST_PURCHASES);
            (hs6, FirstPurchases { stats, rate })
        })
        .collect();
    let new_trader = |s: &FirstSeen| {
        first_any
            .binary_search_by_key(&s.importer, |f| f.0)
            .is_ok_and(|i| first_any[i].1 as usize == s.period)
    };

    seen.sort_by_key(|a| (a.importer, a.period, a.hs6));
    // The family-first appearances after the burn-in, and how many are new traders.
    let mut firsts: Vec<&FirstSeen> = Vec::new();
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
            if !(0..64).any(|bit| s.families & (1 << bit) != 0 && first[bit] == s.period) {
                continue;
            }
            if s.period < nov.burn_in {
                *summary
                    .first_appearances_in_burn_in
                    .entry(name.into())
                    .or_default() += 1;
            } else {
                firsts.push(s);
            }
        }
        at = end;
    }
    let new_count = firsts.iter().filter(|s| new_trader(s)).count();
    let p_new = (new_count + 1) as f64 / (firsts.len() + 1) as f64;

    for s in firsts {
        let amount = s.agg.amount.value();
        let fp = purchases.get(&s.hs6);
        let rate = fp.map_or(0.0, |f| f.rate);
        let (compared, label) = match fp.and_then(|f| f.stats) {
            Some(t) => (Some(t), "first purchases"),
            None => (s.typical, "non-zero hs6+importer cells"),
        };
        let is_new = new_trader(s);
        let min_ratio = if is_new {
            nov.min_ratio
        } else {
            nov.established_min_ratio
        };
        let ratio = compared.map_or(f64::INFINITY, |t| amount / t.median.exp());
        if amount < nov.min_amount || ratio < min_ratio {
            *summary
                .first_appearances_below_min_amount
                .entry(name.into())
                .or_default() += 1;
            continue;
        }
        let seen = FirstSeen {
            typical: compared,
            ..s.clone()
        };
        let z_new = if is_new {
            normal_z_of_ln_sf(p_new.ln())
        } else {
            0.0
        };
        let score = novelty_score(amount, compared.as_ref(), rate, &[z_new]);
        let mut out = novelty_finding(
            ctx,
            DetectorKind::FirstTimeImporter,
            SeriesKind::Importer,
            &seen,
            u64::from(s.importer),
            (label, score),
            |out, families| {
                format!(
                    "first line of importer {} in a watched family ({families}): hs6 {}",
                    out.importer_id.as_deref().unwrap_or(""),
                    out.hs6
                )
            },
        );
        let who = if is_new {
            "a new trader (no earlier line in any good)"
        } else {
            "a trader with earlier lines in other goods"
        };
        let ratio = if ratio.is_finite() {
            format!("{ratio:.1}x that median, ")
        } else {
            String::new()
        };
        out.explanation.push_str(&format!(
            "; {ratio}by {who}; {} newcomers a {} in this hs6",
            sig(rate),
            ctx.grid.kind.name(),
        ));
        findings.push(out);
    }
}
