//! The nomenclature update of the realistic profile (the scenario, its rule and its
//! sources are documented in [`series`](super::series)): which HS6 codes change, the
//! code each line is declared under, and the benign series labels.
//!
//! Nothing is planted: the update only renames. [`choose`] picks the codes when the plan
//! is built; the month writers then write a line of a chosen HS6 dated before the update
//! under its predecessor ([`Reclassification::declared_code`], the first 6 digits
//! replaced, the national suffix kept) and note which importers bought the code in the
//! weeks before it ([`Reclassification::note_buyer`]); [`Reclassification::labels`]
//! turns those importers into series labels once every month is written. Series labels
//! of other scenarios on a chosen HS6 name the code in force on their week's Monday
//! ([`Reclassification::rename_series`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::calendar::{civil_from_days, days_from_civil, iso_monday};
use crate::generate::catalogue::Catalogue;
use crate::generate::labels::Label;
use crate::generate::plan::{Plan, SeriesLabel};
use crate::generate::rng::Rand;
use crate::reference;

/// HS6 codes reclassified at the update (fewer if the catalogue has fewer candidates).
pub(crate) const RECLASSIFIED_CODES: usize = 8;
/// Least usual weekly lines of a chosen code's largest regular importer (a rarer
/// series shows no stop or start a detector could see).
pub(crate) const RECLASSIFICATION_MIN_RATE: f64 = 0.5;
/// Days of the range before the update (8 weeks), so the old series has a history.
pub(crate) const UPDATE_MIN_HISTORY_DAYS: i32 = 56;
/// Weeks labelled on each side of the update: the old series' stop and the new series'
/// start, from the update's ISO week.
pub(crate) const RECLASSIFICATION_WEEKS: i32 = 8;
/// An importer's series are labelled when it had lines of the code in this many weeks
/// before the update.
pub(crate) const RECLASSIFICATION_LOOKBACK_WEEKS: i32 = 26;

/// A nomenclature update inside the range and the codes it changes.
#[derive(Debug, Clone)]
pub(crate) struct Reclassification {
    /// Day the update enters into force (a 1 January).
    pub date: i32,
    /// Reclassified codes: catalogue HS6 index and its HS 2017 predecessor, by index.
    pub codes: Vec<(u32, &'static str)>,
    /// National code index -> the code declared before the update (`None`: unchanged).
    before: Vec<Option<String>>,
}

/// The first 1 January strictly inside `[range_start, range_end]` at least
/// [`UPDATE_MIN_HISTORY_DAYS`] after its start.
pub(crate) fn update_date(range_start: i32, range_end: i32) -> Option<i32> {
    let (first_year, _, _) = civil_from_days(range_start);
    let (last_year, _, _) = civil_from_days(range_end);
    (first_year + 1..=last_year)
        .map(|y| days_from_civil(y, 1, 1))
        .find(|&d| d >= range_start + UPDATE_MIN_HISTORY_DAYS && d <= range_end)
}

/// Choose up to [`RECLASSIFIED_CODES`] catalogue HS6 codes that are new in HS 2022 and
/// have a predecessor (`reference::hs2017_hs2022_changes`), with a regular importer of
/// at least [`RECLASSIFICATION_MIN_RATE`] lines a week, at random, no two with the same
/// predecessor. `None` when the range has no update date or no code qualifies.
pub(crate) fn choose(
    cat: &Catalogue,
    plan: &Plan,
    lines_per_week: f64,
    rng: &mut Rand,
) -> Option<Reclassification> {
    let date = update_date(plan.range_start, plan.range_end)?;
    let predecessor: BTreeMap<&str, &'static str> = reference::hs2017_hs2022_changes()
        .iter()
        .map(|c| (c.hs2022.as_str(), c.hs2017.as_str()))
        .collect();
    let mut candidates: Vec<(u32, &'static str)> = cat
        .hs6
        .iter()
        .enumerate()
        .filter_map(|(h, hs)| {
            let &old = predecessor.get(hs.code.as_str())?;
            let visible = (0..hs.importer_weights.len()).any(|j| {
                cat.regular_importer(h, j).is_some()
                    && cat.pair_rate(h, j, lines_per_week) >= RECLASSIFICATION_MIN_RATE
            });
            visible.then_some((h as u32, old))
        })
        .collect();
    rng.shuffle(&mut candidates);
    let mut codes: Vec<(u32, &'static str)> = Vec::new();
    for (h, old) in candidates {
        if codes.len() >= RECLASSIFIED_CODES {
            break;
        }
        if codes.iter().all(|&(_, o)| o != old) {
            codes.push((h, old));
        }
    }
    if codes.is_empty() {
        return None;
    }
    codes.sort_unstable();
    let mut before = vec![None; cat.nats.len()];
    for &(h, old) in &codes {
        for n in cat.hs6[h as usize].nats.clone() {
            let suffix = cat.nats[n].code.get(6..).unwrap_or("");
            before[n] = Some(format!("{old}{suffix}"));
        }
    }
    Some(Reclassification {
        date,
        codes,
        before,
    })
}

impl Reclassification {
    /// The predecessor of catalogue HS6 `h`, if it is reclassified.
    pub(crate) fn predecessor(&self, h: u32) -> Option<&'static str> {
        self.codes.iter().find(|c| c.0 == h).map(|c| c.1)
    }

    /// The code a line of national code `nat` dated `day` is declared under.
    #[inline]
    pub(crate) fn declared_code<'a>(&'a self, cat: &'a Catalogue, nat: u32, day: i32) -> &'a str {
        match self.before.get(nat as usize) {
            Some(Some(old)) if day < self.date => old,
            _ => cat.nats[nat as usize].code.as_str(),
        }
    }

    /// Note `importer` in `buyers` (as `(HS6 index, importer party)`) if a line of
    /// national code `nat` dated `day` is of a reclassified code in the
    /// [`RECLASSIFICATION_LOOKBACK_WEEKS`] before the update.
    #[inline]
    pub(crate) fn note_buyer(
        &self,
        cat: &Catalogue,
        (nat, day, importer): (u32, i32, u32),
        buyers: &mut BTreeSet<(u32, u32)>,
    ) {
        if matches!(self.before.get(nat as usize), Some(Some(_)))
            && day < self.date
            && day >= self.date - 7 * RECLASSIFICATION_LOOKBACK_WEEKS
        {
            buyers.insert((cat.nats[nat as usize].hs6, importer));
        }
    }

    /// Make series labels of reclassified codes whose week starts before the update
    /// name the predecessor their lines carry.
    pub(crate) fn rename_series(&self, series: &mut [SeriesLabel]) {
        for s in series {
            if s.week_monday < self.date
                && let Some(old) = self.predecessor(s.hs6)
            {
                s.declared_hs6 = Some(old);
            }
        }
    }

    /// The benign labels: for each `(HS6, importer)` in `buyers`, the old code's and the
    /// new code's series in each of the [`RECLASSIFICATION_WEEKS`] weeks from the
    /// update's ISO week whose Monday to Friday lie in the range.
    pub(crate) fn labels(&self, plan: &Plan, buyers: &BTreeSet<(u32, u32)>) -> Vec<SeriesLabel> {
        let first = iso_monday(self.date);
        let mut out = Vec::new();
        for &(hs6, importer) in buyers {
            let Some(old) = self.predecessor(hs6) else {
                continue;
            };
            for w in 0..RECLASSIFICATION_WEEKS {
                let week_monday = first + 7 * w;
                if !plan.holds_workweek(week_monday) {
                    continue;
                }
                for declared_hs6 in [Some(old), None] {
                    out.push(SeriesLabel {
                        label: Label::Reclassification,
                        hs6,
                        importer,
                        week_monday,
                        declared_hs6,
                    });
                }
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::calendar::format_date;
    use crate::generate::Profile;
    use crate::generate::catalogue::Shape;
    use crate::generate::realistic::SeriesCounts;
    use crate::generate::rng::STREAM_CATALOGUE;

    #[test]
    fn lines_before_the_update_carry_the_predecessor_with_their_suffix() {
        let rows = 2_000_000;
        let mut rng = Rand::new(1, STREAM_CATALOGUE);
        let cat = Catalogue::build(rows, &Shape::of(Profile::Realistic), &mut rng);
        let plan = Plan {
            months: Vec::new(),
            range_start: days_from_civil(2025, 1, 1),
            range_end: days_from_civil(2026, 12, 31),
            crisis: None,
            series: Vec::new(),
            realistic_series: SeriesCounts::default(),
            reclassification: None,
        };
        let r = choose(&cat, &plan, rows as f64 / 104.0, &mut Rand::new(1, 99)).unwrap();
        assert_eq!(format_date(r.date), "2026-01-01");
        assert_eq!(r.codes.len(), RECLASSIFIED_CODES);
        let mut changed = 0;
        for (n, nat) in cat.nats.iter().enumerate() {
            let n = n as u32;
            let after = r.declared_code(&cat, n, r.date);
            let before = r.declared_code(&cat, n, r.date - 1);
            assert_eq!(after, nat.code);
            match r.predecessor(nat.hs6) {
                Some(old) => {
                    changed += 1;
                    assert_eq!(before, format!("{old}{}", &nat.code[6..]));
                    assert_eq!(before.len(), nat.code.len());
                }
                None => assert_eq!(before, nat.code),
            }
        }
        assert!(
            changed >= RECLASSIFIED_CODES,
            "{changed} national codes changed"
        );
        // Many candidates share a predecessor (61 candidates, 4 of them from 9508.90);
        // the chosen never do.
        for stream in 0..20 {
            let r = choose(&cat, &plan, rows as f64 / 104.0, &mut Rand::new(1, stream)).unwrap();
            let olds: BTreeSet<&str> = r.codes.iter().map(|c| c.1).collect();
            assert_eq!(olds.len(), r.codes.len(), "{:?}", r.codes);
        }
    }

    #[test]
    fn other_labels_name_the_code_in_force_on_their_monday() {
        let date = days_from_civil(2026, 1, 1);
        let r = Reclassification {
            date,
            codes: vec![(7, "040310")],
            before: Vec::new(),
        };
        let label = |hs6, week_monday| SeriesLabel {
            label: Label::VolumeSurge,
            hs6,
            importer: 1,
            week_monday,
            declared_hs6: None,
        };
        // Monday 29 December 2025 (the update's week), 5 January 2026.
        let mut series = vec![label(7, date - 3), label(7, date + 4), label(8, date - 3)];
        r.rename_series(&mut series);
        let named: Vec<Option<&str>> = series.iter().map(|s| s.declared_hs6).collect();
        assert_eq!(named, [Some("040310"), None, None]);
    }

    #[test]
    fn the_update_is_the_first_january_after_eight_weeks() {
        let d = |y, m, day| days_from_civil(y, m, day);
        let date = |s, e| update_date(s, e).map(format_date);
        assert_eq!(
            date(d(2025, 1, 1), d(2026, 12, 31)).as_deref(),
            Some("2026-01-01")
        );
        // A range starting on 1 January: not strictly inside, the next one is.
        assert_eq!(
            date(d(2026, 1, 1), d(2027, 3, 31)).as_deref(),
            Some("2027-01-01")
        );
        // Less than 8 weeks of history before 1 January 2026: the next year's.
        assert_eq!(
            date(d(2025, 11, 15), d(2027, 1, 31)).as_deref(),
            Some("2027-01-01")
        );
        assert_eq!(
            date(d(2025, 11, 4), d(2026, 12, 31)).as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(date(d(2025, 11, 15), d(2026, 12, 31)), None);
        assert_eq!(date(d(2025, 1, 1), d(2025, 12, 31)), None);
        assert_eq!(
            date(d(2025, 1, 1), d(2026, 1, 1)).as_deref(),
            Some("2026-01-01")
        );
    }
}
