//! `bibflow executor`: a Ballista executor registered with a `bibflow scheduler`, until Ctrl-C or
//! SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use bibflow_cluster::executor::{self, ExecutorOptions};
use bibflow_engine::session::SessionOptions;

use crate::cli::ExecutorArgs;
use crate::error::Result;

/// How long an executor waits for its scheduler at start.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Waits for the scheduler, says where it serves on stderr (also with --quiet), and runs tasks
/// until the process is stopped; its temporary work folder is removed on the way out.
#[allow(clippy::print_stderr)]
pub async fn run(args: ExecutorArgs) -> Result<ExitCode> {
    let options = ExecutorOptions {
        scheduler: args.scheduler,
        bind: args.bind,
        work_dir: args.work_dir,
        vcores: args.vcores,
        connect_timeout: CONNECT_TIMEOUT,
        session: SessionOptions {
            memory_limit: args.memory_limit,
            ..Default::default()
        },
    };
    bibflow_cluster::logging::init_from_env();
    let executor = executor::prepare(&options).await?;
    let memory = match executor.memory_limit() {
        Some(n) => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
        None => "unbounded".into(),
    };
    eprintln!(
        "executor {}: serving on {}, taking tasks from scheduler {}; memory pool {memory}, work \
         folder {}; Ctrl-C or SIGTERM stops it",
        executor.id(),
        executor.addr(),
        options.scheduler,
        executor.work_dir().display(),
    );
    executor.run().await?;
    Ok(ExitCode::SUCCESS)
}
