//! Discover partitions, plan units of parallel work, read record batches.
//!
//! The unit of parallel work is a [`ScanUnit`]: one file and a run of its row groups.
//! Workers decode only the columns a stage needs (projection) and stream record
//! batches, so memory stays bounded by the batch size times the number of threads.

mod discover;
mod plan;
mod read;

pub use discover::discover;
pub use plan::{InputFile, ScanPlan, ScanUnit, SkippedInput, open, open_footer, plan};
pub use read::{BatchColumns, column_error, read_unit};
