//! One large JSON Lines file on every core given to it.
//!
//! A pipeline inside the file, like PubMed's ([`crate::pubmed`]):
//!
//! 1. a reader thread decompresses and hashes the input and cuts it into chunks of whole lines,
//!    each line with its number and decompressed byte offset;
//! 2. parser threads parse and convert every line of a chunk into builders of their own
//!    ([`ChunkSink`]), noting its rejects, field warnings and the works it saw;
//! 3. the file's thread takes the chunks back in file order and replays them into the file's
//!    [`FileContext`]: the rejects and warnings, the converted rows (flushed on the same works as
//!    the sequential reader flushes) and the works seen. A chunk holding a work already seen in an
//!    earlier chunk is read again on this thread line by line, as the sequential reader would, so
//!    that the duplicate is rejected naming its first copy.
//!
//! The staged files, the rejects and the counts are the same as the sequential reader's whatever
//! the thread count and chunk size. Chunks are recycled: at most [`MAX_CHUNKS`] exist per file,
//! which bounds memory to a few chunk sizes plus their converted rows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, mpsc};

use crate::builders::TableBuilders;
use crate::error::{DatasetError, Result};
use crate::handover::{self, Handover};
use crate::input::OpenedInput;
use crate::source::{Converted, FileContext, SeenWorks};
use crate::writer::{FieldNote, Location};

use super::{Reader, read_line_capped_at};

/// Parser threads per file at most.
const MAX_PARSERS: usize = 4;
/// Decompressed bytes per chunk (a chunk ends with the line that reaches it).
const CHUNK_BYTES: usize = 4 << 20;
/// Chunks alive per file.
const MAX_CHUNKS: usize = 8;

/// Where the works of one record go: the file's context (the sequential reader, and chunks read
/// again on the file's thread), or a parser thread's [`ChunkSink`].
pub(super) trait Sink {
    /// The file's path as shown in rejects.
    fn display_path(&self) -> String;
    /// Counts one record read (each ends accepted or rejected).
    fn read_one(&mut self);
    /// Counts an accepted work whose author list is cut short.
    fn authors_truncated(&mut self);
    /// Where a record's rows are appended.
    fn builders(&mut self) -> &mut TableBuilders;
    /// If `work_id` was seen before, where.
    fn already_seen(&mut self, work_id: i64, loc: &Location) -> Option<String>;
    fn reject(&mut self, loc: &Location, reason: &str, raw: &str) -> Result<()>;
    fn warn(&mut self, loc: &Location, work_id: i64, notes: &[FieldNote]) -> Result<()>;
    /// The work last appended to [`builders`](Sink::builders) is kept.
    fn accepted(&mut self, work_id: i64, updated_micros: Option<i64>) -> Result<()>;
}

impl Sink for FileContext<'_> {
    fn display_path(&self) -> String {
        FileContext::display_path(self)
    }
    fn read_one(&mut self) {
        self.stats.read += 1;
    }
    fn authors_truncated(&mut self) {
        self.stats.authors_truncated += 1;
    }
    fn builders(&mut self) -> &mut TableBuilders {
        &mut self.builders
    }
    fn already_seen(&mut self, work_id: i64, loc: &Location) -> Option<String> {
        FileContext::already_seen(self, work_id, loc)
    }
    fn reject(&mut self, loc: &Location, reason: &str, raw: &str) -> Result<()> {
        FileContext::reject(self, loc, reason, raw)
    }
    fn warn(&mut self, loc: &Location, work_id: i64, notes: &[FieldNote]) -> Result<()> {
        FileContext::warn(self, loc, work_id, notes)
    }
    fn accepted(&mut self, work_id: i64, updated_micros: Option<i64>) -> Result<()> {
        FileContext::accepted(self, work_id, updated_micros)
    }
}

/// A reject or a field warning noted on a parser thread, replayed in order on the file's thread.
#[derive(Debug)]
enum Event {
    Reject {
        loc: Location,
        reason: String,
        raw: String,
    },
    Warn {
        loc: Location,
        work_id: i64,
        notes: Vec<FieldNote>,
    },
}

/// What a parser thread makes of one chunk.
#[derive(Debug)]
struct ChunkSink {
    path: Arc<str>,
    reads: u64,
    authors_truncated: u64,
    builders: TableBuilders,
    events: Vec<Event>,
    seen: SeenWorks,
    works: Vec<(i64, Option<i64>, [usize; crate::schema::TABLE_COUNT])>,
}

impl Sink for ChunkSink {
    fn display_path(&self) -> String {
        self.path.to_string()
    }
    fn read_one(&mut self) {
        self.reads += 1;
    }
    fn authors_truncated(&mut self) {
        self.authors_truncated += 1;
    }
    fn builders(&mut self) -> &mut TableBuilders {
        &mut self.builders
    }
    fn already_seen(&mut self, work_id: i64, loc: &Location) -> Option<String> {
        self.seen.check(work_id, loc)
    }
    fn reject(&mut self, loc: &Location, reason: &str, raw: &str) -> Result<()> {
        self.events.push(Event::Reject {
            loc: loc.clone(),
            reason: reason.to_owned(),
            raw: raw.to_owned(),
        });
        Ok(())
    }
    fn warn(&mut self, loc: &Location, work_id: i64, notes: &[FieldNote]) -> Result<()> {
        if !notes.is_empty() {
            self.events.push(Event::Warn {
                loc: loc.clone(),
                work_id,
                notes: notes.to_vec(),
            });
        }
        Ok(())
    }
    fn accepted(&mut self, work_id: i64, updated_micros: Option<i64>) -> Result<()> {
        self.works
            .push((work_id, updated_micros, self.builders.lens()));
        Ok(())
    }
}

/// One line in a [`Chunk`].
#[derive(Debug)]
struct Line {
    start: usize,
    end: usize,
    /// 1-based line number.
    number: u64,
    /// Decompressed byte offset of the line.
    offset: u64,
    /// The line's whole length: longer than `end - start` when it was cut at
    /// [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES).
    len: u64,
}

/// Consecutive lines of a file, copied out of the decompressed stream.
#[derive(Debug, Default)]
struct Chunk {
    /// Position in the file: chunks are taken in this order.
    seq: u64,
    data: Vec<u8>,
    lines: Vec<Line>,
}

impl handover::Chunk for Chunk {
    fn clear(&mut self) {
        self.data.clear();
        self.lines.clear();
    }
    fn set_seq(&mut self, seq: u64) {
        self.seq = seq;
    }
    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// A chunk and what a parser thread made of it.
#[derive(Debug)]
struct Parsed {
    chunk: Chunk,
    outcome: Result<ChunkSink>,
    batches: Option<[arrow::record_batch::RecordBatch; crate::schema::TABLE_COUNT]>,
}

/// The read error that ended a stream early, with the line it cut.
#[derive(Debug)]
struct Failure {
    err: std::io::Error,
    partial: Vec<u8>,
    line: u64,
    offset: u64,
}

impl Reader {
    /// Reads the rest of a JSON Lines file in the pipeline. `first` holds its first non-blank
    /// line, number `line_no` at decompressed offset `offset`.
    pub(super) fn read_lines_parallel(
        &self,
        ctx: &mut FileContext<'_>,
        input: OpenedInput,
        first: Vec<u8>,
        first_len: u64,
        line_no: u64,
        offset: u64,
    ) -> Result<()> {
        let workers = ctx.spare_threads.clamp(1, MAX_PARSERS);
        let chunk_bytes = ctx.chunk_bytes.unwrap_or(CHUNK_BYTES).max(1);
        let path: Arc<str> = ctx.display_path().into();
        let (work_tx, work_rx) = mpsc::sync_channel::<Chunk>(MAX_CHUNKS);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = mpsc::channel::<Parsed>();
        let (free_tx, free_rx) = mpsc::channel::<Chunk>();
        let start = Start {
            first,
            first_len,
            line_no,
            offset,
            chunk_bytes,
        };
        std::thread::scope(|scope| {
            let split = scope.spawn(move || split_lines(input, start, work_tx, free_rx));
            for _ in 0..workers {
                let work_rx = work_rx.clone();
                let done_tx = done_tx.clone();
                let path = path.clone();
                scope.spawn(move || self.parse_chunks(&path, &work_rx, &done_tx));
            }
            drop(work_rx);
            drop(done_tx);

            let mut waiting: BTreeMap<u64, Parsed> = BTreeMap::new();
            let mut next = 0u64;
            let mut result = Ok(());
            'chunks: for parsed in done_rx.iter() {
                waiting.insert(parsed.chunk.seq, parsed);
                while let Some(parsed) = waiting.remove(&next) {
                    next += 1;
                    match self.take_chunk(ctx, parsed) {
                        Ok(chunk) => {
                            let _ = free_tx.send(chunk);
                        }
                        Err(e) => {
                            result = Err(e);
                            break 'chunks;
                        }
                    }
                }
            }
            // On an error, dropping the channels stops the other threads.
            drop(free_tx);
            drop(done_rx);
            let (input, failure) = split
                .join()
                .map_err(|_| DatasetError::Worker("the OpenAlex reader thread panicked".into()))?;
            result?;
            if !waiting.is_empty() {
                return Err(DatasetError::Worker(
                    "an OpenAlex parser thread stopped".into(),
                ));
            }
            match failure {
                Some(f) => ctx.truncated(&input, &f.partial, f.line, f.offset, f.err),
                None => ctx.finish_input(&input),
            }
        })
    }

    /// Reads one line into `sink`, as the sequential reader does.
    fn line(&self, sink: &mut impl Sink, data: &[u8], line: &Line) -> Result<()> {
        let raw = &data[line.start..line.end];
        if line.len > raw.len() as u64 {
            self.oversized(sink, raw, line.len, line.number, line.offset, "line")
        } else {
            self.read_line(sink, raw, line.number, line.offset)
        }
    }

    /// A parser thread: converts every line of the chunks it takes.
    fn parse_chunks(
        &self,
        path: &Arc<str>,
        work: &Mutex<mpsc::Receiver<Chunk>>,
        done: &mpsc::Sender<Parsed>,
    ) {
        loop {
            let next = work
                .lock()
                .map_err(|_| ())
                .and_then(|rx| rx.recv().map_err(|_| ()));
            let Ok(chunk) = next else { return };
            let mut sink = ChunkSink {
                path: path.clone(),
                reads: 0,
                authors_truncated: 0,
                builders: TableBuilders::default(),
                events: Vec::new(),
                seen: SeenWorks::default(),
                works: Vec::new(),
            };
            let outcome = chunk
                .lines
                .iter()
                .try_for_each(|line| self.line(&mut sink, &chunk.data, line))
                .and_then(|()| sink.builders.finish());
            let (outcome, batches) = match outcome {
                Ok(batches) => (Ok(sink), Some(batches)),
                Err(e) => (Err(e), None),
            };
            let parsed = Parsed {
                chunk,
                outcome,
                batches,
            };
            if done.send(parsed).is_err() {
                return;
            }
        }
    }

    /// Takes a parsed chunk into the file's context, in file order; returns the chunk for reuse.
    fn take_chunk(&self, ctx: &mut FileContext<'_>, parsed: Parsed) -> Result<Chunk> {
        let Parsed {
            chunk,
            outcome,
            batches,
        } = parsed;
        let sink = outcome?;
        let batches = batches.ok_or_else(|| {
            DatasetError::Worker("an OpenAlex chunk came back without its rows".into())
        })?;
        if !ctx.take_seen(sink.seen) {
            // A work of this chunk was read in an earlier chunk: read the chunk again here, so
            // that the second copy is rejected naming the first.
            for line in &chunk.lines {
                self.line(ctx, &chunk.data, line)?;
            }
            return Ok(chunk);
        }
        ctx.stats.read += sink.reads;
        ctx.stats.authors_truncated += sink.authors_truncated;
        for event in sink.events {
            match event {
                Event::Reject { loc, reason, raw } => ctx.reject(&loc, &reason, &raw)?,
                Event::Warn {
                    loc,
                    work_id,
                    notes,
                } => ctx.warn(&loc, work_id, &notes)?,
            }
        }
        ctx.accepted_converted(Converted {
            batches,
            works: sink.works,
        })?;
        Ok(chunk)
    }
}

/// Where the reader thread starts: the first non-blank line, already read.
struct Start {
    first: Vec<u8>,
    first_len: u64,
    line_no: u64,
    offset: u64,
    chunk_bytes: usize,
}

/// The reader thread: cuts the decompressed stream into chunks of lines and sends them in order.
/// Returns the input (for its hash and compressed offset) and the read error that stopped it.
fn split_lines(
    mut input: OpenedInput,
    start: Start,
    out: mpsc::SyncSender<Chunk>,
    free: mpsc::Receiver<Chunk>,
) -> (OpenedInput, Option<Failure>) {
    let mut handover = Handover::new(out, free, MAX_CHUNKS);
    let mut chunk = Chunk::default();
    let mut number = start.line_no;
    let mut offset = start.offset;
    chunk.data.extend_from_slice(&start.first);
    chunk.lines.push(Line {
        start: 0,
        end: start.first.len(),
        number,
        offset,
        len: start.first_len,
    });
    offset += start.first_len;
    loop {
        // False when the file's thread stopped on an error of its own.
        if chunk.data.len() >= start.chunk_bytes && !handover.pass(&mut chunk) {
            return (input, None);
        }
        let at = chunk.data.len();
        match read_line_capped_at(&mut *input.reader, &mut chunk.data, at) {
            Ok(0) => break,
            Ok(n) => {
                number += 1;
                chunk.lines.push(Line {
                    start: at,
                    end: chunk.data.len(),
                    number,
                    offset,
                    len: n,
                });
                offset += n;
            }
            Err(err) => {
                let partial = chunk.data.split_off(at);
                handover.finish(chunk);
                let failure = Failure {
                    err,
                    partial,
                    line: number + 1,
                    offset,
                };
                return (input, Some(failure));
            }
        }
    }
    handover.finish(chunk);
    (input, None)
}
