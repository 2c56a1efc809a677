//! String symbols of the volume series: importer and office names interned by every
//! unit of a run into one shared table ([`SharedSymbols`], fed column by column by
//! [`ColumnInterner`]), renumbered once all units are read into the run's
//! [`SymbolTable`], so that symbols do not depend on the thread count.

use std::hash::{BuildHasher, BuildHasherDefault};
use std::sync::{Arc, Mutex, PoisonError};

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::error::ArrowError;
use rayon::prelude::*;

use crate::kernels::arrow_edge::map_strings_into;
use crate::kernels::hash::{FxHashMap, FxHasher};

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
    /// Intern a column batch into `syms`, each call stamped `at` (then advanced).
    pub(super) fn intern_into(
        &mut self,
        array: &dyn Array,
        syms: &SharedSymbols,
        at: &mut u64,
        out: &mut Vec<u32>,
    ) -> Result<(), ArrowError> {
        let Some(dict) = array.as_any_dictionary_opt() else {
            // Lines of one declaration usually name the same party: one lookup each run.
            let (mut last, mut last_id) = (String::new(), NO_SYMBOL);
            return map_strings_into(
                array,
                NO_SYMBOL,
                |s| {
                    if s != last || last_id == NO_SYMBOL {
                        last.clear();
                        last.push_str(s);
                        last_id = syms.intern(s, *at);
                        *at += 1;
                    }
                    last_id
                },
                out,
            );
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
                |s| {
                    *at += 1;
                    syms.intern(s, *at - 1)
                },
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

/// A run's symbols: strings spread over [`SHARDS`] tables by hash. A symbol is
/// `index << 6 | shard`.
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
}

/// Names interned by every unit of a run at once, in [`SHARDS`] locked tables by hash.
/// Its symbols follow the order the workers reach the names; [`SharedSymbols::finish`]
/// renumbers them in the order the names first appear in the input (each interning is
/// stamped with its unit and its place in the unit), as if the units were read one
/// after the other.
#[derive(Debug)]
pub struct SharedSymbols {
    shards: Vec<Mutex<Stamped>>,
}

/// A shard's names and the earliest stamp of each.
#[derive(Debug, Default)]
struct Stamped {
    names: Symbols,
    first: Vec<u64>,
}

impl Default for SharedSymbols {
    fn default() -> SharedSymbols {
        SharedSymbols {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

fn shard_of_name(s: &str) -> usize {
    BuildHasherDefault::<FxHasher>::default().hash_one(s) as usize % SHARDS
}

impl SharedSymbols {
    /// The (provisional) symbol of `s`, met at `at` (unit index << 32 | place within
    /// the unit); [`NO_SYMBOL`] for an empty string.
    pub fn intern(&self, s: &str, at: u64) -> u32 {
        if s.is_empty() {
            return NO_SYMBOL;
        }
        let shard = shard_of_name(s);
        let mut table = self.shards[shard]
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = table.names.intern(s);
        match table.first.get_mut(id as usize) {
            Some(first) => *first = (*first).min(at),
            None => table.first.push(at),
        }
        id << 6 | shard as u32
    }

    /// The run's table and the renumbering of the provisional symbols: in each shard the
    /// names of `first` in their order (a stored history's, which keep their symbols),
    /// then the others in the order they first appear, so that symbols do not depend on
    /// which worker reached a name first.
    pub fn finish(self, first: &[String]) -> (SymbolTable, Renumber) {
        let mut firsts: Vec<Vec<&str>> = vec![Vec::new(); SHARDS];
        for name in first.iter().filter(|n| !n.is_empty()) {
            firsts[shard_of_name(name)].push(name);
        }
        let shards: Vec<(Symbols, Vec<u32>)> = self
            .shards
            .into_par_iter()
            .zip(firsts)
            .enumerate()
            .map(|(s, (shard, first))| {
                let Stamped {
                    names: provisional,
                    first: stamps,
                } = shard.into_inner().unwrap_or_else(PoisonError::into_inner);
                let mut table = Symbols::default();
                for name in first {
                    table.intern(name);
                }
                let mut rest: Vec<(u64, &Arc<str>)> = (provisional.names.iter())
                    .zip(&stamps)
                    .filter(|(n, _)| !table.map.contains_key(&***n))
                    .map(|(n, &at)| (at, n))
                    .collect();
                rest.sort_unstable();
                for (_, name) in &rest {
                    table.intern(name);
                }
                let ids = provisional
                    .names
                    .iter()
                    .map(|n| {
                        table
                            .map
                            .get(&**n)
                            .map_or(NO_SYMBOL, |&i| i << 6 | s as u32)
                    })
                    .collect();
                (table, ids)
            })
            .collect();
        let (tables, ids): (Vec<Symbols>, Vec<Vec<u32>>) = shards.into_iter().unzip();
        (SymbolTable { shards: tables }, Renumber { shards: ids })
    }
}

/// Provisional symbol -> the run's symbol ([`SharedSymbols::finish`]).
#[derive(Debug, Clone, Default)]
pub struct Renumber {
    shards: Vec<Vec<u32>>,
}

impl Renumber {
    /// The run's symbol of a provisional one.
    #[inline]
    pub fn get(&self, sym: u32) -> u32 {
        if sym == NO_SYMBOL {
            return NO_SYMBOL;
        }
        (self.shards.get((sym & 63) as usize))
            .and_then(|s| s.get((sym >> 6) as usize))
            .copied()
            .unwrap_or(NO_SYMBOL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str], order: &[usize], first: &[String]) -> (Vec<u32>, SymbolTable) {
        let shared = SharedSymbols::default();
        let provisional: Vec<(usize, u32)> = order
            .iter()
            .map(|&i| (i, shared.intern(names[i], i as u64)))
            .collect();
        let (table, renumber) = shared.finish(first);
        let mut out = vec![NO_SYMBOL; names.len()];
        for (i, p) in provisional {
            out[i] = renumber.get(p);
        }
        (out, table)
    }

    #[test]
    fn symbols_do_not_depend_on_the_order_names_arrive_in() {
        let names: Vec<String> = (0..500)
            .map(|i| format!("IM{:06}", i * 7919 % 1000))
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let forward: Vec<usize> = (0..names.len()).collect();
        let backward: Vec<usize> = forward.iter().rev().copied().collect();
        let (a, table) = ids(&names, &forward, &[]);
        let (b, _) = ids(&names, &backward, &[]);
        assert_eq!(a, b);
        for (i, &id) in a.iter().enumerate() {
            assert_eq!(table.name(id), names[i]);
        }
        // Within a shard, in the order of the input (the stamps).
        for x in 0..names.len() {
            for y in x + 1..names.len() {
                if a[x] & 63 == a[y] & 63 {
                    assert!(a[x] >> 6 < a[y] >> 6);
                }
            }
        }
        assert_eq!(table.len(), names.len());
        assert_eq!(SharedSymbols::default().intern("", 0), NO_SYMBOL);
    }

    #[test]
    fn a_stored_historys_names_keep_their_symbols() {
        // The history's names, in its order, as a unit of the history interns them.
        let history: Vec<String> = ["Z", "B", "Q", "A"].map(String::from).to_vec();
        let (stored, _) = ids(
            &history.iter().map(String::as_str).collect::<Vec<_>>(),
            &[0, 1, 2, 3],
            &history,
        );
        // A night names some of them, and new ones, in another order.
        let night = ["N", "A", "Z", "M"];
        let (now, table) = ids(&night, &[3, 2, 1, 0], &history);
        assert_eq!((now[1], now[2]), (stored[3], stored[0]));
        assert_eq!(table.name(stored[2]), "Q");
        assert_eq!(table.len(), 6);
    }
}
