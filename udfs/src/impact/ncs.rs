//! `ncs(c, e)`: a paper's normalised citation score.

use std::sync::LazyLock;

use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::compute::binary;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use crate::args::{coerce_float64, invoke_arrays};
use crate::doc_sections::DOC_SECTION_IMPACT;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "A paper's normalised citation score NCS = c / e, with e the mean citations of its \
         reference set (field x publication year x document type). NCS is 1 when e = 0 (CWTS \
         convention) and NULL when c or e is NULL. Compute e as a window, `avg(c) OVER (PARTITION \
         BY the reference set)` (bibflow's sessions compute windows over PARTITION BY only by \
         hashing, no sort, but hold the rows in memory), or with a GROUP BY joined back (which \
         streams, for inputs larger than memory). Only citable types are normalised (see \
         `is_citable`).",
        "ncs(c, e)",
    )
    .with_sql_example(
        r#"```sql
SELECT work_id,
       ncs(cited_by_count, avg(cited_by_count) OVER reference_set) AS ncs
FROM works WHERE is_citable(type)
WINDOW reference_set AS (PARTITION BY subfield_id, publication_year, type);
```"#,
    )
    .with_argument("c", "The paper's citations (integer or float).")
    .with_argument("e", "The mean citations of the paper's reference set.")
    .with_related_udf("top_share")
    .build()
});

/// `ncs(c, e)` -> Float64: c / e, 1.0 when e = 0, NULL when either is NULL.
///
/// ```
/// # use bibflow_udfs::impact::ncs::Ncs;
/// # use datafusion::logical_expr::ScalarUDF;
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// ctx.register_udf(ScalarUDF::from(Ncs::new()));
/// let df = ctx.sql("SELECT ncs(6, 4.0) AS a, ncs(0, 0.0) AS b").await?;
/// # let batches = df.collect().await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+-----+-----+", "| a   | b   |", "+-----+-----+", "| 1.5 | 1.0 |", "+-----+-----+"],
/// #     &batches);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Ncs {
    signature: Signature,
}

impl Default for Ncs {
    fn default() -> Self {
        Self::new()
    }
}

impl Ncs {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for Ncs {
    fn name(&self) -> &str {
        "ncs"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [c, e] = arg_types else {
            return plan_err!("ncs takes two arguments (c, e), got {}", arg_types.len());
        };
        Ok(vec![
            coerce_float64("ncs", "c", c)?,
            coerce_float64("ncs", "e", e)?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        invoke_arrays(&args.args, args.number_rows, |a| ncs_kernel(&a[0], &a[1]))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// c / e over two Float64 arrays; 1 where e = 0; NULL where either is NULL.
pub(crate) fn ncs_kernel(c: &ArrayRef, e: &ArrayRef) -> Result<ArrayRef> {
    let out = binary::<_, _, _, Float64Type>(
        c.as_primitive::<Float64Type>(),
        e.as_primitive::<Float64Type>(),
        |c, e| if e == 0.0 { 1.0 } else { c / e },
    )?;
    Ok(std::sync::Arc::new(out))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, Float64Array};
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{assert_near, f64_column, session};

    fn run(c: Vec<Option<f64>>, e: Vec<Option<f64>>) -> Vec<Option<f64>> {
        let out = ncs_kernel(
            &(Arc::new(Float64Array::from(c)) as ArrayRef),
            &(Arc::new(Float64Array::from(e)) as ArrayRef),
        )
        .unwrap();
        let out = out.as_primitive::<Float64Type>();
        (0..out.len())
            .map(|i| out.is_valid(i).then(|| out.value(i)))
            .collect()
    }

    #[test]
    fn divides_by_the_mean() {
        // Reference set {0, 2, 10}: e = 12 / 3 = 4, so NCS = 0, 0.5, 2.5 (mean 1).
        let got = run(vec![Some(0.0), Some(2.0), Some(10.0)], vec![Some(4.0); 3]);
        assert_eq!(got, vec![Some(0.0), Some(0.5), Some(2.5)]);
    }

    #[test]
    fn mean_zero_gives_one() {
        // A reference set where nobody is cited: e = 0, and every NCS is 1 (CWTS).
        assert_eq!(
            run(vec![Some(0.0); 2], vec![Some(0.0); 2]),
            vec![Some(1.0); 2]
        );
    }

    #[test]
    fn nulls_propagate() {
        let got = run(vec![None, Some(3.0), None], vec![Some(1.0), None, None]);
        assert_eq!(got, vec![None, None, None]);
    }

    #[test]
    fn reference_set_of_one() {
        // One paper with 7 citations: e = 7, NCS = 1.
        assert_eq!(run(vec![Some(7.0)], vec![Some(7.0)]), vec![Some(1.0)]);
    }

    #[tokio::test]
    async fn through_sql_with_integers_and_scalars() -> Result<()> {
        let ctx = session(
            "CREATE TABLE w (g INT, c BIGINT) AS VALUES (1, 0), (1, 2), (1, 10), (2, 0), (2, NULL)",
        )
        .await?;
        let sql = "WITH r AS (SELECT g, avg(c) AS e FROM w GROUP BY g) \
                   SELECT ncs(w.c, r.e) FROM w JOIN r USING (g) ORDER BY g, c";
        // g = 1: e = 4 -> 0, 0.5, 2.5; g = 2: e = avg(0) = 0 -> 1, and NULL c -> NULL.
        let got = f64_column(&ctx, sql, 0).await?;
        assert_eq!(got, vec![Some(0.0), Some(0.5), Some(2.5), Some(1.0), None]);
        let got = f64_column(&ctx, "SELECT ncs(3, 2)", 0).await?;
        assert_near(got[0].unwrap(), 1.5);
        Ok(())
    }

    #[tokio::test]
    async fn rejects_text() -> Result<()> {
        let ctx = session("").await?;
        let err = ctx.sql("SELECT ncs('a', 1.0)").await.unwrap_err();
        assert!(err.to_string().contains("`c` must be a number"), "{err}");
        Ok(())
    }

    proptest! {
        #[test]
        fn mean_ncs_is_one(counts in proptest::collection::vec(0u32..500, 1..200)) {
            let n = counts.len() as f64;
            let e = counts.iter().map(|&c| f64::from(c)).sum::<f64>() / n;
            prop_assume!(e > 0.0);
            let got = run(
                counts.iter().map(|&c| Some(f64::from(c))).collect(),
                vec![Some(e); counts.len()],
            );
            let mean = got.iter().map(|v| v.unwrap()).sum::<f64>() / n;
            prop_assert!((mean - 1.0).abs() <= 1e-9, "mean NCS {}", mean);
        }
    }
}
