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

/// Bits of a version below the file index: the record index (see [`pack_version`]).
pub const VERSION_FILE_SHIFT: u32 = 27;
/// The file index of a version, once shifted down: 20 bits, so at most this many files a run.
pub const VERSION_FILE_MASK: i64 = 0xF_FFFF;

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

/// The version of a work: newer `updated_date` first, then later file, then later record.
///
/// Packed as `days << 47 | file_index << 27 | record_index` so that `max(version)` picks the copy
/// to keep, and `(version >> 27) & 0xFFFFF` names the file it came from.
pub fn pack_version(days: i64, file_index: usize, record_index: u64) -> i64 {
    let days = days.clamp(0, 0xFFFF);
    let file = (file_index as i64) & VERSION_FILE_MASK;
    let rec = record_index.min(0x7FF_FFFF) as i64;
    (days << 47) | (file << VERSION_FILE_SHIFT) | rec
}

/// The file index packed into a version.
pub fn version_file_index(version: i64) -> i64 {
    (version >> VERSION_FILE_SHIFT) & VERSION_FILE_MASK
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
