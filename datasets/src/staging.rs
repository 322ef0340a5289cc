//! The staging layout: what stage one of ingest writes and the publishing step reads.
//!
//! A staging folder holds, beside every canonical table's parts
//! (`<table>/file_index=N/part-N-R.parquet`, written by `ingest::stage`), side tables named
//! here: each work's version ([`VERSIONS_DIR`]), deletions ([`DELETES_DIR`]), merged works
//! ([`MERGED_DIR`]) and rejected records ([`REJECTS_DIR`]). Staging (this crate) and publishing
//! (`bibflow-engine`) both take the names, schemas and the version packing from here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

/// Folder of the per-work version side table in a staging folder.
pub const VERSIONS_DIR: &str = "_versions";
/// Folder of the deletions side table (PubMed `DeleteCitation`) in a staging folder.
pub const DELETES_DIR: &str = "_deletes";
/// Folder of the merged-ids side table in a staging folder.
pub const MERGED_DIR: &str = "_merged_ids";
/// Folder of rejected records, in staging and in the published dataset.
pub const REJECTS_DIR: &str = "_rejects";
/// Folder, inside [`REJECTS_DIR`], of the field warnings of kept records (lenient typing).
pub const WARNINGS_DIR: &str = "warnings";

/// Folder of the staged OpenAlex entity tables (`_entities/<table>/part-NNNNN.parquet`, each row
/// with its [`ENTITY_VERSION`]), which publishing reduces to each entity's newest copy.
pub const ENTITIES_DIR: &str = "_entities";
/// The version column of a staged entity table, packed as a work's version ([`pack_version`]).
pub const ENTITY_VERSION: &str = "_version";

/// The schema of entity table `t` as staged: its columns and [`ENTITY_VERSION`].
pub fn entity_staged_schema(t: crate::schema::EntityTable) -> SchemaRef {
    let mut fields: Vec<Field> = t
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(ENTITY_VERSION, DataType::Int64, false));
    Arc::new(Schema::new(fields))
}

/// Bits of a version below the file index: the record index (see [`pack_version`]).
pub const VERSION_FILE_SHIFT: u32 = 21;
/// The file index of a version, once shifted down: 17 bits, so at most this many files a run.
pub const VERSION_FILE_MASK: i64 = 0x1_FFFF;
/// Bits of a version below its time: the file index and the record index.
const VERSION_TIME_SHIFT: u32 = 38;
/// The largest time a version holds: 25 bits of minutes since 2000-01-01 (up to 2063).
const VERSION_TIME_MAX: i64 = 0x1FF_FFFF;
/// The record index saturates here (21 bits): records of one file beyond it share a version.
const VERSION_RECORD_MAX: u64 = 0x1F_FFFF;
/// 2000-01-01T00:00:00Z in microseconds since the Unix epoch.
const Y2000_MICROS: i64 = 946_684_800_000_000;

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

/// The part of side table `dir` written for input file `file_index`:
/// `STAGING/<dir>/part-NNNNN.parquet`.
pub fn side_part(staging: &Path, dir: &str, file_index: usize) -> PathBuf {
    staging
        .join(dir)
        .join(format!("part-{file_index:05}.parquet"))
}

/// The time part of a version: a work's `updated_date` (microseconds since the Unix epoch, UTC) in
/// whole minutes since 2000-01-01, clamped to what a version holds; earlier times (and no time,
/// passed as 0) are all the oldest.
pub fn version_minutes(updated_micros: i64) -> i64 {
    (updated_micros - Y2000_MICROS)
        .div_euclid(60_000_000)
        .clamp(0, VERSION_TIME_MAX)
}

/// The version of a work: newer `updated_date` first (to the minute, see [`version_minutes`]),
/// then later file, then later record.
///
/// Packed as `minutes << 38 | file_index << 21 | record_index` so that `max(version)` picks the copy
/// to keep, and `(version >> 21) & 0x1FFFF` names the file it came from. Two copies of a work
/// updated in the same minute are told apart by file order (a work twice in one file is rejected).
pub fn pack_version(minutes: i64, file_index: usize, record_index: u64) -> i64 {
    let minutes = minutes.clamp(0, VERSION_TIME_MAX);
    let file = (file_index as i64) & VERSION_FILE_MASK;
    let rec = record_index.min(VERSION_RECORD_MAX) as i64;
    (minutes << VERSION_TIME_SHIFT) | (file << VERSION_FILE_SHIFT) | rec
}

/// The file index packed into a version.
pub fn version_file_index(version: i64) -> i64 {
    (version >> VERSION_FILE_SHIFT) & VERSION_FILE_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_time_then_file_then_record() {
        let a = pack_version(100, 5, 1);
        let b = pack_version(101, 0, 0);
        let c = pack_version(100, 6, 0);
        assert!(b > a && c > a && b > c);
        assert_eq!(version_file_index(pack_version(20000, 77, 123)), 77);
        assert_eq!(
            version_file_index(pack_version(VERSION_TIME_MAX, 0x1_FFFF, u64::MAX)),
            0x1_FFFF
        );
        assert!(pack_version(i64::MAX, usize::MAX, u64::MAX) > 0);
    }

    #[test]
    fn versions_tell_apart_two_updates_of_one_day() {
        // 2026-03-18T09:00:00Z and 14:38:29Z of the same day.
        let morning = version_minutes(1_773_824_400_000_000);
        let afternoon = version_minutes(1_773_844_709_000_000);
        assert_eq!(afternoon - morning, 338);
        assert!(pack_version(afternoon, 0, 0) > pack_version(morning, 9, 9));
        assert_eq!(version_minutes(0), 0);
        assert_eq!(version_minutes(Y2000_MICROS + 60_000_000), 1);
    }
}
