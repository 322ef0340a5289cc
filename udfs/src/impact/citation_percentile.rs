//! `citation_percentile(c [, style]) OVER (PARTITION BY ...)`: a paper's percentile rank in its
//! reference set.
//!
//! # How `docs/indicators.md` is read
//!
//! - OpenAlex: `(rank_min - 1) / (n + 1)` on ascending c. `rank_min` is SQL's `RANK()`, the lowest
//!   rank of a tie group, so `rank_min - 1` is the number of papers cited less.
//! - InCites: "the share of R with at least `c` citations (ties get the lower value)" is computed
//!   as written, `#{c' >= c} / n`: every paper of a tie group gets the same value, and an uncited
//!   paper gets 1 (InCites' "100 = uncited"). In InCites' direction (lower = better) that is the
//!   value of the group's last position, not of its first; the parenthetical is read as "ties share
//!   one value" rather than as `(#{c' > c} + 1) / n`, which would contradict "at least c".
//! - n counts the papers of the partition with a non-NULL c; NULL counts are not ranked
//!   (a NULL gets NULL).
//!
//! A window function rather than an aggregate joined back, because a percentile needs each paper's
//! position in the whole distribution. The partition is sorted once: O(n log n) per partition, and
//! its values are held in memory while it is evaluated.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use datafusion::arrow::buffer::ScalarBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::{
    Documentation, LimitEffect, PartitionEvaluator, Signature, Volatility, WindowUDFImpl,
};
use datafusion::physical_expr::PhysicalExpr;

use crate::args::{coerce_float64, literal_arg};
use crate::doc_sections::DOC_SECTION_IMPACT;

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "A paper's percentile rank within its window partition (the reference set), in [0, 1]. \
         'openalex' (the default): (rank_min - 1) / (n + 1) on ascending c, i.e. the share of \
         the set cited less, over n + 1; higher is better and ties share the value of their \
         lowest rank. 'incites': the share of the set with at least c citations; lower is better, \
         an uncited paper gets 1, and ties all get the same value. n counts the papers with a \
         non-NULL c; a NULL c gets NULL. The whole partition is sorted once, O(n log n) per \
         partition; any ORDER BY or frame in the OVER clause is ignored.",
        "citation_percentile(c [, style]) OVER (PARTITION BY reference set)",
    )
    .with_sql_example(
        r#"```sql
SELECT work_id,
       citation_percentile(cited_by_count) OVER (PARTITION BY subfield_id, publication_year, type)
         AS pct_openalex,
       citation_percentile(cited_by_count, 'incites')
         OVER (PARTITION BY subfield_id, publication_year, type) AS pct_incites
FROM works WHERE is_citable(type);
```"#,
    )
    .with_argument("c", "The paper's citations (integer or float).")
    .with_argument("style", "'openalex' (default) or 'incites', a constant.")
    .build()
});

/// The percentile conventions `citation_percentile` offers (`docs/indicators.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PercentileStyle {
    /// `(rank_min - 1) / (n + 1)` on ascending c.
    OpenAlex,
    /// Share of the set with at least c citations.
    InCites,
}

impl PercentileStyle {
    /// Parses `'openalex'` or `'incites'` (case-insensitive).
    pub fn parse(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "openalex" => Ok(Self::OpenAlex),
            "incites" => Ok(Self::InCites),
            other => exec_err!(
                "citation_percentile: unknown style '{other}'; use 'openalex' or 'incites'"
            ),
        }
    }
}

/// `citation_percentile(c [, style])` -> Float64 in [0, 1], a window function.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::impact::register(&ctx)?;
/// // Papers 0, 3, 3, 10: OpenAlex (less cited) / (n + 1) = 0, 0.2, 0.2, 0.6;
/// // InCites (share with at least c) = 1, 0.75, 0.75, 0.25.
/// let df = ctx
///     .sql("SELECT c, citation_percentile(c) OVER () AS oa, \
///                  citation_percentile(c, 'incites') OVER () AS ic \
///           FROM (VALUES (0), (3), (3), (10)) v(c) ORDER BY c")
///     .await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+----+-----+------+", "| c  | oa  | ic   |", "+----+-----+------+",
/// #      "| 0  | 0.0 | 1.0  |", "| 3  | 0.2 | 0.75 |", "| 3  | 0.2 | 0.75 |", "| 10 | 0.6 | 0.25 |",
/// #      "+----+-----+------+"],
/// #     &df.collect().await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CitationPercentile {
    signature: Signature,
}

impl Default for CitationPercentile {
    fn default() -> Self {
        Self::new()
    }
}

impl CitationPercentile {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl WindowUDFImpl for CitationPercentile {
    fn name(&self) -> &str {
        "citation_percentile"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [c] => Ok(vec![coerce_float64("citation_percentile", "c", c)?]),
            [c, style]
                if style.is_null()
                    || matches!(
                        style,
                        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                    ) =>
            {
                Ok(vec![
                    coerce_float64("citation_percentile", "c", c)?,
                    DataType::Utf8,
                ])
            }
            [_, style] => plan_err!(
                "citation_percentile: `style` must be the text 'openalex' or 'incites', got {style}"
            ),
            _ => plan_err!(
                "citation_percentile takes one or two arguments (c [, style]), got {}",
                arg_types.len()
            ),
        }
    }

    fn partition_evaluator(
        &self,
        args: PartitionEvaluatorArgs<'_>,
    ) -> Result<Box<dyn PartitionEvaluator>> {
        let style = match args.input_exprs().get(1) {
            None => PercentileStyle::OpenAlex,
            Some(expr) => match literal_arg("citation_percentile", "style", expr)? {
                ScalarValue::Utf8(Some(s))
                | ScalarValue::LargeUtf8(Some(s))
                | ScalarValue::Utf8View(Some(s)) => PercentileStyle::parse(s)?,
                other => {
                    return exec_err!(
                        "citation_percentile: `style` must be 'openalex' or 'incites', got {other}"
                    );
                }
            },
        };
        Ok(Box::new(PercentileEvaluator { style }))
    }

    fn field(&self, field_args: WindowUDFFieldArgs<'_>) -> Result<FieldRef> {
        Ok(Arc::new(Field::new(
            field_args.name(),
            DataType::Float64,
            true,
        )))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }

    fn limit_effect(&self, _args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        LimitEffect::Unknown
    }
}

/// Evaluates a whole partition at once (`evaluate_all`): no frame, no ranks from the planner.
#[derive(Debug)]
struct PercentileEvaluator {
    style: PercentileStyle,
}

impl PartitionEvaluator for PercentileEvaluator {
    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        let c = values[0].as_primitive::<Float64Type>();
        if c.len() != num_rows {
            return exec_err!(
                "citation_percentile: expected {num_rows} values, got {}",
                c.len()
            );
        }
        Ok(Arc::new(percentiles(c, self.style)))
    }
}

/// Percentile of every value in `c` against the non-null values of `c`.
///
/// One sort of (value, row) pairs, then one pass over the tie groups: O(n log n).
pub(crate) fn percentiles(c: &Float64Array, style: PercentileStyle) -> Float64Array {
    let values = c.values();
    let mut sorted: Vec<(f64, usize)> = if c.null_count() == 0 {
        values.iter().copied().zip(0..).collect()
    } else {
        (0..c.len())
            .filter(|&i| c.is_valid(i))
            .map(|i| (values[i], i))
            .collect()
    };
    sorted.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len();
    // Rows with a NULL count keep 0 here and are masked by the null buffer.
    let mut out = vec![0.0; c.len()];
    let mut start = 0;
    while start < n {
        let v = sorted[start].0;
        let end = start + sorted[start..].partition_point(|s| s.0.total_cmp(&v).is_eq());
        // `start` papers are cited less than v; `n - start` have at least v.
        let p = match style {
            PercentileStyle::OpenAlex => start as f64 / (n + 1) as f64,
            PercentileStyle::InCites => (n - start) as f64 / n as f64,
        };
        for &(_, row) in &sorted[start..end] {
            out[row] = p;
        }
        start = end;
    }
    Float64Array::new(ScalarBuffer::from(out), c.nulls().cloned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{assert_near, f64_column, session};

    fn run(c: &[Option<f64>], style: PercentileStyle) -> Vec<Option<f64>> {
        let out = percentiles(&Float64Array::from(c.to_vec()), style);
        (0..out.len())
            .map(|i| out.is_valid(i).then(|| out.value(i)))
            .collect()
    }

    #[test]
    fn openalex_ties_take_the_lowest_rank() {
        // c = 0, 3, 3, 10, NULL: n = 4 (NULL excluded), n + 1 = 5.
        // rank_min: 0 -> 1, 3 -> 2 (both), 10 -> 4. Percentile (rank_min - 1) / 5: 0, 0.2, 0.2, 0.6.
        let got = run(
            &[Some(0.0), Some(3.0), Some(3.0), Some(10.0), None],
            PercentileStyle::OpenAlex,
        );
        assert_eq!(got, vec![Some(0.0), Some(0.2), Some(0.2), Some(0.6), None]);
    }

    #[test]
    fn incites_share_with_at_least_c() {
        // Same set: at least 0 -> 4/4 = 1; at least 3 -> 3/4 = 0.75 (both); at least 10 -> 1/4.
        let got = run(
            &[Some(0.0), Some(3.0), Some(3.0), Some(10.0), None],
            PercentileStyle::InCites,
        );
        assert_eq!(
            got,
            vec![Some(1.0), Some(0.75), Some(0.75), Some(0.25), None]
        );
    }

    #[test]
    fn one_paper_and_all_null() {
        // One paper: OpenAlex (1 - 1) / 2 = 0; InCites 1/1 = 1.
        assert_eq!(
            run(&[Some(5.0)], PercentileStyle::OpenAlex),
            vec![Some(0.0)]
        );
        assert_eq!(run(&[Some(5.0)], PercentileStyle::InCites), vec![Some(1.0)]);
        assert_eq!(
            run(&[None, None], PercentileStyle::InCites),
            vec![None, None]
        );
    }

    #[tokio::test]
    async fn through_sql_per_partition() -> Result<()> {
        let ctx = session(
            "CREATE TABLE w (g INT, c BIGINT) AS VALUES \
             (1, 0), (1, 3), (1, 3), (1, 10), (1, NULL), (2, 7)",
        )
        .await?;
        let sql = "SELECT citation_percentile(c) OVER (PARTITION BY g), \
                          citation_percentile(c, 'InCites') OVER (PARTITION BY g) \
                   FROM w ORDER BY g, c NULLS LAST";
        let openalex = f64_column(&ctx, sql, 0).await?;
        let incites = f64_column(&ctx, sql, 1).await?;
        assert_eq!(
            openalex,
            vec![Some(0.0), Some(0.2), Some(0.2), Some(0.6), None, Some(0.0)]
        );
        assert_eq!(
            incites,
            vec![
                Some(1.0),
                Some(0.75),
                Some(0.75),
                Some(0.25),
                None,
                Some(1.0)
            ]
        );
        Ok(())
    }

    #[tokio::test]
    async fn rejects_unknown_style() -> Result<()> {
        let ctx = session("CREATE TABLE w (c BIGINT) AS VALUES (1)").await?;
        let err = match ctx
            .sql("SELECT citation_percentile(c, 'scopus') OVER () FROM w")
            .await
        {
            Ok(df) => df.collect().await.unwrap_err(),
            Err(e) => e,
        };
        assert!(err.to_string().contains("unknown style 'scopus'"), "{err}");
        Ok(())
    }

    proptest! {
        #[test]
        fn percentiles_within_unit_interval(
            c in proptest::collection::vec(proptest::option::weighted(0.9, 0u32..50), 0..200),
        ) {
            let c: Vec<Option<f64>> = c.into_iter().map(|v| v.map(f64::from)).collect();
            for style in [PercentileStyle::OpenAlex, PercentileStyle::InCites] {
                for (got, want) in run(&c, style).iter().zip(&c) {
                    prop_assert_eq!(got.is_some(), want.is_some());
                    if let Some(p) = got {
                        prop_assert!((0.0..=1.0).contains(p), "{:?} gave {}", style, p);
                    }
                }
            }
        }

        #[test]
        fn openalex_is_monotone(mut c in proptest::collection::vec(0u32..50, 1..100)) {
            c.sort_unstable();
            let c: Vec<Option<f64>> = c.into_iter().map(|v| Some(f64::from(v))).collect();
            let got = run(&c, PercentileStyle::OpenAlex);
            prop_assert!(got.windows(2).all(|w| w[0] <= w[1]));
            assert_near(got[0].unwrap(), 0.0);
        }
    }
}
