//! A panel's series as the volume detectors read them: the cells of one HS6 projected
//! onto one key kind ([`Entry`]), indexed by series ([`SeriesIndex`]), and the panel's
//! context ([`PanelContext`]): pooled spreads and typical amounts.

use super::SeriesKind;
use super::cells::{CellAgg, CellKey, NO_SYMBOL};
use super::panel::Panel;
use crate::kernels::counts::GammaPrior;
use crate::kernels::order_stats::{OrderStats, order_stats};

/// One series cell of a key kind: (series key, period index, sums).
pub type Entry = (u64, u32, CellAgg);

/// The series key of a cell for a key kind (`None`: the cell has no such key).
#[inline]
pub fn series_key(kind: SeriesKind, k: &CellKey) -> Option<u64> {
    match kind {
        SeriesKind::Importer => (k.importer != NO_SYMBOL).then_some(u64::from(k.importer)),
        SeriesKind::Origin => (!k.origin.is_none()).then_some(k.origin.0),
        SeriesKind::Office => (k.office != NO_SYMBOL).then_some(u64::from(k.office)),
        SeriesKind::Hs6 => Some(0),
    }
}

/// The cells of one HS6 block (in runs) as series entries of one key kind: projected,
/// sorted and folded (fixed-point sums: any order gives the same bits). Periods are
/// counted from `first`.
pub fn project(
    block: &[&[(CellKey, CellAgg)]],
    kind: SeriesKind,
    first: i32,
    entries: &mut Vec<Entry>,
) {
    entries.clear();
    entries.extend(
        (block.iter().flat_map(|run| run.iter()))
            .filter_map(|(k, a)| series_key(kind, k).map(|s| (s, (k.period - first) as u32, *a))),
    );
    entries.sort_unstable_by_key(|e| (e.0, e.1));
    fold(entries);
}

/// Fold consecutive entries with the same series and period.
pub fn fold(entries: &mut Vec<Entry>) {
    entries.dedup_by(|next, kept| {
        let same = (next.0, next.1) == (kept.0, kept.1);
        if same {
            kept.2.add(&next.2);
        }
        same
    });
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

/// What a panel tells about one of its series beyond the series' own history: the
/// pooled spreads a short window's spread is shrunk towards, and the count model of
/// its occasional series.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Prior {
    /// Median over the panel's series of the spread of their active ln amounts.
    pub ln_amount: f64,
    /// Median over the panel's series of the spread of their active line counts.
    pub lines: f64,
    /// The gamma distribution of the panel's series rates, in clusters (line counts
    /// divided by `cluster_size`) per period.
    pub rates: GammaPrior,
    /// Lines come in declarations of several lines: the mean lines of a cluster, from
    /// the active periods of the panel's occasional series (one declaration in most of
    /// them; see `detect::surge`); at least 1 (0: not known, taken as 1).
    pub cluster_size: f64,
}

impl Prior {
    /// The mean cluster size, at least 1.
    pub fn cluster_size(&self) -> f64 {
        self.cluster_size.max(1.0)
    }
}

/// The typical ln amount of a panel's cells.
pub fn typical_of(entries: &[Entry]) -> Option<OrderStats> {
    let mut ln: Vec<f64> = entries
        .iter()
        .map(|e| e.2.amount.value())
        .filter(|&a| a > 0.0)
        .map(f64::ln)
        .collect();
    order_stats(&mut ln, &mut Vec::new())
}

/// A series' line counts per period.
#[inline]
pub fn lines_into(run: &[Entry], periods: usize, out: &mut Vec<f64>) {
    out.clear();
    out.resize(periods, 0.0);
    for e in run {
        out[e.1 as usize] = f64::from(e.2.lines);
    }
}

/// The series of a panel's sorted entries: their keys, where each starts, and the
/// panel's (series, period, amount) triples ([`crate::series::panel::Panel::build`]'s
/// input).
#[derive(Debug, Clone, Default)]
pub struct SeriesIndex {
    /// Series keys, ascending.
    pub keys: Vec<u64>,
    /// Start of each series in the entries, and the end of the last.
    pub offsets: Vec<usize>,
    /// (series, period, amount) per entry.
    pub panel_entries: Vec<(u32, u32, f64)>,
}

impl SeriesIndex {
    /// Index sorted entries.
    pub fn index(&mut self, entries: &[Entry]) {
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

    /// The entries of series `s`.
    #[inline]
    pub fn run<'e>(&self, entries: &'e [Entry], s: usize) -> &'e [Entry] {
        &entries[self.offsets[s]..self.offsets[s + 1]]
    }
}

/// One panel as the volume detectors read it: the series of one HS6 and key kind.
#[derive(Clone, Copy)]
pub struct PanelView<'a> {
    /// HS6 bits.
    pub hs6: u64,
    /// Watch families of the HS6.
    pub mask: u64,
    /// Key kind.
    pub kind: SeriesKind,
    /// Entries sorted by (series, period), one per pair.
    pub entries: &'a [Entry],
    /// The entries' series.
    pub index: &'a SeriesIndex,
    /// The amounts as a series x period panel.
    pub panel: &'a Panel,
}
