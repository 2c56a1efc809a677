//! One event, one inspection item: the findings one event shows in several series, and
//! on a line, are one finding.
//!
//! A burst of lines from one importer also lifts the series of its origin, its office
//! and its HS6 in the same period; a first purchase from a new origin is both a
//! first-time importer and a new origin; a line whose quantity is declared in grams
//! lifts its importer's and its HS6's amounts. Each of those is flagged on its own, and
//! an analyst would get the same consignment three or four times.
//!
//! So a finding of a less specific series (`hs6` < `hs6_origin`, `hs6_office` <
//! `hs6_importer` < a line) is *corroboration* of a more specific finding when both are
//! in the same HS6 and direction, in the same period (series flagged at most one period
//! apart; a line dated in the period), and the more specific one explains at least half
//! of it: its amount is at least half the less specific series' excess (its amount
//! minus its baseline median; its whole amount when there is none). A line only
//! explains a series flagged on its amount or a first appearance: one line does not
//! explain a burst of lines. Of several headlines that qualify, the most specific, then
//! the largest, takes it. (Amounts are not traced line by line: an importer's burst
//! from one origin and another origin's burst in the same week can be folded together.)
//!
//! A corroboration is named in its headline's explanation and `corroborated_by` column
//! (`detector:group_key@period`; the most specific first, then the highest score) and leaves the findings, so budgets,
//! `--fail-on-findings` and `tradescan eval` count events. An origin or office flag no
//! importer explains stays an item of its own, and may head the HS6's flag.

use crate::kernels::dates::format_ymd;
use crate::kernels::hash::{FxHashMap, FxHashSet};
use crate::report::Finding;
use crate::series::{PeriodKind, period_id, period_start};

/// The share of a corroborating series' excess its headline must explain.
const MIN_SHARE: f64 = 0.5;

/// Specificity of a finding (lower is more specific): a line, then the series keys;
/// `None` for split shipments, which are not folded.
fn rank(f: &Finding) -> Option<u8> {
    if f.detector == "split-shipment" {
        return None;
    }
    match f.series_key {
        None => Some(0),
        Some("hs6_importer") => Some(1),
        Some("hs6_origin" | "hs6_office") => Some(2),
        Some("hs6") => Some(3),
        Some(_) => None,
    }
}

/// What `f` adds to its series beyond the usual.
fn excess(f: &Finding) -> f64 {
    if f.baseline_median.is_finite() && f.direction == "high" {
        (f.observed - f.baseline_median).max(0.0)
    } else {
        f.observed.abs()
    }
}

/// A headline's amount in the measure of series finding `of`: a series finding's own
/// amount, a line's quantity, net mass, value or 1.
fn amount(h: &Finding, of: &Finding) -> f64 {
    if h.series_key.is_some() {
        return h.observed.abs();
    }
    match of.measure {
        "quantity" => h.quantity,
        "net_mass_kg" => h.net_mass_kg,
        "customs_value" => h.customs_value,
        "lines" => Some(1.0),
        _ => None,
    }
    .unwrap_or(0.0)
}

/// Whether series findings `h` and `f` are flagged at most one period apart.
fn same_period(h: &Finding, f: &Finding, kind: PeriodKind) -> bool {
    match (h.period_start, f.period_start) {
        (Some(a), Some(b)) => (period_id(kind, a) - period_id(kind, b)).abs() <= 1,
        _ => false,
    }
}

/// Fold corroborating volume findings into their headlines; the number folded.
pub fn fold(findings: &mut Vec<Finding>, period: PeriodKind) -> u64 {
    // Series findings by (HS6, rank), in their order; line findings by (HS6, period),
    // only in the HS6 codes with a series finding (they are most of a scan's findings).
    let mut order: Vec<(usize, u8)> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.series_key.is_some())
        .filter_map(|(i, f)| rank(f).map(|r| (i, r)))
        .collect();
    order.sort_unstable_by(|a, b| {
        let (fa, fb) = (&findings[a.0], &findings[b.0]);
        (fa.hs6.as_str(), a.1, a.0).cmp(&(fb.hs6.as_str(), b.1, b.0))
    });
    let hs6s: FxHashSet<&str> = order
        .iter()
        .map(|&(i, _)| findings[i].hs6.as_str())
        .collect();
    let mut lines: FxHashMap<(&str, i32), Vec<usize>> = FxHashMap::default();
    for (i, f) in findings.iter().enumerate() {
        if let (Some(0), Some(day)) = (rank(f), f.date)
            && hs6s.contains(f.hs6.as_str())
        {
            let start = period_start(period, period_id(period, day));
            lines.entry((f.hs6.as_str(), start)).or_default().push(i);
        }
    }
    let mut into: Vec<Option<usize>> = vec![None; findings.len()];
    for (k, &(i, r)) in order.iter().enumerate() {
        let f = &findings[i];
        if f.direction != "high" {
            continue;
        }
        let need = MIN_SHARE * excess(f);
        // One line explains an amount or a first appearance, not a burst of lines.
        let same_lines = match (f.rule, f.period_start) {
            (Some("amount" | "first_appearance"), Some(start)) => lines
                .get(&(f.hs6.as_str(), start))
                .map_or(&[][..], Vec::as_slice),
            _ => &[],
        };
        // The more specific series findings of the same HS6 come before it in `order`.
        let series = order[..k]
            .iter()
            .rev()
            .take_while(|&&(j, _)| findings[j].hs6 == f.hs6)
            .filter(|&&(j, rj)| {
                let h = &findings[j];
                rj < r
                    && into[j].is_none()
                    && h.direction == f.direction
                    && same_period(h, f, period)
            })
            .map(|&(j, _)| j);
        let best = same_lines
            .iter()
            .copied()
            .chain(series)
            .map(|j| (j, amount(&findings[j], f)))
            .filter(|&(_, a)| a >= need)
            // The most specific headline that explains it, then the largest.
            .max_by(|a, b| {
                let rank = |j: usize| rank(&findings[j]);
                rank(b.0)
                    .cmp(&rank(a.0))
                    .then(a.1.total_cmp(&b.1))
                    .then(b.0.cmp(&a.0))
            });
        into[i] = best.map(|(j, _)| j);
    }
    let mut notes: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    for (i, h) in into.iter().enumerate() {
        if let Some(h) = *h {
            notes[h].push(i);
        }
    }
    for (h, folded) in notes.iter_mut().enumerate() {
        if folded.is_empty() {
            continue;
        }
        // The most specific corroboration first, then the highest score.
        folded.sort_by(|&a, &b| {
            let (fa, fb) = (&findings[a], &findings[b]);
            (rank(fa).cmp(&rank(fb)))
                .then(fb.score.total_cmp(&fa.score))
                .then_with(|| Finding::output_order(fa, fb))
        });
        let parts: Vec<String> = folded
            .iter()
            .map(|&i| {
                let f = &findings[i];
                format!("{} ({}, score {:.1})", f.group_key, f.detector, f.score)
            })
            .collect();
        let keys: Vec<String> = folded
            .iter()
            .map(|&i| {
                let f = &findings[i];
                let start = f.period_start.map(format_ymd).unwrap_or_default();
                format!("{}:{}@{start}", f.detector, f.group_key)
            })
            .collect();
        let keys = keys.join(";");
        let h = &mut findings[h];
        h.explanation
            .push_str(&format!("; the same event in {}", parts.join(", ")));
        h.corroborated_by = Some(keys);
    }
    let folded = into.iter().filter(|i| i.is_some()).count();
    let mut i = 0;
    findings.retain(|_| {
        let keep = into[i].is_none();
        i += 1;
        keep
    });
    folded as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::dates::parse_ymd;

    const WEEK: &str = "2025-06-23";

    fn day(s: &str) -> i32 {
        parse_ymd(s).unwrap_or_default()
    }

    /// A volume finding of `key` (`importer=..`, `origin=..`, `office=..` or empty).
    fn series(
        detector: &'static str,
        key: &str,
        start: &str,
        observed: f64,
        median: f64,
    ) -> Finding {
        let (series_key, suffix) = match key.split_once('=') {
            Some(("importer", _)) => ("hs6_importer", format!("|{key}")),
            Some(("origin", _)) => ("hs6_origin", format!("|{key}")),
            Some(("office", _)) => ("hs6_office", format!("|{key}")),
            _ => ("hs6", String::new()),
        };
        Finding {
            detector,
            series_key: Some(series_key),
            period_start: Some(day(start)),
            period: Some("week"),
            hs6: "310230".into(),
            hs_code: "310230".into(),
            group_key: format!("hs6=310230{suffix}"),
            measure: "quantity",
            observed,
            baseline_median: median,
            rule: Some("amount"),
            score: 6.0,
            ..line(0.0)
        }
    }

    /// A line finding of hs6 310230 dated 2025-06-25 with `quantity`.
    fn line(quantity: f64) -> Finding {
        Finding {
            date: Some(day("2025-06-25")),
            hs_code: "3102300000".into(),
            hs6: "310230".into(),
            quantity: Some(quantity),
            ..Finding::test_line("robust-z", "D1")
        }
    }

    fn keys(f: &[Finding]) -> Vec<(&str, Option<&str>)> {
        f.iter()
            .map(|f| (f.group_key.as_str(), f.corroborated_by.as_deref()))
            .collect()
    }

    #[test]
    fn an_importers_surge_heads_the_origin_office_and_hs6_flags_it_explains() {
        let mut f = vec![
            // Excess 60,000: the importer's 35,000 explains more than half.
            series("surge", "", WEEK, 80_000.0, 20_000.0),
            series("surge", "origin=NL", "2025-06-30", 30_000.0, 5_000.0),
            series("surge", "importer=IM1", WEEK, 35_000.0, 1_000.0),
            // An office's flag the importer does not explain (excess 75,000); it would
            // explain the HS6's too, but the importer is more specific.
            series("surge", "office=BE2", WEEK, 80_000.0, 5_000.0),
            // Two weeks later: another period.
            series("surge", "office=BE1", "2025-07-07", 9_000.0, 1_000.0),
        ];
        assert_eq!(fold(&mut f, PeriodKind::Week), 2);
        assert_eq!(
            keys(&f),
            vec![
                (
                    "hs6=310230|importer=IM1",
                    Some("surge:hs6=310230|origin=NL@2025-06-30;surge:hs6=310230@2025-06-23")
                ),
                ("hs6=310230|office=BE2", None),
                ("hs6=310230|office=BE1", None),
            ]
        );
        assert!(
            f[0].explanation
                .contains("the same event in hs6=310230|origin=NL (surge, score 6.0), hs6=310230 (surge, score 6.0)")
        );
    }

    #[test]
    fn a_line_explains_an_amount_surge_in_its_week_but_not_a_burst_of_lines() {
        let mut amount = series("surge", "importer=IM1", WEEK, 5_000.0, 10.0);
        let mut burst = series("surge", "importer=IM2", WEEK, 5_000.0, 10.0);
        burst.rule = Some("count_model");
        let next_week = series("surge", "importer=IM3", "2025-06-30", 5_000.0, 10.0);
        let mut f = vec![
            line(4_000.0),
            amount.clone(),
            burst.clone(),
            next_week.clone(),
        ];
        assert_eq!(fold(&mut f, PeriodKind::Week), 1);
        assert_eq!(f.len(), 3);
        assert_eq!(
            f[0].corroborated_by.as_deref(),
            Some("surge:hs6=310230|importer=IM1@2025-06-23")
        );
        // A line of under half the excess explains nothing.
        amount.corroborated_by = None;
        let mut f = vec![line(2_000.0), amount, burst, next_week];
        assert_eq!(fold(&mut f, PeriodKind::Week), 0);
    }

    #[test]
    fn a_first_time_importer_heads_its_new_origin() {
        let mut fti = series("first-time-importer", "importer=NEW", WEEK, 9_000.0, 700.0);
        fti.rule = Some("first_appearance");
        let mut origin = series("new-origin", "origin=RS", WEEK, 9_000.0, 4_000.0);
        origin.rule = Some("first_appearance");
        let mut f = vec![origin, fti];
        assert_eq!(fold(&mut f, PeriodKind::Week), 1);
        assert_eq!(
            keys(&f),
            vec![(
                "hs6=310230|importer=NEW",
                Some("new-origin:hs6=310230|origin=RS@2025-06-23")
            )]
        );
    }
}
