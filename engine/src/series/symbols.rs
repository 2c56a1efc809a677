//! String symbols of the volume series: importer and office names interned per unit
//! ([`Symbols`], fed column by column by [`ColumnInterner`]), and the global table the
//! units' symbols merge into ([`SymbolTable`]).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::error::ArrowError;
use rayon::prelude::*;

use crate::kernels::arrow_edge::map_strings_into;
use crate::kernels::hash::FxHashMap;

/// Symbol of an absent (null or empty) importer or office.
pub const NO_SYMBOL: u32 = u32::MAX;

/// Shards the merged cells (and the global symbol tables) are split into, by HS6.
pub const SHARDS: usize = 64;

/// An interned string table.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    map: FxHashMap<Arc<str>, u32>,
    names: Vec<Arc<str>>,
}

impl Symbols {
    /// The symbol of `s` (added when new); [`NO_SYMBOL`] for an empty string.
    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return NO_SYMBOL;
        }
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.names.len() as u32;
        let name: Arc<str> = Arc::from(s);
        self.names.push(Arc::clone(&name));
        self.map.insert(name, id);
        id
    }

    /// The string of a symbol (empty for [`NO_SYMBOL`]).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |s| s)
    }

    /// Distinct strings.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether no string was interned.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// Interns a string column batch by batch; a dictionary's values are interned once per
/// distinct dictionary (the reader hands the same dictionary to every batch of a
/// column chunk).
#[derive(Debug, Default)]
pub(super) struct ColumnInterner {
    dict: Option<ArrayRef>,
    mapped: Vec<u32>,
}

impl ColumnInterner {
    pub(super) fn intern_into(
        &mut self,
        array: &dyn Array,
        syms: &mut Symbols,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        let Some(dict) = array.as_any_dictionary_opt() else {
            return map_strings_into(array, NO_SYMBOL, |s| syms.intern(s), out);
        };
        let values = dict.values();
        // The same dictionary, even behind a new `Arc` (the previous one is still held
        // here, so its buffers cannot have been reused by another allocation).
        let same = self.dict.as_ref().is_some_and(|d| {
            Arc::ptr_eq(d, values)
                || (d.len() == values.len() && {
                    let (a, b) = (d.to_data(), values.to_data());
                    a.buffers().len() == b.buffers().len()
                        && a.buffers()
                            .iter()
                            .zip(b.buffers())
                            .all(|(x, y)| x.as_ptr() == y.as_ptr())
                        && a.offset() == b.offset()
                })
        });
        if !same {
            map_strings_into(
                values.as_ref(),
                NO_SYMBOL,
                |s| syms.intern(s),
                &mut self.mapped,
            )?;
            self.dict = Some(Arc::clone(values));
        }
        out.clear();
        out.extend(
            dict.normalized_keys()
                .iter()
                .map(|&k| self.mapped.get(k).copied().unwrap_or(NO_SYMBOL)),
        );
        if let Some(nulls) = array.logical_nulls() {
            for (slot, valid) in out.iter_mut().zip(nulls.iter()) {
                if !valid {
                    *slot = NO_SYMBOL;
                }
            }
        }
        Ok(())
    }
}

/// Global symbols: strings spread over [`SHARDS`] tables by hash, so that the units'
/// tables merge in parallel. A symbol is `index << 6 | shard`; within a shard, indices
/// follow unit order, so they do not depend on the thread count.
#[derive(Debug, Clone, Default)]
pub struct SymbolTable {
    shards: Vec<Symbols>,
}

impl SymbolTable {
    /// The string of a symbol (empty for [`NO_SYMBOL`]).
    pub fn name(&self, id: u32) -> &str {
        if id == NO_SYMBOL {
            return "";
        }
        self.shards
            .get((id & 63) as usize)
            .map_or("", |s| s.name(id >> 6))
    }

    /// Distinct strings.
    pub fn len(&self) -> usize {
        self.shards.iter().map(Symbols::len).sum()
    }

    /// Whether there is no string.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Merge the units' tables (in unit order); returns the table and, per unit, its
    /// local symbol -> global symbol.
    pub fn merge(units: &[&Symbols]) -> (SymbolTable, Vec<Vec<u32>>) {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let hasher = BuildHasherDefault::<crate::kernels::hash::FxHasher>::default();
        // Per unit, its local indices bucketed by shard.
        let buckets: Vec<Vec<Vec<u32>>> = units
            .par_iter()
            .map(|t| {
                let mut b: Vec<Vec<u32>> = vec![Vec::new(); SHARDS];
                for (i, name) in t.names.iter().enumerate() {
                    b[hasher.hash_one(&**name) as usize % SHARDS].push(i as u32);
                }
                b
            })
            .collect();
        let shards: Vec<(Symbols, Vec<u32>)> = (0..SHARDS)
            .into_par_iter()
            .map(|s| {
                let mut table = Symbols::default();
                let mut ids = Vec::new();
                for (u, t) in units.iter().enumerate() {
                    for &i in &buckets[u][s] {
                        let local = table.intern(&t.names[i as usize]);
                        ids.push(local << 6 | s as u32);
                    }
                }
                (table, ids)
            })
            .collect();
        let mut remaps: Vec<Vec<u32>> = units.iter().map(|t| vec![NO_SYMBOL; t.len()]).collect();
        for (s, (_, ids)) in shards.iter().enumerate() {
            let mut next = ids.iter();
            for (u, b) in buckets.iter().enumerate() {
                for &i in &b[s] {
                    remaps[u][i as usize] = next.next().copied().unwrap_or(NO_SYMBOL);
                }
            }
        }
        let table = SymbolTable {
            shards: shards.into_iter().map(|(t, _)| t).collect(),
        };
        (table, remaps)
    }
}

pub(super) fn remap(table: &[u32], sym: u32) -> u32 {
    if sym == NO_SYMBOL {
        NO_SYMBOL
    } else {
        table.get(sym as usize).copied().unwrap_or(NO_SYMBOL)
    }
}
