//! `window_complete(pub_year, n, data_year)`: whether a fixed citation window is over.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{DOC_SECTION_IMPACT, check_lengths, coerce_integer, invoke_arrays};

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "Whether the citation window `pub_year .. pub_year + n` is complete in data whose last \
         complete year is `data_year`: pub_year + n <= data_year. A paper whose window is not \
         complete is flagged, not dropped (docs/indicators.md). NULL when any argument is NULL.",
        "window_complete(pub_year, n, data_year)",
    )
    .with_sql_example(
        r#"```sql
SELECT work_id, window_complete(publication_year, 3, 2024) AS c3_complete FROM works;
```"#,
    )
    .with_argument("pub_year", "The publication year.")
    .with_argument(
        "n",
        "The number of years after the publication year in the window.",
    )
    .with_argument(
        "data_year",
        "The last year the citation data covers completely.",
    )
    .with_related_udf("citations_in_window")
    .build()
});

/// `window_complete(pub_year, n, data_year)` -> Boolean: `pub_year + n <= data_year`.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::impact::register(&ctx)?;
/// let df = ctx
///     .sql("SELECT window_complete(2021, 3, 2024) AS a, window_complete(2022, 3, 2024) AS b")
///     .await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+------+-------+", "| a    | b     |", "+------+-------+", "| true | false |", "+------+-------+"],
/// #     &df.collect().await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct WindowComplete {
    signature: Signature,
}

impl Default for WindowComplete {
    fn default() -> Self {
        Self::new()
    }
}

impl WindowComplete {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for WindowComplete {
    fn name(&self) -> &str {
        "window_complete"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [pub_year, n, data_year] = arg_types else {
            return plan_err!(
                "window_complete takes three arguments (pub_year, n, data_year), got {}",
                arg_types.len()
            );
        };
        // Int64 so that the sum cannot overflow.
        Ok(vec![
            coerce_integer("window_complete", "pub_year", pub_year, DataType::Int64)?,
            coerce_integer("window_complete", "n", n, DataType::Int64)?,
            coerce_integer("window_complete", "data_year", data_year, DataType::Int64)?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_arrays(&args.args, args.number_rows, complete_kernel)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

fn complete_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    let len = check_lengths("window_complete", args)?;
    let p = args[0].as_primitive::<Int64Type>();
    let n = args[1].as_primitive::<Int64Type>();
    let d = args[2].as_primitive::<Int64Type>();
    let (pv, nv, dv) = (p.values(), n.values(), d.values());
    let values = BooleanBuffer::collect_bool(len, |i| pv[i].saturating_add(nv[i]) <= dv[i]);
    let nulls = NullBuffer::union(NullBuffer::union(p.nulls(), n.nulls()).as_ref(), d.nulls());
    Ok(Arc::new(BooleanArray::new(values, nulls)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::impact::test_util::{batches, session};

    #[tokio::test]
    async fn flags_incomplete_windows() -> Result<()> {
        let ctx =
            session("CREATE TABLE w (y INT) AS VALUES (2020), (2021), (2022), (NULL)").await?;
        // Data complete through 2024, n = 3: 2020 + 3 = 2023 <= 2024 yes; 2021 + 3 = 2024 yes;
        // 2022 + 3 = 2025 no; NULL year: NULL.
        let got = batches(
            &ctx,
            "SELECT y, window_complete(y, 3, 2024) AS ok FROM w ORDER BY y",
        )
        .await?;
        datafusion::assert_batches_eq!(
            [
                "+------+-------+",
                "| y    | ok    |",
                "+------+-------+",
                "| 2020 | true  |",
                "| 2021 | true  |",
                "| 2022 | false |",
                "|      |       |",
                "+------+-------+",
            ],
            &got
        );
        Ok(())
    }
}
