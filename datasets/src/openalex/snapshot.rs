//! The OpenAlex snapshot beside the works: `merged_ids/works/*.csv(.gz)` staged as merged works,
//! the `manifest` / `manifest.json` record counts checked against what was read, and the
//! `updated_date=` partition that versions a part's works.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Builder};
use arrow::record_batch::RecordBatch;
use serde::Deserialize;

use super::convert::parse_timestamp_micros;
use super::ids::entity_number;
use crate::error::{DatasetError, Result};
use crate::input::{COMBINED_MANIFEST, InputFile};
use crate::schema::EntityTable;
use crate::source::{FileReport, RecordCounts};
use crate::staging::{MERGED_DIR, merged_schema, side_part};
use crate::writer::ParquetFile;

/// The days since the epoch of the `updated_date=` partition `file` sits in, if any.
pub(super) fn snapshot_days(file: &InputFile) -> Option<i64> {
    file.snapshot_date
        .as_deref()
        .and_then(parse_timestamp_micros)
        .map(|m| m.div_euclid(86_400_000_000))
}

/// Loads OpenAlex `merged_ids/works/*.csv(.gz)` (`merge_date,id,merge_into_id`) into `_merged_ids/`.
pub(super) fn stage_merged_ids(
    files: &[InputFile],
    staging: &Path,
) -> Result<(u64, Vec<FileReport>)> {
    use std::io::BufRead;
    if files.is_empty() {
        return Ok((0, Vec::new()));
    }
    let path = side_part(staging, MERGED_DIR, 0);
    let mut out = ParquetFile::create(&path, merged_schema())?;
    let mut total = 0;
    let mut reports = Vec::new();
    for f in files {
        let mut input = f.open(None)?;
        let mut ids = Int64Builder::new();
        let mut into = Int64Builder::new();
        let mut columns: Option<(usize, usize)> = None;
        let mut raw = Vec::new();
        let mut line_no = 0u64;
        loop {
            raw.clear();
            let n = input
                .reader
                .read_until(b'\n', &mut raw)
                .map_err(|e| DatasetError::io(&f.path, e))?;
            if n == 0 {
                break;
            }
            line_no += 1;
            let Ok(line) = std::str::from_utf8(&raw) else {
                return Err(DatasetError::MergedIds {
                    path: f.path.clone(),
                    line: line_no,
                    reason: format!(
                        "not valid UTF-8: {:?}",
                        String::from_utf8_lossy(&raw).trim_end()
                    ),
                });
            };
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
            let parse = |col: usize| cells.get(col).and_then(|c| entity_number(c, b'W'));
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
                ..RecordCounts::default()
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

/// Compares a snapshot manifest's `record_count` per part with the records read from that part: a
/// pre-2026 `works/manifest` (every entry a works part under the manifest's folder) or a 2026
/// combined `manifest.json` (entries of every entity, `s3://openalex/data/jsonl/works/...`: the
/// works entries and those of each other entity read, `entity_files`, are checked under the
/// manifest's `<entity>/` folder; those of entities not read are not).
///
/// With `only_partitions` (an incremental update), works entries of other `updated_date`
/// partitions are not checked, nor entries of other entities' partitions no file was read from:
/// those parts were not meant to be read.
pub(super) fn check_snapshot_manifests(
    manifests: &[InputFile],
    files: &[FileReport],
    entity_files: &[(EntityTable, FileReport)],
    only_partitions: Option<&BTreeSet<String>>,
) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    // An entity's entries are checked when some of its parts were read (pointed at `works/`, the
    // authors listed in the prefix's manifest were not meant to be read).
    let read_entities: BTreeSet<&str> = entity_files.iter().map(|(e, _)| e.name()).collect();
    let works_read = !files.is_empty();
    let read_entity_partitions: BTreeSet<(&str, &str)> = entity_files
        .iter()
        .filter_map(|(e, f)| {
            let partition = f.path.parent()?.file_name()?.to_str()?;
            Some((e.name(), partition.strip_prefix("updated_date=")?))
        })
        .collect();
    for manifest in manifests {
        let m = &manifest.path;
        let text = manifest.read_to_string()?;
        let parsed: SnapshotManifest =
            serde_json::from_str(&text).map_err(|e| DatasetError::Manifest {
                path: m.clone(),
                message: format!("not an OpenAlex snapshot manifest: {e}"),
            })?;
        let dir = m.parent().unwrap_or(Path::new("."));
        let combined = m.file_name().is_some_and(|n| n == COMBINED_MANIFEST);
        let dir_is_works = dir.file_name().is_some_and(|n| n == "works");
        for entry in parsed.entries {
            // `s3://openalex/data/jsonl/works/updated_date=2026-01-01/part_0000.gz` -> the last three.
            let mut parts = entry.url.rsplit('/');
            let (Some(file), Some(partition)) = (parts.next(), parts.next()) else {
                continue;
            };
            let entity = parts.next().unwrap_or_default();
            let date = partition.strip_prefix("updated_date=").unwrap_or_default();
            let is_works = entity == "works" || !combined;
            if (is_works && !works_read) || (!is_works && !read_entities.contains(entity)) {
                continue;
            }
            // An update reads some partitions only: of works those in `only_partitions`, of the
            // other entities those it read files from.
            if let Some(only) = only_partitions {
                let read = if is_works {
                    only.contains(date)
                } else {
                    read_entity_partitions.contains(&(entity, date))
                };
                if !read {
                    continue;
                }
            }
            let local = if combined {
                if dir_is_works {
                    dir.join(partition).join(file)
                } else {
                    dir.join(entity).join(partition).join(file)
                }
            } else {
                dir.join(partition).join(file)
            };
            let Some(expected) = entry.meta.and_then(|m| m.record_count) else {
                continue;
            };
            let found = if is_works {
                files.iter().find(|f| f.path == local)
            } else {
                entity_files
                    .iter()
                    .map(|(_, f)| f)
                    .find(|f| f.path == local)
            };
            match found {
                Some(f) if f.counts.read != expected => problems.push(format!(
                    "{}: manifest says {expected} records, {} were read ({})",
                    local.display(),
                    f.counts.read,
                    m.display()
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
