//! `top_share(c, thr)`: a paper's top-x% score against its reference set's threshold.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::buffer::{NullBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::top_threshold::threshold_type;
use crate::args::{check_lengths, coerce_float64, invoke_arrays};
use crate::doc_sections::DOC_SECTION_IMPACT;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "A paper's top-x% score (Waltman & Schreiber 2013): 1 if c > t, frac if c = t, 0 if \
         c < t, where {t, frac} is the threshold `top_threshold(c, x)` computed over the paper's \
         reference set. Over a reference set the scores sum to exactly x times its size. NULL \
         when c or the threshold is NULL. P(top x%) = sum(w * top_share(...)).",
        "top_share(c, thr)",
    )
    .with_sql_example(
        r#"```sql
SELECT work_id,
       top_share(cited_by_count, top_threshold(cited_by_count, 0.10) OVER reference_set)
         AS top10
FROM works WHERE is_citable(type)
WINDOW reference_set AS (PARTITION BY subfield_id, publication_year, type);
```"#,
    )
    .with_argument("c", "The paper's citations (integer or float).")
    .with_argument(
        "thr",
        "The reference set's `top_threshold(c, x)`, a struct {t, frac}.",
    )
    .with_related_udf("top_threshold")
    .build()
});

/// `top_share(c, thr)` -> Float64: 1, `thr.frac` or 0 as c is above, at or below `thr.t`.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::impact::register(&ctx)?;
/// // Five papers 0, 1, 2, 2, 8 and x = 0.2: F(2) = 0.8 >= 0.8, t = 2, frac = 0; 8 scores 1.
/// let df = ctx
///     .sql("WITH w(c) AS (VALUES (0), (1), (2), (2), (8)), \
///                r AS (SELECT top_threshold(c, 0.2) AS thr FROM w) \
///           SELECT c, top_share(c, r.thr) AS s FROM w CROSS JOIN r ORDER BY c")
///     .await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+---+-----+", "| c | s   |", "+---+-----+", "| 0 | 0.0 |", "| 1 | 0.0 |", "| 2 | 0.0 |",
/// #      "| 2 | 0.0 |", "| 8 | 1.0 |", "+---+-----+"],
/// #     &df.collect().await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TopShare {
    signature: Signature,
}

impl Default for TopShare {
    fn default() -> Self {
        Self::new()
    }
}

impl TopShare {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for TopShare {
    fn name(&self) -> &str {
        "top_share"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [c, thr] = arg_types else {
            return plan_err!(
                "top_share takes two arguments (c, thr), got {}",
                arg_types.len()
            );
        };
        let thr_ok = match thr {
            DataType::Struct(fields) => {
                fields.len() == 2
                    && fields[0].name() == "t"
                    && fields[1].name() == "frac"
                    && fields.iter().all(|f| f.data_type().is_numeric())
            }
            DataType::Null => true,
            _ => false,
        };
        if !thr_ok {
            return plan_err!(
                "top_share: `thr` must be the struct {{t, frac}} that top_threshold(c, x) returns, \
                 got {thr}"
            );
        }
        Ok(vec![coerce_float64("top_share", "c", c)?, threshold_type()])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_arrays(&args.args, args.number_rows, top_share_kernel)
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// Scores a Float64 array of counts against a `Struct<t, frac>` array of thresholds.
pub(crate) fn top_share_kernel(args: &[ArrayRef]) -> Result<ArrayRef> {
    let len = check_lengths("top_share", args)?;
    let (c, thr) = (args[0].as_primitive::<Float64Type>(), args[1].as_struct());
    if thr.num_columns() != 2 {
        return exec_err!("top_share: `thr` must be the struct {{t, frac}}");
    }
    let t = thr.column(0).as_primitive::<Float64Type>();
    let frac = thr.column(1).as_primitive::<Float64Type>();
    let nulls = [c.nulls(), thr.nulls(), t.nulls(), frac.nulls()]
        .into_iter()
        .fold(None, |acc: Option<NullBuffer>, n| {
            NullBuffer::union(acc.as_ref(), n)
        });
    let (cv, tv, fv) = (c.values(), t.values(), frac.values());
    let scores: ScalarBuffer<f64> = (0..len)
        .map(|i| {
            let (c, t) = (cv[i], tv[i]);
            if c > t {
                1.0
            } else if c == t {
                fv[i]
            } else {
                0.0
            }
        })
        .collect();
    Ok(Arc::new(Float64Array::new(scores, nulls)))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::impact::top_threshold::threshold;
    use crate::test_util::{assert_near, f64_column, session};

    #[tokio::test]
    async fn scores_the_hand_worked_set() -> Result<()> {
        // The 20 papers of top_threshold's tests with four tied at t = 9:
        // 0 0 0 0 1 1 2 2 3 3 4 5 5 6 8 | 9 9 9 9 | 15. x = 0.1: F(9) = 0.95, f(9) = 0.2,
        // frac = (0.95 - 0.9) / 0.2 = 0.25. Scores: 15 -> 1, each 9 -> 0.25, the rest 0; sum 2.
        let counts = [5, 0, 9, 1, 9, 2, 0, 9, 3, 4, 15, 0, 1, 9, 2, 5, 0, 3, 6, 8];
        let rows: Vec<String> = counts.iter().map(|c| format!("(1, {c})")).collect();
        let ctx = session(&format!(
            "CREATE TABLE w (g INT, c BIGINT) AS VALUES {}, (1, NULL)",
            rows.join(", ")
        ))
        .await?;
        let sql = "WITH r AS (SELECT g, top_threshold(c, 0.1) AS thr FROM w GROUP BY g) \
                   SELECT w.c, top_share(w.c, r.thr) FROM w JOIN r USING (g) \
                   ORDER BY w.c DESC NULLS LAST";
        let got = f64_column(&ctx, sql, 1).await?;
        assert_eq!(got[0], Some(1.0));
        assert_eq!(got[1..5], [Some(0.25); 4]);
        assert!(got[5..20].iter().all(|&s| s == Some(0.0)));
        // A NULL count has no score.
        assert_eq!(got[20], None);
        let sum: f64 = got.iter().flatten().sum();
        assert_near(sum, 2.0);
        Ok(())
    }

    #[tokio::test]
    async fn single_paper_and_literal_threshold() -> Result<()> {
        let ctx = session("CREATE TABLE w (c BIGINT) AS VALUES (3)").await?;
        // One paper: t = 3, frac = (1 - 0.9) / 1 = 0.1: its score is 0.1 = x * n.
        let sql = "SELECT top_share(c, (SELECT top_threshold(c, 0.1) FROM w)) FROM w";
        assert_near(f64_column(&ctx, sql, 0).await?[0].unwrap(), 0.1);
        // A hand-made threshold: t = 2, frac = 0.5.
        let sql = "SELECT top_share(1, named_struct('t', 2, 'frac', 0.5)), \
                          top_share(2, named_struct('t', 2, 'frac', 0.5)), \
                          top_share(3.0, named_struct('t', 2, 'frac', 0.5)), \
                          top_share(NULL, named_struct('t', 2, 'frac', 0.5))";
        let ctx = session("").await?;
        let mut got = Vec::new();
        for col in 0..4 {
            got.push(f64_column(&ctx, sql, col).await?[0]);
        }
        assert_eq!(got, vec![Some(0.0), Some(0.5), Some(1.0), None]);
        Ok(())
    }

    #[tokio::test]
    async fn rejects_other_structs() -> Result<()> {
        let ctx = session("").await?;
        let err = ctx
            .sql("SELECT top_share(1, named_struct('a', 2))")
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("top_threshold(c, x) returns"),
            "{err}"
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn kernel_scores_sum_to_x_n(
            counts in proptest::collection::vec(0u32..30, 1..200),
            x in 0.001f64..0.999,
        ) {
            let values: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
            let (t, frac) = threshold(&mut values.clone(), x).unwrap();
            let n = values.len();
            let thr = datafusion::arrow::array::StructArray::new(
                match threshold_type() { DataType::Struct(f) => f, _ => unreachable!() },
                vec![
                    Arc::new(Float64Array::from(vec![t; n])) as ArrayRef,
                    Arc::new(Float64Array::from(vec![frac; n])) as ArrayRef,
                ],
                None,
            );
            let out = top_share_kernel(&[
                Arc::new(Float64Array::from(values)) as ArrayRef,
                Arc::new(thr) as ArrayRef,
            ]).unwrap();
            let out = out.as_primitive::<Float64Type>();
            prop_assert!(out.values().iter().all(|s| (0.0..=1.0).contains(s)));
            let sum: f64 = out.values().iter().sum();
            prop_assert!((sum - x * n as f64).abs() <= 1e-9, "sum {} want {}", sum, x * n as f64);
        }
    }
}
