//! `tradescan inspect`: what is in the inputs and whether it fits the mapping.

use std::path::PathBuf;

use serde::Serialize;

use crate::config::Config;
use crate::error::Result;
use crate::kernels::dates::format_ymd;
use crate::scan::{InputFile, discover, open_footer};
use crate::schema::Col;

/// What one file holds.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// Path.
    pub path: String,
    /// Bytes.
    pub bytes: u64,
    /// Row groups.
    pub row_groups: usize,
    /// Rows.
    pub rows: u64,
    /// Earliest acceptance date per the footer statistics.
    pub date_min: Option<String>,
    /// Latest acceptance date per the footer statistics.
    pub date_max: Option<String>,
    /// Per canonical column: the user's column and its type, or absent.
    pub columns: Vec<ColumnReport>,
    /// Why the file cannot be scanned, if it cannot.
    pub problem: Option<String>,
}

/// One canonical column in one file.
#[derive(Debug, Clone, Serialize)]
pub struct ColumnReport {
    /// Canonical name.
    pub canonical: &'static str,
    /// The user's column name.
    pub column: String,
    /// Arrow type found, or `None` when absent.
    pub found: Option<String>,
    /// Whether the column is required.
    pub required: bool,
}

/// Report on every input file. Files that fail the check are reported, not skipped;
/// the caller decides the exit code from [`FileReport::problem`].
pub fn inspect(inputs: &[PathBuf], config: &Config) -> Result<Vec<FileReport>> {
    let mapping = config.mapping()?;
    let files = discover(inputs)?;
    Ok(files
        .iter()
        .map(|path| {
            let mut r = FileReport {
                path: path.display().to_string(),
                bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
                row_groups: 0,
                rows: 0,
                date_min: None,
                date_max: None,
                columns: Vec::new(),
                problem: None,
            };
            let (size, metadata) = match open_footer(path) {
                Ok(x) => x,
                Err(e) => {
                    r.problem = Some(e.to_string());
                    return r;
                }
            };
            let schema = metadata.schema().clone();
            r.columns = Col::ALL
                .iter()
                .map(|&c| ColumnReport {
                    canonical: c.name(),
                    column: mapping.name(c).to_string(),
                    found: schema
                        .field_with_name(mapping.name(c))
                        .ok()
                        .map(|f| f.data_type().to_string()),
                    required: c.def().required,
                })
                .collect();
            match mapping.resolve(path, &schema) {
                Ok(columns) => {
                    let file = InputFile {
                        path: path.clone(),
                        size,
                        metadata,
                        columns,
                    };
                    r.row_groups = file.row_groups();
                    r.rows = file.rows();
                    let ranges: Vec<(i32, i32)> =
                        file.date_ranges(&mapping).into_iter().flatten().collect();
                    if !ranges.is_empty() && ranges.len() == file.row_groups() {
                        r.date_min = ranges.iter().map(|x| x.0).min().map(format_ymd);
                        r.date_max = ranges.iter().map(|x| x.1).max().map(format_ymd);
                    }
                }
                Err(e) => {
                    r.row_groups = metadata.metadata().num_row_groups();
                    r.rows = metadata.metadata().file_metadata().num_rows().max(0) as u64;
                    r.problem = Some(e.to_string());
                }
            }
            r
        })
        .collect())
}
