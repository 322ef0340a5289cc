//! [`SelectLiteralRule`]: plans `CASE WHEN p THEN a ELSE b END` over two numeric literals as
//! [`SelectLiteralExpr`] in projections.

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::CaseExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};

use super::select_literal_expr::SelectLiteralExpr;

/// The physical optimizer rule. It runs before DataFusion's `ProjectionPushdown`, which then moves
/// the rewritten projection into the Parquet scan as it would have moved the CASE
/// ([`super::physical_optimizer_rules`] puts it first).
#[derive(Debug, Default)]
pub struct SelectLiteralRule;

impl SelectLiteralRule {
    /// Creates the rule.
    pub fn new() -> Self {
        Self
    }

    /// `expr` with every CASE of the literal form replaced.
    pub fn rewrite_expr(expr: Arc<dyn PhysicalExpr>) -> Result<Transformed<Arc<dyn PhysicalExpr>>> {
        expr.transform_up(|e| {
            Ok(
                match e
                    .downcast_ref::<CaseExpr>()
                    .and_then(SelectLiteralExpr::try_from_case)
                {
                    Some(s) => Transformed::yes(Arc::new(s) as Arc<dyn PhysicalExpr>),
                    None => Transformed::no(e),
                },
            )
        })
    }

    fn try_replace(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let Some(p) = plan.downcast_ref::<ProjectionExec>() else {
            return Ok(None);
        };
        let mut changed = false;
        let mut exprs = Vec::with_capacity(p.expr().len());
        for pe in p.expr() {
            let t = Self::rewrite_expr(Arc::clone(&pe.expr))?;
            changed |= t.transformed;
            exprs.push(ProjectionExpr {
                expr: t.data,
                alias: pe.alias.clone(),
            });
        }
        if !changed {
            return Ok(None);
        }
        Ok(Some(Arc::new(ProjectionExec::try_new(
            exprs,
            Arc::clone(p.input()),
        )?)))
    }
}

impl PhysicalOptimizerRule for SelectLiteralRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            Ok(match Self::try_replace(&node)? {
                Some(replaced) => Transformed::yes(replaced),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "bibflow::SelectLiteral"
    }

    fn schema_check(&self) -> bool {
        true
    }
}
