//! What a command can fail with: an error of the engine or of the report, shown by `main` with its
//! whole cause chain, each exactly as the crate that raised it words it.

use std::fmt;

use bibflow_engine::EngineError;
use bibflow_report::ReportError;

/// An error of a command.
#[derive(Debug)]
pub enum CliError {
    /// Opening, querying, ingesting, linking or exporting failed.
    Engine(EngineError),
    /// Running the study suite or writing the report failed.
    Report(ReportError),
}

/// `Result` with [`CliError`].
pub type Result<T, E = CliError> = std::result::Result<T, E>;

impl CliError {
    /// This error with `query` named, if it is an internal DataFusion failure that names none
    /// ([`EngineError::with_query`]).
    pub fn with_query(self, query: &str) -> Self {
        match self {
            Self::Engine(e) => Self::Engine(e.with_query(query)),
            Self::Report(ReportError::Engine(e)) => {
                Self::Report(ReportError::Engine(e.with_query(query)))
            }
            other => other,
        }
    }

    /// True when stdout was closed under us (`bibflow sql ... | head`): not an error.
    pub fn is_broken_pipe(&self) -> bool {
        let engine = match self {
            Self::Engine(e) | Self::Report(ReportError::Engine(e)) => e,
            Self::Report(_) => return false,
        };
        matches!(engine, EngineError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
}

// Transparent: the message and the causes are those of the wrapped error.
impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Engine(e) => fmt::Display::fmt(e, f),
            Self::Report(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Engine(e) => e.source(),
            Self::Report(e) => e.source(),
        }
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        Self::Engine(e)
    }
}

impl From<ReportError> for CliError {
    fn from(e: ReportError) -> Self {
        Self::Report(e)
    }
}

impl From<datafusion::error::DataFusionError> for CliError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Self::Engine(e.into())
    }
}

impl From<bibflow_datasets::DatasetError> for CliError {
    fn from(e: bibflow_datasets::DatasetError) -> Self {
        Self::Engine(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_stdout_is_not_an_error_and_messages_pass_through() {
        let pipe = || EngineError::Output(std::io::ErrorKind::BrokenPipe.into());
        assert!(CliError::from(pipe()).is_broken_pipe());
        assert!(CliError::from(ReportError::Engine(pipe())).is_broken_pipe());
        let other = CliError::from(EngineError::Usage("no such thing".into()));
        assert!(!other.is_broken_pipe());
        assert_eq!(other.to_string(), "no such thing");
        let report = CliError::from(ReportError::Usage("bad chart".into()));
        assert!(!report.is_broken_pipe());
        assert_eq!(report.to_string(), "bad chart");
    }
}
