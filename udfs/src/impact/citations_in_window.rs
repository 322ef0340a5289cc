//! `citations_in_window(years, counts, pub_year, n)`: citations in a fixed citation window.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use datafusion::arrow::buffer::{NullBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::{check_lengths, coerce_integer, invoke_arrays};
use crate::doc_sections::DOC_SECTION_IMPACT;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "Citations received in the publication year and the n following years (the `fixed:N` \
         citation window; OpenAlex `fwci` and Scopus FWCI use n = 3), summed from a work's \
         per-year counts given as two parallel lists. Build the lists with `array_agg` over \
         `work_citations_by_year` grouped by work_id, with the same ORDER BY in both. A work \
         without any per-year row (NULL lists after a LEFT JOIN) was not cited: 0. NULL when \
         pub_year or n is NULL; n must not be negative. Use `window_complete` to flag works \
         whose window is not yet over, and normalise within reference sets that also share n.",
        "citations_in_window(years, counts, pub_year, n)",
    )
    .with_sql_example(
        r#"```sql
WITH y AS (SELECT work_id,
                  array_agg(year ORDER BY year)           AS years,
                  array_agg(cited_by_count ORDER BY year) AS counts
           FROM work_citations_by_year GROUP BY work_id)
SELECT w.work_id,
       citations_in_window(y.years, y.counts, w.publication_year, 3) AS c3,
       window_complete(w.publication_year, 3, 2024)                  AS c3_complete
FROM works w LEFT JOIN y USING (work_id);
```"#,
    )
    .with_argument("years", "List<Int32>: the years citations were received.")
    .with_argument(
        "counts",
        "List<Int64>: the citations received in each of those years.",
    )
    .with_argument("pub_year", "The publication year.")
    .with_argument(
        "n",
        "The number of years after the publication year in the window (>= 0).",
    )
    .with_related_udf("window_complete")
    .build()
});

/// `citations_in_window(years List<Int32>, counts List<Int64>, pub_year Int32, n Int32)` -> Int64.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::impact::register(&ctx)?;
/// // Published 2018, cited 1, 4, 2, 10 times in 2018, 2019, 2021, 2022: 2018..2021 holds 7.
/// let df = ctx
///     .sql("SELECT citations_in_window([2018, 2019, 2021, 2022], [1, 4, 2, 10], 2018, 3) AS c3")
///     .await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+----+", "| c3 |", "+----+", "| 7  |", "+----+"], &df.collect().await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CitationsInWindow {
    signature: Signature,
}

impl Default for CitationsInWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl CitationsInWindow {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

/// `List<item>` with a nullable item of `dt`, as `array_agg` builds it.
fn list_of(dt: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(dt, true)))
}

fn coerce_list(argument: &str, dt: &DataType, item: DataType) -> Result<DataType> {
    match dt {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
            if f.data_type().is_integer() || f.data_type().is_null() =>
        {
            Ok(list_of(item))
        }
        DataType::Null => Ok(list_of(item)),
        _ => plan_err!(
            "citations_in_window: `{argument}` must be a list of integers (array_agg(...)), got {dt}"
        ),
    }
}

impl ScalarUDFImpl for CitationsInWindow {
    fn name(&self) -> &str {
        "citations_in_window"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [years, counts, pub_year, n] = arg_types else {
            return plan_err!(
                "citations_in_window takes four arguments (years, counts, pub_year, n), got {}",
                arg_types.len()
            );
        };
        Ok(vec![
            coerce_list("years", years, DataType::Int32)?,
            coerce_list("counts", counts, DataType::Int64)?,
            coerce_integer("citations_in_window", "pub_year", pub_year, DataType::Int32)?,
            coerce_integer("citations_in_window", "n", n, DataType::Int32)?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_arrays(&args.args, args.number_rows, window_kernel)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// Sums `counts[j]` over the `j` with `pub_year <= years[j] <= pub_year + n`, row by row.
pub(crate) fn window_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    let len = check_lengths("citations_in_window", args)?;
    let years = args[0].as_list::<i32>();
    let counts = args[1].as_list::<i32>();
    let pub_year = args[2].as_primitive::<Int32Type>();
    let n = args[3].as_primitive::<Int32Type>();
    let year_values = years.values().as_primitive::<Int32Type>();
    let count_values = counts.values().as_primitive::<Int64Type>();
    let (year_offsets, count_offsets) = (years.value_offsets(), counts.value_offsets());
    let inner_nulls = year_values.null_count() + count_values.null_count() > 0;

    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        if pub_year.is_null(i) || n.is_null(i) {
            out.push(0);
            continue;
        }
        let (from, span) = (i64::from(pub_year.value(i)), i64::from(n.value(i)));
        if span < 0 {
            return exec_err!(
                "citations_in_window: the window length n must be >= 0, got {span} (row {i})"
            );
        }
        if years.is_null(i) || counts.is_null(i) {
            out.push(0);
            continue;
        }
        let ys = year_offsets[i] as usize..year_offsets[i + 1] as usize;
        let cs = count_offsets[i] as usize..count_offsets[i + 1] as usize;
        if ys.len() != cs.len() {
            return exec_err!(
                "citations_in_window: `years` has {} entries but `counts` has {} (row {i}); \
                 build both with array_agg in the same query and the same ORDER BY",
                ys.len(),
                cs.len()
            );
        }
        let mut sum = 0i64;
        for (y, c) in ys.zip(cs) {
            if inner_nulls && (year_values.is_null(y) || count_values.is_null(c)) {
                continue;
            }
            let year = i64::from(year_values.value(y));
            if year >= from && year <= from + span {
                sum += count_values.value(c);
            }
        }
        out.push(sum);
    }
    let nulls = NullBuffer::union(pub_year.nulls(), n.nulls());
    Ok(Arc::new(Int64Array::new(ScalarBuffer::from(out), nulls)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{batches, session};

    const SETUP: &str = "CREATE TABLE cby (work_id BIGINT, year INT, cited_by_count BIGINT) AS VALUES \
        (1, 2018, 1), (1, 2019, 4), (1, 2021, 2), (1, 2022, 10), (2, 2020, 3)";

    #[tokio::test]
    async fn sums_the_window_from_per_year_lists() -> Result<()> {
        let ctx = session(SETUP).await?;
        ctx.sql(
            "CREATE TABLE works (work_id BIGINT, publication_year INT) AS VALUES \
             (1, 2018), (2, 2020), (3, 2015), (4, NULL)",
        )
        .await?
        .collect()
        .await?;
        // Work 1, published 2018, n = 3: years 2018..2021 -> 1 + 4 + 2 = 7 (2022 is outside).
        // Work 2, 2020: 3. Work 3 has no per-year rows: 0. Work 4 has no year: NULL.
        let got = batches(
            &ctx,
            "WITH y AS (SELECT work_id, array_agg(year ORDER BY year) AS years, \
                        array_agg(cited_by_count ORDER BY year) AS counts \
                        FROM cby GROUP BY work_id) \
             SELECT w.work_id, citations_in_window(y.years, y.counts, w.publication_year, 3) AS c3 \
             FROM works w LEFT JOIN y USING (work_id) ORDER BY w.work_id",
        )
        .await?;
        datafusion::assert_batches_eq!(
            [
                "+---------+----+",
                "| work_id | c3 |",
                "+---------+----+",
                "| 1       | 7  |",
                "| 2       | 3  |",
                "| 3       | 0  |",
                "| 4       |    |",
                "+---------+----+",
            ],
            &got
        );
        Ok(())
    }

    #[tokio::test]
    async fn window_of_zero_years_and_literal_lists() -> Result<()> {
        let ctx = session("").await?;
        // n = 0: the publication year only. Lists as literals, with a NULL element skipped.
        let got = batches(
            &ctx,
            "SELECT citations_in_window([2019, 2020, NULL], [5, 6, 7], 2019, 0) AS a, \
                    citations_in_window([2019, 2020], [5, 6], 2019, 1) AS b",
        )
        .await?;
        datafusion::assert_batches_eq!(
            [
                "+---+----+",
                "| a | b  |",
                "+---+----+",
                "| 5 | 11 |",
                "+---+----+"
            ],
            &got
        );
        Ok(())
    }

    #[tokio::test]
    async fn rejects_mismatched_lists_and_negative_n() -> Result<()> {
        let ctx = session("").await?;
        for (sql, msg) in [
            (
                "SELECT citations_in_window([2019, 2020], [5], 2019, 1)",
                "has 2 entries",
            ),
            (
                "SELECT citations_in_window([2019], [5], 2019, -1)",
                "must be >= 0",
            ),
            (
                "SELECT citations_in_window(['a'], [5], 2019, 1)",
                "list of integers",
            ),
        ] {
            let err = match ctx.sql(sql).await {
                Ok(df) => df.collect().await.unwrap_err(),
                Err(e) => e,
            };
            assert!(err.to_string().contains(msg), "{sql}: {err}");
        }
        Ok(())
    }
}
