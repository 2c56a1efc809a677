//! # tradescan
//!
//! A parallel engine that scans customs declaration lines stored as Parquet partitions
//! and finds price anomalies (lines whose unit value is far from what comparable trade
//! declares) and volume anomalies (surges and drops of quantity per HS6 and importer,
//! origin or office; first-time importers of watched goods; split shipments). Every
//! finding explains itself: detector, comparison group and fallback level, group size,
//! baseline, observed value, score and value gap.
//!
//! Main types:
//! - [`Config`]: the TOML run configuration, including the column mapping that lets the
//!   engine read any administration's export ([`schema`]).
//! - [`Engine`]: owns the resolved [`settings`] and the thread pool; [`Engine::scan`]
//!   calls the stages of [`run`] in order and returns [`ScanOutput`] (sorted
//!   [`report::Finding`]s and a [`report::Summary`]); [`Engine::fit`] builds a stored
//!   baseline ([`store`]).
//! - [`detect`]: the detectors (one per file) and their registry.
//! - [`baseline`] and [`series`]: the group statistics the price detectors judge lines
//!   against, and the volume series the volume detectors judge.
//! - [`Error`]: one error type, split by who is at fault.
//! - [`eval`]: scores a scan's findings against ground-truth labels (precision and
//!   recall at inspection rates, AUC-PR, recall per anomaly type, series matches).
//!
//! ```no_run
//! use tradescan::{Config, Engine, NoProgress};
//! # fn main() -> tradescan::Result<()> {
//! let engine = Engine::new(Config::default())?;
//! let out = engine.scan(&["data/".into()], &NoProgress)?;
//! for f in out.findings.iter().take(10) {
//!     println!("{} {:?} {}", f.detector, f.declaration_id, f.explanation);
//! }
//! tradescan::write_scan_output(&out, &tradescan::OutputOptions {
//!     dir: "out".into(),
//!     format: tradescan::report::Format::Parquet,
//! })?;
//! # Ok(()) }
//! ```

// Modules in dependency order: each uses only those above it.
// Modules in dependency order: each uses only those above it (tests/layout.rs).
pub mod error;
pub mod kernels;
pub mod schema;
pub mod watch;
pub mod scan;
pub mod report;
pub mod baseline;
pub mod series;
pub mod detect;
pub mod config;
pub mod settings;
pub mod store;
pub mod run;
pub mod engine;
pub mod inspect;
pub mod eval;

pub use config::Config;
pub use engine::Engine;
pub use error::{Blame, Error, Result};
pub use report::{OutputOptions, ScanOutput, write_scan_output};
pub use run::{NoProgress, Progress};
