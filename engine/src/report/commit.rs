//! Atomic outputs: every file is written to a temporary name in its folder, flushed
//! and synced, then renamed over the final name, so a failed or killed run never
//! leaves a half-written file.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A file written to a temporary name beside its final path, not yet renamed.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

impl Staged {
    /// The temporary file (complete and synced).
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }
}

/// Write `path`'s content to a temporary file in the same folder and sync it; on error
/// the temporary file is removed. [`commit`] renames staged files into place.
pub fn stage(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<Staged> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let mut buf = std::io::BufWriter::new(file);
        write(&mut buf)?;
        let file = buf
            .into_inner()
            .map_err(|e| Error::io(&tmp, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&tmp, e))
    })();
    match result {
        Ok(()) => Ok(Staged {
            tmp,
            path: path.to_path_buf(),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Rename staged files into place, in order, and sync their folder. Every target is
/// checked first (a folder in the way fails the commit before anything is renamed); if
/// a rename still fails, the files not yet renamed are removed.
pub fn commit(staged: Vec<Staged>) -> Result<()> {
    if let Some(s) = staged.iter().find(|s| s.path.is_dir()) {
        let err = Error::Write {
            path: s.path.clone(),
            message: "a folder is in the way of the output file".into(),
        };
        discard(staged);
        return Err(err);
    }
    let mut result = Ok(());
    for s in &staged {
        if result.is_ok() {
            result = std::fs::rename(&s.tmp, &s.path).map_err(|e| Error::io(&s.path, e));
        }
        if result.is_err() {
            let _ = std::fs::remove_file(&s.tmp);
        }
    }
    if let Some(dir) = staged.first().and_then(|s| s.path.parent())
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    result
}

/// Remove staged files (a later step failed).
pub fn discard(staged: Vec<Staged>) {
    for s in staged {
        let _ = std::fs::remove_file(&s.tmp);
    }
}

/// Write one file atomically: [`stage`] then [`commit`].
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>,
) -> Result<()> {
    commit(vec![stage(path, write)?])
}
