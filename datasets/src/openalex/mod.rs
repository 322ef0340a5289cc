//! OpenAlex works: every shape they come in.
//!
//! - the 2026 bulk snapshot: `data/jsonl/works/updated_date=YYYY-MM-DD/part_NNNN.gz` (gzipped JSON
//!   Lines) and its Parquet copy `data/parquet/works/updated_date=.../part_NNNN.parquet` (read by
//!   [`parquet`]), each format prefix with one `manifest.json` for all entities; the authors,
//!   institutions, sources, funders, topics, subfields, fields and domains beside them are read
//!   into their own tables ([`entities`]), other entities' folders are left out (see
//!   [`crate::input::OTHER_OPENALEX_ENTITIES`]),
//! - the pre-2026 bulk snapshot (`works/updated_date=YYYY-MM-DD/part_NNN.gz`, gzipped JSON Lines,
//!   with a `manifest` and `merged_ids/works/*.csv.gz`; `legacy-data/` in the 2026 bucket),
//! - plain or gzipped JSON Lines of works (or of API pages),
//! - API result pages `{"meta": ..., "results": [...]}`, pretty-printed or not,
//! - single-work JSON files and JSON arrays of works.
//!
//! A file is read as JSON Lines when its first non-blank line is a complete JSON value, or its name
//! says so; otherwise as one JSON document.
//!
//! A JSON Lines file with cores to itself (fewer files than threads) is read in a pipeline of
//! threads (`chunks.rs`): one large file uses every core, and the staged files, rejects and counts
//! are the same as when it is read on one thread.

mod chunks;
pub mod convert;
mod details;
pub mod entities;
pub mod ids;
pub mod lenient;
pub mod model;
mod parquet;
mod snapshot;
pub mod update;

#[cfg(test)]
mod tests;

use std::io::{BufRead, Read};
use std::path::Path;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::Result;
use crate::input::{InputFile, Inputs};
use crate::source::{FileContext, FileReport, SideFiles, Source};
use crate::writer::Location;

use self::chunks::Sink;

/// The OpenAlex works reader, with lenient typing: a field of an unexpected type is converted
/// when that loses nothing, or set to NULL, and noted in the warnings (see [`lenient`]); a work
/// is rejected only when it has no usable work id.
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenAlex;

/// The OpenAlex works reader of `--strict` runs: a field of an unexpected type rejects its work.
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenAlexStrict;

/// What both readers share; `strict` is the only difference.
#[derive(Debug, Clone, Copy)]
struct Reader {
    strict: bool,
}

/// File name endings taken from folders.
pub const EXTENSIONS: &[&str] = &[
    ".json",
    ".jsonl",
    ".ndjson",
    ".gz",
    ".json.gz",
    ".jsonl.gz",
    ".parquet",
];

/// The longest record read: a JSON Lines line, or a whole JSON document (an API page, an array
/// of works). A longer one is rejected with its first [`KEPT_OF_OVERSIZED`] bytes, and reading goes
/// on after it, so memory stays bounded whatever the input (a file without newlines, say). The
/// largest real OpenAlex works (about 100,000 authors) are about 30 MB of JSON; ingesting a record
/// takes about six times its size in memory.
pub const MAX_RECORD_BYTES: usize = 256 << 20;

/// How much of a record longer than [`MAX_RECORD_BYTES`] the rejects file keeps.
const KEPT_OF_OVERSIZED: usize = 64 << 10;

/// Reads a line, as `read_until(b'\n')` does, keeping at most `MAX_RECORD_BYTES + 1` of its bytes in
/// `buf` and skipping the rest; returns the line's whole length (0 at the end of the input).
fn read_line_capped(r: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<u64> {
    read_line_capped_at(r, buf, 0)
}

/// [`read_line_capped`] appending to `buf` after its first `start` bytes (other lines), keeping
/// at most `MAX_RECORD_BYTES + 1` bytes of this line.
fn read_line_capped_at(
    r: &mut (impl BufRead + ?Sized),
    buf: &mut Vec<u8>,
    start: usize,
) -> std::io::Result<u64> {
    let mut total = 0u64;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(total);
        }
        let (done, used) = match memchr::memchr(b'\n', available) {
            Some(i) => (true, i + 1),
            None => (false, available.len()),
        };
        let room = (MAX_RECORD_BYTES + 1).saturating_sub(buf.len() - start);
        buf.extend_from_slice(&available[..used.min(room)]);
        r.consume(used);
        total += used as u64;
        if done {
            return Ok(total);
        }
    }
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow)]
    results: Option<Vec<&'a RawValue>>,
}

macro_rules! source_impl {
    ($ty:ty, $strict:expr) => {
        impl Source for $ty {
            fn name(&self) -> &'static str {
                "openalex"
            }

            fn extensions(&self) -> &'static [&'static str] {
                EXTENSIONS
            }

            fn read_file(&self, ctx: &mut FileContext<'_>) -> Result<()> {
                Reader { strict: $strict }.read_file(ctx)
            }

            /// A snapshot part's works without an `updated_date` of their own take its partition's date.
            fn snapshot_days(&self, file: &InputFile) -> Option<i64> {
                snapshot::snapshot_days(file)
            }

            /// Stages the snapshot's merged ids and its other entities, then checks its manifests
            /// against the records read.
            fn stage_side_files(
                &self,
                inputs: &Inputs,
                staging: &Path,
                files: &[FileReport],
                threads: usize,
            ) -> Result<SideFiles> {
                let (merged_ids, merged_id_files) =
                    snapshot::stage_merged_ids(&inputs.merged_ids, staging)?;
                let entities = entities::stage(&inputs.entity_files, staging, $strict, threads)?;
                let manifest_mismatches = snapshot::check_snapshot_manifests(
                    &inputs.manifests,
                    files,
                    &entities.files,
                    inputs.only_partitions.as_ref(),
                )?;
                Ok(SideFiles {
                    merged_ids,
                    merged_id_files,
                    manifest_mismatches,
                    entities,
                })
            }
        }
    };
}

source_impl!(OpenAlex, false);
source_impl!(OpenAlexStrict, true);

impl Reader {
    fn read_file(&self, ctx: &mut FileContext<'_>) -> Result<()> {
        let name = ctx.file.path.to_string_lossy().to_lowercase();
        if name.ends_with(".parquet") {
            return parquet::read_file(self, ctx);
        }
        let mut input = ctx.open()?;
        let named_lines = name.ends_with(".jsonl")
            || name.ends_with(".ndjson")
            || name.ends_with(".jsonl.gz")
            || name.ends_with(".ndjson.gz")
            || ctx.file.snapshot_date.is_some();

        let mut buf = Vec::with_capacity(64 * 1024);
        let mut line_no: u64 = 0;
        let mut offset: u64 = 0;
        // Find the first non-blank line to decide the mode.
        let first = loop {
            buf.clear();
            let n = match read_line_capped(&mut input.reader, &mut buf) {
                Ok(n) => n,
                Err(e) => return ctx.truncated(&input, &buf, line_no + 1, offset, e),
            };
            if n == 0 {
                return ctx.finish_input(&input);
            }
            line_no += 1;
            if !buf.trim_ascii().is_empty() {
                break n;
            }
            offset += n;
        };
        // A line longer than the buffer keeps was cut (read_line_capped).
        let oversized = first > buf.len() as u64;
        let first_is_value =
            oversized || serde_json::from_slice::<&RawValue>(buf.trim_ascii()).is_ok();
        if !(first_is_value || named_lines) {
            // One JSON document spread over lines, read whole up to MAX_RECORD_BYTES.
            let mut doc = std::mem::take(&mut buf);
            let room = (MAX_RECORD_BYTES + 1 - doc.len()) as u64;
            if let Err(e) = (&mut input.reader).take(room).read_to_end(&mut doc) {
                return ctx.truncated(&input, &doc, 1, 0, e);
            }
            if doc.len() > MAX_RECORD_BYTES {
                let rest = match std::io::copy(&mut input.reader, &mut std::io::sink()) {
                    Ok(n) => n,
                    Err(e) => return ctx.truncated(&input, &[], 1, doc.len() as u64, e),
                };
                self.oversized(ctx, &doc, doc.len() as u64 + rest, 1, 0, "JSON document")?;
            } else {
                self.read_document(ctx, &doc)?;
            }
            return ctx.finish_input(&input);
        }

        if ctx.spare_threads > 1 {
            return self.read_lines_parallel(ctx, input, buf, first, line_no, offset);
        }
        let mut n = first;
        loop {
            if n > buf.len() as u64 {
                self.oversized(ctx, &buf, n, line_no, offset, "line")?;
            } else {
                self.read_line(ctx, &buf, line_no, offset)?;
            }
            offset += n;
            buf.clear();
            n = match read_line_capped(&mut input.reader, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => return ctx.truncated(&input, &buf, line_no + 1, offset, e),
            };
            line_no += 1;
        }
        ctx.finish_input(&input)
    }

    /// Rejects a record longer than [`MAX_RECORD_BYTES`] (`len` bytes; `start` holds its first
    /// bytes), keeping its first [`KEPT_OF_OVERSIZED`] bytes in the rejects file.
    fn oversized(
        &self,
        ctx: &mut impl Sink,
        start: &[u8],
        len: u64,
        line_no: u64,
        offset: u64,
        what: &str,
    ) -> Result<()> {
        let loc = Location {
            file: ctx.display_path(),
            line: Some(line_no),
            byte_offset: Some(offset),
            ..Location::default()
        };
        let kept = &start[..start.len().min(KEPT_OF_OVERSIZED)];
        ctx.read_one();
        ctx.reject(
            &loc,
            &format!(
                "a {what} of {len} bytes, longer than the longest record bibflow reads \
                 ({} MiB); not read (its first {} bytes are kept here)",
                MAX_RECORD_BYTES >> 20,
                kept.len()
            ),
            &String::from_utf8_lossy(kept),
        )
    }

    fn read_line(&self, ctx: &mut impl Sink, line: &[u8], line_no: u64, offset: u64) -> Result<()> {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() {
            return Ok(());
        }
        let loc = Location {
            file: ctx.display_path(),
            line: Some(line_no),
            byte_offset: Some(offset),
            ..Location::default()
        };
        let text = match std::str::from_utf8(trimmed) {
            Ok(t) => t,
            Err(e) => {
                ctx.read_one();
                let lossy = String::from_utf8_lossy(trimmed);
                return ctx.reject(&loc, &format!("not valid UTF-8: {e}"), &lossy);
            }
        };
        self.record(ctx, text, loc)
    }

    fn read_document(&self, ctx: &mut FileContext<'_>, doc: &[u8]) -> Result<()> {
        let base = Location {
            file: ctx.display_path(),
            line: Some(1),
            byte_offset: Some(0),
            ..Location::default()
        };
        let text = match std::str::from_utf8(doc) {
            Ok(t) => t,
            Err(e) => {
                ctx.stats.read += 1;
                return ctx.reject(
                    &base,
                    &format!("not valid UTF-8: {e}"),
                    &String::from_utf8_lossy(doc),
                );
            }
        };
        let items: Vec<(&RawValue, Option<u64>)> = match text.trim_start().as_bytes().first() {
            Some(b'[') => match serde_json::from_str::<Vec<&RawValue>>(text) {
                Ok(v) => v.into_iter().map(|r| (r, None)).collect(),
                Err(e) => return self.broken_document(ctx, &base, text, e),
            },
            _ => match serde_json::from_str::<Page<'_>>(text) {
                Ok(Page {
                    results: Some(results),
                }) => results
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| (r, Some(i as u64)))
                    .collect(),
                Ok(Page { results: None }) => {
                    return self.record(ctx, text, base);
                }
                Err(e) => return self.broken_document(ctx, &base, text, e),
            },
        };
        for (raw, result_index) in items {
            let at = raw.get().as_ptr() as usize - text.as_ptr() as usize;
            let line = 1 + text.as_bytes()[..at]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            let loc = Location {
                line: Some(line),
                byte_offset: Some(at as u64),
                result_index,
                ..base.clone()
            };
            self.record(ctx, raw.get(), loc)?;
        }
        Ok(())
    }

    fn broken_document(
        &self,
        ctx: &mut FileContext<'_>,
        base: &Location,
        text: &str,
        e: serde_json::Error,
    ) -> Result<()> {
        ctx.stats.read += 1;
        let loc = Location {
            line: Some(e.line() as u64),
            ..base.clone()
        };
        ctx.reject(
            &loc,
            &format!(
                "invalid JSON document (line {}, column {}): {e}",
                e.line(),
                e.column()
            ),
            text,
        )
    }

    /// One record: a work, or an API page of works (one JSON Lines line, or a compact file).
    fn record(&self, ctx: &mut impl Sink, raw: &str, loc: Location) -> Result<()> {
        // A work whose fields have unexpected types is repaired (lenient) or rejected (strict).
        let repaired: String;
        let mut notes = Vec::new();
        let work: model::Work<'_> = match serde_json::from_str(raw) {
            Ok(w) => w,
            Err(e) => {
                let fixed = if self.strict {
                    None
                } else {
                    lenient::repair(raw)
                };
                let Some((text, field_notes)) = fixed else {
                    ctx.read_one();
                    return ctx.reject(&loc, &format!("invalid work JSON: {e}"), raw);
                };
                repaired = text;
                notes = field_notes;
                match serde_json::from_str(&repaired) {
                    Ok(w) => w,
                    Err(e) => {
                        ctx.read_one();
                        return ctx.reject(&loc, &format!("invalid work JSON: {e}"), raw);
                    }
                }
            }
        };
        let id = match convert::work_id_of(&work) {
            Ok(id) => id,
            Err(convert::Invalid(reason)) => {
                // Not a work: it may be a whole API page (one JSON Lines line, or a compact file),
                // whose works are records of their own.
                if loc.result_index.is_none()
                    && let Ok(Page {
                        results: Some(results),
                    }) = serde_json::from_str::<Page<'_>>(raw)
                {
                    for (i, item) in results.into_iter().enumerate() {
                        let loc = Location {
                            result_index: Some(i as u64),
                            ..loc.clone()
                        };
                        self.record(ctx, item.get(), loc)?;
                    }
                    return Ok(());
                }
                ctx.read_one();
                return ctx.reject(&loc, &reason, raw);
            }
        };
        ctx.read_one();
        if let Some(previous) = ctx.already_seen(id, &loc) {
            let reason = format!(
                "work W{id} appears twice in this file (first at {previous}); the first copy was kept"
            );
            return ctx.reject(&loc, &reason, raw);
        }
        match convert::append_work_noting(&work, ctx.builders(), &mut notes) {
            Ok(c) => {
                if work.is_authors_truncated == Some(true) {
                    ctx.authors_truncated();
                }
                ctx.warn(&loc, c.work_id, &notes)?;
                ctx.accepted(c.work_id, c.updated_micros)
            }
            Err(convert::Invalid(reason)) => ctx.reject(&loc, &reason, raw),
        }
    }
}
