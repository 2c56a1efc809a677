use std::fs::File;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use arrow::datatypes::{DataType, FieldRef, Schema};
use parquet::arrow::arrow_reader::statistics::StatisticsConverter;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels::arrow_edge::{NULL_DATE, date_days};
use crate::schema::{Col, ColumnMapping, FileColumns};

/// One input file, its footer and where the canonical columns are in it.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// Path as discovered.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// Parsed footer and Arrow schema.
    pub metadata: ArrowReaderMetadata,
    /// Canonical column positions.
    pub columns: FileColumns,
}

impl InputFile {
    /// Number of row groups.
    pub fn row_groups(&self) -> usize {
        self.metadata.metadata().num_row_groups()
    }

    /// Number of rows.
    pub fn rows(&self) -> u64 {
        self.metadata.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Rows in one row group.
    pub fn row_group_rows(&self, rg: usize) -> u64 {
        self.metadata.metadata().row_group(rg).num_rows().max(0) as u64
    }

    /// Min and max acceptance date per row group from the footer statistics, where the
    /// file has them (`None` per row group otherwise).
    pub fn date_ranges(&self, mapping: &ColumnMapping) -> Vec<Option<(i32, i32)>> {
        let n = self.row_groups();
        let unknown = vec![None; n];
        let Some(_) = self.columns.get(Col::Date) else {
            return unknown;
        };
        let schema = self.metadata.schema();
        let Ok(conv) = StatisticsConverter::try_new(
            mapping.name(Col::Date),
            schema,
            self.metadata.parquet_schema(),
        ) else {
            return unknown;
        };
        let groups = self.metadata.metadata().row_groups();
        let (Ok(mins), Ok(maxes)) = (conv.row_group_mins(groups), conv.row_group_maxes(groups))
        else {
            return unknown;
        };
        // Only trust typed statistics (dates, timestamps); string statistics compare as text.
        if !matches!(
            mins.data_type(),
            DataType::Date32 | DataType::Date64 | DataType::Timestamp(..)
        ) {
            return unknown;
        }
        let (Ok(mins), Ok(maxes)) = (date_days(mins.as_ref()), date_days(maxes.as_ref())) else {
            return unknown;
        };
        mins.into_iter()
            .zip(maxes)
            .map(|(lo, hi)| (lo != NULL_DATE && hi != NULL_DATE).then_some((lo, hi)))
            .collect()
    }
}

/// A unit of parallel work: a run of row groups of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanUnit {
    /// Index into [`ScanPlan::files`].
    pub file: usize,
    /// Row groups, ascending.
    pub row_groups: Vec<usize>,
    /// Rows in those row groups.
    pub rows: u64,
}

impl ScanUnit {
    /// Row group and row within it of the unit's `row`-th row.
    pub fn locate(&self, file: &InputFile, row: u64) -> (usize, u64) {
        let mut left = row;
        let mut row_group = self.row_groups.first().copied().unwrap_or(0);
        for &rg in &self.row_groups {
            row_group = rg;
            let n = file.row_group_rows(rg);
            if left < n {
                break;
            }
            left -= n;
        }
        (row_group, left)
    }
}

/// Files and units of a scan, in a fixed order (files by path, row groups ascending).
#[derive(Debug, Clone)]
pub struct ScanPlan {
    /// Input files, sorted by path.
    pub files: Vec<InputFile>,
    /// Units of work, in file then row-group order.
    pub units: Vec<ScanUnit>,
    /// Row groups skipped because their date statistics lie outside the window.
    pub row_groups_pruned: usize,
    /// Rows in the pruned row groups.
    pub rows_pruned: u64,
    /// Inputs left out with `keep_going` (unreadable footer, schema mismatch, corrupt
    /// data), in path order.
    pub skipped: Vec<SkippedInput>,
}

/// An input file a `--keep-going` run left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SkippedInput {
    /// The file.
    pub path: String,
    /// Rows in the file, when its footer could be read (they count as
    /// `unreadable_input` in `rows_skipped`).
    pub rows: Option<u64>,
    /// The error, as it would have been reported.
    pub error: String,
}

impl ScanPlan {
    /// Leave out the files `failed` (indices into `files`, with their errors): their
    /// units go, the files stay (their rows are still counted, as skipped).
    pub fn drop_files(&mut self, failed: &[(usize, String)]) -> Vec<bool> {
        let mut gone = vec![false; self.files.len()];
        for (fi, error) in failed {
            if gone[*fi] {
                continue;
            }
            gone[*fi] = true;
            self.skipped.push(SkippedInput {
                path: self.files[*fi].path.display().to_string(),
                rows: Some(self.files[*fi].rows()),
                error: error.clone(),
            });
        }
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        let keep: Vec<bool> = self.units.iter().map(|u| !gone[u.file]).collect();
        let mut i = 0;
        self.units.retain(|_| {
            i += 1;
            keep[i - 1]
        });
        keep
    }
    /// Rows in all planned units.
    pub fn rows(&self) -> u64 {
        self.units.iter().map(|u| u.rows).sum()
    }
}

/// Units are cut at row-group boundaries once they hold this many rows.
const UNIT_TARGET_ROWS: u64 = 256 * 1024;

/// Open every file's footer (in parallel), check its schema against the mapping, prune
/// row groups by date statistics, and cut the row groups into units.
///
/// With `keep_going`, a file that cannot be opened or does not match the mapping is left
/// out and listed in [`ScanPlan::skipped`] instead of failing the plan.
pub fn plan(
    paths: &[PathBuf],
    mapping: &ColumnMapping,
    window: (Option<i32>, Option<i32>),
    pool: &rayon::ThreadPool,
    keep_going: bool,
) -> Result<ScanPlan> {
    let opened: Vec<Result<InputFile>> =
        pool.install(|| paths.par_iter().map(|p| open(p, mapping)).collect());
    let mut files = Vec::with_capacity(opened.len());
    let mut skipped = Vec::new();
    for (path, r) in paths.iter().zip(opened) {
        match r {
            Ok(f) => files.push(f),
            Err(e) if keep_going && e.skippable() => skipped.push(SkippedInput {
                path: path.display().to_string(),
                rows: None,
                error: e.to_string(),
            }),
            Err(e) => return Err(e),
        }
    }
    let mut units = Vec::new();
    let mut row_groups_pruned = 0;
    let mut rows_pruned = 0;
    for (fi, file) in files.iter().enumerate() {
        let ranges = if window == (None, None) {
            Vec::new()
        } else {
            file.date_ranges(mapping)
        };
        let mut current = ScanUnit {
            file: fi,
            row_groups: Vec::new(),
            rows: 0,
        };
        for rg in 0..file.row_groups() {
            let rows = file.row_group_rows(rg);
            if let Some(Some((lo, hi))) = ranges.get(rg)
                && (window.0.is_some_and(|from| *hi < from) || window.1.is_some_and(|to| *lo > to))
            {
                row_groups_pruned += 1;
                rows_pruned += rows;
                continue;
            }
            current.row_groups.push(rg);
            current.rows += rows;
            if current.rows >= UNIT_TARGET_ROWS {
                units.push(std::mem::replace(
                    &mut current,
                    ScanUnit {
                        file: fi,
                        row_groups: Vec::new(),
                        rows: 0,
                    },
                ));
            }
        }
        if !current.row_groups.is_empty() {
            units.push(current);
        }
    }
    Ok(ScanPlan {
        files,
        units,
        row_groups_pruned,
        rows_pruned,
        skipped,
    })
}

/// Open a file's footer and resolve the mapping against its schema.
pub fn open(path: &Path, mapping: &ColumnMapping) -> Result<InputFile> {
    let (size, metadata) = open_footer(path)?;
    let columns = mapping.resolve(path, metadata.schema())?;
    let codes: Vec<usize> = [
        Col::HsCode,
        Col::Origin,
        Col::Unit,
        Col::Office,
        Col::ImporterId,
    ]
    .iter()
    .filter_map(|&c| columns.get(c))
    .collect();
    let metadata = read_as_dictionary(&metadata, &codes).unwrap_or(metadata);
    Ok(InputFile {
        path: path.to_path_buf(),
        size,
        metadata,
        columns,
    })
}

/// Ask the reader to return the given plain string columns as dictionary arrays.
///
/// Code columns (HS code, origin, unit) and party columns (office, importer) have few
/// distinct values per row group and are stored dictionary-encoded by every common
/// writer; decoded as dictionaries, the key kernels parse or intern each distinct value
/// once per column chunk instead of once per line. `None` when no
/// column changes or the reader refuses the hint (the plain schema is then used).
fn read_as_dictionary(
    meta: &ArrowReaderMetadata,
    columns: &[usize],
) -> Option<ArrowReaderMetadata> {
    let schema = meta.schema();
    let mut changed = false;
    let fields: Vec<FieldRef> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if columns.contains(&i) && matches!(f.data_type(), DataType::Utf8 | DataType::LargeUtf8)
            {
                changed = true;
                let dict = DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(f.data_type().clone()),
                );
                Arc::new(f.as_ref().clone().with_data_type(dict))
            } else {
                Arc::clone(f)
            }
        })
        .collect();
    if !changed {
        return None;
    }
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        Arc::clone(meta.metadata()),
        ArrowReaderOptions::new().with_schema(hinted),
    )
    .ok()
}

/// Read a file's size and Parquet footer.
pub fn open_footer(path: &Path) -> Result<(u64, ArrowReaderMetadata)> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(|e| {
        Error::NotParquet {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    Ok((size, metadata))
}
