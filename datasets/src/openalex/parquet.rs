//! OpenAlex's own Parquet copy of the snapshot (`data/parquet/works/updated_date=.../part_NNNN.parquet`,
//! snappy), read with the Parquet reader.
//!
//! Its columns are the work's JSON keys (structs for objects, lists for arrays), so each row is
//! written back as one JSON object by Arrow's JSON encoder and read by the same code as a JSON Lines
//! line: the same work gives the same rows whichever copy it comes from. A row's location is the
//! file and its 1-based `row`.

use std::fs::File;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::Reader;
use crate::error::{DatasetError, Result};
use crate::source::FileContext;
use crate::writer::Location;

/// Rows turned into JSON at a time.
const BATCH_ROWS: usize = 1024;

/// Reads one Parquet file of works.
pub(super) fn read_file(source: &Reader, ctx: &mut FileContext<'_>) -> Result<()> {
    let path = ctx.file.path.clone();
    let parquet_error = |source| DatasetError::ParquetRead {
        path: path.clone(),
        source,
    };
    // The Parquet reader seeks: a file in a store is copied to this machine first.
    let local = ctx.file.local_copy()?;
    let file = File::open(&local.path).map_err(|e| DatasetError::io(&path, e))?;
    let reader = match ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
    {
        Ok(r) => r,
        Err(e) => {
            // A file without a readable footer (cut short, not Parquet): nothing in it can be
            // read, so it is a damaged input, like a broken gzip stream, and the others go on.
            ctx.file_failed(parquet_error(e).to_string());
            return hash_whole_file(ctx, &local.path);
        }
    };
    let mut row: u64 = 0;
    let mut json = Vec::with_capacity(1 << 20);
    for batch in reader {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                // A damaged file keeps the rows before the damage, like a broken gzip stream.
                ctx.file_failed(format!(
                    "{}: Parquet data is damaged after row {row}: {e}",
                    ctx.display_path()
                ));
                break;
            }
        };
        json.clear();
        let mut writer = arrow::json::LineDelimitedWriter::new(&mut json);
        writer
            .write(&batch)
            .and_then(|_| writer.finish())
            .map_err(|e| DatasetError::BadInput {
                path: path.clone(),
                reason: format!("a row after row {row} cannot be read as a work: {e}"),
            })?;
        let mut lines = 0;
        for line in json.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            lines += 1;
            row += 1;
            let loc = Location {
                file: ctx.display_path(),
                row: Some(row),
                ..Location::default()
            };
            // The encoder writes valid UTF-8 (Parquet strings are UTF-8 by then).
            let text = String::from_utf8_lossy(line);
            source.record(ctx, &text, loc)?;
        }
        if lines != batch.num_rows() {
            return Err(DatasetError::BadInput {
                path,
                reason: format!(
                    "{} rows gave {lines} JSON objects after row {row}",
                    batch.num_rows()
                ),
            });
        }
    }
    hash_whole_file(ctx, &local.path)
}

/// The raw bytes, hashed for the manifest (and counted for progress).
fn hash_whole_file(ctx: &mut FileContext<'_>, copy: &std::path::Path) -> Result<()> {
    let mut input = ctx.open_copy(copy)?;
    std::io::copy(&mut input.reader, &mut std::io::sink())
        .map_err(|e| DatasetError::io(&ctx.file.path, e))?;
    ctx.finish_input(&input)
}
