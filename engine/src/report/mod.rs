//! What a scan reports: the findings model ([`Finding`]), the run record ([`Summary`],
//! written as `manifest.json`), writers that take `impl io::Write`, and the atomic
//! commit of a run's output files ([`write_scan_output`]).

mod commit;
mod explain;
mod finding;
mod output;
mod summary;
mod write;

pub use commit::{Staged, commit, discard, stage, write_atomic};
pub use explain::{Sig, sig, spaced};
pub use finding::Finding;
pub use output::{OutputOptions, ScanOutput, write_scan_output, write_scan_output_in};
pub use summary::{
    BudgetRecord, Execution, InputRecord, IssueExample, OutputRecord, Summary, VolumeSummary,
};
pub use write::{findings_batch, findings_schema, write_findings, write_findings_in};

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
