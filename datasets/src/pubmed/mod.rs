//! PubMed/MEDLINE XML: baseline and update files, efetch responses, gzipped or plain.
//!
//! Layouts read:
//! - `<PubmedArticleSet>` of `<PubmedArticle>` (`MedlineCitation` + `PubmedData`) and
//!   `<PubmedBookArticle>` (`BookDocument` + `PubmedBookData`) records, with `<DeleteCitation>`
//!   blocks in update files (each listed PMID is recorded as a deletion, applied at publish to
//!   copies read earlier),
//! - the older `<MedlineCitationSet>` of bare `<MedlineCitation>` records,
//! - an empty set.
//!
//! Reading streams with bounded memory, in a pipeline inside each file: [`split`] cuts the
//! decompressed bytes into records on a reader thread (which also inflates and hashes the input),
//! parser threads run one pass of quick-xml events over each record into a reusable
//! [`record::Record`], and the file's thread takes the parsed records back in file order and
//! [`append`]s the canonical rows (`work_id = -PMID`, `source = 'pubmed'`). The output does not
//! depend on the number of threads. A malformed record is rejected with its raw text, line and
//! byte offset, and reading goes on with the next one; a truncated gzip stream keeps the records
//! before the break.
//!
//! Which copy of a work wins is decided by file order (files are applied in name order, as NLM
//! numbers its update files), not by `DateRevised`, which is kept as `updated_date`.

pub mod append;
pub mod dates;
pub mod parse;
pub mod record;
pub mod split;
#[cfg(test)]
mod split_reference;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, mpsc};

use crate::error::{DatasetError, Result};
use crate::handover::{self, Handover};
use crate::input::OpenedInput;
use crate::source::{FileContext, Source};
use crate::writer::Location;

use self::append::Appender;
use self::parse::{ParseError, Parser};
use self::record::Record;
use self::split::{Kind, Splitter};

/// The PubMed/MEDLINE XML reader.
#[derive(Debug, Default, Clone, Copy)]
pub struct PubMed;

/// File name endings taken from folders.
pub const EXTENSIONS: &[&str] = &[".xml", ".xml.gz"];

impl Source for PubMed {
    fn name(&self) -> &'static str {
        "pubmed"
    }

    fn extensions(&self) -> &'static [&'static str] {
        EXTENSIONS
    }

    /// A pipeline inside the file, so that one big file uses every core given to it:
    ///
    /// 1. a reader thread decompresses, hashes and splits the stream into numbered chunks of
    ///    records;
    /// 2. parser threads check each record's UTF-8 and parse it into a [`Record`];
    /// 3. this thread takes the parsed chunks back in stream order, rejects what is broken and
    ///    appends the rest to the builders, so the output does not depend on the thread count.
    ///
    /// Chunks are recycled: at most [`MAX_CHUNKS`] exist per file, which bounds memory.
    fn read_file(&self, ctx: &mut FileContext<'_>) -> Result<()> {
        let input = ctx.open()?;
        let workers = ctx.spare_threads.clamp(1, MAX_PARSERS);
        let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(MAX_CHUNKS);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::channel::<Chunk>();
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        std::thread::scope(|scope| {
            let split = scope.spawn(move || split_stream(input, work_tx, free_rx));
            for _ in 0..workers {
                let work_rx = work_rx.clone();
                let done_tx = done_tx.clone();
                scope.spawn(move || parse_chunks(&work_rx, &done_tx));
            }
            drop(work_rx);
            drop(done_tx);

            let mut reader = FileReader::default();
            let mut waiting: BTreeMap<u64, Chunk> = BTreeMap::new();
            let mut next = 0u64;
            let mut result = Ok(());
            'chunks: for chunk in done_rx.iter() {
                waiting.insert(chunk.seq, chunk);
                while let Some(chunk) = waiting.remove(&next) {
                    next += 1;
                    result = reader.chunk(ctx, &chunk);
                    if result.is_err() {
                        break 'chunks;
                    }
                    let _ = free_tx.send(chunk);
                }
            }
            // On an error, dropping the channels stops the other threads.
            drop(free_tx);
            drop(done_rx);
            let (input, failure) = split
                .join()
                .map_err(|_| DatasetError::Worker("the PubMed reader thread panicked".into()))?;
            result?;
            if !waiting.is_empty() {
                return Err(DatasetError::Worker(
                    "a PubMed parser thread stopped".into(),
                ));
            }
            match failure {
                Some(f) => ctx.truncated(&input, &f.partial, f.line, f.offset, f.err),
                None => ctx.finish_input(&input),
            }
        })
    }
}

/// Parser threads per file at most.
const MAX_PARSERS: usize = 4;
/// Records per chunk.
const CHUNK_RECORDS: usize = 256;
/// Bytes per chunk (whichever limit comes first).
const CHUNK_BYTES: usize = 2 << 20;
/// Chunks alive per file: bounds memory to a few times [`CHUNK_BYTES`] (plus parsed records).
const MAX_CHUNKS: usize = 8;

/// Where one record sits in a [`Chunk`], and what parsing it gave.
#[derive(Debug)]
struct ItemMeta {
    kind: Kind,
    start: usize,
    end: usize,
    /// Decompressed byte offset of the start tag.
    offset: u64,
    /// 1-based line of the start tag.
    line: u64,
    /// Why the record is incomplete, when its end tag was not found.
    broken: Option<String>,
    outcome: Outcome,
}

/// What a parser thread made of one record.
#[derive(Debug)]
enum Outcome {
    /// Not parsed (yet, or because the record is broken).
    None,
    /// Parsed into the chunk's record of the same index.
    Parsed,
    /// Not valid UTF-8 from this byte of the record on.
    BadUtf8(usize),
    Malformed(ParseError),
}

/// Consecutive records of a file, copied out of the splitter's buffer, and their parsed form.
#[derive(Debug, Default)]
struct Chunk {
    /// Position in the file: chunks are appended in this order.
    seq: u64,
    data: Vec<u8>,
    items: Vec<ItemMeta>,
    /// Parsed records, parallel to `items` (buffers reused from chunk to chunk).
    records: Vec<Record>,
}

impl handover::Chunk for Chunk {
    fn clear(&mut self) {
        // `records` keeps its parsed records' buffers for the next chunk.
        self.data.clear();
        self.items.clear();
    }
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The read error that ended a stream early, with the record it cut.
#[derive(Debug)]
struct Failure {
    err: std::io::Error,
    partial: Vec<u8>,
    offset: u64,
    line: u64,
}

/// The reader thread: splits the decompressed stream into chunks and sends them in order. Returns
/// the input (for its hash and compressed offset) and the read error that stopped it, if any.
fn split_stream(
    mut input: OpenedInput,
    out: mpsc::SyncSender<Chunk>,
    free: mpsc::Receiver<Chunk>,
) -> (OpenedInput, Option<Failure>) {
    let mut splitter = Splitter::new();
    let mut handover = Handover::new(out, free, MAX_CHUNKS);
    let mut chunk = Chunk::default();
    let mut failure = None;
    loop {
        match splitter.next_item(&mut *input.reader) {
            Ok(Some(item)) => {
                let start = chunk.data.len();
                chunk.data.extend_from_slice(item.raw);
                chunk.items.push(ItemMeta {
                    kind: item.kind,
                    start,
                    end: chunk.data.len(),
                    offset: item.offset,
                    line: item.line,
                    broken: item.broken,
                    outcome: Outcome::None,
                });
                let full = chunk.items.len() >= CHUNK_RECORDS || chunk.data.len() >= CHUNK_BYTES;
                // False when the file reader stopped on an error of its own.
                if full && !handover.pass(&mut chunk) {
                    return (input, None);
                }
            }
            Ok(None) => break,
            Err(f) => {
                failure = Some(Failure {
                    err: f.err,
                    partial: f.partial.to_vec(),
                    offset: f.offset,
                    line: f.line,
                });
                break;
            }
        }
    }
    handover.finish(chunk);
    (input, failure)
}

/// A parser thread: parses every record of the chunks it takes.
fn parse_chunks(work: &Mutex<mpsc::Receiver<Chunk>>, done: &mpsc::Sender<Chunk>) {
    let mut parser = Parser::default();
    loop {
        let next = work
            .lock()
            .map_err(|_| ())
            .and_then(|rx| rx.recv().map_err(|_| ()));
        let Ok(mut chunk) = next else { return };
        let Chunk {
            data,
            items,
            records,
            ..
        } = &mut chunk;
        if records.len() < items.len() {
            records.resize_with(items.len(), Record::default);
        }
        for (meta, rec) in items.iter_mut().zip(records.iter_mut()) {
            meta.outcome = if meta.broken.is_some() {
                Outcome::None
            } else {
                // SIMD validation (runtime-detected AVX2), like the Parquet reader's.
                match simdutf8::compat::from_utf8(&data[meta.start..meta.end]) {
                    Err(e) => Outcome::BadUtf8(e.valid_up_to()),
                    Ok(text) => match parser.parse(text, meta.kind, rec) {
                        Ok(()) => Outcome::Parsed,
                        Err(e) => Outcome::Malformed(e),
                    },
                }
            };
        }
        if done.send(chunk).is_err() {
            return;
        }
    }
}

/// The per-file state of the appending thread.
#[derive(Debug, Default)]
struct FileReader {
    appender: Appender,
    /// Records seen in this file, to tell apart two records on one line.
    records: u64,
}

impl FileReader {
    fn chunk(&mut self, ctx: &mut FileContext<'_>, chunk: &Chunk) -> Result<()> {
        for (i, meta) in chunk.items.iter().enumerate() {
            let raw = &chunk.data[meta.start..meta.end];
            self.item(ctx, meta, raw, chunk.records.get(i))?;
        }
        Ok(())
    }

    fn item(
        &mut self,
        ctx: &mut FileContext<'_>,
        item: &ItemMeta,
        raw: &[u8],
        record: Option<&Record>,
    ) -> Result<()> {
        let ordinal = self.records;
        self.records += 1;
        // Built only for rejects: most records are never rejected.
        let location = |ctx: &FileContext<'_>| Location {
            file: ctx.display_path(),
            line: Some(item.line),
            byte_offset: Some(item.offset),
            ..Location::default()
        };
        let tag = item.kind.tag();
        if let Some(reason) = &item.broken {
            ctx.stats.read += 1;
            let raw = String::from_utf8_lossy(raw);
            let loc = location(ctx);
            return ctx.reject(&loc, &format!("incomplete <{tag}> record: {reason}"), &raw);
        }
        // Only for rejects: the parser threads checked the UTF-8 already.
        let text = || String::from_utf8_lossy(raw);
        let record = match (&item.outcome, record) {
            (Outcome::Parsed, Some(r)) => r,
            (Outcome::BadUtf8(valid_up_to), _) => {
                ctx.stats.read += 1;
                let at = item.offset + *valid_up_to as u64;
                let loc = location(ctx);
                return ctx.reject(
                    &loc,
                    &format!("<{tag}> record is not valid UTF-8 at byte {at}"),
                    &text(),
                );
            }
            (Outcome::Malformed(e), _) => {
                ctx.stats.read += 1;
                let text = text();
                let at = (e.at as usize).min(text.len());
                let line = item.line
                    + text.as_bytes()[..at]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64;
                let reason = format!(
                    "<{tag}> record: {} (byte {}, line {line})",
                    e.reason,
                    item.offset + at as u64
                );
                let loc = location(ctx);
                return ctx.reject(&loc, &reason, &text);
            }
            _ => {
                return Err(DatasetError::Worker(
                    "a PubMed record was not parsed".into(),
                ));
            }
        };
        if item.kind == Kind::Delete {
            for &pmid in &record.deleted {
                ctx.delete(-pmid)?;
            }
            return Ok(());
        }
        ctx.stats.read += 1;
        let pmid = record.pmid.unwrap_or_default();
        // `already_seen` reads the line and the result index only.
        let here = Location {
            line: Some(item.line),
            result_index: Some(ordinal),
            ..Location::default()
        };
        if let Some(previous) = ctx.already_seen(-pmid, &here) {
            let reason = format!(
                "PMID {pmid} appears twice in this file (first copy at {previous}, \
                 counting records from 0); the first copy was kept"
            );
            let loc = location(ctx);
            return ctx.reject(&loc, &reason, &text());
        }
        let done = self.appender.append(record, &mut ctx.builders);
        // File order, not `DateRevised`, decides which copy of a work is newest.
        ctx.accepted(done.work_id, None)
    }
}
