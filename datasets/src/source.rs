//! The source contract: what a reader of one kind of raw record implements ([`Source`]) and the
//! per-file state it reads into ([`FileContext`]), with the counts and reports it produces.
//!
//! A [`FileContext`] takes the records a source appends, hands them in batches to the Parquet
//! writer threads as parts of the staging folder (its layout is in [`staging`](crate::staging)),
//! records each work's version and deletions, and writes rejected records with their location and
//! raw text. The ingest driver (`ingest::stage`) runs a source over every input file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow::array::{ArrayBuilder, ArrayRef, Int64Builder};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use crate::builders::TableBuilders;
use crate::error::{DatasetError, Result};
use crate::input::{self, InputFile, Inputs, OpenedInput};
use crate::schema::{EntityTable, TABLE_COUNT};
use crate::stage_writer::{StageTarget, StageWriter};
use crate::staging::{
    DELETES_DIR, VERSIONS_DIR, pack_version, side_part, version_minutes, versions_schema,
};
use crate::writer::{FieldNote, Location, ParquetFile, RejectsWriter, WarningsWriter};

/// Works buffered before a batch is handed to the Parquet writers.
const FLUSH_WORKS: usize = 2 * 1024;
/// Works per part file before a new part is started.
const PART_MAX_WORKS: u64 = 1_000_000;

/// A reader of one kind of raw record.
pub trait Source: Sync {
    /// Short name: `openalex`, `pubmed`.
    fn name(&self) -> &'static str;
    /// File name endings taken when walking folders.
    fn extensions(&self) -> &'static [&'static str];
    /// Reads one file, appending accepted records to `ctx.builders` and rejecting the others.
    fn read_file(&self, ctx: &mut FileContext<'_>) -> Result<()>;

    /// The day (since the epoch) that versions this file's records when they carry no date of
    /// their own, from where the file sits (an OpenAlex snapshot's `updated_date=` partition). By
    /// default none: such records get day 0, and the file and record order decide.
    fn snapshot_days(&self, _file: &InputFile) -> Option<i64> {
        None
    }

    /// Stages and checks the files found beside the records (an OpenAlex snapshot's merged ids,
    /// other entities and manifests), once every record file is read, `threads` files at a time;
    /// `files` are the reports of the record files. By default there are none.
    fn stage_side_files(
        &self,
        _inputs: &Inputs,
        _staging: &Path,
        _files: &[FileReport],
        _threads: usize,
    ) -> Result<SideFiles> {
        Ok(SideFiles::default())
    }
}

/// What [`Source::stage_side_files`] staged and found.
#[derive(Debug, Clone, Default)]
pub struct SideFiles {
    /// `(merged id, merge_into id)` pairs written to [`MERGED_DIR`](crate::staging::MERGED_DIR).
    pub merged_ids: u64,
    /// The files the merged ids came from.
    pub merged_id_files: Vec<FileReport>,
    /// Snapshot manifest checks that failed (expected vs read counts).
    pub manifest_mismatches: Vec<String>,
    /// The OpenAlex entity files read besides the records (authors, institutions, ...).
    pub entities: EntityStage,
}

/// What reading OpenAlex's other entity files did (`crate::openalex::entities`): each file's
/// report, with its entity, in the order read.
#[derive(Debug, Clone, Default)]
pub struct EntityStage {
    pub files: Vec<(EntityTable, FileReport)>,
}

impl EntityStage {
    /// Record counts per entity read (`read = ingested + rejected`).
    pub fn counts(&self) -> std::collections::BTreeMap<EntityTable, RecordCounts> {
        let mut out: std::collections::BTreeMap<EntityTable, RecordCounts> = Default::default();
        for (e, f) in &self.files {
            out.entry(*e).or_default().add(&f.counts);
        }
        out
    }
}

/// Live counters for a progress display; updated by the workers, read by anyone.
#[derive(Debug, Default)]
pub struct Progress {
    pub files_total: AtomicU64,
    pub files_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub bytes_read: Arc<AtomicU64>,
    pub records_read: AtomicU64,
    pub records_rejected: AtomicU64,
}

/// Record counts for one file or a whole run. `read = ingested + rejected` always holds.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordCounts {
    pub read: u64,
    pub ingested: u64,
    pub rejected: u64,
    /// Field warnings of ingested records: fields converted or set to NULL because their value had
    /// an unexpected type (one per field; in `_rejects/warnings/`).
    #[serde(default)]
    pub warnings: u64,
    /// Ingested records whose author list the source says is cut short (OpenAlex API pages stop
    /// at 100 authors: `is_authors_truncated`).
    #[serde(default)]
    pub authors_truncated: u64,
}

impl RecordCounts {
    /// Adds `o` to these counts.
    pub fn add(&mut self, o: &RecordCounts) {
        self.read += o.read;
        self.ingested += o.ingested;
        self.rejected += o.rejected;
        self.warnings += o.warnings;
        self.authors_truncated += o.authors_truncated;
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileReport {
    pub path: PathBuf,
    pub size: u64,
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub counts: RecordCounts,
    /// A file-level problem (a truncated gzip stream): the file's good records are kept.
    pub error: Option<String>,
    /// Works this file deletes (PubMed `DeleteCitation`); applied to earlier versions only.
    #[serde(default)]
    pub deletions: u64,
}

/// State while one input file is read: the builders, the part writers, rejects and counters.
#[derive(Debug)]
pub struct FileContext<'a> {
    pub file: &'a InputFile,
    pub file_index: usize,
    pub builders: TableBuilders,
    pub stats: RecordCounts,
    /// Threads a reader may use for this file (besides its own): cores not busy with other files.
    pub spare_threads: usize,
    /// Decompressed bytes per chunk handed to parser threads ([`crate::ingest::StageOptions`]).
    pub chunk_bytes: Option<usize>,
    source: &'static str,
    staging: &'a Path,
    progress: &'a Progress,
    /// The Parquet writer threads ([`StageWriter`]), started at the first flush.
    writer: Option<StageWriter>,
    versions_w: Int64Builder,
    versions_v: Int64Builder,
    deletes_w: Int64Builder,
    deletes_v: Int64Builder,
    deletions: u64,
    rejects: RejectsWriter,
    warnings: WarningsWriter,
    /// Works already taken from this file, with the (line, result index) they came from.
    seen: SeenWorks,
    /// Rows of works converted on parser threads, taken in file order and not flushed yet, before
    /// what `builders` holds.
    converted: Vec<[RecordBatch; TABLE_COUNT]>,
    /// Works in `converted`.
    converted_works: usize,
    snapshot_days: Option<i64>,
    rows: [u64; TABLE_COUNT],
    sha256: Option<String>,
    file_error: Option<String>,
}

impl<'a> FileContext<'a> {
    /// The state for reading `file`, the `file_index`-th input, into `staging`.
    pub(crate) fn new(
        source: &dyn Source,
        file: &'a InputFile,
        file_index: usize,
        staging: &'a Path,
        progress: &'a Progress,
        spare_threads: usize,
    ) -> Self {
        let snapshot_days = source.snapshot_days(file);
        let source = source.name();
        Self {
            file,
            file_index,
            builders: TableBuilders::default(),
            stats: RecordCounts::default(),
            spare_threads,
            chunk_bytes: None,
            source,
            staging,
            progress,
            writer: None,
            versions_w: Int64Builder::new(),
            versions_v: Int64Builder::new(),
            deletes_w: Int64Builder::new(),
            deletes_v: Int64Builder::new(),
            deletions: 0,
            rejects: RejectsWriter::new(staging, source, file_index),
            warnings: WarningsWriter::new(staging, source, file_index),
            seen: SeenWorks::default(),
            converted: Vec::new(),
            converted_works: 0,
            snapshot_days,
            rows: [0; TABLE_COUNT],
            sha256: None,
            file_error: None,
        }
    }

    /// Opens the file, counting its raw bytes into the progress counters.
    pub fn open(&self) -> Result<OpenedInput> {
        self.file.open(Some(self.progress.bytes_read.clone()))
    }

    /// [`open`](Self::open) for the file's copy at `copy` on this machine
    /// ([`InputFile::local_copy`]).
    pub fn open_copy(&self, copy: &Path) -> Result<OpenedInput> {
        input::open(copy, Some(self.progress.bytes_read.clone()))
    }

    /// The file's path as shown in messages and rejects.
    pub fn display_path(&self) -> String {
        self.file.path.display().to_string()
    }

    /// If `work_id` was already ingested from this file, where.
    pub fn already_seen(&mut self, work_id: i64, loc: &Location) -> Option<String> {
        self.seen.check(work_id, loc)
    }

    /// Takes the works a parser thread saw in one chunk of this file (`chunk`, each with where it
    /// was first seen in the chunk), unless one of them was seen before the chunk: then nothing is
    /// taken and `false` returned.
    pub(crate) fn take_seen(&mut self, chunk: SeenWorks) -> bool {
        if chunk.0.keys().any(|id| self.seen.0.contains_key(id)) {
            return false;
        }
        self.seen.0.extend(chunk.0);
        true
    }

    /// Records that the last appended work was accepted.
    pub fn accepted(&mut self, work_id: i64, updated_micros: Option<i64>) -> Result<()> {
        self.count_accepted(work_id, updated_micros);
        if self.unflushed_works() >= FLUSH_WORKS {
            self.flush()?;
        }
        Ok(())
    }

    /// Takes the works of one chunk converted on a parser thread, in file order after everything
    /// taken so far, as if each had been appended here and [`accepted`](Self::accepted): the
    /// flushes fall on the same works, so the staged files do not depend on who converted them.
    pub(crate) fn accepted_converted(&mut self, chunk: Converted) -> Result<()> {
        let mut from = [0usize; TABLE_COUNT];
        let mut taken = 0;
        for (k, (work_id, updated_micros, ends)) in chunk.works.iter().enumerate() {
            self.count_accepted(*work_id, *updated_micros);
            if self.unflushed_works() + (k + 1 - taken) >= FLUSH_WORKS {
                self.push_converted(&chunk.batches, &from, ends, k + 1 - taken)?;
                from = *ends;
                taken = k + 1;
                self.flush()?;
            }
        }
        if let Some((_, _, ends)) = chunk.works.last()
            && taken < chunk.works.len()
        {
            self.push_converted(&chunk.batches, &from, ends, chunk.works.len() - taken)?;
        }
        Ok(())
    }

    /// Works appended or converted since the last flush.
    fn unflushed_works(&self) -> usize {
        self.converted_works + self.builders.works.len()
    }

    /// Queues rows `from..to` of a converted chunk's tables (`works` works) after those queued.
    fn push_converted(
        &mut self,
        batches: &[RecordBatch; TABLE_COUNT],
        from: &[usize; TABLE_COUNT],
        to: &[usize; TABLE_COUNT],
        works: usize,
    ) -> Result<()> {
        // Rows appended here before (a chunk read again on this thread) come first.
        self.queue_builders()?;
        let slices = std::array::from_fn(|t| batches[t].slice(from[t], to[t] - from[t]));
        self.converted.push(slices);
        self.converted_works += works;
        Ok(())
    }

    /// Moves what the builders hold to the end of `converted`.
    fn queue_builders(&mut self) -> Result<()> {
        if self.builders.lens().iter().all(|&n| n == 0) {
            return Ok(());
        }
        self.converted_works += self.builders.works.len();
        let batches = self.builders.finish()?;
        self.converted.push(batches);
        Ok(())
    }

    /// The rows waiting to be written, one batch per table, or `None` when nothing waits.
    fn take_unflushed(&mut self) -> Result<Option<[RecordBatch; TABLE_COUNT]>> {
        if self.converted.is_empty() {
            if self.builders.works.is_empty() && self.builders.authorships.is_empty() {
                return Ok(None);
            }
            return self.builders.finish().map(Some);
        }
        self.queue_builders()?;
        let parts = std::mem::take(&mut self.converted);
        self.converted_works = 0;
        if parts.len() == 1 {
            return Ok(parts.into_iter().next());
        }
        let mut out = Vec::with_capacity(TABLE_COUNT);
        for (t, table) in crate::schema::TABLES.iter().enumerate() {
            let batches: Vec<&RecordBatch> = parts.iter().map(|p| &p[t]).collect();
            let batch =
                arrow::compute::concat_batches(&table.schema(), batches).map_err(|source| {
                    DatasetError::Arrow {
                        table: table.name(),
                        source,
                    }
                })?;
            out.push(batch);
        }
        Ok(Some(out.try_into().expect("one batch per table")))
    }

    /// Counts an accepted work and notes its version.
    fn count_accepted(&mut self, work_id: i64, updated_micros: Option<i64>) {
        self.stats.ingested += 1;
        self.progress.records_read.fetch_add(1, Ordering::Relaxed);
        let minutes = updated_micros
            .or(self.snapshot_days.map(|d| d * 86_400_000_000))
            .map(version_minutes)
            .unwrap_or(0);
        self.versions_w.append_value(work_id);
        self.versions_v
            .append_value(pack_version(minutes, self.file_index, self.stats.ingested));
    }

    /// Records that this file deletes `work_id` (PubMed `DeleteCitation`): every copy of the work
    /// read before this point (earlier files, earlier records of this file) is dropped at publish.
    pub fn delete(&mut self, work_id: i64) -> Result<()> {
        self.deletions += 1;
        self.deletes_w.append_value(work_id);
        self.deletes_v
            .append_value(pack_version(0, self.file_index, self.stats.ingested));
        Ok(())
    }

    /// Writes a rejected record (with its raw text) to `_rejects/`.
    pub fn reject(&mut self, loc: &Location, reason: &str, raw: &str) -> Result<()> {
        self.stats.rejected += 1;
        self.progress.records_read.fetch_add(1, Ordering::Relaxed);
        self.progress
            .records_rejected
            .fetch_add(1, Ordering::Relaxed);
        self.rejects.reject(loc, reason, raw)
    }

    /// Writes the field warnings of a kept record (lenient typing) to `_rejects/warnings/`.
    pub fn warn(&mut self, loc: &Location, work_id: i64, notes: &[FieldNote]) -> Result<()> {
        self.stats.warnings += notes.len() as u64;
        self.warnings.warn(loc, work_id, notes)
    }

    /// Handles a read error in the middle of a file: the partial record (if any) is rejected with
    /// the compressed offset, the file is marked as broken, and reading stops there.
    pub fn truncated(
        &mut self,
        input: &OpenedInput,
        partial: &[u8],
        line: u64,
        offset: u64,
        err: std::io::Error,
    ) -> Result<()> {
        let compressed = input.raw_read.load(Ordering::Relaxed);
        let what = if input.gzip {
            "gzip stream is truncated or corrupt"
        } else {
            "read failed"
        };
        let message = format!(
            "{}: {what} at compressed byte offset {compressed} (decompressed offset {offset}): {err}",
            self.display_path()
        );
        let partial = partial.trim_ascii();
        if !partial.is_empty() {
            self.stats.read += 1;
            let loc = Location {
                file: self.display_path(),
                line: Some(line),
                byte_offset: Some(offset),
                compressed_offset: Some(compressed),
                result_index: None,
                row: None,
            };
            let text = String::from_utf8_lossy(partial).into_owned();
            self.reject(&loc, &format!("incomplete record: {what}"), &text)?;
        }
        self.file_error = Some(message);
        self.sha256 = input.sha256_hex();
        Ok(())
    }

    /// Marks the file as damaged (a file-level problem, reported in the manifest's `input_errors`);
    /// the records read before the damage are kept.
    pub fn file_failed(&mut self, message: String) {
        self.file_error = Some(message);
    }

    /// Called by a reader when it has read its input to the end.
    pub fn finish_input(&mut self, input: &OpenedInput) -> Result<()> {
        self.sha256 = input.sha256_hex();
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        let works = self.unflushed_works() as u64;
        let Some(batches) = self.take_unflushed()? else {
            return Ok(());
        };
        let versions = RecordBatch::try_new(
            versions_schema(),
            vec![
                Arc::new(self.versions_w.finish()) as ArrayRef,
                Arc::new(self.versions_v.finish()) as ArrayRef,
            ],
        )
        .map_err(|source| DatasetError::Arrow {
            table: VERSIONS_DIR,
            source,
        })?;
        if self.writer.is_none() {
            self.writer = Some(StageWriter::start(StageTarget {
                staging: self.staging.to_path_buf(),
                file_index: self.file_index,
                part_max_works: PART_MAX_WORKS,
            })?);
        }
        self.writer
            .as_mut()
            .expect("started above")
            .send(batches, versions, works)
    }

    fn add_rows(&mut self, rows: [u64; TABLE_COUNT]) {
        for (a, b) in self.rows.iter_mut().zip(rows) {
            *a += b;
        }
    }

    /// Writes what is left and closes the file's writers: its report and rows per table.
    pub(crate) fn close(mut self) -> Result<FileOutcome> {
        self.flush()?;
        if let Some(writer) = self.writer.take() {
            let rows = writer.finish()?;
            self.add_rows(rows);
        }
        if !self.deletes_w.is_empty() {
            let batch = RecordBatch::try_new(
                versions_schema(),
                vec![
                    Arc::new(self.deletes_w.finish()) as ArrayRef,
                    Arc::new(self.deletes_v.finish()) as ArrayRef,
                ],
            )
            .map_err(|source| DatasetError::Arrow {
                table: DELETES_DIR,
                source,
            })?;
            let path = side_part(self.staging, DELETES_DIR, self.file_index);
            let mut f = ParquetFile::create(&path, versions_schema())?;
            f.write(&batch)?;
            f.close()?;
        }
        self.rejects.close()?;
        self.warnings.close()?;
        debug_assert_eq!(
            self.stats.read,
            self.stats.ingested + self.stats.rejected,
            "{}",
            self.source
        );
        Ok((
            FileReport {
                path: self.file.path.clone(),
                size: self.file.size,
                sha256: self.sha256,
                counts: self.stats,
                error: self.file_error,
                deletions: self.deletions,
            },
            self.rows,
        ))
    }
}

/// Works already taken from one file (or one chunk of it), with the (line or row, result index)
/// each was first seen at.
#[derive(Debug, Default)]
pub(crate) struct SeenWorks(HashMap<i64, (u64, u32)>);

impl SeenWorks {
    /// Notes `work_id` at `loc`; if it was seen at another place before, says where.
    pub(crate) fn check(&mut self, work_id: i64, loc: &Location) -> Option<String> {
        // A Parquet row has no line: its row number takes the place.
        let unit = if loc.line.is_none() && loc.row.is_some() {
            "row"
        } else {
            "line"
        };
        let here = (
            loc.line.or(loc.row).unwrap_or(0),
            loc.result_index.map_or(u32::MAX, |i| i as u32),
        );
        let (line, result) = *self.0.entry(work_id).or_insert(here);
        if (line, result) == here {
            return None;
        }
        Some(match result {
            u32::MAX => format!("{unit} {line}"),
            i => format!("{unit} {line}, result {i}"),
        })
    }
}

/// The works of one chunk of a file, converted on a parser thread: a batch per table, and per
/// work in file order its id, its update time and the rows of each table up to and including it.
#[derive(Debug)]
pub(crate) struct Converted {
    pub batches: [RecordBatch; TABLE_COUNT],
    pub works: Vec<(i64, Option<i64>, [usize; TABLE_COUNT])>,
}

/// A finished file: its report and the rows it wrote per table.
pub(crate) type FileOutcome = (FileReport, [u64; TABLE_COUNT]);
