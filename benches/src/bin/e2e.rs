//! `tradescan-e2e`: end-to-end timing of `Engine::scan` on big generated datasets.
//!
//! Generates `--rows` lines with `--seed` into `--dir` (reused when its marker records
//! the same generator configuration), then, per thread count, runs the scan
//! `--repeat` times and the decode floor (merely decoding the columns the scan needs,
//! by default the six of the measure pass, in parallel over row groups) as many
//! times, and prints medians: wall seconds, rows/s, findings, peak RSS, minor page
//! faults, the scan / floor ratio and the engine's per-stage timings. All floor runs
//! come before the first scan, so the floor's peak RSS is not inflated by heap the
//! allocator keeps after a scan.
//!
//! `--volume` chooses the configurations scanned: the default one (volume detectors
//! on), the same with no volume detector (`volume.detectors = []`, so the volume pass
//! is skipped), or both (the default); with both, a table puts the two medians of
//! each thread count side by side.
//!
//! ```text
//! cargo run --release -p tradescan-benches --bin tradescan-e2e -- \
//!     --rows 20000000 --dir /tmp/e2e20m --threads 1,2 --repeat 3 --volume both
//! ```
//!
//! `--data DIR --floor-only --columns LIST` times only the decode floor of the given
//! columns on an existing dataset (the comparison harness in `benches/compare/` uses
//! it on the output of `tradescan generate`), one `key=value` line per thread count.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use parquet::file::reader::{FileReader, SerializedFileReader};
use tradescan::{Config, Engine, NoProgress};
use tradescan_benches::e2e::{
    BoxError, SCAN_COLUMNS, decode_floor, ensure_dataset, median, minor_faults, peak_rss_bytes,
    reset_peak_rss, rss_bytes, total_bytes,
};
use tradescan_datasets::generate::GeneratorConfig;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
usage: tradescan-e2e [--rows N] [--seed S] [--dir DIR] [--threads LIST] [--repeat K]
                     [--batch-size B] [--volume on|off|both]
       tradescan-e2e --data DIR --floor-only [--columns LIST] [--threads LIST]
                     [--repeat K] [--batch-size B]

  --rows N        lines to generate (default 20000000)
  --seed S        generator seed (default 42)
  --dir DIR       dataset directory, reused when generated with the same rows and seed
                  (default /tmp/tradescan-e2e-<rows>-<seed>)
  --threads LIST  comma-separated thread counts (default 1,2)
  --repeat K      timed runs per thread count (default 3)
  --batch-size B  rows per decoded batch, for the scan and the floor (default: the
                  engine's default)
  --data DIR      time an existing dataset (any folder of Parquet files, e.g. from
                  `tradescan generate`) as it is: nothing is generated, --rows and
                  --seed are ignored, the row count comes from the footers
  --floor-only    time the decode floor only, and print one line per thread count:
                  `floor threads=T seconds=S rows=N peak_rss_mib=M columns=a,b`
  --columns LIST  comma-separated columns the floor decodes (default: the six the
                  scan's measure pass needs: hs_code,origin,unit,quantity,
                  net_mass_kg,customs_value)
  --volume MODE   scan with the volume detectors `on` (the default configuration),
                  `off` (no volume detector: the volume pass is skipped) or `both`,
                  printed side by side (default both)

The binary uses mimalloc, as the tradescan CLI does; its options come from the
environment (e.g. MIMALLOC_PURGE_DELAY=-1 keeps freed memory instead of returning it
to the OS, MIMALLOC_ALLOW_THP=0 disables transparent huge pages).";

#[derive(Debug)]
struct Args {
    rows: u64,
    seed: u64,
    dir: Option<PathBuf>,
    threads: Vec<usize>,
    repeat: usize,
    batch_size: Option<usize>,
    data: Option<PathBuf>,
    floor_only: bool,
    columns: Vec<String>,
    /// Volume detectors on / off, in run order.
    volume: Vec<bool>,
}

fn number<T: std::str::FromStr>(flag: &str, v: Option<String>) -> Result<T, BoxError> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag}: `{v}` is not a number").into())
}

fn parse_args() -> Result<Option<Args>, BoxError> {
    let mut a = Args {
        rows: 20_000_000,
        seed: 42,
        dir: None,
        threads: vec![1, 2],
        repeat: 3,
        batch_size: None,
        data: None,
        floor_only: false,
        columns: SCAN_COLUMNS.iter().map(|c| c.to_string()).collect(),
        volume: vec![true, false],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--rows" => a.rows = number(&flag, it.next())?,
            "--seed" => a.seed = number(&flag, it.next())?,
            "--dir" => a.dir = Some(it.next().ok_or("--dir needs a value")?.into()),
            "--threads" => {
                let list = it.next().ok_or("--threads needs a value")?;
                a.threads = list
                    .split(',')
                    .map(|t| number("--threads", Some(t.trim().to_string())))
                    .collect::<Result<_, _>>()?;
                if a.threads.is_empty() || a.threads.contains(&0) {
                    return Err("--threads: give thread counts of at least 1".into());
                }
            }
            "--repeat" => {
                a.repeat = number(&flag, it.next())?;
                if a.repeat == 0 {
                    return Err("--repeat must be at least 1".into());
                }
            }
            "--batch-size" => a.batch_size = Some(number(&flag, it.next())?),
            "--data" => a.data = Some(it.next().ok_or("--data needs a value")?.into()),
            "--floor-only" => a.floor_only = true,
            "--columns" => {
                let list = it.next().ok_or("--columns needs a value")?;
                a.columns.clear();
                for c in list.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                    if !a.columns.iter().any(|have| have == c) {
                        a.columns.push(c.to_string());
                    }
                }
                if a.columns.is_empty() {
                    return Err("--columns: name at least one column".into());
                }
            }
            "--volume" => {
                a.volume = match it.next().as_deref() {
                    Some("on") => vec![true],
                    Some("off") => vec![false],
                    Some("both") => vec![true, false],
                    _ => return Err("--volume needs `on`, `off` or `both`".into()),
                }
            }
            "-h" | "--help" => return Ok(None),
            // `cargo bench` passes `--bench` to every target; tolerate it.
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }
    Ok(Some(a))
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// Read every file once so the timed runs start from a warm page cache.
fn warm_page_cache(files: &[PathBuf]) -> Result<(), BoxError> {
    let mut buf = vec![0u8; 1 << 20];
    for f in files {
        let mut h = std::fs::File::open(f)?;
        while h.read(&mut buf)? > 0 {}
    }
    Ok(())
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(|| "?".into(), |b| format!("{:.0}", b as f64 / 1048576.0))
}

fn rate(rows: u64, t: Duration) -> String {
    let r = rows as f64 / t.as_secs_f64();
    if r >= 1e6 {
        format!("{:.2}M", r / 1e6)
    } else {
        format!("{:.0}k", r / 1e3)
    }
}

fn on_off(volume: bool) -> &'static str {
    if volume { "on" } else { "off" }
}

struct Row {
    threads: usize,
    volume: bool,
    scan: Duration,
    findings: usize,
    scan_rss: Option<u64>,
    faults: Option<u64>,
    floor: Duration,
    floor_rss: Option<u64>,
    stages: Vec<(String, u64)>,
}

/// Rows of `files` according to their footers.
fn footer_rows(files: &[PathBuf]) -> Result<u64, BoxError> {
    let mut rows = 0u64;
    for f in files {
        let reader = SerializedFileReader::new(std::fs::File::open(f)?)?;
        rows += reader.metadata().file_metadata().num_rows().max(0) as u64;
    }
    Ok(rows)
}

/// `--floor-only`: the decode floor of `a.columns` per thread count, one line each.
fn run_floor_only(
    a: &Args,
    files: &[PathBuf],
    batch_size: usize,
    rows: u64,
) -> Result<bool, BoxError> {
    let can_reset = reset_peak_rss();
    let columns: Vec<&str> = a.columns.iter().map(String::as_str).collect();
    for &threads in &a.threads {
        let mut times = Vec::new();
        let mut rss: Option<u64> = None;
        for k in 0..a.repeat {
            reset_peak_rss();
            let (t, n) = decode_floor(files, &columns, threads, batch_size)?;
            if n != rows {
                return Err(format!("floor decoded {n} rows, the footers say {rows}").into());
            }
            rss = rss.max(peak_rss_bytes());
            eprintln!(
                "  floor threads {threads} run {k}: {:.3} s, {n} rows",
                t.as_secs_f64()
            );
            times.push(t);
        }
        println!(
            "floor threads={threads} seconds={:.4} rows={rows} peak_rss_mib={} repeat={} \
             batch_size={batch_size} rss_per_run={can_reset} columns={}",
            median(&times).as_secs_f64(),
            mib(rss),
            a.repeat,
            a.columns.join(",")
        );
    }
    Ok(true)
}

/// Volume on vs off, side by side per thread count (when both were scanned).
fn print_on_off(rows: u64, rows_out: &[Row]) {
    let pairs: Vec<(&Row, &Row)> = rows_out
        .iter()
        .filter(|r| r.volume)
        .filter_map(|on| {
            rows_out
                .iter()
                .find(|off| !off.volume && off.threads == on.threads)
                .map(|off| (on, off))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    println!("volume detectors on vs off (median wall seconds, rows/s):");
    println!(
        "{:>7} {:>8} {:>9} {:>8} {:>9} {:>8} {:>9}",
        "threads", "on_s", "on_r/s", "off_s", "off_r/s", "on/off", "volume_s"
    );
    for (on, off) in pairs {
        println!(
            "{:>7} {:>8.3} {:>9} {:>8.3} {:>9} {:>8.2} {:>9.3}",
            on.threads,
            on.scan.as_secs_f64(),
            rate(rows, on.scan),
            off.scan.as_secs_f64(),
            rate(rows, off.scan),
            on.scan.as_secs_f64() / off.scan.as_secs_f64(),
            on.scan.as_secs_f64() - off.scan.as_secs_f64()
        );
    }
    println!("volume_s: on_s - off_s, the wall time the volume pass adds");
}

fn run(a: &Args) -> Result<bool, BoxError> {
    let (dir, data) = match &a.data {
        Some(dir) => {
            eprintln!("dataset: {} (existing, used as is)", dir.display());
            (dir.clone(), None)
        }
        None => {
            let dir = a.dir.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("tradescan-e2e-{}-{}", a.rows, a.seed))
            });
            let gen_config = GeneratorConfig {
                rows: a.rows,
                seed: a.seed,
                ..Default::default()
            };
            eprintln!(
                "dataset: {} rows, seed {}, {}",
                a.rows,
                a.seed,
                dir.display()
            );
            let data = ensure_dataset(&dir, &gen_config)?;
            (dir, Some(data))
        }
    };
    let inputs = vec![dir.clone()];
    let files = tradescan::scan::discover(&inputs)?;
    if files.is_empty() {
        return Err(format!("no Parquet files under {}", dir.display()).into());
    }
    let rows = match &data {
        Some(_) => a.rows,
        None => footer_rows(&files)?,
    };
    warm_page_cache(&files)?;
    let mut config = Config::default();
    if let Some(b) = a.batch_size {
        config.scan.batch_size = b;
    }
    let batch_size = config.scan.batch_size;
    if a.floor_only {
        return run_floor_only(a, &files, batch_size, rows);
    }
    let columns: Vec<&str> = a.columns.iter().map(String::as_str).collect();
    let can_reset = reset_peak_rss();

    // The floor first, for every thread count: the scan's heap (which the allocator
    // keeps after a run) must not inflate the floor's peak RSS.
    let mut floors: Vec<(Duration, Option<u64>)> = Vec::new();
    for &threads in &a.threads {
        let mut ftimes = Vec::new();
        let mut frss: Option<u64> = None;
        for k in 0..a.repeat {
            reset_peak_rss();
            let (t, n) = decode_floor(&files, &columns, threads, batch_size)?;
            frss = frss.max(peak_rss_bytes());
            eprintln!(
                "  floor threads {threads} run {k}: {:.3} s, {n} rows",
                t.as_secs_f64()
            );
            ftimes.push(t);
        }
        floors.push((median(&ftimes), frss));
    }

    let rss_before_scans = rss_bytes();
    let mut rows_out: Vec<Row> = Vec::new();
    // Findings of the first run with volume detectors off [0] and on [1]: every run of
    // a configuration must find the same.
    let mut findings_seen: [Option<usize>; 2] = [None; 2];
    let mut consistent = true;
    let mut row_groups = 0;
    // Per thread count, each volume setting.
    let runs_of: Vec<(usize, usize, bool)> = a
        .threads
        .iter()
        .enumerate()
        .flat_map(|(ti, &t)| a.volume.iter().map(move |&v| (ti, t, v)))
        .collect();
    for &(ti, threads, volume) in &runs_of {
        let mut cfg = config.clone();
        cfg.scan.threads = threads;
        if !volume {
            cfg.volume.detectors = Vec::new();
        }
        let engine = Engine::new(cfg)?;
        let findings_seen = &mut findings_seen[usize::from(volume)];
        let mode = on_off(volume);
        let mut times = Vec::new();
        let mut rss: Option<u64> = None;
        let mut runs = Vec::new();
        for k in 0..a.repeat {
            reset_peak_rss();
            let f0 = minor_faults();
            let t = Instant::now();
            let out = engine.scan(&inputs, &NoProgress)?;
            let elapsed = t.elapsed();
            let faults = minor_faults().zip(f0).map(|(b, a)| b - a);
            rss = rss.max(peak_rss_bytes());
            if out.summary.rows_read != rows {
                return Err(
                    format!("scan read {} rows, expected {rows}", out.summary.rows_read).into(),
                );
            }
            row_groups = out.summary.row_groups;
            let n = out.findings.len();
            if findings_seen.is_some_and(|f| f != n) {
                eprintln!(
                    "MISMATCH: threads {threads} volume {mode} run {k}: {n} findings, \
                     earlier runs {findings_seen:?}"
                );
                consistent = false;
            }
            findings_seen.get_or_insert(n);
            eprintln!(
                "  scan  threads {threads} volume {mode} run {k}: {:.3} s, {n} findings, \
                 stages {:?}",
                elapsed.as_secs_f64(),
                out.summary.timings_ms
            );
            times.push(elapsed);
            runs.push((elapsed, faults, out.summary.timings_ms));
            drop(out.findings);
        }
        runs.sort_by_key(|r| r.0);
        let faults = runs[runs.len() / 2].1;
        let stages = runs[runs.len() / 2]
            .2
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let scan = median(&times);
        drop(engine);

        let (floor, floor_rss) = floors[ti];
        rows_out.push(Row {
            threads,
            volume,
            scan,
            findings: findings_seen.unwrap_or(0),
            scan_rss: rss,
            faults,
            floor,
            floor_rss,
            stages,
        });
    }

    println!();
    println!(
        "tradescan-e2e: {rows} rows, {} ({} files, {} row groups, {} MiB; {})",
        dir.display(),
        files.len(),
        row_groups,
        mib(Some(total_bytes(&files))),
        match &data {
            Some(d) if d.generated => format!(
                "seed {}, generated in {:.1} s",
                a.seed,
                d.generate_time.as_secs_f64()
            ),
            Some(_) => format!("seed {}, reused", a.seed),
            None => "existing dataset".into(),
        }
    );
    println!(
        "machine: {}, {} logical cores; batch size {batch_size}; median of {} runs; \
         peak RSS {}",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        a.repeat,
        if can_reset {
            "per run (VmHWM reset to the current RSS before each run, so it includes \
             heap the allocator kept from earlier runs)"
        } else {
            "is the process-wide VmHWM (could not reset it)"
        }
    );
    println!(
        "{:>11} {:>7} {:>6} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>9} {:>10} {:>10}",
        "rows",
        "threads",
        "volume",
        "scan_s",
        "rows/s",
        "findings",
        "rss_MiB",
        "faults_k",
        "floor_s",
        "floor_r/s",
        "floor_MiB",
        "scan/floor"
    );
    for r in &rows_out {
        println!(
            "{:>11} {:>7} {:>6} {:>8.3} {:>9} {:>9} {:>9} {:>8} {:>8.3} {:>9} {:>10} {:>10.2}",
            rows,
            r.threads,
            on_off(r.volume),
            r.scan.as_secs_f64(),
            rate(rows, r.scan),
            r.findings,
            mib(r.scan_rss),
            r.faults
                .map_or_else(|| "?".into(), |f| format!("{:.1}", f as f64 / 1e3)),
            r.floor.as_secs_f64(),
            rate(rows, r.floor),
            mib(r.floor_rss),
            r.scan.as_secs_f64() / r.floor.as_secs_f64()
        );
    }
    println!(
        "scan_s, floor_s: median wall seconds; volume: volume detectors on (default \
         config) or off (volume.detectors = []); rss_MiB: peak RSS over the scan runs; \
         faults_k: minor page faults in the median scan run, thousands; scan/floor: \
         scan_s / floor_s"
    );
    print_on_off(rows, &rows_out);
    println!("scan stages of the median run, ms (engine's summary.timings_ms):");
    for r in &rows_out {
        let s: Vec<String> = r.stages.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  threads {} volume {}: {}",
            r.threads,
            on_off(r.volume),
            s.join(" ")
        );
    }
    println!(
        "RSS before the first scan: {} MiB; after the last: {} MiB",
        mib(rss_before_scans),
        mib(rss_bytes())
    );
    if !consistent {
        println!("FINDINGS DIFFER BETWEEN RUNS: see MISMATCH lines above");
    }
    Ok(consistent)
}

fn main() -> ExitCode {
    match parse_args() {
        Ok(None) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Some(a)) => match run(&a) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(2),
            Err(e) => {
                eprintln!("tradescan-e2e: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("tradescan-e2e: {e}");
            ExitCode::from(64)
        }
    }
}
