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
/// A failed write to `out` is [`EngineError::Output`] whatever the format: the encoders report it
/// in their own words (the CSV writer as a "Csv error", without its kind), so a closed pipe
/// (`bibflow sql ... | head`) could not be told from a failure to encode.
pub async fn write_result(
    df: DataFrame,
    format: Format,
    out: &mut (dyn Write + Send),
) -> Result<u64> {
    let mut out = RecordingWriter {
        inner: out,
        error: None,
    };
    let result = encode(df, format, &mut out).await;
    match (result, out.error) {
        (Err(_), Some(io)) => Err(EngineError::Output(io)),
        (result, _) => result,
    }
}

/// A writer that keeps (a copy of) the first error of the writer it wraps.
struct RecordingWriter<'a> {
    inner: &'a mut (dyn Write + Send),
    error: Option<std::io::Error>,
}

impl RecordingWriter<'_> {
    fn record<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            self.error
                .get_or_insert_with(|| std::io::Error::new(e.kind(), e.to_string()));
        }
        r
    }
}

impl Write for RecordingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.record(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.record(r)
    }
}

async fn encode(df: DataFrame, format: Format, out: &mut (dyn Write + Send)) -> Result<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `room` bytes, then fails every write as a closed pipe does.
    struct ClosedAfter {
        room: usize,
    }

    impl Write for ClosedAfter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.room == 0 {
                return Err(std::io::ErrorKind::BrokenPipe.into());
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_closed_output_is_an_output_error_in_every_format() {
        let ctx = datafusion::prelude::SessionContext::new();
        for format in [Format::Csv, Format::Json, Format::Ndjson, Format::Table] {
            let df = ctx
                .sql("SELECT value, 'some text' AS t FROM range(100000)")
                .await
                .unwrap();
            let err = write_result(df, format, &mut ClosedAfter { room: 100 })
                .await
                .unwrap_err();
            assert!(
                matches!(&err, EngineError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe),
                "{format:?}: {err:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_encoding_error_stays_one() {
        let ctx = datafusion::prelude::SessionContext::new();
        let df = ctx.sql("SELECT 1 / 0 AS x").await.unwrap();
        let err = write_result(df, Format::Csv, &mut Vec::new())
            .await
            .unwrap_err();
        assert!(!matches!(err, EngineError::Output(_)), "{err:?}");
    }
}
