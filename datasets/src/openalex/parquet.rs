//! OpenAlex's own Parquet copy of the snapshot (`data/parquet/works/updated_date=.../part_NNNN.parquet`,
//! snappy), read with the Parquet reader.
//!
//! Its columns are the work's JSON keys (structs for objects, lists for arrays), so each row is
//! written back as one JSON object by Arrow's JSON encoder and read by the same code as a JSON Lines
//! line: the same work gives the same rows whichever copy it comes from. A row's location is the
//! file and its 1-based `row`.

use std::fs::File;
use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::Reader;
use crate::error::{DatasetError, Result};
use crate::source::FileContext;
use crate::writer::Location;

/// Rows turned into JSON at a time.
const BATCH_ROWS: usize = 1024;

/// Reads one Parquet file of works.
pub(super) fn read_file(source: &Reader, ctx: &mut FileContext<'_>) -> Result<()> {
    // The Parquet reader seeks: a file in a store is copied to this machine first.
    let local = ctx.file.local_copy()?;
    let shown = ctx.display_path();
    let damage = read_rows(&local.path, &shown, |row, text| {
        let loc = Location {
            file: shown.clone(),
            row: Some(row),
            ..Location::default()
        };
        source.record(ctx, text, loc)
    })?;
    if let Some(damage) = damage {
        // A damaged file keeps the rows before the damage, like a broken gzip stream.
        ctx.file_failed(damage);
    }
    hash_whole_file(ctx, &local.path)
}

/// Reads the Parquet file at `local` (named `shown` in messages: its path or URL) a batch at a
/// time, and calls `on_row` with each row's 1-based number and the row as one JSON object.
/// Returns the file's damage, if any (a file without a readable footer, data that cannot be
/// decoded): the rows before it were read, and the others go on.
pub(super) fn read_rows(
    local: &Path,
    shown: &str,
    mut on_row: impl FnMut(u64, &str) -> Result<()>,
) -> Result<Option<String>> {
    let file = File::open(local).map_err(|e| DatasetError::io(shown, e))?;
    // The Parquet and Arrow readers panic on some damaged files instead of returning an error:
    // that is the file's damage, not a reason to stop the ingest.
    let opened = catch_panic(|| {
        ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
    });
    let mut reader = match opened {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return Ok(Some(format!("{shown}: not a readable Parquet file: {e}"))),
        Err(panic) => {
            return Ok(Some(format!(
                "{shown}: not a readable Parquet file: the Parquet reader failed on its metadata \
                 ({panic})"
            )));
        }
    };
    let mut row: u64 = 0;
    let mut json = Vec::with_capacity(1 << 20);
    loop {
        json.clear();
        let next = catch_panic(|| {
            reader.next().map(|batch| {
                let batch = batch?;
                let mut writer = arrow::json::LineDelimitedWriter::new(&mut json);
                writer.write(&batch).and_then(|_| writer.finish())?;
                Ok::<_, arrow::error::ArrowError>(batch.num_rows())
            })
        });
        let rows = match next {
            Ok(None) => return Ok(None),
            Ok(Some(Ok(rows))) => rows,
            Ok(Some(Err(e))) => {
                return Ok(Some(format!(
                    "{shown}: Parquet data is damaged after row {row}: {e}"
                )));
            }
            Err(panic) => {
                return Ok(Some(format!(
                    "{shown}: Parquet data is damaged after row {row}: the Parquet reader failed \
                     on it ({panic})"
                )));
            }
        };
        let mut lines = 0;
        for line in json.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            lines += 1;
            row += 1;
            // The encoder writes valid UTF-8 (Parquet strings are UTF-8 by then).
            on_row(row, &String::from_utf8_lossy(line))?;
        }
        if lines != rows {
            return Err(DatasetError::BadInput {
                path: shown.into(),
                reason: format!("{rows} rows gave {lines} JSON objects after row {row}"),
            });
        }
    }
}

/// The raw bytes, hashed for the manifest (and counted for progress).
fn hash_whole_file(ctx: &mut FileContext<'_>, copy: &std::path::Path) -> Result<()> {
    let mut input = ctx.open_copy(copy)?;
    std::io::copy(&mut input.reader, &mut std::io::sink())
        .map_err(|e| DatasetError::io(&ctx.file.path, e))?;
    ctx.finish_input(&input)
}

/// Runs `f`, turning a panic into its message (the Parquet and Arrow readers panic on some
/// damaged files instead of returning an error).
fn catch_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}
