//! Ingest, end to end: raw files -> staging Parquet -> the published dataset.
//!
//! The dataset appears atomically. Everything is built in a hidden staging folder beside the output
//! (`.NAME.bibflow-staging-PID`) and renamed into place only when complete, so a failed or killed
//! run leaves an earlier dataset at the output path untouched; the output is locked against a
//! second writer, and staging folders of killed runs are removed by the next run
//! ([`bibflow_datasets::outdir`]).
//!
//! When a work was ingested more than once (the OpenAlex snapshot holds a work in every
//! `updated_date` partition it changed in) or OpenAlex merged works away, the staged tables are
//! rewritten by DataFusion, sorted by `work_id`: only each work's newest copy is kept, merged works
//! are dropped and references to them point to the work they were merged into. Otherwise the staged
//! files are published as they are, without a second pass over the data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::DataType;
use bibflow_datasets::ingest::{self, StageOptions, StageReport};
use bibflow_datasets::input::{self, Inputs, Root};
use bibflow_datasets::manifest::{InputEntry, Manifest, TableEntry};
use bibflow_datasets::openalex::update as openalex_update;
use bibflow_datasets::outdir::Cleanup;
use bibflow_datasets::schema::{SCHEMA_VERSION, TABLES, Table};
use bibflow_datasets::source::{Progress, Source};
use bibflow_datasets::staging::{
    self, DELETES_DIR, MERGED_DIR, REJECTS_DIR, VERSION_FILE_MASK, VERSION_FILE_SHIFT, VERSIONS_DIR,
};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::prelude::SessionContext;

use crate::dataset_dir::{
    count_table, publish_dir, read_dir_sorted, rename, scalar_i64, staging_dir, write_query,
};
use crate::error::{EngineError, Result};
use crate::session::{SessionBuilder, SessionOptions, folder_url, register_parquet_folder};

/// Options of `bibflow ingest`.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    pub stage: StageOptions,
    pub session: SessionOptions,
    /// Replace an existing dataset at the output path.
    pub overwrite: bool,
}

/// What an ingest run did.
#[derive(Debug, Clone)]
pub struct IngestReport {
    pub dataset: PathBuf,
    pub manifest: Manifest,
    pub stage: StageReport,
    /// What killed runs had left beside the output, cleaned up before this one wrote.
    pub cleaned: Vec<Cleanup>,
}

/// Reads `inputs` (on this machine or in stores: [`crate::store::input_roots`]) with `source`
/// and publishes the dataset at `out`.
pub async fn ingest(
    source: &dyn Source,
    inputs: &[Root],
    out: &Path,
    options: &IngestOptions,
    progress: &Progress,
) -> Result<IngestReport> {
    if out.exists() && !options.overwrite {
        return Err(EngineError::AlreadyExists {
            path: out.to_path_buf(),
        });
    }
    let found = input::discover_roots(inputs, source.extensions())?;
    let staging = staging_dir(out)?;
    // On an error the staging folder is removed when `staging` is dropped.
    let (manifest, stage) = build(source, &found, staging.path(), options, progress).await?;
    let built = staging.path().join("dataset");
    let cleaned = publish_dir(staging, &built, options.overwrite)?;
    Ok(IngestReport {
        dataset: out.to_path_buf(),
        manifest,
        stage,
        cleaned,
    })
}

async fn build(
    source: &dyn Source,
    found: &Inputs,
    staging: &Path,
    options: &IngestOptions,
    progress: &Progress,
) -> Result<(Manifest, StageReport)> {
    let raw = staging.join("raw");
    let dataset = staging.join("dataset");
    let stage = {
        let raw = raw.clone();
        let found = found.clone();
        let opts = options.stage.clone();
        // Stage one is blocking, multi-threaded work of its own.
        tokio::task::block_in_place(|| ingest::stage(source, &found, &raw, &opts, progress))?
    };
    std::fs::create_dir_all(&dataset).map_err(|e| EngineError::io(&dataset, e))?;

    let ctx = SessionBuilder::new(options.session.clone()).context()?;
    let versions = raw.join(VERSIONS_DIR);
    let has_versions = versions.exists();
    if has_versions {
        register_parquet_folder(
            &ctx,
            "_versions",
            &versions,
            Some(staging::versions_schema()),
        )
        .await?;
    }
    let merged = raw.join(MERGED_DIR);
    let has_merged = stage.merged_ids > 0;
    if has_merged {
        register_parquet_folder(&ctx, "_merged", &merged, Some(staging::merged_schema())).await?;
    }
    // Copies of a work beyond its first: older versions the rewrite drops.
    let superseded = if has_versions {
        scalar_i64(
            &ctx,
            "SELECT count(*) - count(DISTINCT work_id) FROM _versions",
        )
        .await? as u64
    } else {
        0
    };
    let deletes = raw.join(DELETES_DIR);
    let has_deletes = deletes.exists();
    if has_deletes {
        register_parquet_folder(&ctx, "_deletes", &deletes, Some(staging::versions_schema()))
            .await?;
    }
    let (mut merged_away, mut deleted) = (0, 0);

    // Staged files hold works in input order; only the rewrite sorts them by work_id.
    let sorted_by_work_id = !(superseded == 0 && !has_merged && !has_deletes);
    if !sorted_by_work_id {
        move_staged_files(&raw, &dataset)?;
    } else {
        (merged_away, deleted) =
            rewrite_tables(&ctx, &raw, &dataset, has_merged, has_deletes).await?;
    }
    let rejects = raw.join(REJECTS_DIR);
    if rejects.exists() {
        rename(&rejects, &dataset.join(REJECTS_DIR))?;
    }

    let mut tables = BTreeMap::new();
    for t in TABLES {
        let dir = dataset.join(t.name());
        let (rows, files) = count_table(&dir, t.schema())?;
        tables.insert(t.name().to_string(), TableEntry { rows, files });
    }
    // OpenAlex's other entities (authors, institutions, ...), each its own table.
    let entities = crate::entities::publish(&ctx, &raw, &dataset, &stage.entities, None).await?;
    tables.extend(entities.tables);
    let mut inputs: Vec<InputEntry> = stage
        .files
        .iter()
        .map(|f| InputEntry::from_report(stage.source, f))
        .collect();
    inputs.extend(
        stage
            .merged_id_files
            .iter()
            .map(|f| InputEntry::from_report("openalex-merged-ids", f)),
    );
    inputs.extend(stage.entities.files.iter().map(|(e, f)| {
        InputEntry::from_report(bibflow_datasets::openalex::entities::source_name(*e), f)
    }));
    let mut input_errors: Vec<String> =
        stage.files.iter().filter_map(|f| f.error.clone()).collect();
    input_errors.extend(
        stage
            .entities
            .files
            .iter()
            .filter_map(|(_, f)| f.error.clone()),
    );
    input_errors.extend(stage.manifest_mismatches.iter().cloned());
    let manifest = Manifest {
        bibflow_version: bibflow_datasets::VERSION.to_string(),
        schema_version: SCHEMA_VERSION,
        created: Manifest::now(),
        synthetic: false,
        inputs,
        records: stage.totals,
        superseded,
        merged_away,
        deleted,
        tables,
        rejected_records: stage.totals.rejected,
        input_errors,
        files: Default::default(),
        sorted_by_work_id,
        // What `ingest openalex --update` needs to know to apply only what is new.
        openalex_snapshot: (source.name() == "openalex").then(|| openalex_update::record_of(found)),
        updates: Vec::new(),
        entities: entities.entities,
    };
    manifest.write(&dataset)?;
    Ok((manifest, stage))
}

/// No duplicates, nothing merged: `raw/<table>/file_index=N/part-*.parquet` -> `<table>/part-*.parquet`.
fn move_staged_files(raw: &Path, dataset: &Path) -> Result<()> {
    for t in TABLES {
        let src = raw.join(t.name());
        let dst = dataset.join(t.name());
        std::fs::create_dir_all(&dst).map_err(|e| EngineError::io(&dst, e))?;
        if !src.exists() {
            continue;
        }
        for partition in read_dir_sorted(&src)? {
            for file in read_dir_sorted(&partition)? {
                let name = file.file_name().expect("file name").to_owned();
                rename(&file, &dst.join(name))?;
            }
        }
    }
    Ok(())
}

/// Keeps each work's newest copy, drops merged and deleted works, remaps references; returns the
/// numbers of works dropped as merged and as deleted.
async fn rewrite_tables(
    ctx: &SessionContext,
    raw: &Path,
    dataset: &Path,
    has_merged: bool,
    has_deletes: bool,
) -> Result<(u64, u64)> {
    // Each work's newest copy, with the newest deletion of it (if any).
    let deletes_join = if has_deletes {
        "LEFT JOIN (SELECT work_id, max(version) AS deleted_at FROM _deletes GROUP BY work_id) d \
         ON v.work_id = d.work_id"
    } else {
        "LEFT JOIN (SELECT CAST(NULL AS BIGINT) AS work_id, CAST(NULL AS BIGINT) AS deleted_at) d \
         ON v.work_id = d.work_id"
    };
    let newest = format!(
        "SELECT v.work_id, v.version, d.deleted_at FROM \
         (SELECT work_id, max(version) AS version FROM _versions GROUP BY work_id) v {deletes_join}"
    );
    let merged_filter = if has_merged {
        "AND work_id NOT IN (SELECT work_id FROM _merged)"
    } else {
        ""
    };
    // The winners: one (work_id, file_index) per work, written to disk so that the table joins
    // below scale past memory.
    let winners_sql = format!(
        "SELECT work_id, (version >> {VERSION_FILE_SHIFT}) & {VERSION_FILE_MASK} AS file_index \
         FROM ({newest}) \
         WHERE (deleted_at IS NULL OR deleted_at < version) {merged_filter}"
    );
    let winners_dir = raw.join("_winners");
    write_query(ctx, &winners_sql, &winners_dir, None).await?;
    register_parquet_folder(ctx, "_winners", &winners_dir, None).await?;
    let deleted = scalar_i64(
        ctx,
        &format!("SELECT count(*) FROM ({newest}) WHERE deleted_at >= version"),
    )
    .await? as u64;
    let merged_away = if has_merged {
        scalar_i64(
            ctx,
            &format!(
                "SELECT count(*) FROM ({newest}) n JOIN (SELECT DISTINCT work_id FROM _merged) m \
                 ON n.work_id = m.work_id WHERE n.deleted_at IS NULL OR n.deleted_at < n.version"
            ),
        )
        .await? as u64
    } else {
        0
    };

    for t in TABLES {
        let src = raw.join(t.name());
        let dst = dataset.join(t.name());
        std::fs::create_dir_all(&dst).map_err(|e| EngineError::io(&dst, e))?;
        if !src.exists() {
            continue;
        }
        let staged = format!("_staged_{}", t.name());
        register_staged(ctx, &staged, &src, t).await?;
        let schema = t.schema();
        let columns: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| {
                if t == Table::WorkReferences && f.name() == "referenced_work_id" && has_merged {
                    "COALESCE(m.merge_into_id, s.referenced_work_id) AS referenced_work_id"
                        .to_string()
                } else {
                    format!("s.\"{}\"", f.name())
                }
            })
            .collect();
        let remap = if t == Table::WorkReferences && has_merged {
            "LEFT JOIN _merged m ON s.referenced_work_id = m.work_id"
        } else {
            ""
        };
        let order = order_columns(t)
            .iter()
            .map(|c| format!("s.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {} FROM {staged} s \
             JOIN _winners w ON s.work_id = w.work_id AND s.file_index = w.file_index \
             {remap} ORDER BY {order}",
            columns.join(", ")
        );
        write_query(ctx, &sql, &dst, Some(t.schema())).await?;
    }
    Ok((merged_away, deleted))
}

/// Registers a table's staged parts (`src/file_index=N/part-*.parquet`) as `name`, with the
/// `file_index` they came from as a column.
pub(crate) async fn register_staged(
    ctx: &SessionContext,
    name: &str,
    src: &Path,
    t: Table,
) -> Result<()> {
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(vec![("file_index".to_string(), DataType::Int64)]);
    ctx.register_listing_table(name, folder_url(src)?, options, Some(t.schema()), None)
        .await?;
    Ok(())
}

/// The sort order of a rewritten table: by work, then the table's natural order inside a work.
pub(crate) fn order_columns(t: Table) -> &'static [&'static str] {
    match t {
        Table::Authorships => &["work_id", "author_position"],
        Table::WorkTopics => &["work_id", "rank"],
        Table::WorkCitationsByYear => &["work_id", "year"],
        _ => &["work_id"],
    }
}
