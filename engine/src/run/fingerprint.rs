//! The fingerprint stage: every input file's content fingerprint, for the run record,
//! and the refusal of inputs a stored baseline already holds.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::kernels::hash::file_fingerprint;
use crate::report::InputRecord;
use crate::scan::ScanPlan;
use crate::store::BaselineMeta;

/// Every planned input file with its size, rows and content fingerprint (read in
/// parallel; the files are in the page cache after a scan).
pub fn input_records(plan: &ScanPlan, pool: &rayon::ThreadPool) -> Result<Vec<InputRecord>> {
    pool.install(|| {
        plan.files
            .par_iter()
            .map(|f| {
                Ok(InputRecord {
                    path: f.path.display().to_string(),
                    size: f.size,
                    fingerprint: file_fingerprint(&f.path).map_err(|e| Error::io(&f.path, e))?,
                    rows: f.rows(),
                    row_groups: f.row_groups() as u64,
                })
            })
            .collect()
    })
}

/// Refuse inputs the baseline was fitted from: their lines would count twice.
pub fn refuse_fitted_inputs(
    plan: &ScanPlan,
    meta: &BaselineMeta,
    pool: &rayon::ThreadPool,
) -> Result<()> {
    let fitted: std::collections::HashSet<&str> =
        meta.inputs.iter().map(|r| r.fingerprint.as_str()).collect();
    let twice = pool.install(|| {
        plan.files
            .par_iter()
            .find_first(|f| file_fingerprint(&f.path).is_ok_and(|fp| fitted.contains(fp.as_str())))
    });
    match twice {
        Some(f) => Err(Error::AlreadyInBaseline {
            path: f.path.clone(),
            baseline: meta.id.clone(),
        }),
        None => Ok(()),
    }
}
