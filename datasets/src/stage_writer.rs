//! The Parquet side of staging one input file, on a thread of its own.
//!
//! Encoding and compressing Parquet is about a third of an ingest's CPU. Done on the thread that
//! appends records, it stalls the whole per-file pipeline at every flush (the readers and parsers
//! wait for chunks to come back), and the file's last flush runs alone at the end. A
//! [`StageWriter`] hands each flush's batches to a writer thread instead, through a channel that
//! holds at most [`IN_FLUSH`] flushes besides the one being written, which bounds the memory it adds. Batches are written in the
//! order they are sent, so the files do not depend on the timing.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use arrow::record_batch::RecordBatch;

use crate::error::{DatasetError, Result};
use crate::schema::TABLE_COUNT;
use crate::writer::{ParquetFile, PartWriter};

/// Flushes queued for the writer thread beyond the one it is writing: at most `IN_FLUSH + 1`
/// flushes are alive between the appending thread and the files.
const IN_FLUSH: usize = 1;

/// One flush: a batch per table, the works' version rows, and the number of works.
struct Flush {
    tables: [RecordBatch; TABLE_COUNT],
    versions: RecordBatch,
    works: u64,
}

/// Where the writer thread puts a file's parts and version rows.
#[derive(Debug, Clone)]
pub struct StageTarget {
    pub staging: PathBuf,
    pub file_index: usize,
    /// Works per part before the next part is started.
    pub part_max_works: u64,
    /// `_versions/part-N.parquet` for this file.
    pub versions_path: PathBuf,
    /// The versions table's schema.
    pub versions_schema: arrow::datatypes::SchemaRef,
}

/// Sends a file's flushes to its writer thread; [`StageWriter::finish`] returns the rows written
/// per table.
#[derive(Debug)]
pub struct StageWriter {
    tx: Option<mpsc::SyncSender<Flush>>,
    thread: Option<JoinHandle<Result<[u64; TABLE_COUNT]>>>,
}

impl StageWriter {
    /// Starts the writer thread. Nothing is created on disk before the first flush.
    pub fn start(target: StageTarget) -> Result<Self> {
        let (tx, rx) = mpsc::sync_channel::<Flush>(IN_FLUSH);
        let thread = std::thread::Builder::new()
            .name(format!("bibflow-write-{}", target.file_index))
            .spawn(move || write_all(&target, &rx))
            .map_err(|e| DatasetError::Worker(format!("cannot start a writer thread: {e}")))?;
        Ok(Self {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queues one flush; blocks while [`IN_FLUSH`] flushes are already queued.
    pub fn send(
        &mut self,
        tables: [RecordBatch; TABLE_COUNT],
        versions: RecordBatch,
        works: u64,
    ) -> Result<()> {
        let flush = Flush {
            tables,
            versions,
            works,
        };
        let sent = self.tx.as_ref().map(|tx| tx.send(flush).is_ok());
        if sent == Some(true) {
            return Ok(());
        }
        // The writer stopped early: its error says why.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(DatasetError::Worker(
                "the Parquet writer thread stopped early".into(),
            )),
        }
    }

    /// Waits for every queued flush to be written and the files closed; rows written per table.
    pub fn finish(mut self) -> Result<[u64; TABLE_COUNT]> {
        self.join()
    }

    fn join(&mut self) -> Result<[u64; TABLE_COUNT]> {
        self.tx = None;
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| DatasetError::Worker("the Parquet writer thread panicked".into()))?,
            None => Err(DatasetError::Worker(
                "the Parquet writer thread was already joined".into(),
            )),
        }
    }
}

impl Drop for StageWriter {
    /// On an error path the writer still closes what it has and stops before the staging folder
    /// is removed.
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn part_writer(staging: &Path, file_index: usize, roll: u32) -> PartWriter {
    PartWriter::new(
        staging,
        format!("file_index={file_index}"),
        format!("part-{file_index:05}-{roll:03}.parquet"),
    )
}

/// The writer thread: writes every flush, rolls parts, closes everything when the channel closes.
fn write_all(target: &StageTarget, rx: &mpsc::Receiver<Flush>) -> Result<[u64; TABLE_COUNT]> {
    let mut rows = [0u64; TABLE_COUNT];
    let mut add = |r: [u64; TABLE_COUNT]| {
        for (a, b) in rows.iter_mut().zip(r) {
            *a += b;
        }
    };
    let mut roll = 0;
    let mut part = part_writer(&target.staging, target.file_index, roll);
    let mut part_works = 0;
    let mut versions: Option<ParquetFile> = None;
    for flush in rx {
        part.write_all(&flush.tables)?;
        part_works += flush.works;
        if versions.is_none() {
            versions = Some(ParquetFile::create(
                &target.versions_path,
                target.versions_schema.clone(),
            )?);
        }
        versions
            .as_mut()
            .expect("opened above")
            .write(&flush.versions)?;
        if part_works >= target.part_max_works {
            roll += 1;
            let next = part_writer(&target.staging, target.file_index, roll);
            add(std::mem::replace(&mut part, next).close()?);
            part_works = 0;
        }
    }
    add(part.close()?);
    if let Some(v) = versions {
        v.close()?;
    }
    Ok(rows)
}
