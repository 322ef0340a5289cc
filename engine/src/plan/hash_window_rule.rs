//! [`HashWindowRule`]: replaces DataFusion's sort-based window operators by [`HashWindowExec`]
//! where every window expression of the operator needs only its partition.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

use super::hash_window_exec::HashWindowExec;

/// The physical optimizer rule. It must run before DataFusion's `EnsureRequirements`, which then
/// adds the hash repartitioning the new operator asks for and no sort
/// ([`super::physical_optimizer_rules`] puts it there).
#[derive(Debug, Default)]
pub struct HashWindowRule;

impl HashWindowRule {
    /// Creates the rule.
    pub fn new() -> Self {
        Self
    }

    fn try_replace(plan: &Arc<dyn ExecutionPlan>) -> Option<Arc<dyn ExecutionPlan>> {
        let (window_expr, input) = if let Some(w) = plan.downcast_ref::<WindowAggExec>() {
            (w.window_expr().to_vec(), Arc::clone(w.input()))
        } else if let Some(w) = plan.downcast_ref::<BoundedWindowAggExec>() {
            (w.window_expr().to_vec(), Arc::clone(w.input()))
        } else {
            return None;
        };
        // An input already in partition order streams through DataFusion's operator, no sort.
        if let Some(Some(required)) = plan.required_input_ordering().into_iter().next()
            && input
                .equivalence_properties()
                .ordering_satisfy_requirement(required.into_single())
                .unwrap_or(false)
        {
            return None;
        }
        let distribution = plan
            .input_distribution_requirements()
            .into_per_child()
            .into_iter()
            .next()?;
        HashWindowExec::try_new(window_expr, input, distribution, plan.schema())
            .map(|e| Arc::new(e) as Arc<dyn ExecutionPlan>)
    }
}

impl PhysicalOptimizerRule for HashWindowRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match Self::try_replace(&node) {
                Some(replaced) => Transformed::yes(replaced),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "bibflow::HashWindow"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
