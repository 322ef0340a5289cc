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

/// `text` with every control character (a terminal's escape sequences, carriage returns, bells)
/// written as `\u{1b}`, so that data shown in a terminal cannot drive it; newlines are kept when
/// `keep_newlines` (the table's own line breaks).
fn escape_control_chars(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| c.is_control() && !(keep_newlines && c == '\n');
    if !text.chars().any(escape) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escape(c) {
            escaped.push_str(&c.escape_unicode().to_string());
        } else {
            escaped.push(c);
        }
    }
    std::borrow::Cow::Owned(escaped)
}

/// The batch with its string columns' control characters escaped before the table lays them out,
/// so that the table's columns stay aligned; newlines are kept (the table shows a cell of several
/// lines, as `EXPLAIN` plans are); what a nested column still holds is escaped in the table's
/// text.
fn escape_control_strings(batch: &RecordBatch) -> Result<RecordBatch> {
    use arrow::array::{Array, ArrayRef, AsArray, StringArray};
    use arrow::datatypes::DataType;
    let mut changed = false;
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|column| {
            let strings = match column.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
                    arrow::compute::cast(column, &DataType::Utf8)?
                }
                _ => return Ok(std::sync::Arc::clone(column)),
            };
            let strings = strings.as_string::<i32>();
            if !strings
                .iter()
                .flatten()
                .any(|v| v.chars().any(|c| c.is_control() && c != '\n'))
            {
                return Ok(std::sync::Arc::clone(column));
            }
            changed = true;
            let escaped: StringArray = strings
                .iter()
                .map(|v| v.map(|v| escape_control_chars(v, true).into_owned()))
                .collect();
            Ok(std::sync::Arc::new(escaped) as ArrayRef)
        })
        .collect::<std::result::Result<_, arrow::error::ArrowError>>()?;
    if !changed {
        return Ok(batch.clone());
    }
    let fields: Vec<arrow::datatypes::FieldRef> = batch
        .schema()
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| std::sync::Arc::new(f.as_ref().clone().with_data_type(c.data_type().clone())))
        .collect();
    let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(fields));
    Ok(RecordBatch::try_new(schema, columns)?)
}

async fn encode(df: DataFrame, format: Format, out: &mut (dyn Write + Send)) -> Result<u64> {
    let schema = std::sync::Arc::new(df.schema().as_arrow().clone());
    if format == Format::Table {
        let batches = df.collect().await?;
        let rows = batches.iter().map(|b| b.num_rows() as u64).sum();
        let batches = batches
            .iter()
            .map(escape_control_strings)
            .collect::<Result<Vec<_>>>()?;
        let text = arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
        writeln!(out, "{}", escape_control_chars(&text, true)).map_err(EngineError::Output)?;
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

    async fn table(sql: &str) -> String {
        let ctx = datafusion::prelude::SessionContext::new();
        let df = ctx.sql(sql).await.unwrap();
        let mut out = Vec::new();
        write_result(df, Format::Table, &mut out).await.unwrap();
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn the_table_escapes_control_characters_and_keeps_its_columns_aligned() {
        let text = table(
            "SELECT * FROM (VALUES (concat('red', chr(27), '[31m'), 1), \
             (concat('two', chr(10), 'lines', chr(13)), 2), ('plain', 3)) t(title, n)",
        )
        .await;
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("red\\u{1b}[31m"), "{text}");
        assert!(text.contains("lines\\u{d}"), "{text}");
        assert!(
            text.contains("| two "),
            "a newline makes a cell of two lines: {text}"
        );
        assert_eq!(text.lines().count(), 8, "{text}");
        let widths: Vec<usize> = text.lines().map(|l| l.chars().count()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{text}");
        // A string inside a list is escaped in the table's text.
        let nested = table("SELECT make_array(concat('a', chr(7))) AS tags").await;
        assert!(nested.contains("a\\u{7}"), "{nested}");
        assert!(!nested.chars().any(|c| c.is_control() && c != '\n'));
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
