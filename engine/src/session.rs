//! DataFusion sessions over a bibflow dataset.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bibflow_datasets::schema::TABLES;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::{EngineError, Result};

/// How a session is built.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Upper bound on memory used by operators; beyond it sorts and joins spill to disk.
    pub memory_limit: Option<usize>,
    /// Parallelism of query plans; defaults to the number of cores.
    pub target_partitions: Option<usize>,
    /// Plan every window function DataFusion's way (sort by the partition keys), also those over
    /// `PARTITION BY` only that bibflow otherwise computes by hashing
    /// ([`crate::plan::hash_window_exec::HashWindowExec`]). For comparisons and as an escape hatch.
    pub sort_windows: bool,
}

/// A table registered from a dataset folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredTable {
    pub name: String,
    pub path: PathBuf,
    /// True for the canonical tables (registered with their known schema).
    pub canonical: bool,
}

/// A fresh DataFusion session with bibflow's functions registered.
///
/// DataFusion's settings can be given as environment variables, as in datafusion-cli:
/// `DATAFUSION_EXECUTION_BATCH_SIZE=32768` sets `datafusion.execution.batch_size`; a value that
/// does not parse is an error naming the setting.
pub fn new_session(options: &SessionOptions) -> Result<SessionContext> {
    let env = SessionConfig::from_env().map_err(|e| {
        EngineError::Usage(format!(
            "a DATAFUSION_* environment variable: {}",
            e.strip_backtrace()
        ))
    })?;
    let mut config = env.with_information_schema(true).with_parquet_pruning(true);
    if let Some(n) = options.target_partitions {
        config = config.with_target_partitions(n.max(1));
    }
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = options.memory_limit {
        runtime = runtime.with_memory_limit(limit, 1.0);
    }
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime.build_arc()?)
        .with_default_features();
    if !options.sort_windows {
        state = state.with_physical_optimizer_rules(crate::plan::physical_optimizer_rules());
    }
    let ctx = SessionContext::new_with_state(state.build());
    bibflow_udfs::register_all(&ctx)?;
    Ok(ctx)
}

/// Opens a dataset folder: every sub-folder holding Parquet files becomes a table named after the
/// folder. The canonical tables get their known schema (so an empty table still has its columns);
/// any other folder a user put beside them (their own patents table, say) has its schema read
/// from its files. Folders starting with `_` or `.` (rejects, staging) are skipped.
pub async fn open_dataset(
    dataset: &Path,
    options: &SessionOptions,
) -> Result<(SessionContext, Vec<RegisteredTable>)> {
    let ctx = new_session(options)?;
    let tables = register_dataset(&ctx, dataset).await?;
    Ok((ctx, tables))
}

/// Registers the tables of `dataset` in an existing session.
pub async fn register_dataset(
    ctx: &SessionContext,
    dataset: &Path,
) -> Result<Vec<RegisteredTable>> {
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
    let mut registered = Vec::new();
    for dir in entries {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if name.starts_with('_') || name.starts_with('.') {
            continue;
        }
        let canonical = TABLES.iter().find(|t| t.name() == name);
        if canonical.is_none() && !has_parquet(&dir) {
            continue;
        }
        let schema = canonical.map(|t| t.schema());
        register_parquet_folder(ctx, &name, &dir, schema).await?;
        registered.push(RegisteredTable {
            name,
            path: dir,
            canonical: canonical.is_some(),
        });
    }
    if registered.is_empty() {
        return Err(EngineError::NotADataset {
            path: dataset.to_path_buf(),
            reason: "it holds no table folders with Parquet files".into(),
        });
    }
    // A canonical table a dataset lacks (no MeSH in an OpenAlex-only dataset written by another
    // tool, say) is empty, not unknown, so saved queries and views plan over every dataset.
    for table in TABLES {
        if !registered.iter().any(|r| r.name == table.name()) {
            let empty = datafusion::datasource::MemTable::try_new(table.schema(), vec![vec![]])?;
            ctx.register_table(table.name(), Arc::new(empty))?;
        }
    }
    Ok(registered)
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
