//! Stage one of ingest: raw files -> staging Parquet, in parallel across files, streaming.
//!
//! Each input file becomes one or more *parts*: `STAGING/<table>/file_index=N/part-N-R.parquet`
//! for every table, so that a part holds a run of works and all their child rows. Alongside,
//! `_versions/` records each work's version (for keeping the newest copy of a work found in several
//! files) and `_rejects/` every record that could not be ingested, with its location and raw text
//! (the layout is in [`staging`](crate::staging)). What a source implements is in
//! [`source`](crate::source); [`stage`] runs one over every file.
//!
//! The engine's finalize step turns a staging folder into the published dataset.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::error::{DatasetError, Result};
use crate::input::Inputs;
use crate::schema::TABLE_COUNT;
use crate::source::{FileContext, FileOutcome, FileReport, Progress, RecordCounts, Source};
use crate::staging::VERSION_FILE_MASK;

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
    /// Files of other OpenAlex entities found in a snapshot and not read, per entity folder.
    pub skipped_entities: BTreeMap<String, u64>,
    /// The OpenAlex entity files read into their own tables (staged in
    /// [`ENTITIES_DIR`](crate::staging::ENTITIES_DIR)).
    pub entities: crate::source::EntityStage,
}

/// Options of stage one.
#[derive(Debug, Clone)]
pub struct StageOptions {
    /// Worker threads (files are read in parallel); at least 1.
    pub threads: usize,
    /// Decompressed bytes per chunk that a reader hands to its parser threads inside one file
    /// (OpenAlex JSON Lines); `None` takes the reader's own size. Small values are for tests, to
    /// cut a small file into many chunks.
    pub chunk_bytes: Option<usize>,
}

impl Default for StageOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_bytes: None,
        }
    }
}

/// Reads every input file into `staging`, `threads` files at a time.
pub fn stage(
    source: &dyn Source,
    inputs: &Inputs,
    staging: &Path,
    options: &StageOptions,
    progress: &Progress,
) -> Result<StageReport> {
    if inputs.files.len() > VERSION_FILE_MASK as usize {
        return Err(DatasetError::BadInput {
            path: inputs.files[0].path.clone(),
            reason: format!(
                "{} input files; at most {} per ingest run",
                inputs.files.len(),
                VERSION_FILE_MASK
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
    // A snapshot of other entities only has no works files: no reader thread then.
    let threads = options.threads.max(1).min(inputs.files.len().max(1));
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
                        FileContext::new(source, file, i, staging, progress, spare_threads);
                    ctx.chunk_bytes = options.chunk_bytes;
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
    let side = source.stage_side_files(inputs, staging, &files, options.threads)?;
    Ok(StageReport {
        source: source.name(),
        files,
        totals,
        rows,
        merged_ids: side.merged_ids,
        merged_id_files: side.merged_id_files,
        manifest_mismatches: side.manifest_mismatches,
        skipped_entities: inputs.skipped_entities.clone(),
        entities: side.entities,
    })
}
