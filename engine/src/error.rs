//! The one error type of `bibflow-engine`.

use std::path::PathBuf;

/// Errors raised while opening, querying, publishing or exporting a dataset.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Reading raw records or writing dataset files failed.
    #[error(transparent)]
    Dataset(#[from] bibflow_datasets::DatasetError),

    /// DataFusion failed to plan or run a query. A panic inside DataFusion is
    /// [`Internal`](Self::Internal) instead (the `From` conversion tells them apart).
    #[error("query failed: {0}")]
    DataFusion(#[source] datafusion::error::DataFusionError),

    /// A query panicked inside DataFusion (one of its operators, or one of bibflow's that it runs):
    /// a bug, not a problem with the data or the query. `query` is the SQL or the saved query's
    /// name, when the caller knew it ([`EngineError::with_query`]).
    #[error(
        "internal DataFusion failure: a query panicked inside the query engine ({message}); this is \
         a bug in DataFusion or bibflow, not a problem with your data{}",
        .query.as_ref().map(|q| format!("\n  query: {q}")).unwrap_or_default()
    )]
    Internal {
        message: String,
        query: Option<String>,
    },

    /// Arrow failed to encode a result.
    #[error("cannot encode the result: {0}")]
    Arrow(#[from] arrow::error::ArrowError),

    /// The dataset a session registered was replaced (republished by another bibflow run) while a
    /// query read it: what the query read may mix the two, so it gives no result
    /// ([`crate::dataset_guard`]).
    #[error(
        "the dataset {path} was replaced while it was read (another bibflow run published a new \
         one there); run the query again"
    )]
    DatasetReplaced { path: PathBuf },

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

impl From<datafusion::error::DataFusionError> for EngineError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        if let Some(path) = replaced_in(&e) {
            return Self::DatasetReplaced { path };
        }
        match datafusion_panic(&e) {
            Some(message) => Self::Internal {
                message,
                query: None,
            },
            None => Self::DataFusion(e),
        }
    }
}

/// The message of the panic `e` reports, if it reports one: a task that panicked, as DataFusion
/// hands it back ([`DataFusionError::ExecutionJoin`], or a `JoinError` wrapped as an external
/// error, as its repartition does), however deep in contexts it is.
///
/// [`DataFusionError::ExecutionJoin`]: datafusion::error::DataFusionError::ExecutionJoin
pub fn datafusion_panic(e: &datafusion::error::DataFusionError) -> Option<String> {
    use datafusion::error::DataFusionError as E;
    use tokio::task::JoinError;
    fn of_join(j: &JoinError) -> Option<String> {
        j.is_panic().then(|| {
            // "task 8 panicked with message \"...\"": the message alone.
            let text = j.to_string();
            match text.split_once("panicked with message ") {
                Some((_, m)) => m.trim_matches('"').to_string(),
                None => text,
            }
        })
    }
    match e {
        E::ExecutionJoin(j) => of_join(j),
        E::Context(_, inner) | E::Diagnostic(_, inner) => datafusion_panic(inner),
        E::Shared(inner) => datafusion_panic(inner),
        E::Collection(all) => all.iter().find_map(datafusion_panic),
        E::External(inner) => {
            if let Some(j) = inner.downcast_ref::<JoinError>() {
                of_join(j)
            } else if let Some(j) = inner.downcast_ref::<std::sync::Arc<JoinError>>() {
                of_join(j)
            } else if let Some(d) = inner.downcast_ref::<E>() {
                datafusion_panic(d)
            } else if let Some(d) = inner.downcast_ref::<std::sync::Arc<E>>() {
                datafusion_panic(d)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The path of the dataset a DataFusion error says was replaced while it was read, if it says so,
/// however deep in sources (object store, Parquet, Arrow, DataFusion contexts) it is.
fn replaced_in(e: &(dyn std::error::Error + 'static)) -> Option<PathBuf> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(EngineError::DatasetReplaced { path }) = err.downcast_ref::<EngineError>() {
            return Some(path.clone());
        }
        cur = err.source();
    }
    None
}

impl EngineError {
    /// This error with the query that raised it, when it is an [`Internal`](Self::Internal)
    /// failure that does not name one yet; any other error is returned as it is.
    pub fn with_query(self, query: &str) -> Self {
        match self {
            Self::Internal {
                message,
                query: None,
            } => Self::Internal {
                message,
                query: Some(query.to_string()),
            },
            other => other,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
