//! The one error type of `bibflow-engine`.

use std::path::PathBuf;

/// Errors raised while opening, querying, publishing or exporting a dataset.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading raw records or writing dataset files failed.
    #[error(transparent)]
    Dataset(#[from] bibflow_datasets::DatasetError),

    /// DataFusion failed to plan or run a query.
    #[error("query failed: {0}")]
    DataFusion(#[from] datafusion::error::DataFusionError),

    /// Arrow failed to encode a result.
    #[error("cannot encode the result: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// A path that should hold a dataset does not.
    #[error("{path} is not a bibflow dataset: {reason}")]
    NotADataset { path: PathBuf, reason: String },

    /// The output dataset exists and overwriting was not asked for.
    #[error(
        "{path} already exists; pass --overwrite to replace it (the old dataset is kept until the new one is complete)"
    )]
    AlreadyExists { path: PathBuf },

    /// A file operation failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Writing results to the output failed.
    #[error("writing the result: {0}")]
    Output(#[source] std::io::Error),

    /// A saved query file is not valid.
    #[error("{file}: {reason}")]
    Catalog { file: String, reason: String },

    /// A saved query's parameters were given wrongly.
    #[error("query {query}: {message}; accepted parameters: {accepted}")]
    Param {
        query: String,
        message: String,
        accepted: String,
    },

    /// An object store refused or failed a request (or could not be reached).
    #[error("{url}: {reason}")]
    Store { url: String, reason: String },

    /// The request cannot be carried out as given.
    #[error("{0}")]
    Usage(String),
}

/// `Result` with [`EngineError`].
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
