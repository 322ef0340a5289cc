//! Incremental update of an OpenAlex dataset (`bibflow ingest openalex SNAPSHOT --update DATASET`):
//! the snapshot's new `updated_date` partitions and merged-ids files applied to a dataset without
//! reading the whole snapshot again, with the same tables a full ingest of the snapshot gives.
//!
//! What is new is decided from the dataset's manifest
//! ([`bibflow_datasets::openalex::update`]). Then, in a staging folder beside the output
//! ([`bibflow_datasets::outdir`], like every ingest):
//!
//! 1. the new partitions are staged as a full ingest stages its inputs (same readers, rejects and
//!    warnings), with every merged-ids file of the snapshot;
//! 2. the ids to drop from the dataset, written to disk: the works of the new partitions and the
//!    works the new merged-ids files merge away;
//! 3. every table is rewritten, sorted by `work_id`, by DataFusion from two streams: the dataset's
//!    rows whose work is not to be dropped (references to a newly merged-away work re-pointed),
//!    and the newest copy of each new work with all its child rows (merged works dropped,
//!    references re-pointed, as a full ingest does). The old dataset is streamed, never loaded:
//!    memory holds the drop set's hash table and the sort's buffers (which spill).
//! 4. `_rejects/` keeps the dataset's files and gains the update's (`update-N-...`); the
//!    manifest adds the update's inputs and counts and records the partitions applied.
//!
//! The result replaces the dataset atomically, or goes to another folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};

use bibflow_datasets::ingest::{self, StageOptions, StageReport};
use bibflow_datasets::input::{self, Inputs, Root};
use bibflow_datasets::manifest::{EntityUpdate, InputEntry, Manifest, TableEntry, UpdateEntry};
use bibflow_datasets::openalex::update::{self as plan, UpdatePlan};
use bibflow_datasets::outdir::Cleanup;
use bibflow_datasets::schema::{ENTITY_TABLES, TABLE_COUNT, TABLES, Table};
use bibflow_datasets::source::{Progress, Source};
use bibflow_datasets::staging::{
    self, MERGED_DIR, REJECTS_DIR, VERSION_FILE_MASK, VERSION_FILE_SHIFT, VERSIONS_DIR,
    WARNINGS_DIR,
};
use datafusion::prelude::SessionContext;

use crate::dataset_dir::{
    count_table, link_tree, publish_dir, read_dir_sorted, register_parquet_table, scalar_i64,
    staging_dir, write_query,
};
use crate::error::{EngineError, Result};
use crate::publish::{order_columns, register_staged};
use crate::session::{SessionBuilder, SessionOptions, register_parquet_folder};

/// Options of an update.
#[derive(Debug, Clone, Default)]
pub struct UpdateOptions {
    pub stage: StageOptions,
    pub session: SessionOptions,
    /// Where the updated dataset goes; `None`: it replaces the dataset, atomically.
    pub out: Option<PathBuf>,
    /// With `out`: replace an existing folder there.
    pub overwrite: bool,
}

/// What an update did.
#[derive(Debug, Clone)]
pub struct UpdateReport {
    /// Where the dataset is now.
    pub dataset: PathBuf,
    /// Its manifest (the dataset's own when nothing was new).
    pub manifest: Manifest,
    /// The update's counts, or `None` when nothing was new.
    pub entry: Option<UpdateEntry>,
    /// Partitions of the snapshot the dataset already held, not read again.
    pub already_applied: Vec<String>,
    /// The stage report of the partitions read (`None` when nothing was new).
    pub stage: Option<StageReport>,
    /// True when nothing was written (nothing new, in place): the dataset is byte for byte as
    /// it was.
    pub unchanged: bool,
    /// What killed runs had left beside the output, cleaned up before this one wrote.
    pub cleaned: Vec<Cleanup>,
}

/// Applies what is new in the OpenAlex snapshot at `snapshot` to the dataset at `dataset`.
/// `source` must be an OpenAlex reader.
pub async fn update(
    source: &dyn Source,
    snapshot: &[Root],
    dataset: &Path,
    options: &UpdateOptions,
    progress: &Progress,
) -> Result<UpdateReport> {
    if source.name() != "openalex" {
        return Err(EngineError::Usage(format!(
            "--update applies OpenAlex snapshots; {} datasets are updated by a full ingest",
            source.name()
        )));
    }
    // Everything that can be refused is checked before anything is written.
    let (first_manifest, record) = plan::check_dataset(dataset)?;
    let found = input::discover_roots(snapshot, source.extensions())?;
    let named: Vec<PathBuf> = snapshot
        .iter()
        .map(|r| PathBuf::from(r.display()))
        .collect();
    let plan = plan::plan(&named, found, &record, dataset)?;
    let abs = |p: &Path| std::path::absolute(p).map_err(|e| EngineError::io(p, e));
    let in_place = match &options.out {
        None => true,
        Some(out) => abs(out)? == abs(dataset)?,
    };
    let target = if in_place {
        dataset.to_path_buf()
    } else {
        options.out.clone().expect("not in place")
    };
    if !in_place && target.exists() && !options.overwrite {
        return Err(EngineError::AlreadyExists { path: target });
    }
    if plan.is_empty() && in_place {
        return Ok(UpdateReport {
            dataset: target,
            manifest: first_manifest,
            entry: None,
            already_applied: plan.already_applied,
            stage: None,
            unchanged: true,
            cleaned: Vec::new(),
        });
    }

    let staging = staging_dir(&target)?;
    // Read again under the output's lock: another update may have replaced the dataset since.
    let (manifest, _) = plan::check_dataset(dataset)?;
    if manifest != first_manifest {
        return Err(EngineError::Usage(format!(
            "{} was replaced by another bibflow run while this update started; run it again",
            dataset.display()
        )));
    }
    let built = staging.path().join("dataset");
    let (manifest, entry, stage) = if plan.is_empty() {
        // Nothing new, another output: a copy of the dataset as it is.
        link_tree(dataset, &built)?;
        (manifest, None, None)
    } else {
        let (m, e, s) = build(
            source,
            &plan,
            snapshot,
            dataset,
            manifest,
            staging.path(),
            options,
            progress,
        )
        .await?;
        (m, Some(e), Some(s))
    };
    let cleaned = publish_dir(staging, &built, true)?;
    Ok(UpdateReport {
        dataset: target,
        manifest,
        entry,
        already_applied: plan.already_applied,
        stage,
        unchanged: false,
        cleaned,
    })
}

#[allow(clippy::too_many_arguments)]
async fn build(
    source: &dyn Source,
    plan: &UpdatePlan,
    snapshot: &[Root],
    dataset: &Path,
    old: Manifest,
    staging: &Path,
    options: &UpdateOptions,
    progress: &Progress,
) -> Result<(Manifest, UpdateEntry, StageReport)> {
    let raw = staging.join("raw");
    let built = staging.join("dataset");
    let stage = stage_new(source, &plan.inputs, &raw, &options.stage, progress)?;
    // The new merged-ids files alone, for the dataset's own works.
    let new_merged_dir = staging.join("new-merged");
    let new_merged = source
        .stage_side_files(
            &Inputs {
                merged_ids: plan.new_merged_ids.clone(),
                ..Inputs::default()
            },
            &new_merged_dir,
            &[],
            options.stage.threads,
        )?
        .merged_ids;
    std::fs::create_dir_all(&built).map_err(|e| EngineError::io(&built, e))?;

    let ctx = SessionBuilder::new(options.session.clone()).context()?;
    for t in TABLES {
        register_parquet_table(&ctx, &old_name(t), &dataset.join(t.name()), t).await?;
    }
    let versions = raw.join(VERSIONS_DIR);
    let has_versions = versions.exists();
    if has_versions {
        let schema = Some(staging::versions_schema());
        register_parquet_folder(&ctx, "_versions", &versions, schema).await?;
    }
    let has_merged = stage.merged_ids > 0;
    if has_merged {
        let schema = Some(staging::merged_schema());
        register_parquet_folder(&ctx, "_merged", &raw.join(MERGED_DIR), schema).await?;
    }
    let has_merged_new = new_merged > 0;
    if has_merged_new {
        let schema = Some(staging::merged_schema());
        let dir = new_merged_dir.join(MERGED_DIR);
        register_parquet_folder(&ctx, "_merged_new", &dir, schema).await?;
    }

    // The dataset's works to drop: those of the new partitions, those newly merged away.
    let mut drop_from = Vec::new();
    if has_versions {
        drop_from.push("SELECT work_id FROM _versions");
    }
    if has_merged_new {
        drop_from.push("SELECT work_id FROM _merged_new");
    }
    let drop_dir = raw.join("_drop");
    let sql = format!(
        "SELECT DISTINCT work_id FROM ({})",
        drop_from.join(" UNION ALL ")
    );
    let has_drop = !drop_from.is_empty() && write_query(&ctx, &sql, &drop_dir, None).await? > 0;
    if has_drop {
        register_parquet_folder(&ctx, "_drop", &drop_dir, None).await?;
    }
    // Each new work's newest copy, unless OpenAlex merged it away (any merged-ids file).
    if has_versions {
        let merged_filter = if has_merged {
            "WHERE work_id NOT IN (SELECT work_id FROM _merged)"
        } else {
            ""
        };
        let winners = format!(
            "SELECT work_id, (version >> {VERSION_FILE_SHIFT}) & {VERSION_FILE_MASK} AS file_index \
             FROM (SELECT work_id, max(version) AS version FROM _versions GROUP BY work_id) \
             {merged_filter}"
        );
        let dir = raw.join("_winners");
        write_query(&ctx, &winners, &dir, None).await?;
        // Declared: the folder is empty when every new work was merged away.
        let schema = Arc::new(Schema::new(vec![
            Field::new("work_id", DataType::Int64, true),
            Field::new("file_index", DataType::Int64, true),
        ]));
        register_parquet_folder(&ctx, "_winners", &dir, Some(schema)).await?;
    }

    let entry = count_update(
        &ctx,
        plan,
        snapshot,
        &stage,
        has_versions,
        has_merged,
        has_merged_new,
        has_drop,
    )
    .await?;
    for t in TABLES {
        let src = raw.join(t.name());
        let has_new = has_versions && src.exists();
        if has_new {
            register_staged(&ctx, &format!("_staged_{}", t.name()), &src, t).await?;
        }
        let sql = table_sql(t, has_drop, has_merged_new, has_new, has_merged);
        write_query(&ctx, &sql, &built.join(t.name()), Some(t.schema())).await?;
    }

    // The other entities: each table's rows, with any new copy of an entity replacing its row.
    let entities =
        crate::entities::publish(&ctx, &raw, &built, &stage.entities, Some(dataset)).await?;
    let mut entry = entry;
    for (name, dates) in &plan.entity_partitions {
        let table = entities.tables.get(name);
        entry.entities.insert(
            name.clone(),
            EntityUpdate {
                partitions: dates.clone(),
                records: entities
                    .entities
                    .get(name)
                    .map(|e| e.records)
                    .unwrap_or_default(),
                rows_before: entities.rows_before.get(name).copied().unwrap_or(0),
                rows_after: table.map_or(0, |t| t.rows),
            },
        );
    }
    carry_over(dataset, &raw, &built, old.updates.len() + 1)?;
    let manifest = updated_manifest(old, plan, &stage, &built, entry.clone(), entities)?;
    let works = manifest
        .tables
        .get(Table::Works.name())
        .map_or(0, |t| t.rows);
    if works != entry.works_after {
        return Err(EngineError::Usage(format!(
            "internal error: the update counted {} works but wrote {works}; the dataset was left \
             as it was",
            entry.works_after
        )));
    }
    manifest.write(&built)?;
    Ok((manifest, entry, stage))
}

/// Stages the new partitions' files (none when only merged ids are new: then the merged ids
/// alone).
fn stage_new(
    source: &dyn Source,
    inputs: &Inputs,
    raw: &Path,
    options: &StageOptions,
    progress: &Progress,
) -> Result<StageReport> {
    if !inputs.files.is_empty() {
        // Stage one is blocking, multi-threaded work of its own.
        return Ok(tokio::task::block_in_place(|| {
            ingest::stage(source, inputs, raw, options, progress)
        })?);
    }
    std::fs::create_dir_all(raw).map_err(|e| EngineError::io(raw, e))?;
    let side = source.stage_side_files(inputs, raw, &[], options.threads)?;
    Ok(StageReport {
        source: source.name(),
        files: Vec::new(),
        totals: Default::default(),
        rows: [0; TABLE_COUNT],
        merged_ids: side.merged_ids,
        merged_id_files: side.merged_id_files,
        manifest_mismatches: side.manifest_mismatches,
        skipped_entities: inputs.skipped_entities.clone(),
        entities: side.entities,
    })
}

/// The registered name of the dataset's table `t`.
fn old_name(t: Table) -> String {
    format!("_old_{}", t.name())
}

/// The rows of table `t` after the update, sorted by work: the dataset's rows of works not
/// dropped, and the new works' rows.
fn table_sql(
    t: Table,
    has_drop: bool,
    has_merged_new: bool,
    has_new: bool,
    has_merged: bool,
) -> String {
    let schema = t.schema();
    let columns = |alias: &str, remap: bool| -> String {
        schema
            .fields()
            .iter()
            .map(|f| {
                if remap && t == Table::WorkReferences && f.name() == "referenced_work_id" {
                    format!(
                        "COALESCE(m.merge_into_id, {alias}.referenced_work_id) AS referenced_work_id"
                    )
                } else {
                    format!("{alias}.\"{}\"", f.name())
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let remap_join = |merged: &str, alias: &str| {
        format!("LEFT JOIN {merged} m ON {alias}.referenced_work_id = m.work_id")
    };
    let old_remap = has_merged_new && t == Table::WorkReferences;
    let mut old = format!("SELECT {} FROM {} o", columns("o", old_remap), old_name(t));
    if old_remap {
        old.push(' ');
        old.push_str(&remap_join("_merged_new", "o"));
    }
    if has_drop {
        old.push_str(" WHERE NOT EXISTS (SELECT 1 FROM _drop d WHERE d.work_id = o.work_id)");
    }
    let mut parts = vec![old];
    if has_new {
        let new_remap = has_merged && t == Table::WorkReferences;
        let mut new = format!(
            "SELECT {} FROM _staged_{} s JOIN _winners w ON s.work_id = w.work_id AND \
             s.file_index = w.file_index",
            columns("s", new_remap),
            t.name()
        );
        if new_remap {
            new.push(' ');
            new.push_str(&remap_join("_merged", "s"));
        }
        parts.push(new);
    }
    format!(
        "SELECT * FROM ({}) u ORDER BY {}",
        parts.join(" UNION ALL "),
        order_columns(t).join(", ")
    )
}

/// The update's counts (see [`UpdateEntry`]).
#[allow(clippy::too_many_arguments)]
async fn count_update(
    ctx: &SessionContext,
    plan: &UpdatePlan,
    snapshot: &[Root],
    stage: &StageReport,
    has_versions: bool,
    has_merged: bool,
    has_merged_new: bool,
    has_drop: bool,
) -> Result<UpdateEntry> {
    let count = |sql: String| async move { scalar_i64(ctx, &sql).await.map(|n| n as u64) };
    let old_works = old_name(Table::Works);
    let works_before = count(format!("SELECT count(*) FROM {old_works}")).await?;
    let kept = if has_drop {
        count(format!(
            "SELECT count(*) FROM {old_works} o \
             WHERE NOT EXISTS (SELECT 1 FROM _drop d WHERE d.work_id = o.work_id)"
        ))
        .await?
    } else {
        works_before
    };
    let merged_away = if has_merged_new {
        count(format!(
            "SELECT count(*) FROM {old_works} o \
             WHERE EXISTS (SELECT 1 FROM _merged_new m WHERE m.work_id = o.work_id)"
        ))
        .await?
    } else {
        0
    };
    let (superseded, added_merged_away, added) = if has_versions {
        let superseded =
            count("SELECT count(*) - count(DISTINCT work_id) FROM _versions".into()).await?;
        let added_merged_away = if has_merged {
            count(
                "SELECT count(DISTINCT work_id) FROM _versions v \
                 WHERE EXISTS (SELECT 1 FROM _merged m WHERE m.work_id = v.work_id)"
                    .into(),
            )
            .await?
        } else {
            0
        };
        let added = count("SELECT count(*) FROM _winners".into()).await?;
        (superseded, added_merged_away, added)
    } else {
        (0, 0, 0)
    };
    Ok(UpdateEntry {
        entities: BTreeMap::new(),
        created: Manifest::now(),
        snapshot: snapshot.iter().map(Root::display).collect(),
        partitions: plan.partitions.clone(),
        merged_ids: plan.merged_id_names.clone(),
        records: stage.totals,
        works_before,
        kept,
        replaced: works_before - kept - merged_away,
        merged_away,
        superseded,
        added_merged_away,
        added,
        works_after: kept + added,
    })
}

/// Into `built`: the dataset's `_rejects/` with the update's rejects and warnings beside them
/// (named `update-N-<file>`), and any folder of the user's own the dataset holds.
fn carry_over(dataset: &Path, raw: &Path, built: &Path, update_no: usize) -> Result<()> {
    let rejects = built.join(REJECTS_DIR);
    let old_rejects = dataset.join(REJECTS_DIR);
    if old_rejects.is_dir() {
        link_tree(&old_rejects, &rejects)?;
    }
    for sub in [PathBuf::new(), PathBuf::from(WARNINGS_DIR)] {
        let dir = raw.join(REJECTS_DIR).join(&sub);
        if !dir.is_dir() {
            continue;
        }
        let to = rejects.join(&sub);
        std::fs::create_dir_all(&to).map_err(|e| EngineError::io(&to, e))?;
        for f in read_dir_sorted(&dir)?.into_iter().filter(|f| f.is_file()) {
            let name = f.file_name().expect("a file").to_string_lossy();
            let dest = to.join(format!("update-{update_no}-{name}"));
            std::fs::rename(&f, &dest).map_err(|e| EngineError::io(&f, e))?;
        }
    }
    // The entity tables are written by `crate::entities::publish`.
    let canonical: Vec<&str> = TABLES
        .iter()
        .map(|t| t.name())
        .chain(ENTITY_TABLES.iter().map(|t| t.name()))
        .collect();
    for entry in read_dir_sorted(dataset)? {
        let name = entry.file_name().expect("an entry").to_string_lossy();
        let ours = canonical.contains(&name.as_ref())
            || name == REJECTS_DIR
            || name == bibflow_datasets::manifest::MANIFEST_FILE;
        if !ours {
            link_tree(&entry, &built.join(name.as_ref()))?;
        }
    }
    Ok(())
}

/// The dataset's manifest with the update applied: its inputs, counts and tables.
fn updated_manifest(
    old: Manifest,
    plan: &UpdatePlan,
    stage: &StageReport,
    built: &Path,
    entry: UpdateEntry,
    entities: crate::entities::Published,
) -> Result<Manifest> {
    let mut m = old;
    m.bibflow_version = bibflow_datasets::VERSION.to_string();
    m.created = Manifest::now();
    m.inputs.extend(
        stage
            .files
            .iter()
            .map(|f| InputEntry::from_report(stage.source, f)),
    );
    m.inputs.extend(
        stage
            .merged_id_files
            .iter()
            .filter(|f| plan.new_merged_ids.iter().any(|n| n.path == f.path))
            .map(|f| InputEntry::from_report("openalex-merged-ids", f)),
    );
    m.records.add(&stage.totals);
    m.rejected_records += stage.totals.rejected;
    m.superseded += entry.superseded + entry.replaced;
    m.merged_away += entry.merged_away + entry.added_merged_away;
    m.input_errors
        .extend(stage.files.iter().filter_map(|f| f.error.clone()));
    m.input_errors
        .extend(stage.manifest_mismatches.iter().cloned());
    let mut tables = BTreeMap::new();
    for t in TABLES {
        let (rows, files) = count_table(&built.join(t.name()), t.schema())?;
        tables.insert(t.name().to_string(), TableEntry { rows, files });
    }
    tables.extend(entities.tables);
    m.tables = tables;
    for (name, e) in entities.entities {
        let have = m.entities.entry(name).or_default();
        have.records.add(&e.records);
        have.superseded += e.superseded;
    }
    m.inputs.extend(stage.entities.files.iter().map(|(e, f)| {
        InputEntry::from_report(bibflow_datasets::openalex::entities::source_name(*e), f)
    }));
    m.input_errors.extend(
        stage
            .entities
            .files
            .iter()
            .filter_map(|(_, f)| f.error.clone()),
    );
    m.sorted_by_work_id = true;
    m.openalex_snapshot
        .get_or_insert_with(Default::default)
        .extend(&plan.partitions, &plan.merged_id_names);
    m.openalex_snapshot
        .get_or_insert_with(Default::default)
        .extend_entities(&plan.entity_partitions);
    m.updates.push(entry);
    Ok(m)
}
