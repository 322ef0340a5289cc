//! `favg(x)`: the mean of floating-point values from their exact sum, the same in any order.

use std::sync::LazyLock;

use datafusion::logical_expr::Documentation;

use super::accumulators::Output;
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

exact_aggregate!(
    /// `favg(x)` -> `Float64`: the exact sum of `x` (see [`ExactSum`](super::ExactSum)), rounded once, divided by the
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
    Favg,
    Output::Mean
);
