//! [`SortedJoinRule`]: a join whose two inputs already arrive sorted on its keys is planned as a
//! sort-merge join instead of a partitioned hash join.
//!
//! A partitioned hash join holds its whole build side in memory, and cannot spill: on a corpus of
//! 10^7 works the study's queries, which join per-work views by `work_id`, built hash tables of
//! 300-500 MB each and failed under a 2 GiB limit (docs/benchmarks.md). When both inputs are
//! sorted on the join keys (a dataset sorted by `work_id`, a view computed from it, an ordered
//! aggregate over either), a sort-merge join needs no sort and holds only the rows of the current
//! key: memory no longer grows with the corpus. Joins whose inputs are not both sorted stay hash
//! joins (a join to a small reference table, a join on other keys), as do `CollectLeft` joins,
//! whose build side DataFusion found small.
//!
//! DataFusion's own switch (`datafusion.optimizer.prefer_hash_join = false`) turns every join
//! into a sort-merge join, sorting the inputs that are not sorted: a sort of every work by
//! subfield, say, where a hash join with a small table would do.

use std::sync::Arc;

use arrow::compute::SortOptions;
use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::physical_expr::PhysicalSortExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::joins::{HashJoinExec, PartitionMode, SortMergeJoinExec};
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};

/// The physical optimizer rule. It runs just after DataFusion's `JoinSelection` (which chooses
/// between partitioned and collect-left hash joins) and before `EnsureRequirements`, which then
/// adds the hash repartitioning a sort-merge join asks for, keeping each input's order
/// (`datafusion.optimizer.prefer_existing_sort`, set by the session builder).
#[derive(Debug, Default)]
pub struct SortedJoinRule;

impl SortedJoinRule {
    /// Creates the rule.
    pub fn new() -> Self {
        Self
    }

    /// The sort-merge join that replaces `join`, when both its inputs are sorted on its keys.
    fn try_replace(join: &HashJoinExec) -> Result<Option<Arc<dyn ExecutionPlan>>> {
        // A collect-left join's build side is small; a null-aware anti join (`NOT IN`) needs
        // the hash join; a projection or fetch folded into the join is not carried over.
        if matches!(join.partition_mode(), PartitionMode::CollectLeft)
            || join.null_aware
            || join.contains_projection()
            || join.fetch().is_some()
            || join.on().is_empty()
        {
            return Ok(None);
        }
        let Some(options) = Self::shared_key_order(join)? else {
            return Ok(None);
        };
        let smj = SortMergeJoinExec::try_new(
            Arc::clone(join.left()),
            Arc::clone(join.right()),
            join.on().to_vec(),
            join.filter().cloned(),
            *join.join_type(),
            vec![options; join.on().len()],
            join.null_equality(),
        )?;
        Ok(Some(Arc::new(smj)))
    }

    /// The sort options under which both inputs of `join` are ordered on its keys (in the order
    /// the keys are given), if there are such: ascending first, nulls last or first.
    fn shared_key_order(join: &HashJoinExec) -> Result<Option<SortOptions>> {
        let candidates = [false, true].map(|nulls_first| SortOptions {
            descending: false,
            nulls_first,
        });
        for options in candidates {
            let mut both = true;
            for (side, keys) in [
                (
                    join.left(),
                    join.on().iter().map(|(l, _)| l).collect::<Vec<_>>(),
                ),
                (join.right(), join.on().iter().map(|(_, r)| r).collect()),
            ] {
                let ordering = keys.into_iter().map(|k| PhysicalSortExpr {
                    expr: Arc::clone(k),
                    options,
                });
                if !side.equivalence_properties().ordering_satisfy(ordering)? {
                    both = false;
                    break;
                }
            }
            if both {
                return Ok(Some(options));
            }
        }
        Ok(None)
    }
}

impl PhysicalOptimizerRule for SortedJoinRule {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let replaced = match node.downcast_ref::<HashJoinExec>() {
                Some(join) => Self::try_replace(join)?,
                None => None,
            };
            Ok(match replaced {
                Some(smj) => Transformed::yes(smj),
                None => Transformed::no(node),
            })
        })
        .data()
    }

    fn name(&self) -> &str {
        "SortedJoinRule"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use datafusion::physical_plan::displayable;

    /// Two tables sorted by `k` (declared with `WITH ORDER`), one not.
    const SETUP: &str = "
        CREATE EXTERNAL TABLE a (k BIGINT NOT NULL, x VARCHAR) STORED AS CSV
            WITH ORDER (k ASC NULLS LAST) LOCATION '{dir}/a.csv' OPTIONS ('format.has_header' 'true');
        CREATE EXTERNAL TABLE b (k BIGINT NOT NULL, y BIGINT) STORED AS CSV
            WITH ORDER (k ASC NULLS LAST) LOCATION '{dir}/b.csv' OPTIONS ('format.has_header' 'true');
        CREATE EXTERNAL TABLE c (k BIGINT NOT NULL, y BIGINT) STORED AS CSV
            LOCATION '{dir}/c.csv' OPTIONS ('format.has_header' 'true');";

    async fn session() -> (tempfile::TempDir, datafusion::prelude::SessionContext) {
        let dir = tempfile::tempdir().unwrap();
        let mut a = String::from("k,x\n");
        let mut b = String::from("k,y\n");
        let mut c = String::from("k,y\n");
        for k in 0..200 {
            a.push_str(&format!("{k},a{k}\n"));
            if k % 3 != 0 {
                b.push_str(&format!("{k},{}\n", k * 10));
                b.push_str(&format!("{k},{}\n", k * 10 + 1));
            }
            c.push_str(&format!("{},{}\n", 199 - k, k));
        }
        std::fs::write(dir.path().join("a.csv"), a).unwrap();
        std::fs::write(dir.path().join("b.csv"), b).unwrap();
        std::fs::write(dir.path().join("c.csv"), c).unwrap();
        let config = datafusion::prelude::SessionConfig::new()
            .with_target_partitions(4)
            .set_bool("datafusion.optimizer.prefer_existing_sort", true)
            // Every join partitioned, as on a large corpus (no collect-left for small inputs).
            .set_usize(
                "datafusion.optimizer.hash_join_single_partition_threshold",
                0,
            )
            .set_usize(
                "datafusion.optimizer.hash_join_single_partition_threshold_rows",
                0,
            );
        let state = datafusion::execution::SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rules(super::super::physical_optimizer_rules())
            .build();
        let ctx = datafusion::prelude::SessionContext::new_with_state(state);
        let setup = SETUP.replace("{dir}", &dir.path().to_string_lossy());
        for statement in setup.split(';').filter(|s| !s.trim().is_empty()) {
            ctx.sql(statement).await.unwrap().collect().await.unwrap();
        }
        (dir, ctx)
    }

    async fn plan_and_rows(
        ctx: &datafusion::prelude::SessionContext,
        sql: &str,
    ) -> (String, Vec<String>) {
        let df = ctx.sql(sql).await.unwrap();
        let plan = df.clone().create_physical_plan().await.unwrap();
        let text = displayable(plan.as_ref()).indent(true).to_string();
        let batches = df.collect().await.unwrap();
        let rows = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
            .lines()
            .map(str::to_owned)
            .collect();
        (text, rows)
    }

    #[tokio::test]
    async fn sorted_inputs_join_by_sort_merge_without_a_sort_and_give_the_hash_join_rows() {
        let (_dir, ctx) = session().await;
        for join in ["JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"] {
            let sql = format!(
                "SELECT a.k, x, y FROM a {join} b ON a.k = b.k ORDER BY a.k, y NULLS FIRST, x"
            );
            let (plan, rows) = plan_and_rows(&ctx, &sql).await;
            assert!(plan.contains("SortMergeJoinExec"), "{join}:\n{plan}");
            assert!(!plan.contains("HashJoinExec"), "{join}:\n{plan}");
            // No sort below the join: the only SortExec is the query's ORDER BY, on top.
            let below = plan.split_once("SortMergeJoinExec").unwrap().1;
            assert!(!below.contains("SortExec"), "{join}:\n{plan}");
            // The same query without the rule: DataFusion's hash join.
            let plain = datafusion::prelude::SessionContext::new_with_state(
                datafusion::execution::SessionStateBuilder::new_from_existing(ctx.state())
                    .with_physical_optimizer_rules(
                        datafusion::physical_optimizer::optimizer::PhysicalOptimizer::new().rules,
                    )
                    .build(),
            );
            let (plain_plan, plain_rows) = plan_and_rows(&plain, &sql).await;
            assert!(plain_plan.contains("HashJoinExec"), "{plain_plan}");
            assert_eq!(rows, plain_rows, "{join}");
            assert!(rows.len() > 200, "{join}: {}", rows.len());
        }
    }

    #[tokio::test]
    async fn a_join_with_an_unsorted_input_stays_a_hash_join() {
        let (_dir, ctx) = session().await;
        let (plan, _) = plan_and_rows(&ctx, "SELECT a.k, y FROM a JOIN c ON a.k = c.k").await;
        assert!(plan.contains("HashJoinExec"), "{plan}");
        assert!(!plan.contains("SortMergeJoinExec"), "{plan}");
    }
}
