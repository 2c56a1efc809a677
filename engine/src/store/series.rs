//! The volume history a stored baseline carries for scoring new data: every series of
//! every key kind, already projected and folded, and each panel's context (pooled
//! spreads, typical amounts), so a nightly scan reads the series the night touches
//! instead of re-forming every series from the history's cells. `tradescan fit`
//! computes it (`run/fit.rs`); `store/read.rs` and `store/write.rs` persist it.

use crate::series::SeriesKind;
use crate::series::cells::CellAgg;
use crate::series::entries::PanelContext;

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
    /// Its rows in [`StoredSeries::rows`].
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
pub struct StoredSeries {
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

pub(crate) fn kind_index(kind: SeriesKind) -> usize {
    SeriesKind::ALL
        .iter()
        .position(|&k| k == kind)
        .unwrap_or(SeriesKind::ALL.len())
}

impl StoredSeries {
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
}
