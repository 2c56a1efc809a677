//! The volume stage: merge the units' cells (in unit order), cut them into panels per
//! HS6 and key kind, and run the volume detectors over each panel (one worker per
//! shard of HS6 codes); then the detectors that look across panels (first-time
//! importers across an importer's HS6 codes, split shipments).

use std::collections::BTreeMap;

use rayon::prelude::*;

use crate::detect::series::SeriesContext;
use crate::detect::{
    DetectorKind, FirstSeen, NotJudged, Novelty, SurgeCounts, SurgeWork, collect_first_seen,
    first_time_findings, judge_new_origin, panel_context,
};
use crate::kernels::codes::HsCode;
use crate::kernels::dates::format_ymd;
use crate::report::{Finding, VolumeSummary};
use crate::series::cells::{
    CellAgg, CellKey, CellOrder, CellSymbols, MergedCells, UnitCells, for_each_block, merge,
};
use crate::series::entries::{
    Entry, PanelContext, PanelView, SeriesIndex, fold, project, typical_of,
};
use crate::series::grid::Grid;
use crate::series::panel::Panel;
use crate::series::{PeriodKind, SeriesKind, period_id, period_start};
use crate::settings::VolumeSettings;
use crate::store::series::{StoredPanel, StoredSeries};
use crate::watch::WatchIndex;

use super::Timings;
use super::measure::UnitMeasures;

/// Findings and record of the volume pass.
#[derive(Debug, Clone, Default)]
pub struct VolumeOutput {
    /// Volume findings (unsorted).
    pub findings: Vec<Finding>,
    /// The run record's volume part.
    pub summary: VolumeSummary,
}

/// The volume stage: merge the units' cells (whose names are in `syms`; a stored
/// history's names keep their symbols) and judge the series. Against a stored baseline
/// only the periods the new data touches are reported.
pub fn volume(
    units: &mut [UnitMeasures],
    syms: CellSymbols,
    stored: Option<&StoredSeries>,
    settings: &VolumeSettings,
    watch: &WatchIndex,
    pool: &rayon::ThreadPool,
    timings: &mut Timings,
) -> VolumeOutput {
    let t = std::time::Instant::now();
    let cells: Vec<UnitCells> = units.iter_mut().filter_map(|u| u.cells.take()).collect();
    let new_first = cells.iter().filter_map(|c| c.day_range).map(|r| r.0).min();
    let first = stored.map_or((&[][..], &[][..]), |s| (&s.importers, &s.offices));
    let mut merged = pool.install(|| merge(cells, syms, first, CellOrder::Hs6));
    timings.lap("volume_merge", t);
    let t = std::time::Instant::now();
    let shards = std::mem::take(&mut merged.shards);
    let mut out = pool.install(|| analyse(&merged, shards, stored, settings, watch));
    if stored.is_some() {
        // Only the periods the new data touches are reported.
        out.findings
            .retain(|f| new_first.is_some_and(|d| touches(f, d)));
    }
    timings.lap("volume", t);
    out
}

/// Names shared by every finding of a run, and the settings.
struct Names<'a> {
    ctx: SeriesContext<'a>,
    settings: &'a VolumeSettings,
}

/// Scratch reused from panel to panel.
struct Work {
    index: SeriesIndex,
    surge: SurgeWork,
}

impl Work {
    fn new(surge: Option<&crate::detect::Surge>) -> Work {
        Work {
            index: SeriesIndex::default(),
            surge: SurgeWork::new(surge),
        }
    }
}

/// One panel to judge: the series of one HS6 and key kind.
struct PanelCells<'a> {
    hs6: u64,
    mask: u64,
    kind: SeriesKind,
    /// Series entries sorted by (series, period), one per pair.
    entries: &'a [Entry],
}

/// Run the volume detectors over the merged cells (`shards`, taken out of `cells`, which
/// keeps the symbols; each shard is freed once judged). With `stored` (a scan against a
/// stored baseline), only the series the new cells touch are judged: each is the
/// stored series plus the new cells, judged over its whole range; the panel's pooled
/// spreads and typical amounts are the history's; an importer's first appearances
/// elsewhere in a family come from the history. `cells` must then carry the
/// baseline's symbols (its names given first to [`merge`]).
pub fn analyse(
    cells: &MergedCells,
    shards: Vec<Vec<Vec<(CellKey, CellAgg)>>>,
    stored: Option<&StoredSeries>,
    settings: &VolumeSettings,
    watch: &WatchIndex,
) -> VolumeOutput {
    let mut summary = VolumeSummary {
        period: settings.series.period.name().into(),
        measure: settings.series.measure.name().into(),
        detectors: settings
            .detectors
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        lines_used: cells.lines_used,
        lines_without_measure: cells.without_measure,
        split_thresholds: settings.split.as_ref().map_or(0, |s| s.thresholds.len()) as u64,
        split_candidate_lines: cells.split.len() as u64,
        ..Default::default()
    };
    for (name, n) in [
        ("missing_date", cells.missing_date),
        ("short_hs_code", cells.short_hs_code),
        ("date_out_of_range", cells.date_out_of_range),
    ] {
        if n > 0 {
            summary.lines_skipped.insert(name.into(), n);
        }
    }
    if settings
        .split
        .as_ref()
        .is_some_and(|s| s.thresholds.is_empty())
    {
        summary.notes.push(
            "split-shipment: no thresholds configured ([[detectors.split-shipment.thresholds]]), \
             nothing judged"
                .into(),
        );
    }
    if cells.importers.is_empty() && settings.series.kinds.contains(&SeriesKind::Importer) {
        summary
            .notes
            .push("no importer ids in the data: no hs6+importer series".into());
    }
    let range = match (cells.day_range, stored.and_then(|s| s.day_range)) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (x, None) | (None, x) => x,
    };
    let Some(range) = range else {
        return VolumeOutput {
            findings: Vec::new(),
            summary,
        };
    };
    let grid = Grid::new(settings.series.period, range);
    summary.first_period = Some(format_ymd(grid.start(0)));
    summary.last_period = Some(format_ymd(grid.start(grid.len - 1)));
    summary.periods = grid.len as u64;
    summary.partial_first_period = grid.partial_first;
    summary.partial_last_period = grid.partial_last;
    let from = match (stored, cells.day_range) {
        (Some(_), Some((first, _))) => {
            (period_id(settings.series.period, first) - grid.first) as usize
        }
        _ => 0,
    };
    let names = Names {
        ctx: SeriesContext {
            cells,
            watch,
            measure: settings.series.measure,
            grid,
            from,
        },
        settings,
    };

    let shards: Vec<ShardResult> = shards
        .into_par_iter()
        .map(|shard| analyse_shard(&shard, &names, stored))
        .collect();

    let mut findings = Vec::new();
    let mut counts = SurgeCounts::default();
    let mut first_seen = Vec::new();
    // (importer, period) of each importer's series' first periods (first-time-importer).
    let mut first_any: Vec<(u32, u32)> = Vec::new();
    for s in shards {
        findings.extend(s.findings);
        counts.add(&s.counts);
        first_seen.extend(s.first_seen);
        first_any.extend(s.importer_first);
        for (k, n) in s.series {
            *summary.series.entry(k.name().to_string()).or_default() += n;
        }
        summary.cells += s.cells;
        summary.dense_panels += s.dense;
        summary.sparse_panels += s.sparse;
        let name = DetectorKind::NewOrigin.name();
        for (n, map) in s.new_origin_withheld.into_iter().zip([
            &mut summary.first_appearances_in_burn_in,
            &mut summary.first_appearances_below_min_amount,
        ]) {
            if n > 0 {
                *map.entry(name.to_string()).or_default() += n;
            }
        }
    }
    if settings.surge.is_some() {
        summary.series_judged = counts.series_judged;
        summary.periods_judged = counts.periods_judged;
        summary.withdrawn_by_season = counts.withdrawn_by_season;
        for r in NotJudged::ALL {
            let (s, p) = (
                counts.series_not_judged[r as usize],
                counts.periods_not_judged[r as usize],
            );
            if s > 0 {
                summary.series_not_judged.insert(r.name().into(), s);
            }
            if p > 0 {
                summary.periods_not_judged.insert(r.name().into(), p);
            }
        }
    }
    if let Some(nov) = &settings.first_time {
        if let Some(stored) = stored {
            stored_first_seen(stored, nov, &names, &mut first_seen);
            for p in stored.panels_of(SeriesKind::Importer) {
                first_any.extend(
                    p.rows()
                        .iter()
                        .map(|r| (r.key as u32, (r.period - grid.first) as u32)),
                );
            }
        }
        // Each importer's first period with a line of any good.
        first_any.sort_unstable();
        first_any.dedup_by_key(|f| f.0);
        first_time_findings(
            first_seen,
            nov,
            &names.ctx,
            &first_any,
            &mut findings,
            &mut summary,
        );
    }
    if let Some(split) = settings.split.as_ref().filter(|s| !s.thresholds.is_empty()) {
        split.findings(&cells.split, &names.ctx, settings.restrict, &mut findings);
    }
    VolumeOutput { findings, summary }
}

/// A shard's share of the work.
#[derive(Default)]
struct ShardResult {
    findings: Vec<Finding>,
    counts: SurgeCounts,
    first_seen: Vec<FirstSeen>,
    /// (importer, first period) of every `hs6+importer` series (first-time-importer).
    importer_first: Vec<(u32, u32)>,
    series: BTreeMap<SeriesKind, u64>,
    /// (series, period) cells of the new data, over the key kinds.
    cells: u64,
    dense: u64,
    sparse: u64,
    /// `new-origin`: first appearances in the burn-in and below the amount rule.
    new_origin_withheld: [u64; 2],
}

/// Judge the panels of one shard's cells. Against a stored history, only the series
/// the (new) cells touch are judged, each with its stored cells, with the history's
/// panel context.
fn analyse_shard(
    parts: &[Vec<(CellKey, CellAgg)>],
    names: &Names<'_>,
    stored: Option<&StoredSeries>,
) -> ShardResult {
    let mut out = ShardResult::default();
    let settings = names.settings;
    let mut work = Work::new(settings.surge.as_ref());
    let (mut new, mut entries): (Vec<Entry>, Vec<Entry>) = (Vec::new(), Vec::new());
    for_each_block(parts, |hs6, block| {
        let mask = names.ctx.watch.mask_of(HsCode(hs6));
        if settings.restrict != 0 && mask & settings.restrict == 0 {
            return;
        }
        for &kind in &settings.series.kinds {
            project(block, kind, names.ctx.grid.first, &mut new);
            out.cells += new.len() as u64;
            let context = stored.map(|stored| {
                names.with_history(stored.panel(kind, hs6), &new, &mut entries, &mut work)
            });
            let panel = PanelCells {
                hs6,
                mask,
                kind,
                entries: if stored.is_some() { &entries } else { &new },
            };
            names.judge_panel(&panel, context.as_ref(), &mut work, &mut out);
        }
    });
    out
}

impl Names<'_> {
    /// The touched series of a panel: the new entries with the stored rows of their
    /// series, into `entries`; and the panel's history context (computed from these
    /// entries when the history has no such panel).
    fn with_history(
        &self,
        stored: Option<StoredPanel<'_>>,
        new: &[Entry],
        entries: &mut Vec<Entry>,
        work: &mut Work,
    ) -> PanelContext {
        let first = self.ctx.grid.first;
        entries.clear();
        if let Some(p) = stored {
            let mut last = None;
            for &(key, _, _) in new {
                if last != Some(key) {
                    last = Some(key);
                    entries.extend(
                        p.series(key)
                            .iter()
                            .map(|r| (key, (r.period - first) as u32, r.agg)),
                    );
                }
            }
        }
        entries.extend_from_slice(new);
        entries.sort_unstable_by_key(|e| (e.0, e.1));
        fold(entries);
        match stored {
            Some(p) => p.context,
            None => panel_context(
                self.settings.surge.as_ref(),
                entries,
                self.ctx.grid.len,
                &mut work.index,
                &mut work.surge,
            ),
        }
    }
}

/// Add to `seen` the stored first appearances, in followed HS6 codes the new cells do
/// not touch, of the importers the new cells touch, so that "first in the family" looks
/// at the whole history.
fn stored_first_seen(
    stored: &StoredSeries,
    nov: &Novelty,
    names: &Names<'_>,
    seen: &mut Vec<FirstSeen>,
) {
    let touched: std::collections::BTreeSet<(u32, u64)> =
        seen.iter().map(|s| (s.importer, s.hs6)).collect();
    let mut importers: Vec<u64> = touched.iter().map(|t| u64::from(t.0)).collect();
    importers.dedup();
    for p in stored.panels_of(SeriesKind::Importer) {
        let mask = names.ctx.watch.mask_of(HsCode(p.hs6));
        if nov.families & mask == 0 {
            continue;
        }
        // Both sorted by importer: one merge walk.
        let rows = p.rows();
        let mut at = 0;
        for &importer in &importers {
            at += rows[at..].partition_point(|r| r.key < importer);
            let Some(r) = rows.get(at).filter(|r| r.key == importer) else {
                continue;
            };
            if touched.contains(&(importer as u32, p.hs6)) {
                continue;
            }
            seen.push(FirstSeen {
                importer: importer as u32,
                hs6: p.hs6,
                families: nov.families & mask,
                period: (r.period - names.ctx.grid.first) as usize,
                agg: r.agg,
                typical: p.context.typical,
            });
        }
    }
}

impl Names<'_> {
    /// Run the volume detectors over one panel; `context` (from a stored baseline)
    /// replaces the panel's own prior and typical amounts.
    fn judge_panel(
        &self,
        p: &PanelCells<'_>,
        context: Option<&PanelContext>,
        work: &mut Work,
        out: &mut ShardResult,
    ) {
        let (settings, grid) = (self.settings, self.ctx.grid);
        let PanelCells {
            hs6,
            mask,
            kind,
            entries,
        } = *p;
        work.index.index(entries);
        if work.index.keys.is_empty() {
            return;
        }
        *out.series.entry(kind).or_default() += work.index.keys.len() as u64;
        let panel = Panel::build(work.index.keys.len(), grid.len, &work.index.panel_entries);
        if panel.is_dense() {
            out.dense += 1;
        } else {
            out.sparse += 1;
        }
        let view = PanelView {
            hs6,
            mask,
            kind,
            entries,
            index: &work.index,
            panel: &panel,
        };
        if let Some(surge) = &settings.surge {
            surge.judge_panel(
                &view,
                context,
                &self.ctx,
                &mut work.surge,
                &mut out.counts,
                &mut out.findings,
            );
        }
        if kind == SeriesKind::Importer && settings.first_time.is_some() {
            out.importer_first.extend(
                (0..work.index.keys.len())
                    .map(|s| (work.index.keys[s] as u32, entries[work.index.offsets[s]].1)),
            );
        }
        let novelty = match kind {
            SeriesKind::Importer => settings.first_time.as_ref(),
            SeriesKind::Origin => settings.new_origin.as_ref(),
            _ => None,
        };
        let Some(nov) = novelty.filter(|n| n.families & mask != 0) else {
            return;
        };
        let typical = match context {
            Some(c) => c.typical,
            None => typical_of(entries),
        };
        if kind == SeriesKind::Importer {
            collect_first_seen(nov, &view, typical, &mut out.first_seen);
        } else {
            judge_new_origin(
                nov,
                &view,
                typical,
                &self.ctx,
                &mut out.new_origin_withheld,
                &mut out.findings,
            );
        }
    }
}

/// Whether a volume finding's period reaches `first_day` or later.
fn touches(f: &Finding, first_day: i32) -> bool {
    let Some(start) = f.period_start else {
        return true;
    };
    let kind = match f.period {
        Some("month") => PeriodKind::Month,
        Some("week") => PeriodKind::Week,
        _ => return start >= first_day,
    };
    start >= period_start(kind, period_id(kind, first_day))
}
