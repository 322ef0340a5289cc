//! Client sessions on a Ballista cluster: a [`ContextFactory`] that
//! [`SessionBuilder::build`](bibflow_engine::session::SessionBuilder::build) calls with the state
//! it prepared (settings, memory pool, physical rules), and [`cluster_session_options`], the
//! options every cluster session needs.
//!
//! A query of such a session is planned logically here and sent to the scheduler, which plans it
//! physically with bibflow's session builder and runs it on the executors; the results come back
//! over Arrow Flight. The dataset's files must be readable, at the same path or URL, by every
//! executor.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use bibflow_engine::session::{ContextFactory, SessionOptions, ViewPlacement};
use bibflow_engine::{EngineError, Result};
use datafusion::catalog::Session;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::{MemTable, source_as_provider};
use datafusion::execution::context::QueryPlanner;
use datafusion::execution::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_planner::{DefaultPhysicalPlanner, PhysicalPlanner};
use datafusion::prelude::SessionContext;

use crate::codec;

/// How long a client waits for the scheduler to answer before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The port a scheduler URL without one means (Ballista's).
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// A scheduler's address, written `df://HOST:PORT` (the port defaults to 50050).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedulerUrl {
    host: String,
    port: u16,
}

impl SchedulerUrl {
    /// Parses `df://HOST[:PORT]`; the error says what is wrong and what is expected.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let expected = "expected df://HOST:PORT, e.g. df://127.0.0.1:50050";
        let rest = s
            .strip_prefix("df://")
            .ok_or_else(|| format!("{s:?} is not a scheduler URL: {expected}"))?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 address without a port ([::1]) has colons but ends with `]`.
            Some((h, p)) if !p.ends_with(']') => {
                let port = p
                    .parse::<u16>()
                    .map_err(|_| format!("{s:?}: {p:?} is not a port; {expected}"))?;
                (h, port)
            }
            _ => (rest, DEFAULT_SCHEDULER_PORT),
        };
        if host.is_empty() || host.contains('/') {
            return Err(format!("{s:?} names no host: {expected}"));
        }
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    /// Parses `HOST:PORT` or `df://HOST:PORT`: how an executor names its scheduler.
    pub fn parse_address(s: &str) -> std::result::Result<Self, String> {
        if s.contains("://") {
            Self::parse(s)
        } else {
            Self::parse(&format!("df://{s}"))
        }
    }

    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The gRPC endpoint, `http://HOST:PORT`.
    pub fn http(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }

    /// Connects to the scheduler within `timeout`: an error naming this URL when nothing answers
    /// there (refused, unresolvable, or silent for `timeout`).
    pub async fn check_reachable(&self, timeout: Duration) -> Result<()> {
        let unreachable = |why: String| {
            EngineError::Usage(format!(
                "cannot reach the Ballista scheduler at {self}: {why} (is `bibflow scheduler` running there?)"
            ))
        };
        match tokio::time::timeout(timeout, SchedulerGrpcClient::connect(self.http())).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(unreachable(error_chain(&e))),
            Err(_) => Err(unreachable(format!(
                "no answer within {} s",
                timeout.as_secs()
            ))),
        }
    }
}

impl fmt::Display for SchedulerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "df://{}:{}", self.host, self.port)
    }
}

impl std::str::FromStr for SchedulerUrl {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::parse(s)
    }
}

/// An error with its causes, on one line (tonic's transport errors say little at the top).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

/// Where a cluster session's queries run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cluster {
    /// A running `bibflow scheduler` and its executors.
    Remote(SchedulerUrl),
    /// A scheduler and one executor started inside this process for the session (Ballista's
    /// standalone mode): the distributed plan, shuffles and all, on one machine, without
    /// starting anything.
    Standalone,
}

/// Makes a Ballista client context; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct BallistaContextFactory {
    cluster: Cluster,
}

impl BallistaContextFactory {
    /// A factory for sessions on `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        Self { cluster }
    }

    /// Where its sessions run.
    pub fn cluster(&self) -> &Cluster {
        &self.cluster
    }

    async fn make_context(&self, state: SessionState) -> Result<SessionContext> {
        crate::logging::init_from_env();
        let state = ballista_settings(state);
        match &self.cluster {
            Cluster::Remote(url) => {
                url.check_reachable(CONNECT_TIMEOUT).await?;
                let ctx = SessionContext::remote_with_state(&url.to_string(), state)
                    .await
                    .map_err(|e| {
                        EngineError::Usage(format!(
                            "cannot open a session on the Ballista scheduler at {url}: {}",
                            e.strip_backtrace()
                        ))
                    })?;
                Ok(with_local_memory_tables(ctx))
            }
            Cluster::Standalone => {
                own_standalone_work_dir()?;
                // The in-process scheduler plans with this state and the executor takes its
                // function registry from it: bibflow's functions must be in it before it starts.
                let mut state = state;
                crate::functions::register(&mut state)?;
                let ctx = SessionContext::standalone_with_state(state)
                    .await
                    .map_err(|e| {
                        EngineError::Usage(format!(
                            "cannot start the standalone Ballista cluster: {}",
                            e.strip_backtrace()
                        ))
                    })?;
                Ok(with_local_memory_tables(ctx))
            }
        }
    }
}

impl ContextFactory for BallistaContextFactory {
    fn make(
        &self,
        state: SessionState,
    ) -> Pin<Box<dyn std::future::Future<Output = Result<SessionContext>> + Send + '_>> {
        Box::pin(self.make_context(state))
    }
}

/// The temporary folder of this process's standalone cluster; see [`own_standalone_work_dir`].
static STANDALONE_WORK_DIR: std::sync::Mutex<Option<tempfile::TempDir>> =
    std::sync::Mutex::new(None);

/// Ballista's standalone executor (ballista-executor 55, `standalone.rs`) names its work folder
/// with `tempfile::TempDir::new()` and drops the guard at once, so the shuffle files it writes
/// there stay in the system's temporary folder after the process ends (11 MB per report at 20,000
/// works, gigabytes at 10^7). Before the first standalone session, tempfile is pointed at a
/// folder of bibflow's own, `bibflow-standalone-*` in the temporary folder, which
/// [`remove_standalone_work_dir`] removes.
fn own_standalone_work_dir() -> Result<()> {
    let mut held = STANDALONE_WORK_DIR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if held.is_none() {
        let tmp = std::env::temp_dir();
        let dir = tempfile::Builder::new()
            .prefix("bibflow-standalone-")
            .tempdir_in(&tmp)
            .map_err(|e| EngineError::io(&tmp, e))?;
        // Refused only when already overridden in this process: then that folder is used.
        if tempfile::env::override_temp_dir(dir.path()).is_ok() {
            *held = Some(dir);
        }
    }
    Ok(())
}

/// Removes the standalone cluster's work folder (shuffle files, spill files) if this process
/// started one; what a front-end calls when its command has ended (also after an error or an
/// interruption).
pub fn remove_standalone_work_dir() {
    let dir = STANDALONE_WORK_DIR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    drop(dir);
}

/// `ctx` with a query planner that plans a query reading only in-memory tables here (results
/// held by the client: `sql --repeat`'s, the report's before it writes them) and every other query
/// as the Ballista planner of `ctx` does, on the cluster.
fn with_local_memory_tables(ctx: SessionContext) -> SessionContext {
    let state = ctx.state();
    let cluster = Arc::clone(state.query_planner());
    let state = SessionStateBuilder::new_from_existing(state)
        .with_query_planner(Arc::new(LocalMemoryTablesPlanner {
            cluster,
            local: DefaultPhysicalPlanner::default(),
        }))
        .build();
    SessionContext::new_with_state(state)
}

/// See [`with_local_memory_tables`].
struct LocalMemoryTablesPlanner {
    cluster: Arc<dyn QueryPlanner + Send + Sync>,
    local: DefaultPhysicalPlanner,
}

impl fmt::Debug for LocalMemoryTablesPlanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalMemoryTablesPlanner")
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl QueryPlanner for LocalMemoryTablesPlanner {
    async fn create_physical_plan(
        &self,
        plan: &LogicalPlan,
        session: &dyn Session,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        if reads_only_memory_tables(plan)? {
            self.local.create_physical_plan(plan, session).await
        } else {
            self.cluster.create_physical_plan(plan, session).await
        }
    }
}

/// True when `plan` (with its subqueries) scans tables, and every one is an in-memory table.
fn reads_only_memory_tables(plan: &LogicalPlan) -> datafusion::error::Result<bool> {
    let (mut memory, mut other) = (false, false);
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            let in_memory = source_as_provider(&scan.source)
                .is_ok_and(|p| p.downcast_ref::<MemTable>().is_some());
            if in_memory {
                memory = true;
            } else {
                other = true;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(memory && !other)
}

/// The session's Ballista settings: bibflow's codecs, which the client (and a standalone
/// cluster's scheduler and executor) encode plans with, and the static distributed planner.
///
/// Ballista 55's adaptive planner (on by default) hangs queries whose `UNION ALL` has an empty
/// branch (bibflow's `work_country` view has one in every OpenAlex-only dataset): it sends the
/// tasks of one stage plans with different operators, the scheduler refuses their metrics
/// ("task metrics array size 10 does not equal with the stage metrics array size 11"), and the
/// stage never completes.
fn ballista_settings(state: SessionState) -> SessionState {
    // Ballista's own settings for DataFusion first (no dynamic filters, which cannot cross
    // stages; sort-merge joins, which spill; ...): they are applied only to a configuration
    // that has no Ballista settings yet.
    let config = state
        .config()
        .clone()
        .upgrade_for_ballista()
        .with_ballista_logical_extension_codec(codec::logical())
        .with_ballista_physical_extension_codec(codec::physical())
        .with_ballista_adaptive_query_planner(false);
    // Except one: SQL is planned here, and `CAST(x AS VARCHAR)` gives the type it gives in a local
    // session (Utf8View), so that results have the same types on every engine. Ballista turns it
    // off with `schema_force_view_types` (which stays off: it concerns whole Parquet columns,
    // which can make Flight messages too large); a cast's views hold only its own values.
    let mut config = config;
    config.options_mut().sql_parser.map_string_types_to_utf8view = state
        .config()
        .options()
        .sql_parser
        .map_string_types_to_utf8view;
    SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build()
}

/// `options` for a session on `cluster`: the session is made by a [`BallistaContextFactory`], and
/// the catalog's views are computed once on the cluster into Parquet files its executors read
/// (never into this process's memory, which the executors cannot read): in the folder or store
/// `options.views` names, else as [`default_view_placement`] says.
pub fn cluster_session_options(cluster: Cluster, options: SessionOptions) -> SessionOptions {
    let target_partitions = options
        .target_partitions
        .or(Some(CLUSTER_TARGET_PARTITIONS));
    let views = match options.views {
        ViewPlacement::InProcess => default_view_placement(&cluster),
        other => other,
    };
    SessionOptions {
        views,
        target_partitions,
        // Ballista's shuffles do not keep the order DataFusion's order-preserving repartitions
        // promise: an ordered aggregate after a shuffle emitted groups twice (engine's
        // SessionOptions::ignore_file_order).
        ignore_file_order: true,
        context_factory: Some(Arc::new(BallistaContextFactory::new(cluster))),
        ..options
    }
}

/// The partitions of every shuffle of a cluster session that does not ask for a number
/// (`--target-partitions`), instead of the client's cores: how much of the corpus one task sorts
/// and merges. Measured at 10^7 works with two executors of 4 GiB (docs/benchmarks.md, "A cluster
/// at 10^7 works"): with the client's 2 cores, 1 run of 3 failed (a sort's first batch refused)
/// and executors peaked at 2.9 GiB RSS; with 8, 3 of 3 finished, at 1.7 GiB.
pub const CLUSTER_TARGET_PARTITIONS: usize = 8;

/// Where a cluster session writes its computed views when not told: this machine's temporary
/// folder when every process of the cluster runs here (standalone, or a scheduler on a loopback
/// address, whose executors must be here too), otherwise nowhere: the views are planned into
/// every query ([`ViewPlacement::Inline`]), which is correct but computes them again in each one.
pub fn default_view_placement(cluster: &Cluster) -> ViewPlacement {
    let here = match cluster {
        Cluster::Standalone => true,
        Cluster::Remote(url) => matches!(url.host(), "127.0.0.1" | "localhost" | "::1" | "[::1]"),
    };
    if here {
        ViewPlacement::Written(std::env::temp_dir().display().to_string())
    } else {
        ViewPlacement::Inline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_session_has_more_partitions_unless_it_asks_for_a_number() {
        let given = |n: Option<usize>| {
            let options = SessionOptions {
                target_partitions: n,
                ..Default::default()
            };
            cluster_session_options(Cluster::Standalone, options).target_partitions
        };
        assert_eq!(given(None), Some(CLUSTER_TARGET_PARTITIONS));
        assert_eq!(given(Some(3)), Some(3));
    }

    #[test]
    fn views_are_written_to_the_temporary_folder_only_when_the_cluster_runs_here() {
        let here = ViewPlacement::Written(std::env::temp_dir().display().to_string());
        let remote = |s: &str| Cluster::Remote(SchedulerUrl::parse(s).unwrap());
        assert_eq!(default_view_placement(&Cluster::Standalone), here);
        for local in ["df://127.0.0.1:1", "df://localhost", "df://[::1]:9"] {
            assert_eq!(default_view_placement(&remote(local)), here, "{local}");
        }
        assert_eq!(
            default_view_placement(&remote("df://10.0.0.5:50050")),
            ViewPlacement::Inline
        );
        // A folder the user gave is kept, whatever the cluster.
        let given = SessionOptions {
            views: ViewPlacement::Written("s3://b/tmp".into()),
            ..Default::default()
        };
        let options = cluster_session_options(remote("df://10.0.0.5:1"), given);
        assert_eq!(options.views, ViewPlacement::Written("s3://b/tmp".into()));
        assert!(options.ignore_file_order);
    }

    #[test]
    fn scheduler_urls_parse_and_print() {
        let u = SchedulerUrl::parse("df://127.0.0.1:50050").unwrap();
        assert_eq!((u.host(), u.port()), ("127.0.0.1", 50050));
        assert_eq!(u.to_string(), "df://127.0.0.1:50050");
        assert_eq!(u.http(), "http://127.0.0.1:50050");
        assert_eq!(SchedulerUrl::parse("df://sched").unwrap().port(), 50050);
        assert_eq!(
            SchedulerUrl::parse("df://[::1]:7000").unwrap().host(),
            "[::1]"
        );
        assert_eq!(
            SchedulerUrl::parse_address("10.0.0.5:7000")
                .unwrap()
                .to_string(),
            "df://10.0.0.5:7000"
        );
        for bad in [
            "127.0.0.1:50050",
            "http://h:1",
            "df://",
            "df://h:port",
            "df://:5",
        ] {
            let e = SchedulerUrl::parse(bad).unwrap_err();
            assert!(e.contains("df://HOST:PORT"), "{bad}: {e}");
        }
    }

    #[tokio::test]
    async fn only_queries_of_in_memory_tables_stay_here() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE m (a INT) AS VALUES (1), (2)")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let dir = std::env::temp_dir();
        ctx.register_listing_table(
            "f",
            format!("{}/", dir.display()),
            datafusion::datasource::listing::ListingOptions::new(Arc::new(
                datafusion::datasource::file_format::parquet::ParquetFormat::default(),
            ))
            .with_file_extension(".no-such-parquet"),
            Some(Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
                datafusion::arrow::datatypes::Field::new(
                    "a",
                    datafusion::arrow::datatypes::DataType::Int32,
                    true,
                ),
            ]))),
            None,
        )
        .await
        .unwrap();
        let reads = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let plan = ctx.state().create_logical_plan(sql).await.unwrap();
                reads_only_memory_tables(&plan).unwrap()
            }
        };
        assert!(reads("SELECT sum(a) FROM m").await);
        assert!(!reads("SELECT sum(a) FROM f").await);
        assert!(!reads("SELECT * FROM m WHERE a IN (SELECT a FROM f)").await);
        assert!(!reads("SELECT 1").await);
    }

    #[tokio::test]
    async fn an_unreachable_scheduler_is_an_error_naming_its_url_within_the_timeout() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = SchedulerUrl::parse(&format!("df://127.0.0.1:{port}")).unwrap();
        let started = std::time::Instant::now();
        let e = url
            .check_reachable(Duration::from_secs(5))
            .await
            .unwrap_err()
            .to_string();
        assert!(started.elapsed() < Duration::from_secs(6));
        assert!(e.contains(&format!("df://127.0.0.1:{port}")), "{e}");
        assert!(e.contains("cannot reach the Ballista scheduler"), "{e}");
    }
}
