//! What the commands show: results on stdout (or in a file) in the chosen format, notes on stderr.

use bibflow_engine::store::{Location, upload_file};
use std::io::{IsTerminal, Write};
use std::path::Path;

use bibflow_engine::output::{Format, write_result};
use bibflow_engine::{EngineError, Result};

use crate::cli::OutputFormat;

/// Progress and summaries: stderr, unless `--quiet`.
#[derive(Debug)]
pub struct Notes {
    pub quiet: bool,
}

impl Notes {
    #[allow(clippy::print_stderr)]
    pub fn say(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }

    /// One note naming what killed runs had left beside an output and this run cleaned up; shown
    /// also with --quiet (it explains disk space coming back, or an output put back in place).
    #[allow(clippy::print_stderr)]
    pub fn cleaned(&self, cleaned: &[bibflow_datasets::outdir::Cleanup]) {
        if cleaned.is_empty() {
            return;
        }
        let items: Vec<String> = cleaned.iter().map(ToString::to_string).collect();
        eprintln!("note: {}", items.join("; "));
    }

    /// `tables: works 1000, authorships 4000, ...`: the row count of each table of a dataset.
    pub fn tables(&self, manifest: &bibflow_datasets::manifest::Manifest) {
        let tables: Vec<String> = manifest
            .tables
            .iter()
            .map(|(name, t)| format!("{name} {}", t.rows))
            .collect();
        self.say(format!("tables: {}", tables.join(", ")));
    }
}

/// Writes a query result to `out` (or stdout) in `format`; returns the rows written.
pub async fn emit(
    df: datafusion::dataframe::DataFrame,
    format: Format,
    out: Option<&Path>,
    notes: &Notes,
) -> Result<u64> {
    let rows = match out {
        Some(target) => {
            // A store URL: written to a local file first, then uploaded.
            let url = match Location::from_path(target)? {
                Location::Url(url) => Some(url),
                Location::Local(_) => None,
            };
            let staging = match url {
                Some(_) => Some(
                    tempfile::NamedTempFile::new()
                        .map_err(|e| EngineError::io(std::env::temp_dir(), e))?,
                ),
                None => None,
            };
            let path = staging.as_ref().map(|t| t.path()).unwrap_or(target);
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path).map_err(|e| EngineError::io(path, e))?,
            );
            let rows = write_result(df, format, &mut f).await?;
            f.flush().map_err(|e| EngineError::io(path, e))?;
            drop(f);
            if let Some(url) = &url {
                upload_file(path, url).await?;
            }
            notes.say(format!("wrote {rows} rows to {}", target.display()));
            rows
        }
        None => {
            if format == Format::Parquet && std::io::stdout().is_terminal() {
                return Err(EngineError::Usage(
                    "Parquet is binary: pass --out FILE (or redirect stdout)".into(),
                ));
            }
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let rows = write_result(df, format, &mut out).await?;
            out.flush().map_err(EngineError::Output)?;
            if format == Format::Table {
                notes.say(format!("{rows} rows"));
            }
            rows
        }
    };
    Ok(rows)
}

/// The engine's result format for a `--format` value.
pub fn format_of(f: OutputFormat) -> Format {
    match f {
        OutputFormat::Table => Format::Table,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Json => Format::Json,
        OutputFormat::Ndjson => Format::Ndjson,
        OutputFormat::Parquet => Format::Parquet,
    }
}
