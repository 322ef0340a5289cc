//! `bibflow sql`: SQL over a dataset, once or timed over `--repeat` runs.

use std::process::ExitCode;
use std::sync::Arc;

use bibflow_engine::catalog::Catalog;
use bibflow_engine::session::SessionBuilder;
use bibflow_engine::timing::timed_runs;

use crate::cli::SqlArgs;
use crate::error::{CliError, Result};
use crate::memory::MemoryWatch;
use crate::output::{Notes, emit, format_of};

pub async fn run(args: SqlArgs, notes: &Notes) -> Result<ExitCode> {
    // The saved queries' views (work_modality, work_country, ...) are there too.
    let options = args.engine.session_options();
    let watch = MemoryWatch::start(options.memory_gauge.clone(), args.engine.trace_memory);
    let session = SessionBuilder::new(options)
        .dataset(&args.dataset)
        .catalog(Catalog::builtin()?)
        .build()
        .await?;
    let ctx = session.ctx();
    let result = async {
        let df = if args.repeat > 1 {
            let (schema, batches) = timed(ctx, &args.query, args.repeat).await?;
            let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
            ctx.read_table(Arc::new(table))?
        } else {
            ctx.sql(&args.query).await?
        };
        emit(df, format_of(args.format), args.out.as_deref(), notes).await?;
        Ok::<(), CliError>(())
    };
    // A panic inside DataFusion is reported with the query that raised it.
    result.await.map_err(|e| e.with_query(&args.query))?;
    if args.engine.trace_memory.is_some() {
        notes.say(watch.finish());
    }
    Ok(ExitCode::SUCCESS)
}

/// `--repeat n`: runs `query` `n` times, prints each run's time (and the part of it spent
/// planning) and their medians on stderr, and returns the last run's schema and batches.
#[allow(clippy::print_stderr)]
async fn timed(
    ctx: &datafusion::prelude::SessionContext,
    query: &str,
    n: u32,
) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>)> {
    let t = timed_runs(ctx, query, n, |i, run| {
        eprintln!(
            "run {i}/{n}: {:.4} s (planning {:.4} s)",
            run.total, run.planning
        );
    })
    .await?;
    eprintln!(
        "median of {n} runs: {:.4} s (min {:.4} s, max {:.4} s; planning {:.4} s)",
        t.median, t.min, t.max, t.planning_median
    );
    Ok((t.schema, t.batches))
}
