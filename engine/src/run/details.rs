//! The details stage: each unit reads its flagged (and audited) lines back and lists
//! the findings they produce; the list is sorted on light entries and the findings are
//! built straight into their output positions (a `Finding` is large: building,
//! concatenating and sorting them costs more than the sort keys). The volume findings
//! join them, and the inspection budget is applied.

use std::borrow::Cow;

use rayon::prelude::*;

use super::audit::{RANDOM_AUDIT_ID, audit_finding};
use super::budget::apply_budget;
use super::events;
use super::measure::UnitMeasures;
use super::score::{ScoreContext, UnitScore};
use crate::baseline::{FineKey, GroupBaseline, GroupLevel};
use crate::config::SelectionConfig;
use crate::detect::price::{Flag, GroupTexts, KeyTexts, LineDetail, price_finding};
use crate::detect::{DetectorKind, Measure};
use crate::error::{Error, Result};
use crate::kernels::arrow_edge::{NULL_DATE, date_days, f64_values, i64_values, strings};
use crate::kernels::hash::FxHashMap;
use crate::kernels::tail::combined_z;
use crate::report::{BudgetRecord, Finding};
use crate::scan::{ScanPlan, column_error, read_unit};
use crate::schema::Col;
use crate::series::PeriodKind;
use crate::watch::WatchIndex;

/// Build the findings of the flagged and audited lines, add `volume` findings, sort
/// them all in output order and apply the budget.
#[allow(clippy::too_many_arguments)]
pub fn details(
    plan: &ScanPlan,
    units: &[UnitMeasures],
    scored: &[UnitScore],
    keys: &[FineKey],
    ctx: &ScoreContext<'_>,
    (volume, fold): (Vec<Finding>, Option<PeriodKind>),
    (watch, selection, batch_size): (&WatchIndex, &SelectionConfig, usize),
    pool: &rayon::ThreadPool,
) -> Result<Details> {
    let per_unit = pool.install(|| {
        scored
            .par_iter()
            .enumerate()
            .map(|(ui, s)| {
                if s.flags.is_empty() && s.audit.is_empty() {
                    return Ok(UnitDetails::default());
                }
                read_unit_details(plan, ui, s, &units[ui], keys, ctx, batch_size)
            })
            .collect::<Result<Vec<UnitDetails>>>()
    })?;
    let mut pending: Vec<Pending> =
        Vec::with_capacity(per_unit.iter().map(|d| d.pending.len()).sum());
    for d in &per_unit {
        pending.extend_from_slice(&d.pending);
    }
    let texts = pool.install(|| SharedTexts::build(&pending, ctx.levels, watch));
    let build = FindingBuilder {
        per_unit: &per_unit,
        levels: ctx.levels,
        watch,
        selection,
        texts: &texts,
    };
    // Room for the volume findings too: findings are large, and growing the vector
    // would copy them all.
    let mut findings: Vec<Finding> = Vec::with_capacity(pending.len() + volume.len());
    pool.install(|| {
        pending.par_sort_unstable_by(|a, b| build.order(a, b));
        findings.par_extend(pending.par_iter().map(|p| build.finding(p)));
    });
    drop(pending);
    // Hundreds of thousands of small strings: freed on the workers.
    pool.install(|| per_unit.into_par_iter().for_each(drop));
    let mut folded = 0;
    if !volume.is_empty() {
        // In output order before folding: which headline takes a corroboration, and
        // the order of its corroborations, then follow the findings' own order.
        let mut volume = volume;
        pool.install(|| volume.par_sort_unstable_by(Finding::output_order));
        findings.extend(volume);
        if let Some(period) = fold {
            folded = events::fold(&mut findings, period);
        }
        pool.install(|| findings.par_sort_unstable_by(Finding::output_order));
    }
    let budget = apply_budget(&mut findings, selection);
    Ok(Details {
        findings,
        budget,
        folded,
    })
}

/// The scan's findings, in output order.
pub struct Details {
    /// Line and volume findings, one per event, budget applied.
    pub findings: Vec<Finding>,
    /// The budget's record.
    pub budget: Option<BudgetRecord>,
    /// Volume findings folded into another finding of their event.
    pub folded: u64,
}

/// Read the flagged (and audited) lines of unit `ui` back and list the findings
/// they produce, unsorted.
#[allow(clippy::too_many_arguments)]
fn read_unit_details<'a>(
    plan: &ScanPlan,
    ui: usize,
    score: &UnitScore,
    measures: &UnitMeasures,
    keys: &[FineKey],
    ctx: &ScoreContext<'a>,
    batch_size: usize,
) -> Result<UnitDetails<'a>> {
    let unit = &plan.units[ui];
    let file = &plan.files[unit.file];
    let mut rows: Vec<u32> = score.flags.iter().map(|f| f.row).collect();
    rows.extend(score.audit.iter().map(|a| a.0));
    rows.sort_unstable();
    rows.dedup();
    let cols = [
        Col::DeclarationId,
        Col::LineNo,
        Col::Date,
        Col::Office,
        Col::ImporterId,
        Col::Quantity,
        Col::NetMassKg,
        Col::CustomsValue,
    ];
    let mut detail: Vec<LineDetail> = Vec::with_capacity(rows.len());
    read_unit(plan, unit, &cols, batch_size, Some(&rows), |b| {
        let n = b.num_rows();
        let err = |col: Col, e| column_error(plan, unit, 0, col, e);
        let text = |col: Col| -> Result<Vec<Option<String>>> {
            b.get(col).map_or(Ok(vec![None; n]), |a| {
                strings(a.as_ref()).map_err(|e| err(col, e))
            })
        };
        let num = |col: Col| -> Result<Vec<f64>> {
            b.get(col).map_or(Ok(vec![f64::NAN; n]), |a| {
                f64_values(a.as_ref()).map_err(|e| err(col, e))
            })
        };
        let ids = text(Col::DeclarationId)?;
        let line_no = b.get(Col::LineNo).map_or(Ok(vec![None; n]), |a| {
            i64_values(a.as_ref()).map_err(|e| err(Col::LineNo, e))
        })?;
        let dates = b.get(Col::Date).map_or(Ok(vec![NULL_DATE; n]), |a| {
            date_days(a.as_ref()).map_err(|e| err(Col::Date, e))
        })?;
        let office = text(Col::Office)?;
        let importer = text(Col::ImporterId)?;
        let (q, m, v) = (
            num(Col::Quantity)?,
            num(Col::NetMassKg)?,
            num(Col::CustomsValue)?,
        );
        let mut ids = ids.into_iter();
        let mut office = office.into_iter();
        let mut importer = importer.into_iter();
        for i in 0..n {
            detail.push(LineDetail {
                declaration_id: ids.next().flatten(),
                line_no: line_no[i],
                date: (dates[i] != NULL_DATE).then_some(dates[i]),
                office: office.next().flatten(),
                importer_id: importer.next().flatten(),
                quantity: finite(q[i]),
                net_mass_kg: finite(m[i]),
                customs_value: finite(v[i]),
            });
        }
        Ok(())
    })?;
    if detail.len() != rows.len() {
        return Err(Error::Internal(format!(
            "{}: expected {} flagged rows back, read {}",
            file.path.display(),
            rows.len(),
            detail.len()
        )));
    }
    let mut pending = Vec::with_capacity(score.flags.len() + score.audit.len());
    for &(row, uv) in &score.audit {
        if let Ok(pos) = rows.binary_search(&row) {
            let gid = measures.gid[row as usize];
            pending.push(Pending {
                score: 0.0,
                risk: 0.0,
                detector_id: RANDOM_AUDIT_ID,
                unit: ui as u32,
                row,
                pos: pos as u32,
                what: What::Audit {
                    key: keys.get(gid as usize).copied(),
                    uv,
                },
            });
        }
    }
    let risks = line_risks(&score.flags, ctx);
    for flag in &score.flags {
        let Ok(pos) = rows.binary_search(&flag.row) else {
            continue;
        };
        let gid = measures.gid[flag.row as usize];
        let Some(&key) = keys.get(gid as usize) else {
            continue;
        };
        let det = &ctx.detectors[flag.detector as usize];
        let Some(base) = ctx.baselines(det.measure()) else {
            continue;
        };
        let Some(index) = base.main.group_index(gid) else {
            continue;
        };
        let Some(group) = base.main.groups.get(index as usize) else {
            continue;
        };
        let local = flag
            .local
            .and_then(|i| base.local.as_ref()?.groups.get(i as usize));
        pending.push(Pending {
            score: flag.score,
            risk: risks.get(&flag.row).copied().unwrap_or(flag.score),
            detector_id: det.kind().id(),
            unit: ui as u32,
            row: flag.row,
            pos: pos as u32,
            what: What::Flag {
                kind: det.kind(),
                flag: *flag,
                key,
                group,
                group_id: (det.measure(), index),
                local,
            },
        });
    }
    Ok(UnitDetails { detail, pending })
}

/// The risk of each flagged row of a unit: the strongest score of each measure judged
/// on it, combined ([`Finding::risk`]), and never below the strongest.
fn line_risks(flags: &[Flag], ctx: &ScoreContext<'_>) -> FxHashMap<u32, f64> {
    let mut best: FxHashMap<u32, [f64; 2]> = FxHashMap::default();
    for f in flags {
        let m = match ctx.detectors[f.detector as usize].measure() {
            Measure::UnitValue => 0,
            Measure::KgPerUnit => 1,
        };
        let b = best.entry(f.row).or_insert([0.0; 2]);
        b[m] = b[m].max(f.score);
    }
    // Never below the strongest piece: Fisher's method lowers a huge score a little
    // when a barely significant one joins it.
    best.into_iter()
        .map(|(row, scores)| (row, combined_z(&scores).max(scores[0]).max(scores[1])))
        .collect()
}

/// The flagged lines of one unit read back, and the findings they produce (unsorted).
#[derive(Debug, Default)]
struct UnitDetails<'a> {
    /// Per flagged or audited row, ascending.
    detail: Vec<LineDetail>,
    pending: Vec<Pending<'a>>,
}

/// A finding to build: its leading sort keys and where its parts are.
#[derive(Debug, Clone, Copy)]
struct Pending<'a> {
    score: f64,
    /// The line's risk ([`line_risks`]).
    risk: f64,
    detector_id: &'static str,
    unit: u32,
    row: u32,
    /// Index into the unit's [`UnitDetails::detail`].
    pos: u32,
    what: What<'a>,
}

#[derive(Debug, Clone, Copy)]
enum What<'a> {
    Flag {
        kind: DetectorKind,
        flag: Flag,
        key: FineKey,
        group: &'a GroupBaseline,
        /// The group's measure and index in its [`MeasureBaseline`] (its shared texts).
        group_id: (Measure, u32),
        local: Option<&'a GroupBaseline>,
    },
    Audit {
        key: Option<FineKey>,
        uv: f64,
    },
}

impl What<'_> {
    fn key(&self) -> Option<FineKey> {
        match *self {
            What::Flag { key, .. } => Some(key),
            What::Audit { key, .. } => key,
        }
    }
}

/// Sorts and builds the line findings of a scan.
struct FindingBuilder<'a> {
    per_unit: &'a [UnitDetails<'a>],
    levels: &'a [GroupLevel],
    watch: &'a WatchIndex,
    selection: &'a SelectionConfig,
    texts: &'a SharedTexts,
}

/// Texts shared by many findings (tens of thousands of groups for hundreds of
/// thousands of findings), each written once, in parallel, before the findings.
#[derive(Default)]
struct SharedTexts {
    keys: FxHashMap<FineKey, KeyTexts>,
    groups: FxHashMap<(Measure, u32), GroupTexts>,
}

impl SharedTexts {
    fn build(pending: &[Pending<'_>], levels: &[GroupLevel], watch: &WatchIndex) -> SharedTexts {
        let mut keys: Vec<FineKey> = Vec::new();
        let mut groups: Vec<((Measure, u32), &GroupBaseline)> = Vec::new();
        for p in pending {
            if let What::Flag {
                key,
                group,
                group_id,
                ..
            } = p.what
            {
                keys.push(key);
                groups.push((group_id, group));
            }
        }
        keys.par_sort_unstable();
        keys.dedup();
        groups.par_sort_unstable_by_key(|g| g.0);
        groups.dedup_by_key(|g| g.0);
        let keys = keys
            .into_par_iter()
            .map(|k| (k, KeyTexts::new(k, watch)))
            .collect();
        let groups = groups
            .into_par_iter()
            .map(|(id, g)| (id, GroupTexts::new(g, levels)))
            .collect();
        SharedTexts { keys, groups }
    }
}

impl FindingBuilder<'_> {
    fn detail(&self, p: &Pending<'_>) -> &LineDetail {
        &self.per_unit[p.unit as usize].detail[p.pos as usize]
    }

    /// [`Finding::output_order`] of the findings `a` and `b` will become (line findings:
    /// no series key, no period), without building them.
    fn order(&self, a: &Pending<'_>, b: &Pending<'_>) -> std::cmp::Ordering {
        let hs6 = |p: &Pending<'_>| {
            p.what
                .key()
                .map(|k| k.hs.prefix(6).to_text())
                .unwrap_or_default()
        };
        let origin = |p: &Pending<'_>| {
            p.what
                .key()
                .and_then(|k| (!k.origin.is_none()).then(|| k.origin.to_text()))
        };
        b.risk
            .total_cmp(&a.risk)
            .then_with(|| {
                let (da, db) = (self.detail(a), self.detail(b));
                da.declaration_id
                    .cmp(&db.declaration_id)
                    .then_with(|| da.line_no.cmp(&db.line_no))
                    .then_with(|| hs6(a).cmp(&hs6(b)))
                    .then_with(|| da.importer_id.cmp(&db.importer_id))
                    .then_with(|| origin(a).cmp(&origin(b)))
                    .then_with(|| da.office.cmp(&db.office))
            })
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.detector_id.cmp(b.detector_id))
            .then_with(|| (a.unit, a.row).cmp(&(b.unit, b.row)))
    }

    fn finding(&self, p: &Pending<'_>) -> Finding {
        let d = self.detail(p);
        let locator = (p.unit, p.row);
        match p.what {
            What::Flag {
                kind,
                flag,
                key,
                group,
                group_id,
                local,
            } => {
                // Every flagged key and group has its texts (built from the same list);
                // written here only if that ever stops being so.
                let kt = match self.texts.keys.get(&key) {
                    Some(t) => Cow::Borrowed(t),
                    None => Cow::Owned(KeyTexts::new(key, self.watch)),
                };
                let gt = match self.texts.groups.get(&group_id) {
                    Some(t) => Cow::Borrowed(t),
                    None => Cow::Owned(GroupTexts::new(group, self.levels)),
                };
                Finding {
                    line_risk: Some(p.risk),
                    ..price_finding(
                        (kind, group_id.0),
                        &flag,
                        d,
                        key,
                        (group, local),
                        (&kt, &gt),
                        self.levels,
                        locator,
                    )
                }
            }
            What::Audit { key, uv } => {
                audit_finding(d, key, uv, self.selection, self.watch, locator)
            }
        }
    }
}

fn finite(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}
