//! Per-unit aggregation of lines into series cells, and the merge of the units' cells
//! into shards by HS6.
//!
//! A cell is (HS6, importer, origin, office, period) with the summed amount, value and
//! line count. Each scan unit aggregates its own lines (one hash lookup per line) and
//! interns importer and office strings into its own symbol table; the merge assigns
//! global symbols in unit order and folds equal cells. Sums are fixed-point
//! ([`FixedSum`]), so they do not depend on how the input is cut into units, and ids
//! do not depend on the thread count.

use arrow::array::ArrayRef;
use arrow::error::ArrowError;
use rayon::prelude::*;

use super::symbols::{ColumnInterner, Renumber, SharedSymbols, SymbolTable};
use super::{CellDims, PeriodKind, VolumeMeasure, period_id};
use crate::kernels::arrow_edge::NULL_DATE;
use crate::kernels::codes::{Code, HsCode};
use crate::kernels::fixed::FixedSum;
use crate::kernels::intern::KeyIndex;

pub use super::symbols::{NO_SYMBOL, SHARDS};

/// A series cell key. `hs6` is the packed [`HsCode`] of the first 6 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct CellKey {
    /// HS6 ([`HsCode`] bits).
    pub hs6: u64,
    /// Importer symbol, [`NO_SYMBOL`] when absent.
    pub importer: u32,
    /// Origin, [`Code::NONE`] when absent or unusable.
    pub origin: Code,
    /// Office symbol, [`NO_SYMBOL`] when absent.
    pub office: u32,
    /// Period id ([`period_id`]).
    pub period: i32,
}

/// What a cell adds up, in order-independent fixed-point sums.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct CellAgg {
    /// Sum of the volume measure (missing or negative amounts count as 0).
    pub amount: FixedSum,
    /// Sum of customs values (missing or negative count as 0).
    pub value: FixedSum,
    /// Lines.
    pub lines: u32,
}

impl CellAgg {
    /// Add another cell's sums.
    pub fn add(&mut self, other: &CellAgg) {
        self.amount.add(other.amount);
        self.value.add(other.value);
        self.lines += other.lines;
    }
}

/// A split-shipment threshold: lines of codes under `prefix` whose amount is in
/// `[amount * (1 - band), amount)` are candidates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitThreshold {
    /// HS prefix.
    pub prefix: HsCode,
    /// Threshold amount, in the volume measure.
    pub amount: f64,
}

/// One line just under a split-shipment threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitLine {
    /// Importer symbol.
    pub importer: u32,
    /// HS6 bits.
    pub hs6: u64,
    /// Acceptance date (days since 1970-01-01).
    pub day: i32,
    /// Index of the threshold in the configuration.
    pub threshold: u16,
    /// The line's amount.
    pub amount: f64,
}

/// Options of the per-unit aggregation.
#[derive(Debug, Clone)]
pub struct CellOptions {
    /// Period cut.
    pub period: PeriodKind,
    /// Amount measure.
    pub measure: VolumeMeasure,
    /// Split-shipment thresholds (empty: no candidates are collected).
    pub split: Vec<SplitThreshold>,
    /// Split-shipment band below each threshold (0.2: within 20% under it).
    pub split_band: f64,
    /// Acceptance-date window (days since 1970-01-01, inclusive); lines outside it are
    /// left out (the run record counts them once, as `outside_date_window`).
    pub window: (Option<i32>, Option<i32>),
    /// Dates a series can hold (inclusive); lines dated outside are counted
    /// (`date_out_of_range`) and left out.
    pub plausible: (i32, i32),
    /// The key columns the cells keep.
    pub dims: CellDims,
}

/// The decoded columns of one batch the aggregation reads.
#[derive(Debug, Clone, Copy)]
pub struct LineColumns<'a> {
    /// HS codes.
    pub hs: &'a [HsCode],
    /// Origins.
    pub origin: &'a [Code],
    /// Acceptance dates ([`NULL_DATE`] when missing).
    pub dates: &'a [i32],
    /// Quantities (NaN when missing).
    pub quantity: &'a [f64],
    /// Net masses (NaN when missing).
    pub mass: &'a [f64],
    /// Customs values (NaN when missing).
    pub value: &'a [f64],
    /// Importer column, if the file has one.
    pub importer: Option<&'a ArrayRef>,
    /// Office column, if the file has one.
    pub office: Option<&'a ArrayRef>,
}

/// Which string column failed to intern.
#[derive(Debug)]
pub enum InternError {
    /// The importer column.
    Importer(ArrowError),
    /// The office column.
    Office(ArrowError),
}

/// One unit's cells, before the merge.
#[derive(Debug, Default)]
pub struct UnitCells {
    /// Cell ids of the unit's keys (taken from the thread's pool), the keys by id and
    /// their sums by id.
    index: KeyIndex<CellKey>,
    keys: Vec<CellKey>,
    aggs: Vec<CellAgg>,
    /// A batch's lines: key, sums and (once interned) cell id.
    batch_keys: Vec<CellKey>,
    batch_aggs: Vec<CellAgg>,
    batch_ids: Vec<u32>,
    /// The unit's cells by shard, once [`UnitCells::finish`] ran.
    shards: Vec<Vec<(CellKey, CellAgg)>>,
    importer_col: ColumnInterner,
    office_col: ColumnInterner,
    imp_buf: Vec<u32>,
    off_buf: Vec<u32>,
    /// The stamp of the unit's next name interning: unit index << 32 | place.
    at: u64,
    /// Lines just under a split-shipment threshold (provisional symbols).
    split: Vec<SplitLine>,
    /// First and last acceptance date of the lines placed in a series.
    pub day_range: Option<(i32, i32)>,
    /// Lines placed in a series.
    pub lines_used: u64,
    /// Lines without a date.
    pub missing_date: u64,
    /// Lines whose HS code has fewer than 6 digits (or none).
    pub short_hs_code: u64,
    /// Lines dated outside the plausible range.
    pub date_out_of_range: u64,
    /// Lines placed in a series whose amount was missing or negative.
    pub without_measure: u64,
}

impl UnitCells {
    /// Cells for a unit of `rows` lines. The key index comes from the thread's pool: a
    /// unit's index is as large as the unit, and allocating a fresh one per unit costs
    /// more in page faults than the aggregation itself. `unit` is the unit's place in
    /// the scan (names are numbered in the order units meet them).
    pub fn with_rows(rows: usize, unit: usize) -> UnitCells {
        let mut index = INDEX_POOL
            .with(|pool| pool.borrow_mut().take())
            .unwrap_or_default();
        index.clear();
        index.reserve(rows / 2);
        // A unit has at most one cell per line, and in customs data most lines are a
        // cell of their own (an importer rarely brings an HS6 twice in a week from the
        // same origin through the same office): room for all, so that the vectors never
        // grow by copying. Pages never written cost no memory.
        UnitCells {
            index,
            keys: Vec::with_capacity(rows),
            aggs: Vec::with_capacity(rows),
            at: (unit as u64) << 32,
            ..Default::default()
        }
    }

    /// Add one batch of lines, their importer and office names interned into `syms`.
    pub fn add_batch(
        &mut self,
        c: &LineColumns<'_>,
        opts: &CellOptions,
        syms: &CellSymbols,
    ) -> Result<(), InternError> {
        let n = c.hs.len();
        let fill = |col: Option<&ArrayRef>,
                    interner: &mut ColumnInterner,
                    syms: &SharedSymbols,
                    at: &mut u64,
                    buf: &mut Vec<u32>|
         -> Result<(), ArrowError> {
            match col {
                Some(a) => interner.intern_into(a.as_ref(), syms, at, buf),
                None => {
                    buf.clear();
                    buf.resize(n, NO_SYMBOL);
                    Ok(())
                }
            }
        };
        fill(
            c.importer,
            &mut self.importer_col,
            &syms.importers,
            &mut self.at,
            &mut self.imp_buf,
        )
        .map_err(InternError::Importer)?;
        fill(
            c.office,
            &mut self.office_col,
            &syms.offices,
            &mut self.at,
            &mut self.off_buf,
        )
        .map_err(InternError::Office)?;
        self.batch_keys.clear();
        self.batch_aggs.clear();
        for i in 0..n {
            let day = c.dates[i];
            if day == NULL_DATE {
                // Outside any date window too; counted once, with the price pass's
                // reason, when a window is set.
                if opts.window == (None, None) {
                    self.missing_date += 1;
                }
                continue;
            }
            if opts.window.0.is_some_and(|f| day < f) || opts.window.1.is_some_and(|t| day > t) {
                continue;
            }
            if day < opts.plausible.0 || day > opts.plausible.1 {
                self.date_out_of_range += 1;
                continue;
            }
            let hs = c.hs[i];
            if hs.is_none() || hs.len() < 6 {
                self.short_hs_code += 1;
                continue;
            }
            let raw = match opts.measure {
                VolumeMeasure::Quantity => c.quantity[i],
                VolumeMeasure::NetMass => c.mass[i],
                VolumeMeasure::Value => c.value[i],
                VolumeMeasure::Lines => 1.0,
            };
            let amount = if raw >= 0.0 && raw.is_finite() {
                raw
            } else {
                self.without_measure += 1;
                0.0
            };
            let v = c.value[i];
            let value = if v >= 0.0 && v.is_finite() { v } else { 0.0 };
            let origin = if c.origin[i] == Code::INVALID {
                Code::NONE
            } else {
                c.origin[i]
            };
            let hs6 = hs.prefix(6).0;
            let key = CellKey {
                hs6,
                importer: self.imp_buf[i],
                origin,
                office: self.off_buf[i],
                period: period_id(opts.period, day),
            };
            // Added to its cell below, once the batch's keys are interned.
            self.batch_keys.push(key);
            self.batch_aggs.push(CellAgg {
                amount: FixedSum::of(amount),
                value: FixedSum::of(value),
                lines: 1,
            });
            self.lines_used += 1;
            self.day_range = Some(match self.day_range {
                Some((lo, hi)) => (lo.min(day), hi.max(day)),
                None => (day, day),
            });
            if key.importer != NO_SYMBOL && amount > 0.0 {
                for (t, th) in opts.split.iter().enumerate() {
                    let under = th.amount * (1.0 - opts.split_band);
                    if amount < th.amount
                        && amount >= under
                        && hs.prefix(th.prefix.len()) == th.prefix
                    {
                        self.split.push(SplitLine {
                            importer: key.importer,
                            hs6,
                            day,
                            threshold: t as u16,
                            amount,
                        });
                    }
                }
            }
        }
        self.batch_ids.clear();
        self.index
            .intern(&self.batch_keys, &mut self.keys, &mut self.batch_ids);
        self.aggs.resize(self.keys.len(), CellAgg::default());
        for (&id, agg) in self.batch_ids.iter().zip(&self.batch_aggs) {
            self.aggs[id as usize].add(agg);
        }
        Ok(())
    }

    /// Done with the unit: move the cells into shards and give the key index back to the
    /// thread's pool.
    pub fn finish(&mut self) {
        let mut sizes = [0usize; SHARDS];
        for k in &self.keys {
            sizes[shard_of(k.hs6)] += 1;
        }
        let mut shards: Vec<Vec<(CellKey, CellAgg)>> =
            sizes.iter().map(|&n| Vec::with_capacity(n)).collect();
        for (&k, &a) in self.keys.iter().zip(&self.aggs) {
            shards[shard_of(k.hs6)].push((k, a));
        }
        let index = std::mem::take(&mut self.index);
        INDEX_POOL.with(|pool| *pool.borrow_mut() = Some(index));
        self.shards = shards;
        self.keys = Vec::new();
        self.aggs = Vec::new();
        self.batch_keys = Vec::new();
        self.batch_aggs = Vec::new();
        self.batch_ids = Vec::new();
        self.importer_col = ColumnInterner::default();
        self.office_col = ColumnInterner::default();
        self.imp_buf = Vec::new();
        self.off_buf = Vec::new();
    }

    /// A finished unit holding stored cells (a persisted baseline's history), with
    /// importer and office names (interned into `syms`); `day_range` is the history's
    /// first and last day.
    pub fn from_stored<'a>(
        cells: impl Iterator<Item = (CellKey, Option<&'a str>, Option<&'a str>, CellAgg)>,
        day_range: Option<(i32, i32)>,
        syms: &CellSymbols,
    ) -> UnitCells {
        let mut u = UnitCells {
            day_range,
            shards: vec![Vec::new(); SHARDS],
            ..Default::default()
        };
        for (at, (key, importer, office, agg)) in cells.enumerate() {
            let at = at as u64;
            let key = CellKey {
                importer: importer.map_or(NO_SYMBOL, |s| syms.importers.intern(s, at)),
                office: office.map_or(NO_SYMBOL, |s| syms.offices.intern(s, at)),
                ..key
            };
            u.shards[shard_of(key.hs6)].push((key, agg));
        }
        u
    }

    /// Cells held (after [`UnitCells::finish`]).
    pub fn cell_count(&self) -> usize {
        self.shards.iter().map(Vec::len).sum()
    }
}

thread_local! {
    /// One cell key index per worker thread, reused from unit to unit.
    static INDEX_POOL: std::cell::RefCell<Option<KeyIndex<CellKey>>> =
        const { std::cell::RefCell::new(None) };
}

/// The shard of an HS6.
pub fn shard_of(hs6: u64) -> usize {
    (hs6.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % SHARDS
}

/// All units' cells merged: the run's symbols, and each shard's cells in parts (see
/// [`CellOrder`]).
#[derive(Debug, Default)]
pub struct MergedCells {
    /// Cells by shard, in parts: with [`CellOrder::Key`] one part, sorted by key with
    /// one entry per key; with [`CellOrder::Hs6`] one part per unit, each sorted by
    /// HS6 (walk them with [`for_each_block`]).
    pub shards: Vec<Vec<Vec<(CellKey, CellAgg)>>>,
    /// Importer names by global symbol.
    pub importers: SymbolTable,
    /// Office names by global symbol.
    pub offices: SymbolTable,
    /// Split-shipment candidate lines (global symbols), in unit order.
    pub split: Vec<SplitLine>,
    /// First and last acceptance date placed in a series.
    pub day_range: Option<(i32, i32)>,
    /// Lines placed in a series.
    pub lines_used: u64,
    /// Lines without a date.
    pub missing_date: u64,
    /// Lines with an HS code of fewer than 6 digits.
    pub short_hs_code: u64,
    /// Lines dated outside the plausible range.
    pub date_out_of_range: u64,
    /// Lines whose amount was missing or negative.
    pub without_measure: u64,
}

/// How the merged cells of a shard are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellOrder {
    /// One part sorted by key, one entry per key (a stored baseline's cells).
    Key,
    /// The units' parts as they are, each sorted by HS6: a key may occur once per unit.
    /// The volume pass projects each HS6 block onto its key kinds and folds there, so
    /// sorting whole keys, or copying the cells into one vector, would be wasted.
    Hs6,
}

/// The importer and office names every unit of a run interns.
#[derive(Debug, Default)]
pub struct CellSymbols {
    /// Importer ids.
    pub importers: SharedSymbols,
    /// Customs offices.
    pub offices: SharedSymbols,
}

/// Merge the units' cells (in unit order) into shards with the run's symbols: a stored
/// history's importers and offices (`first`) keep their symbols, the others are
/// numbered in byte order.
pub fn merge(
    units: Vec<UnitCells>,
    syms: CellSymbols,
    first: (&[String], &[String]),
    order: CellOrder,
) -> MergedCells {
    let mut out = MergedCells::default();
    let mut by_shard: Vec<Vec<Vec<(CellKey, CellAgg)>>> = (0..SHARDS)
        .map(|_| Vec::with_capacity(units.len()))
        .collect();
    let ((importers, imp), (offices, off)): ((SymbolTable, Renumber), (SymbolTable, Renumber)) =
        rayon::join(
            || syms.importers.finish(first.0),
            || syms.offices.finish(first.1),
        );
    out.importers = importers;
    out.offices = offices;
    for mut u in units {
        out.split.extend(u.split.iter().map(|l| SplitLine {
            importer: imp.get(l.importer),
            ..*l
        }));
        out.day_range = match (out.day_range, u.day_range) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) | (None, x) => x,
        };
        out.lines_used += u.lines_used;
        out.missing_date += u.missing_date;
        out.short_hs_code += u.short_hs_code;
        out.date_out_of_range += u.date_out_of_range;
        out.without_measure += u.without_measure;
        for (s, cells) in std::mem::take(&mut u.shards).into_iter().enumerate() {
            by_shard[s].push(cells);
        }
    }
    let global = |c: &mut (CellKey, CellAgg)| {
        c.0.importer = imp.get(c.0.importer);
        c.0.office = off.get(c.0.office);
    };
    out.shards = by_shard
        .into_par_iter()
        .map(|mut parts| match order {
            CellOrder::Key => {
                let mut all: Vec<(CellKey, CellAgg)> =
                    Vec::with_capacity(parts.iter().map(Vec::len).sum());
                for cells in parts {
                    all.extend(cells.into_iter().map(|mut c| {
                        global(&mut c);
                        c
                    }));
                }
                all.sort_unstable_by_key(|a| a.0);
                // Fold equal keys in place.
                all.dedup_by(|next, kept| {
                    let same = next.0 == kept.0;
                    if same {
                        kept.1.add(&next.1);
                    }
                    same
                });
                vec![all]
            }
            CellOrder::Hs6 => {
                parts.retain(|p| !p.is_empty());
                for part in &mut parts {
                    part.iter_mut().for_each(global);
                    part.sort_unstable_by_key(|c| c.0.hs6);
                }
                parts
            }
        })
        .collect();
    out
}

/// The HS6 blocks of a shard's parts, HS6 ascending: `f` gets each HS6 with its run of
/// cells in every part that has it, in part order.
pub fn for_each_block<'a>(
    parts: &'a [Vec<(CellKey, CellAgg)>],
    mut f: impl FnMut(u64, &[&'a [(CellKey, CellAgg)]]),
) {
    let mut at = vec![0usize; parts.len()];
    let mut runs: Vec<&'a [(CellKey, CellAgg)]> = Vec::with_capacity(parts.len());
    while let Some(hs6) = (parts.iter().zip(&at))
        .filter_map(|(p, &i)| p.get(i).map(|c| c.0.hs6))
        .min()
    {
        runs.clear();
        for (p, i) in parts.iter().zip(at.iter_mut()) {
            let rest = &p[*i..];
            let n = rest.partition_point(|c| c.0.hs6 == hs6);
            if n > 0 {
                runs.push(&rest[..n]);
                *i += n;
            }
        }
        f(hs6, &runs);
    }
}

/// Strings of a packed HS6.
pub fn hs6_text(hs6: u64) -> String {
    HsCode(hs6).to_text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{DictionaryArray, StringArray};
    use arrow::datatypes::Int32Type;

    fn opts() -> CellOptions {
        CellOptions {
            period: PeriodKind::Week,
            measure: VolumeMeasure::Quantity,
            split: vec![],
            split_band: 0.2,
            window: (None, None),
            plausible: (i32::MIN, i32::MAX),
            dims: CellDims::ALL,
        }
    }

    #[test]
    fn blocks_gather_each_hs6_from_every_part_in_order() {
        let cell = |hs6: u64, period: i32| {
            (
                CellKey {
                    hs6,
                    period,
                    ..CellKey::default()
                },
                CellAgg::default(),
            )
        };
        let parts = vec![
            vec![cell(1, 0), cell(1, 1), cell(3, 2)],
            vec![cell(2, 3), cell(3, 4)],
            vec![],
            vec![cell(1, 5), cell(2, 6), cell(2, 7)],
        ];
        let mut seen: Vec<(u64, Vec<Vec<i32>>)> = Vec::new();
        for_each_block(&parts, |hs6, runs| {
            let periods = runs
                .iter()
                .map(|r| r.iter().map(|c| c.0.period).collect())
                .collect();
            seen.push((hs6, periods));
        });
        assert_eq!(
            seen,
            vec![
                (1, vec![vec![0, 1], vec![5]]),
                (2, vec![vec![3], vec![6, 7]]),
                (3, vec![vec![2], vec![4]]),
            ]
        );
    }

    #[test]
    fn cells_fold_across_units_in_unit_order() {
        let hs = |s: &str| HsCode::parse(s).unwrap_or_default();
        let syms = CellSymbols::default();
        let batch = |imps: Vec<Option<&str>>, qty: Vec<f64>| {
            let n = qty.len();
            let importer: ArrayRef =
                Arc::new(imps.into_iter().collect::<DictionaryArray<Int32Type>>());
            let office: ArrayRef = Arc::new(StringArray::from(vec![Some("OF1"); n]));
            let mut u = UnitCells::default();
            let hs_codes = vec![hs("3102300000"); n];
            let origins = vec![Code::parse("CN"); n];
            let dates = vec![20_000; n];
            let nan = vec![f64::NAN; n];
            let value = vec![10.0; n];
            u.add_batch(
                &LineColumns {
                    hs: &hs_codes,
                    origin: &origins,
                    dates: &dates,
                    quantity: &qty,
                    mass: &nan,
                    value: &value,
                    importer: Some(&importer),
                    office: Some(&office),
                },
                &opts(),
                &syms,
            )
            .unwrap_or_else(|_| panic!("intern"));
            u.finish();
            u
        };
        let a = batch(vec![Some("B"), Some("A"), None], vec![1.0, 2.0, f64::NAN]);
        let b = batch(vec![Some("A"), Some("C")], vec![4.0, -1.0]);
        let m = merge(vec![a, b], syms, (&[], &[]), CellOrder::Key);
        let cells: Vec<(String, f64, u32)> = (m.shards.iter().flatten().flatten())
            .map(|(k, a)| {
                (
                    m.importers.name(k.importer).to_string(),
                    a.amount.value(),
                    a.lines,
                )
            })
            .collect();
        let mut cells = cells;
        cells.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            cells,
            vec![
                (String::new(), 0.0, 1),
                ("A".into(), 6.0, 2),
                ("B".into(), 1.0, 1),
                ("C".into(), 0.0, 1),
            ]
        );
        assert_eq!(m.importers.len(), 3);
        assert_eq!(m.lines_used, 5);
        assert_eq!(m.without_measure, 2);
    }
}
