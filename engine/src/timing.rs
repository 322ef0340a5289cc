//! Timed repeated runs of a query (`bibflow sql --repeat n`), for any front-end that measures.
//!
//! Each run plans the SQL afresh and executes it to the last batch; its time and the part of it
//! spent planning are handed to the caller as soon as the run ends, so a front-end can show them
//! while the next run goes on. This module measures; it never prints.
//!
//! ```no_run
//! # async fn run(ctx: datafusion::prelude::SessionContext) -> bibflow_engine::Result<()> {
//! use bibflow_engine::timing::timed_runs;
//! let t = timed_runs(&ctx, "SELECT count(*) FROM works", 5, |_, _| {}).await?;
//! let (median, min, max) = (t.median, t.min, t.max);
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::prelude::SessionContext;

use crate::error::{EngineError, Result};

/// The times of one run, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunTime {
    /// The whole run: planning and execution up to the last batch.
    pub total: f64,
    /// The part of `total` spent planning (SQL to physical plan).
    pub planning: f64,
}

/// What [`timed_runs`] measured, and the last run's result.
#[derive(Debug, Clone)]
pub struct TimedRuns {
    /// The result's schema: the batches' own where there are any (it can differ from the plan's
    /// in nullability), the plan's for an empty result, so its columns are still named.
    pub schema: SchemaRef,
    /// The last run's result.
    pub batches: Vec<RecordBatch>,
    /// Every run, in order.
    pub runs: Vec<RunTime>,
    /// Median of the runs' total times, in seconds.
    pub median: f64,
    /// Shortest run, in seconds.
    pub min: f64,
    /// Longest run, in seconds.
    pub max: f64,
    /// Median of the runs' planning times, in seconds.
    pub planning_median: f64,
}

/// Runs `query` `n` times (at least once) and returns the last run's result with every run's time
/// and their spread. `on_run(i, time)` is called as run `i` (1-based) of `n` ends.
pub async fn timed_runs(
    ctx: &SessionContext,
    query: &str,
    n: u32,
    mut on_run: impl FnMut(u32, &RunTime),
) -> Result<TimedRuns> {
    if n == 0 {
        return Err(EngineError::Usage(
            "a timed run needs at least one run".into(),
        ));
    }
    let mut runs = Vec::new();
    let mut last = Vec::new();
    let mut schema = None;
    for i in 1..=n {
        let t = Instant::now();
        let df = ctx.sql(query).await?;
        schema = Some(Arc::new(df.schema().as_arrow().clone()));
        let plan = df.create_physical_plan().await?;
        let planning = t.elapsed().as_secs_f64();
        last = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
        let run = RunTime {
            total: t.elapsed().as_secs_f64(),
            planning,
        };
        on_run(i, &run);
        runs.push(run);
    }
    let (median, min, max) = spread(&mut runs.iter().map(|r| r.total).collect::<Vec<_>>());
    let (planning_median, _, _) = spread(&mut runs.iter().map(|r| r.planning).collect::<Vec<_>>());
    let schema = match last.first() {
        Some(b) => b.schema(),
        None => schema.expect("n >= 1 runs"),
    };
    Ok(TimedRuns {
        schema,
        batches: last,
        runs,
        median,
        min,
        max,
        planning_median,
    })
}

/// Median, min and max of a non-empty list of times.
fn spread(times: &mut [f64]) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    let mid = times.len() / 2;
    let median = if times.len().is_multiple_of(2) {
        (times[mid - 1] + times[mid]) / 2.0
    } else {
        times[mid]
    };
    (median, times[0], times[times.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_counts() {
        assert_eq!(spread(&mut [3.0, 1.0, 2.0]), (2.0, 1.0, 3.0));
        assert_eq!(spread(&mut [4.0, 1.0, 3.0, 2.0]), (2.5, 1.0, 4.0));
        assert_eq!(spread(&mut [5.0]), (5.0, 5.0, 5.0));
    }

    #[tokio::test]
    async fn every_run_is_reported_and_the_last_result_kept() {
        let ctx = SessionContext::new();
        let mut seen = Vec::new();
        let t = timed_runs(&ctx, "SELECT 1 AS one", 3, |i, _| seen.push(i))
            .await
            .unwrap();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(t.runs.len(), 3);
        assert!(t.min <= t.median && t.median <= t.max);
        assert_eq!(t.schema.field(0).name(), "one");
        assert_eq!(t.batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);

        // An empty result keeps its columns; no runs is an error.
        let t = timed_runs(&ctx, "SELECT 1 AS one WHERE false", 1, |_, _| {})
            .await
            .unwrap();
        assert_eq!(t.schema.field(0).name(), "one");
        assert!(timed_runs(&ctx, "SELECT 1", 0, |_, _| {}).await.is_err());
    }
}
