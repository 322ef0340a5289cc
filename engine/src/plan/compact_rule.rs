//! [`CompactBeforeSortRule`]: every sort reads its input through a
//! [`CompactExec`](crate::plan::compact_exec::CompactExec), which copies the batches that share
//! buffers with others (slices of a final aggregate's output, string views taken by a hash
//! repartition), so that the sort reserves memory for what it holds, not for the buffers it
//! shares. See [`crate::plan::compact_exec`] for why.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ChildrenPropertiesMode, ExecutionPlan, ReplaceChildrenOptions};

use crate::plan::compact_exec::CompactExec;

/// The physical optimizer rule. It runs last, after DataFusion has placed every sort (the sorts
/// of sort-merge joins come from `EnsureRequirements`).
#[derive(Debug, Default)]
pub struct CompactBeforeSortRule;

impl CompactBeforeSortRule {
    /// Creates the rule.
    pub fn new() -> Self {
        Self
    }
}

impl PhysicalOptimizerRule for CompactBeforeSortRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(sort) = node.downcast_ref::<SortExec>() else {
                return Ok(Transformed::no(node));
            };
            if sort.input().downcast_ref::<CompactExec>().is_some() {
                return Ok(Transformed::no(node));
            }
            let input: Arc<dyn ExecutionPlan> =
                Arc::new(CompactExec::new(Arc::clone(sort.input())));
            // The new child has the old one's properties: the sort's are the same.
            let options = ReplaceChildrenOptions::new(ChildrenPropertiesMode::Keep);
            Ok(Transformed::yes(
                Arc::clone(&node).replace_children(vec![input], options)?,
            ))
        })
        .data()
    }

    fn name(&self) -> &str {
        "CompactBeforeSort"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::execution::SessionStateBuilder;
    use datafusion::execution::memory_pool::GreedyMemoryPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::physical_optimizer::PhysicalOptimizerRule;
    use datafusion::physical_optimizer::ensure_requirements::EnsureRequirements;
    use datafusion::physical_plan::displayable;
    use datafusion::prelude::{SessionConfig, SessionContext};

    use crate::plan::physical_optimizer_rules;

    /// A session with one partition and `pool` bytes of memory, with bibflow's rules or
    /// DataFusion's, and a table `t` of 200,000 rows: a key for every other row, and a string.
    async fn session(pool: usize, ours: bool) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(1)
            .with_batch_size(8192);
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(GreedyMemoryPool::new(pool)))
            .build_arc()
            .unwrap();
        let mut state = SessionStateBuilder::new()
            .with_config(config)
            .with_runtime_env(runtime)
            .with_default_features();
        if ours {
            state = state.with_physical_optimizer_rules(physical_optimizer_rules());
        }
        let ctx = SessionContext::new_with_state(state.build());
        ctx.sql(
            "CREATE TABLE t AS SELECT value / 2 AS k, \
             concat('descriptor name number ', CAST(value AS VARCHAR)) AS name \
             FROM generate_series(0, 199999)",
        )
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
        ctx
    }

    /// A final aggregate's output (100,000 keys, a list of two strings each) sorted again, as a
    /// sort-merge join on a cluster sorts it.
    const SQL: &str = "SELECT k, names FROM (SELECT k, array_agg(name) AS names FROM t GROUP BY k) \
                       ORDER BY k DESC";

    /// The sort over `CompactExec` over the aggregate, in `plan`'s text.
    fn assert_compacted_sort(plan: &Arc<dyn datafusion::physical_plan::ExecutionPlan>) {
        let text = displayable(plan.as_ref()).indent(false).to_string();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let sort = lines
            .iter()
            .position(|l| l.starts_with("SortExec"))
            .unwrap();
        assert!(lines[sort + 1].starts_with("CompactExec"), "{text}");
        assert!(lines[sort + 2].starts_with("AggregateExec"), "{text}");
    }

    #[tokio::test]
    async fn every_sort_reads_through_compact_exec_also_after_ensure_requirements_again() {
        let ctx = session(1 << 30, true).await;
        let plan = ctx
            .sql(SQL)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        assert_compacted_sort(&plan);
        // Ballista's planner runs EnsureRequirements again on every stage's input: its sort
        // pushdown must not move the sort below CompactExec (it did while CompactExec said it
        // keeps its input's order).
        let again = EnsureRequirements::new()
            .optimize(plan, ctx.state().config_options())
            .unwrap();
        assert_compacted_sort(&again);
    }

    /// The aggregate's output is about 9 MB; its slices of 8,192 rows made the sort ask for the
    /// whole of it with each one. Under 28 MiB (the aggregate and the sort's merge reservation
    /// hold about 23 MB when the sort starts) DataFusion's plan fails on the sort's first batch;
    /// bibflow's finishes with the same rows.
    #[tokio::test]
    async fn a_sort_over_an_aggregate_counts_what_it_holds() {
        const POOL: usize = 28 << 20;
        let plain = session(POOL, false).await;
        let err = plain.sql(SQL).await.unwrap().collect().await.unwrap_err();
        assert!(
            err.to_string().contains("external sort"),
            "DataFusion's plan failed otherwise: {err}"
        );
        let ours = session(POOL, true).await;
        let got = ours.sql(SQL).await.unwrap().collect().await.unwrap();
        let roomy = session(1 << 30, false).await;
        let want = roomy.sql(SQL).await.unwrap().collect().await.unwrap();
        let rows = |b: &[arrow::record_batch::RecordBatch]| {
            arrow::compute::concat_batches(&b[0].schema(), b).unwrap()
        };
        assert_eq!(rows(&got).num_rows(), 100_000);
        assert_eq!(rows(&got), rows(&want));
    }
}
