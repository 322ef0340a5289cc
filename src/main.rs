//! The `bibflow` command line: arguments -> validated configuration -> calls into the crates.
//! Results go to stdout; progress, summaries and errors go to stderr.
//!
//! `cli` holds the arguments, `commands` one module per subcommand, `output` what they print,
//! `error` what they fail with.

mod cli;
mod commands;
mod cpu;
mod error;
mod interrupt;
mod memory;
mod output;
mod panics;
mod progress;

use std::process::ExitCode;

use bibflow_engine::EngineError;
use clap::Parser;

use crate::cli::Cli;

/// jemalloc instead of glibc's allocator: under a memory limit glibc's per-thread arenas kept
/// what operators had freed, and at 10^8 works the process held 2.7 GB with 46 MiB in the memory
/// pool (docs/benchmarks.md, "Memory outside the pool"). jemalloc returns freed pages after a
/// second (.cargo/config.toml).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    // Before anything else: a build for newer CPUs stops here with an error, not later with
    // "illegal instruction" (src/cpu.rs).
    let missing = cpu::missing();
    if missing != 0 {
        cpu::exit_unsupported(missing);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return fail(&EngineError::Usage(format!(
                "cannot start the runtime: {e}"
            )));
        }
    };
    let signal = match interrupt::watch() {
        Ok(s) => s,
        Err(e) => {
            return fail(&EngineError::Usage(format!("cannot watch for Ctrl-C: {e}")));
        }
    };
    panics::install();
    // On Ctrl-C the command's future is dropped, and with it what it holds; then the runtime's
    // remaining tasks (DataFusion's) are given a moment to stop. A panic that reaches this thread
    // (DataFusion resumes some of its tasks' panics where their stream is polled) is caught here
    // and reported as an error.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            panics::test_trigger();
            tokio::select! {
                r = commands::run(cli) => Ok(r),
                Ok(s) = signal => Err(s),
            }
        })
    }));
    runtime.shutdown_timeout(std::time::Duration::from_secs(10));
    bibflow_cluster::remove_standalone_work_dir();
    match outcome {
        Err(_) => fail(&panics::Panicked(panics::first())),
        Ok(Err(signal)) => interrupt::interrupted(signal),
        Ok(Ok(Ok(code))) => code,
        Ok(Ok(Err(e))) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Ok(Ok(Err(e))) => fail(&e),
    }
}

/// Prints an error with its whole cause chain.
#[allow(clippy::print_stderr)]
fn fail(e: &dyn std::error::Error) -> ExitCode {
    let mut msg = format!("error: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(&format!("\n  caused by: {text}"));
        }
        source = s.source();
    }
    // A panic behind the error (a worker thread's, DataFusion's), said where it happened.
    if let Some(p) = panics::first()
        && !msg.contains(&p.to_string())
    {
        msg.push_str(&format!("\n  panicked: {p}"));
    }
    eprintln!("{msg}");
    ExitCode::FAILURE
}
