//! `manifest.json`: what a dataset holds and where it came from.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{DatasetError, Result};
use crate::source::{FileReport, RecordCounts};

/// The manifest file name at the root of every dataset.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The manifest of a dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub bibflow_version: String,
    pub schema_version: u32,
    /// RFC 3339 creation time (UTC).
    pub created: String,
    /// True when any of the data is synthetic (made by `bibflow generate`).
    #[serde(default)]
    pub synthetic: bool,
    /// Raw inputs, in the order they were applied.
    pub inputs: Vec<InputEntry>,
    /// Records over all inputs: `read = ingested + rejected`.
    pub records: RecordCounts,
    /// Ingested works dropped because a newer version of the same work was also ingested.
    #[serde(default)]
    pub superseded: u64,
    /// Ingested works dropped because OpenAlex merged them into another work.
    #[serde(default)]
    pub merged_away: u64,
    /// Ingested works dropped because a later input deleted them (PubMed `DeleteCitation`).
    #[serde(default)]
    pub deleted: u64,
    /// Rows and files per table.
    pub tables: BTreeMap<String, TableEntry>,
    /// Rejected records, kept in `_rejects/`.
    pub rejected_records: u64,
    /// File-level problems (e.g. truncated gzip streams) met while reading.
    #[serde(default)]
    pub input_errors: Vec<String>,
    /// The files of each table, relative to the dataset, for a dataset in an object store
    /// (written by `bibflow_engine::store`): readers read these and no others, so files being
    /// uploaded for a newer version stay unseen until its manifest replaces this one. Empty (and
    /// not written) for a local dataset, whose table folders hold exactly its files.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, Vec<String>>,
    /// True when every table's files are each sorted by `work_id` (ascending), as `generate`,
    /// `ingest` and `link` write them. Readers declare that order to DataFusion, which then
    /// aggregates and joins by work without hashing or sorting (see `engine/src/session.rs`).
    /// False for datasets written before this was recorded, or by other tools.
    #[serde(default)]
    pub sorted_by_work_id: bool,
    /// An OpenAlex dataset's record of the snapshot it was built from: the `updated_date`
    /// partitions and `merged_ids` files applied, by full ingests and updates together. `bibflow
    /// ingest openalex --update` reads it to apply only what is new. `None` for other datasets and
    /// for OpenAlex datasets written before bibflow kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openalex_snapshot: Option<SnapshotRecord>,
    /// The OpenAlex entities read besides works into their own tables (`authors`, ...: see
    /// [`crate::schema::ENTITY_TABLES`]), by table name. Empty (and not written) when there were
    /// none. Their files are in `inputs` as `openalex-<table>`; `records` counts works only.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, EntityEntry>,
    /// The incremental updates applied to this dataset, oldest first (empty after a full ingest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<UpdateEntry>,
}

/// What of an OpenAlex snapshot a dataset holds (see [`Manifest::openalex_snapshot`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SnapshotRecord {
    /// The works `updated_date=YYYY-MM-DD` partitions read, as `YYYY-MM-DD`, ascending.
    pub partitions: Vec<String>,
    /// The `merged_ids/works/` files applied, by file name (`2024-02-01.csv.gz`), ascending.
    pub merged_ids: Vec<String>,
    /// The partitions read of each other entity (`authors`, ...: the entity tables), as
    /// `YYYY-MM-DD`, ascending. Empty for datasets written before bibflow read entities.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, Vec<String>>,
}

impl SnapshotRecord {
    /// The newest partition recorded.
    pub fn newest_partition(&self) -> Option<&str> {
        self.partitions.iter().max().map(String::as_str)
    }

    /// Adds partitions and merged-ids files, keeping both lists sorted and free of repeats.
    pub fn extend(&mut self, partitions: &[String], merged_ids: &[String]) {
        self.partitions.extend(partitions.iter().cloned());
        self.partitions.sort();
        self.partitions.dedup();
        self.merged_ids.extend(merged_ids.iter().cloned());
        self.merged_ids.sort();
        self.merged_ids.dedup();
    }

    /// Adds partitions read of other entities (`entity -> dates`), keeping each list sorted and
    /// free of repeats.
    pub fn extend_entities(&mut self, partitions: &BTreeMap<String, Vec<String>>) {
        for (entity, dates) in partitions {
            let held = self.entities.entry(entity.clone()).or_default();
            held.extend(dates.iter().cloned());
            held.sort();
            held.dedup();
        }
    }
}

/// One incremental update (`bibflow ingest openalex SNAPSHOT --update DATASET`). Its counts add up:
/// `works_before = kept + replaced + merged_away`, and `works_after = kept + added`, where `added`
/// is the update's distinct works less those OpenAlex merged away (`added_merged_away`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct UpdateEntry {
    /// RFC 3339 time of the update (UTC).
    pub created: String,
    /// The snapshot folder(s) given.
    pub snapshot: Vec<String>,
    /// The `updated_date` partitions applied.
    pub partitions: Vec<String>,
    /// The merged-ids files applied for the first time.
    pub merged_ids: Vec<String>,
    /// Records of the partitions applied: `read = ingested + rejected`.
    pub records: RecordCounts,
    /// Works in the dataset before the update.
    pub works_before: u64,
    /// Of those, kept as they were.
    pub kept: u64,
    /// Of those, replaced by their copy in a partition applied.
    pub replaced: u64,
    /// Of those, dropped because a merged-ids file applied merged them away.
    pub merged_away: u64,
    /// Ingested copies of the update beyond each work's newest (a work in two partitions applied).
    pub superseded: u64,
    /// Distinct works of the update dropped because OpenAlex merged them away.
    pub added_merged_away: u64,
    /// Distinct works of the update written to the dataset.
    pub added: u64,
    /// Works in the dataset after the update.
    pub works_after: u64,
    /// The other entities' partitions applied (`authors` -> dates), with their records.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub entities: BTreeMap<String, EntityUpdate>,
}

/// What an update applied of one other entity (see [`UpdateEntry::entities`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntityUpdate {
    /// The partitions applied, `YYYY-MM-DD`.
    pub partitions: Vec<String>,
    /// Records of those partitions: `read = ingested + rejected`.
    pub records: RecordCounts,
    /// Rows of the table before and after: a new copy of an entity the table held replaces it.
    pub rows_before: u64,
    pub rows_after: u64,
}

/// The records of one OpenAlex entity read into its table: `records.read = ingested + rejected`,
/// and the table holds `records.ingested - superseded` rows.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EntityEntry {
    pub records: RecordCounts,
    /// Ingested copies dropped because a newer copy of the same entity was also ingested.
    pub superseded: u64,
}

/// One raw input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputEntry {
    /// `openalex`, `openalex-merged-ids`, `pubmed`, ...
    pub source: String,
    pub path: String,
    pub size: u64,
    pub sha256: Option<String>,
    #[serde(flatten)]
    pub counts: RecordCounts,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
}

impl InputEntry {
    /// The entry for a file read by a source.
    pub fn from_report(source: &str, r: &FileReport) -> Self {
        Self {
            source: source.to_string(),
            path: r.path.display().to_string(),
            size: r.size,
            sha256: r.sha256.clone(),
            counts: r.counts,
            error: r.error.clone(),
        }
    }
}

/// One table of the dataset.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TableEntry {
    pub rows: u64,
    pub files: u64,
}

impl Manifest {
    /// Reads `DATASET/manifest.json`.
    pub fn read(dataset: &Path) -> Result<Self> {
        let path = dataset.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| DatasetError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|e| DatasetError::Manifest {
            path,
            message: e.to_string(),
        })
    }

    /// Writes `DATASET/manifest.json`.
    pub fn write(&self, dataset: &Path) -> Result<()> {
        let path = dataset.join(MANIFEST_FILE);
        let text = serde_json::to_string_pretty(self).map_err(|e| DatasetError::Manifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
        std::fs::write(&path, text + "\n").map_err(|e| DatasetError::write(&path, e))
    }

    /// The current time as RFC 3339, for `created`.
    pub fn now() -> String {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    }
}
