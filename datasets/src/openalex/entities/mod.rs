//! OpenAlex's other entities, read from the same snapshot as the works: `authors/`,
//! `institutions/`, `sources/`, `funders/`, `topics/`, `subfields/`, `fields/` and `domains/`
//! (`data/jsonl/<entity>/updated_date=.../part_NNNN.gz` or the Parquet copy), each into its own table
//! ([`crate::schema::ENTITY_TABLES`]).
//!
//! A record goes through the same steps as a work: lenient typing (a field of an unexpected type is
//! converted or NULL, with a warning in `_rejects/warnings/`; with `--strict` the record is
//! rejected), a reject in `_rejects/` with its location and raw text when it is not JSON, has no
//! usable id of its entity, or repeats an id already read from the same file. Rows are staged in
//! [`ENTITIES_DIR`] with a version (the record's `updated_date`, else its partition's date, then
//! file and record order), and publishing keeps each entity's newest copy.

mod rows;

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use arrow::array::{ArrayRef, Int64Array};
use arrow::record_batch::RecordBatch;
use serde_json::Value;

use super::lenient;
use super::snapshot::snapshot_days;
use crate::error::{DatasetError, Result};
use crate::input::{self, EntityFile};
use crate::schema::EntityTable;
pub use crate::source::EntityStage;
use crate::source::{FileReport, RecordCounts};
use crate::staging::{
    ENTITIES_DIR, entity_staged_schema, pack_version, side_part, version_minutes,
};
use crate::writer::{Location, ParquetFile, RejectsWriter, WarningsWriter};

/// Rows buffered before they are written to the file's staged part.
const FLUSH_ROWS: usize = 4096;

/// The source name of an entity's inputs, rejects and warnings: `openalex-authors`, ...
pub fn source_name(entity: EntityTable) -> &'static str {
    match entity {
        EntityTable::Authors => "openalex-authors",
        EntityTable::Institutions => "openalex-institutions",
        EntityTable::Sources => "openalex-sources",
        EntityTable::Funders => "openalex-funders",
        EntityTable::Topics => "openalex-topics",
        EntityTable::Subfields => "openalex-subfields",
        EntityTable::Fields => "openalex-fields",
        EntityTable::Domains => "openalex-domains",
    }
}

/// Reads every entity file into `staging` (one part per file under [`ENTITIES_DIR`]), `threads`
/// files at a time. Each file has its own part, rejects and warnings (named by its index), so the
/// staged files and the reports, kept in file order, are the same whatever the thread count. After
/// an error no further file is started, and the error of the first failed file is returned.
pub(crate) fn stage(
    files: &[EntityFile],
    staging: &Path,
    strict: bool,
    threads: usize,
) -> Result<EntityStage> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let workers = threads.clamp(1, files.len().max(1));
    let mut done: Vec<(usize, Result<FileReport>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(f) = files.get(i) else { break };
                        let report = stage_file(f, i, staging, strict);
                        if report.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        mine.push((i, report));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut out = EntityStage::default();
    for (i, report) in done {
        out.files.push((files[i].entity, report?));
    }
    Ok(out)
}

/// One entity file, read into its own staged part.
fn stage_file(f: &EntityFile, i: usize, staging: &Path, strict: bool) -> Result<FileReport> {
    let mut state = FileState::new(f, i, staging, strict);
    let name = f.file.path.to_string_lossy().to_lowercase();
    if name.ends_with(".parquet") {
        read_parquet(&mut state)?;
    } else {
        read_lines(&mut state)?;
    }
    state.close()
}

/// One entity file being read.
struct FileState<'a> {
    entity: EntityTable,
    file: &'a EntityFile,
    file_index: usize,
    strict: bool,
    /// The `updated_date=` partition's day, for records without an `updated_date`.
    partition_days: Option<i64>,
    rows: Vec<Vec<rows::Cell>>,
    versions: Vec<i64>,
    part: Option<ParquetFile>,
    staging: &'a Path,
    rejects: RejectsWriter,
    warnings: WarningsWriter,
    counts: RecordCounts,
    /// Ids already taken from this file, with where.
    seen: HashMap<i64, String>,
    sha256: Option<String>,
    error: Option<String>,
}

impl<'a> FileState<'a> {
    fn new(file: &'a EntityFile, file_index: usize, staging: &'a Path, strict: bool) -> Self {
        let source = source_name(file.entity);
        Self {
            entity: file.entity,
            file,
            file_index,
            strict,
            partition_days: snapshot_days(&file.file),
            rows: Vec::new(),
            versions: Vec::new(),
            part: None,
            staging,
            rejects: RejectsWriter::new(staging, source, file_index),
            warnings: WarningsWriter::new(staging, source, file_index),
            counts: RecordCounts::default(),
            seen: HashMap::new(),
            sha256: None,
            error: None,
        }
    }

    fn display_path(&self) -> String {
        self.file.file.path.display().to_string()
    }

    fn reject(&mut self, loc: &Location, reason: &str, raw: &str) -> Result<()> {
        self.counts.rejected += 1;
        self.rejects.reject(loc, reason, raw)
    }

    /// One record: kept as a row, or rejected.
    fn record(&mut self, raw: &str, loc: Location) -> Result<()> {
        self.counts.read += 1;
        let what = self.entity.name();
        let mut value: Value = match serde_json::from_str::<Value>(raw) {
            Ok(v) if v.is_object() => v,
            Ok(_) => return self.reject(&loc, &format!("not a JSON object ({what})"), raw),
            Err(e) => return self.reject(&loc, &format!("invalid JSON ({what}): {e}"), raw),
        };
        let Some(id) = rows::id_number(self.entity, &value["id"]) else {
            let reason = format!(
                "the record has no usable `id` of the {what} entity (found {})",
                value
                    .get("id")
                    .map_or("none".to_string(), |v| v.to_string())
            );
            return self.reject(&loc, &reason, raw);
        };
        let here = match (loc.line, loc.row) {
            (Some(l), _) => format!("line {l}"),
            (None, Some(r)) => format!("row {r}"),
            _ => "the record before".to_string(),
        };
        if let Some(first) = self.seen.get(&id) {
            let reason = format!(
                "{what} id {} appears twice in this file (first at {first}); the first copy was kept",
                value["id"]
            );
            return self.reject(&loc, &reason, raw);
        }
        let notes = lenient::repair_value(&mut value, rows::shape(self.entity));
        if self.strict && !notes.is_empty() {
            let list: Vec<String> = notes
                .iter()
                .map(|n| format!("{}: {}", n.field, n.reason))
                .collect();
            let reason = format!(
                "a field has an unexpected type (--strict): {}",
                list.join("; ")
            );
            return self.reject(&loc, &reason, raw);
        }
        self.seen.insert(id, here);
        let row = rows::cells(self.entity, id, &value);
        let micros = rows::updated_micros(&value)
            .or(self.partition_days.map(|d| d * 86_400_000_000))
            .unwrap_or(0);
        self.counts.ingested += 1;
        self.counts.warnings += notes.len() as u64;
        let id_text = value["id"].to_string();
        self.warnings
            .warn_entity(&loc, id_text.trim_matches('"'), &notes)?;
        self.versions.push(pack_version(
            version_minutes(micros),
            self.file_index,
            self.counts.ingested,
        ));
        self.rows.push(row);
        if self.rows.len() >= FLUSH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let schema = entity_staged_schema(self.entity);
        let mut columns = rows::columns(&self.entity.schema(), &self.rows);
        columns.push(Arc::new(Int64Array::from(std::mem::take(&mut self.versions))) as ArrayRef);
        self.rows.clear();
        let batch = RecordBatch::try_new(schema.clone(), columns).map_err(|source| {
            DatasetError::Arrow {
                table: self.entity.name(),
                source,
            }
        })?;
        if self.part.is_none() {
            let dir = format!("{ENTITIES_DIR}/{}", self.entity.name());
            let path = side_part(self.staging, &dir, self.file_index);
            self.part = Some(ParquetFile::create(&path, schema)?);
        }
        self.part.as_mut().expect("opened above").write(&batch)
    }

    fn close(mut self) -> Result<FileReport> {
        self.flush()?;
        if let Some(part) = self.part.take() {
            part.close()?;
        }
        self.rejects.close()?;
        self.warnings.close()?;
        Ok(FileReport {
            path: self.file.file.path.clone(),
            size: self.file.file.size,
            sha256: self.sha256,
            counts: self.counts,
            error: self.error,
            deletions: 0,
        })
    }
}

/// Gzipped (or plain) JSON Lines: one record a line.
fn read_lines(state: &mut FileState<'_>) -> Result<()> {
    let mut input = state.file.file.open(None)?;
    let mut buf = Vec::with_capacity(64 * 1024);
    let (mut line_no, mut offset) = (0u64, 0u64);
    loop {
        buf.clear();
        let n = match input.reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let compressed = input.raw_read.load(std::sync::atomic::Ordering::Relaxed);
                let partial = String::from_utf8_lossy(buf.trim_ascii()).into_owned();
                if !partial.is_empty() {
                    state.counts.read += 1;
                    let loc = Location {
                        file: state.display_path(),
                        line: Some(line_no + 1),
                        byte_offset: Some(offset),
                        compressed_offset: Some(compressed),
                        ..Location::default()
                    };
                    state.reject(
                        &loc,
                        "incomplete record: the file is damaged here",
                        &partial,
                    )?;
                }
                state.error = Some(format!(
                    "{}: read failed at compressed byte offset {compressed} (decompressed offset \
                     {offset}): {e}",
                    state.display_path()
                ));
                break;
            }
        };
        line_no += 1;
        let loc = Location {
            file: state.display_path(),
            line: Some(line_no),
            byte_offset: Some(offset),
            ..Location::default()
        };
        offset += n as u64;
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(text) => state.record(text, loc)?,
            Err(e) => {
                state.counts.read += 1;
                let lossy = String::from_utf8_lossy(line).into_owned();
                state.reject(&loc, &format!("not valid UTF-8: {e}"), &lossy)?;
            }
        }
    }
    state.sha256 = input.sha256_hex();
    Ok(())
}

/// OpenAlex's Parquet copy: each row taken as the JSON object of its columns, as for works.
fn read_parquet(state: &mut FileState<'_>) -> Result<()> {
    let path = state.file.file.path.clone();
    // The Parquet reader seeks: a file in a store is copied to this machine first.
    let local = state.file.file.local_copy()?;
    let shown = state.display_path();
    let damage = super::parquet::read_rows(&local.path, &shown, |row, text| {
        let loc = Location {
            file: shown.clone(),
            row: Some(row),
            ..Location::default()
        };
        state.record(text, loc)
    })?;
    if damage.is_some() {
        state.error = damage;
    }
    // The raw bytes, hashed for the manifest.
    let mut input = input::open(&local.path, None)?;
    std::io::copy(&mut input.reader, &mut std::io::sink())
        .map_err(|e| DatasetError::io(&path, e))?;
    state.sha256 = input.sha256_hex();
    Ok(())
}
