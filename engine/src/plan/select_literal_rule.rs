//! [`SelectLiteralRule`]: plans `CASE WHEN p THEN a ELSE b END` over two numeric literals as
//! [`SelectLiteralExpr`], in projections and in aggregate functions' arguments
//! (`sum(CASE WHEN international THEN 1 ELSE 0 END)`).

use std::sync::Arc;

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::CaseExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::aggregates::AggregateExec;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};

use super::select_literal_expr::SelectLiteralExpr;

/// The physical optimizer rule. It runs before DataFusion's `ProjectionPushdown`, which then moves
/// the rewritten projection into the Parquet scan as it would have moved the CASE
/// ([`super::physical_optimizer_rules`] puts it first). In aggregates it rewrites the arguments of
/// every mode alike, so that a partial and its final aggregate keep equal expressions.
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

    /// An aggregate with its functions' arguments rewritten, or `None` when none changed.
    fn try_replace_aggregate(a: &AggregateExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        let mut changed = false;
        let mut functions = Vec::with_capacity(a.aggr_expr().len());
        for f in a.aggr_expr() {
            let mut args = Vec::new();
            let mut arg_changed = false;
            for e in f.expressions() {
                let t = Self::rewrite_expr(e)?;
                arg_changed |= t.transformed;
                args.push(t.data);
            }
            let order_by = f.order_bys().iter().map(|s| Arc::clone(&s.expr)).collect();
            match arg_changed
                .then(|| f.with_new_expressions(args, order_by))
                .flatten()
            {
                Some(new) => {
                    changed = true;
                    functions.push(Arc::new(new));
                }
                None => functions.push(Arc::clone(f)),
            }
        }
        Ok(changed.then(|| Arc::new(a.with_new_aggr_exprs(functions)) as Arc<dyn ExecutionPlan>))
    }

    fn try_replace(plan: &Arc<dyn ExecutionPlan>) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        if let Some(a) = plan.downcast_ref::<AggregateExec>() {
            return Self::try_replace_aggregate(a);
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::physical_plan::displayable;

    /// CASEs of the literal form in aggregate arguments (partial and final aggregates alike) are
    /// planned fast, and the results are DataFusion's.
    #[tokio::test]
    async fn aggregate_arguments_are_rewritten_with_equal_results() {
        let setup = "CREATE TABLE t (k INT, x BIGINT, y TINYINT UNSIGNED) AS VALUES \
                     (1, 1, 3), (1, 3, NULL), (1, NULL, 255), (2, -4, 0), (2, 9007199254740993, 7), \
                     (3, NULL, NULL)";
        let sql = "SELECT k, sum(CAST(x AS DOUBLE)) AS s, avg(CAST(y AS FLOAT)) AS a, \
                          sum(CASE WHEN x > 0 THEN 1 ELSE 0 END) AS p, count(*) AS n, \
                          max(CAST(x AS DOUBLE) / 2) AS m \
                   FROM t GROUP BY k ORDER BY k";
        let (out, plan) = crate::plan::ours_and_plain(setup, sql).await;
        assert_eq!(out[0].num_rows(), 3);
        assert_eq!(out[0], out[1]);

        let mut selects = 0;
        plan.apply(|n| {
            if let Some(a) = n.downcast_ref::<AggregateExec>() {
                for f in a.aggr_expr() {
                    for e in f.expressions() {
                        e.apply(|x| {
                            selects += usize::from(x.is::<SelectLiteralExpr>());
                            Ok(TreeNodeRecursion::Continue)
                        })
                        .unwrap();
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        let shown = displayable(plan.as_ref()).indent(true).to_string();
        // The CASE in sum(...), in the partial and in the final aggregate.
        assert_eq!(selects, 2, "{shown}");
        assert!(
            shown.contains("CASE WHEN"),
            "plans show DataFusion's text:\n{shown}"
        );
    }
}
