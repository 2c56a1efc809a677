//! The realistic profile's volume scenarios, planted after the clean profile's series
//! events (which it keeps) from stream [`STREAM_REALISTIC_SERIES`] of the seed.
//!
//! # Surges from irregular importers (`volume_surge`, labelled)
//!
//! Most (HS6, importer) series are sparse: an importer buys a good a few times a year.
//! Firm-level trade is concentrated and most firms trade few products, rarely (Bernard,
//! Jensen, Redding & Schott 2007, "Firms in International Trade", J. Econ. Perspectives
//! 21(3)); the demand such firms place is *intermittent* (Croston 1972, "Forecasting
//! and stock control for intermittent demands", Oper. Res. Q. 23(3); Syntetos & Boylan
//! 2005 class series with a mean interval between demands above 1.32 periods as
//! intermittent). A burst of purchases from such an importer is what a risk unit wants
//! to see: Regulation (EU) 2019/1148 on explosives precursors, Art. 9, asks suppliers
//! to report transactions of unusual quantities or patterns. Here
//! [`IRREGULAR_SURGES_PER_100K`] surges per 100,000 lines are planted on (HS6,
//! importer) pairs whose expected rate is one line every 2 to 26 weeks
//! ([`IRREGULAR_RATE`]): 8 to 40 lines ([`IRREGULAR_LINES`]) of ordinary size in one
//! week, in declarations of 1 to 4 lines, from the importer's usual origin and office.
//! Counts and sizes are *assumed*.
//!
//! # Newcomers in common watched goods (unlabelled)
//!
//! New traders appear all the time: in Colombian customs records, about half of a
//! year's exporters did not export the year before, and entrants start small (Eaton,
//! Eslava, Kugler & Tybout 2008, "The Margins of Entry into Export Markets", in The
//! Organization of Firms in a Global Economy, Harvard UP); firms add and drop products
//! often (Bernard, Redding & Schott 2010, "Multiple-Product Firms and Product
//! Switching", Am. Econ. Rev. 100(1)). So in the [`NEWCOMER_CODES`] most traded watched
//! national codes (fertilisers and common medical goods among them), importers that
//! never bought the code make a first purchase of ordinary size (the code's usual
//! quantity times a log-normal factor, sd 0.7) each week: [`NEWCOMER_SHARE`] of the
//! code's lines come from such first purchases. They are not anomalies and carry no
//! label; `generator.json` counts them (`realistic.newcomers`). A first-time-importer
//! rule that flags each of them buries the planted precursor newcomers (10 to 50 times
//! the usual quantity) in ordinary trade. Share *assumed*.
//!
//! # Seasonal goods (`benign_seasonal_peak`, a benign series label)
//!
//! Fertiliser demand follows the planting calendar: nitrogen fertilisers are bought and
//! shipped ahead of spring application, so imports peak in late winter and spring (FAO
//! 2017, "World fertilizer trends and outlook to 2020", on the seasonality of fertilizer
//! demand; USDA ERS, "Fertilizer Use and Price", for the spring application season).
//! Here the [`SEASONAL_PAIRS`] largest regular importers of each HS6 under
//! [`SEASONAL_PREFIX`] (mineral or chemical nitrogen fertilisers, ammonium nitrate
//! among them) buy [`SEASONAL_FACTOR`] times their usual weekly lines in each of the
//! [`SEASON_WEEKS`] weeks from the first Monday of March, every year of the range.
//! Each (HS6, importer, week) is a series label `benign_seasonal_peak` and its lines
//! carry no line label: not an anomaly. A detector that flags it raises a false alarm
//! (`tradescan eval` counts flags on benign labels apart); `surge`'s `seasonal = true`
//! withdraws the peaks a year of history explains. Sizes *assumed*.
//!
//! # Nomenclature updates (`benign_reclassification`, a benign series label)
//!
//! The Harmonized System is amended in review cycles, and each edition enters into force
//! on 1 January for every Contracting Party: HS 2022's 351 sets of amendments, adopted
//! by the WCO Council in June 2019, entered into force on 1 January 2022 (HS Convention,
//! Art. 16(4)(b); WCO, "WCO has published accepted amendments to HS 2022", 29 January
//! 2020), and the next edition, HS 2028, on 1 January 2028 (the 7th review cycle was
//! prolonged by one year: WCO News 102, October 2023; WCO, "HS 2028 Amendments", 21
//! January 2026: 428 new and 172 deleted subheadings). National codes change every 1
//! January besides: the EU's Combined Nomenclature is reissued each year and applies
//! from 1 January (Council Regulation (EEC) No 2658/87, Art. 12). On that day some
//! codes are deleted and their goods are declared under new ones (splits, merges,
//! moves), so a product's series under the old code stops and one under the new code
//! starts, with the same importers, sizes, origins and offices. Trade economists link
//! such codes before using series across years (Pierce & Schott 2012, "A Concordance
//! Between Ten-Digit U.S. Harmonized System Codes and SIC/NAICS Product Classes and
//! Industries", J. Econ. Soc. Meas. 37(1-2); Van Beveren, Bernard & Vandenbussche
//! 2012, "Concording EU Trade and Production Data over Time", NBER WP 18604). It is
//! not an anomaly: a volume detector that flags the old series' drop, or the new
//! series' first appearance or surge, raises a false alarm.
//!
//! Here the update takes effect on the first 1 January strictly inside the range at
//! least [`UPDATE_MIN_HISTORY_DAYS`] (8 weeks) after its start (1 January 2026 for the
//! default 24 months from January 2025; none, and nothing planted, in a range without
//! one). The date is *assumed*: the range replays the real HS 2017 -> HS 2022 changes
//! on whichever 1 January it holds. Up to [`RECLASSIFIED_CODES`] catalogue HS6 codes
//! are chosen at random among the HS 2022 codes listed in
//! `datasets/reference/hs2017_hs2022_changes.csv` (new in HS 2022, each with a deleted
//! HS 2017 code of the same heading as predecessor: an approximation of the WCO
//! correlation tables, derived from the two nomenclatures, see
//! `datasets/reference/SOURCES.md`) whose largest regular importer buys at least
//! [`RECLASSIFICATION_MIN_RATE`] lines a week, no two with the same predecessor. Every
//! line of a chosen code dated before the update is declared under the predecessor (its
//! first 6 digits replaced, the national suffix kept); from the update on, under the HS
//! 2022 code. Nothing else about the line changes, nor do other labels on it (so the
//! predecessor's lines form their own price comparison groups, as in real data).
//!
//! For every importer with lines of a chosen code in the
//! [`RECLASSIFICATION_LOOKBACK_WEEKS`] (26) weeks before the update, each (HS6,
//! importer, week) of the [`RECLASSIFICATION_WEEKS`] (8) ISO weeks from the update's
//! week, under the old code (the stop) and under the new code (the start), is a series
//! label `benign_reclassification`; the lines carry no line label. Other series labels
//! on a chosen code name the code in force on their week's Monday. `generator.json`
//! reports the date, the codes and the labelled series weeks under `realistic.series`.
//! Numbers of codes and weeks *assumed*.
//!
//! [`RECLASSIFIED_CODES`]: reclassification::RECLASSIFIED_CODES
//! [`RECLASSIFICATION_LOOKBACK_WEEKS`]: reclassification::RECLASSIFICATION_LOOKBACK_WEEKS
//! [`RECLASSIFICATION_MIN_RATE`]: reclassification::RECLASSIFICATION_MIN_RATE
//! [`RECLASSIFICATION_WEEKS`]: reclassification::RECLASSIFICATION_WEEKS
//! [`UPDATE_MIN_HISTORY_DAYS`]: reclassification::UPDATE_MIN_HISTORY_DAYS

use std::collections::BTreeSet;

use crate::calendar::{civil_from_days, days_from_civil, iso_monday};
use crate::generate::GeneratorConfig;
use crate::generate::catalogue::{Catalogue, Importer};
use crate::generate::labels::Label;
use crate::generate::plan::{
    Budget, Plan, PlantedDecl, candidate_mondays, plant_surge, weekday_in_week,
};
use crate::generate::rng::Rand;

use super::reclassification;

/// Stream of the realistic volume scenarios.
pub(crate) const STREAM_REALISTIC_SERIES: u64 = 4;
/// Irregular-importer surges per 100,000 lines.
pub(crate) const IRREGULAR_SURGES_PER_100K: f64 = 1.0;
/// Expected lines per week of a pair an irregular surge is planted on.
pub(crate) const IRREGULAR_RATE: (f64, f64) = (1.0 / 26.0, 0.5);
/// Lines of an irregular surge week.
pub(crate) const IRREGULAR_LINES: (usize, usize) = (8, 40);
/// Watched national codes that get newcomers: the most traded.
pub(crate) const NEWCOMER_CODES: usize = 8;
/// Share of such a code's lines that are newcomers' first purchases.
pub(crate) const NEWCOMER_SHARE: f64 = 0.02;
/// HS6 codes with a seasonal peak: nitrogen fertilisers.
pub(crate) const SEASONAL_PREFIX: &str = "3102";
/// Importers of each such HS6 with a peak: its largest regular ones.
pub(crate) const SEASONAL_PAIRS: usize = 3;
/// A peak week's lines, in multiples of the pair's usual weekly lines.
pub(crate) const SEASONAL_FACTOR: f64 = 3.0;
/// Weeks of a season, from the first Monday of March.
pub(crate) const SEASON_WEEKS: i32 = 4;
/// Smallest usual weekly lines of a pair given a peak (a peak of a rarer pair is a
/// burst, not a season).
const SEASONAL_MIN_RATE: f64 = 0.5;

/// What the realistic volume scenarios planted.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SeriesCounts {
    /// Irregular-importer surges.
    pub irregular_surges: u64,
    /// Newcomers' first purchases (unlabelled).
    pub newcomers: u64,
    /// Seasonal peak weeks (benign labels).
    pub seasonal_peaks: u64,
    /// HS6 codes reclassified at the nomenclature update.
    pub reclassified_codes: u64,
    /// (HS6, importer, week) series labelled `benign_reclassification`, old and new
    /// codes together (known once the months are written).
    pub reclassified_series_weeks: u64,
}

/// Plant the realistic profile's volume scenarios into `plan`, within `budget`.
pub(crate) fn plant(
    cfg: &GeneratorConfig,
    cat: &Catalogue,
    plan: &mut Plan,
    budget: &mut Budget,
) -> SeriesCounts {
    let mut rng = Rand::new(cfg.seed, STREAM_REALISTIC_SERIES);
    let mut counts = SeriesCounts::default();
    if plan.months.is_empty() || cat.hs6.is_empty() {
        return counts;
    }
    let weeks = f64::from((plan.range_end - plan.range_start + 1).max(1)) / 7.0;
    let lines_per_week = cfg.rows as f64 / weeks;
    counts.irregular_surges = irregular_surges(cfg, cat, plan, budget, lines_per_week, &mut rng);
    counts.newcomers = newcomers(cat, plan, budget, lines_per_week, &mut rng);
    counts.seasonal_peaks = seasonal_peaks(cat, plan, budget, lines_per_week, &mut rng);
    if let Some(r) = reclassification::choose(cat, plan, lines_per_week, &mut rng) {
        r.rename_series(&mut plan.series);
        counts.reclassified_codes = r.codes.len() as u64;
        plan.reclassification = Some(r);
    }
    counts
}

/// Add the nomenclature update's `benign_reclassification` series labels, given the
/// `(HS6, importer)` pairs the month writers saw in the weeks before it.
pub(crate) fn label_reclassification(plan: &mut Plan, buyers: &BTreeSet<(u32, u32)>) {
    let Some(r) = plan.reclassification.as_ref() else {
        return;
    };
    let labels = r.labels(plan, buyers);
    plan.realistic_series.reclassified_series_weeks = labels.len() as u64;
    plan.series.extend(labels);
}

/// Spring peaks of the largest importers of nitrogen fertilisers.
fn seasonal_peaks(
    cat: &Catalogue,
    plan: &mut Plan,
    budget: &mut Budget,
    lines_per_week: f64,
    rng: &mut Rand,
) -> u64 {
    let (first_year, _, _) = civil_from_days(plan.range_start);
    let (last_year, _, _) = civil_from_days(plan.range_end);
    let mut planted = 0u64;
    for (h, hs) in cat.hs6.iter().enumerate() {
        if !hs.code.starts_with(SEASONAL_PREFIX) {
            continue;
        }
        let mut largest: Vec<usize> = (0..hs.importer_weights.len()).collect();
        largest.sort_by(|&a, &b| {
            hs.importer_weights[b]
                .total_cmp(&hs.importer_weights[a])
                .then(a.cmp(&b))
        });
        for &j in largest.iter().take(SEASONAL_PAIRS) {
            let rate = cat.pair_rate(h, j, lines_per_week);
            let Some(importer) = cat.regular_importer(h, j) else {
                continue;
            };
            if rate < SEASONAL_MIN_RATE {
                continue;
            }
            let extra = ((SEASONAL_FACTOR - 1.0) * rate).round().max(2.0) as usize;
            for year in first_year..=last_year {
                let march = days_from_civil(year, 3, 1);
                let first_monday = iso_monday(march + 6);
                for w in 0..SEASON_WEEKS {
                    let monday = first_monday + 7 * w;
                    if !plan.holds_workweek(monday) {
                        continue;
                    }
                    planted += u64::from(plant_ordinary_week(
                        cat,
                        plan,
                        budget,
                        (h, importer, monday),
                        extra,
                        Label::SeasonalPeak,
                        rng,
                    ));
                }
            }
        }
    }
    planted
}

/// Surges on sparse (HS6, importer) pairs.
fn irregular_surges(
    cfg: &GeneratorConfig,
    cat: &Catalogue,
    plan: &mut Plan,
    budget: &mut Budget,
    lines_per_week: f64,
    rng: &mut Rand,
) -> u64 {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (h, hs) in cat.hs6.iter().enumerate() {
        for j in 0..hs.importer_weights.len() {
            let rate = cat.pair_rate(h, j, lines_per_week);
            if (IRREGULAR_RATE.0..=IRREGULAR_RATE.1).contains(&rate) {
                pairs.push((h, j));
            }
        }
    }
    rng.shuffle(&mut pairs);
    // Surges need half a year of the pair's history before them.
    let mondays = candidate_mondays(plan, plan.range_start + 182);
    let want = ((cfg.rows as f64 / 100_000.0 * IRREGULAR_SURGES_PER_100K).round() as usize).max(3);
    let mut planted = 0u64;
    for (h, j) in pairs {
        if planted as usize >= want || mondays.is_empty() {
            break;
        }
        let Some(importer) = cat.regular_importer(h, j) else {
            continue;
        };
        let k = IRREGULAR_LINES.0 + rng.index(IRREGULAR_LINES.1 - IRREGULAR_LINES.0 + 1);
        let monday = mondays[rng.index(mondays.len())];
        planted += u64::from(plant_ordinary_week(
            cat,
            plan,
            budget,
            (h, importer, monday),
            k,
            Label::VolumeSurge,
            rng,
        ));
    }
    planted
}

/// Plant `k` lines of HS6 `h` of ordinary size (each its national code's usual
/// log-normal quantity) to `importer` in the week starting `monday`, labelled `label`
/// ([`plant_surge`]). Whether planted.
fn plant_ordinary_week(
    cat: &Catalogue,
    plan: &mut Plan,
    budget: &mut Budget,
    (h, importer, monday): (usize, &Importer, i32),
    k: usize,
    label: Label,
    rng: &mut Rand,
) -> bool {
    let lines: Vec<(u32, f64)> = (0..k)
        .map(|_| {
            let nat = cat.nat_of_hs6(h, rng);
            let code = &cat.nats[nat];
            (
                nat as u32,
                libm::exp(code.qty_mu + code.qty_sigma * rng.normal()),
            )
        })
        .collect();
    plant_surge(plan, budget, (h, importer), monday, &lines, label, rng)
}

/// First purchases of ordinary size in the most traded watched codes.
fn newcomers(
    cat: &Catalogue,
    plan: &mut Plan,
    budget: &mut Budget,
    lines_per_week: f64,
    rng: &mut Rand,
) -> u64 {
    let mut watched: Vec<usize> = (0..cat.nats.len())
        .filter(|&n| cat.nats[n].families != 0)
        .collect();
    watched.sort_by(|&a, &b| {
        cat.nats[b]
            .share
            .total_cmp(&cat.nats[a].share)
            .then(a.cmp(&b))
    });
    watched.truncate(NEWCOMER_CODES);
    let mondays = candidate_mondays(plan, plan.range_start);
    let mut planted = 0u64;
    for &nat in &watched {
        let code = &cat.nats[nat];
        let hs = &cat.hs6[code.hs6 as usize];
        let per_week = lines_per_week * code.share * NEWCOMER_SHARE;
        for &monday in &mondays {
            // Poisson arrivals by inversion: a handful a week at most.
            let mut n = 0;
            let (mut p, limit) = (rng.f64(), (-per_week).exp());
            while p > limit && n < 50 {
                p *= rng.f64();
                n += 1;
            }
            for _ in 0..n {
                let imp = cat.importer_cdf.sample(rng);
                let Some(importer) = cat.importers.get(imp) else {
                    continue;
                };
                // A regular buyer of the code is no newcomer.
                if hs.importers.contains(&(imp as u32)) {
                    continue;
                }
                let day = weekday_in_week(monday, plan.range_end, rng);
                let quantity = libm::exp(code.qty_mu + 0.7 * rng.normal());
                let decl = PlantedDecl {
                    day,
                    importer: importer.party,
                    declarant: importer.declarant,
                    origin: importer.origins[0],
                    office: importer.office,
                    label: None,
                    lines: vec![(nat as u32, quantity)],
                };
                if budget.try_accept(plan, vec![decl]) {
                    planted += 1;
                }
            }
        }
    }
    planted
}
