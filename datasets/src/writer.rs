//! Writing canonical tables as Parquet parts, and rejected records as JSON Lines.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::error::{DatasetError, Result};
use crate::schema::{TABLE_COUNT, TABLES, Table};
use crate::staging::{REJECTS_DIR, WARNINGS_DIR};

/// Rows per Parquet row group: big enough for fast scans, small enough to bound writer memory.
pub const ROW_GROUP_ROWS: usize = 512 * 1024;
/// Bytes per row group (whichever limit comes first): works with long abstracts reach this one.
/// A writer buffers one row group per open file, so this bounds ingest memory per table.
pub const ROW_GROUP_BYTES: usize = 64 * 1024 * 1024;

/// Text columns whose values are (nearly) all distinct, as Parquet column paths. A dictionary
/// there only costs time to build (it fills up and falls back to plain encoding anyway) and space,
/// and min/max statistics of titles and abstracts prune nothing while comparing long strings.
pub const DISTINCT_TEXT_COLUMNS: &[&[&str]] = &[
    &["doi"],
    &["title"],
    &["abstract"],
    &["author_name"],
    &["orcid"],
    &["raw_affiliations", "list", "item"],
    &["raw_affiliation"],
    &["landing_page_url"],
    &["pdf_url"],
];

/// The writer properties used for every canonical table.
pub fn writer_properties() -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("valid level"),
        ))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
        .set_statistics_enabled(EnabledStatistics::Page);
    for path in DISTINCT_TEXT_COLUMNS {
        let path = ColumnPath::new(path.iter().map(|p| p.to_string()).collect());
        b = b
            .set_column_dictionary_enabled(path.clone(), false)
            .set_column_statistics_enabled(path, EnabledStatistics::None);
    }
    b.build()
}

/// Writes one batch stream into a single Parquet file.
#[derive(Debug)]
pub struct ParquetFile {
    path: PathBuf,
    writer: ArrowWriter<BufWriter<File>>,
    rows: u64,
}

impl ParquetFile {
    /// Creates the file (and its folder).
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self> {
        Self::create_with(path, schema, writer_properties())
    }

    /// [`ParquetFile::create`] with other writer properties.
    pub fn create_with(
        path: &Path,
        schema: SchemaRef,
        properties: WriterProperties,
    ) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DatasetError::write(dir, e))?;
        }
        let file = File::create(path).map_err(|e| DatasetError::write(path, e))?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            schema,
            Some(properties),
        )
        .map_err(|source| DatasetError::Parquet {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            writer,
            rows: 0,
        })
    }

    /// Appends a batch.
    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.rows += batch.num_rows() as u64;
        self.writer
            .write(batch)
            .map_err(|source| DatasetError::Parquet {
                path: self.path.clone(),
                source,
            })
    }

    /// Finishes the file; returns the rows written.
    pub fn close(self) -> Result<u64> {
        self.writer
            .close()
            .map_err(|source| DatasetError::Parquet {
                path: self.path.clone(),
                source,
            })?;
        Ok(self.rows)
    }
}

/// The Parquet files of one part: one per table, opened when the table gets its first row, so a
/// part holds the works of one input file and their child rows in every table ("co-clustered").
#[derive(Debug)]
pub struct PartWriter {
    root: PathBuf,
    file_name: String,
    partition: String,
    files: [Option<ParquetFile>; TABLE_COUNT],
    rows: [u64; TABLE_COUNT],
    properties: fn(Table) -> WriterProperties,
}

impl PartWriter {
    /// A part under `root/<table>/<partition>/<file_name>`.
    pub fn new(root: &Path, partition: String, file_name: String) -> Self {
        Self {
            root: root.to_path_buf(),
            file_name,
            partition,
            files: Default::default(),
            rows: [0; TABLE_COUNT],
            properties: |_| writer_properties(),
        }
    }

    /// Writes each table with `properties(table)` instead of [`writer_properties`].
    pub fn with_properties(mut self, properties: fn(Table) -> WriterProperties) -> Self {
        self.properties = properties;
        self
    }

    /// Writes one batch per table (empty ones are skipped).
    pub fn write_all(&mut self, batches: &[RecordBatch; TABLE_COUNT]) -> Result<()> {
        self.write_tables(batches, |_| true)
    }

    /// Writes the batches of the tables `keep` selects (empty ones are skipped); the part's file
    /// of another table is neither opened nor counted.
    pub fn write_tables(
        &mut self,
        batches: &[RecordBatch; TABLE_COUNT],
        keep: impl Fn(Table) -> bool,
    ) -> Result<()> {
        for (table, batch) in TABLES.iter().zip(batches) {
            if batch.num_rows() == 0 || !keep(*table) {
                continue;
            }
            let i = table.index();
            if self.files[i].is_none() {
                let path = self
                    .root
                    .join(table.name())
                    .join(&self.partition)
                    .join(&self.file_name);
                self.files[i] = Some(ParquetFile::create_with(
                    &path,
                    table.schema(),
                    (self.properties)(*table),
                )?);
            }
            let file = self.files[i].as_mut().expect("opened above");
            file.write(batch)?;
            self.rows[i] += batch.num_rows() as u64;
        }
        Ok(())
    }

    /// Closes every file; returns rows written per table.
    pub fn close(self) -> Result<[u64; TABLE_COUNT]> {
        for file in self.files.into_iter().flatten() {
            file.close()?;
        }
        Ok(self.rows)
    }
}

/// Where a rejected record was found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Location {
    pub file: String,
    /// 1-based line of the record in the decompressed text, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Byte offset of the record in the decompressed text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_offset: Option<u64>,
    /// Byte offset in the compressed file, for broken gzip streams.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compressed_offset: Option<u64>,
    /// Index of the record inside an API page's `results`, when it came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_index: Option<u64>,
    /// 1-based row of the record in a Parquet file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<u64>,
}

/// One field of a kept record that was converted or set to NULL because its value had an
/// unexpected type (lenient typing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldNote {
    /// The field's path in the record: `publication_year`, `authorships[0].countries[1]`.
    pub field: String,
    /// What was found and what was done with it.
    pub reason: String,
}

#[derive(Debug, serde::Serialize)]
struct WarningLine<'a> {
    source: &'a str,
    #[serde(flatten)]
    location: &'a Location,
    /// The kept record's work id (`W123`, or the PubMed key).
    #[serde(skip_serializing_if = "Option::is_none")]
    work_id: Option<i64>,
    /// The kept record's OpenAlex id, for a record of another entity than works.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    field: &'a str,
    reason: &'a str,
}

/// The writer in `out`, creating the file at `path` (and its folder) on first use, so that a run
/// with nothing to report leaves no file.
fn open_once<'a>(
    path: &Path,
    out: &'a mut Option<BufWriter<File>>,
) -> Result<&'a mut BufWriter<File>> {
    if out.is_none() {
        let dir = path.parent().expect("has a parent");
        std::fs::create_dir_all(dir).map_err(|e| DatasetError::write(dir, e))?;
        let f = File::create(path).map_err(|e| DatasetError::write(path, e))?;
        *out = Some(BufWriter::new(f));
    }
    Ok(out.as_mut().expect("opened above"))
}

/// Appends field warnings of kept records to `_rejects/warnings/<source>-<file index>.jsonl`,
/// created on first use. (They sit inside `_rejects/` so that publishing, which moves that folder
/// into the dataset, keeps them.)
#[derive(Debug)]
pub struct WarningsWriter {
    path: PathBuf,
    source: &'static str,
    out: Option<BufWriter<File>>,
}

impl WarningsWriter {
    pub fn new(dataset: &Path, source: &'static str, file_index: usize) -> Self {
        Self {
            path: dataset
                .join(REJECTS_DIR)
                .join(WARNINGS_DIR)
                .join(format!("{source}-{file_index:05}.jsonl")),
            source,
            out: None,
        }
    }

    /// Records the notes of one kept record.
    pub fn warn(&mut self, location: &Location, work_id: i64, notes: &[FieldNote]) -> Result<()> {
        self.write(location, Some(work_id), None, notes)
    }

    /// Records the notes of one kept record of another OpenAlex entity, named by its `id`.
    pub fn warn_entity(
        &mut self,
        location: &Location,
        id: &str,
        notes: &[FieldNote],
    ) -> Result<()> {
        self.write(location, None, Some(id), notes)
    }

    fn write(
        &mut self,
        location: &Location,
        work_id: Option<i64>,
        id: Option<&str>,
        notes: &[FieldNote],
    ) -> Result<()> {
        if notes.is_empty() {
            return Ok(());
        }
        let out = open_once(&self.path, &mut self.out)?;
        for n in notes {
            let line = WarningLine {
                source: self.source,
                location,
                work_id,
                id,
                field: &n.field,
                reason: &n.reason,
            };
            serde_json::to_writer(&mut *out, &line)
                .map_err(|e| DatasetError::write(&self.path, std::io::Error::other(e)))?;
            out.write_all(b"\n")
                .map_err(|e| DatasetError::write(&self.path, e))?;
        }
        Ok(())
    }

    pub fn close(self) -> Result<()> {
        if let Some(mut out) = self.out {
            out.flush()
                .map_err(|e| DatasetError::write(&self.path, e))?;
        }
        Ok(())
    }
}

#[derive(Debug, serde::Serialize)]
struct RejectLine<'a> {
    source: &'a str,
    #[serde(flatten)]
    location: &'a Location,
    reason: &'a str,
    /// The raw record text, whole, so that nothing is lost.
    record: &'a str,
}

/// Appends rejected records to `_rejects/<source>-<file index>.jsonl`, created on first use.
#[derive(Debug)]
pub struct RejectsWriter {
    path: PathBuf,
    source: &'static str,
    out: Option<BufWriter<File>>,
    count: u64,
}

impl RejectsWriter {
    pub fn new(dataset: &Path, source: &'static str, file_index: usize) -> Self {
        Self {
            path: dataset
                .join(REJECTS_DIR)
                .join(format!("{source}-{file_index:05}.jsonl")),
            source,
            out: None,
            count: 0,
        }
    }

    /// Records one rejected record.
    pub fn reject(&mut self, location: &Location, reason: &str, record: &str) -> Result<()> {
        let out = open_once(&self.path, &mut self.out)?;
        let line = RejectLine {
            source: self.source,
            location,
            reason,
            record,
        };
        serde_json::to_writer(&mut *out, &line)
            .map_err(|e| DatasetError::write(&self.path, std::io::Error::other(e)))?;
        out.write_all(b"\n")
            .map_err(|e| DatasetError::write(&self.path, e))?;
        self.count += 1;
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn close(self) -> Result<u64> {
        if let Some(mut out) = self.out {
            out.flush()
                .map_err(|e| DatasetError::write(&self.path, e))?;
        }
        Ok(self.count)
    }
}
