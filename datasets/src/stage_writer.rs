//! The Parquet side of staging one input file, on threads of its own.
//!
//! Encoding and compressing Parquet is about a third of an ingest's CPU. Done on the thread that
//! appends records, it stalls the whole per-file pipeline at every flush (the readers and parsers
//! wait for chunks to come back), and the file's last flush runs alone at the end. A
//! [`StageWriter`] hands each flush's batches to writer threads instead, one per *lane*: `works`
//! (the long titles and abstracts) and the version rows on one, the other tables on the other, so
//! that the last flushes are written on two cores. Each lane's channel holds at most [`IN_FLUSH`]
//! flushes besides the one being written, which bounds the memory this adds. Each lane writes its
//! tables in the order the flushes were sent, so the files do not depend on the timing.

use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use arrow::record_batch::RecordBatch;

use crate::error::{DatasetError, Result};
use crate::schema::{TABLE_COUNT, Table};
use crate::staging::{VERSIONS_DIR, side_part, versions_schema};
use crate::writer::{ParquetFile, PartWriter};

/// Flushes queued for a writer thread beyond the one it is writing.
const IN_FLUSH: usize = 1;

/// What a lane writes: `works` and the version rows, or every other table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    Works,
    Others,
}

impl Lane {
    fn writes(self, table: Table) -> bool {
        (table == Table::Works) == (self == Lane::Works)
    }
}

/// One flush: a batch per table (shared by the lanes), the works' version rows, and the number of
/// works.
struct Flush {
    tables: [RecordBatch; TABLE_COUNT],
    versions: Option<RecordBatch>,
    works: u64,
}

/// Where the writer threads put a file's parts and version rows.
#[derive(Debug, Clone)]
pub struct StageTarget {
    pub staging: PathBuf,
    pub file_index: usize,
    /// Works per part before the next part is started.
    pub part_max_works: u64,
}

impl StageTarget {
    /// `_versions/part-N.parquet` for this file.
    fn versions_path(&self) -> PathBuf {
        side_part(&self.staging, VERSIONS_DIR, self.file_index)
    }
}

type LaneThread = JoinHandle<Result<[u64; TABLE_COUNT]>>;

/// Sends a file's flushes to its writer threads; [`StageWriter::finish`] returns the rows written
/// per table.
#[derive(Debug)]
pub struct StageWriter {
    lanes: Vec<(mpsc::SyncSender<Flush>, LaneThread)>,
}

impl StageWriter {
    /// Starts the writer threads. Nothing is created on disk before the first flush.
    pub fn start(target: StageTarget) -> Result<Self> {
        let mut lanes = Vec::with_capacity(2);
        for lane in [Lane::Works, Lane::Others] {
            let (tx, rx) = mpsc::sync_channel::<Flush>(IN_FLUSH);
            let target = target.clone();
            let thread = std::thread::Builder::new()
                .name(format!("bibflow-write-{}", target.file_index))
                .spawn(move || write_lane(&target, lane, &rx))
                .map_err(|e| DatasetError::Worker(format!("cannot start a writer thread: {e}")))?;
            lanes.push((tx, thread));
        }
        Ok(Self { lanes })
    }

    /// Queues one flush on every lane; blocks while a lane has [`IN_FLUSH`] flushes queued.
    pub fn send(
        &mut self,
        tables: [RecordBatch; TABLE_COUNT],
        versions: RecordBatch,
        works: u64,
    ) -> Result<()> {
        let mut versions = Some(versions);
        for (i, (tx, _)) in self.lanes.iter().enumerate() {
            let flush = Flush {
                tables: tables.clone(),
                // The works lane writes the version rows.
                versions: if i == 0 { versions.take() } else { None },
                works,
            };
            if tx.send(flush).is_err() {
                // A writer stopped early: its error says why.
                return Err(self.join().err().unwrap_or_else(|| {
                    DatasetError::Worker("a Parquet writer thread stopped early".into())
                }));
            }
        }
        Ok(())
    }

    /// Waits for every queued flush to be written and the files closed; rows written per table.
    pub fn finish(mut self) -> Result<[u64; TABLE_COUNT]> {
        self.join()
    }

    /// Closes the channels and joins every lane; the first error, else the rows per table.
    fn join(&mut self) -> Result<[u64; TABLE_COUNT]> {
        let (senders, threads): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.lanes).into_iter().unzip();
        drop(senders);
        let mut rows = [0u64; TABLE_COUNT];
        let mut first_error = None;
        for t in threads {
            let lane = t
                .join()
                .map_err(|_| DatasetError::Worker("a Parquet writer thread panicked".into()))
                .and_then(|r| r);
            match lane {
                Ok(r) => rows.iter_mut().zip(r).for_each(|(a, b)| *a += b),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(rows),
        }
    }
}

impl Drop for StageWriter {
    /// On an error path the writers still close what they have and stop before the staging
    /// folder is removed.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

fn part_writer(target: &StageTarget, roll: u32) -> PartWriter {
    let i = target.file_index;
    PartWriter::new(
        &target.staging,
        format!("file_index={i}"),
        format!("part-{i:05}-{roll:03}.parquet"),
    )
}

/// A writer thread: writes its lane's tables of every flush, rolls parts (at the same works as
/// the other lane), closes everything when the channel closes.
fn write_lane(
    target: &StageTarget,
    lane: Lane,
    rx: &mpsc::Receiver<Flush>,
) -> Result<[u64; TABLE_COUNT]> {
    let mut rows = [0u64; TABLE_COUNT];
    let mut add = |r: [u64; TABLE_COUNT]| rows.iter_mut().zip(r).for_each(|(a, b)| *a += b);
    let mut roll = 0;
    let mut part = part_writer(target, roll);
    let mut part_works = 0;
    let mut versions: Option<ParquetFile> = None;
    for flush in rx {
        part.write_tables(&flush.tables, |t| lane.writes(t))?;
        part_works += flush.works;
        if let Some(batch) = &flush.versions {
            if versions.is_none() {
                versions = Some(ParquetFile::create(
                    &target.versions_path(),
                    versions_schema(),
                )?);
            }
            versions.as_mut().expect("opened above").write(batch)?;
        }
        if part_works >= target.part_max_works {
            roll += 1;
            add(std::mem::replace(&mut part, part_writer(target, roll)).close()?);
            part_works = 0;
        }
    }
    add(part.close()?);
    if let Some(v) = versions {
        v.close()?;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Int32Array, Int64Array, ListArray, StringArray, new_empty_array,
        new_null_array,
    };
    use arrow::buffer::OffsetBuffer;
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;
    use crate::schema::TABLES;

    /// `n` rows of `schema`: NULL where allowed, else ids from `first` (empty lists, "x" texts).
    fn rows(schema: &Schema, first: i64, n: usize) -> RecordBatch {
        let column = |f: &Arc<Field>| -> ArrayRef {
            if f.is_nullable() {
                return new_null_array(f.data_type(), n);
            }
            match f.data_type() {
                DataType::Int64 => Arc::new(Int64Array::from_iter_values(first..first + n as i64)),
                DataType::Int32 => Arc::new(Int32Array::from(vec![1; n])),
                DataType::Boolean => Arc::new(BooleanArray::from(vec![true; n])),
                DataType::Utf8 => Arc::new(StringArray::from(vec!["x"; n])),
                DataType::List(item) => Arc::new(ListArray::new(
                    item.clone(),
                    OffsetBuffer::new_zeroed(n),
                    new_empty_array(item.data_type()),
                    None,
                )),
                other => panic!("no filler for {other}"),
            }
        };
        let columns = schema.fields().iter().map(column).collect();
        RecordBatch::try_new(Arc::new(schema.clone()), columns).expect("valid batch")
    }

    fn flush(first: i64, works: usize) -> ([RecordBatch; TABLE_COUNT], RecordBatch) {
        // Two child rows per work in every other table.
        let tables = TABLES.map(|t| {
            let n = if t == Table::Works { works } else { 2 * works };
            rows(&t.schema(), first, n)
        });
        (tables, rows(&versions_schema(), first, works))
    }

    fn target(dir: &std::path::Path, part_max_works: u64) -> StageTarget {
        StageTarget {
            staging: dir.to_path_buf(),
            file_index: 7,
            part_max_works,
        }
    }

    fn parquet_rows(path: &std::path::Path) -> usize {
        let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .expect("a Parquet file")
            .build()
            .expect("a reader");
        reader.map(|b| b.expect("a batch").num_rows()).sum()
    }

    #[test]
    fn both_lanes_roll_parts_at_the_same_works_and_rows_add_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut w = StageWriter::start(target(dir.path(), 4)).expect("writer");
        // 3 + 3 works: past 4 after the second flush, so part 000 holds 6 works, part 001 the last 2.
        for (first, works) in [(0, 3), (3, 3), (6, 2)] {
            let (tables, versions) = flush(first, works);
            w.send(tables, versions, works as u64).expect("send");
        }
        let written = w.finish().expect("finish");
        for t in TABLES {
            let per_work = if t == Table::Works { 1 } else { 2 };
            assert_eq!(written[t.index()], 8 * per_work, "{}", t.name());
            let folder = dir.path().join(t.name()).join("file_index=7");
            let first = parquet_rows(&folder.join("part-00007-000.parquet"));
            let second = parquet_rows(&folder.join("part-00007-001.parquet"));
            assert_eq!(
                (first as u64, second as u64),
                (6 * per_work, 2 * per_work),
                "{}",
                t.name()
            );
        }
        assert_eq!(
            parquet_rows(&dir.path().join("_versions/part-00007.parquet")),
            8
        );
    }

    #[test]
    fn a_write_error_is_returned_with_its_path_and_nothing_hangs() {
        let dir = tempfile::tempdir().expect("temp dir");
        // A file where the works lane wants a folder.
        std::fs::write(dir.path().join("works"), "not a folder").expect("write");
        let mut w = StageWriter::start(target(dir.path(), 1_000)).expect("writer");
        let mut error = None;
        for first in 0..8 {
            let (tables, versions) = flush(first * 10, 10);
            if let Err(e) = w.send(tables, versions, 10) {
                error = Some(e);
                break;
            }
        }
        let error = match error {
            Some(e) => e,
            None => w
                .finish()
                .expect_err("the works lane cannot create its file"),
        };
        let message = error.to_string();
        assert!(message.contains("works"), "{message}");
    }
}
