use rayon::prelude::*;

use super::level::{FineKey, GroupLevel};
use crate::kernels::hash::FxHashMap;
use crate::kernels::order_stats::{OrderStats, order_stats};
use crate::kernels::tiers::{TierRule, Tiers, fit_tiers};

/// Fine group id of a line that has no usable key.
pub const NO_GROUP: u32 = u32::MAX;

/// The level of a detector's fixed reference ([`crate::detect::Detector::reference`]),
/// which judges lines without a comparison group: outside the fallback chain.
pub const REFERENCE_LEVEL: usize = usize::MAX;

/// Statistics of one resolved comparison group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupBaseline {
    /// Index of the level in the fallback chain ([`REFERENCE_LEVEL`]: a fixed
    /// reference).
    pub level: usize,
    /// The group's key (components the level drops are blank).
    pub key: FineKey,
    /// Exact order statistics of the group's values.
    pub stats: OrderStats,
    /// The group's price tiers, when it has several ([`crate::kernels::tiers`]).
    pub tiers: Option<Tiers>,
}

impl GroupBaseline {
    /// The statistics value `x` is judged against: its nearest tier's, or the group's,
    /// with the tier's index.
    #[inline]
    pub fn stats_for(&self, x: f64) -> (&OrderStats, Option<u8>) {
        match &self.tiers {
            Some(t) => {
                let i = t.nearest(x);
                (&t.stats[i], Some(i as u8))
            }
            None => (&self.stats, None),
        }
    }
}

/// Baselines of one measure (e.g. ln unit value) for every fine group that resolved.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MeasureBaseline {
    /// Per fine group id: index into `groups`, or `None` when every level is too small.
    pub resolved: Vec<Option<u32>>,
    /// Resolved groups, ordered by level then first appearance.
    pub groups: Vec<GroupBaseline>,
    /// Values per fine group (lines with a finite value).
    pub fine_counts: Vec<u64>,
}

impl MeasureBaseline {
    /// The baseline a line of fine group `gid` is compared with.
    #[inline]
    pub fn for_group(&self, gid: u32) -> Option<&GroupBaseline> {
        self.groups.get(self.group_index(gid)? as usize)
    }

    /// Index in `groups` of the baseline of fine group `gid`.
    #[inline]
    pub fn group_index(&self, gid: u32) -> Option<u32> {
        *self.resolved.get(gid as usize)?
    }
}

/// Values (lines with a finite value) per fine group id, below `n_fine`.
pub(super) fn count_values(parts: &[(&[u32], &[f64])], n_fine: usize) -> Vec<u64> {
    let lanes = lanes(parts, rayon::current_num_threads());
    sum_counts(&lane_counts(&lanes, n_fine), n_fine)
}

/// [`count_values`] of each lane.
fn lane_counts(lanes: &[&[(&[u32], &[f64])]], n_fine: usize) -> Vec<Vec<u64>> {
    lanes
        .par_iter()
        .map(|lane| {
            let mut counts = vec![0u64; n_fine];
            for (gids, values) in lane.iter() {
                for (&g, &v) in gids.iter().zip(values.iter()) {
                    if g != NO_GROUP && !v.is_nan() {
                        counts[g as usize] += 1;
                    }
                }
            }
            counts
        })
        .collect()
}

fn sum_counts(per_lane: &[Vec<u64>], n_fine: usize) -> Vec<u64> {
    let mut total = vec![0u64; n_fine];
    for counts in per_lane {
        total.iter_mut().zip(counts).for_each(|(t, c)| *t += c);
    }
    total
}

/// Build the baselines of one measure.
///
/// `parts` holds, per scan unit in unit order, each line's fine group id and value
/// (NaN: no value). `keys[gid]` is the fine key of group `gid`. With `wanted`, only the
/// fine groups marked `true` are resolved (and only their level groups computed).
/// Results depend only on the multiset of values per group, never on thread count or
/// unit boundaries. With `tiers`, groups are fitted for price tiers.
pub fn build_baseline(
    parts: &[(&[u32], &[f64])],
    keys: &[FineKey],
    levels: &[GroupLevel],
    min_group_size: usize,
    wanted: Option<&[bool]>,
    tiers: Option<&TierRule>,
) -> MeasureBaseline {
    let n_fine = keys.len();
    let lanes = lanes(parts, rayon::current_num_threads());
    let per_lane = lane_counts(&lanes, n_fine);
    let fine_counts = sum_counts(&per_lane, n_fine);

    // Level group ids per fine group, and counts per level group.
    let level_ids: Vec<(Vec<u32>, Vec<FineKey>, Vec<u64>)> = levels
        .iter()
        .map(|level| {
            let mut map: FxHashMap<FineKey, u32> = FxHashMap::default();
            let mut level_keys = Vec::new();
            let mut counts: Vec<u64> = Vec::new();
            let ids = keys
                .iter()
                .zip(&fine_counts)
                .map(|(&k, &c)| {
                    let lk = level.key(k);
                    let id = *map.entry(lk).or_insert_with(|| {
                        level_keys.push(lk);
                        counts.push(0);
                        (level_keys.len() - 1) as u32
                    });
                    counts[id as usize] += c;
                    id
                })
                .collect();
            (ids, level_keys, counts)
        })
        .collect();

    // Resolve each fine group to the first level with enough values.
    let min = min_group_size as u64;
    let mut chosen: Vec<Option<(usize, u32)>> = vec![None; n_fine];
    for (g, slot) in chosen.iter_mut().enumerate() {
        if fine_counts[g] == 0 || wanted.is_some_and(|w| !w.get(g).copied().unwrap_or(false)) {
            continue;
        }
        *slot = level_ids
            .iter()
            .enumerate()
            .find(|(_, (ids, _, counts))| counts[ids[g] as usize] >= min)
            .map(|(l, (ids, _, _))| (l, ids[g]));
    }

    let mut groups = Vec::new();
    let mut resolved = vec![None; n_fine];
    for (l, (ids, level_keys, counts)) in level_ids.iter().enumerate() {
        // Compact index of each needed level group, in level-group order.
        let mut compact = vec![u32::MAX; level_keys.len()];
        let mut needed: Vec<u32> = Vec::new();
        for c in chosen.iter().flatten().filter(|(cl, _)| *cl == l) {
            let lg = c.1 as usize;
            if compact[lg] == u32::MAX {
                compact[lg] = 0;
                needed.push(c.1);
            }
        }
        if needed.is_empty() {
            continue;
        }
        needed.sort_unstable();
        for (i, &lg) in needed.iter().enumerate() {
            compact[lg as usize] = i as u32;
        }
        let stats = level_stats(&lanes, &per_lane, ids, &compact, &needed, counts, tiers);
        let base = groups.len() as u32;
        for (&lg, (st, tiers)) in needed.iter().zip(stats) {
            groups.push(GroupBaseline {
                level: l,
                key: level_keys[lg as usize],
                stats: st,
                tiers,
            });
        }
        for (g, c) in chosen.iter().enumerate() {
            if let Some((cl, lg)) = c
                && *cl == l
            {
                resolved[g] = Some(base + compact[*lg as usize]);
            }
        }
    }
    MeasureBaseline {
        resolved,
        groups,
        fine_counts,
    }
}

/// Gather the values of the needed level groups (counting sort) and reduce each (and
/// fit its tiers, with `tiers`). `per_lane[l][g]`: values of fine group `g` in lane `l`.
fn level_stats(
    lanes: &[&[(&[u32], &[f64])]],
    per_lane: &[Vec<u64>],
    level_of_fine: &[u32],
    compact: &[u32],
    needed: &[u32],
    counts: &[u64],
    tiers: Option<&TierRule>,
) -> Vec<(OrderStats, Option<Tiers>)> {
    let mut offsets: Vec<usize> = Vec::with_capacity(needed.len() + 1);
    offsets.push(0);
    for &lg in needed {
        let last = offsets.last().copied().unwrap_or(0);
        offsets.push(last + counts[lg as usize] as usize);
    }
    let total = offsets.last().copied().unwrap_or(0);
    let mut values = vec![0.0f64; total];
    // The buffer is fresh memory: the kernel zeroes each page at its first touch, and
    // the serial scatter below would pay all of that alone (measured: most of its
    // time). Touch one slot per 4 KiB page on every worker first; the slots already
    // hold 0.0, so the contents do not change.
    values
        .par_chunks_mut(4096 / std::mem::size_of::<f64>())
        .for_each(|page| page[0] = 0.0);
    // The lines come cut into one lane per worker (whole units, about equal rows); each
    // group's slice is cut into one piece per lane, sized by the lane's count of the
    // group: every lane then scatters into its own pieces, all lanes at once.
    let group_of = |g: u32, v: f64| -> Option<usize> {
        if g == NO_GROUP || v.is_nan() {
            return None;
        }
        let c = compact[level_of_fine[g as usize] as usize];
        (c != u32::MAX).then_some(c as usize)
    };
    // Values per lane and needed group, from the lanes' fine counts.
    let group_counts: Vec<Vec<usize>> = per_lane
        .iter()
        .map(|fine| {
            let mut n = vec![0usize; needed.len()];
            for (&c, &l) in fine.iter().zip(level_of_fine) {
                if let Some(&k) = compact.get(l as usize)
                    && k != u32::MAX
                {
                    n[k as usize] += c as usize;
                }
            }
            n
        })
        .collect();
    let mut pieces: Vec<Vec<&mut [f64]>> = lanes
        .iter()
        .map(|_| Vec::with_capacity(needed.len()))
        .collect();
    let mut rest: &mut [f64] = &mut values;
    for c in 0..needed.len() {
        for (lane, counts) in pieces.iter_mut().zip(&group_counts) {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(counts[c]);
            lane.push(head);
            rest = tail;
        }
    }
    lanes.par_iter().zip(pieces).for_each(|(lane, mut mine)| {
        for (gids, vals) in lane.iter() {
            for (&g, &v) in gids.iter().zip(vals.iter()) {
                if let Some(c) = group_of(g, v)
                    && let Some((first, tail)) = std::mem::take(&mut mine[c]).split_first_mut()
                {
                    *first = v;
                    mine[c] = tail;
                }
            }
        }
    });
    // Split into one mutable slice per group, then reduce in parallel.
    let mut slices: Vec<&mut [f64]> = Vec::with_capacity(needed.len());
    let mut rest: &mut [f64] = &mut values;
    for w in offsets.windows(2) {
        let (head, tail) = rest.split_at_mut(w[1] - w[0]);
        slices.push(head);
        rest = tail;
    }
    // Groups come in first-appearance order, so the largest come first: without a cap
    // on the pieces, one worker ends up alone on the first quarter of the groups.
    slices
        .into_par_iter()
        .with_max_len(256)
        .map_init(Vec::new, |scratch, s| {
            let stats = order_stats(s, scratch).unwrap_or(OrderStats {
                count: 0,
                q1: f64::NAN,
                median: f64::NAN,
                q3: f64::NAN,
                mad: f64::NAN,
                mean_ad: f64::NAN,
            });
            let tiers = tiers.and_then(|rule| fit_tiers(s, &stats, rule, scratch));
            (stats, tiers)
        })
        .collect()
}

/// `parts` cut into one to `n` runs of whole units with about equal rows each.
fn lanes<'p, 'a>(
    parts: &'p [(&'a [u32], &'a [f64])],
    n: usize,
) -> Vec<&'p [(&'a [u32], &'a [f64])]> {
    let total: usize = parts.iter().map(|p| p.0.len()).sum();
    let per_lane = total.div_ceil(n.max(1)).max(1);
    let mut lanes = Vec::with_capacity(n);
    let (mut start, mut rows) = (0, 0);
    for (i, p) in parts.iter().enumerate() {
        rows += p.0.len();
        if rows >= per_lane && lanes.len() + 1 < n {
            lanes.push(&parts[start..=i]);
            (start, rows) = (i + 1, 0);
        }
    }
    lanes.push(&parts[start..]);
    lanes
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use super::*;
    use crate::kernels::codes::{Code, HsCode};
    use crate::kernels::unit_value::Basis;
    use proptest::prelude::*;

    /// A fine key of a test line.
    pub(in crate::baseline) fn key(hs: &str, origin: &str) -> FineKey {
        FineKey {
            hs: HsCode::parse(hs).unwrap(),
            origin: Code::parse(origin),
            unit: Code::KGM,
            basis: Basis::PerKg,
        }
    }

    /// The median by sorting (`quantile_cont(0.5)`), the reference of the tests.
    pub(in crate::baseline) fn naive_median(v: &mut [f64]) -> f64 {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let p = (v.len() - 1) as f64 * 0.5;
        let (lo, hi) = (p.floor() as usize, p.ceil() as usize);
        if lo == hi {
            v[lo]
        } else {
            v[lo] + (p - p.floor()) * (v[hi] - v[lo])
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        /// Per-group medians and MADs after fallback equal a naive group-by + sort.
        #[test]
        fn per_group_results_match_naive(
            rows in prop::collection::vec((0usize..6, 0usize..3, -5.0f64..5.0, any::<bool>()), 0..300),
            split in 1usize..50,
            min in 1usize..20,
        ) {
            let hs = ["0101100000", "0101200000", "0102100000", "0101109000", "8471300000", "8471410000"];
            let origins = ["CN", "DE", "US"];
            let mut keys: Vec<FineKey> = Vec::new();
            let mut gids = Vec::new();
            let mut vals = Vec::new();
            for &(h, o, v, null) in &rows {
                let k = key(hs[h], origins[o]);
                let g = keys.iter().position(|x| *x == k).unwrap_or_else(|| { keys.push(k); keys.len() - 1 });
                gids.push(g as u32);
                // NaN marks a line without a value; it must not count.
                vals.push(if null { f64::NAN } else { v });
            }
            let levels = GroupLevel::default_chain();
            let parts: Vec<(&[u32], &[f64])> =
                gids.chunks(split).zip(vals.chunks(split)).collect();
            let b = build_baseline(&parts, &keys, &levels, min, None, None);

            for (g, fk) in keys.iter().enumerate() {
                // Naive: the first level whose group holds at least `min` values.
                let mut want = None;
                for (l, level) in levels.iter().enumerate() {
                    let mut members: Vec<f64> = gids.iter().zip(&vals)
                        .filter(|(gg, v)| level.key(keys[**gg as usize]) == level.key(*fk) && !v.is_nan())
                        .map(|(_, v)| *v).collect();
                    if members.len() >= min {
                        let med = naive_median(&mut members);
                        let mut dev: Vec<f64> = members.iter().map(|v| (v - med).abs()).collect();
                        want = Some((l, members.len() as u64, med, naive_median(&mut dev)));
                        break;
                    }
                }
                let has_values = gids.iter().zip(&vals).any(|(gg, v)| *gg as usize == g && !v.is_nan());
                let got = b.for_group(g as u32).map(|gb| (gb.level, gb.stats.count, gb.stats.median, gb.stats.mad));
                if has_values {
                    prop_assert_eq!(got, want);
                } else {
                    prop_assert_eq!(got, None);
                }
            }
        }
    }

    #[test]
    fn empty_input() {
        let b = build_baseline(&[], &[], &GroupLevel::default_chain(), 30, None, None);
        assert!(b.groups.is_empty());
    }

    proptest! {
        /// Lanes are the parts in order, whole, one to `n` of them.
        #[test]
        fn lanes_cover_the_parts_in_order(sizes in prop::collection::vec(0usize..50, 0..20), n in 1usize..5) {
            let gids: Vec<Vec<u32>> = sizes.iter().map(|&s| vec![0; s]).collect();
            let vals: Vec<Vec<f64>> = sizes.iter().map(|&s| vec![0.0; s]).collect();
            let parts: Vec<(&[u32], &[f64])> =
                gids.iter().zip(&vals).map(|(g, v)| (g.as_slice(), v.as_slice())).collect();
            let lanes = lanes(&parts, n);
            prop_assert!(lanes.len() <= n.max(1));
            prop_assert!(!lanes.is_empty());
            let joined: Vec<usize> = lanes.iter().flat_map(|l| l.iter().map(|p| p.0.len())).collect();
            prop_assert_eq!(joined, sizes);
        }
    }
}
