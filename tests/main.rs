//! tradescan integration tests: they run the built `tradescan` binary (and the engine
//! library) on generated data and on fixtures written with other physical types.
//!
//! One test binary; modules by theme. Shared helpers live here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bad_input;
mod eval;
mod generated;
mod layout;
mod nightly;
mod physical_types;
mod snapshots;
mod volume;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow::array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::properties::WriterProperties;

/// The built `tradescan` binary.
pub fn tradescan() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tradescan"));
    c.env_remove("RUST_LOG");
    c
}

/// Run the binary with `args`; returns its output (never panics on a non-zero exit).
pub fn run<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    tradescan()
        .args(args)
        .output()
        .expect("cannot start tradescan")
}

/// Arguments of `tradescan [--config C] scan INPUT... --out OUT EXTRA...`.
pub fn scan_args(
    config: Option<&Path>,
    inputs: &[&Path],
    out: &Path,
    extra: &[&str],
) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = Vec::new();
    if let Some(c) = config {
        a.push("--config".into());
        a.push(c.into());
    }
    a.push("scan".into());
    a.extend(inputs.iter().map(|i| i.into()));
    a.push("--out".into());
    a.push(out.into());
    a.extend(extra.iter().map(|e| e.into()));
    a
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Write record batches to a Parquet file with the given writer properties.
pub fn write_parquet(path: &Path, batches: &[RecordBatch], props: Option<WriterProperties>) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let file = std::fs::File::create(path).unwrap();
    let schema = batches[0].schema();
    let mut w = ArrowWriter::try_new(file, Arc::clone(&schema), props).unwrap();
    for b in batches {
        w.write(b).unwrap();
    }
    w.close().unwrap();
}

/// The run record (`manifest.json`) of a scan output folder.
pub fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap()
}

/// Every record batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

/// Generate a dataset with the library generator (fast, no process start).
pub fn generate(dir: &Path, rows: u64, seed: u64) -> tradescan_datasets::generate::GenerateReport {
    let cfg = tradescan_datasets::generate::GeneratorConfig {
        rows,
        seed,
        ..Default::default()
    };
    tradescan_datasets::generate::generate(&cfg, dir).unwrap()
}

/// Every file under `dir`, relative, sorted.
pub fn list_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut v = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut v);
    }
    v.sort();
    v
}
