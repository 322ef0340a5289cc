//! Building a bibflow session: the one place every front-end (the CLI, the report, the tests, and
//! later cluster processes and the Python package) gets a DataFusion session from.
//!
//! A front-end says what it wants with [`SessionBuilder`] and gets a [`Session`]:
//!
//! | what                         | where it comes from                                          |
//! |------------------------------|--------------------------------------------------------------|
//! | bibflow's functions          | [`bibflow_udfs::register_all`], every session                |
//! | physical rules               | [`crate::plan::physical_optimizer_rules`] (sort-merge joins of sorted inputs, hash windows unless [`SessionOptions::sort_windows`], literal `CASE`, batches compacted before sorts) |
//! | memory pool                  | [`SessionOptions::memory_limit`] (default: [`default_memory_limit`], 70% of the machine's memory): sorts, aggregates and computed views spill beyond it |
//! | object stores                | [`crate::store::StoreRegistry`]: local files, and `s3://`, `gs://`, `az://`, `http(s)://` stores made from the environment on first use |
//! | DataFusion settings          | `DATAFUSION_*` environment variables, as in datafusion-cli   |
//! | the dataset's tables         | [`SessionBuilder::dataset`]: every table folder is a table   |
//! | saved queries and views      | [`SessionBuilder::catalog`]: the catalog's views, queryable by name |
//!
//! ```no_run
//! # async fn run() -> bibflow_engine::Result<()> {
//! use bibflow_engine::catalog::Catalog;
//! use bibflow_engine::session::{SessionBuilder, SessionOptions};
//! let session = SessionBuilder::new(SessionOptions::default())
//!     .dataset("my-dataset")
//!     .catalog(Catalog::builtin()?)
//!     .build()
//!     .await?;
//! let df = session.ctx().sql("SELECT modality, count(*) FROM work_modality GROUP BY 1").await?;
//! df.show().await?;
//! # Ok(()) }
//! ```
//!
//! A new front-end needs nothing else: a process that only runs plans (no dataset of its own) calls
//! [`SessionBuilder::context`]; one that plans user queries adds the dataset and the catalog.

use std::path::PathBuf;
use std::sync::Arc;

use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::catalog::{Catalog, ViewStore, ViewTime, WrittenViews};
use crate::error::{EngineError, Result};
use crate::tables::register_missing_tables;
pub use crate::tables::{
    RegisteredTable, folder_url, register_dataset, register_parquet_folder, table_options,
};
use datafusion::execution::memory_pool::TrackConsumersPool;
use std::num::NonZeroUsize;

/// How a session is built.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    /// Upper bound on the memory a session holds: operators' working memory and the computed
    /// views. Past it, sorts, aggregates and computed views spill to disk (hash joins cannot, and
    /// fail). `None` means [`default_memory_limit`].
    pub memory_limit: Option<usize>,
    /// Parallelism of query plans; defaults to the number of cores.
    pub target_partitions: Option<usize>,
    /// Plan every window function DataFusion's way (sort by the partition keys), also those over
    /// `PARTITION BY` only that bibflow otherwise computes by hashing
    /// ([`crate::plan::hash_window_exec::HashWindowExec`]). For comparisons and as an escape hatch.
    pub sort_windows: bool,
    /// Where the catalog's views are computed and held (see [`ViewPlacement`]).
    pub views: ViewPlacement,
    /// Makes the DataFusion context from the session's state; `None` is a local context
    /// (`SessionContext::new_with_state`). bibflow-cluster gives one that makes a Ballista client.
    pub context_factory: Option<Arc<dyn ContextFactory>>,
    /// Do not declare a sorted dataset's file order to DataFusion (see
    /// [`crate::tables::table_options`]). For Ballista: its shuffles do not keep the order that
    /// DataFusion's order-preserving repartitions promise, so an aggregate planned as ordered saw
    /// unordered input and emitted groups twice (country_profile's 'all' rows at 10^6 works).
    pub ignore_file_order: bool,
    /// Counts what the session's memory pool holds, for a front-end to show (see
    /// [`crate::pool::MemoryGauge`]). Read only when the session has a memory limit; a session
    /// without one has no pool to count.
    pub memory_gauge: crate::pool::MemoryGauge,
}

/// Where a session computes the catalog's views and keeps their rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ViewPlacement {
    /// Each view is computed once by this process and held within its memory limit: in memory
    /// while the pool grants it, else in Parquet files in the spill folder (the local engine).
    #[default]
    InProcess,
    /// Left as views: every query plans them inline, and
    /// [`Session::compute_views_read_by`] computes nothing. For a cluster whose executors share
    /// no folder or store with this process; slow, as every query computes its views again.
    Inline,
    /// Each view is computed once by the session's engine (on a cluster: by its executors) into
    /// Parquet files in a new sub-folder of this folder or store URL (`s3://bucket/scratch`),
    /// and read back from there as a table. Every process of the engine must be able to write
    /// and read it; the sub-folder is removed when the session is dropped (see
    /// [`crate::catalog::WrittenViews`]).
    Written(String),
}

/// Makes a [`SessionContext`] from the [`SessionState`] the builder prepared (settings, memory
/// pool, physical rules): how a front-end chooses the engine a session runs on without a second
/// session builder. The builder then registers functions, tables and views on what it returns.
pub trait ContextFactory: std::fmt::Debug + Send + Sync {
    /// The context over `state`.
    fn make(
        &self,
        state: SessionState,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<SessionContext>> + Send + '_>>;
}

/// Says what a [`Session`] holds; see the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct SessionBuilder {
    options: SessionOptions,
    dataset: Option<PathBuf>,
    catalog: Option<Catalog>,
}

impl SessionBuilder {
    /// A builder for a session with `options` and, until more is asked for, no tables.
    pub fn new(options: SessionOptions) -> Self {
        Self {
            options,
            dataset: None,
            catalog: None,
        }
    }

    /// Registers the tables of the dataset at `path`: a local folder (see [`register_dataset`]) or
    /// a store URL such as `s3://bucket/corpus` (see [`crate::store::register_remote_dataset`]).
    pub fn dataset(mut self, path: impl Into<PathBuf>) -> Self {
        self.dataset = Some(path.into());
        self
    }

    /// Registers the catalog's views (after the dataset's tables), so SQL can read them by name;
    /// they are planned, not run, until [`Session::compute_views_read_by`] or
    /// [`Session::compute_all_views`] computes them.
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// A session with bibflow's functions, physical rules, memory pool and settings, and no
    /// tables: what a process that runs plans others made needs.
    ///
    /// DataFusion's settings can be given as environment variables, as in datafusion-cli:
    /// `DATAFUSION_EXECUTION_BATCH_SIZE=32768` sets `datafusion.execution.batch_size`; a value that
    /// does not parse is an error naming the setting.
    pub fn context(&self) -> Result<SessionContext> {
        let ctx = SessionContext::new_with_state(self.state()?);
        bibflow_udfs::register_all(&ctx)?;
        Ok(ctx)
    }

    /// The session state [`context`](Self::context) starts from: settings, memory pool and
    /// physical rules, without bibflow's functions (register them with
    /// [`bibflow_udfs::register_all`] on the context made from it). For front-ends that make
    /// their context another way, such as a Ballista client
    /// (`SessionContext::remote_with_state`); they then call [`build_on`](Self::build_on).
    pub fn state(&self) -> Result<SessionState> {
        let options = &self.options;
        let env = SessionConfig::from_env().map_err(|e| {
            EngineError::Usage(format!(
                "a DATAFUSION_* environment variable: {}",
                e.strip_backtrace()
            ))
        })?;
        let mut config = env.with_information_schema(true).with_parquet_pruning(true);
        // Keep a sorted dataset's order through repartitions (order-preserving repartition)
        // instead of sorting again, so grouping and joining by work_id streams (see
        // `table_options`). Unless DATAFUSION_OPTIMIZER_PREFER_EXISTING_SORT says otherwise.
        if std::env::var_os("DATAFUSION_OPTIMIZER_PREFER_EXISTING_SORT").is_none() {
            config.options_mut().optimizer.prefer_existing_sort = true;
        }
        // Likewise through UNION ALL: DataFusion would interleave the partitions of inputs
        // partitioned alike, which merges them out of order (the work_country view).
        if std::env::var_os("DATAFUSION_OPTIMIZER_PREFER_EXISTING_UNION").is_none() {
            config.options_mut().optimizer.prefer_existing_union = true;
        }
        if let Some(n) = options.target_partitions {
            config = config.with_target_partitions(n.max(1));
        }
        let limit = options.memory_limit.or_else(default_memory_limit);
        if let Some(limit) = limit {
            // A sort reserves memory for its final merge before it spills: 10 MiB by default,
            // which in a small pool is most of what is left. Scaled to 1/32 of the pool, unless
            // DATAFUSION_EXECUTION_SORT_SPILL_RESERVATION_BYTES set it.
            let sort = &mut config.options_mut().execution.sort_spill_reservation_bytes;
            if *sort == DEFAULT_SORT_SPILL_RESERVATION && limit / 32 < *sort {
                *sort = (limit / 32).max(256 << 10);
            }
        }
        let mut runtime = RuntimeEnvBuilder::new()
            .with_object_store_registry(Arc::new(crate::store::StoreRegistry::new()))
            .with_file_statistics_cache_limit(statistics_cache_bytes(limit));
        if let Some(limit) = limit {
            // A greedy pool that keeps a quarter back for operators that cannot spill
            // (crate::pool), with the five largest consumers named in errors. DataFusion's fair
            // pool was tried: it splits the pool evenly among spilling operators, and a final
            // aggregate's even share ran out where the greedy pool finished (the study suite at
            // 10^5 works: greedy finished at 48 MiB, fair failed at 48 MiB).
            let pool = Arc::new(TrackConsumersPool::new(
                crate::pool::HeadroomPool::with_gauge(limit, options.memory_gauge.clone()),
                NonZeroUsize::new(5).expect("5 is not zero"),
            ));
            options.memory_gauge.watch_consumers(&pool);
            runtime = runtime.with_memory_pool(pool);
        }
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime.build_arc()?)
            .with_default_features();
        let rules = crate::plan::physical_optimizer_rules_with(!options.sort_windows);
        Ok(state.with_physical_optimizer_rules(rules).build())
    }

    /// The session: [`context`](Self::context) plus the dataset's tables and the catalog's views,
    /// where asked for.
    pub async fn build(self) -> Result<Session> {
        let ctx = match &self.options.context_factory {
            Some(factory) => factory.make(self.state()?).await?,
            None => self.context()?,
        };
        self.build_on(ctx).await
    }

    /// The session over a context made elsewhere from [`state`](Self::state): registers
    /// bibflow's functions (again, harmlessly, if they are there), then the dataset's tables and
    /// the catalog's views, as [`build`](Self::build) does.
    pub async fn build_on(self, ctx: SessionContext) -> Result<Session> {
        bibflow_udfs::register_all(&ctx)?;
        let tables: Vec<RegisteredTable> = match &self.dataset {
            Some(path) => match crate::store::Location::from_path(path)? {
                crate::store::Location::Url(url) => {
                    let tables = crate::store::register_remote_dataset(
                        &ctx,
                        &url,
                        !self.options.ignore_file_order,
                    )
                    .await?;
                    register_missing_tables(&ctx, &tables)?;
                    tables
                }
                crate::store::Location::Local(path) => {
                    // A Ballista client (a context factory) plans; its executors read the files.
                    crate::tables::register_local_dataset(
                        &ctx,
                        &path,
                        !self.options.ignore_file_order,
                        self.options.context_factory.is_none(),
                    )
                    .await?
                }
            },
            None => Vec::new(),
        };
        if let Some(catalog) = &self.catalog {
            catalog.register_views(&ctx).await?;
        }
        let sorted_by_work_id =
            !tables.is_empty() && tables.iter().all(|t| t.sorted_by_work_id || !t.canonical);
        Ok(Session {
            ctx,
            tables,
            catalog: self.catalog,
            views: ViewStore::default().with_views_sorted_by_work_id(sorted_by_work_id),
            placement: match &self.options.views {
                ViewPlacement::InProcess => Placement::InProcess,
                ViewPlacement::Inline => Placement::Inline,
                ViewPlacement::Written(dir) => Placement::Written(WrittenViews::create(dir)?),
            },
        })
    }
}

/// DataFusion's default `datafusion.execution.sort_spill_reservation_bytes`.
const DEFAULT_SORT_SPILL_RESERVATION: usize = 10 * 1024 * 1024;

/// Bytes of the per-file statistics DataFusion keeps between the queries of a session: an eighth
/// of the memory limit, between 20 MiB (DataFusion's default) and 1 GiB; 256 MiB without a limit.
///
/// Planning a scan reads every file's footer for its statistics (min, max and null count of
/// every column; bibflow needs those of `work_id` to keep a sorted dataset's order). A file of
/// `works` has about 17 KB of them. 20 MiB held about 1,200 such files: at 10^8 generated works
/// (5,000 files a table) every query read every footer again, and each plan held its own copy
/// (84 MB for `works` alone); the cache's copy is shared by every plan that scans the file. The
/// cache is outside the memory pool; this bounds it.
pub fn statistics_cache_bytes(memory_limit: Option<usize>) -> usize {
    const MIB: usize = 1 << 20;
    memory_limit.map_or(256 * MIB, |l| (l / 8).clamp(20 * MIB, 1024 * MIB))
}

/// The memory limit of a session that sets none: 70% of the memory this process may use (the
/// machine's, or its control group's limit when lower), so that a large job spills or fails with
/// an error instead of being killed by the operating system. `None` where it cannot be read
/// (outside Linux): then nothing bounds the session.
pub fn default_memory_limit() -> Option<usize> {
    static LIMIT: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *LIMIT.get_or_init(|| {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| mem_total_bytes(&m));
        let cgroup = [
            "/sys/fs/cgroup/memory.max",
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        ]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
        let available = match (total, cgroup) {
            (Some(t), Some(c)) => t.min(c),
            (t, c) => t.or(c)?,
        };
        usize::try_from(available / 10 * 7).ok()
    })
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total_bytes(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A DataFusion session over a dataset, made by [`SessionBuilder`].
pub struct Session {
    ctx: SessionContext,
    tables: Vec<RegisteredTable>,
    catalog: Option<Catalog>,
    /// What computed views hold (memory reservations, spill files), freed with the session.
    views: ViewStore,
    /// [`SessionOptions::views`], with the folder written views go to.
    placement: Placement,
}

/// [`ViewPlacement`] once the session exists.
#[derive(Debug)]
enum Placement {
    InProcess,
    Inline,
    Written(WrittenViews),
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SessionContext has no Debug; its id says which session this is.
        f.debug_struct("Session")
            .field("session_id", &self.ctx.session_id())
            .field("tables", &self.tables)
            .field("catalog", &self.catalog)
            .field("views", &self.views)
            .finish()
    }
}

impl Session {
    /// The DataFusion session, for SQL and DataFrames.
    pub fn ctx(&self) -> &SessionContext {
        &self.ctx
    }

    /// The dataset's tables, sorted by name (empty without a dataset).
    pub fn tables(&self) -> &[RegisteredTable] {
        &self.tables
    }

    /// The catalog whose views are registered, if one was given.
    pub fn catalog(&self) -> Option<&Catalog> {
        self.catalog.as_ref()
    }

    /// Computes the catalog views `sql` reads (see [`Catalog::compute_views_read_by`]); nothing
    /// without a catalog. Their rows are held within the session's memory limit, in memory or in
    /// the spill folder, until the session is dropped.
    pub async fn compute_views_read_by(&self, sql: &str) -> Result<Vec<ViewTime>> {
        match (&self.catalog, &self.placement) {
            (None, _) | (_, Placement::Inline) => Ok(Vec::new()),
            (Some(c), Placement::InProcess) => {
                c.compute_views_read_by(&self.ctx, sql, &self.views).await
            }
            (Some(c), Placement::Written(dir)) => {
                dir.compute(&self.ctx, c.views_read_by(sql)?, &|_| {}).await
            }
        }
    }

    /// Computes every view of the catalog (see [`Catalog::compute_views`]), calling `on_view`
    /// with each view's time as soon as it is computed; nothing without a catalog.
    pub async fn compute_all_views(
        &self,
        on_view: crate::catalog::OnView<'_>,
    ) -> Result<Vec<ViewTime>> {
        match (&self.catalog, &self.placement) {
            (None, _) | (_, Placement::Inline) => Ok(Vec::new()),
            (Some(c), Placement::InProcess) => {
                c.compute_views(&self.ctx, &self.views, on_view).await
            }
            (Some(c), Placement::Written(dir)) => {
                dir.compute(&self.ctx, c.views_in_waves()?, on_view).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mem_total_is_read_in_bytes() {
        let meminfo = "MemTotal:       24576000 kB\nMemFree:        1000 kB\n";
        assert_eq!(mem_total_bytes(meminfo), Some(24_576_000 * 1024));
        assert_eq!(mem_total_bytes("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn the_default_limit_is_below_the_machines_memory() {
        // Linux only (this project's machines): where /proc/meminfo exists, the limit is set.
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
        let total = mem_total_bytes(&meminfo).unwrap();
        let limit = default_memory_limit().unwrap() as u64;
        assert!(limit <= total / 10 * 7, "{limit} of {total}");
        assert!(limit > 0);
    }

    #[test]
    fn the_sort_reservation_shrinks_with_a_small_pool() {
        let reservation = |limit: usize| {
            let ctx = SessionBuilder::new(SessionOptions {
                memory_limit: Some(limit),
                ..Default::default()
            })
            .context()
            .unwrap();
            ctx.state()
                .config()
                .options()
                .execution
                .sort_spill_reservation_bytes
        };
        assert_eq!(
            datafusion::config::ConfigOptions::default()
                .execution
                .sort_spill_reservation_bytes,
            DEFAULT_SORT_SPILL_RESERVATION
        );
        assert_eq!(reservation(64 << 20), 2 << 20);
        assert_eq!(reservation(4 << 20), 256 << 10);
        assert_eq!(reservation(1 << 30), DEFAULT_SORT_SPILL_RESERVATION);
    }

    #[tokio::test]
    async fn a_session_without_a_limit_gets_the_default_one() {
        let ctx = SessionBuilder::default().context().unwrap();
        let pool = &ctx.runtime_env().memory_pool;
        let limit = default_memory_limit().unwrap();
        let got = match pool.memory_limit() {
            datafusion::execution::memory_pool::MemoryLimit::Finite(n) => Some(n),
            _ => None,
        };
        assert_eq!(got, Some(limit));
    }
}
