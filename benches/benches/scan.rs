//! End-to-end bench: `Engine::scan` with the default configuration over 1,000,000
//! generated lines (12 monthly partitions, written once per process into a temporary
//! directory), on 1 and 2 threads, in rows/s.
//!
//! Checksum: every timed scan must return the findings count and rows scored of the
//! first (untimed) scan, whatever the thread count.
//!
//! ```text
//! CARGO_TARGET_DIR=/tmp/target-bench cargo bench -p tradescan-benches --bench scan
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tradescan::{Config, Engine, NoProgress};
use tradescan_benches::e2e::ensure_dataset;
use tradescan_benches::fixtures;
use tradescan_datasets::generate::GeneratorConfig;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROWS: u64 = 1_000_000;

fn engine(threads: usize) -> Engine {
    let mut config = Config::default();
    config.scan.threads = threads;
    Engine::new(config).unwrap()
}

fn bench_scan(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let gen_config = GeneratorConfig {
        rows: ROWS,
        seed: fixtures::SEED,
        ..Default::default()
    };
    ensure_dataset(&dir, &gen_config).unwrap();
    let inputs: Vec<PathBuf> = vec![dir];

    let first = engine(1).scan(&inputs, &NoProgress).unwrap();
    assert_eq!(first.summary.rows_read, ROWS);
    assert!(
        !first.findings.is_empty(),
        "a generated year must have findings"
    );
    let want = (first.findings.len(), first.summary.rows_scored);

    let mut g = c.benchmark_group("scan");
    g.throughput(Throughput::Elements(ROWS));
    for threads in [1usize, 2] {
        let engine = engine(threads);
        g.bench_function(format!("e2e/1m_rows/threads_{threads}"), |b| {
            b.iter(|| {
                let out = engine.scan(black_box(&inputs), &NoProgress).unwrap();
                assert_eq!((out.findings.len(), out.summary.rows_scored), want);
            });
        });
    }
    g.finish();
    drop(tmp);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10))
        .configure_from_args();
    targets = bench_scan
}
criterion_main!(benches);
