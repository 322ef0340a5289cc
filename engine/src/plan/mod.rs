//! bibflow's additions to DataFusion's physical planning.
//!
//! - [`hash_window_exec::HashWindowExec`] and [`hash_window_rule::HashWindowRule`]: window
//!   functions over `PARTITION BY` only (a reference set's mean, a paper's percentile in its set)
//!   computed by hashing the partition keys instead of sorting every row by them.
//!
//! Sessions built by [`crate::session::new_session`] use [`physical_optimizer_rules`]; set
//! [`crate::session::SessionOptions::sort_windows`] to plan every window DataFusion's way.

use std::sync::Arc;

use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;

pub mod hash_window_exec;
pub mod hash_window_rule;

/// DataFusion's physical optimizer rules with bibflow's inserted: [`hash_window_rule::HashWindowRule`]
/// just before `EnsureRequirements`, which adds the repartitioning and sorts operators ask for.
pub fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    let at = rules
        .iter()
        .position(|r| r.name() == "EnsureRequirements")
        .unwrap_or(0);
    rules.insert(at, Arc::new(hash_window_rule::HashWindowRule::new()));
    rules
}
