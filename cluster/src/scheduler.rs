//! The scheduler process (`bibflow scheduler`): Ballista's scheduler with bibflow's session
//! builder. Clients send it logical plans; it plans each physically in a session made by
//! [`SessionBuilder::state`] (bibflow's physical rules) with the client's settings and bibflow's
//! functions, splits the plan into stages at its shuffles and hands the tasks to the executors,
//! which poll it for work (Ballista's pull-staged scheduling; their polls are their heartbeats).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::SessionConfigExt;
use ballista_core::config::TaskSchedulingPolicy;
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::{create_scheduler, start_grpc_service_with_listener};
use bibflow_engine::session::{SessionBuilder, SessionOptions};
use bibflow_engine::{EngineError, Result};
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};

use crate::{codec, to_datafusion};

/// How a scheduler is started.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Where it listens for clients and executors (port 0: any free port).
    pub bind: SocketAddr,
    /// An executor silent this long is taken for dead: its tasks run again elsewhere, and when no
    /// executor is left the running jobs fail. Executors poll at least every 5 s.
    pub executor_timeout: Duration,
    /// The session every query is planned in (memory limit, physical rules).
    pub session: SessionOptions,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], crate::client::DEFAULT_SCHEDULER_PORT)),
            executor_timeout: Duration::from_secs(30),
            session: SessionOptions::default(),
        }
    }
}

/// A scheduler bound to its address, not yet serving.
pub struct Scheduler {
    addr: SocketAddr,
    listener: tokio::net::TcpListener,
    server:
        ballista_scheduler::scheduler_server::SchedulerServer<LogicalPlanNode, PhysicalPlanNode>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("addr", &self.addr)
            .finish()
    }
}

/// The scheduler's configuration for `options`.
fn scheduler_config(options: &SchedulerOptions, port: u16) -> Result<SchedulerConfig> {
    let builder = SessionBuilder::new(options.session.clone());
    // Fails now, with the setting named, rather than at the first query.
    let base = builder.state()?;
    let default_config = base.config().clone().upgrade_for_ballista();
    let session_builder: ballista_scheduler::SessionBuilder =
        Arc::new(move |config: SessionConfig| {
            // The session builder's state (memory pool, physical rules) with the client's
            // settings, and bibflow's functions, which the client's plan names.
            let state = builder.state().map_err(to_datafusion)?;
            let mut state = SessionStateBuilder::new_from_existing(state)
                .with_config(config)
                .build();
            crate::functions::register(&mut state)?;
            Ok(state)
        });
    let timeout = options.executor_timeout.as_secs().max(2);
    let mut config = SchedulerConfig::default()
        .with_scheduler_policy(TaskSchedulingPolicy::PullStaged)
        .with_hostname(options.bind.ip().to_string())
        .with_port(port)
        .with_override_session_builder(session_builder)
        .with_override_config_producer(Arc::new(move || default_config.clone()))
        .with_no_executors_grace_period_seconds(timeout);
    config.bind_host = options.bind.ip().to_string();
    config.executor_timeout_seconds = timeout;
    config.expire_dead_executor_interval_seconds = (timeout / 4).max(1);
    config.override_logical_codec = Some(codec::logical());
    config.override_physical_codec = Some(codec::physical());
    Ok(config)
}

/// Binds the scheduler's address and prepares it; [`Scheduler::serve`] then runs it.
pub async fn bind(options: &SchedulerOptions) -> Result<Scheduler> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| EngineError::Usage(format!("cannot listen on {}: {e}", options.bind)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| EngineError::Usage(format!("cannot listen on {}: {e}", options.bind)))?;
    let config = scheduler_config(options, addr.port())?;
    config.validate().map_err(ballista_error)?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(ballista_error)?;
    let server = create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
        .await
        .map_err(ballista_error)?;
    Ok(Scheduler {
        addr,
        listener,
        server,
    })
}

impl Scheduler {
    /// The address it listens on (the port chosen when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL clients pass as `--scheduler`.
    pub fn url(&self) -> String {
        format!("df://{}", self.addr)
    }

    /// Serves clients and executors until the future is dropped (or the server fails).
    pub async fn serve(self) -> Result<()> {
        start_grpc_service_with_listener(self.listener, self.server)
            .await
            .map_err(ballista_error)
    }
}

/// An engine error from a Ballista one.
pub(crate) fn ballista_error(e: ballista_core::error::BallistaError) -> EngineError {
    match e {
        ballista_core::error::BallistaError::DataFusionError(e) => EngineError::DataFusion(*e),
        other => EngineError::Usage(format!("Ballista: {other}")),
    }
}
