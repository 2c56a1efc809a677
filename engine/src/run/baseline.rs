//! The baseline stage: the group statistics each line is judged against, per measure,
//! resolved through the fallback chain ([`crate::baseline`]), from the scanned lines or
//! from a stored baseline's groups; and the fallback check that a flag at a fallback
//! level must pass.

use super::measure::UnitMeasures;
use crate::baseline::{
    FineKey, GroupBaseline, GroupLevel, MeasureBaseline, StoredGroups, build_baseline,
};
use crate::detect::{Detector, Judgement, Measure};
use crate::kernels::order_stats::OrderStats;
use crate::settings::PriceSettings;
use crate::store::BaselineStats;

/// The baselines of one measure: the main chain and, for the fallback check, the most
/// specific group with at least `local_min_group_size` lines of each line that resolved
/// at a fallback level.
pub struct Baselines {
    /// The main chain.
    pub main: MeasureBaseline,
    /// The local baselines of the fallback check.
    pub local: Option<MeasureBaseline>,
}

impl Baselines {
    /// The baselines of the lines' groups, or, with `stored`, of the history's groups.
    pub fn build(
        parts: &[(&[u32], &[f64])],
        keys: &[FineKey],
        levels: &[GroupLevel],
        price: &PriceSettings,
        stored: Option<&StoredGroups>,
    ) -> Baselines {
        let resolve = |min: usize, wanted: Option<&[bool]>| match stored {
            Some(s) => s.resolve(parts, keys, levels, min, wanted),
            None => build_baseline(parts, keys, levels, min, wanted),
        };
        let main = resolve(price.min_group_size, None);
        let local_min = price.local_min_group_size;
        let local =
            (local_min > 0 && local_min < price.min_group_size && levels.len() > 1).then(|| {
                let wanted: Vec<bool> = (0..keys.len())
                    .map(|g| main.for_group(g as u32).is_some_and(|b| b.level > 0))
                    .collect();
                resolve(local_min, Some(&wanted))
            });
        Baselines { main, local }
    }

    /// The judgement of `x` against its group, with the fallback check applied: a flag
    /// at a fallback level stands only if the line is also far (same detector, same
    /// spread) from the median of its most specific group with at least
    /// `local_min_group_size` lines. Returns the verdict, the local group that
    /// confirmed a fallback flag, and whether the check withdrew one; `None` when the
    /// detector does not judge at the group's level.
    #[inline]
    pub fn judge(
        &self,
        det: &dyn Detector,
        levels: &[GroupLevel],
        group: &GroupBaseline,
        gid: u32,
        x: f64,
    ) -> Option<(Judgement, Option<u32>, bool)> {
        if !det.accepts_group(&levels[group.level], &group.key) {
            return None;
        }
        let verdict = det.judge(x, &group.stats);
        let Judgement::Flag {
            score,
            raw,
            direction,
        } = verdict
        else {
            return Some((verdict, None, false));
        };
        let Some(local) = self.local.as_ref() else {
            return Some((verdict, None, false));
        };
        let Some(li) = local.resolved.get(gid as usize).copied().flatten() else {
            return Some((verdict, None, false));
        };
        let lg = &local.groups[li as usize];
        if lg.level >= group.level {
            return Some((verdict, None, false));
        }
        // Same spread, centred on the line's own (smaller) group.
        let shift = lg.stats.median - group.stats.median;
        let recentred = OrderStats {
            q1: group.stats.q1 + shift,
            median: lg.stats.median,
            q3: group.stats.q3 + shift,
            ..group.stats
        };
        match det.judge(x, &recentred) {
            Judgement::Flag {
                score: local_score,
                raw: local_raw,
                ..
            } => {
                // The weaker of the two judgements is the evidence.
                let (score, raw) = if local_score < score {
                    (local_score, local_raw)
                } else {
                    (score, raw)
                };
                Some((
                    Judgement::Flag {
                        score,
                        raw,
                        direction,
                    },
                    Some(li),
                    false,
                ))
            }
            _ => Some((Judgement::Pass, None, true)),
        }
    }
}

/// The baselines of both measures: unit values always, kg per unit when a detector
/// judges it (and its chain is not empty).
pub fn build_baselines(
    units: &[UnitMeasures],
    keys: &[FineKey],
    price: &PriceSettings,
    stored: Option<&BaselineStats>,
    pool: &rayon::ThreadPool,
) -> (Baselines, Option<Baselines>) {
    pool.install(|| {
        let parts = |f: fn(&UnitMeasures) -> &[f64]| -> Vec<(&[u32], &[f64])> {
            units.iter().map(|u| (u.gid.as_slice(), f(u))).collect()
        };
        let uv = Baselines::build(
            &parts(|u| &u.uv),
            keys,
            price.chain(Measure::UnitValue),
            price,
            stored.map(|b| &b.uv),
        );
        let kg_chain = price.chain(Measure::KgPerUnit);
        let kg = (price.needs_kg_per_unit() && !kg_chain.is_empty()).then(|| {
            Baselines::build(
                &parts(|u| &u.kgpu),
                keys,
                kg_chain,
                price,
                stored.map(|b| &b.kg),
            )
        });
        (uv, kg)
    })
}
