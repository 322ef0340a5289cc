//! The one error type of `bibflow-fuzz`: what stops a fuzz run before or between inputs (a
//! finding is not an error: it is what a run reports).

use std::path::PathBuf;

/// Errors of the fuzzer itself.
#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    /// A seed, scratch or findings path could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The seeds are missing or unreadable.
    #[error("seeds at {path}: {reason}")]
    Seeds { path: PathBuf, reason: String },

    /// A saved finding could not be replayed: its folder lacks a file or says something unknown.
    #[error("{path}: {reason}")]
    Replay { path: PathBuf, reason: String },
}

/// `Result` with [`FuzzError`].
pub type Result<T, E = FuzzError> = std::result::Result<T, E>;

impl FuzzError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
}
