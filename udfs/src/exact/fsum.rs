//! `fsum(x)`: the sum of floating-point values, exact and the same in any order.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, GroupsAccumulator, Signature, Volatility,
};

use super::accumulators::{Groups, One, Output};
use super::coerce_to_f64;
use super::exact_sum::ExactSum;
use crate::doc_sections::DOC_SECTION_EXACT;

const NAME: &str = "fsum";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_EXACT,
        "The sum of the values, computed exactly and rounded once to the nearest Float64: the same \
         bits whatever the order of the rows, the number of partitions or threads, and the run. \
         Use it instead of `sum` over Float64 values (fractional weights, NCS, shares), whose last \
         digits depend on the order in which partial sums are added. NULLs are ignored; no values \
         give NULL. NaN gives NaN, as do +Inf and -Inf together. Also a window function, also over \
         sliding frames (values leave the sum exactly).",
        "fsum(x)",
    )
    .with_sql_example(
        r#"```sql
> SELECT country, fsum(author_weight) AS papers FROM work_country GROUP BY country;
> SELECT fsum(x) FROM (VALUES (1e100), (1.0), (-1e100)) t(x);
1.0
```"#,
    )
    .with_argument("x", "Float64 (or any numeric type, cast to Float64).")
    .with_related_udf("favg")
    .build()
});

/// `fsum(x)` -> `Float64`: the exact sum of `x` (see [`ExactSum`]), rounded once.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let df = ctx.sql("SELECT fsum(x) FROM (VALUES (0.1), (0.2), (0.3)) t(x)").await?;
/// let batches = df.collect().await?;
/// # use arrow::array::AsArray;
/// // A plain sum gives 0.6000000000000001; the exact sum rounds 0.600000000000000033... once.
/// assert_eq!(batches[0].column(0).as_primitive::<arrow::datatypes::Float64Type>().value(0), 0.6);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Fsum {
    signature: Signature,
}

impl Default for Fsum {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Fsum {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        coerce_to_f64(NAME, arg_types)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "exact_sum"),
            DataType::Binary,
            true,
        ))])
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(One {
            name: NAME,
            output: Output::Sum,
            sum: ExactSum::new(),
        }))
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs<'_>) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(Groups::new(NAME, Output::Sum)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}
