//! Dense ids for keys, a batch at a time: the group keys of the measure pass (and their
//! merge across units) and the volume series cells.
//!
//! A scan unit interns one key per line into a table of tens of thousands of keys: a
//! table of megabytes, so a lookup one line at a time waits on a cache miss per line.
//! [`KeyIndex::intern`] hashes the whole batch first and prefetches each line's slot a
//! few lines ahead of its probe, so the misses overlap.

use std::hash::{BuildHasher, BuildHasherDefault, Hash};

use super::hash::FxHasher;
use super::prefetch::prefetch;

/// How many lines ahead a slot is prefetched.
const AHEAD: usize = 16;

/// A slot holds a key only when its generation is the table's: clearing the table is
/// a new generation, not a pass over megabytes of slots (the measure pass clears it
/// for every scan unit). The generation fills what would be padding after the id.
#[derive(Clone, Copy)]
struct Slot<K> {
    key: K,
    id: u32,
    generation: u32,
}

/// Open-addressing map from key to dense id (first-appearance order), linear probing,
/// at most half full.
pub struct KeyIndex<K> {
    slots: Vec<Slot<K>>,
    /// `64 - log2(slots.len())`: a slot is the hash's top bits.
    shift: u32,
    len: usize,
    /// Generation of the occupied slots; never 0, the generation of an unused slot.
    generation: u32,
    hashes: Vec<u64>,
}

impl<K> std::fmt::Debug for KeyIndex<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyIndex")
            .field("len", &self.len)
            .field("slots", &self.slots.len())
            .finish()
    }
}

impl<K> Default for KeyIndex<K> {
    fn default() -> Self {
        KeyIndex {
            slots: Vec::new(),
            shift: 64,
            len: 0,
            generation: 1,
            hashes: Vec::new(),
        }
    }
}

impl<K: Copy + Eq + Hash + Default> KeyIndex<K> {
    /// Forget every key; the table keeps its capacity.
    pub fn clear(&mut self) {
        if self.len == 0 {
            return;
        }
        self.len = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Wrapped: slots of an old generation could pass for current ones.
            self.slots.iter_mut().for_each(|s| s.generation = 0);
            self.generation = 1;
        }
    }

    /// Room for `n` keys in all without growing.
    pub fn reserve(&mut self, n: usize) {
        let size = n.saturating_mul(2).next_power_of_two().max(16);
        if size > self.slots.len() {
            self.resize(size);
        }
    }

    /// Keys interned so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no key is interned.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append the id of each of `batch` to `ids`; a key seen for the first time gets the
    /// next id and is appended to `keys` (so `keys[id]` is the key of `id`, provided
    /// `keys` held exactly the interned keys before the call).
    pub fn intern(&mut self, batch: &[K], keys: &mut Vec<K>, ids: &mut Vec<u32>) {
        if self.slots.is_empty() {
            self.resize(16);
        }
        let hasher = BuildHasherDefault::<FxHasher>::default();
        let mut hashes = std::mem::take(&mut self.hashes);
        hashes.clear();
        hashes.extend(batch.iter().map(|k| mix(hasher.hash_one(k))));
        ids.reserve(batch.len());
        for (i, (&key, &h)) in batch.iter().zip(&hashes).enumerate() {
            if let Some(&ahead) = hashes.get(i + AHEAD) {
                prefetch(&self.slots[(ahead >> self.shift) as usize]);
            }
            let mut at = self.find(key, h);
            if self.slots[at].generation != self.generation && (self.len + 1) * 2 > self.slots.len()
            {
                // Grown to stay at most half full: probe again in the new table.
                self.resize(self.slots.len() * 2);
                at = self.find(key, h);
            }
            let generation = self.generation;
            let slot = &mut self.slots[at];
            if slot.generation != generation {
                *slot = Slot {
                    key,
                    id: self.len as u32,
                    generation,
                };
                self.len += 1;
                keys.push(key);
            }
            ids.push(slot.id);
        }
        self.hashes = hashes;
    }

    /// The slot holding `key` (hash `h`), or the empty slot where it would go.
    #[inline]
    fn find(&self, key: K, h: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = (h >> self.shift) as usize;
        loop {
            let slot = &self.slots[at];
            if slot.generation != self.generation || slot.key == key {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    /// Move every key into a table of `size` slots (a power of two).
    fn resize(&mut self, size: usize) {
        let unused = Slot {
            key: K::default(),
            id: 0,
            generation: 0,
        };
        let old = std::mem::replace(&mut self.slots, vec![unused; size]);
        self.shift = 64 - size.trailing_zeros();
        let hasher = BuildHasherDefault::<FxHasher>::default();
        for s in old.into_iter().filter(|s| s.generation == self.generation) {
            let at = self.find(s.key, mix(hasher.hash_one(s.key)));
            self.slots[at] = s;
        }
    }
}

/// FxHash leaves the low input bits in the low output bits; slots come from the top
/// bits, so fold the whole word into them first.
#[inline]
fn mix(h: u64) -> u64 {
    (h ^ (h >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    proptest! {
        /// Ids are first-appearance order, the same as a naive map gives, across
        /// batches, growth and a clear.
        #[test]
        fn ids_are_first_appearance_order(
            batches in prop::collection::vec(prop::collection::vec(0u64..300, 0..200), 1..6),
            clear_after in 0usize..6,
            reserve in 0usize..500,
        ) {
            let mut index = KeyIndex::default();
            index.reserve(reserve);
            let mut keys = Vec::new();
            let mut naive: HashMap<u64, u32> = HashMap::new();
            let mut naive_keys = Vec::new();
            for (b, batch) in batches.iter().enumerate() {
                if b == clear_after {
                    index.clear();
                    keys.clear();
                    naive.clear();
                    naive_keys.clear();
                }
                let mut ids = Vec::new();
                index.intern(batch, &mut keys, &mut ids);
                let want: Vec<u32> = batch
                    .iter()
                    .map(|&k| {
                        *naive.entry(k).or_insert_with(|| {
                            naive_keys.push(k);
                            (naive_keys.len() - 1) as u32
                        })
                    })
                    .collect();
                prop_assert_eq!(&ids, &want);
                prop_assert_eq!(&keys, &naive_keys);
                prop_assert_eq!(index.len(), naive_keys.len());
            }
        }
    }
}
