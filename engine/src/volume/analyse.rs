//! The volume analysis: merged cells -> per-HS6 panels -> volume detectors -> findings.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use super::cells::{CellAgg, CellKey, MergedCells, NO_SYMBOL, SplitLine, SplitThreshold};
use super::panel::Panel;
use super::state::{StoredPanel, VolumeState};
use super::{PeriodKind, SeriesKind, VolumeMeasure, period_id, period_start};
use crate::config::Config;
use crate::detect::{
    DetectorKind, Direction, FlagScale, NotJudged, Prior, Series, SeriesFlag, SplitWindow, Surge,
    SurgeCounts, SurgeScratch, novelty_passes, novelty_score, split_score,
};
use crate::error::Result;
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::dates::format_ymd;
use crate::kernels::order_stats::{OrderStats, median_in_place, order_stats};
use crate::report::{Finding, sig};
use crate::volume::period::period_end;
use crate::watch::WatchIndex;

/// Resolved settings of the volume pass.
#[derive(Debug, Clone)]
pub struct VolumeSettings {
    /// Period cut.
    pub period: PeriodKind,
    /// Dates a series can hold.
    pub plausible: (i32, i32),
    /// Amount measure.
    pub measure: VolumeMeasure,
    /// Series kinds built.
    pub kinds: Vec<SeriesKind>,
    /// Selected volume detectors.
    pub detectors: Vec<DetectorKind>,
    surge: Option<Surge>,
    first_time: Option<Novelty>,
    new_origin: Option<Novelty>,
    /// Split-shipment thresholds (empty when the detector is off or unconfigured).
    pub split: Vec<SplitThreshold>,
    /// With `--watch`: the selected families (0: everything is judged).
    restrict: u64,
    split_band: f64,
    split_min_lines: usize,
    split_window: SplitWindow,
}

#[derive(Debug, Clone)]
struct Novelty {
    families: u64,
    burn_in: usize,
    config: crate::detect::NoveltyConfig,
}

impl VolumeSettings {
    /// The settings of `config`; `None` when no volume detector is selected.
    pub fn from_config(config: &Config, watch: &WatchIndex) -> Result<Option<VolumeSettings>> {
        let detectors = config.volume_detector_kinds()?;
        if detectors.is_empty() {
            return Ok(None);
        }
        let v = &config.volume;
        let d = &config.detectors;
        let on = |k: DetectorKind| detectors.contains(&k);
        let restrict = watch.mask_of_names(&config.watch.only, "watch.only")?;
        let novelty =
            |k: DetectorKind, c: &crate::detect::NoveltyConfig| -> Result<Option<Novelty>> {
                if !on(k) {
                    return Ok(None);
                }
                Ok(Some(Novelty {
                    families: watch
                        .mask_of_names(&c.families, &format!("detectors.{}.families", k.name()))?,
                    burn_in: c.burn_in(v.period),
                    config: c.clone(),
                }))
            };
        Ok(Some(VolumeSettings {
            period: v.period,
            plausible: v.plausible_days()?,
            measure: v.measure,
            kinds: v.series_kinds()?,
            surge: on(DetectorKind::Surge).then(|| Surge::new(&d.surge, v.period)),
            first_time: novelty(DetectorKind::FirstTimeImporter, &d.first_time_importer)?,
            new_origin: novelty(DetectorKind::NewOrigin, &d.new_origin)?,
            split: if on(DetectorKind::SplitShipment) {
                d.split_shipment.parsed()?
            } else {
                Vec::new()
            },
            split_band: d.split_shipment.band,
            split_min_lines: d.split_shipment.min_lines,
            split_window: d.split_shipment.window,
            restrict,
            detectors,
        }))
    }

    /// The options of the per-unit aggregation, for a date window.
    pub fn cell_options(&self, window: (Option<i32>, Option<i32>)) -> super::cells::CellOptions {
        super::cells::CellOptions {
            period: self.period,
            measure: self.measure,
            split: self.split.clone(),
            split_band: self.split_band,
            window,
            plausible: self.plausible,
        }
    }
}

/// The volume part of the run record (`manifest.json`, key `volume`).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct VolumeSummary {
    /// `week` or `month`.
    pub period: String,
    /// The amount measure.
    pub measure: String,
    /// Volume detectors run.
    pub detectors: Vec<String>,
    /// First day of the first period.
    pub first_period: Option<String>,
    /// First day of the last period.
    pub last_period: Option<String>,
    /// Periods in the data range (every series has this many).
    pub periods: u64,
    /// Whether the data starts after the first period's first day.
    pub partial_first_period: bool,
    /// Whether the data ends before the last period's last day (drops are not judged
    /// there).
    pub partial_last_period: bool,
    /// Lines placed in a series.
    pub lines_used: u64,
    /// Lines that could not be placed in a series, by reason.
    pub lines_skipped: BTreeMap<String, u64>,
    /// Lines placed with a missing or negative amount (counted as 0).
    pub lines_without_measure: u64,
    /// Non-empty (HS6, importer, origin, office, period) cells.
    pub cells: u64,
    /// Series per key kind.
    pub series: BTreeMap<String, u64>,
    /// Panels (one per HS6 and key kind) stored dense.
    pub dense_panels: u64,
    /// Panels stored sparse.
    pub sparse_panels: u64,
    /// `surge`: series with at least one judged period.
    pub series_judged: u64,
    /// `surge`: series with no judged period, by reason.
    pub series_not_judged: BTreeMap<String, u64>,
    /// `surge`: periods judged.
    pub periods_judged: u64,
    /// `surge`: periods not judged, by guard.
    pub periods_not_judged: BTreeMap<String, u64>,
    /// `surge`: flags the seasonal comparison withdrew.
    pub withdrawn_by_season: u64,
    /// `first-time-importer` / `new-origin`: first appearances inside the burn-in.
    pub first_appearances_in_burn_in: BTreeMap<String, u64>,
    /// `first-time-importer` / `new-origin`: first appearances below `min_amount`.
    pub first_appearances_below_min_amount: BTreeMap<String, u64>,
    /// `split-shipment`: configured thresholds.
    pub split_thresholds: u64,
    /// `split-shipment`: lines just under a threshold.
    pub split_candidate_lines: u64,
    /// Remarks on detectors that could not work (no thresholds, no importer column).
    pub notes: Vec<String>,
}

/// Findings and record of the volume pass.
#[derive(Debug, Clone, Default)]
pub struct VolumeOutput {
    /// Volume findings (unsorted).
    pub findings: Vec<Finding>,
    /// The run record's volume part.
    pub summary: VolumeSummary,
}

/// The period grid of a run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Grid {
    kind: PeriodKind,
    pub(super) first: i32,
    pub(super) len: usize,
    partial_first: bool,
    partial_last: bool,
}

impl Grid {
    pub(super) fn new(kind: PeriodKind, (lo, hi): (i32, i32)) -> Grid {
        let first = period_id(kind, lo);
        let last = period_id(kind, hi);
        Grid {
            kind,
            first,
            len: (last - first + 1) as usize,
            partial_first: lo > period_start(kind, first),
            partial_last: hi < period_end(kind, last),
        }
    }

    fn complete(&self, t: usize) -> bool {
        !((t == 0 && self.partial_first) || (t + 1 == self.len && self.partial_last))
    }

    fn start(&self, t: usize) -> i32 {
        period_start(self.kind, self.first + t as i32)
    }

    fn label(&self) -> &'static str {
        match self.kind {
            PeriodKind::Week => "week of",
            PeriodKind::Month => "month of",
        }
    }
}

/// Names shared by every finding of a run.
struct Names<'a> {
    cells: &'a MergedCells,
    watch: &'a WatchIndex,
    settings: &'a VolumeSettings,
    grid: Grid,
    /// First period whose surges are wanted: the first new period against a stored
    /// history, 0 otherwise.
    from: usize,
}

/// Run the volume detectors over the merged cells.
pub fn analyse(cells: &MergedCells, settings: &VolumeSettings, watch: &WatchIndex) -> VolumeOutput {
    run(cells, None, settings, watch)
}

/// Run the volume detectors over the series the new cells touch, against a stored
/// baseline's history ([`VolumeState`]): each touched series is the stored series plus
/// the new cells, judged over its whole range; the panel's pooled spreads and typical
/// amounts are the history's; an importer's first appearances elsewhere in a family
/// come from the history. `cells` must carry the baseline's symbols
/// ([`VolumeState::symbol_unit`] merged first).
pub fn analyse_against(
    cells: &MergedCells,
    state: &VolumeState,
    settings: &VolumeSettings,
    watch: &WatchIndex,
) -> VolumeOutput {
    run(cells, Some(state), settings, watch)
}

fn run(
    cells: &MergedCells,
    state: Option<&VolumeState>,
    settings: &VolumeSettings,
    watch: &WatchIndex,
) -> VolumeOutput {
    let mut summary = VolumeSummary {
        period: settings.period.name().into(),
        measure: settings.measure.name().into(),
        detectors: settings
            .detectors
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        lines_used: cells.lines_used,
        lines_without_measure: cells.without_measure,
        cells: cells.shards.iter().map(|s| s.len() as u64).sum(),
        split_thresholds: settings.split.len() as u64,
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
    if settings.detectors.contains(&DetectorKind::SplitShipment) && settings.split.is_empty() {
        summary.notes.push(
            "split-shipment: no thresholds configured ([[detectors.split-shipment.thresholds]]), \
             nothing judged"
                .into(),
        );
    }
    if cells.importers.is_empty() && settings.kinds.contains(&SeriesKind::Importer) {
        summary
            .notes
            .push("no importer ids in the data: no hs6+importer series".into());
    }
    let range = match (cells.day_range, state.and_then(|s| s.day_range)) {
        (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
        (x, None) | (None, x) => x,
    };
    let Some(range) = range else {
        return VolumeOutput {
            findings: Vec::new(),
            summary,
        };
    };
    let grid = Grid::new(settings.period, range);
    summary.first_period = Some(format_ymd(grid.start(0)));
    summary.last_period = Some(format_ymd(grid.start(grid.len - 1)));
    summary.periods = grid.len as u64;
    summary.partial_first_period = grid.partial_first;
    summary.partial_last_period = grid.partial_last;
    let from = match (state, cells.day_range) {
        (Some(_), Some((first, _))) => (period_id(settings.period, first) - grid.first) as usize,
        _ => 0,
    };
    let names = Names {
        cells,
        watch,
        settings,
        grid,
        from,
    };

    let shards: Vec<ShardResult> = cells
        .shards
        .par_iter()
        .map(|shard| analyse_shard(shard, &names, state))
        .collect();

    let mut findings = Vec::new();
    let mut counts = SurgeCounts::default();
    let mut first_seen = Vec::new();
    for s in shards {
        findings.extend(s.findings);
        counts.add(&s.counts);
        first_seen.extend(s.first_seen);
        for (k, n) in s.series {
            *summary.series.entry(k.name().to_string()).or_default() += n;
        }
        summary.dense_panels += s.dense;
        summary.sparse_panels += s.sparse;
        for (k, v) in s.novelty_skipped {
            let map = if k.1 {
                &mut summary.first_appearances_in_burn_in
            } else {
                &mut summary.first_appearances_below_min_amount
            };
            *map.entry(k.0.to_string()).or_default() += v;
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
        if let Some(state) = state {
            stored_first_seen(state, nov, &names, &mut first_seen);
        }
        first_time_findings(first_seen, nov, &names, &mut findings, &mut summary);
    }
    if !settings.split.is_empty() {
        split_findings(&cells.split, &names, &mut findings);
    }
    VolumeOutput { findings, summary }
}

/// A shard's share of the work.
#[derive(Default)]
struct ShardResult {
    findings: Vec<Finding>,
    counts: SurgeCounts,
    first_seen: Vec<FirstSeen>,
    series: BTreeMap<SeriesKind, u64>,
    dense: u64,
    sparse: u64,
    /// (detector, in burn-in?) -> first appearances not reported.
    novelty_skipped: BTreeMap<(&'static str, bool), u64>,
}

/// An importer's first period with an HS6 of a followed family.
#[derive(Debug, Clone)]
struct FirstSeen {
    importer: u32,
    hs6: u64,
    families: u64,
    period: usize,
    agg: CellAgg,
    typical: Option<OrderStats>,
}

/// One series cell of a key kind: (series key, period index, sums).
pub(super) type Entry = (u64, u32, CellAgg);

fn series_key(kind: SeriesKind, k: &CellKey) -> Option<u64> {
    match kind {
        SeriesKind::Importer => (k.importer != NO_SYMBOL).then_some(u64::from(k.importer)),
        SeriesKind::Origin => (!k.origin.is_none()).then_some(k.origin.0),
        SeriesKind::Office => (k.office != NO_SYMBOL).then_some(u64::from(k.office)),
        SeriesKind::Hs6 => Some(0),
    }
}

/// Judge the panels of one shard's cells. Against a stored history, only the series
/// the (new) cells touch are judged, each with its stored cells, with the history's
/// panel context.
fn analyse_shard(
    cells: &[(CellKey, CellAgg)],
    names: &Names<'_>,
    state: Option<&VolumeState>,
) -> ShardResult {
    let mut out = ShardResult::default();
    let settings = names.settings;
    let mut work = Work::new(settings.surge.as_ref());
    let (mut new, mut entries): (Vec<Entry>, Vec<Entry>) = (Vec::new(), Vec::new());
    let mut start = 0;
    while start < cells.len() {
        let hs6 = cells[start].0.hs6;
        let end = start + cells[start..].partition_point(|c| c.0.hs6 == hs6);
        let block = &cells[start..end];
        start = end;
        let mask = names.watch.mask_of(HsCode(hs6));
        if settings.restrict != 0 && mask & settings.restrict == 0 {
            continue;
        }
        for &kind in &settings.kinds {
            project(block, kind, names.grid.first, &mut new);
            let context = state.map(|state| {
                names.with_history(state.panel(kind, hs6), &new, &mut entries, &mut work)
            });
            let panel = PanelCells {
                hs6,
                mask,
                kind,
                entries: if state.is_some() { &entries } else { &new },
            };
            names.judge_panel(&panel, context.as_ref(), &mut work, &mut out);
        }
    }
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
        let first = self.grid.first;
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
            None => panel_context(self.settings.surge.as_ref(), entries, self.grid.len, work),
        }
    }
}

/// Add to `seen` the stored first appearances, in followed HS6 codes the new cells do
/// not touch, of the importers the new cells touch, so that "first in the family" looks
/// at the whole history.
fn stored_first_seen(
    state: &VolumeState,
    nov: &Novelty,
    names: &Names<'_>,
    seen: &mut Vec<FirstSeen>,
) {
    let touched: std::collections::BTreeSet<(u32, u64)> =
        seen.iter().map(|s| (s.importer, s.hs6)).collect();
    let mut importers: Vec<u64> = touched.iter().map(|t| u64::from(t.0)).collect();
    importers.dedup();
    for p in state.panels_of(SeriesKind::Importer) {
        let mask = names.watch.mask_of(HsCode(p.hs6));
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
                period: (r.period - names.grid.first) as usize,
                agg: r.agg,
                typical: p.context.typical,
            });
        }
    }
}

/// The cells of one HS6 block as series entries of one key kind: projected, sorted and
/// folded (fixed-point sums: any order gives the same bits). Periods are counted from
/// `first`.
pub(super) fn project(
    block: &[(CellKey, CellAgg)],
    kind: SeriesKind,
    first: i32,
    entries: &mut Vec<Entry>,
) {
    entries.clear();
    entries.extend(
        block
            .iter()
            .filter_map(|(k, a)| series_key(kind, k).map(|s| (s, (k.period - first) as u32, *a))),
    );
    entries.sort_unstable_by_key(|e| (e.0, e.1));
    fold(entries);
}

/// One panel to judge: the series of one HS6 and key kind.
pub(super) struct PanelCells<'a> {
    pub hs6: u64,
    pub mask: u64,
    pub kind: SeriesKind,
    /// Series entries sorted by (series, period), one per pair.
    pub entries: &'a [Entry],
}

/// What a panel contributes beyond its own series: the pooled spreads (the prior of
/// short windows) and the typical ln amount of its cells (novelty scores). Scans
/// compute them from the panel; a scan against a stored baseline uses the history's.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PanelContext {
    /// Pooled spreads of the panel's series.
    pub prior: Prior,
    /// Order statistics of the ln amounts of the panel's cells (`None`: no cell).
    pub typical: Option<OrderStats>,
}

/// Scratch reused from panel to panel.
pub(super) struct Work {
    scratch: SurgeScratch,
    panel_entries: Vec<(u32, u32, f64)>,
    keys: Vec<u64>,
    offsets: Vec<usize>,
    row: Vec<f64>,
    line_row: Vec<f64>,
    flags: Vec<SeriesFlag>,
}

impl Work {
    pub(super) fn new(surge: Option<&Surge>) -> Work {
        Work {
            scratch: surge.map(SurgeScratch::new).unwrap_or_default(),
            panel_entries: Vec::new(),
            keys: Vec::new(),
            offsets: Vec::new(),
            row: Vec::new(),
            line_row: Vec::new(),
            flags: Vec::new(),
        }
    }

    /// Split sorted entries into series: keys, offsets, and the panel's (series,
    /// period, amount) triples.
    fn index(&mut self, entries: &[Entry]) {
        self.keys.clear();
        self.offsets.clear();
        self.panel_entries.clear();
        for (i, e) in entries.iter().enumerate() {
            if self.keys.last() != Some(&e.0) {
                self.keys.push(e.0);
                self.offsets.push(i);
            }
            self.panel_entries
                .push(((self.keys.len() - 1) as u32, e.1, e.2.amount.value()));
        }
        self.offsets.push(entries.len());
    }
}

/// The typical ln amount of a panel's cells.
fn typical_of(entries: &[Entry]) -> Option<OrderStats> {
    let mut ln: Vec<f64> = entries
        .iter()
        .map(|e| e.2.amount.value())
        .filter(|&a| a > 0.0)
        .map(f64::ln)
        .collect();
    order_stats(&mut ln, &mut Vec::new())
}

/// The pooled spreads of a panel's series (series [`Surge::may_judge`] turns away do
/// not count).
fn pooled_prior(
    surge: &Surge,
    entries: &[Entry],
    periods: usize,
    work: &mut Work,
    panel: &Panel,
) -> Prior {
    let mut spreads: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for s in 0..work.keys.len() {
        let run = &entries[work.offsets[s]..work.offsets[s + 1]];
        if !surge.may_judge(run.len()) {
            continue;
        }
        panel.row_into(s, &mut work.row);
        lines_into(run, periods, &mut work.line_row);
        if let Some((a, n)) = surge.series_spread(&work.row, &work.line_row, &mut work.scratch) {
            spreads.0.push(a);
            spreads.1.push(n);
        }
    }
    Prior {
        ln_amount: median_in_place(&mut spreads.0),
        lines: median_in_place(&mut spreads.1),
    }
}

/// A series' line counts per period.
fn lines_into(run: &[Entry], periods: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(periods, 0.0);
    for e in run {
        out[e.1 as usize] = f64::from(e.2.lines);
    }
}

/// The context of a panel computed from its own series.
pub(super) fn panel_context(
    surge: Option<&Surge>,
    entries: &[Entry],
    periods: usize,
    work: &mut Work,
) -> PanelContext {
    work.index(entries);
    let prior = match surge {
        Some(surge) => {
            let panel = Panel::build(work.keys.len(), periods, &work.panel_entries);
            pooled_prior(surge, entries, periods, work, &panel)
        }
        None => Prior::default(),
    };
    PanelContext {
        prior,
        typical: typical_of(entries),
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
        let (settings, grid) = (self.settings, self.grid);
        let PanelCells {
            hs6,
            mask,
            kind,
            entries,
        } = *p;
        work.index(entries);
        if work.keys.is_empty() {
            return;
        }
        *out.series.entry(kind).or_default() += work.keys.len() as u64;
        let panel = Panel::build(work.keys.len(), grid.len, &work.panel_entries);
        if panel.is_dense() {
            out.dense += 1;
        } else {
            out.sparse += 1;
        }
        if let Some(surge) = &settings.surge {
            let prior = match context {
                Some(c) => c.prior,
                None => pooled_prior(surge, entries, grid.len, work, &panel),
            };
            for s in 0..work.keys.len() {
                let run = &entries[work.offsets[s]..work.offsets[s + 1]];
                if !surge.may_judge(run.len()) {
                    // Too few periods with a line to ever be judged: counted, not walked.
                    surge.count_unwalked(grid.len, &mut out.counts);
                    continue;
                }
                panel.row_into(s, &mut work.row);
                lines_into(run, grid.len, &mut work.line_row);
                work.flags.clear();
                let series = Series {
                    amounts: &work.row,
                    lines: &work.line_row,
                    prior,
                    from: self.from,
                };
                surge.judge_series(
                    &series,
                    |t| grid.complete(t),
                    &mut work.scratch,
                    &mut out.counts,
                    &mut work.flags,
                );
                for f in &work.flags {
                    let agg = run
                        .binary_search_by_key(&(f.t as u32), |e| e.1)
                        .map_or(CellAgg::default(), |i| run[i].2);
                    out.findings
                        .push(self.surge_finding(hs6, mask, kind, work.keys[s], f, &agg));
                }
            }
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
        for (s, &key) in work.keys.iter().enumerate() {
            let first = entries[work.offsets[s]];
            if kind == SeriesKind::Importer {
                out.first_seen.push(FirstSeen {
                    importer: key as u32,
                    hs6,
                    families: nov.families & mask,
                    period: first.1 as usize,
                    agg: first.2,
                    typical,
                });
                continue;
            }
            let name = DetectorKind::NewOrigin.name();
            if (first.1 as usize) < nov.burn_in {
                *out.novelty_skipped.entry((name, true)).or_default() += 1;
            } else if !novelty_passes(&nov.config, first.2.amount.value(), typical.as_ref()) {
                *out.novelty_skipped.entry((name, false)).or_default() += 1;
            } else {
                let seen = FirstSeen {
                    importer: NO_SYMBOL,
                    hs6,
                    families: nov.families & mask,
                    period: first.1 as usize,
                    agg: first.2,
                    typical,
                };
                out.findings
                    .push(self.novelty_finding(DetectorKind::NewOrigin, &seen, key));
            }
        }
    }
}

/// Fold consecutive entries with the same series and period.
fn fold(entries: &mut Vec<Entry>) {
    entries.dedup_by(|next, kept| {
        let same = (next.0, next.1) == (kept.0, kept.1);
        if same {
            kept.2.add(&next.2);
        }
        same
    });
}

/// Resolve first appearances per (importer, family) across HS6 codes, and report
/// those after the burn-in.
fn first_time_findings(
    mut seen: Vec<FirstSeen>,
    nov: &Novelty,
    names: &Names<'_>,
    findings: &mut Vec<Finding>,
    summary: &mut VolumeSummary,
) {
    seen.sort_by_key(|a| (a.importer, a.period, a.hs6));
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
            let is_first =
                (0..64).any(|bit| s.families & (1 << bit) != 0 && first[bit] == s.period);
            if !is_first {
                continue;
            }
            if s.period < nov.burn_in {
                *summary
                    .first_appearances_in_burn_in
                    .entry(name.into())
                    .or_default() += 1;
            } else if !novelty_passes(&nov.config, s.agg.amount.value(), s.typical.as_ref()) {
                *summary
                    .first_appearances_below_min_amount
                    .entry(name.into())
                    .or_default() += 1;
            } else {
                findings.push(names.novelty_finding(
                    DetectorKind::FirstTimeImporter,
                    s,
                    u64::from(importer),
                ));
            }
        }
        at = end;
    }
}

/// Group split-shipment candidates and report the groups that add up.
fn split_findings(lines: &[SplitLine], names: &Names<'_>, findings: &mut Vec<Finding>) {
    let settings = names.settings;
    let window = |day: i32| match settings.split_window {
        SplitWindow::Day => day,
        SplitWindow::Week => period_start(PeriodKind::Week, period_id(PeriodKind::Week, day)),
    };
    let mut sorted: Vec<(u32, u64, u16, i32, f64)> = lines
        .iter()
        .map(|l| (l.importer, l.hs6, l.threshold, window(l.day), l.amount))
        .collect();
    sorted.sort_by_key(|a| (a.0, a.1, a.2, a.3));
    let mut at = 0;
    while at < sorted.len() {
        let key = (sorted[at].0, sorted[at].1, sorted[at].2, sorted[at].3);
        let end = at + sorted[at..].partition_point(|l| (l.0, l.1, l.2, l.3) == key);
        let group = &sorted[at..end];
        at = end;
        let restrict = settings.restrict;
        if restrict != 0 && names.watch.mask_of(HsCode(key.1)) & restrict == 0 {
            continue;
        }
        let threshold = settings.split[key.2 as usize].amount;
        let total: f64 = group.iter().map(|l| l.4).sum();
        if group.len() < settings.split_min_lines || total < threshold {
            continue;
        }
        findings.push(names.split_finding(key.0, key.1, key.3, group.len(), total, threshold));
    }
}

impl Names<'_> {
    fn key_parts(
        &self,
        kind: SeriesKind,
        key: u64,
    ) -> (Option<String>, Option<String>, Option<String>) {
        let c = self.cells;
        match kind {
            SeriesKind::Importer => (Some(c.importers.name(key as u32).to_string()), None, None),
            SeriesKind::Origin => (None, Some(Code(key).to_text()), None),
            SeriesKind::Office => (None, None, Some(c.offices.name(key as u32).to_string())),
            SeriesKind::Hs6 => (None, None, None),
        }
    }

    fn group_key(
        hs6: &str,
        kind: SeriesKind,
        parts: &(Option<String>, Option<String>, Option<String>),
    ) -> String {
        let mut s = format!("hs6={hs6}");
        let (i, o, f) = parts;
        match kind {
            SeriesKind::Importer => {
                s.push_str(&format!("|importer={}", i.as_deref().unwrap_or("")))
            }
            SeriesKind::Origin => s.push_str(&format!("|origin={}", o.as_deref().unwrap_or(""))),
            SeriesKind::Office => s.push_str(&format!("|office={}", f.as_deref().unwrap_or(""))),
            SeriesKind::Hs6 => {}
        }
        s
    }

    #[allow(clippy::too_many_arguments)]
    fn base(
        &self,
        detector: DetectorKind,
        hs6: u64,
        kind: SeriesKind,
        key: u64,
        period_start: i32,
        period: &'static str,
        observed: f64,
        agg: &CellAgg,
        explanation: String,
    ) -> Finding {
        let hs = super::cells::hs6_text(hs6);
        let parts = self.key_parts(kind, key);
        let measure = self.settings.measure;
        Finding {
            detector: detector.name(),
            detector_id: detector.id(),
            declaration_id: None,
            line_no: None,
            date: None,
            office: parts.2.clone(),
            importer_id: parts.0.clone(),
            origin: parts.1.clone(),
            hs_code: hs.clone(),
            hs6: hs.clone(),
            unit: None,
            quantity: (measure == VolumeMeasure::Quantity).then_some(observed),
            net_mass_kg: (measure == VolumeMeasure::NetMass).then_some(observed),
            customs_value: Some(agg.value.value()),
            measure: measure.name(),
            observed,
            baseline_median: f64::NAN,
            baseline_mad: None,
            baseline_q1: None,
            baseline_q3: None,
            group_level: kind.name().to_string(),
            group_key: Self::group_key(&hs, kind, &parts),
            group_size: 0,
            score: 0.0,
            direction: Direction::High.name(),
            value_gap: None,
            watch_family: self.watch.families_of(HsCode(hs6)),
            series_key: Some(kind.column_value()),
            period_start: Some(period_start),
            period: Some(period),
            history_len: None,
            explanation,
            locator: (u32::MAX, 0),
        }
    }

    fn surge_finding(
        &self,
        hs6: u64,
        mask: u64,
        kind: SeriesKind,
        key: u64,
        f: &SeriesFlag,
        agg: &CellAgg,
    ) -> Finding {
        let g = &self.grid;
        let w = &f.window;
        let measure = self.settings.measure.name().replace('_', " ");
        let median = f.baseline_median();
        let ratio = format!("{:.1}x", f.observed / median);
        let active = match f.scale {
            FlagScale::LnActive => format!(
                " ({} active, with a median of {} lines)",
                w.count,
                sig(f.lines_median)
            ),
            FlagScale::Amount => String::new(),
        };
        let mut explanation = format!(
            "{measure} {} in the {} {} is {ratio} the median {} of the previous {} {}s{active} \
             (robust z {:.1}; {} lines, value {})",
            sig(f.observed),
            g.label(),
            format_ymd(g.start(f.t)),
            sig(median),
            w.len,
            g.kind.name(),
            if f.direction == Direction::Low {
                -f.score
            } else {
                f.score
            },
            agg.lines,
            sig(agg.value.value()),
        );
        if f.episode > 1 {
            explanation.push_str(&format!(
                "; one episode of {} consecutive {}s",
                f.episode,
                g.kind.name()
            ));
        }
        if mask != 0 {
            explanation.push_str("; in a watched family");
        }
        let mut out = self.base(
            DetectorKind::Surge,
            hs6,
            kind,
            key,
            g.start(f.t),
            g.kind.name(),
            f.observed,
            agg,
            String::new(),
        );
        explanation = format!("{}: {explanation}", out.group_key);
        out.baseline_median = median;
        out.baseline_mad = Some(w.mad);
        out.group_size = w.len as u64;
        out.score = f.score;
        out.direction = f.direction.name();
        out.history_len = Some(f.t as u64);
        out.explanation = explanation;
        out
    }

    fn novelty_finding(&self, detector: DetectorKind, s: &FirstSeen, key: u64) -> Finding {
        let g = &self.grid;
        let kind = match detector {
            DetectorKind::NewOrigin => SeriesKind::Origin,
            _ => SeriesKind::Importer,
        };
        let families = self.watch.names_of(s.families).unwrap_or_default();
        let measure = self.settings.measure.name().replace('_', " ");
        let mut out = self.base(
            detector,
            s.hs6,
            kind,
            key,
            g.start(s.period),
            g.kind.name(),
            s.agg.amount.value(),
            &s.agg,
            String::new(),
        );
        let who = match detector {
            DetectorKind::NewOrigin => format!(
                "first line of origin {} for hs6 {} (in a watched family: {families})",
                out.origin.as_deref().unwrap_or(""),
                out.hs6
            ),
            _ => format!(
                "first line of importer {} in a watched family ({families}): hs6 {}",
                out.importer_id.as_deref().unwrap_or(""),
                out.hs6
            ),
        };
        let mut explanation = format!(
            "{who}, {measure} {} in {} lines in the {} {}, after {} {}s of data without one",
            sig(s.agg.amount.value()),
            s.agg.lines,
            g.label(),
            format_ymd(g.start(s.period)),
            s.period,
            g.kind.name(),
        );
        if let Some(t) = &s.typical {
            explanation.push_str(&format!(
                "; the median of the hs6's {} non-zero {} cells is {}",
                t.count,
                kind.name(),
                sig(t.median.exp())
            ));
            out.baseline_median = t.median.exp();
            out.baseline_mad = Some(t.mad);
            out.group_size = t.count;
        }
        out.score = novelty_score(s.agg.amount.value(), s.typical.as_ref());
        out.history_len = Some(s.period as u64);
        out.explanation = explanation;
        out
    }

    fn split_finding(
        &self,
        importer: u32,
        hs6: u64,
        start: i32,
        lines: usize,
        total: f64,
        threshold: f64,
    ) -> Finding {
        let s = self.settings;
        let period = s.split_window.name();
        let agg = CellAgg::default();
        let mut out = self.base(
            DetectorKind::SplitShipment,
            hs6,
            SeriesKind::Importer,
            u64::from(importer),
            start,
            period,
            total,
            &agg,
            String::new(),
        );
        out.customs_value = None;
        out.baseline_median = threshold;
        out.group_size = lines as u64;
        out.score = split_score(lines, s.split_min_lines);
        out.explanation = format!(
            "importer {} declared {lines} lines of hs6 {} in the {period} of {}, each within \
             {:.0}% under the threshold {} and together {} ({:.1}x the threshold)",
            out.importer_id.as_deref().unwrap_or(""),
            out.hs6,
            format_ymd(start),
            s.split_band * 100.0,
            sig(threshold),
            sig(total),
            total / threshold
        );
        out
    }
}
