//! Findings model, the run summary, and writers that take `impl io::Write`.
//!
//! Outputs are written atomically: to a temporary name in the output folder, flushed
//! and synced, then renamed over the final name. A failed run leaves no partial file.

mod findings;
mod summary;

pub use findings::{Finding, findings_batch, findings_schema, write_findings, write_findings_in};
pub use summary::{Execution, InputRecord, IssueExample, OutputRecord, Summary};

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Findings file format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Apache Parquet (zstd), `findings.parquet`.
    #[default]
    Parquet,
    /// RFC 4180 CSV with a header, `findings.csv`.
    Csv,
    /// One JSON object per line, `findings.jsonl`.
    Jsonl,
}

impl Format {
    /// File name of the findings in this format.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Parquet => "findings.parquet",
            Format::Csv => "findings.csv",
            Format::Jsonl => "findings.jsonl",
        }
    }

    /// Parse `parquet`, `csv` or `jsonl`.
    pub fn parse(s: &str) -> Result<Format> {
        match s {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "jsonl" | "json" => Ok(Format::Jsonl),
            _ => Err(Error::config(format!(
                "unknown format `{s}`; use parquet, csv or jsonl"
            ))),
        }
    }
}

/// A file written to a temporary name beside its final path, not yet renamed.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// The temporary file (complete and synced).
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }
}

/// Write `path`'s content to a temporary file in the same folder and sync it; on error
/// the temporary file is removed. [`commit`] renames staged files into place.
pub fn stage(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<Staged> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut buf = std::io::BufWriter::new(file);
        write(&mut buf)?;
        let file = buf
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))
    })();
    match result {
        Ok(()) => Ok(Staged {
            tmp,
            path: path.to_path_buf(),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Rename staged files into place, in order, and sync their folder. Every target is
/// checked first (a folder in the way fails the commit before anything is renamed); if
/// a rename still fails, the files not yet renamed are removed.
pub fn commit(staged: Vec<Staged>) -> Result<()> {
    if let Some(s) = staged.iter().find(|s| s.path.is_dir()) {
        let err = Error::Write {
            path: s.path.clone(),
            message: "a folder is in the way of the output file".into(),
        };
        discard(staged);
        return Err(err);
    }
    let mut result = Ok(());
    for s in &staged {
        if result.is_ok() {
            result = std::fs::rename(&s.tmp, &s.path).map_err(|e| Error::io(&s.path, e));
        }
        if result.is_err() {
            let _ = std::fs::remove_file(&s.tmp);
        }
    }
    if let Some(dir) = staged.first().and_then(|s| s.path.parent())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    result
}

/// Remove staged files (a later step failed).
pub fn discard(staged: Vec<Staged>) {
    for s in staged {
        let _ = std::fs::remove_file(&s.tmp);
    }
}

/// Write one file atomically: [`stage`] then [`commit`].
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    commit(vec![stage(path, write)?])
}

/// A number with four significant digits, without exponent for everyday magnitudes
/// (explanations).
pub fn sig(v: f64) -> String {
    Sig(v).to_string()
}

/// [`sig`] as a `Display` value, to write into a buffer without an intermediate string.
#[derive(Debug, Clone, Copy)]
pub struct Sig(pub f64);

impl std::fmt::Display for Sig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        if v != 0.0 && v.is_finite() && (v.abs() >= 1e6 || v.abs() < 1e-3) {
            write!(f, "{v:.3e}")
        } else if v == 0.0 || !v.is_finite() {
            write!(f, "{v}")
        } else {
            let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
            write!(f, "{v:.digits$}")
        }
    }
}
