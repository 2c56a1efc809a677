//! The comparison groups of a stored baseline: every group of the history at every
//! level of the fallback chain, with its exact order statistics, so that new lines are
//! resolved and judged without the history's lines (`scan --baseline`).

use std::collections::hash_map::Entry;

use super::build::{GroupBaseline, MeasureBaseline, build_baseline, count_values};
use super::level::{FineKey, GroupLevel};
use crate::kernels::hash::FxHashMap;
use crate::kernels::order_stats::OrderStats;
use crate::kernels::tiers::{TierRule, Tiers};

/// One history group.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGroup {
    /// Its level key.
    pub key: FineKey,
    /// Statistics of its values.
    pub stats: OrderStats,
    /// Its price tiers, when it has several.
    pub tiers: Option<Tiers>,
}

/// One measure's history groups, per level of the chain, each level sorted by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredGroups {
    /// Per level: the groups, sorted by key.
    pub levels: Vec<Vec<StoredGroup>>,
}

impl StoredGroups {
    /// The groups of every level: `parts`, `keys` and `tiers` as for [`build_baseline`].
    pub fn build(
        parts: &[(&[u32], &[f64])],
        keys: &[FineKey],
        levels: &[GroupLevel],
        tiers: Option<&TierRule>,
    ) -> Self {
        let levels = levels
            .iter()
            .map(|&level| {
                // One level, every group with a value: each fine group resolves there.
                let b = build_baseline(parts, keys, &[level], 1, None, tiers);
                let mut groups: Vec<StoredGroup> = b
                    .groups
                    .into_iter()
                    .map(|g| StoredGroup {
                        key: g.key,
                        stats: g.stats,
                        tiers: g.tiers,
                    })
                    .collect();
                groups.sort_by_key(|g| g.key);
                groups
            })
            .collect();
        StoredGroups { levels }
    }

    /// The history group of `key` at level `l`.
    fn find(&self, l: usize, key: FineKey) -> Option<&StoredGroup> {
        let groups = self.levels.get(l)?;
        let i = groups.binary_search_by_key(&key, |g| g.key).ok()?;
        Some(&groups[i])
    }

    /// Resolve the new lines' fine groups against the history, as [`build_baseline`]
    /// does over lines: each fine group goes to the first level of `chain` whose
    /// history group holds at least `min_group_size` values. `fine_counts` counts the
    /// new lines' values. With `wanted`, only the marked fine groups are resolved.
    pub fn resolve(
        &self,
        parts: &[(&[u32], &[f64])],
        keys: &[FineKey],
        chain: &[GroupLevel],
        min_group_size: usize,
        wanted: Option<&[bool]>,
    ) -> MeasureBaseline {
        let fine_counts = count_values(parts, keys.len());
        let min = min_group_size as u64;
        let mut ids: FxHashMap<(usize, FineKey), u32> = FxHashMap::default();
        let mut groups = Vec::new();
        let mut resolved = vec![None; keys.len()];
        for (g, &k) in keys.iter().enumerate() {
            if fine_counts[g] == 0 || wanted.is_some_and(|w| !w.get(g).copied().unwrap_or(false)) {
                continue;
            }
            let found = chain.iter().enumerate().find_map(|(l, level)| {
                let lk = level.key(k);
                self.find(l, lk)
                    .filter(|h| h.stats.count >= min)
                    .map(|h| (l, h))
            });
            let Some((l, h)) = found else {
                continue;
            };
            let id = match ids.entry((l, h.key)) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    groups.push(GroupBaseline {
                        level: l,
                        key: h.key,
                        stats: h.stats,
                        tiers: h.tiers.clone(),
                    });
                    *e.insert((groups.len() - 1) as u32)
                }
            };
            resolved[g] = Some(id);
        }
        MeasureBaseline {
            resolved,
            groups,
            fine_counts,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::baseline::build::tests::{key, naive_median};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// New lines resolve to the first level whose history group (naive group-by of
        /// the history lines) holds `min` values, with that group's median and MAD.
        #[test]
        fn new_lines_resolve_against_the_history_like_a_naive_group_by(
            history in prop::collection::vec((0usize..6, 0usize..3, -5.0f64..5.0), 0..300),
            new in prop::collection::vec((0usize..6, 0usize..3, -5.0f64..5.0), 1..40),
            min in 1usize..20,
        ) {
            let hs = ["0101100000", "0101200000", "0102100000", "0101109000", "8471300000", "8471410000"];
            let origins = ["CN", "DE", "US"];
            let levels = GroupLevel::default_chain();
            let ids = |rows: &[(usize, usize, f64)], keys: &mut Vec<FineKey>| -> (Vec<u32>, Vec<f64>) {
                rows.iter().map(|&(h, o, v)| {
                    let k = key(hs[h], origins[o]);
                    let g = keys.iter().position(|x| *x == k).unwrap_or_else(|| { keys.push(k); keys.len() - 1 });
                    (g as u32, v)
                }).unzip()
            };
            let mut hkeys = Vec::new();
            let (hg, hv) = ids(&history, &mut hkeys);
            let stored = StoredGroups::build(&[(&hg, &hv)], &hkeys, &levels, None);
            let mut nkeys = Vec::new();
            let (ng, nv) = ids(&new, &mut nkeys);
            let b = stored.resolve(&[(&ng, &nv)], &nkeys, &levels, min, None);
            for (g, fk) in nkeys.iter().enumerate() {
                let mut want = None;
                for (l, level) in levels.iter().enumerate() {
                    let mut members: Vec<f64> = history.iter()
                        .filter(|&&(h, o, _)| level.key(key(hs[h], origins[o])) == level.key(*fk))
                        .map(|r| r.2).collect();
                    if members.len() >= min {
                        let med = naive_median(&mut members);
                        let mut dev: Vec<f64> = members.iter().map(|v| (v - med).abs()).collect();
                        want = Some((l, members.len() as u64, med, naive_median(&mut dev)));
                        break;
                    }
                }
                let got = b.for_group(g as u32).map(|gb| (gb.level, gb.stats.count, gb.stats.median, gb.stats.mad));
                prop_assert_eq!(got, want);
            }
        }
    }
}
