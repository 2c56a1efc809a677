//! The volume history a stored baseline carries for scoring new data
//! ([`super::analyse_against`]): every series of every key kind, already projected and
//! folded, and each panel's context (pooled spreads, typical amounts), so a nightly
//! scan reads the series the night touches instead of re-forming every series from
//! the history's cells.

use rayon::prelude::*;

use super::analyse::{Entry, Grid, PanelContext, Work, panel_context, project};
use super::cells::{CellAgg, CellKey, UnitCells, merge};
use super::{PeriodKind, SeriesKind};
use crate::detect::Surge;
use crate::kernels::hash::FxHashSet;

/// One stored series cell.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StoredEntry {
    /// Series key within its panel: importer or office symbol, origin code bits, or 0.
    pub key: u64,
    /// Period id.
    pub period: i32,
    /// Sums.
    pub agg: CellAgg,
}

/// One stored panel (HS6 and key kind) and where its series are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanelRecord {
    /// Key kind.
    pub kind: SeriesKind,
    /// HS6 bits.
    pub hs6: u64,
    /// Pooled spreads and typical amounts of the history's panel.
    pub context: PanelContext,
    /// Its rows in [`VolumeState::rows`].
    pub rows: (usize, usize),
}

/// A panel's view.
#[derive(Debug, Clone, Copy)]
pub struct StoredPanel<'a> {
    /// HS6 bits.
    pub hs6: u64,
    /// History context.
    pub context: PanelContext,
    rows: &'a [StoredEntry],
}

impl<'a> StoredPanel<'a> {
    /// Every row, sorted by (key, period).
    pub fn rows(&self) -> &'a [StoredEntry] {
        self.rows
    }

    /// The rows of one series (empty when the history does not have it).
    pub fn series(&self, key: u64) -> &'a [StoredEntry] {
        let lo = self.rows.partition_point(|r| r.key < key);
        let len = self.rows[lo..].partition_point(|r| r.key == key);
        &self.rows[lo..lo + len]
    }
}

/// The stored volume history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VolumeState {
    /// First and last day of the history.
    pub day_range: Option<(i32, i32)>,
    /// Importer names, in the order the history's symbols were drawn.
    pub importers: Vec<String>,
    /// Office names, likewise.
    pub offices: Vec<String>,
    /// Panels sorted by (kind, HS6).
    pub panels: Vec<PanelRecord>,
    /// Series rows: each panel's rows together, sorted by (key, period).
    pub rows: Vec<StoredEntry>,
}

fn kind_index(kind: SeriesKind) -> usize {
    SeriesKind::ALL
        .iter()
        .position(|&k| k == kind)
        .unwrap_or(SeriesKind::ALL.len())
}

impl VolumeState {
    /// Build the state of history cells given in canonical order, with importer and
    /// office names; `day_range` is the history's.
    pub fn build<'a>(
        cells: impl Iterator<Item = (CellKey, Option<&'a str>, Option<&'a str>, CellAgg)> + Clone,
        day_range: Option<(i32, i32)>,
        period: PeriodKind,
        kinds: &[SeriesKind],
        surge: Option<&Surge>,
    ) -> VolumeState {
        // Names in the order a unit interns them: the ids a night's merge reproduces.
        let mut out = VolumeState {
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
        let merged = merge(vec![UnitCells::from_stored(cells, day_range)]);
        let grid = Grid::new(period, range);
        // Per shard: its panels (rows counted within the shard) and their rows.
        let shards: Vec<(Vec<PanelRecord>, Vec<StoredEntry>)> = merged
            .shards
            .par_iter()
            .map(|shard| {
                let mut work = Work::new(surge);
                let (mut panels, mut rows) = (Vec::new(), Vec::new());
                let mut entries: Vec<Entry> = Vec::new();
                let mut start = 0;
                while start < shard.len() {
                    let hs6 = shard[start].0.hs6;
                    let end = start + shard[start..].partition_point(|c| c.0.hs6 == hs6);
                    for &kind in kinds {
                        project(&shard[start..end], kind, grid.first, &mut entries);
                        if entries.is_empty() {
                            continue;
                        }
                        let context = panel_context(surge, &entries, grid.len, &mut work);
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
                    start = end;
                }
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

    /// The stored panel of `kind` and `hs6`.
    pub fn panel(&self, kind: SeriesKind, hs6: u64) -> Option<StoredPanel<'_>> {
        let key = (kind_index(kind), hs6);
        let i = self
            .panels
            .binary_search_by_key(&key, |p| (kind_index(p.kind), p.hs6))
            .ok()?;
        self.view(&self.panels[i])
    }

    /// Every stored panel of `kind`, by HS6.
    pub fn panels_of(&self, kind: SeriesKind) -> impl Iterator<Item = StoredPanel<'_>> {
        let k = kind_index(kind);
        let lo = self.panels.partition_point(|p| kind_index(p.kind) < k);
        let hi = self.panels.partition_point(|p| kind_index(p.kind) <= k);
        self.panels[lo..hi].iter().filter_map(|p| self.view(p))
    }

    fn view(&self, p: &PanelRecord) -> Option<StoredPanel<'_>> {
        Some(StoredPanel {
            hs6: p.hs6,
            context: p.context,
            rows: self.rows.get(p.rows.0..p.rows.1)?,
        })
    }

    /// A cell-less unit holding the history's importer and office names in their
    /// order: merged first, it gives the new cells the history's symbols.
    pub fn symbol_unit(&self) -> UnitCells {
        let mut u = UnitCells::from_stored(std::iter::empty(), None);
        u.intern_names(
            self.importers.iter().map(String::as_str),
            self.offices.iter().map(String::as_str),
        );
        u
    }
}
