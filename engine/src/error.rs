//! The engine's one error type, split by who is at fault: the user's input data, the
//! user's configuration, I/O, or an internal bug.

use std::path::PathBuf;

/// Result alias used throughout the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can stop a tradescan run.
///
/// Variants carry structured fields (path, row group, column, expected, found) so that
/// callers and tests can match on them; `Display` renders one clear sentence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- the user's input data -------------------------------------------------------
    /// An input path does not exist.
    #[error("input not found: {path}")]
    InputNotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// The inputs contain no `*.parquet` file.
    #[error("no .parquet files found under {}", display_paths(.paths))]
    NoInputFiles {
        /// The inputs that were searched.
        paths: Vec<PathBuf>,
    },
    /// A file is not readable Parquet (wrong magic bytes, truncated, corrupt footer).
    #[error("{path}: not a readable Parquet file: {message}")]
    NotParquet {
        /// The file.
        path: PathBuf,
        /// What the Parquet reader said.
        message: String,
    },
    /// A required column (after mapping) is not in the file.
    #[error(
        "{path}: column `{column}` (canonical `{canonical}`) not found; the file has: {}",
        .available.join(", ")
    )]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// Canonical column name.
        canonical: &'static str,
        /// The user's column name it is mapped to.
        column: String,
        /// Columns present in the file.
        available: Vec<String>,
    },
    /// A column has a physical type the engine cannot use for its role.
    #[error(
        "{path}: column `{column}` (canonical `{canonical}`) has type {found}, expected {expected}"
    )]
    WrongType {
        /// The file.
        path: PathBuf,
        /// Canonical column name.
        canonical: &'static str,
        /// The user's column name.
        column: String,
        /// What the role accepts.
        expected: &'static str,
        /// The Arrow type found.
        found: String,
    },
    /// Data could not be decoded (corrupt page, bad encoding, ...).
    #[error("{path}: row group {row_group}{}: cannot decode data: {message}", column_suffix(.column))]
    CorruptData {
        /// The file.
        path: PathBuf,
        /// Row group index inside the file.
        row_group: usize,
        /// The column whose data failed to decode, where it could be identified.
        column: Option<String>,
        /// What the decoder said.
        message: String,
    },

    /// A scan output given to `eval` (findings file, `manifest.json`) is missing a part
    /// or is malformed.
    #[error("{path}{}: {message}", line_suffix(.line))]
    BadScanOutput {
        /// The findings file, `manifest.json`, or the output folder.
        path: PathBuf,
        /// 1-based line in a text file, where one can be named.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// A labels path given to `eval` does not exist, or is a folder with neither
    /// `lines.csv` nor `series.csv`.
    #[error(
        "labels not found: {path} (expected a labels CSV file, or a folder with lines.csv and/or series.csv)"
    )]
    NoLabels {
        /// The labels path.
        path: PathBuf,
    },
    /// A labels file is malformed.
    #[error("labels {path}: line {line}: {message}")]
    BadLabels {
        /// The labels file.
        path: PathBuf,
        /// 1-based line in the file (the header is usually line 1).
        line: u64,
        /// What is wrong.
        message: String,
    },

    /// An input the baseline was fitted from, given to a scan against that baseline.
    #[error(
        "{path}: already in the baseline {baseline} (it was fitted from this file); score only files the baseline has not seen"
    )]
    AlreadyInBaseline {
        /// The input file.
        path: PathBuf,
        /// The baseline id.
        baseline: String,
    },

    // ---- the user's configuration ----------------------------------------------------
    /// The configuration file is unreadable or invalid.
    #[error("{}{message}", config_prefix(.path))]
    Config {
        /// The config file, if the problem came from one.
        path: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },

    // ---- I/O -------------------------------------------------------------------------
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Writing an output failed.
    #[error("writing {path}: {message}")]
    Write {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    // ---- internal bugs ---------------------------------------------------------------
    /// A broken internal invariant: a bug in tradescan, please report it.
    #[error("internal error (a bug in tradescan): {0}")]
    Internal(String),
}

impl Error {
    /// Build an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Build an [`Error::Config`] without a file.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config {
            path: None,
            message: message.into(),
        }
    }

    /// Who is at fault, for reporting and exit codes.
    pub fn blame(&self) -> Blame {
        match self {
            Error::InputNotFound { .. }
            | Error::NoInputFiles { .. }
            | Error::NotParquet { .. }
            | Error::MissingColumn { .. }
            | Error::WrongType { .. }
            | Error::CorruptData { .. }
            | Error::BadScanOutput { .. }
            | Error::NoLabels { .. }
            | Error::BadLabels { .. }
            | Error::AlreadyInBaseline { .. } => Blame::InputData,
            Error::Config { .. } => Blame::Configuration,
            Error::Io { .. } | Error::Write { .. } => Blame::Io,
            Error::Internal(_) => Blame::Internal,
        }
    }
}

impl Error {
    /// Whether `--keep-going` may leave the input concerned out and go on: bad input
    /// data, or a read the operating system refused.
    pub fn skippable(&self) -> bool {
        matches!(self.blame(), Blame::InputData | Blame::Io)
            && !matches!(
                self,
                Error::Write { .. }
                    | Error::NoInputFiles { .. }
                    | Error::InputNotFound { .. }
                    | Error::AlreadyInBaseline { .. }
            )
    }
}

/// Who is at fault for an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// The input data is missing, malformed or of the wrong shape.
    InputData,
    /// The configuration or command-line options are invalid.
    Configuration,
    /// The operating system refused a read or write.
    Io,
    /// A bug in tradescan.
    Internal,
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn config_prefix(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!("config {}: ", p.display()),
        None => "invalid option: ".into(),
    }
}

fn column_suffix(column: &Option<String>) -> String {
    column
        .as_ref()
        .map(|c| format!(", column `{c}`"))
        .unwrap_or_default()
}

fn line_suffix(line: &Option<u64>) -> String {
    line.map(|l| format!(": line {l}")).unwrap_or_default()
}
