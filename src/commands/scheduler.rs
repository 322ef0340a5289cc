//! `bibflow scheduler`: a Ballista scheduler for `--engine ballista`, until Ctrl-C or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use bibflow_cluster::scheduler::{self, SchedulerOptions};
use bibflow_engine::session::SessionOptions;

use crate::cli::SchedulerArgs;
use crate::error::Result;

/// Binds, says where on stderr (also with --quiet: it is how a caller learns a chosen port), and
/// serves until the process is stopped.
#[allow(clippy::print_stderr)]
pub async fn run(args: SchedulerArgs) -> Result<ExitCode> {
    let options = SchedulerOptions {
        bind: args.bind,
        executor_timeout: Duration::from_secs(args.executor_timeout),
        session: SessionOptions {
            sort_windows: args.sort_windows,
            ..Default::default()
        },
    };
    bibflow_cluster::logging::init_from_env();
    let scheduler = scheduler::bind(&options).await?;
    eprintln!(
        "scheduler: listening on {} (clients: --engine ballista --scheduler {}; executors: \
         --scheduler {}); Ctrl-C or SIGTERM stops it",
        scheduler.local_addr(),
        scheduler.url(),
        scheduler.local_addr(),
    );
    scheduler.serve().await?;
    Ok(ExitCode::SUCCESS)
}
