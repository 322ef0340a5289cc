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

    /// Stages and checks the files found beside the records (an OpenAlex snapshot's merged ids
    /// and manifests), once every record file is read; `files` are the reports of those. By
    /// default there are none.
    fn stage_side_files(
        &self,
        _inputs: &Inputs,
        _staging: &Path,
        _files: &[FileReport],
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
    seen: HashMap<i64, (u64, u32)>,
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
            seen: HashMap::new(),
            snapshot_days,
            rows: [0; TABLE_COUNT],
            sha256: None,
            file_error: None,
        }
    }

    /// Opens the file, counting its raw bytes into the progress counters.
    pub fn open(&self) -> Result<OpenedInput> {
        input::open(&self.file.path, Some(self.progress.bytes_read.clone()))
    }

    /// The file's path as shown in messages and rejects.
    pub fn display_path(&self) -> String {
        self.file.path.display().to_string()
    }

    /// If `work_id` was already ingested from this file, where.
    pub fn already_seen(&mut self, work_id: i64, loc: &Location) -> Option<String> {
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
        let (line, result) = *self.seen.entry(work_id).or_insert(here);
        if (line, result) == here {
            return None;
        }
        Some(match result {
            u32::MAX => format!("{unit} {line}"),
            i => format!("{unit} {line}, result {i}"),
        })
    }

    /// Records that the last appended work was accepted.
    pub fn accepted(&mut self, work_id: i64, updated_micros: Option<i64>) -> Result<()> {
        self.stats.ingested += 1;
        self.progress.records_read.fetch_add(1, Ordering::Relaxed);
        let minutes = updated_micros
            .or(self.snapshot_days.map(|d| d * 86_400_000_000))
            .map(version_minutes)
            .unwrap_or(0);
        self.versions_w.append_value(work_id);
        self.versions_v
            .append_value(pack_version(minutes, self.file_index, self.stats.ingested));
        if self.builders.works.len() >= FLUSH_WORKS {
            self.flush()?;
        }
        Ok(())
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
        let works = self.builders.works.len() as u64;
        if works == 0 && self.builders.authorships.is_empty() {
            return Ok(());
        }
        let batches = self.builders.finish()?;
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

/// A finished file: its report and the rows it wrote per table.
pub(crate) type FileOutcome = (FileReport, [u64; TABLE_COUNT]);
