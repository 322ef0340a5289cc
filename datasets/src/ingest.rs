//! Stage one of ingest: raw files -> staging Parquet, in parallel across files, streaming.
//!
//! Each input file becomes one or more *parts*: `STAGING/<table>/file_index=N/part-N-R.parquet`
//! for every table, so that a part holds a run of works and all their child rows. Alongside,
//! `_versions/` records each work's version (for keeping the newest copy of a work found in several
//! files) and `_rejects/` every record that could not be ingested, with its location and raw text.
//!
//! The engine's finalize step turns a staging folder into the published dataset.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::{ArrayBuilder, ArrayRef, Int64Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use crate::builders::TableBuilders;
use crate::error::{DatasetError, Result};
use crate::input::{self, InputFile, Inputs, OpenedInput};
use crate::schema::TABLE_COUNT;
use crate::stage_writer::{StageTarget, StageWriter};
use crate::writer::{Location, ParquetFile, RejectsWriter};

/// Works buffered before a batch is handed to the Parquet writers.
const FLUSH_WORKS: usize = 2 * 1024;
/// Works per part file before a new part is started.
const PART_MAX_WORKS: u64 = 1_000_000;
/// Folder of the per-work version side table in a staging folder.
pub const VERSIONS_DIR: &str = "_versions";
/// Folder of the deletions side table (PubMed `DeleteCitation`) in a staging folder.
pub const DELETES_DIR: &str = "_deletes";
/// Folder of the merged-ids side table in a staging folder.
pub const MERGED_DIR: &str = "_merged_ids";
/// Folder of rejected records, in staging and in the published dataset.
pub const REJECTS_DIR: &str = "_rejects";

/// A reader of one kind of raw record.
pub trait Source: Sync {
    /// Short name: `openalex`, `pubmed`.
    fn name(&self) -> &'static str;
    /// File name endings taken when walking folders.
    fn extensions(&self) -> &'static [&'static str];
    /// Reads one file, appending accepted records to `ctx.builders` and rejecting the others.
    fn read_file(&self, ctx: &mut FileContext<'_>) -> Result<()>;
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
}

impl RecordCounts {
    fn add(&mut self, o: &RecordCounts) {
        self.read += o.read;
        self.ingested += o.ingested;
        self.rejected += o.rejected;
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

/// The outcome of stage one.
#[derive(Debug, Clone)]
pub struct StageReport {
    pub source: &'static str,
    pub files: Vec<FileReport>,
    pub totals: RecordCounts,
    /// Rows written per table, in [`crate::schema::TABLES`] order.
    pub rows: [u64; TABLE_COUNT],
    /// `(merged id, merge_into id)` pairs loaded from the snapshot's merged-ids files.
    pub merged_ids: u64,
    pub merged_id_files: Vec<FileReport>,
    /// Snapshot manifest checks that failed (expected vs read counts).
    pub manifest_mismatches: Vec<String>,
}

/// Options of stage one.
#[derive(Debug, Clone)]
pub struct StageOptions {
    /// Worker threads (files are read in parallel); at least 1.
    pub threads: usize,
}

impl Default for StageOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Schema of the `_versions` side table.
pub fn versions_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("work_id", DataType::Int64, false),
        Field::new("version", DataType::Int64, false),
    ]))
}

/// Schema of the `_merged_ids` side table.
pub fn merged_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("work_id", DataType::Int64, false),
        Field::new("merge_into_id", DataType::Int64, false),
    ]))
}

/// The version of a work: newer `updated_date` first, then later file, then later record.
///
/// Packed as `days << 47 | file_index << 27 | record_index` so that `max(version)` picks the copy
/// to keep, and `(version >> 27) & 0xFFFFF` names the file it came from.
pub fn pack_version(days: i64, file_index: usize, record_index: u64) -> i64 {
    let days = days.clamp(0, 0xFFFF);
    let file = (file_index as i64) & 0xF_FFFF;
    let rec = record_index.min(0x7FF_FFFF) as i64;
    (days << 47) | (file << 27) | rec
}

/// The file index packed into a version.
pub fn version_file_index(version: i64) -> i64 {
    (version >> 27) & 0xF_FFFF
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
    /// Works already taken from this file, with the (line, result index) they came from.
    seen: HashMap<i64, (u64, u32)>,
    snapshot_days: Option<i64>,
    rows: [u64; TABLE_COUNT],
    sha256: Option<String>,
    file_error: Option<String>,
}

impl<'a> FileContext<'a> {
    fn new(
        source: &'static str,
        file: &'a InputFile,
        file_index: usize,
        staging: &'a Path,
        progress: &'a Progress,
        spare_threads: usize,
    ) -> Self {
        let snapshot_days = file
            .snapshot_date
            .as_deref()
            .and_then(crate::openalex::convert::parse_timestamp_micros)
            .map(|m| m.div_euclid(86_400_000_000));
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
        let here = (
            loc.line.unwrap_or(0),
            loc.result_index.map_or(u32::MAX, |i| i as u32),
        );
        let (line, result) = *self.seen.entry(work_id).or_insert(here);
        if (line, result) == here {
            return None;
        }
        Some(match result {
            u32::MAX => format!("line {line}"),
            i => format!("line {line}, result {i}"),
        })
    }

    /// Records that the last appended work was accepted.
    pub fn accepted(&mut self, work_id: i64, updated_micros: Option<i64>) -> Result<()> {
        self.stats.ingested += 1;
        self.progress.records_read.fetch_add(1, Ordering::Relaxed);
        let days = updated_micros
            .map(|m| m.div_euclid(86_400_000_000))
            .or(self.snapshot_days)
            .unwrap_or(0);
        self.versions_w.append_value(work_id);
        self.versions_v
            .append_value(pack_version(days, self.file_index, self.stats.ingested));
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
            };
            let text = String::from_utf8_lossy(partial).into_owned();
            self.reject(&loc, &format!("incomplete record: {what}"), &text)?;
        }
        self.file_error = Some(message);
        self.sha256 = input.sha256_hex();
        Ok(())
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

    fn close(mut self) -> Result<FileOutcome> {
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
            let path = self
                .staging
                .join(DELETES_DIR)
                .join(format!("part-{:05}.parquet", self.file_index));
            let mut f = ParquetFile::create(&path, versions_schema())?;
            f.write(&batch)?;
            f.close()?;
        }
        self.rejects.close()?;
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
type FileOutcome = (FileReport, [u64; TABLE_COUNT]);

/// Reads every input file into `staging`, `threads` files at a time.
pub fn stage(
    source: &dyn Source,
    inputs: &Inputs,
    staging: &Path,
    options: &StageOptions,
    progress: &Progress,
) -> Result<StageReport> {
    if inputs.files.len() > 0xF_FFFF {
        return Err(DatasetError::BadInput {
            path: inputs.files[0].path.clone(),
            reason: format!(
                "{} input files; at most {} per ingest run",
                inputs.files.len(),
                0xF_FFFF
            ),
        });
    }
    std::fs::create_dir_all(staging).map_err(|e| DatasetError::write(staging, e))?;
    progress
        .files_total
        .store(inputs.files.len() as u64, Ordering::Relaxed);
    progress
        .bytes_total
        .store(inputs.files.iter().map(|f| f.size).sum(), Ordering::Relaxed);

    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<FileOutcome>>> = Mutex::new(vec![None; inputs.files.len()]);
    let first_error: Mutex<Option<DatasetError>> = Mutex::new(None);
    let threads = options.threads.max(1).min(inputs.files.len());
    // Fewer files than threads: the cores left over go to reading inside each file.
    let spare_threads = (options.threads.max(1) / threads).max(1);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = inputs.files.get(i) else {
                        break;
                    };
                    let mut ctx =
                        FileContext::new(source.name(), file, i, staging, progress, spare_threads);
                    let outcome = source.read_file(&mut ctx).and_then(|_| ctx.close());
                    match outcome {
                        Ok(r) => {
                            results.lock().expect("results lock")[i] = Some(r);
                            progress.files_done.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            stop.store(true, Ordering::Relaxed);
                            first_error.lock().expect("error lock").get_or_insert(e);
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("error lock") {
        return Err(e);
    }

    let mut files = Vec::with_capacity(inputs.files.len());
    let mut totals = RecordCounts::default();
    let mut rows = [0u64; TABLE_COUNT];
    for r in results.into_inner().expect("results lock") {
        let (report, r_rows) =
            r.ok_or_else(|| DatasetError::Worker("a file was skipped".into()))?;
        totals.add(&report.counts);
        for (a, b) in rows.iter_mut().zip(r_rows) {
            *a += b;
        }
        files.push(report);
    }
    let (merged_ids, merged_id_files) = stage_merged_ids(&inputs.merged_ids, staging)?;
    let manifest_mismatches = check_snapshot_manifests(&inputs.manifests, &files)?;
    Ok(StageReport {
        source: source.name(),
        files,
        totals,
        rows,
        merged_ids,
        merged_id_files,
        manifest_mismatches,
    })
}

/// Loads OpenAlex `merged_ids/works/*.csv(.gz)` (`merge_date,id,merge_into_id`) into `_merged_ids/`.
fn stage_merged_ids(files: &[InputFile], staging: &Path) -> Result<(u64, Vec<FileReport>)> {
    use std::io::BufRead;
    if files.is_empty() {
        return Ok((0, Vec::new()));
    }
    let path = staging.join(MERGED_DIR).join("part-00000.parquet");
    let mut out = ParquetFile::create(&path, merged_schema())?;
    let mut total = 0;
    let mut reports = Vec::new();
    for f in files {
        let mut input = input::open(&f.path, None)?;
        let mut ids = Int64Builder::new();
        let mut into = Int64Builder::new();
        let mut columns: Option<(usize, usize)> = None;
        let mut line = String::new();
        let mut line_no = 0u64;
        loop {
            line.clear();
            let n = input
                .reader
                .read_line(&mut line)
                .map_err(|e| DatasetError::io(&f.path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let cells: Vec<&str> = line.trim_end().split(',').map(str::trim).collect();
            let Some((id_col, into_col)) = columns else {
                let find = |name: &str| cells.iter().position(|c| *c == name);
                columns = Some(find("id").zip(find("merge_into_id")).ok_or_else(|| {
                    DatasetError::MergedIds {
                        path: f.path.clone(),
                        line: 1,
                        reason: "expected a header with `id` and `merge_into_id`".into(),
                    }
                })?);
                continue;
            };
            if cells.iter().all(|c| c.is_empty()) {
                continue;
            }
            let parse = |col: usize| {
                cells
                    .get(col)
                    .and_then(|c| crate::openalex::ids::entity_number(c, b'W'))
            };
            match (parse(id_col), parse(into_col)) {
                (Some(a), Some(b)) => {
                    ids.append_value(a);
                    into.append_value(b);
                }
                _ => {
                    return Err(DatasetError::MergedIds {
                        path: f.path.clone(),
                        line: line_no,
                        reason: format!("not a pair of work ids: {:?}", line.trim_end()),
                    });
                }
            }
        }
        let batch = RecordBatch::try_new(
            merged_schema(),
            vec![Arc::new(ids.finish()) as ArrayRef, Arc::new(into.finish())],
        )
        .map_err(|source| DatasetError::Arrow {
            table: MERGED_DIR,
            source,
        })?;
        total += batch.num_rows() as u64;
        out.write(&batch)?;
        reports.push(FileReport {
            path: f.path.clone(),
            size: f.size,
            sha256: input.sha256_hex(),
            counts: RecordCounts {
                read: batch.num_rows() as u64,
                ingested: batch.num_rows() as u64,
                rejected: 0,
            },
            error: None,
            deletions: 0,
        });
    }
    out.close()?;
    Ok((total, reports))
}

#[derive(Deserialize)]
struct SnapshotManifest {
    entries: Vec<SnapshotEntry>,
}

#[derive(Deserialize)]
struct SnapshotEntry {
    url: String,
    meta: Option<SnapshotMeta>,
}

#[derive(Deserialize)]
struct SnapshotMeta {
    record_count: Option<u64>,
}

/// Compares a snapshot manifest's `record_count` per part with the records read from that part.
fn check_snapshot_manifests(manifests: &[PathBuf], files: &[FileReport]) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    for m in manifests {
        let text = std::fs::read_to_string(m).map_err(|e| DatasetError::io(m, e))?;
        let parsed: SnapshotManifest =
            serde_json::from_str(&text).map_err(|e| DatasetError::Manifest {
                path: m.clone(),
                message: format!("not an OpenAlex snapshot manifest: {e}"),
            })?;
        let dir = m.parent().unwrap_or(Path::new("."));
        for entry in parsed.entries {
            // `s3://openalex/data/works/updated_date=2024-01-01/part_000.gz` -> the last two parts.
            let mut parts = entry.url.rsplit('/');
            let (Some(file), Some(partition)) = (parts.next(), parts.next()) else {
                continue;
            };
            let local = dir.join(partition).join(file);
            let Some(expected) = entry.meta.and_then(|m| m.record_count) else {
                continue;
            };
            match files.iter().find(|f| f.path == local) {
                Some(f) if f.counts.read != expected => problems.push(format!(
                    "{}: manifest says {expected} records, {} were read",
                    local.display(),
                    f.counts.read
                )),
                Some(_) => {}
                None => problems.push(format!(
                    "{}: listed in {} but not found",
                    local.display(),
                    m.display()
                )),
            }
        }
    }
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_date_then_file_then_record() {
        let a = pack_version(100, 5, 1);
        let b = pack_version(101, 0, 0);
        let c = pack_version(100, 6, 0);
        assert!(b > a && c > a && b > c);
        assert_eq!(version_file_index(pack_version(20000, 77, 123)), 77);
        assert!(pack_version(0xFFFF, 0xF_FFFF, u64::MAX) > 0);
    }
}
