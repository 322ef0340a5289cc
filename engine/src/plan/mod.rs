//! bibflow's additions to DataFusion's physical planning.
//!
//! - [`hash_window_exec::HashWindowExec`] and [`hash_window_rule::HashWindowRule`]: window
//!   functions over `PARTITION BY` only (a reference set's mean, a paper's percentile in its set)
//!   computed by hashing the partition keys instead of sorting every row by them.
//! - [`select_literal_expr::SelectLiteralExpr`] and [`select_literal_rule::SelectLiteralRule`]:
//!   `CASE WHEN p THEN 1 ELSE 0 END` (two numeric literals) in projections and aggregate
//!   functions' arguments computed from a byte table instead of through arrow's
//!   element-by-element `zip`.
//! - [`sorted_join_rule::SortedJoinRule`]: a join whose inputs both arrive sorted on its keys
//!   (tables of a dataset sorted by `work_id`, views computed from them) as a sort-merge join,
//!   which holds no hash table.
//!
//! - [`compact_exec::CompactExec`] and [`compact_rule::CompactBeforeSortRule`]: every sort reads
//!   its input through an operator that copies the batches which share buffers with others (a
//!   final aggregate's output slices), so that the sort reserves memory for what it holds.
//!
//! Sessions built by [`crate::session::SessionBuilder`] use [`physical_optimizer_rules`]; set
//! [`crate::session::SessionOptions::sort_windows`] to plan every window DataFusion's way (the other rules stay).

use std::sync::Arc;

use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;

pub mod compact_exec;
pub mod compact_rule;
pub mod hash_window_exec;
pub mod hash_window_rule;
pub mod select_literal_expr;
pub mod select_literal_rule;
pub mod sorted_join_rule;

/// DataFusion's physical optimizer rules with bibflow's inserted: [`select_literal_rule::SelectLiteralRule`]
/// first, [`sorted_join_rule::SortedJoinRule`] just after `join_selection`,
/// [`hash_window_rule::HashWindowRule`] just before `EnsureRequirements`, which adds the
/// repartitioning and sorts operators ask for, and [`compact_rule::CompactBeforeSortRule`] last,
/// when every sort is placed.
pub fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    physical_optimizer_rules_with(true)
}

/// [`physical_optimizer_rules`], with [`hash_window_rule::HashWindowRule`] only if `hash_windows`
/// ([`crate::session::SessionOptions::sort_windows`] plans every window DataFusion's way, and
/// keeps bibflow's other rules).
pub fn physical_optimizer_rules_with(
    hash_windows: bool,
) -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let after_join_selection = rules
        .iter()
        .position(|r| r.name() == "join_selection")
        .map_or(0, |i| i + 1);
    rules.insert(
        after_join_selection,
        Arc::new(sorted_join_rule::SortedJoinRule::new()),
    );
    let at = rules
        .iter()
        .position(|r| r.name() == "EnsureRequirements")
        .unwrap_or(0);
    if hash_windows {
        rules.insert(at, Arc::new(hash_window_rule::HashWindowRule::new()));
    }
    // First, so that ProjectionPushdown moves the rewritten projection into the scan.
    rules.insert(0, Arc::new(select_literal_rule::SelectLiteralRule::new()));
    rules.push(Arc::new(compact_rule::CompactBeforeSortRule::new()));
    rules
}

/// For tests: `sql` after `setup` in a bibflow session and in a plain DataFusion one, each result
/// as one batch, and bibflow's physical plan of `sql`.
#[cfg(test)]
pub(crate) async fn ours_and_plain(
    setup: &str,
    sql: &str,
) -> (
    [arrow::record_batch::RecordBatch; 2],
    Arc<dyn datafusion::physical_plan::ExecutionPlan>,
) {
    // What the session builder makes (crate::session), built here so that `plan` does not
    // import `session`, which imports `plan`.
    let state = datafusion::execution::SessionStateBuilder::new()
        .with_default_features()
        .with_physical_optimizer_rules(physical_optimizer_rules())
        .build();
    let ours = datafusion::prelude::SessionContext::new_with_state(state);
    bibflow_udfs::register_all(&ours).unwrap();
    let plain = datafusion::prelude::SessionContext::new();
    let mut out = Vec::new();
    for ctx in [&ours, &plain] {
        ctx.sql(setup).await.unwrap().collect().await.unwrap();
        let b = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        out.push(arrow::compute::concat_batches(&b[0].schema(), &b).unwrap());
    }
    let plan = ours
        .sql(sql)
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let [a, b] = <[_; 2]>::try_from(out).unwrap();
    ([a, b], plan)
}
