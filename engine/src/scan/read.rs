use std::fs::File;

use arrow::array::{ArrayRef, RecordBatch};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelectionPolicy, RowSelector,
};

use super::plan::{InputFile, ScanPlan, ScanUnit};
use crate::error::{Error, Result};
use crate::schema::Col;

/// One decoded record batch with its canonical columns located.
#[derive(Debug)]
pub struct BatchColumns {
    batch: RecordBatch,
    index: [Option<usize>; 12],
}

impl BatchColumns {
    /// The column for a canonical name, if the file has it and it was requested.
    pub fn get(&self, col: Col) -> Option<&ArrayRef> {
        self.index[col as usize].map(|i| self.batch.column(i))
    }

    /// Rows in the batch.
    pub fn num_rows(&self) -> usize {
        self.batch.num_rows()
    }
}

/// Stream the record batches of one unit, decoding only `cols` (those the file has).
///
/// With `rows`, only those row positions (ascending, counted from the unit's first row)
/// are decoded and returned, in order. A decode failure names the file, the row group
/// and, where a single column can be blamed, the column.
pub fn read_unit(
    plan: &ScanPlan,
    unit: &ScanUnit,
    cols: &[Col],
    batch_size: usize,
    rows: Option<&[u32]>,
    mut f: impl FnMut(&BatchColumns) -> Result<()>,
) -> Result<()> {
    let file = &plan.files[unit.file];
    let present: Vec<(Col, usize)> = cols
        .iter()
        .filter_map(|&c| file.columns.get(c).map(|i| (c, i)))
        .collect();
    let mut roots: Vec<usize> = present.iter().map(|&(_, i)| i).collect();
    roots.sort_unstable();
    roots.dedup();
    let mut index = [None; 12];
    for &(c, i) in &present {
        // Projected batches keep file order: the column's position among the roots.
        index[c as usize] = roots.iter().position(|&r| r == i);
    }

    // One reader per row group: a batch never straddles two row groups, so each
    // dictionary-encoded column chunk comes back as dictionary arrays over its own
    // dictionary (a batch spanning two chunks makes the reader re-hash every value of
    // the batch into a merged dictionary).
    let mut done: u64 = 0;
    let mut rows = rows;
    for &rg in &unit.row_groups {
        let total = file.row_group_rows(rg);
        let single = ScanUnit {
            file: unit.file,
            row_groups: vec![rg],
            rows: total,
        };
        let reader = builder(file, &roots, &single, batch_size)?;
        let reader = match rows.as_mut() {
            Some(rows) => {
                // The requested rows of this row group, counted from its first row.
                let end = done + total;
                let here = rows.partition_point(|&r| u64::from(r) < end);
                let (mine, rest) = rows.split_at(here);
                *rows = rest;
                if mine.is_empty() {
                    done = end;
                    continue;
                }
                reader
                    .with_row_selection(selection(mine, done, total))
                    .with_row_selection_policy(SELECTION_POLICY)
            }
            None => reader,
        };
        let reader = reader
            .build()
            .map_err(|e| corrupt(file, unit.file, rg, &roots, e.to_string()))?;
        for batch in reader {
            let batch = batch.map_err(|e| corrupt(file, unit.file, rg, &roots, e.to_string()))?;
            f(&BatchColumns { batch, index })?;
        }
        done += total;
    }
    Ok(())
}

fn builder(
    file: &InputFile,
    roots: &[usize],
    unit: &ScanUnit,
    batch_size: usize,
) -> Result<ParquetRecordBatchReaderBuilder<File>> {
    let handle = File::open(&file.path).map_err(|e| Error::io(&file.path, e))?;
    let b = ParquetRecordBatchReaderBuilder::new_with_metadata(handle, file.metadata.clone());
    let mask = ProjectionMask::roots(b.parquet_schema(), roots.iter().copied());
    Ok(b.with_projection(mask)
        .with_row_groups(unit.row_groups.clone())
        .with_batch_size(batch_size))
}

/// Flagged lines are read back by skipping the rows between them unless the selection
/// is dense (runs shorter than 8 rows on average), where decoding every row and masking
/// is cheaper. The parquet default (32 rows) masks typical read-backs (a few percent of
/// lines flagged, runs of ~28 rows), which is slower than skipping there.
const SELECTION_POLICY: RowSelectionPolicy = RowSelectionPolicy::Auto { threshold: 8 };

/// Select the given ascending row positions (counted from `first`) out of the `total`
/// rows that start at `first`.
fn selection(rows: &[u32], first: u64, total: u64) -> RowSelection {
    let mut selectors = Vec::new();
    let mut next: u64 = 0;
    for &r in rows {
        let r = u64::from(r) - first;
        if r > next {
            selectors.push(RowSelector::skip((r - next) as usize));
        }
        selectors.push(RowSelector::select(1));
        next = r + 1;
    }
    if total > next {
        selectors.push(RowSelector::skip((total - next) as usize));
    }
    RowSelection::from(selectors)
}

/// Build a [`Error::CorruptData`] for a failure in row group `row_group` (each row group
/// has its own reader, so the failing one is known): each column of it is decoded alone
/// to blame one.
fn corrupt(
    file: &InputFile,
    unit_file: usize,
    row_group: usize,
    roots: &[usize],
    message: String,
) -> Error {
    let fails = |col: usize| {
        let single = ScanUnit {
            file: unit_file,
            row_groups: vec![row_group],
            rows: file.row_group_rows(row_group),
        };
        builder(file, &[col], &single, 8192)
            .and_then(|b| b.build().map_err(|e| Error::Internal(e.to_string())))
            .map(|reader| reader.into_iter().any(|b| b.is_err()))
            .unwrap_or(true)
    };
    let column = roots
        .iter()
        .find(|&&root| fails(root))
        .map(|&root| file.metadata.schema().field(root).name().clone());
    Error::CorruptData {
        path: file.path.clone(),
        row_group,
        column,
        message,
    }
}

/// An error in converting a decoded column of `unit` (around its `row`-th row): names
/// the file, row group and canonical column.
pub fn column_error(
    plan: &ScanPlan,
    unit: &ScanUnit,
    row: u64,
    col: Col,
    message: impl std::fmt::Display,
) -> Error {
    let file = &plan.files[unit.file];
    Error::CorruptData {
        path: file.path.clone(),
        row_group: unit.locate(file, row).0,
        column: Some(col.name().to_string()),
        message: message.to_string(),
    }
}
