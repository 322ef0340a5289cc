//! Ingest, end to end: raw files -> staging Parquet -> the published dataset.
//!
//! The dataset appears atomically. Everything is built in a hidden staging folder beside the output
//! (`.NAME.bibflow-staging-PID`) and renamed into place only when complete, so a failed or killed
//! run leaves an earlier dataset at the output path untouched.
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
use bibflow_datasets::ingest::{
    self, DELETES_DIR, MERGED_DIR, Progress, REJECTS_DIR, Source, StageOptions, StageReport,
    VERSIONS_DIR,
};
use bibflow_datasets::input::{self, Inputs};
use bibflow_datasets::manifest::{InputEntry, Manifest, TableEntry};
use bibflow_datasets::schema::{SCHEMA_VERSION, TABLES, Table};
use bibflow_datasets::writer::ParquetFile;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use crate::error::{EngineError, Result};
use crate::session::{SessionOptions, folder_url, new_session, register_parquet_folder};

/// Rows per Parquet file when tables are rewritten.
const ROWS_PER_FILE: u64 = 4_000_000;

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
}

/// Reads `inputs` with `source` and publishes the dataset at `out`.
pub async fn ingest(
    source: &dyn Source,
    inputs: &[PathBuf],
    out: &Path,
    options: &IngestOptions,
    progress: &Progress,
) -> Result<IngestReport> {
    if out.exists() && !options.overwrite {
        return Err(EngineError::AlreadyExists {
            path: out.to_path_buf(),
        });
    }
    let found = input::discover(inputs, source.extensions())?;
    let staging = staging_dir(out)?;
    let result = build(source, &found, &staging, options, progress).await;
    match result {
        Ok((manifest, stage)) => {
            publish_dir(&staging.join("dataset"), out, options.overwrite)?;
            let _ = std::fs::remove_dir_all(&staging);
            Ok(IngestReport {
                dataset: out.to_path_buf(),
                manifest,
                stage,
            })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

pub(crate) fn staging_dir(out: &Path) -> Result<PathBuf> {
    let abs = std::path::absolute(out).map_err(|e| EngineError::io(out, e))?;
    let parent = abs.parent().unwrap_or(Path::new("/")).to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| EngineError::io(&parent, e))?;
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dataset".into());
    let dir = parent.join(format!(".{name}.bibflow-staging-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))?;
    }
    Ok(dir)
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

    let ctx = new_session(&options.session)?;
    let versions = raw.join(VERSIONS_DIR);
    let has_versions = versions.exists();
    if has_versions {
        register_parquet_folder(
            &ctx,
            "_versions",
            &versions,
            Some(ingest::versions_schema()),
        )
        .await?;
    }
    let merged = raw.join(MERGED_DIR);
    let has_merged = stage.merged_ids > 0;
    if has_merged {
        register_parquet_folder(&ctx, "_merged", &merged, Some(ingest::merged_schema())).await?;
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
        register_parquet_folder(&ctx, "_deletes", &deletes, Some(ingest::versions_schema()))
            .await?;
    }
    let (mut merged_away, mut deleted) = (0, 0);

    if superseded == 0 && !has_merged && !has_deletes {
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
        let (rows, files) = count_table(&dir, t)?;
        tables.insert(t.name().to_string(), TableEntry { rows, files });
    }
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
    let mut input_errors: Vec<String> =
        stage.files.iter().filter_map(|f| f.error.clone()).collect();
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
        "SELECT work_id, (version >> 27) & 1048575 AS file_index FROM ({newest}) \
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
        let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
            .with_file_extension(".parquet")
            .with_table_partition_cols(vec![("file_index".to_string(), DataType::Int64)]);
        ctx.register_listing_table(&staged, folder_url(&src)?, options, Some(t.schema()), None)
            .await?;
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
        let order = order_columns(t);
        let sql = format!(
            "SELECT {} FROM {staged} s \
             JOIN _winners w ON s.work_id = w.work_id AND s.file_index = w.file_index \
             {remap} ORDER BY {order}",
            columns.join(", ")
        );
        write_query(ctx, &sql, &dst, Some(t)).await?;
    }
    Ok((merged_away, deleted))
}

/// The sort order of a rewritten table: by work, then the table's natural order inside a work.
fn order_columns(t: Table) -> &'static str {
    match t {
        Table::Authorships => "s.work_id, s.author_position",
        Table::WorkTopics => "s.work_id, s.rank",
        Table::WorkCitationsByYear => "s.work_id, s.year",
        _ => "s.work_id",
    }
}

/// Runs `sql` and writes its result as Parquet files `part-NNNNN.parquet` in `dir`.
pub(crate) async fn write_query(
    ctx: &SessionContext,
    sql: &str,
    dir: &Path,
    table: Option<Table>,
) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    let df = ctx.sql(sql).await?;
    let schema = table
        .map(|t| t.schema())
        .unwrap_or_else(|| Arc::new(df.schema().as_arrow().clone()));
    let mut stream = df.execute_stream().await?;
    let mut file_no = 0;
    let mut current: Option<ParquetFile> = None;
    let mut in_file = 0u64;
    let mut total = 0u64;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        // Names, types and nullability come from the canonical schema: DataFusion may hand back
        // strings as Utf8View, which is cast back here.
        let columns = batch
            .columns()
            .iter()
            .zip(schema.fields())
            .map(|(c, f)| {
                if c.data_type() == f.data_type() {
                    Ok(c.clone())
                } else {
                    arrow::compute::cast(c, f.data_type())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batch = arrow::record_batch::RecordBatch::try_new(schema.clone(), columns)?;

        if current.is_none() {
            let path = dir.join(format!("part-{file_no:05}.parquet"));
            current = Some(ParquetFile::create(&path, schema.clone())?);
            file_no += 1;
        }
        let file = current.as_mut().expect("opened above");
        file.write(&batch)?;
        in_file += batch.num_rows() as u64;
        total += batch.num_rows() as u64;
        if in_file >= ROWS_PER_FILE {
            current.take().expect("open").close()?;
            in_file = 0;
        }
    }
    if let Some(f) = current {
        f.close()?;
    }
    Ok(total)
}

/// Counts a table's rows and files from the Parquet footers; writes an empty file when the table
/// has none, so that every tool (DuckDB, pyarrow) sees its columns.
pub(crate) fn count_table(dir: &Path, t: Table) -> Result<(u64, u64)> {
    std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir, e))?;
    let files = read_dir_sorted(dir)?;
    if files.is_empty() {
        ParquetFile::create(&dir.join("part-00000.parquet"), t.schema())?.close()?;
        return Ok((0, 1));
    }
    let mut rows = 0;
    for f in &files {
        rows += parquet_rows(f)?;
    }
    Ok((rows, files.len() as u64))
}

/// Rows in a Parquet file, from its footer.
pub fn parquet_rows(path: &Path) -> Result<u64> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let f = std::fs::File::open(path).map_err(|e| EngineError::io(path, e))?;
    let reader = SerializedFileReader::new(f).map_err(|e| {
        EngineError::Usage(format!(
            "{}: not a readable Parquet file: {e}",
            path.display()
        ))
    })?;
    Ok(reader.metadata().file_metadata().num_rows() as u64)
}

/// Moves the finished dataset into place. With `overwrite`, the old dataset is renamed aside first
/// and removed only after the new one is in place.
pub(crate) fn publish_dir(built: &Path, out: &Path, overwrite: bool) -> Result<()> {
    if out.exists() {
        if !overwrite {
            return Err(EngineError::AlreadyExists {
                path: out.to_path_buf(),
            });
        }
        let aside = out.with_file_name(format!(
            ".{}.bibflow-old-{}",
            out.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        rename(out, &aside)?;
        rename(built, out)?;
        std::fs::remove_dir_all(&aside).map_err(|e| EngineError::io(&aside, e))?;
    } else {
        rename(built, out)?;
    }
    Ok(())
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| EngineError::io(from, e))
}

pub(crate) fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| EngineError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

pub(crate) async fn scalar_i64(ctx: &SessionContext, sql: &str) -> Result<i64> {
    let batches = ctx.sql(sql).await?.collect().await?;
    let batch = batches
        .iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| EngineError::Usage(format!("no result for {sql}")))?;
    let col = arrow::compute::cast(batch.column(0), &DataType::Int64)?;
    let arr = col
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .expect("cast to Int64");
    Ok(if arrow::array::Array::is_null(arr, 0) {
        0
    } else {
        arr.value(0)
    })
}

/// Registers a canonical table folder of a dataset under `name`.
pub(crate) async fn register_parquet_table(
    ctx: &SessionContext,
    name: &str,
    dir: &Path,
    t: Table,
) -> Result<()> {
    if !dir.is_dir() {
        return Err(EngineError::NotADataset {
            path: dir.parent().unwrap_or(dir).to_path_buf(),
            reason: format!("it has no {} table", t.name()),
        });
    }
    register_parquet_folder(ctx, name, dir, Some(t.schema())).await
}
