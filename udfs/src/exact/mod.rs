//! Sums and means of floating-point values that are exact and the same in any order.
//!
//! | SQL                | returns   | instead of            |
//! |--------------------|-----------|-----------------------|
//! | `fsum(x)`          | `Float64` | `sum(x)` over Float64 |
//! | `favg(x)`          | `Float64` | `avg(x)` over Float64 |
//!
//! DataFusion's `sum` and `avg` add Float64 values in the order rows reach each partition, then add
//! the partitions' partial sums in the order they finish: the last digits change with the number of
//! partitions and from run to run. `fsum` and `favg` accumulate into [`ExactSum`], a fixed-point
//! integer over the whole Float64 range, and round once at the end, so the result is the correctly
//! rounded sum whatever the order. The saved queries use them for every sum or mean of values
//! that are not whole numbers (sums of integers, and of integer-valued floats below 2^53, are exact
//! in any order already).

/// The aggregate UDF `$udf` over [`ExactSum`] giving `$output`: the struct, its `Default`, and
/// its `AggregateUDFImpl` (one state field, the exact sum's bytes; a per-group accumulator
/// unless DISTINCT). The calling module names the function in `NAME` and documents it in
/// `DOCUMENTATION`.
macro_rules! exact_aggregate {
    ($(#[$doc:meta])* $udf:ident, $output:expr) => {
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash)]
        pub struct $udf {
            signature: ::datafusion::logical_expr::Signature,
        }

        impl Default for $udf {
            fn default() -> Self {
                Self {
                    signature: ::datafusion::logical_expr::Signature::user_defined(
                        ::datafusion::logical_expr::Volatility::Immutable,
                    ),
                }
            }
        }

        impl ::datafusion::logical_expr::AggregateUDFImpl for $udf {
            fn name(&self) -> &str {
                NAME
            }

            fn signature(&self) -> &::datafusion::logical_expr::Signature {
                &self.signature
            }

            fn coerce_types(
                &self,
                arg_types: &[::arrow::datatypes::DataType],
            ) -> ::datafusion::error::Result<Vec<::arrow::datatypes::DataType>> {
                super::coerce_to_f64(NAME, arg_types)
            }

            fn return_type(
                &self,
                _arg_types: &[::arrow::datatypes::DataType],
            ) -> ::datafusion::error::Result<::arrow::datatypes::DataType> {
                Ok(::arrow::datatypes::DataType::Float64)
            }

            fn state_fields(
                &self,
                args: ::datafusion::logical_expr::function::StateFieldsArgs<'_>,
            ) -> ::datafusion::error::Result<Vec<::arrow::datatypes::FieldRef>> {
                Ok(vec![::std::sync::Arc::new(::arrow::datatypes::Field::new(
                    ::datafusion::logical_expr::utils::format_state_name(args.name, "exact_sum"),
                    ::arrow::datatypes::DataType::Binary,
                    true,
                ))])
            }

            fn accumulator(
                &self,
                _args: ::datafusion::logical_expr::function::AccumulatorArgs<'_>,
            ) -> ::datafusion::error::Result<Box<dyn ::datafusion::logical_expr::Accumulator>> {
                Ok(Box::new(super::accumulators::One {
                    name: NAME,
                    output: $output,
                    sum: super::exact_sum::ExactSum::new(),
                }))
            }

            fn groups_accumulator_supported(
                &self,
                args: ::datafusion::logical_expr::function::AccumulatorArgs<'_>,
            ) -> bool {
                !args.is_distinct
            }

            fn create_groups_accumulator(
                &self,
                _args: ::datafusion::logical_expr::function::AccumulatorArgs<'_>,
            ) -> ::datafusion::error::Result<
                Box<dyn ::datafusion::logical_expr::GroupsAccumulator>,
            > {
                Ok(Box::new(super::accumulators::Groups::new(NAME, $output)))
            }

            fn documentation(&self) -> Option<&::datafusion::logical_expr::Documentation> {
                Some(&DOCUMENTATION)
            }
        }
    };
}

mod accumulators;
pub mod exact_sum;
pub mod favg;
pub mod fsum;

pub use exact_sum::ExactSum;

use arrow::datatypes::DataType;
use datafusion::common::plan_err;
use datafusion::error::Result;

/// One numeric (or NULL) argument, cast to Float64.
fn coerce_to_f64(name: &str, arg_types: &[DataType]) -> Result<Vec<DataType>> {
    match arg_types {
        [t] if t.is_numeric() || t == &DataType::Null => Ok(vec![DataType::Float64]),
        _ => plan_err!("{name}: expected one numeric argument, got {arg_types:?}"),
    }
}

functions! {
    scalar: [],
    aggregate: [fsum::Fsum, favg::Favg],
    window: [],
}

#[cfg(test)]
mod tests {
    use arrow::array::AsArray;
    use arrow::datatypes::Float64Type;
    use datafusion::prelude::{SessionConfig, SessionContext};

    async fn column(ctx: &SessionContext, sql: &str) -> Vec<Option<f64>> {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        batches
            .iter()
            .flat_map(|b| b.column(0).as_primitive::<Float64Type>().iter())
            .collect()
    }

    fn session(partitions: usize) -> SessionContext {
        let config = SessionConfig::new()
            .with_target_partitions(partitions)
            .with_batch_size(7);
        let ctx = SessionContext::new_with_config(config);
        crate::register_all(&ctx).unwrap();
        ctx
    }

    /// Fractions 1/k of many denominators: DataFusion's `sum` of them changes its last bits with
    /// the partitioning, `fsum` does not.
    const VALUES: &str = "(SELECT value % 5 AS g, 1.0 / (value % 97 + 1) AS w, \
                          CASE WHEN value % 11 = 0 THEN NULL ELSE value * 0.37 END AS v \
                          FROM range(20000))";

    #[tokio::test]
    async fn the_same_bits_with_any_partitioning_grouped_global_and_windowed() {
        let queries = [
            format!("SELECT fsum(w) FROM {VALUES} GROUP BY g ORDER BY g"),
            format!("SELECT favg(w) FROM {VALUES} GROUP BY g ORDER BY g"),
            format!("SELECT fsum(v) FROM {VALUES} GROUP BY g ORDER BY g"),
            format!("SELECT fsum(w) FROM {VALUES}"),
            format!("SELECT favg(v) FROM {VALUES}"),
            format!(
                "SELECT DISTINCT fsum(w) OVER (PARTITION BY g) AS s, g FROM {VALUES} ORDER BY g"
            ),
        ];
        for sql in &queries {
            let one = column(&session(1), sql).await;
            for partitions in [2, 3, 8] {
                let other = column(&session(partitions), sql).await;
                let bits = |v: &[Option<f64>]| -> Vec<Option<u64>> {
                    v.iter().map(|x| x.map(f64::to_bits)).collect()
                };
                assert_eq!(
                    bits(&one),
                    bits(&other),
                    "{sql} with {partitions} partitions"
                );
            }
        }
    }

    #[tokio::test]
    async fn nulls_empty_input_and_a_sliding_frame() {
        let ctx = session(2);
        assert_eq!(
            column(
                &ctx,
                "SELECT fsum(x) FROM (VALUES (CAST(NULL AS DOUBLE))) t(x)"
            )
            .await,
            vec![None]
        );
        assert_eq!(
            column(&ctx, "SELECT favg(x) FROM (VALUES (1.0)) t(x) WHERE x > 2").await,
            vec![None]
        );
        assert_eq!(
            column(&ctx, "SELECT fsum(x) FROM (VALUES (1), (2), (NULL)) t(x)").await,
            vec![Some(3.0)]
        );
        let sliding = "SELECT fsum(x) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) \
                       FROM (VALUES (1, 1e100), (2, 1.0), (3, -1e100), (4, 2.0)) t(i, x) ORDER BY i";
        assert_eq!(
            column(&ctx, sliding).await,
            vec![Some(1e100), Some(1e100), Some(-1e100), Some(-1e100)]
        );
        let exact = "SELECT fsum(x) FROM (VALUES (1e100), (1.0), (-1e100)) t(x)";
        assert_eq!(column(&ctx, exact).await, vec![Some(1.0)]);
    }
}
