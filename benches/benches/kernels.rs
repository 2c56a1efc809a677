//! Kernel benches: `kernels/...`, `baseline/...`, `detect/...`, in rows/s.
//!
//! Fixtures are built once per process from [`fixtures::SEED`]; each timed iteration
//! asserts a checksum computed once before timing, so a broken or skipped kernel fails.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p tradescan-benches --bench kernels
//! cargo bench -p tradescan-benches --bench kernels -- hs_code      # a filter
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tradescan::baseline::{
    FineKey, GroupLevel, MeasureBaseline, NO_GROUP, StoredGroups, build_baseline,
};
use tradescan::detect::{Detector, IqrFence, IqrFenceConfig, Judgement, RobustZ, RobustZConfig};
use tradescan::kernels::arrow_edge::{codes, f64_values, hs_codes};
use tradescan::kernels::codes::{Code, HsCode};
use tradescan::kernels::hash::FxHashMap;
use tradescan::kernels::intern::KeyIndex;
use tradescan::kernels::order_stats::{OrderStats, order_stats};
use tradescan::kernels::tiers::TierRule;
use tradescan::kernels::unit_value::{Basis, ln_kg_per_unit, ln_unit_value};
use tradescan_benches::bits_sum;
use tradescan_benches::fixtures::{self, Rand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rows of every row-oriented fixture.
const ROWS: usize = 1_000_000;
/// Fixture streams: one per fixture, so adding one does not change the others.
const STREAM_UNIT_VALUE: u64 = 1;
const STREAM_CODES: u64 = 2;
const STREAM_FLOATS: u64 = 3;
const STREAM_GROUPS: u64 = 4;
const STREAM_LINES: u64 = 5;
const STREAM_KEYS: u64 = 6;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// ln unit value of every line into `out`; returns the checksum (bits of the values,
/// plus each skip reason code).
fn unit_values(inp: &fixtures::UnitValueInputs, basis: Basis, out: &mut Vec<f64>) -> u64 {
    out.clear();
    let mut skipped = 0u64;
    for ((&v, &q), &m) in inp.value.iter().zip(&inp.quantity).zip(&inp.mass) {
        match ln_unit_value(v, q, m, basis) {
            Ok(x) => out.push(x),
            Err(reason) => {
                skipped += reason as u64;
                out.push(f64::NAN);
            }
        }
    }
    bits_sum(out).wrapping_add(skipped)
}

fn kg_per_unit(inp: &fixtures::UnitValueInputs, out: &mut Vec<f64>) -> u64 {
    out.clear();
    out.extend(
        inp.quantity
            .iter()
            .zip(&inp.mass)
            .map(|(&q, &m)| ln_kg_per_unit(q, m)),
    );
    bits_sum(out)
}

fn bench_unit_value(c: &mut Criterion) {
    let inp = fixtures::unit_value_inputs(ROWS, &mut Rand::new(fixtures::SEED, STREAM_UNIT_VALUE));
    let mut out = Vec::with_capacity(ROWS);
    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Elements(ROWS as u64));
    for (name, basis) in [("per_unit", Basis::PerUnit), ("per_kg", Basis::PerKg)] {
        let want = unit_values(&inp, basis, &mut out);
        g.bench_function(format!("unit_value/{name}"), |b| {
            b.iter(|| assert_eq!(unit_values(black_box(&inp), basis, &mut out), want));
        });
    }
    let want = kg_per_unit(&inp, &mut out);
    g.bench_function("kg_per_unit/1m", |b| {
        b.iter(|| assert_eq!(kg_per_unit(black_box(&inp), &mut out), want));
    });
    g.finish();
}

fn hs_sum(v: &[HsCode]) -> u64 {
    v.iter().fold(0u64, |a, c| a.wrapping_add(c.0))
}

fn code_sum(v: &[tradescan::kernels::codes::Code]) -> u64 {
    v.iter().fold(0u64, |a, c| a.wrapping_add(c.0))
}

fn bench_codes(c: &mut Criterion) {
    let cols = fixtures::code_columns(ROWS, 6_000, &mut Rand::new(fixtures::SEED, STREAM_CODES));
    let want_hs = hs_sum(&hs_codes(&cols.hs_utf8).unwrap());
    assert_eq!(hs_sum(&hs_codes(&cols.hs_dict).unwrap()), want_hs);
    let strs: Vec<&str> = cols.hs_utf8.iter().map(|s| s.unwrap_or("")).collect();
    let want_origin = code_sum(&codes(&cols.origin_utf8, false).unwrap());
    let want_unit = code_sum(&codes(&cols.unit_utf8, true).unwrap());

    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.bench_function("hs_code/parse_str", |b| {
        b.iter(|| {
            let s = black_box(&strs)
                .iter()
                .map(|s| HsCode::parse(s).unwrap_or_default())
                .fold(0u64, |a, c| a.wrapping_add(c.0));
            assert_eq!(s, want_hs);
        });
    });
    g.bench_function("hs_code/parse_utf8", |b| {
        b.iter(|| {
            assert_eq!(
                hs_sum(&hs_codes(black_box(&cols.hs_utf8)).unwrap()),
                want_hs
            )
        });
    });
    g.bench_function("hs_code/dictionary", |b| {
        b.iter(|| {
            assert_eq!(
                hs_sum(&hs_codes(black_box(&cols.hs_dict)).unwrap()),
                want_hs
            )
        });
    });
    g.bench_function("codes/origin_utf8", |b| {
        b.iter(|| {
            let v = codes(black_box(&cols.origin_utf8), false).unwrap();
            assert_eq!(code_sum(&v), want_origin);
        });
    });
    g.bench_function("codes/unit_utf8", |b| {
        b.iter(|| {
            let v = codes(black_box(&cols.unit_utf8), true).unwrap();
            assert_eq!(code_sum(&v), want_unit);
        });
    });
    g.finish();
}

fn bench_f64_values(c: &mut Criterion) {
    let mut rng = Rand::new(fixtures::SEED, STREAM_FLOATS);
    let dense = fixtures::float_column(ROWS, None, &mut rng);
    let nullable = fixtures::float_column(ROWS, Some(100), &mut rng);
    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Elements(ROWS as u64));
    for (name, arr) in [("float64", &dense), ("float64_1pct_null", &nullable)] {
        let want = bits_sum(&f64_values(arr).unwrap());
        g.bench_function(format!("f64_values/{name}"), |b| {
            b.iter(|| assert_eq!(bits_sum(&f64_values(black_box(arr)).unwrap()), want));
        });
    }
    g.finish();
}

/// Order statistics of every group of `size` consecutive values; checksum: bits of
/// the medians, MADs and quartiles.
fn all_order_stats(values: &mut [f64], size: usize, scratch: &mut Vec<f64>) -> u64 {
    values
        .chunks_mut(size)
        .map(|g| {
            let s: OrderStats = order_stats(g, scratch).unwrap();
            s.median
                .to_bits()
                .wrapping_add(s.mad.to_bits())
                .wrapping_add(s.q1.to_bits())
                .wrapping_add(s.q3.to_bits())
        })
        .fold(0u64, u64::wrapping_add)
}

fn bench_order_stats(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernels");
    // Up to 48 values take the sort path, more take selection: 48 and 64 sit on either
    // side of the switch. About ROWS values in every case.
    for (name, size) in [
        ("group_16", 16usize),
        ("group_48", 48),
        ("group_64", 64),
        ("group_1k", 1_000),
        ("group_100k", 100_000),
    ] {
        let groups = ROWS / size;
        g.throughput(Throughput::Elements((groups * size) as u64));
        let mut rng = Rand::new(fixtures::SEED, STREAM_GROUPS);
        let src = fixtures::grouped_values(groups, size, &mut rng);
        let mut scratch = Vec::new();
        let want = all_order_stats(&mut src.clone(), size, &mut scratch);
        g.bench_function(format!("order_stats/{name}"), |b| {
            // The kernel reorders its input: give each iteration a fresh, unsorted copy
            // (the copy is not timed).
            b.iter_batched_ref(
                || src.clone(),
                |work| assert_eq!(all_order_stats(work, size, &mut scratch), want),
                BatchSize::LargeInput,
            );
        });
    }
    g.finish();
}

fn baseline_sum(b: &MeasureBaseline) -> u64 {
    b.groups
        .iter()
        .map(|g| {
            g.stats
                .median
                .to_bits()
                .wrapping_add(g.stats.mad.to_bits())
                .wrapping_add(g.stats.count)
                .wrapping_add(g.level as u64)
        })
        .fold(b.groups.len() as u64, u64::wrapping_add)
}

fn lines() -> fixtures::GroupedLines {
    fixtures::grouped_lines(ROWS, 2_000, &mut Rand::new(fixtures::SEED, STREAM_LINES))
}

/// Group-key interning as the measure pass does it: each of two workers interns its own
/// 1M lines, drawn from 64k distinct keys (a table of megabytes, as a national year
/// gives), into its own table, in batches of 65,536 lines; the two run at once, sharing
/// the cache as the workers of a scan do. The checksum is the sum of the ids, which
/// first-appearance order fixes.
fn bench_intern(c: &mut Criterion) {
    let mut rng = Rand::new(fixtures::SEED, STREAM_KEYS);
    let distinct: Vec<FineKey> = (0..65_536u64)
        .map(|i| FineKey {
            hs: HsCode::parse(&format!("{:06}", 10_000 + i % 9_000)).unwrap_or(HsCode::NONE),
            origin: Code::parse(&format!("O{}", i / 9_000)),
            unit: Code::NONE,
            basis: Basis::PerUnit,
        })
        .collect();
    let lines: Vec<FineKey> = (0..2 * ROWS)
        .map(|_| distinct[rng.below(distinct.len() as u64) as usize])
        .collect();
    let hashmap = |lines: &[FineKey], map: &mut FxHashMap<FineKey, u32>| -> u64 {
        map.clear();
        let mut sum = 0u64;
        for k in lines {
            let next = map.len() as u32;
            sum += u64::from(*map.entry(*k).or_insert(next));
        }
        sum
    };
    let key_index = |lines: &[FineKey], index: &mut KeyIndex<FineKey>| -> u64 {
        index.clear();
        let (mut keys, mut ids) = (Vec::new(), Vec::new());
        for batch in lines.chunks(65_536) {
            index.intern(batch, &mut keys, &mut ids);
        }
        ids.iter().map(|&i| u64::from(i)).sum()
    };
    let halves: Vec<&[FineKey]> = lines.chunks(ROWS).collect();
    let want: Vec<u64> = halves
        .iter()
        .map(|h| hashmap(h, &mut FxHashMap::default()))
        .collect();
    let mut g = c.benchmark_group("kernels");
    g.throughput(Throughput::Elements(2 * ROWS as u64));
    g.bench_function("intern/2x1m_lines_64k_keys/hashmap", |b| {
        let mut maps = vec![FxHashMap::default(); 2];
        b.iter(|| assert_eq!(on_workers(&halves, &mut maps, hashmap), want));
    });
    g.bench_function("intern/2x1m_lines_64k_keys/key_index", |b| {
        let mut indexes: Vec<KeyIndex<FineKey>> = vec![KeyIndex::default(), KeyIndex::default()];
        b.iter(|| assert_eq!(on_workers(&halves, &mut indexes, key_index), want));
    });
    g.finish();
}

/// `f(part, state)` for every part on its own thread, all at once; the results in order.
fn on_workers<S: Send>(
    parts: &[&[FineKey]],
    states: &mut [S],
    f: impl Fn(&[FineKey], &mut S) -> u64 + Sync,
) -> Vec<u64> {
    std::thread::scope(|s| {
        let f = &f;
        let run: Vec<_> = states
            .iter_mut()
            .zip(parts)
            .map(|(state, &part)| s.spawn(move || f(black_box(part), state)))
            .collect();
        run.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

fn bench_baseline(c: &mut Criterion) {
    let lines = lines();
    let parts = lines.parts();
    let levels = GroupLevel::default_chain();
    let want = baseline_sum(&build_baseline(
        &parts,
        &lines.keys,
        &levels,
        30,
        None,
        None,
    ));
    let mut g = c.benchmark_group("baseline");
    g.throughput(Throughput::Elements(ROWS as u64));
    // rayon's global pool (every core), as the engine runs it inside its own pool.
    g.bench_function("build/1m_rows_zipf_groups", |b| {
        b.iter(|| {
            let base = build_baseline(black_box(&parts), &lines.keys, &levels, 30, None, None);
            assert_eq!(baseline_sum(&base), want);
        });
    });
    // The same with every group fitted for price tiers (the default scan).
    let rule = TierRule::default();
    g.bench_function("build_with_tiers/1m_rows_zipf_groups", |b| {
        b.iter(|| {
            let base = build_baseline(
                black_box(&parts),
                &lines.keys,
                &levels,
                30,
                None,
                Some(&rule),
            );
            assert_eq!(baseline_sum(&base), want);
        });
    });
    // Scoring against a stored baseline: every group of every level stored, the lines
    // resolved against them (the same lines as the history: the same groups as a build).
    let stored = StoredGroups::build(&parts, &lines.keys, &levels, None);
    g.bench_function("resolve/1m_rows_stored_groups", |b| {
        b.iter(|| {
            let base = stored.resolve(black_box(&parts), &lines.keys, &levels, 30, None);
            assert_eq!(baseline_sum(&base), want);
        });
    });
    g.finish();
}

/// Verdict counts of a detector over all lines: flags, low flags, no-spread verdicts,
/// and the wrapping sum of the flags' score bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Verdicts {
    flags: u64,
    low: u64,
    no_spread: u64,
    score_bits: u64,
}

/// Judge every line with a resolved group.
fn judge_all(det: &dyn Detector, x: &[f64], group: &[u32], stats: &[OrderStats]) -> Verdicts {
    let (mut flags, mut low, mut no_spread, mut scores) = (0u64, 0u64, 0u64, 0u64);
    for (&x, &g) in x.iter().zip(group) {
        if g == NO_GROUP || x.is_nan() {
            continue;
        }
        match det.judge(x, &stats[g as usize]) {
            Judgement::Flag {
                score, direction, ..
            } => {
                flags += 1;
                low += u64::from(direction == tradescan::detect::Direction::Low);
                scores = scores.wrapping_add(score.to_bits());
            }
            Judgement::NoSpread => no_spread += 1,
            Judgement::Pass => {}
        }
    }
    Verdicts {
        flags,
        low,
        no_spread,
        score_bits: scores,
    }
}

fn bench_detect(c: &mut Criterion) {
    let lines = lines();
    let base = build_baseline(
        &lines.parts(),
        &lines.keys,
        &GroupLevel::default_chain(),
        30,
        None,
        None,
    );
    // Per line: index of its resolved group (NO_GROUP when none), as the scorer looks
    // it up.
    let group: Vec<u32> = lines
        .gid
        .iter()
        .map(|&g| {
            if g == NO_GROUP {
                NO_GROUP
            } else {
                base.resolved[g as usize].unwrap_or(NO_GROUP)
            }
        })
        .collect();
    let stats: Vec<OrderStats> = base.groups.iter().map(|g| g.stats).collect();
    let robust = RobustZ::new(RobustZConfig::default());
    let iqr = IqrFence::new(IqrFenceConfig::default());
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(ROWS as u64));
    for (name, det) in [
        ("robust_z/1m", &robust as &dyn Detector),
        ("iqr_fence/1m", &iqr as &dyn Detector),
    ] {
        let want = judge_all(det, &lines.value, &group, &stats);
        // About 0.5% of lines are planted anomalies: the detectors must find some,
        // and flag far fewer than all lines.
        assert!(
            want.flags > lines.planted as u64 / 4 && want.flags < ROWS as u64 / 20,
            "{name}: implausible {want:?} for {} planted",
            lines.planted
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                assert_eq!(
                    judge_all(det, black_box(&lines.value), &group, &stats),
                    want
                )
            });
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_unit_value, bench_codes, bench_f64_values, bench_order_stats,
        bench_intern, bench_baseline, bench_detect
}
criterion_main!(benches);
