//! The one error type of `bibflow-datasets`.

use std::path::PathBuf;

/// Errors raised while reading raw records or writing a dataset.
///
/// Every variant names the file (and, where it applies, the byte offset or line) so that a user can
/// find the problem without a debugger.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    /// An input path could not be opened, read or listed.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A dataset file could not be created or written.
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// An input names no file bibflow can read.
    #[error("{path}: {reason}")]
    BadInput { path: PathBuf, reason: String },

    /// A gzip stream ended early or is corrupt. `offset` is the compressed byte offset reached.
    #[error(
        "{path}: gzip stream is truncated or corrupt at compressed byte offset {offset}: {message}"
    )]
    Compressed {
        path: PathBuf,
        offset: u64,
        message: String,
    },

    /// The snapshot's merged-ids file is malformed.
    #[error("{path}, line {line}: {reason}")]
    MergedIds {
        path: PathBuf,
        line: u64,
        reason: String,
    },

    /// Arrow refused a batch (a bug in bibflow's builders if it happens).
    #[error("building Arrow data for table {table}: {source}")]
    Arrow {
        table: &'static str,
        #[source]
        source: arrow::error::ArrowError,
    },

    /// Parquet writing failed.
    #[error("writing Parquet file {path}: {source}")]
    Parquet {
        path: PathBuf,
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// The manifest could not be read or written.
    #[error("manifest {path}: {message}")]
    Manifest { path: PathBuf, message: String },

    /// Another run is writing the same output folder (it holds the output's lock).
    #[error(
        "{path} is being written by another bibflow run ({holder}); wait for it to finish or choose another output"
    )]
    Busy { path: PathBuf, holder: String },

    /// The output folder exists and replacing it was not asked for.
    #[error("{path} already exists; remove it or choose another output folder")]
    Exists { path: PathBuf },

    /// An incremental update (`bibflow ingest openalex --update`) cannot be applied: the dataset is
    /// missing, not an OpenAlex dataset, of another schema version or without its snapshot record,
    /// or the snapshot is older than the dataset. `path` is the dataset or snapshot at fault.
    #[error("{path}: {reason}")]
    Update { path: PathBuf, reason: String },

    /// A worker thread panicked; this is a bug.
    #[error("an ingest worker stopped unexpectedly: {0}")]
    Worker(String),
}

/// `Result` with [`DatasetError`].
pub type Result<T, E = DatasetError> = std::result::Result<T, E>;

impl DatasetError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Write {
            path: path.into(),
            source,
        }
    }
}
