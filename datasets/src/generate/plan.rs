//! The plan of a run: which months, how many lines each, the crisis window, and the
//! planted series events (volume surges, brand-new precursor importers) with their
//! declarations routed to the month of their date.

use super::calendar::{add_months, days_from_civil, days_in_month, iso_monday, weekday};
use super::catalogue::{
    Catalogue, FAM_IED_PRECURSORS, Importer, first_time_importer_count, surge_count,
};
use super::labels::Label;
use super::realistic::{self, Reclassification, SeriesCounts};
use super::rng::{Cdf, Rand};
use super::{GeneratorConfig, Profile};

/// Seasonal profile of declaration volume by calendar month (January first),
/// multiplied by the number of weekdays in the month.
pub(crate) const SEASON: [f64; 12] = [
    0.90, 0.95, 1.08, 1.02, 1.05, 1.03, 0.97, 0.85, 1.05, 1.12, 1.15, 0.88,
];
/// Relative volume by day of week, Monday first.
pub(crate) const WEEKDAY_WEIGHTS: [f64; 7] = [1.10, 1.05, 1.0, 1.0, 0.92, 0.10, 0.04];
/// Month index (0-based, in the range) at which the crisis window opens.
pub(crate) const CRISIS_MONTH_INDEX: u32 = 3;
/// Length of the crisis window in days (8 ISO weeks).
pub(crate) const CRISIS_DAYS: i32 = 56;
/// Days of history a volume surge week needs before it (when the range allows).
pub(crate) const SURGE_MIN_HISTORY_DAYS: i32 = 56;
/// Months of history before a brand-new precursor importer may appear.
pub(crate) const FIRST_TIME_AFTER_MONTHS: u32 = 3;
/// Planted series lines may use at most this share of all rows ...
const MAX_SERIES_SHARE_TOTAL: f64 = 0.10;
/// ... and at most this share of any month's rows.
const MAX_SERIES_SHARE_MONTH: f64 = 0.25;

/// One month of the range.
#[derive(Debug, Clone)]
pub(crate) struct MonthSpec {
    /// 0-based index in the range.
    pub index: u32,
    /// Calendar year.
    pub year: i32,
    /// Calendar month 1..=12.
    pub month: u32,
    /// Day number of the 1st.
    pub first_day: i32,
    /// Days in the month.
    pub n_days: u32,
    /// Lines written for this month (normal + planted).
    pub rows: u64,
    /// Planted series declarations dated in this month.
    pub planted: Vec<PlantedDecl>,
}

impl MonthSpec {
    /// Lines planted by series events in this month.
    pub(crate) fn planted_rows(&self) -> u64 {
        self.planted.iter().map(|d| d.lines.len() as u64).sum()
    }
}

/// A declaration planted by a series event.
#[derive(Debug, Clone)]
pub(crate) struct PlantedDecl {
    /// Acceptance date.
    pub day: i32,
    /// Importer party index.
    pub importer: u32,
    /// Declarant party index.
    pub declarant: u32,
    /// Origin index.
    pub origin: u16,
    /// Office index.
    pub office: u16,
    /// Label of every line of this declaration (`None`: ordinary trade, planted for
    /// its series).
    pub label: Option<Label>,
    /// Lines: national code index and raw quantity.
    pub lines: Vec<(u32, f64)>,
}

/// A planted series (for `series.csv`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct SeriesLabel {
    /// Label.
    pub label: Label,
    /// HS6 index in the catalogue.
    pub hs6: u32,
    /// Importer party index.
    pub importer: u32,
    /// Monday of the ISO week.
    pub week_monday: i32,
    /// The HS6 the series' lines are declared under when it is not the catalogue
    /// code's: the predecessor of a code reclassified at a nomenclature update
    /// (realistic profile).
    pub declared_hs6: Option<&'static str>,
}

/// The whole plan.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Months in order.
    pub months: Vec<MonthSpec>,
    /// First day of the range.
    pub range_start: i32,
    /// Last day of the range (inclusive).
    pub range_end: i32,
    /// Crisis window `[start, end)` (day numbers), if the range is long enough.
    pub crisis: Option<(i32, i32)>,
    /// Planted series.
    pub series: Vec<SeriesLabel>,
    /// What the realistic profile's volume scenarios planted.
    pub realistic_series: SeriesCounts,
    /// The nomenclature update inside the range and the codes it changes (realistic
    /// profile).
    pub reclassification: Option<Reclassification>,
}

impl Plan {
    /// Whether the week starting on `monday` has its Monday to Friday inside the range.
    pub(crate) fn holds_workweek(&self, monday: i32) -> bool {
        monday >= self.range_start && monday + 4 <= self.range_end
    }
}

/// Relative volume of a day (weekday profile, a few public holidays).
pub(crate) fn day_weight(day: i32) -> f64 {
    let (_, m, d) = super::calendar::civil_from_days(day);
    let holiday = matches!((m, d), (1, 1) | (5, 1) | (12, 25) | (12, 26));
    WEEKDAY_WEIGHTS[weekday(day) as usize] * if holiday { 0.1 } else { 1.0 }
}

/// Build the plan: month sizes from the catalogue stream, events from the events stream.
pub(crate) fn build(
    cfg: &GeneratorConfig,
    cat: &Catalogue,
    season_rng: &mut Rand,
    events_rng: &mut Rand,
) -> Plan {
    let mut months: Vec<MonthSpec> = (0..cfg.months)
        .map(|i| {
            let (year, month) = add_months(cfg.start_year, cfg.start_month, i);
            MonthSpec {
                index: i,
                year,
                month,
                first_day: days_from_civil(year, month, 1),
                n_days: days_in_month(year, month),
                rows: 0,
                planted: Vec::new(),
            }
        })
        .collect();
    let weights: Vec<f64> = months
        .iter()
        .map(|m| {
            let days: f64 = (0..m.n_days as i32)
                .map(|d| day_weight(m.first_day + d))
                .sum();
            let jitter = (1.0 + 0.03 * season_rng.normal()).max(0.5);
            days * SEASON[(m.month - 1) as usize] * jitter
        })
        .collect();
    for (m, r) in months.iter_mut().zip(split_exact(cfg.rows, &weights)) {
        m.rows = r;
    }
    let range_start = months.first().map_or(0, |m| m.first_day);
    let range_end = months
        .last()
        .map_or(0, |m| m.first_day + m.n_days as i32 - 1);
    let crisis = months.get(CRISIS_MONTH_INDEX as usize).map(|m| {
        let start = m.first_day + ((7 - weekday(m.first_day)) % 7) as i32;
        (start, start + CRISIS_DAYS)
    });
    let mut plan = Plan {
        months,
        range_start,
        range_end,
        crisis,
        series: Vec::new(),
        realistic_series: SeriesCounts::default(),
        reclassification: None,
    };
    let mut budget = plant_events(cfg, cat, &mut plan, events_rng);
    if cfg.profile == Profile::Realistic {
        plan.realistic_series = realistic::series::plant(cfg, cat, &mut plan, &mut budget);
    }
    plan
}

/// Split `total` in proportion to `weights` exactly (largest remainder; ties by index).
pub(crate) fn split_exact(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() {
        return Vec::new();
    }
    if sum <= 0.0 {
        let mut out = vec![0; weights.len()];
        out[0] = total;
        return out;
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut out: Vec<u64> = exact.iter().map(|x| x.floor() as u64).collect();
    let assigned: u64 = out.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = exact[a] - exact[a].floor();
        let fb = exact[b] - exact[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    let mut left = total.saturating_sub(assigned);
    let mut k = 0;
    while left > 0 {
        out[order[k % order.len()]] += 1;
        left -= 1;
        k += 1;
    }
    // Float rounding could over-assign by a hair on huge totals; take it back.
    let mut extra = out.iter().sum::<u64>().saturating_sub(total);
    let mut i = 0;
    while extra > 0 && i < out.len() * 2 {
        let j = order[order.len() - 1 - (i % order.len())];
        if out[j] > 0 {
            out[j] -= 1;
            extra -= 1;
        }
        i += 1;
    }
    out
}

/// Mondays whose Monday..Friday lie inside the range, preferring those on or after
/// `earliest`.
pub(crate) fn candidate_mondays(plan: &Plan, earliest: i32) -> Vec<i32> {
    let first = plan.range_start + ((7 - weekday(plan.range_start)) % 7) as i32;
    let all: Vec<i32> = (0..)
        .map(|w| first + 7 * w)
        .take_while(|&m| plan.holds_workweek(m))
        .collect();
    let late: Vec<i32> = all.iter().copied().filter(|&m| m >= earliest).collect();
    if late.is_empty() { all } else { late }
}

/// Tracks how many planted lines each month still accepts.
pub(crate) struct Budget {
    total_left: u64,
    month_left: Vec<u64>,
}

impl Budget {
    fn month_of(plan: &Plan, day: i32) -> Option<usize> {
        plan.months
            .iter()
            .position(|m| day >= m.first_day && day < m.first_day + m.n_days as i32)
    }

    /// Accept the declarations if every month they fall in has room.
    pub(crate) fn try_accept(&mut self, plan: &mut Plan, decls: Vec<PlantedDecl>) -> bool {
        let mut need = vec![0u64; self.month_left.len()];
        for d in &decls {
            match Budget::month_of(plan, d.day) {
                Some(m) => need[m] += d.lines.len() as u64,
                None => return false,
            }
        }
        let total: u64 = need.iter().sum();
        if total > self.total_left || need.iter().zip(&self.month_left).any(|(n, l)| n > l) {
            return false;
        }
        self.total_left -= total;
        for (l, n) in self.month_left.iter_mut().zip(&need) {
            *l -= n;
        }
        for d in decls {
            if let Some(m) = Budget::month_of(plan, d.day) {
                plan.months[m].planted.push(d);
            }
        }
        true
    }
}

/// Plant the series events; returns what the budget has left.
fn plant_events(cfg: &GeneratorConfig, cat: &Catalogue, plan: &mut Plan, rng: &mut Rand) -> Budget {
    let mut budget = Budget {
        total_left: (cfg.rows as f64 * MAX_SERIES_SHARE_TOTAL) as u64,
        month_left: plan
            .months
            .iter()
            .map(|m| (m.rows as f64 * MAX_SERIES_SHARE_MONTH) as u64)
            .collect(),
    };
    if plan.months.is_empty() || cat.hs6.is_empty() {
        return budget;
    }
    let n_days = (plan.range_end - plan.range_start + 1).max(1);
    let weeks = f64::from(n_days) / 7.0;
    let lines_per_week = cfg.rows as f64 / weeks;

    // Volume surges: regular (HS6, importer) pairs.
    let mut candidates: Vec<(usize, usize, f64)> = Vec::new();
    for (h, hs) in cat.hs6.iter().enumerate() {
        for j in 0..hs.importer_weights.len() {
            candidates.push((h, j, cat.pair_rate(h, j, lines_per_week)));
        }
    }
    let mut regular: Vec<(usize, usize, f64)> =
        candidates.iter().copied().filter(|c| c.2 >= 1.0).collect();
    rng.shuffle(&mut regular);
    let mut rest: Vec<(usize, usize, f64)> = candidates.into_iter().filter(|c| c.2 < 1.0).collect();
    rest.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    regular.extend(rest.into_iter().take(1_000));
    let mondays = candidate_mondays(plan, plan.range_start + SURGE_MIN_HISTORY_DAYS);
    let want = surge_count(cfg.rows);
    let mut planted = 0;
    for &(h, j, rate) in &regular {
        if planted >= want || mondays.is_empty() {
            break;
        }
        let hs = &cat.hs6[h];
        let Some(importer) = cat.regular_importer(h, j) else {
            continue;
        };
        let mean_qty: f64 = hs
            .nats
            .clone()
            .map(|n| cat.nats[n].share / hs.share * cat.nats[n].mean_quantity())
            .sum();
        let factor = rng.uniform(10.0, 30.0);
        let extra_qty = (factor - 1.0) * rate * mean_qty;
        let k = (((factor - 1.0) * rate).round() as usize).clamp(3, 40);
        let monday = mondays[rng.index(mondays.len())];
        let lines: Vec<(u32, f64)> = (0..k)
            .map(|_| {
                let nat = cat.nat_of_hs6(h, rng) as u32;
                let q = extra_qty / k as f64 * libm::exp(rng.gauss(0.0, 0.25));
                (nat, q)
            })
            .collect();
        if plant_surge(
            plan,
            &mut budget,
            (h, importer),
            monday,
            &lines,
            Label::VolumeSurge,
            rng,
        ) {
            planted += 1;
        }
    }

    // Brand-new importers of an IED precursor.
    let precursor_nats: Vec<usize> = (0..cat.nats.len())
        .filter(|&n| cat.nats[n].families & FAM_IED_PRECURSORS != 0)
        .collect();
    if precursor_nats.is_empty() {
        return budget;
    }
    let precursor_cdf = Cdf::new(
        &precursor_nats
            .iter()
            .map(|&n| cat.nats[n].share)
            .collect::<Vec<_>>(),
    );
    let after = plan
        .months
        .get(FIRST_TIME_AFTER_MONTHS as usize)
        .or(plan.months.last())
        .map_or(plan.range_start, |m| m.first_day);
    let mondays = candidate_mondays(plan, after);
    if mondays.is_empty() {
        return budget;
    }
    let want = first_time_importer_count(cfg.rows);
    let new_parties: Vec<usize> = cat.new_importers.clone().collect();
    let mut next_party = 0;
    let mut attempts = 0;
    while next_party < want.min(new_parties.len()) && attempts < 20 * want {
        attempts += 1;
        let party = new_parties[next_party] as u32;
        let nat = precursor_nats[precursor_cdf.sample(rng)];
        let code = &cat.nats[nat];
        let monday = mondays[rng.index(mondays.len())];
        let origin = cat.origin_cdf.sample(rng) as u16;
        let office = cat.office_cdf.sample(rng) as u16;
        let declarant = cat.broker_cdf.sample(rng) as u32;
        let first_day = weekday_in_week(monday, plan.range_end, rng);
        let mut days = vec![first_day];
        if rng.chance(0.5) {
            let last = (monday + 4).min(plan.range_end);
            if last > first_day {
                days.push(first_day + 1 + rng.index((last - first_day) as usize) as i32);
            }
        }
        let decls: Vec<PlantedDecl> = days
            .iter()
            .map(|&day| PlantedDecl {
                day,
                importer: party,
                declarant,
                origin,
                office,
                label: Some(Label::FirstTimePrecursorImporter),
                lines: vec![(
                    nat as u32,
                    libm::exp(code.qty_mu) * rng.log_uniform(10.0, 50.0),
                )],
            })
            .collect();
        if budget.try_accept(plan, decls) {
            plan.series.push(SeriesLabel {
                label: Label::FirstTimePrecursorImporter,
                hs6: code.hs6,
                importer: party,
                week_monday: iso_monday(first_day),
                declared_hs6: None,
            });
            next_party += 1;
        }
    }
    budget
}

/// Plant a surge of HS6 `h` to `importer` in the week starting `monday`: its lines as
/// declarations of 1 to 4 lines (the importer's usual declarant, first origin and
/// office) on weekdays of the week, if the budget has room, with series label `label`
/// (and its lines with it, unless it marks a benign event). Whether planted.
pub(crate) fn plant_surge(
    plan: &mut Plan,
    budget: &mut Budget,
    (h, importer): (usize, &Importer),
    monday: i32,
    lines: &[(u32, f64)],
    label: Label,
    rng: &mut Rand,
) -> bool {
    let mut decls = Vec::new();
    let mut rest = lines;
    while !rest.is_empty() {
        let n = (1 + rng.index(4)).min(rest.len());
        let day = weekday_in_week(monday, plan.range_end, rng);
        decls.push(PlantedDecl {
            day,
            importer: importer.party,
            declarant: importer.declarant,
            origin: importer.origins[0],
            office: importer.office,
            label: (!label.is_benign()).then_some(label),
            lines: rest[..n].to_vec(),
        });
        rest = &rest[n..];
    }
    let planted = budget.try_accept(plan, decls);
    if planted {
        plan.series.push(SeriesLabel {
            label,
            hs6: h as u32,
            importer: importer.party,
            week_monday: monday,
            declared_hs6: None,
        });
    }
    planted
}

/// A random weekday (Monday..Friday) of the week starting `monday`, not after `end`.
pub(crate) fn weekday_in_week(monday: i32, end: i32, rng: &mut Rand) -> i32 {
    let last = (monday + 4).min(end);
    monday + rng.index((last - monday + 1).max(1) as usize) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_exact() {
        let w = [1.0, 2.0, 3.0, 0.5];
        for total in [0u64, 1, 7, 1_000, 20_000_001] {
            let s = split_exact(total, &w);
            assert_eq!(s.iter().sum::<u64>(), total);
        }
        assert_eq!(split_exact(10, &[1.0, 1.0]), vec![5, 5]);
    }
}
