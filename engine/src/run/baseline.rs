//! The baseline stage: the group statistics each line is judged against, per measure,
//! resolved through the fallback chain ([`crate::baseline`]), from the scanned lines or
//! from a stored baseline's groups; and the fallback check that a flag at a fallback
//! level must pass.

use super::measure::UnitMeasures;
use crate::baseline::{
    FineKey, GroupBaseline, GroupLevel, MeasureBaseline, REFERENCE_LEVEL, StoredGroups,
    build_baseline,
};
use crate::detect::{Detector, Judgement, Measure};
use crate::kernels::order_stats::OrderStats;
use crate::kernels::tiers::TierRule;
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
    /// The baselines of the lines' groups, or, with `stored`, of the history's groups;
    /// with `tiers`, the main chain's groups are fitted for price tiers. A fine group
    /// with a fixed reference (`refs`, per fine group) resolves to it, not to a group.
    pub fn build(
        parts: &[(&[u32], &[f64])],
        keys: &[FineKey],
        levels: &[GroupLevel],
        price: &PriceSettings,
        (stored, tiers, refs): (
            Option<&StoredGroups>,
            Option<&TierRule>,
            &[Option<OrderStats>],
        ),
    ) -> Baselines {
        let resolve = |min: usize, wanted: Option<&[bool]>, tiers| match stored {
            Some(s) => s.resolve(parts, keys, levels, min, wanted),
            None => build_baseline(parts, keys, levels, min, wanted, tiers),
        };
        let grouped: Option<Vec<bool>> = refs
            .iter()
            .any(Option::is_some)
            .then(|| refs.iter().map(Option::is_none).collect());
        let mut main = resolve(price.min_group_size, grouped.as_deref(), tiers);
        add_references(&mut main, keys, refs);
        let local_min = price.local_min_group_size;
        let local =
            (local_min > 0 && local_min < price.min_group_size && levels.len() > 1).then(|| {
                let wanted: Vec<bool> = (0..keys.len())
                    .map(|g| {
                        main.for_group(g as u32)
                            .is_some_and(|b| b.level > 0 && b.level != REFERENCE_LEVEL)
                    })
                    .collect();
                resolve(local_min, Some(&wanted), None)
            });
        Baselines { main, local }
    }

    /// The judgement of `x` against its group, with the fallback check applied: a flag
    /// at a fallback level stands only if the line is also far (same detector, same
    /// spread) from the median of its most specific group with at least
    /// `local_min_group_size` lines. A group with price tiers judges `x` against its
    /// nearest tier. Returns the verdict with the tier and, when it confirmed a fallback
    /// flag, the local group; `None` when the detector does not judge at the group's
    /// level.
    #[inline]
    pub fn judge(
        &self,
        det: &dyn Detector,
        levels: &[GroupLevel],
        group: &GroupBaseline,
        gid: u32,
        x: f64,
    ) -> Option<Verdict> {
        // A fixed reference is no level of the chain: every detector of its measure
        // judges by it.
        if levels
            .get(group.level)
            .is_some_and(|l| !det.accepts_group(l, &group.key))
        {
            return None;
        }
        let (stats, tier) = group.stats_for(x);
        let verdict = det.judge(x, stats);
        let done = |judgement, local, withdrawn| {
            Some(Verdict {
                judgement,
                tier,
                local,
                withdrawn,
            })
        };
        let Judgement::Flag {
            score,
            raw,
            direction,
        } = verdict
        else {
            return done(verdict, None, false);
        };
        let Some(local) = self.local.as_ref() else {
            return done(verdict, None, false);
        };
        let Some(li) = local.resolved.get(gid as usize).copied().flatten() else {
            return done(verdict, None, false);
        };
        let lg = &local.groups[li as usize];
        if lg.level >= group.level {
            return done(verdict, None, false);
        }
        // Same spread, centred on the line's own (smaller) group.
        let shift = lg.stats.median - stats.median;
        let recentred = OrderStats {
            q1: stats.q1 + shift,
            median: lg.stats.median,
            q3: stats.q3 + shift,
            ..*stats
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
                done(
                    Judgement::Flag {
                        score,
                        raw,
                        direction,
                    },
                    Some(li),
                    false,
                )
            }
            _ => done(Judgement::Pass, None, true),
        }
    }
}

/// Resolve every fine group with values and a fixed reference to that reference (one
/// group per distinct reference).
fn add_references(main: &mut MeasureBaseline, keys: &[FineKey], refs: &[Option<OrderStats>]) {
    let mut made: Vec<(OrderStats, u32)> = Vec::new();
    for (g, r) in refs.iter().enumerate() {
        let Some(stats) = r else { continue };
        if main.fine_counts.get(g).copied().unwrap_or(0) == 0 {
            continue;
        }
        let id = match made.iter().find(|m| m.0 == *stats) {
            Some(m) => m.1,
            None => {
                let id = main.groups.len() as u32;
                main.groups.push(GroupBaseline {
                    level: REFERENCE_LEVEL,
                    key: FineKey {
                        unit: keys[g].unit,
                        ..FineKey::default()
                    },
                    stats: *stats,
                    tiers: None,
                });
                made.push((*stats, id));
                id
            }
        };
        main.resolved[g] = Some(id);
    }
}

/// A detector's verdict on a line, as [`Baselines::judge`] reached it.
#[derive(Debug, Clone, Copy)]
pub struct Verdict {
    /// The judgement.
    pub judgement: Judgement,
    /// The price tier of the group the line was judged against.
    pub tier: Option<u8>,
    /// The local group that confirmed a fallback flag.
    pub local: Option<u32>,
    /// Whether the fallback check withdrew a flag.
    pub withdrawn: bool,
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
    // Per measure and fine group: the first fixed reference a detector judges it by.
    let refs = |m: Measure| -> Vec<Option<OrderStats>> {
        keys.iter()
            .map(|k| {
                (price.detectors.iter())
                    .filter(|d| d.measure() == m)
                    .find_map(|d| d.reference(k))
            })
            .collect()
    };
    pool.install(|| {
        let parts = |f: fn(&UnitMeasures) -> &[f64]| -> Vec<(&[u32], &[f64])> {
            units.iter().map(|u| (u.gid.as_slice(), f(u))).collect()
        };
        let uv = Baselines::build(
            &parts(|u| &u.uv),
            keys,
            price.chain(Measure::UnitValue),
            price,
            (
                stored.map(|b| &b.uv),
                price.tiers.as_ref(),
                &refs(Measure::UnitValue),
            ),
        );
        let kg = price.needs_kg_per_unit().then(|| {
            Baselines::build(
                &parts(|u| &u.kgpu),
                keys,
                price.chain(Measure::KgPerUnit),
                price,
                (stored.map(|b| &b.kg), None, &refs(Measure::KgPerUnit)),
            )
        });
        (uv, kg)
    })
}
