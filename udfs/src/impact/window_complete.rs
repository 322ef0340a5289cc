//! `window_complete(pub_year, n, data_year)`: whether a fixed citation window is over.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, PrimitiveArray};
use datafusion::arrow::buffer::{BooleanBuffer, NullBuffer};
use datafusion::arrow::datatypes::{ArrowPrimitiveType, DataType, Int32Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
    lit,
};

use crate::args::{check_lengths, coerce_integer, invoke_arrays};
use crate::doc_sections::DOC_SECTION_IMPACT;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "Whether the citation window `pub_year .. pub_year + n` is complete in data whose last \
         complete year is `data_year`: pub_year + n <= data_year. A paper whose window is not \
         complete is flagged, not dropped (docs/indicators.md). NULL when any argument is NULL. \
         With constant n and data_year it is planned as `pub_year <= data_year - n`, so that in a \
         WHERE clause Parquet row groups are skipped by their publication-year statistics.",
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
        // Int64 so that the sum cannot overflow; an Int32 year stays Int32 (no cast of the
        // column) for the usual constant n and data_year, compared as `pub_year <= data_year - n`.
        Ok(vec![
            if *pub_year == DataType::Int32 {
                DataType::Int32
            } else {
                coerce_integer("window_complete", "pub_year", pub_year, DataType::Int64)?
            },
            coerce_integer("window_complete", "n", n, DataType::Int64)?,
            coerce_integer("window_complete", "data_year", data_year, DataType::Int64)?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let [
            ColumnarValue::Array(years),
            ColumnarValue::Scalar(n),
            ColumnarValue::Scalar(d),
        ] = args.args.as_slice()
        {
            return Ok(ColumnarValue::Array(constant_window_kernel(years, n, d)?));
        }
        let rows = args.number_rows;
        let mut args = args.args;
        if let Some(year) = args.first_mut() {
            *year = year.cast_to(&DataType::Int64, None)?;
        }
        invoke_arrays(&args, rows, complete_kernel)
    }

    /// With constant `n` and `data_year` the function is the comparison `pub_year <= data_year - n`,
    /// and is planned as that: in a WHERE clause DataFusion then skips Parquet row groups and pages
    /// by the year's statistics. Anything else (NULL constants, a limit outside the year's type,
    /// column arguments) stays a call of this function.
    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [year, Expr::Literal(n, _), Expr::Literal(d, _)] = args.as_slice() else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let (Some(n), Some(d)) = (integer_constant(n)?, integer_constant(d)?) else {
            return Ok(ExprSimplifyResult::Original(args));
        };
        let limit = match info.get_data_type(year) {
            Ok(DataType::Int32) => i32::try_from(d - n).ok().map(ScalarValue::from),
            Ok(DataType::Int64) => i64::try_from(d - n).ok().map(ScalarValue::from),
            _ => None,
        };
        Ok(match limit {
            Some(limit) => ExprSimplifyResult::Simplified(year.clone().lt_eq(lit(limit))),
            None => ExprSimplifyResult::Original(args),
        })
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// An integer constant argument widened to i128 (so that `data_year - n` cannot overflow); None
/// when it is NULL.
fn integer_constant(v: &ScalarValue) -> Result<Option<i128>> {
    Ok(match v.cast_to(&DataType::Int64)? {
        ScalarValue::Int64(v) => v.map(i128::from),
        other => return exec_err!("window_complete: expected an integer, got {other}"),
    })
}

/// `pub_year + n <= data_year` for constant n and data_year: one comparison a row against
/// `data_year - n` (in i128, so nothing overflows), NULL where the year is NULL, all NULL when n or
/// data_year is.
fn constant_window_kernel(
    years: &ArrayRef,
    n: &ScalarValue,
    data_year: &ScalarValue,
) -> Result<ArrayRef> {
    let len = years.len();
    let (Some(n), Some(d)) = (integer_constant(n)?, integer_constant(data_year)?) else {
        return Ok(Arc::new(BooleanArray::new_null(len)));
    };
    let limit = d - n;
    let values = match years.data_type() {
        DataType::Int32 => years_at_most(years.as_primitive::<Int32Type>(), limit),
        DataType::Int64 => years_at_most(years.as_primitive::<Int64Type>(), limit),
        other => return exec_err!("window_complete: unexpected year type {other}"),
    };
    Ok(Arc::new(BooleanArray::new(values, years.nulls().cloned())))
}

/// `year <= limit` for every slot, in the years' own type: a limit outside the type's range makes
/// every year (above it) or none (below it) at most the limit.
fn years_at_most<T>(years: &PrimitiveArray<T>, limit: i128) -> BooleanBuffer
where
    T: ArrowPrimitiveType,
    T::Native: TryFrom<i128> + PartialOrd,
{
    let y = years.values();
    match T::Native::try_from(limit) {
        Ok(limit) => BooleanBuffer::collect_bool(y.len(), |i| y[i] <= limit),
        Err(_) if limit < 0 => BooleanBuffer::new_unset(y.len()),
        Err(_) => BooleanBuffer::new_set(y.len()),
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
    use crate::test_util::{batches, session};

    #[tokio::test]
    async fn constant_and_column_windows_agree() -> Result<()> {
        // The constant-n path (Int32 and Int64 years), the column path, extreme values and NULLs.
        let ctx = session(
            "CREATE TABLE w (y INT, y64 BIGINT, n BIGINT, d BIGINT) AS VALUES \
             (2020, 2020, 3, 2024), (2021, 2021, 3, 2024), (2022, 2022, 3, 2024), \
             (NULL, NULL, 3, 2024), (-2147483648, 9223372036854775807, 3, 2024), \
             (2147483647, -9223372036854775808, 3, 2024)",
        )
        .await?;
        let got = batches(
            &ctx,
            "SELECT count(*) FILTER (WHERE a IS NOT DISTINCT FROM b) AS same32, \
                    count(*) FILTER (WHERE c IS NOT DISTINCT FROM e) AS same64, \
                    count(*) FILTER (WHERE a) AS complete32, count(*) FILTER (WHERE c) AS complete64, \
                    count(*) FILTER (WHERE f IS NULL) AS null_n \
             FROM (SELECT window_complete(y, 3, 2024) AS a, window_complete(y, n, d) AS b, \
                          window_complete(y64, 3, 2024) AS c, window_complete(y64, n, d) AS e, \
                          window_complete(y, NULL, 2024) AS f FROM w)",
        )
        .await?;
        datafusion::assert_batches_eq!(
            [
                "+--------+--------+------------+------------+--------+",
                "| same32 | same64 | complete32 | complete64 | null_n |",
                "+--------+--------+------------+------------+--------+",
                "| 6      | 6      | 3          | 3          | 6      |",
                "+--------+--------+------------+------------+--------+",
            ],
            &got
        );
        // Far past any year: every window complete; far before: none.
        let got = batches(
            &ctx,
            "SELECT count(*) FILTER (WHERE window_complete(y, -9223372036854775807, 9223372036854775807)) AS all_done, \
                    count(*) FILTER (WHERE window_complete(y64, 9223372036854775807, -9223372036854775807)) AS none_done \
             FROM w",
        )
        .await?;
        datafusion::assert_batches_eq!(
            [
                "+----------+-----------+",
                "| all_done | none_done |",
                "+----------+-----------+",
                "| 5        | 0         |",
                "+----------+-----------+",
            ],
            &got
        );
        Ok(())
    }

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

    #[tokio::test]
    async fn constant_windows_filter_parquet_by_statistics() -> Result<()> {
        // Two row groups, one per year range: the filter is planned as `y <= 2021`, so the row
        // group of 2022-2023 is skipped by its statistics and never read.
        let dir =
            std::env::temp_dir().join(format!("bibflow-window-complete-{}", std::process::id()));
        let file = dir.join("w.parquet");
        let ctx = session("").await?;
        batches(
            &ctx,
            &format!(
                "COPY (SELECT CAST(column1 AS INT) AS y FROM (VALUES (2020), (2021), (2022), (2023)) \
                 ORDER BY y) TO '{}' STORED AS PARQUET OPTIONS ('format.max_row_group_size' '2')",
                file.display()
            ),
        )
        .await?;
        ctx.register_parquet("w", file.to_str().unwrap_or_default(), Default::default())
            .await?;
        let sql = "SELECT count(*) AS n FROM w WHERE window_complete(y, 3, 2024)";
        let plan = arrow_text(&batches(&ctx, &format!("EXPLAIN {sql}")).await?)?;
        let analyzed = arrow_text(&batches(&ctx, &format!("EXPLAIN ANALYZE {sql}")).await?)?;
        let got = batches(&ctx, sql).await?;
        std::fs::remove_dir_all(&dir).ok();
        assert!(!plan.contains("window_complete"), "not simplified:\n{plan}");
        assert!(
            plan.contains("pruning_predicate="),
            "no pruning predicate:\n{plan}"
        );
        assert!(
            analyzed.contains("row_groups_pruned_statistics=2 total \u{2192} 1 matched"),
            "no row group skipped:\n{analyzed}"
        );
        datafusion::assert_batches_eq!(["+---+", "| n |", "+---+", "| 2 |", "+---+"], &got);
        Ok(())
    }

    /// The batches as one pretty-printed table.
    fn arrow_text(batches: &[datafusion::arrow::array::RecordBatch]) -> Result<String> {
        Ok(datafusion::arrow::util::pretty::pretty_format_batches(batches)?.to_string())
    }
}
