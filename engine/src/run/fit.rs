//! The fit stage (`tradescan fit`): the history reduced to comparison keys, measures
//! and volume cells, put in canonical order, and the statistics a nightly scan reads
//! computed from it (see [`crate::store`] for the folder it is written to).

use rayon::prelude::*;

use super::fingerprint::input_records;
use super::measure::{MeasureOptions, UnitMeasures, measure_unit};
use crate::baseline::{FineKey, NO_GROUP, StoredGroups};
use crate::detect::{Surge, SurgeWork, panel_context};
use crate::error::Result;
use crate::kernels::hash::{FxHashMap, FxHashSet};
use crate::scan::ScanPlan;
use crate::series::cells::{
    CellAgg, CellKey, CellOptions, CellOrder, CellSymbols, NO_SYMBOL, UnitCells, for_each_block,
    merge,
};
use crate::series::entries::{Entry, SeriesIndex, project};
use crate::series::grid::Grid;
use crate::series::symbols::SymbolTable;
use crate::series::{CellDims, PeriodKind, SeriesKind};
use crate::settings::FitSettings;
use crate::store::series::{PanelRecord, StoredEntry, StoredSeries, kind_index};
use crate::store::{Baseline, BaselineMeta, BaselineStats, FORMAT, StoredCell, StoredLine};

/// Build a baseline from the planned inputs, on top of `previous` when updating,
/// keeping the lines from `from` on (already rounded down to the start of its period).
pub fn fit(
    plan: &ScanPlan,
    previous: Option<Baseline>,
    from: Option<i32>,
    s: &FitSettings,
    pool: &rayon::ThreadPool,
) -> Result<Baseline> {
    let period = s.series.period;
    let window = (from, None);
    let opts = MeasureOptions {
        denominator: s.denominator,
        window,
        kg_per_unit: true,
        batch_size: s.batch_size,
        volume: Some(CellOptions {
            period,
            measure: s.series.measure,
            split: Vec::new(),
            split_band: 0.0,
            window,
            plausible: s.series.plausible,
            dims: CellDims::ALL,
        }),
        price: true,
        keep_dates: true,
    };
    let syms = CellSymbols::default();
    let mut units: Vec<UnitMeasures> = pool.install(|| {
        plan.units
            .par_iter()
            .enumerate()
            .map(|u| measure_unit(plan, u, &opts, &syms))
            .collect::<Result<Vec<_>>>()
    })?;
    let mut lines = Vec::new();
    for u in &units {
        for (row, &gid) in u.gid.iter().enumerate() {
            if gid == NO_GROUP {
                continue;
            }
            lines.push(StoredLine {
                key: u.keys[gid as usize],
                date: u.dates[row],
                uv: u.uv[row],
                kgpu: u.kgpu.get(row).copied().unwrap_or(f64::NAN),
            });
        }
    }
    let unit_cells: Vec<UnitCells> = units.iter_mut().filter_map(|u| u.cells.take()).collect();
    drop(units);
    let merged = pool.install(|| merge(unit_cells, syms, (&[], &[]), CellOrder::Key));
    let name = |t: &SymbolTable, s: u32| (s != NO_SYMBOL).then(|| t.name(s).to_string());
    let mut cells: Vec<StoredCell> = (merged.shards.iter().flatten().flatten())
        .map(|(k, a)| StoredCell {
            key: CellKey {
                importer: NO_SYMBOL,
                office: NO_SYMBOL,
                ..*k
            },
            importer: name(&merged.importers, k.importer),
            office: name(&merged.offices, k.office),
            agg: *a,
        })
        .collect();
    drop(merged);
    let mut records = input_records(plan, pool)?;
    if let Some(p) = previous {
        lines.extend(p.lines);
        cells.extend(p.cells);
        let new: std::collections::BTreeSet<String> =
            records.iter().map(|r| r.path.clone()).collect();
        records.extend(p.meta.inputs.into_iter().filter(|r| !new.contains(&r.path)));
    }
    records.sort_by(|a, b| a.path.cmp(&b.path));
    let mut b = Baseline {
        meta: BaselineMeta {
            format: FORMAT,
            id: String::new(),
            tool: format!("tradescan {}", env!("CARGO_PKG_VERSION")),
            settings: s.recorded.clone(),
            from: None,
            day_range: None,
            lines: 0,
            cells: 0,
            inputs: records,
        },
        lines,
        cells,
        stats: BaselineStats::default(),
    };
    b.canonicalise(from, period);
    b.stats = stats(&b, s, pool);
    Ok(b)
}

/// The statistics scoring reads, from a canonical history.
fn stats(b: &Baseline, s: &FitSettings, pool: &rayon::ThreadPool) -> BaselineStats {
    let levels = &s.levels;
    let history = history_measures(b);
    let (uv, kg) = pool.install(|| {
        let gid = history.gid.as_slice();
        (
            StoredGroups::build(
                &[(gid, &history.uv)],
                &history.keys,
                levels,
                s.tiers.as_ref(),
            ),
            StoredGroups::build(&[(gid, &history.kgpu)], &history.keys, levels, None),
        )
    });
    drop(history);
    let cells = b
        .cells
        .iter()
        .map(|c| (c.key, c.importer.as_deref(), c.office.as_deref(), c.agg));
    let volume = pool.install(|| {
        stored_series(
            cells,
            b.meta.day_range,
            s.series.period,
            &s.series.kinds,
            Some(&s.surge),
        )
    });
    BaselineStats {
        meta: None,
        uv,
        kg,
        volume,
        read_ms: 0,
    }
}

/// The history lines as one measure unit: keys, group ids, ln measures.
fn history_measures(b: &Baseline) -> UnitMeasures {
    let mut m = UnitMeasures::default();
    let mut ids: FxHashMap<FineKey, u32> = FxHashMap::default();
    for l in &b.lines {
        let id = *ids.entry(l.key).or_insert_with(|| {
            m.keys.push(l.key);
            (m.keys.len() - 1) as u32
        });
        m.gid.push(id);
        m.uv.push(l.uv);
        m.kgpu.push(l.kgpu);
    }
    m
}

/// The stored series of history cells given in canonical order, with importer and
/// office names; `day_range` is the history's.
fn stored_series<'a>(
    cells: impl Iterator<Item = (CellKey, Option<&'a str>, Option<&'a str>, CellAgg)> + Clone,
    day_range: Option<(i32, i32)>,
    period: PeriodKind,
    kinds: &[SeriesKind],
    surge: Option<&Surge>,
) -> StoredSeries {
    // Names in the order a unit interns them: the ids a night's merge reproduces.
    let mut out = StoredSeries {
        day_range,
        ..Default::default()
    };
    let (mut imp, mut off): (FxHashSet<&str>, FxHashSet<&str>) = Default::default();
    for (_, i, o, _) in cells.clone() {
        if let Some(i) = i.filter(|i| imp.insert(i)) {
            out.importers.push(i.to_string());
        }
        if let Some(o) = o.filter(|o| off.insert(o)) {
            out.offices.push(o.to_string());
        }
    }
    let Some(range) = day_range else {
        return out;
    };
    let syms = CellSymbols::default();
    let history = UnitCells::from_stored(cells, day_range, &syms);
    // The names in the order given: the symbols a night's merge gives them.
    let merged = merge(
        vec![history],
        syms,
        (&out.importers, &out.offices),
        CellOrder::Key,
    );
    let grid = Grid::new(period, range);
    // Per shard: its panels (rows counted within the shard) and their rows.
    let shards: Vec<(Vec<PanelRecord>, Vec<StoredEntry>)> = merged
        .shards
        .par_iter()
        .map(|shard| {
            let (mut index, mut work) = (SeriesIndex::default(), SurgeWork::new(surge));
            let (mut panels, mut rows) = (Vec::new(), Vec::new());
            let mut entries: Vec<Entry> = Vec::new();
            for_each_block(shard, |hs6, block| {
                for &kind in kinds {
                    project(block, kind, grid.first, &mut entries);
                    if entries.is_empty() {
                        continue;
                    }
                    let context = panel_context(surge, &entries, grid.len, &mut index, &mut work);
                    let first = rows.len();
                    rows.extend(entries.iter().map(|e| StoredEntry {
                        key: e.0,
                        period: grid.first + e.1 as i32,
                        agg: e.2,
                    }));
                    panels.push(PanelRecord {
                        kind,
                        hs6,
                        context,
                        rows: (first, rows.len()),
                    });
                }
            });
            (panels, rows)
        })
        .collect();
    drop(merged);
    // Rows shard after shard (each shard's freed as it is copied); panels by
    // (kind, HS6), each pointing at its rows.
    out.rows
        .reserve_exact(shards.iter().map(|s| s.1.len()).sum::<usize>());
    for (panels, rows) in shards {
        let offset = out.rows.len();
        out.rows.extend(rows);
        out.panels.extend(panels.into_iter().map(|p| PanelRecord {
            rows: (p.rows.0 + offset, p.rows.1 + offset),
            ..p
        }));
    }
    out.panels.sort_by_key(|p| (kind_index(p.kind), p.hs6));
    out
}
