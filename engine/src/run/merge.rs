//! The merge stage: each unit's local group ids become global ids, assigned in order
//! of first appearance across units in unit order, so they do not depend on the
//! thread count.

use rayon::prelude::*;

use super::measure::UnitMeasures;
use crate::baseline::{FineKey, NO_GROUP};
use crate::kernels::intern::KeyIndex;

/// Replace each unit's local group ids by global ones. Global ids are assigned in
/// order of first appearance across units in unit order, so they do not depend on
/// the thread count.
pub fn merge_groups(units: &mut [UnitMeasures], pool: &rayon::ThreadPool) -> Vec<FineKey> {
    let mut global = KeyIndex::default();
    // There are at least as many keys in all as in the unit with the most.
    global.reserve(units.iter().map(|u| u.keys.len()).max().unwrap_or(0));
    let mut keys = Vec::new();
    let remaps: Vec<Vec<u32>> = units
        .iter()
        .map(|u| {
            let mut remap = Vec::with_capacity(u.keys.len());
            global.intern(&u.keys, &mut keys, &mut remap);
            remap
        })
        .collect();
    pool.install(|| {
        units
            .par_iter_mut()
            .zip(remaps.par_iter())
            .for_each(|(u, remap)| {
                for g in u.gid.iter_mut().filter(|g| **g != NO_GROUP) {
                    *g = remap[*g as usize];
                }
            });
    });
    keys
}
