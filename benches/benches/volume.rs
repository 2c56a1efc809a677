//! Volume benches: `volume/...`, the kernels of the volume pass: panel layout, the
//! trailing-window kernel, the surge detector per series, the per-unit cell
//! aggregation and the merge of the units' cells.
//!
//! Fixtures are built once per process from [`fixtures::SEED`]; each timed iteration
//! asserts a checksum computed once before timing, so a broken or skipped kernel fails.
//! Throughputs are in series/s (panel, rolling, surge) or lines/s (cells).
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p tradescan-benches --bench volume
//! cargo bench -p tradescan-benches --bench volume -- cells      # a filter
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tradescan::detect::{
    Direction, Series, SeriesFlag, Surge, SurgeConfig, SurgeCounts, SurgeScratch,
};
use tradescan::kernels::rolling::{TrailingWindow, WindowStats};
use tradescan::series::CellDims;
use tradescan::series::PeriodKind;
use tradescan::series::VolumeMeasure;
use tradescan::series::cells::{
    CellOptions, CellOrder, CellSymbols, MergedCells, UnitCells, merge,
};
use tradescan::series::entries::Prior;
use tradescan::series::panel::Panel;
use tradescan_benches::fixtures::{self, CellLines, LineBatch, Rand, UNIT_ROWS, VolumeSeries};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Periods of every series fixture: two years of weeks.
const PERIODS: usize = 104;
/// Series of the panel fixtures.
const PANEL_SERIES: usize = 20_000;
/// Series of the rolling and surge fixtures.
const SERIES: usize = 10_000;
/// Trailing window of the rolling bench (the weekly surge default).
const WINDOW: usize = 26;
/// Lines aggregated by `cells/add_batch`; `cells/merge` merges [`MERGE_UNITS`] units.
const CELL_ROWS: usize = 1_000_000;
/// Scan units merged by `cells/merge` (of [`UNIT_ROWS`] lines each).
const MERGE_UNITS: usize = 8;
/// Distinct importer ids of the cell fixture.
const IMPORTERS: usize = 20_000;
/// Rows per decoded batch, the engine's default.
const BATCH_SIZE: usize = 65_536;
/// Every this many entries a panel is probed for the checksum.
const PROBE_STRIDE: usize = 61;
/// Fixture streams: one per fixture, so adding one does not change the others.
const STREAM_PANEL_DENSE: u64 = 101;
const STREAM_PANEL_SPARSE: u64 = 102;
const STREAM_ROLLING: u64 = 103;
const STREAM_SURGE: u64 = 104;
const STREAM_CELLS: u64 = 105;

fn config() -> Criterion {
    Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args()
}

/// Shape of a panel plus the bits of every `PROBE_STRIDE`th entry's amount, read back
/// from the panel (a cell missing from a sparse panel reads as NaN).
fn panel_probe(p: &Panel, entries: &[(u32, u32, f64)]) -> u64 {
    let head = ((p.series() as u64) << 32 | p.periods() as u64) ^ u64::from(p.is_dense()) << 63;
    entries
        .iter()
        .step_by(PROBE_STRIDE)
        .map(|&(s, t, _)| {
            let v = match p {
                Panel::Dense(a) => a[(s as usize, t as usize)],
                Panel::Sparse {
                    offsets,
                    index,
                    amounts,
                    ..
                } => {
                    let run = offsets[s as usize]..offsets[s as usize + 1];
                    index[run.clone()]
                        .binary_search(&t)
                        .map_or(f64::NAN, |i| amounts[run.start + i])
                }
            };
            v.to_bits()
        })
        .fold(head, u64::wrapping_add)
}

fn bench_panel(c: &mut Criterion) {
    let mut g = c.benchmark_group("volume");
    g.throughput(Throughput::Elements(PANEL_SERIES as u64));
    for (name, fill, stream, dense) in [
        ("build_dense", 0.6, STREAM_PANEL_DENSE, true),
        ("build_sparse", 0.05, STREAM_PANEL_SPARSE, false),
    ] {
        let entries = fixtures::panel_entries(
            PANEL_SERIES,
            PERIODS,
            fill,
            &mut Rand::new(fixtures::SEED, stream),
        );
        let panel = Panel::build(PANEL_SERIES, PERIODS, &entries);
        assert_eq!(panel.is_dense(), dense, "{name}: fill {fill}");
        let want = panel_probe(&panel, &entries);
        // The probe read back from the panel is the entries' own amounts.
        let head = ((PANEL_SERIES as u64) << 32 | PERIODS as u64) ^ u64::from(dense) << 63;
        let expected = entries
            .iter()
            .step_by(PROBE_STRIDE)
            .fold(head, |a, e| a.wrapping_add(e.2.to_bits()));
        assert_eq!(want, expected, "{name}: panel does not hold its entries");
        drop(panel);
        g.bench_function(format!("panel/{name}"), |b| {
            b.iter(|| {
                let p = Panel::build(PANEL_SERIES, PERIODS, black_box(&entries));
                assert_eq!(panel_probe(&p, &entries), want);
            });
        });
    }
    g.finish();
}

/// Trailing-window statistics of every period (from 1) of every series; checksum: the
/// wrapping sum of the medians' bits.
fn rolling_medians(k: &mut TrailingWindow, x: &VolumeSeries) -> u64 {
    let mut acc = 0u64;
    for s in 0..x.len() {
        let (amounts, _) = x.series(s);
        k.run(amounts, 1, |_, mut w| {
            if let Some(st) = w.stats() {
                acc = acc.wrapping_add(st.median.to_bits());
            }
        });
    }
    acc
}

fn bench_rolling(c: &mut Criterion) {
    let x = fixtures::volume_series(
        SERIES,
        PERIODS,
        &mut Rand::new(fixtures::SEED, STREAM_ROLLING),
    );
    let mut k = TrailingWindow::new(WINDOW);
    let want = rolling_medians(&mut k, &x);
    // The kernel against windows sorted from scratch, on the first 100 series.
    let mut naive = 0u64;
    let mut fast = 0u64;
    for s in 0..100 {
        let (a, _) = x.series(s);
        for t in 1..a.len() {
            naive = naive.wrapping_add(
                WindowStats::of(&a[t.saturating_sub(WINDOW)..t]).map_or(0, |w| w.median.to_bits()),
            );
        }
        k.run(a, 1, |_, mut w| {
            fast = fast.wrapping_add(w.stats().map_or(0, |w| w.median.to_bits()));
        });
    }
    assert_eq!(fast, naive, "trailing window disagrees with sorting");
    let mut g = c.benchmark_group("volume");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function(format!("rolling/trailing_window_{WINDOW}"), |b| {
        b.iter(|| assert_eq!(rolling_medians(&mut k, black_box(&x)), want));
    });
    g.finish();
}

/// Judge every series; returns (flags, sum of the flags' periods) and the flags' (series,
/// period, direction) into `found`.
fn judge_all(
    surge: &Surge,
    scratch: &mut SurgeScratch,
    x: &VolumeSeries,
    flags: &mut Vec<SeriesFlag>,
    mut found: Option<&mut Vec<(usize, usize, Direction)>>,
) -> (u64, u64) {
    let mut counts = SurgeCounts::default();
    let (mut n, mut t_sum) = (0u64, 0u64);
    for s in 0..x.len() {
        let (amounts, lines) = x.series(s);
        let series = Series {
            amounts,
            lines,
            prior: Prior::default(),
            from: 0,
        };
        flags.clear();
        surge.judge_series(&series, |_| true, scratch, &mut counts, flags);
        n += flags.len() as u64;
        for f in flags.iter() {
            t_sum += f.t as u64;
            if let Some(found) = found.as_deref_mut() {
                found.push((s, f.t, f.direction));
            }
        }
    }
    (n, t_sum)
}

fn bench_surge(c: &mut Criterion) {
    let x = fixtures::volume_series(
        SERIES,
        PERIODS,
        &mut Rand::new(fixtures::SEED, STREAM_SURGE),
    );
    let surge = Surge::new(&SurgeConfig::default(), PeriodKind::Week);
    let mut scratch = SurgeScratch::new(&surge);
    let mut flags = Vec::new();
    let mut found = Vec::new();
    let want = judge_all(&surge, &mut scratch, &x, &mut flags, Some(&mut found));
    // The planted surges and drops must mostly be found, among far fewer flags than
    // series.
    let hit = |planted: &[(usize, usize)], dir: Direction, span: usize| {
        planted
            .iter()
            .filter(|&&(s, t)| {
                found
                    .iter()
                    .any(|&(fs, ft, fd)| fs == s && fd == dir && (t..t + span).contains(&ft))
            })
            .count()
    };
    let surges = hit(&x.surges, Direction::High, 1);
    let drops = hit(&x.drops, Direction::Low, 3);
    assert!(
        surges * 2 > x.surges.len() && drops * 2 > x.drops.len() && want.0 < SERIES as u64 / 5,
        "implausible: {want:?} flags, {surges} of {} planted surges, {drops} of {} drops",
        x.surges.len(),
        x.drops.len()
    );
    let mut g = c.benchmark_group("volume");
    g.throughput(Throughput::Elements(SERIES as u64));
    g.bench_function("surge/judge_series", |b| {
        b.iter(|| {
            assert_eq!(
                judge_all(&surge, &mut scratch, black_box(&x), &mut flags, None),
                want
            )
        });
    });
    g.finish();
}

fn cell_options() -> CellOptions {
    CellOptions {
        period: PeriodKind::Week,
        measure: VolumeMeasure::Quantity,
        split: Vec::new(),
        split_band: 0.2,
        window: (None, None),
        plausible: (i32::MIN, i32::MAX),
        dims: CellDims::ALL,
    }
}

/// Aggregate each unit's batches into its own cells, one unit after the other (as one
/// worker does), and finish them.
fn aggregate(
    lines: &CellLines,
    units: &[Vec<LineBatch>],
    opts: &CellOptions,
) -> (Vec<UnitCells>, CellSymbols) {
    let syms = CellSymbols::default();
    let cells = units
        .iter()
        .enumerate()
        .map(|(ui, batches)| {
            let rows = batches.iter().map(|b| b.rows.len()).sum();
            let mut u = UnitCells::with_rows(rows, ui);
            for b in batches {
                u.add_batch(&b.columns(lines), opts, &syms).unwrap();
            }
            u.finish();
            u
        })
        .collect();
    (cells, syms)
}

/// Cells and line counters of finished units.
fn units_sum(units: &[UnitCells]) -> u64 {
    units
        .iter()
        .map(|u| {
            let (lo, hi) = u.day_range.unwrap_or((0, 0));
            (u.cell_count() as u64)
                .wrapping_mul(0x9E37_79B9)
                .wrapping_add(u.lines_used)
                .wrapping_add(u.missing_date << 20)
                .wrapping_add(u.short_hs_code << 40)
                .wrapping_add(u.without_measure << 50)
                .wrapping_add((lo as u64) << 32 ^ hi as u64)
        })
        .fold(0u64, u64::wrapping_add)
}

/// Every merged cell's key and sums, the symbol tables' sizes and the line counters.
fn merged_sum(m: &MergedCells) -> u64 {
    let cells = (m.shards.iter().flatten().flatten())
        .map(|(k, a)| {
            k.hs6
                .wrapping_mul(31)
                .wrapping_add(u64::from(k.importer) << 20)
                .wrapping_add(u64::from(k.office) << 40)
                .wrapping_add(k.origin.0)
                .wrapping_add(k.period as u64)
                .wrapping_add(u64::from(a.lines))
                .wrapping_add(a.amount.value().to_bits())
                .wrapping_add(a.value.value().to_bits())
        })
        .fold(0u64, u64::wrapping_add);
    cells
        .wrapping_add((m.importers.len() as u64) << 32)
        .wrapping_add((m.offices.len() as u64) << 48)
        .wrapping_add(m.lines_used)
        .wrapping_add(m.missing_date << 20)
        .wrapping_add(m.short_hs_code << 40)
        .wrapping_add(m.without_measure << 50)
}

fn bench_cells(c: &mut Criterion) {
    let lines = fixtures::cell_lines(
        MERGE_UNITS * UNIT_ROWS,
        IMPORTERS,
        &mut Rand::new(fixtures::SEED, STREAM_CELLS),
    );
    let opts = cell_options();
    let mut g = c.benchmark_group("volume");

    // add_batch + finish over the first CELL_ROWS lines, in scan units of UNIT_ROWS.
    let units = lines.units(CELL_ROWS, UNIT_ROWS, BATCH_SIZE);
    let (done, _) = aggregate(&lines, &units, &opts);
    let used: u64 = done.iter().map(|u| u.lines_used).sum();
    let skipped: u64 = done.iter().map(|u| u.missing_date + u.short_hs_code).sum();
    assert_eq!(used + skipped, CELL_ROWS as u64);
    let cells: usize = done.iter().map(UnitCells::cell_count).sum();
    assert!(cells > CELL_ROWS / 20 && cells < CELL_ROWS, "{cells} cells");
    let want = units_sum(&done);
    drop(done);
    g.throughput(Throughput::Elements(CELL_ROWS as u64));
    g.bench_function("cells/add_batch", |b| {
        b.iter(|| {
            assert_eq!(
                units_sum(&aggregate(&lines, black_box(&units), &opts).0),
                want
            )
        });
    });

    // merge of MERGE_UNITS units' cells; the units are rebuilt (untimed) for every
    // iteration, as the merge consumes them.
    let units = lines.units(lines.len(), UNIT_ROWS, BATCH_SIZE);
    assert_eq!(units.len(), MERGE_UNITS);
    let (cells, syms) = aggregate(&lines, &units, &opts);
    let merged = merge(cells, syms, (&[], &[]), CellOrder::Hs6);
    let folded: u64 = (merged.shards.iter().flatten().flatten())
        .map(|c| u64::from(c.1.lines))
        .sum();
    assert_eq!(folded, merged.lines_used);
    assert!(merged.importers.len() > IMPORTERS / 2 && merged.importers.len() <= IMPORTERS);
    let want = merged_sum(&merged);
    drop(merged);
    g.throughput(Throughput::Elements(lines.len() as u64));
    // rayon's global pool (every core), as the engine runs it inside its own pool.
    g.bench_function("cells/merge", |b| {
        b.iter_batched(
            || aggregate(&lines, &units, &opts),
            |(u, syms)| {
                assert_eq!(
                    merged_sum(&merge(u, syms, (&[], &[]), CellOrder::Hs6)),
                    want
                )
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_panel, bench_rolling, bench_surge, bench_cells
}
criterion_main!(benches);
