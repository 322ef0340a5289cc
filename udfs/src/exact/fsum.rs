//! `fsum(x)`: the sum of floating-point values, exact and the same in any order.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::accumulators::Output;
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

exact_aggregate!(
    /// `fsum(x)` -> `Float64`: the exact sum of `x` (see [`ExactSum`](super::ExactSum)), rounded once.
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
    Fsum,
    Output::Sum
);
