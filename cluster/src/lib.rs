//! bibflow on Apache DataFusion Ballista: the client sessions, the scheduler and the executor
//! processes, every one made with bibflow's session builder
//! ([`bibflow_engine::session::SessionBuilder`]) so that the functions, the physical rules and the
//! memory pool are bibflow's wherever a plan is planned or run.
//!
//! | piece | what it is | made with |
//! |---|---|---|
//! | [`client::BallistaContextFactory`] | a [`ContextFactory`](bibflow_engine::session::ContextFactory): a session whose queries run on a cluster (`remote`) or on an in-process one (`standalone`) | [`SessionBuilder::state`](bibflow_engine::session::SessionBuilder::state), then `build_on` |
//! | [`scheduler`] | the scheduler process: plans each query physically, splits it into stages, hands out tasks | `SessionBuilder::state` per query, with the client's settings, plus bibflow's functions |
//! | [`executor`] | an executor process: runs tasks, keeps shuffle files, serves them over Arrow Flight | one bounded memory pool and function registry from `SessionBuilder` |
//! | [`codec`] | encodes bibflow's own plan nodes for the wire (`HashWindowExec`, `SelectLiteralExpr`, empty tables); every other node is Ballista's | |
//!
//! Every process must be built from the same bibflow: functions travel by name, plan nodes as
//! bibflow's codec writes them. `docs/distributed.md` says how to run a cluster.

pub mod client;
pub mod codec;
pub mod executor;
pub mod functions;
pub mod logging;
pub mod scheduler;

pub use client::{
    BallistaContextFactory, Cluster, SchedulerUrl, cluster_session_options, default_view_placement,
    remove_standalone_work_dir,
};

/// A DataFusion error from an engine error, for Ballista's callbacks (which speak DataFusion).
pub(crate) fn to_datafusion(e: bibflow_engine::EngineError) -> datafusion::error::DataFusionError {
    match e {
        bibflow_engine::EngineError::DataFusion(e) => e,
        other => datafusion::error::DataFusionError::External(Box::new(other)),
    }
}
