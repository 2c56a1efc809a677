//! Writing a scan's outputs to its folder, atomically.

use crate::config::OutputOptions;
use crate::error::{Error, Result};
use crate::pipeline::ScanOutput;
use std::io::Write;

use crate::report::{write_atomic, write_findings};

/// Write `findings.<format>` and `summary.json` into `opts.dir` (created if missing).
/// Each file is written atomically; the findings file is written first, so a
/// `summary.json` beside it always describes it.
pub fn write_scan_output(out: &ScanOutput, opts: &OutputOptions) -> Result<()> {
    std::fs::create_dir_all(&opts.dir).map_err(|e| Error::io(&opts.dir, e))?;
    let findings = opts.dir.join(opts.format.file_name());
    write_atomic(&findings, |w| write_findings(&out.findings, opts.format, w))?;
    let summary = opts.dir.join("summary.json");
    write_atomic(&summary, |w| {
        serde_json::to_writer_pretty(&mut *w, &out.summary).map_err(|e| Error::Write {
            path: summary.clone(),
            message: e.to_string(),
        })?;
        w.write_all(b"\n").map_err(|e| Error::io(&summary, e))
    })
}
