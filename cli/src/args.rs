//! Command-line flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Find price anomalies in customs declaration data stored as Parquet.
#[derive(Debug, Parser)]
#[command(name = "tradescan", version, about, propagate_version = true)]
pub struct Cli {
    /// TOML configuration (column mapping, detector parameters).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, global = true, value_name = "N")]
    pub threads: Option<usize>,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Score every line of the inputs against baselines built from the same data.
    Scan(ScanArgs),
    /// Build a baseline from history and store it (or update a stored one).
    Fit(FitArgs),
    /// Generate demo data, scan it and print the top findings.
    Demo(DemoArgs),
    /// Write a seeded synthetic dataset with planted, labelled anomalies.
    Generate(GenerateArgs),
    /// Show files, row groups, rows, date range and the schema check of the inputs.
    Inspect(InspectArgs),
    /// Score a scan's findings against ground-truth labels.
    Eval(EvalArgs),
    /// List the detectors.
    Detectors,
    /// List the watch families: shipped lists and the config's own, with code counts.
    Watchlists(WatchlistsArgs),
}

/// Options shared by commands that scan.
#[derive(Debug, Args)]
pub struct ScanOptions {
    /// Detectors to run, comma-separated (default: the config's, or all).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub detectors: Option<Vec<String>>,
    /// First acceptance date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Last acceptance date to include (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Rows per decoded batch.
    #[arg(long, value_name = "ROWS")]
    pub batch_size: Option<usize>,
    /// Judge only lines and series in these watch families, comma-separated (see
    /// `tradescan watchlists`).
    #[arg(long, value_delimiter = ',', value_name = "FAMILIES")]
    pub watch: Option<Vec<String>>,
}

/// `tradescan watchlists`.
#[derive(Debug, Args)]
pub struct WatchlistsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tradescan scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Parquet files or folders (searched recursively).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Output folder for findings and manifest.json.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Findings format.
    #[arg(long, default_value = "parquet", value_parser = ["parquet", "csv", "jsonl"])]
    pub format: String,
    /// Leave out unreadable or corrupt input files (listed in manifest.json) instead of
    /// failing; the exit code is then 3.
    #[arg(long)]
    pub keep_going: bool,
    /// Keep the findings of the N highest-risk lines or series (the `risk` column: a
    /// line's combined score, a series finding's score).
    #[arg(long, value_name = "N")]
    pub budget: Option<usize>,
    /// Apply `--budget` per customs office.
    #[arg(long, value_name = "FIELD", value_parser = ["office"], requires = "budget")]
    pub budget_per: Option<String>,
    /// Add a random sample of lines without a finding (share RATE, 0 to 1), marked
    /// `random-audit`, to measure hit rates without selection bias.
    #[arg(long, value_name = "RATE")]
    pub random_audit: Option<f64>,
    /// Seed of `--random-audit`.
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub seed: u64,
    /// Score the inputs against this stored baseline (`tradescan fit`): its history
    /// and the inputs form the groups and series; only the inputs are reported.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Exit with code 1 when there are at least N findings (default 1), like grep.
    #[arg(long, value_name = "N", num_args = 0..=1, default_missing_value = "1")]
    pub fail_on_findings: Option<u64>,
    #[command(flatten)]
    pub scan: ScanOptions,
}

/// `tradescan fit`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["out", "update"])))]
pub struct FitArgs {
    /// Parquet files or folders of history (with `--update`: the new partitions).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Write a new baseline into this folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Fold the inputs into this stored baseline (rewritten in place, atomically).
    #[arg(long, value_name = "DIR")]
    pub update: Option<PathBuf>,
    /// Keep lines from this date on (YYYY-MM-DD; rounded down to the start of its week
    /// or month). With `--update`, older history is dropped.
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
}

/// `tradescan demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the data and outputs in this folder (default: a temporary folder).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Lines to generate.
    #[arg(long, default_value_t = 300_000)]
    pub rows: u64,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Findings to print.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
}

/// `tradescan generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Lines to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub rows: u64,
    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// First month, YYYY-MM.
    #[arg(long, default_value = "2025-01")]
    pub start: String,
    /// Number of months.
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = 131_072)]
    pub row_group_rows: usize,
    /// Kind of data: `clean` (Gaussian prices, one price level per code, anomalies on
    /// common codes; unchanged for a seed) or `realistic` (heavy tails, price tiers,
    /// sparse codes, unit and currency slips, rounding, duplicates; see the generator
    /// docs).
    #[arg(long, default_value = "clean", value_parser = ["clean", "realistic"])]
    pub profile: String,
}

/// `tradescan inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Parquet files or folders.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `tradescan eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Scan output folder (findings.parquet|csv|jsonl and manifest.json), or a findings file.
    #[arg(long, value_name = "DIR")]
    pub findings: PathBuf,
    /// Labels: a folder with lines.csv and/or series.csv (the generator's `_labels/`), or
    /// one CSV file (`declaration_id,line_no,label`, or series labels).
    #[arg(long, value_name = "PATH")]
    pub labels: PathBuf,
    /// Number of lines scanned, the base of the inspection rates (default: `rows_total`
    /// of manifest.json).
    #[arg(long, value_name = "N")]
    pub lines: Option<u64>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}
