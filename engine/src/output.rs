//! Writing query results: a text table, CSV, JSON, JSON Lines or Parquet.

use std::io::Write;
use std::str::FromStr;

use arrow::record_batch::RecordBatch;
use datafusion::dataframe::DataFrame;
use futures::StreamExt;
use parquet::arrow::ArrowWriter;

use crate::error::{EngineError, Result};

/// A result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An aligned text table for people.
    Table,
    /// A header line, then one line per row.
    Csv,
    /// One JSON array of row objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Parquet file (needs a file or a pipe, not a terminal).
    Parquet,
}

impl Format {
    /// All formats, by name.
    pub const NAMES: &'static [&'static str] = &["table", "csv", "json", "ndjson", "parquet"];
}

impl FromStr for Format {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            "ndjson" | "jsonl" => Format::Ndjson,
            "parquet" => Format::Parquet,
            other => {
                return Err(EngineError::Usage(format!(
                    "unknown format {other:?}; accepted: {}",
                    Format::NAMES.join(", ")
                )));
            }
        })
    }
}

/// Runs a query and streams its result into `out`; returns the number of rows written.
///
/// Every format but `table` streams batch by batch, so results larger than memory can be exported.
pub async fn write_result(
    df: DataFrame,
    format: Format,
    out: &mut (dyn Write + Send),
) -> Result<u64> {
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    if format == Format::Table {
        let batches = df.collect().await?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let text = arrow::util::pretty::pretty_format_batches(&batches)?;
        writeln!(out, "{text}").map_err(EngineError::Output)?;
        return Ok(rows);
    }
    let mut stream = df.execute_stream().await?;
    let mut rows = 0u64;
    match format {
        Format::Table => unreachable!("handled above"),
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(out);
            // An empty result still gets its header line.
            let mut wrote = false;
            while let Some(b) = stream.next().await {
                let b = b?;
                rows += b.num_rows() as u64;
                w.write(&b)?;
                wrote = true;
            }
            if !wrote {
                w.write(&RecordBatch::new_empty(schema))?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(out);
            while let Some(b) = stream.next().await {
                let b = b?;
                rows += b.num_rows() as u64;
                w.write(&b)?;
            }
            w.finish()?;
            // `finish` closes the array (`[]` when there were no rows).
            w.into_inner()
                .write_all(b"\n")
                .map_err(EngineError::Output)?;
        }
        Format::Ndjson => {
            let mut w = arrow::json::LineDelimitedWriter::new(out);
            while let Some(b) = stream.next().await {
                let b = b?;
                rows += b.num_rows() as u64;
                w.write(&b)?;
            }
            w.finish()?;
        }
        Format::Parquet => {
            let props = bibflow_datasets::writer::writer_properties();
            let mut w = ArrowWriter::try_new(out, schema, Some(props))
                .map_err(|e| EngineError::Usage(format!("cannot write Parquet: {e}")))?;
            while let Some(b) = stream.next().await {
                let b = b?;
                rows += b.num_rows() as u64;
                w.write(&b)
                    .map_err(|e| EngineError::Usage(format!("cannot write Parquet: {e}")))?;
            }
            w.close()
                .map_err(|e| EngineError::Usage(format!("cannot write Parquet: {e}")))?;
        }
    }
    Ok(rows)
}
