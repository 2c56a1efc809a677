//! Writing a scan's outputs to its folder, atomically.

use std::io::Write;
use std::path::PathBuf;

use super::{Finding, Format, OutputRecord, Summary, commit, discard, stage, write_findings_in};
use crate::error::{Error, Result};
use crate::kernels::hash::file_fingerprint;

/// The result of a scan: sorted findings and the run record.
#[derive(Debug, Clone)]
pub struct ScanOutput {
    /// Findings in output order.
    pub findings: Vec<Finding>,
    /// The run record.
    pub summary: Summary,
}

/// Where a run writes and how (set by the CLI, not by the config file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputOptions {
    /// Output folder; created if missing.
    pub dir: PathBuf,
    /// Findings file format.
    pub format: Format,
}

/// Write `findings.<format>` and `manifest.json` into `opts.dir` (created if missing).
///
/// Both files are first written completely to temporary names and synced; only then
/// are they renamed into place, findings first. A run that fails or is killed before
/// that leaves the previous outputs untouched (and no temporary file on failure). The
/// manifest records the findings file's fingerprint, so a reader can tell the two
/// belong together.
pub fn write_scan_output(out: &ScanOutput, opts: &OutputOptions) -> Result<()> {
    write_scan_output_in(out, opts, None)
}

/// [`write_scan_output`], encoding the findings' Parquet columns in `pool` (same bytes;
/// [`crate::Engine::write_output`] passes the engine's pool).
pub fn write_scan_output_in(
    out: &ScanOutput,
    opts: &OutputOptions,
    pool: Option<&rayon::ThreadPool>,
) -> Result<()> {
    std::fs::create_dir_all(&opts.dir).map_err(|e| Error::io(&opts.dir, e))?;
    let findings_path = opts.dir.join(opts.format.file_name());
    let findings = stage(&findings_path, |w| {
        write_findings_in(&out.findings, opts.format, w, pool)
    })?;
    let mut manifest = out.summary.clone();
    let fingerprint = match file_fingerprint(findings.tmp()) {
        Ok(f) => f,
        Err(e) => {
            let err = Error::io(findings.tmp(), e);
            discard(vec![findings]);
            return Err(err);
        }
    };
    manifest.outputs = vec![OutputRecord {
        file: opts.format.file_name().to_string(),
        rows: out.findings.len() as u64,
        fingerprint,
    }];
    let manifest_path = opts.dir.join("manifest.json");
    let staged_manifest = stage(&manifest_path, |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest).map_err(|e| Error::Write {
            path: manifest_path.clone(),
            message: e.to_string(),
        })?;
        w.write_all(b"\n").map_err(|e| Error::io(&manifest_path, e))
    });
    match staged_manifest {
        Ok(m) => commit(vec![findings, m]),
        Err(e) => {
            discard(vec![findings]);
            Err(e)
        }
    }
}
