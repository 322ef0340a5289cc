//! `favg(x)`: the mean of floating-point values from their exact sum, the same in any order.

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

const NAME: &str = "favg";

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_EXACT,
        "The mean of the values: their exact sum (as `fsum`), rounded once, divided by their \
         number. The same bits whatever the order of the rows, the number of partitions or \
         threads, and the run. Use it instead of `avg` over Float64 values that are not whole \
         numbers (shares, NCS, top-10% scores). NULLs are ignored; no values give NULL. Also a \
         window function, also over sliding frames.",
        "favg(x)",
    )
    .with_sql_example(
        r#"```sql
> SELECT collaboration, favg(ncs) AS mncs FROM work_impact JOIN work_collab USING (work_id)
  GROUP BY collaboration;
> SELECT favg(x) FROM (VALUES (0.1), (0.2), (0.3), (NULL)) t(x);
0.19999999999999998
```"#,
    )
    .with_argument("x", "Float64 (or any numeric type, cast to Float64).")
    .with_related_udf("fsum")
    .build()
});

/// `favg(x)` -> `Float64`: the exact sum of `x` (see [`ExactSum`]), rounded once, divided by the
/// number of non-NULL values.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let df = ctx.sql("SELECT favg(x) FROM (VALUES (1.5), (NULL), (2.5)) t(x)").await?;
/// let batches = df.collect().await?;
/// # use arrow::array::AsArray;
/// assert_eq!(batches[0].column(0).as_primitive::<arrow::datatypes::Float64Type>().value(0), 2.0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Favg {
    signature: Signature,
}

impl Default for Favg {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for Favg {
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
            output: Output::Mean,
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
        Ok(Box::new(Groups::new(NAME, Output::Mean)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}
