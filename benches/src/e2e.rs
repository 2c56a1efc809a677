//! Helpers for end-to-end timing: generated datasets reused across runs, the decode
//! floor, and peak resident memory.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use rayon::prelude::*;
use tradescan_datasets::generate::{GeneratorConfig, generate};

/// Boxed error of the timing helpers (bench code: the message is what matters).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Marker written into a dataset directory after a successful generation; its name
/// starts with `_` so the engine's discovery skips it.
pub const MARKER: &str = "_tradescan_e2e.marker";

/// The columns a price scan decodes (the measure pass, no date window).
pub const SCAN_COLUMNS: [&str; 6] = [
    "hs_code",
    "origin",
    "unit",
    "quantity",
    "net_mass_kg",
    "customs_value",
];

/// A dataset on disk.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Directory holding the partitions.
    pub dir: PathBuf,
    /// Generator configuration it was made with.
    pub config: GeneratorConfig,
    /// Whether this call generated it (false: reused).
    pub generated: bool,
    /// Generation wall time (zero when reused).
    pub generate_time: Duration,
}

/// Make sure `dir` holds the generator's output for `config`: reuse it when the
/// marker records the same configuration, generate it otherwise. A non-empty
/// directory without a marker is refused, so a mistyped path never gets overwritten.
pub fn ensure_dataset(dir: &Path, config: &GeneratorConfig) -> Result<Dataset, BoxError> {
    let marker = dir.join(MARKER);
    let want = format!("{config:?}\n");
    if std::fs::read_to_string(&marker).is_ok_and(|have| have == want) {
        return Ok(Dataset {
            dir: dir.to_path_buf(),
            config: config.clone(),
            generated: false,
            generate_time: Duration::ZERO,
        });
    }
    let occupied = std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some());
    if occupied && !marker.exists() {
        return Err(format!(
            "{} is not empty and has no {MARKER}: refusing to generate into it; \
             pass a new or empty directory",
            dir.display()
        )
        .into());
    }
    std::fs::create_dir_all(dir)?;
    // Drop the marker first: an interrupted generation must not look complete.
    if marker.exists() {
        std::fs::remove_file(&marker)?;
    }
    let t = Instant::now();
    let report = generate(config, dir)?;
    let generate_time = t.elapsed();
    if report.rows != config.rows {
        return Err(format!(
            "generator wrote {} rows, asked for {}",
            report.rows, config.rows
        )
        .into());
    }
    std::fs::write(&marker, want)?;
    Ok(Dataset {
        dir: dir.to_path_buf(),
        config: config.clone(),
        generated: true,
        generate_time,
    })
}

/// Total size in bytes of `files`.
pub fn total_bytes(files: &[PathBuf]) -> u64 {
    files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

/// Time to merely decode `columns` (e.g. [`SCAN_COLUMNS`]) of every row group of
/// `files`, in parallel over row groups on a pool of `threads` workers: open each
/// footer, then decode record batches of `batch_size` rows and drop them. Returns the
/// elapsed time and the rows decoded. Footers are read inside the timing, as
/// `Engine::scan` reads them. A file without one of the columns is an error.
pub fn decode_floor(
    files: &[PathBuf],
    columns: &[&str],
    threads: usize,
    batch_size: usize,
) -> Result<(Duration, u64), BoxError> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    pool.install(|| {
        let t = Instant::now();
        let metas: Vec<ArrowReaderMetadata> = files
            .par_iter()
            .map(|p| -> Result<ArrowReaderMetadata, BoxError> {
                let f = File::open(p)?;
                Ok(ArrowReaderMetadata::load(&f, ArrowReaderOptions::new())?)
            })
            .collect::<Result<_, _>>()?;
        let jobs: Vec<(usize, usize)> = metas
            .iter()
            .enumerate()
            .flat_map(|(fi, m)| (0..m.metadata().num_row_groups()).map(move |rg| (fi, rg)))
            .collect();
        let rows = jobs
            .par_iter()
            .map(|&(fi, rg)| -> Result<u64, BoxError> {
                let meta = &metas[fi];
                let roots: Vec<usize> = meta
                    .schema()
                    .fields()
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| columns.contains(&f.name().as_str()))
                    .map(|(i, _)| i)
                    .collect();
                if roots.len() != columns.len() {
                    return Err(
                        format!("{}: expected columns {columns:?}", files[fi].display()).into(),
                    );
                }
                let b = ParquetRecordBatchReaderBuilder::new_with_metadata(
                    File::open(&files[fi])?,
                    meta.clone(),
                );
                let mask = ProjectionMask::roots(b.parquet_schema(), roots);
                let reader = b
                    .with_projection(mask)
                    .with_row_groups(vec![rg])
                    .with_batch_size(batch_size)
                    .build()?;
                let mut n = 0u64;
                for batch in reader {
                    n += batch?.num_rows() as u64;
                }
                Ok(n)
            })
            .try_reduce(|| 0, |a, b| Ok(a + b))?;
        let expected: u64 = metas
            .iter()
            .map(|m| m.metadata().file_metadata().num_rows().max(0) as u64)
            .sum();
        if rows != expected {
            return Err(format!("decoded {rows} rows, the footers say {expected}").into());
        }
        Ok((t.elapsed(), rows))
    })
}

/// Peak resident set size of this process so far (`VmHWM`), in bytes; `None` when
/// `/proc/self/status` is not available. Process-wide: see [`reset_peak_rss`].
pub fn peak_rss_bytes() -> Option<u64> {
    proc_status_kib("VmHWM:").map(|k| k * 1024)
}

/// Current resident set size (`VmRSS`), in bytes.
pub fn rss_bytes() -> Option<u64> {
    proc_status_kib("VmRSS:").map(|k| k * 1024)
}

/// A `kB` field of `/proc/self/status`.
fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.trim_start_matches(field)
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Reset the process's `VmHWM` to its current RSS (Linux: write `5` to
/// `/proc/self/clear_refs`), so the next [`peak_rss_bytes`] covers one run only.
/// Returns whether the kernel accepted it.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Minor page faults of this process so far (field 10 of `/proc/self/stat`).
pub fn minor_faults() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; count fields after its `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(7)?.parse().ok()
}

/// Median of durations (mean of the two middle ones for an even count).
pub fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort_unstable();
    match t.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => t[n / 2],
        n => (t[n / 2 - 1] + t[n / 2]) / 2,
    }
}
