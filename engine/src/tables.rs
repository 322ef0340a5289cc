//! A dataset's tables in a session: every table folder of a local dataset is a listing table
//! over its Parquet files, declared sorted by `work_id` when the dataset's manifest says so
//! ([`table_options`]). Datasets in object stores: [`crate::store::register_remote_dataset`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bibflow_datasets::schema::{ENTITY_TABLES, EntityTable, TABLES};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::SessionContext;

use crate::error::{EngineError, Result};

/// A table registered from a dataset folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredTable {
    pub name: String,
    pub path: PathBuf,
    /// True for the canonical tables and the OpenAlex entity tables (registered with their known
    /// schema).
    pub canonical: bool,
    /// True when the table was registered with its files' order by `work_id`
    /// ([`table_options`]).
    pub sorted_by_work_id: bool,
}

/// Registers the tables of `dataset` in an existing session.
///
/// With `declare_order`, a dataset whose manifest says its files are sorted by `work_id` has that
/// order declared to DataFusion ([`table_options`]).
///
/// The session then reads the dataset as it was when registered, or fails with
/// [`EngineError::DatasetReplaced`] when a bibflow run republishes it in the meantime, never a mix
/// of the two ([`crate::dataset_guard`]). A dataset missing while a bibflow run holds its lock (a
/// publish between its two renames) is waited for, briefly.
pub async fn register_dataset(
    ctx: &SessionContext,
    dataset: &Path,
    declare_order: bool,
) -> Result<Vec<RegisteredTable>> {
    register_local_dataset(ctx, dataset, declare_order, true).await
}

/// [`register_dataset`], with `guard` saying whether reads are checked against a republished
/// dataset: not for a Ballista client, whose executors read the files (its plans must be made of
/// DataFusion's own table providers, which they are either way).
pub(crate) async fn register_local_dataset(
    ctx: &SessionContext,
    dataset: &Path,
    declare_order: bool,
    guard: bool,
) -> Result<Vec<RegisteredTable>> {
    if !guard {
        let tables = dataset_tables(ctx, dataset, declare_order).await?;
        return register_tables(ctx, dataset, tables);
    }
    let guard = crate::dataset_guard::DatasetGuard::install(ctx, dataset, &folder_url(dataset)?)?;
    // A publish during the registration itself: start again on the new dataset (twice at most).
    for _ in 0..3 {
        let tables = dataset_tables(ctx, dataset, declare_order).await;
        if guard.is_current() {
            return register_tables(ctx, dataset, tables?);
        }
        guard.renew()?;
    }
    Err(guard.replaced())
}

/// The table folders of `dataset` as listing tables, not yet registered.
async fn dataset_tables(
    ctx: &SessionContext,
    dataset: &Path,
    declare_order: bool,
) -> Result<Vec<(RegisteredTable, ListingTable)>> {
    let meta = std::fs::metadata(dataset).map_err(|e| EngineError::NotADataset {
        path: dataset.to_path_buf(),
        reason: e.to_string(),
    })?;
    if !meta.is_dir() {
        return Err(EngineError::NotADataset {
            path: dataset.to_path_buf(),
            reason: "not a folder".into(),
        });
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dataset)
        .map_err(|e| EngineError::io(dataset, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    entries.sort();
    // Datasets bibflow wrote say whether their files are sorted by work_id.
    let sorted = declare_order
        && bibflow_datasets::manifest::Manifest::read(dataset)
            .map(|m| m.sorted_by_work_id)
            .unwrap_or(false);
    let mut tables = Vec::new();
    for dir in entries {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let canonical = TABLES.iter().find(|t| t.name() == name);
        let entity = EntityTable::from_name(&name);
        if canonical.is_none() && entity.is_none() && !has_parquet(&dir) {
            continue;
        }
        // As SessionContext::register_listing_table makes it.
        let url = ListingTableUrl::parse(folder_url(&dir)?)?.with_table_ref(name.as_str().into());
        let options = table_options(sorted && canonical.is_some());
        let schema = match (canonical, entity) {
            (Some(t), _) => t.schema(),
            (None, Some(t)) => t.schema(),
            (None, None) => options.infer_schema(&ctx.state(), &url).await?,
        };
        let config = ListingTableConfig::new(url)
            .with_listing_options(options)
            .with_schema(schema);
        tables.push((
            RegisteredTable {
                name,
                path: dir,
                canonical: canonical.is_some() || entity.is_some(),
                sorted_by_work_id: sorted && canonical.is_some(),
            },
            ListingTable::try_new(config)?
                .with_cache(ctx.runtime_env().cache_manager.get_file_statistic_cache()),
        ));
    }
    Ok(tables)
}

/// Registers `tables` (of `dataset`), and the canonical tables it lacks as empty ones.
fn register_tables(
    ctx: &SessionContext,
    dataset: &Path,
    tables: Vec<(RegisteredTable, ListingTable)>,
) -> Result<Vec<RegisteredTable>> {
    if tables.is_empty() {
        return Err(EngineError::NotADataset {
            path: dataset.to_path_buf(),
            reason: "it holds no table folders with Parquet files".into(),
        });
    }
    let mut registered = Vec::new();
    for (table, provider) in tables {
        ctx.register_table(table.name.as_str(), Arc::new(provider))?;
        registered.push(table);
    }
    register_missing_tables(ctx, &registered)?;
    Ok(registered)
}

/// A canonical table a dataset lacks (no MeSH in an OpenAlex-only dataset written by another
/// tool, say), or an OpenAlex entity table (`authors`, ...) of a dataset made without that entity
/// (or before bibflow read entities), is empty, not unknown, so saved queries and views plan over
/// every dataset.
pub(crate) fn register_missing_tables(
    ctx: &SessionContext,
    registered: &[RegisteredTable],
) -> Result<()> {
    let tables = TABLES
        .iter()
        .map(|t| (t.name(), t.schema()))
        .chain(ENTITY_TABLES.iter().map(|t| (t.name(), t.schema())));
    for (name, schema) in tables {
        if !registered.iter().any(|r| r.name == name) {
            let empty = datafusion::datasource::MemTable::try_new(schema, vec![vec![]])?;
            ctx.register_table(name, Arc::new(empty))?;
        }
    }
    Ok(())
}

/// How a dataset's table folder is read: Parquet files, and, for a dataset whose manifest says
/// its files are sorted by `work_id` (and a canonical table, which all have that column), that
/// order. DataFusion then groups and joins by work_id as the rows stream past (ordered
/// aggregation, sort-merge joins without a sort: little memory, whatever the corpus size). It
/// checks the files' min/max statistics before it relies on the order across files.
pub fn table_options(sorted_by_work_id: bool) -> ListingOptions {
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    if sorted_by_work_id {
        use datafusion::prelude::col;
        options.with_file_sort_order(vec![vec![col("work_id").sort(true, false)]])
    } else {
        options
    }
}

/// Registers one folder of Parquet files as a table.
pub async fn register_parquet_folder(
    ctx: &SessionContext,
    name: &str,
    dir: &Path,
    schema: Option<arrow::datatypes::SchemaRef>,
) -> Result<()> {
    let url = folder_url(dir)?;
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    ctx.register_listing_table(name, url, options, schema, None)
        .await?;
    Ok(())
}

/// An absolute folder path ending in `/`, which DataFusion's listing tables read as a folder.
pub fn folder_url(dir: &Path) -> Result<String> {
    let abs = std::path::absolute(dir).map_err(|e| EngineError::io(dir, e))?;
    let mut s = abs.to_string_lossy().into_owned();
    if !s.ends_with('/') {
        s.push('/');
    }
    Ok(s)
}

fn has_parquet(dir: &Path) -> bool {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return false;
    };
    rd.filter_map(|e| e.ok()).any(|e| {
        let p = e.path();
        if p.is_dir() {
            has_parquet(&p)
        } else {
            p.extension().is_some_and(|x| x == "parquet")
        }
    })
}
