use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Find the Parquet files of the inputs: files are taken as given, folders are searched
/// recursively for `*.parquet` (hive-style `key=value` folders included). Names starting
/// with `_` or `.` (`_labels`, `_SUCCESS`, `.tmp`) are skipped. The result is sorted and
/// de-duplicated, so the plan does not depend on directory order.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::InputNotFound {
                path: input.clone(),
            },
            _ => Error::io(input, e),
        })?;
        if meta.is_file() {
            files.push(input.clone());
        } else {
            walk(input, &mut files)?;
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(Error::NoInputFiles {
            paths: inputs.to_vec(),
        });
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        if kind.is_dir() || (kind.is_symlink() && path.is_dir()) {
            walk(&path, out)?;
        } else if name.ends_with(".parquet") {
            out.push(path);
        }
    }
    Ok(())
}
