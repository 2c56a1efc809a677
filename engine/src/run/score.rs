//! The score stage: every line judged by every price detector against its group, in
//! parallel per unit; then the random audit is drawn among the lines without a flag.

use rayon::prelude::*;

use super::audit::draw_audit;
use super::baseline::Baselines;
use super::measure::UnitMeasures;
use crate::baseline::{GroupLevel, NO_GROUP};
use crate::config::SelectionConfig;
use crate::detect::price::Flag;
use crate::detect::{Detector, Judgement, Measure};
use crate::kernels::prefetch::prefetch;
use crate::kernels::unit_value::SkipReason;

/// Score every unit, draw the random audit, and free the per-line measures (only the
/// group ids are needed from here on).
pub fn score(
    units: &mut [UnitMeasures],
    ctx: &ScoreContext<'_>,
    selection: &SelectionConfig,
    pool: &rayon::ThreadPool,
) -> Vec<UnitScore> {
    let mut scored: Vec<UnitScore> =
        pool.install(|| units.par_iter().map(|u| ctx.score_unit(u)).collect());
    if selection.random_audit > 0.0 {
        for (ui, (sc, u)) in scored.iter_mut().zip(units.iter()).enumerate() {
            sc.audit = draw_audit(&sc.flags, u, ui, selection.random_audit, selection.seed);
        }
    }
    for u in units.iter_mut() {
        u.release_measures();
    }
    scored
}

/// What the score pass found in one unit.
#[derive(Debug, Default)]
pub struct UnitScore {
    /// Every detector's flags, by row.
    pub flags: Vec<Flag>,
    /// Lines judged by at least one detector.
    pub scored: u64,
    /// Lines not scored, by [`SkipReason`] (index `reason as usize - 1`).
    pub skipped: [u64; SkipReason::ALL.len()],
    /// First such line of each reason, within the unit.
    pub first: [Option<u64>; SkipReason::ALL.len()],
    /// Lines of groups without spread, per detector.
    pub no_spread: Vec<u64>,
    /// Fallback-level flags withdrawn by the local check, per detector.
    pub local_withdrawn: Vec<u64>,
    /// Lines drawn for the random audit: row and ln unit value (NaN when none).
    pub audit: Vec<(u32, f64)>,
}

/// How many lines ahead the score pass prefetches a line's group.
const PREFETCH_AHEAD: usize = 16;

/// What the score pass reads.
pub struct ScoreContext<'a> {
    /// The price detectors.
    pub detectors: &'a [Box<dyn Detector>],
    /// The fallback chain.
    pub levels: &'a [GroupLevel],
    /// Unit-value baselines.
    pub uv: &'a Baselines,
    /// Kg-per-unit baselines, when a detector judges them.
    pub kg: Option<&'a Baselines>,
    /// With `--watch`: per fine group, whether it is in a selected family.
    pub watched: Option<&'a [bool]>,
}

impl<'a> ScoreContext<'a> {
    /// The baselines of measure `m`.
    pub fn baselines(&self, m: Measure) -> Option<&'a Baselines> {
        match m {
            Measure::UnitValue => Some(self.uv),
            Measure::KgPerUnit => self.kg,
        }
    }

    /// Judge every line of a unit with every detector.
    pub fn score_unit(&self, u: &UnitMeasures) -> UnitScore {
        let k_det = self.detectors.len();
        let mut out = UnitScore {
            no_spread: vec![0; k_det],
            local_withdrawn: vec![0; k_det],
            ..Default::default()
        };
        if u.gid.is_empty() && u.rows > 0 {
            // Measured without price measures: no price detector runs.
            let i = SkipReason::NoApplicableDetector as usize - 1;
            out.skipped[i] = u.rows;
            out.first[i] = Some(0);
            return out;
        }
        for (row, &gid) in u.gid.iter().enumerate() {
            // The groups of the lines a few rows on: a table of megabytes, read in
            // line order at random.
            if let Some(&ahead) = u.gid.get(row + PREFETCH_AHEAD)
                && let Some(g) = self.uv.main.for_group(ahead)
            {
                prefetch(&g.stats);
            }
            let mut judged = false;
            let mut group_missing = false;
            let outside = gid != NO_GROUP
                && self
                    .watched
                    .is_some_and(|w| !w.get(gid as usize).copied().unwrap_or(false));
            if outside {
                let reason =
                    SkipReason::from_u8(u.reason[row]).unwrap_or(SkipReason::NotInWatchedFamily);
                let i = reason as usize - 1;
                out.skipped[i] += 1;
                out.first[i].get_or_insert(row as u64);
                continue;
            }
            if gid != NO_GROUP {
                // Each measure's value and group, looked up once per line.
                let uv = (u.uv[row], self.uv.main.for_group(gid));
                let kg = (
                    u.kgpu.get(row).copied().unwrap_or(f64::NAN),
                    self.kg.and_then(|b| b.main.for_group(gid)),
                );
                for (k, det) in self.detectors.iter().enumerate() {
                    let (base, (x, group)) = match det.measure() {
                        Measure::UnitValue => (self.uv, uv),
                        Measure::KgPerUnit => match self.kg {
                            Some(b) => (b, kg),
                            None => continue,
                        },
                    };
                    if x.is_nan() {
                        continue;
                    }
                    let Some(group) = group else {
                        group_missing = true;
                        continue;
                    };
                    let Some(v) = base.judge(det.as_ref(), self.levels, group, gid, x) else {
                        continue;
                    };
                    judged = true;
                    out.local_withdrawn[k] += u64::from(v.withdrawn);
                    match v.judgement {
                        Judgement::Flag {
                            score,
                            raw,
                            direction,
                        } => out.flags.push(Flag {
                            raw,
                            row: row as u32,
                            detector: k as u8,
                            score,
                            direction,
                            value: x,
                            tier: v.tier,
                            local: v.local,
                        }),
                        Judgement::NoSpread => out.no_spread[k] += 1,
                        Judgement::Pass => {}
                    }
                }
            }
            if judged {
                out.scored += 1;
                continue;
            }
            // Not scored: the data reason first, then why no detector could judge it.
            let reason = SkipReason::from_u8(u.reason[row]).unwrap_or(if group_missing {
                SkipReason::GroupTooSmall
            } else {
                SkipReason::NoApplicableDetector
            });
            let i = reason as usize - 1;
            out.skipped[i] += 1;
            out.first[i].get_or_insert(row as u64);
        }
        out
    }
}
