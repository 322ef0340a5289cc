//! Incremental update of an OpenAlex dataset: is the dataset one that can be updated
//! ([`check_dataset`]), and what of a snapshot is new to it ([`plan`]).
//!
//! A dataset records the `updated_date` partitions and `merged_ids` files it was built from
//! ([`SnapshotRecord`], in its manifest). OpenAlex files a work under the partition of its latest
//! update, and a newer snapshot only adds partitions dated after the older one's (a work updated
//! since moves out of its old partition into a new one). So an update reads the partitions newer
//! than the newest one recorded, and the merged-ids files not recorded; partitions at or before it
//! are what the dataset already holds. The rewrite itself (a query engine's job) is
//! `bibflow_engine::update`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};
use std::collections::BTreeMap;

use crate::input::{EntityFile, InputFile, Inputs};
use crate::manifest::{MANIFEST_FILE, Manifest, SnapshotRecord};
use crate::schema::SCHEMA_VERSION;

/// The sources of a dataset's inputs that make it an OpenAlex dataset.
const OPENALEX_SOURCES: &[&str] = &["openalex", "openalex-merged-ids"];

/// What an update reads from a snapshot.
#[derive(Debug, Clone)]
pub struct UpdatePlan {
    /// The files to stage: the record files of the new partitions, every merged-ids file of the
    /// snapshot (a work of a new partition merged away long ago is dropped, as a full ingest
    /// drops it), the snapshot manifests (checked for the new partitions only).
    pub inputs: Inputs,
    /// The merged-ids files not applied before: the dataset's own works they name are dropped.
    pub new_merged_ids: Vec<InputFile>,
    /// The new partitions, ascending (`YYYY-MM-DD`).
    pub partitions: Vec<String>,
    /// File names of [`new_merged_ids`](Self::new_merged_ids).
    pub merged_id_names: Vec<String>,
    /// Partitions of the snapshot the dataset already holds (not read again).
    pub already_applied: Vec<String>,
    /// The new partitions of the other entities read into their own tables (`authors` -> dates,
    /// ascending): for each entity, those newer than the newest the dataset recorded for it, or
    /// all of them when it recorded none (the dataset holds none of that entity).
    pub entity_partitions: BTreeMap<String, Vec<String>>,
}

impl UpdatePlan {
    /// Nothing new: no new partition (of works or another entity), no new merged-ids file.
    pub fn is_empty(&self) -> bool {
        self.partitions.is_empty()
            && self.merged_id_names.is_empty()
            && self.entity_partitions.is_empty()
    }
}

/// The full-ingest command that the errors below suggest.
fn full_ingest_hint(dataset: &Path) -> String {
    format!(
        "do a full ingest once (bibflow ingest openalex SNAPSHOT --out {} --overwrite); later \
         updates then apply only what is new",
        dataset.display()
    )
}

/// Reads `dataset`'s manifest and checks that `--update` can apply a snapshot to it: it exists,
/// is an OpenAlex dataset of this schema version, and records the snapshot it was built from.
pub fn check_dataset(dataset: &Path) -> Result<(Manifest, SnapshotRecord)> {
    let err = |reason: String| DatasetError::Update {
        path: dataset.to_path_buf(),
        reason,
    };
    if !dataset.exists() {
        return Err(err(
            "no such dataset to update; make it with a full ingest first (bibflow ingest \
             openalex SNAPSHOT --out DATASET)"
                .into(),
        ));
    }
    if !dataset.join(MANIFEST_FILE).is_file() {
        return Err(err(format!(
            "not a bibflow dataset (it has no {MANIFEST_FILE}), so there is nothing to update"
        )));
    }
    let manifest = Manifest::read(dataset)?;
    let others: BTreeSet<&str> = manifest
        .inputs
        .iter()
        .map(|i| i.source.as_str())
        .filter(|s| !OPENALEX_SOURCES.contains(s) && !s.starts_with("openalex-"))
        .collect();
    if manifest.synthetic || !others.is_empty() || manifest.inputs.is_empty() {
        let what = if others.is_empty() {
            "no OpenAlex inputs".to_string()
        } else {
            format!(
                "inputs of {}",
                others.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        return Err(err(format!(
            "not an OpenAlex dataset (its manifest lists {what}); --update applies an OpenAlex \
             snapshot to a dataset made from one"
        )));
    }
    if manifest.schema_version != SCHEMA_VERSION {
        return Err(err(format!(
            "the dataset has schema version {}, this bibflow writes version {SCHEMA_VERSION}: {}",
            manifest.schema_version,
            full_ingest_hint(dataset)
        )));
    }
    if !manifest.files.is_empty() {
        return Err(err(
            "a dataset copied out of an object store by another tool (its manifest lists \
             files); give --update the dataset's URL in the store instead"
                .into(),
        ));
    }
    let Some(record) = manifest.openalex_snapshot.clone() else {
        return Err(err(format!(
            "the manifest does not record which snapshot partitions the dataset was built from \
             (it was written by a bibflow older than --update, {}): {}",
            manifest.bibflow_version,
            full_ingest_hint(dataset)
        )));
    };
    Ok((manifest, record))
}

/// Chooses what of the snapshot found at `snapshot` (`found`, from [`crate::input::discover`])
/// is new to a dataset that recorded `record`. `dataset` names the dataset in errors.
///
/// Errors: a record file outside an `updated_date=` partition (not a snapshot); a snapshot whose
/// newest partition is older than the dataset's; a partition older than the dataset's newest that
/// the dataset never held (it was built from part of a snapshot, which an update cannot complete).
pub fn plan(
    snapshot: &[PathBuf],
    found: Inputs,
    record: &SnapshotRecord,
    dataset: &Path,
) -> Result<UpdatePlan> {
    let snapshot_path = snapshot.first().cloned().unwrap_or_default();
    if let Some(f) = found.files.iter().find(|f| f.snapshot_date.is_none()) {
        return Err(DatasetError::Update {
            path: f.path.clone(),
            reason: "--update reads the works/updated_date=YYYY-MM-DD/ partitions of an \
                     OpenAlex snapshot, and this file is not in one"
                .into(),
        });
    }
    let in_snapshot: BTreeSet<String> = found
        .files
        .iter()
        .filter_map(|f| f.snapshot_date.clone())
        .collect();
    let recorded: BTreeSet<&str> = record.partitions.iter().map(String::as_str).collect();
    let newest = record.newest_partition();
    if let (Some(newest), Some(snap_newest)) = (newest, in_snapshot.iter().next_back())
        && snap_newest.as_str() < newest
    {
        return Err(DatasetError::Update {
            path: snapshot_path,
            reason: format!(
                "this snapshot is older than the dataset {}: its newest partition is \
                 updated_date={snap_newest}, the dataset already holds updated_date={newest}",
                dataset.display()
            ),
        });
    }
    let mut partitions = Vec::new();
    let mut already_applied = Vec::new();
    for date in &in_snapshot {
        match newest {
            Some(n) if date.as_str() <= n => {
                if !recorded.contains(date.as_str()) {
                    return Err(DatasetError::Update {
                        path: snapshot_path,
                        reason: format!(
                            "partition updated_date={date} is older than the newest the dataset \
                             {} holds (updated_date={n}) but was never applied to it (the dataset \
                             was built from part of a snapshot): {}",
                            dataset.display(),
                            full_ingest_hint(dataset)
                        ),
                    });
                }
                already_applied.push(date.clone());
            }
            _ => partitions.push(date.clone()),
        }
    }
    let applied_merged: BTreeSet<&str> = record.merged_ids.iter().map(String::as_str).collect();
    let new_merged_ids: Vec<InputFile> = found
        .merged_ids
        .iter()
        .filter(|f| !applied_merged.contains(file_name(&f.path).as_str()))
        .cloned()
        .collect();
    let merged_id_names = new_merged_ids.iter().map(|f| file_name(&f.path)).collect();
    let wanted: BTreeSet<String> = partitions.iter().cloned().collect();
    let (entity_files, entity_partitions) = plan_entities(&found, record, dataset)?;
    let inputs = Inputs {
        entity_files,
        files: found
            .files
            .into_iter()
            .filter(|f| f.snapshot_date.as_ref().is_some_and(|d| wanted.contains(d)))
            .collect(),
        only_partitions: Some(wanted),
        ..found
    };
    Ok(UpdatePlan {
        inputs,
        new_merged_ids,
        partitions,
        merged_id_names,
        already_applied,
        entity_partitions,
    })
}

/// Partitions (`YYYY-MM-DD`) by entity table name.
type EntityPartitions = BTreeMap<String, Vec<String>>;

/// The other entities' files an update reads, and their partitions by entity: per entity, the
/// partitions newer than the newest the dataset recorded for it (all when it recorded none).
/// Errors as for works: a file outside a partition, an older partition the dataset never held.
fn plan_entities(
    found: &Inputs,
    record: &SnapshotRecord,
    dataset: &Path,
) -> Result<(Vec<EntityFile>, EntityPartitions)> {
    let mut files = Vec::new();
    let mut partitions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &found.entity_files {
        let entity = f.entity.name();
        let Some(date) = f.file.snapshot_date.as_deref() else {
            return Err(DatasetError::Update {
                path: f.file.path.clone(),
                reason: format!(
                    "--update reads the {entity}/updated_date=YYYY-MM-DD/ partitions of an \
                     OpenAlex snapshot, and this file is not in one"
                ),
            });
        };
        let held = record.entities.get(entity);
        match held.and_then(|h| h.iter().max()) {
            Some(newest) if date <= newest.as_str() => {
                if !held.is_some_and(|h| h.iter().any(|d| d == date)) {
                    return Err(DatasetError::Update {
                        path: f.file.path.clone(),
                        reason: format!(
                            "{entity} partition updated_date={date} is older than the newest \
                             the dataset {} holds (updated_date={newest}) but was never applied \
                             to it: {}",
                            dataset.display(),
                            full_ingest_hint(dataset)
                        ),
                    });
                }
            }
            _ => {
                files.push(f.clone());
                let dates = partitions.entry(entity.to_string()).or_default();
                if !dates.iter().any(|d| d == date) {
                    dates.push(date.to_string());
                }
            }
        }
    }
    for dates in partitions.values_mut() {
        dates.sort();
    }
    Ok((files, partitions))
}

/// What a full ingest of `found` records of the snapshot it read.
pub fn record_of(found: &Inputs) -> SnapshotRecord {
    let mut record = SnapshotRecord::default();
    let partitions: Vec<String> = found
        .files
        .iter()
        .filter_map(|f| f.snapshot_date.clone())
        .collect();
    let merged: Vec<String> = found
        .merged_ids
        .iter()
        .map(|f| file_name(&f.path))
        .collect();
    record.extend(&partitions, &merged);
    let mut entities: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in &found.entity_files {
        if let Some(d) = &f.file.snapshot_date {
            entities
                .entry(f.entity.name().to_string())
                .or_default()
                .push(d.clone());
        }
    }
    record.extend_entities(&entities);
    record
}

/// The file name of a merged-ids file, as recorded (`2024-02-01.csv.gz`).
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(date: Option<&str>, name: &str) -> InputFile {
        InputFile {
            path: PathBuf::from(format!(
                "/s/works/updated_date={}/{name}",
                date.unwrap_or("x")
            )),
            size: 1,
            snapshot_date: date.map(str::to_owned),
            remote: None,
        }
    }

    fn merged(name: &str) -> InputFile {
        InputFile {
            path: PathBuf::from(format!("/s/merged_ids/works/{name}")),
            size: 1,
            snapshot_date: None,
            remote: None,
        }
    }

    fn found(dates: &[&str], merged_ids: &[&str]) -> Inputs {
        Inputs {
            files: dates
                .iter()
                .map(|d| file(Some(d), "part_0000.gz"))
                .collect(),
            merged_ids: merged_ids.iter().map(|m| merged(m)).collect(),
            ..Inputs::default()
        }
    }

    fn record(partitions: &[&str], merged_ids: &[&str]) -> SnapshotRecord {
        SnapshotRecord {
            partitions: partitions.iter().map(|s| s.to_string()).collect(),
            merged_ids: merged_ids.iter().map(|s| s.to_string()).collect(),
            entities: BTreeMap::new(),
        }
    }

    #[test]
    fn newer_partitions_and_unapplied_merged_ids_are_new() {
        let ds = Path::new("/ds");
        let snap = [PathBuf::from("/s")];
        let p = plan(
            &snap,
            found(
                &["2026-01-01", "2026-01-02", "2026-01-03"],
                &["a.csv.gz", "b.csv.gz"],
            ),
            &record(&["2026-01-01", "2026-01-02"], &["a.csv.gz"]),
            ds,
        )
        .unwrap();
        assert_eq!(p.partitions, ["2026-01-03"]);
        assert_eq!(p.already_applied, ["2026-01-01", "2026-01-02"]);
        assert_eq!(p.inputs.files.len(), 1);
        assert_eq!(p.merged_id_names, ["b.csv.gz"]);
        // Every merged-ids file is staged (for the new works); the new one alone for old works.
        assert_eq!(p.inputs.merged_ids.len(), 2);
        assert!(!p.is_empty());

        let again = plan(
            &snap,
            found(&["2026-01-01", "2026-01-03"], &["a.csv.gz", "b.csv.gz"]),
            &record(
                &["2026-01-01", "2026-01-02", "2026-01-03"],
                &["a.csv.gz", "b.csv.gz"],
            ),
            ds,
        )
        .unwrap();
        assert!(again.is_empty(), "{again:?}");
        assert!(again.inputs.files.is_empty());
    }

    #[test]
    fn an_older_snapshot_a_gap_and_loose_files_are_refused() {
        let ds = Path::new("/ds");
        let snap = [PathBuf::from("/s")];
        let older = plan(
            &snap,
            found(&["2026-01-01"], &[]),
            &record(&["2026-01-01", "2026-01-02"], &[]),
            ds,
        )
        .unwrap_err();
        assert!(
            older.to_string().contains("older than the dataset /ds"),
            "{older}"
        );
        assert!(older.to_string().starts_with("/s: "), "{older}");
        let gap = plan(
            &snap,
            found(&["2026-01-01", "2026-01-02", "2026-01-03"], &[]),
            &record(&["2026-01-01", "2026-01-03"], &[]),
            ds,
        )
        .unwrap_err();
        assert!(gap.to_string().contains("updated_date=2026-01-02"), "{gap}");
        assert!(gap.to_string().contains("never applied"), "{gap}");
        let mut loose = found(&["2026-01-02"], &[]);
        loose.files.push(file(None, "works.jsonl"));
        let err = plan(&snap, loose, &record(&["2026-01-01"], &[]), ds).unwrap_err();
        assert!(err.to_string().contains("works.jsonl"), "{err}");
    }

    #[test]
    fn a_full_ingest_records_its_partitions_and_merged_ids() {
        let r = record_of(&found(
            &["2026-01-02", "2026-01-01", "2026-01-02"],
            &["m.csv.gz"],
        ));
        assert_eq!(r, record(&["2026-01-01", "2026-01-02"], &["m.csv.gz"]));
        assert_eq!(r.newest_partition(), Some("2026-01-02"));
    }

    #[test]
    fn entity_partitions_newer_than_the_recorded_ones_are_new_and_a_gap_is_refused() {
        use crate::schema::EntityTable;
        let author = |date: &str| EntityFile {
            entity: EntityTable::Authors,
            file: InputFile {
                path: PathBuf::from(format!("/s/authors/updated_date={date}/part_0000.gz")),
                size: 1,
                snapshot_date: Some(date.to_string()),
                remote: None,
            },
        };
        let topic = EntityFile {
            entity: EntityTable::Topics,
            file: InputFile {
                path: PathBuf::from("/s/topics/updated_date=2026-01-01/part_0000.gz"),
                size: 1,
                snapshot_date: Some("2026-01-01".into()),
                remote: None,
            },
        };
        let mut found = found(&["2026-01-02"], &[]);
        found.entity_files = vec![author("2026-01-01"), author("2026-01-03"), topic];
        let mut held = record(&["2026-01-01"], &[]);
        held.entities
            .insert("authors".into(), vec!["2026-01-01".into()]);
        let p = plan(
            &[PathBuf::from("/s")],
            found.clone(),
            &held,
            Path::new("/ds"),
        )
        .unwrap();
        // Authors: the newer partition only; topics: all (the dataset recorded none).
        let want: BTreeMap<String, Vec<String>> = [
            ("authors".to_string(), vec!["2026-01-03".to_string()]),
            ("topics".to_string(), vec!["2026-01-01".to_string()]),
        ]
        .into();
        assert_eq!(p.entity_partitions, want);
        assert_eq!(p.inputs.entity_files.len(), 2);
        assert!(!p.is_empty());
        // The same snapshot again: nothing new.
        let mut after = held.clone();
        after.extend(&p.partitions, &[]);
        after.extend_entities(&p.entity_partitions);
        let again = plan(
            &[PathBuf::from("/s")],
            found.clone(),
            &after,
            Path::new("/ds"),
        )
        .unwrap();
        assert!(again.is_empty(), "{:?}", again.entity_partitions);
        // An older authors partition the dataset never held: refused, naming it.
        held.entities
            .insert("authors".into(), vec!["2026-01-02".into()]);
        let err = plan(&[PathBuf::from("/s")], found, &held, Path::new("/ds")).unwrap_err();
        assert!(
            err.to_string()
                .contains("authors partition updated_date=2026-01-01"),
            "{err}"
        );
    }
}
