//! The one error type of `bibflow-report`.

use std::path::PathBuf;

use bibflow_engine::EngineError;

/// Errors raised while running the study suite or writing the report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Opening the dataset, computing views or running a saved query failed.
    #[error(transparent)]
    Engine(#[from] EngineError),

    /// DataFusion failed to plan or run a query (a panic inside it is an
    /// [`EngineError::Internal`] instead).
    #[error("query failed: {0}")]
    DataFusion(#[source] datafusion::error::DataFusionError),

    /// Arrow failed to encode a result.
    #[error("cannot encode the result: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// A report file could not be written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A saved query's report section (its chart, its exports) is not valid; names the file.
    #[error("{file}: {reason}")]
    Catalog { file: String, reason: String },

    /// A chart or export cannot be made from the result as given: names the field and column.
    #[error("{0}")]
    Usage(String),
}

impl From<datafusion::error::DataFusionError> for ReportError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        match EngineError::from(e) {
            EngineError::DataFusion(e) => Self::DataFusion(e),
            internal => Self::Engine(internal),
        }
    }
}

/// `Result` with [`ReportError`].
pub type Result<T, E = ReportError> = std::result::Result<T, E>;

impl ReportError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
