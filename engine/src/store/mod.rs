//! Persisted baselines: `tradescan fit`, `scan --baseline`, `fit --update`.
//!
//! A baseline folder holds the history reduced to what the detectors read, twice: as
//! history rows (to update the baseline) and as the statistics a nightly scan needs
//! (so scoring a night reads no history row):
//!
//! - `lines.parquet`: one row per history line with a comparison key: full HS code,
//!   origin, unit and basis (packed), acceptance date, ln unit value and ln kg per unit;
//! - `cells.parquet`: the volume cells (HS6, importer, origin, office, period) with
//!   their fixed-point sums of amount and value and their line counts;
//! - `groups.parquet`: every comparison group of the history at every level of the
//!   fallback chain, per measure, with its count and exact order statistics, each
//!   group's price tiers in the rows right after it (`tier` 1, 2, ...; the group's own
//!   row has `tier` 0);
//! - `series.parquet`: every volume series of every key kind, one row per non-empty
//!   period (series key, period, sums), panel after panel; `panels.parquet`: each
//!   panel (key kind and HS6) with its rows, pooled spreads and typical amounts;
//!   `symbols.parquet`: the importer and office names in the order of their ids;
//! - `baseline.json`: format version, id (fingerprint of the tables), tool, the
//!   settings the stored values depend on, the window, the first and last day, and
//!   every input file with its fingerprint.
//!
//! **Scoring with a baseline** (`scan NEW --baseline DIR`): new lines are judged
//! against the history's groups (resolved through the fallback chain with the
//! history's counts), and the volume series the new lines touch are the stored series
//! plus the new cells, judged over their whole range with the history's pooled spreads
//! and typical amounts; only the new lines and the periods they touch are reported.
//! This differs from one `scan` over history and new files in two ways, both by
//! design: the new lines are not part of the groups and panel statistics they are
//! judged against (a night cannot shift its own baseline), and series the new data does
//! not touch are not judged (a series that falls silent is a drop for a full scan).
//!
//! **Updating** (`fit --update DIR NEW... [--from D]`): stored and new rows are put
//! together, rows before the window start dropped, and everything is written in one
//! canonical order, so the result is byte for byte the baseline a fresh `fit` over the
//! same files and window writes. The window start is rounded down to the start of its

mod read;
pub mod series;
mod write;

use serde::{Deserialize, Serialize};

use crate::baseline::{FineKey, StoredGroups};
use crate::kernels::codes::Code;
use crate::report::InputRecord;
use crate::series::cells::{CellAgg, CellKey};
use crate::series::{PeriodKind, period_id, period_start};
use crate::store::series::StoredSeries;

/// Layout version of a baseline folder (5: the count model of each volume panel in
/// `series.parquet`).
pub const FORMAT: u32 = 5;

/// `baseline.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineMeta {
    /// Layout version ([`FORMAT`]).
    pub format: u32,
    /// Fingerprint of the tables.
    pub id: String,
    /// Tool that wrote it.
    pub tool: String,
    /// The settings stored values depend on: denominator rule, volume period and
    /// measure (TOML).
    pub settings: String,
    /// First day kept (`YYYY-MM-DD`), when a window was set.
    pub from: Option<String>,
    /// First and last acceptance day of the stored lines.
    pub day_range: Option<(i32, i32)>,
    /// Stored history lines.
    pub lines: u64,
    /// Stored volume cells.
    pub cells: u64,
    /// Every input file ever folded in, in path order.
    pub inputs: Vec<InputRecord>,
}

/// One stored history line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredLine {
    /// Comparison key.
    pub key: FineKey,
    /// Acceptance date (days since 1970-01-01).
    pub date: i32,
    /// ln unit value (NaN when none).
    pub uv: f64,
    /// ln kg per unit (NaN when none).
    pub kgpu: f64,
}

/// One stored volume cell.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCell {
    /// Key (importer and office symbols unused: the names below hold them).
    pub key: CellKey,
    /// Importer name.
    pub importer: Option<String>,
    /// Office name.
    pub office: Option<String>,
    /// Sums.
    pub agg: CellAgg,
}

/// A baseline in memory: the history rows and the statistics derived from them.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// `baseline.json`.
    pub meta: BaselineMeta,
    /// History lines, in canonical order.
    pub lines: Vec<StoredLine>,
    /// Volume cells, in canonical order.
    pub cells: Vec<StoredCell>,
    /// What scoring reads (computed by [`crate::Engine::fit`]).
    pub stats: BaselineStats,
}

/// What scoring new data against a baseline reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BaselineStats {
    /// `baseline.json`.
    pub meta: Option<BaselineMeta>,
    /// History groups of ln unit values, per level.
    pub uv: StoredGroups,
    /// History groups of ln kg per unit, per level.
    pub kg: StoredGroups,
    /// Volume series and panels.
    pub volume: StoredSeries,
    /// Milliseconds [`BaselineStats::read`] took (0 when computed in memory).
    pub read_ms: u64,
}

impl Baseline {
    /// Put rows in canonical order, fold equal cells, drop rows before `from` (rounded
    /// down to its period's start), and fill in the counts and the day range.
    pub fn canonicalise(&mut self, from: Option<i32>, period: PeriodKind) {
        let from = from.map(|d| period_start(period, period_id(period, d)));
        if let Some(f) = from {
            self.lines.retain(|l| l.date >= f);
            let first = period_id(period, f);
            self.cells.retain(|c| c.key.period >= first);
        }
        self.lines.sort_by(|a, b| {
            (a.key, a.date, a.uv.to_bits(), a.kgpu.to_bits()).cmp(&(
                b.key,
                b.date,
                b.uv.to_bits(),
                b.kgpu.to_bits(),
            ))
        });
        // Borrowed keys: no string is cloned per comparison.
        fn order(c: &StoredCell) -> (u64, Option<&str>, Code, Option<&str>, i32) {
            (
                c.key.hs6,
                c.importer.as_deref(),
                c.key.origin,
                c.office.as_deref(),
                c.key.period,
            )
        }
        self.cells.sort_by(|a, b| order(a).cmp(&order(b)));
        self.cells.dedup_by(|next, kept| {
            let same = order(next) == order(kept);
            if same {
                kept.agg.add(&next.agg);
            }
            same
        });
        self.meta.lines = self.lines.len() as u64;
        self.meta.cells = self.cells.len() as u64;
        let dates = self
            .lines
            .iter()
            .map(|l| l.date)
            .filter(|&d| d != crate::kernels::arrow_edge::NULL_DATE);
        self.meta.day_range = dates.fold(None, |r, d| match r {
            None => Some((d, d)),
            Some((lo, hi)) => Some((lo.min(d), hi.max(d))),
        });
        self.meta.from = from.map(crate::kernels::dates::format_ymd);
    }
}
