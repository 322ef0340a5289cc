//! `top_threshold(c, x)`: the top-x% threshold of a reference set, ties split as in Waltman &
//! Schreiber (2013).

use std::mem::size_of;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, ListArray, StructArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::args::{coerce_float64, literal_arg};
use crate::doc_sections::DOC_SECTION_IMPACT;

/// The type `top_threshold` returns and `top_share` takes: `Struct<t Float64, frac Float64>`.
pub(crate) fn threshold_type() -> DataType {
    DataType::Struct(Fields::from(vec![
        Field::new("t", DataType::Float64, true),
        Field::new("frac", DataType::Float64, true),
    ]))
}

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_IMPACT,
        "The top-x% threshold of a reference set (a GROUP BY group or a window partition), as a struct {t, frac}: t is \
         the smallest citation count v with F(v) >= 1 - x (F(v) = share of the set with c <= v) \
         and frac = (F(t) - (1 - x)) / f(t) (f(t) = share with c = t) is the score of a paper \
         with exactly t citations. Pass it to `top_share` to score each paper; the scores of a \
         set then sum to x times its size. NULL citation counts are ignored (as `avg` does); an \
         empty set gives NULL. Keeps the set's values until the end (8 bytes a paper), selecting \
         t in linear time.",
        "top_threshold(c, x)",
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
    .with_argument("x", "The top share, a constant strictly between 0 and 1 (0.10 for top 10%).")
    .with_related_udf("top_share")
    .build()
});

/// `top_threshold(c, x)` -> `Struct<t Float64, frac Float64>`, an aggregate over a reference set.
///
/// See the module documentation of [`crate::impact`] for the query it belongs in. Five papers
/// 0, 1, 2, 2, 2 and x = 0.5: F(1) = 0.4 < 0.5, F(2) = 1 >= 0.5, so t = 2 and
/// frac = (1 - 0.5) / 0.6 = 5/6; the three 2s score 5/6 each, 2.5 = 0.5 * 5 in all.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::common::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::impact::register(&ctx)?;
/// let df = ctx
///     .sql("SELECT thr['t'] AS t, round(thr['frac'], 4) AS frac FROM \
///           (SELECT top_threshold(c, 0.5) AS thr FROM (VALUES (0), (1), (2), (2), (2)) v(c))")
///     .await?;
/// # datafusion::assert_batches_eq!(
/// #     ["+-----+--------+", "| t   | frac   |", "+-----+--------+", "| 2.0 | 0.8333 |", "+-----+--------+"],
/// #     &df.collect().await?);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TopThreshold {
    signature: Signature,
}

impl Default for TopThreshold {
    fn default() -> Self {
        Self::new()
    }
}

impl TopThreshold {
    /// Creates the function.
    pub fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for TopThreshold {
    fn name(&self) -> &str {
        "top_threshold"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [c, x] = arg_types else {
            return plan_err!(
                "top_threshold takes two arguments (c, x), got {}",
                arg_types.len()
            );
        };
        Ok(vec![
            coerce_float64("top_threshold", "c", c)?,
            coerce_float64("top_threshold", "x", x)?,
        ])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(threshold_type())
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "values"),
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(TopThresholdAccumulator {
            x: top_x(&args)?,
            values: Vec::new(),
        }))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(TopThresholdGroupsAccumulator {
            x: top_x(&args)?,
            groups: Vec::new(),
            value_bytes: 0,
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// Reads and checks the constant `x`.
fn top_x(args: &AccumulatorArgs<'_>) -> Result<f64> {
    let Some(expr) = args.exprs.get(1) else {
        return exec_err!("top_threshold takes two arguments (c, x)");
    };
    let x = match literal_arg("top_threshold", "x", expr)?.cast_to(&DataType::Float64)? {
        ScalarValue::Float64(Some(x)) => x,
        other => return exec_err!("top_threshold: `x` must be a number, got {other}"),
    };
    if !(x > 0.0 && x < 1.0) {
        return exec_err!(
            "top_threshold: `x` must be strictly between 0 and 1 (0.10 for the top 10%), got {x}"
        );
    }
    Ok(x)
}

/// x * n, the number of "top" papers in a set of n. `x` is usually a decimal literal (0.1) that
/// binary floating point cannot hold exactly; an x * n that is an integer up to rounding error is
/// snapped to it, so that one ulp cannot move the threshold to the neighbouring value.
pub(crate) fn top_count(x: f64, n: usize) -> f64 {
    let xn = x * n as f64;
    let r = xn.round();
    if (xn - r).abs() <= 4.0 * f64::EPSILON * xn.max(1.0) {
        r
    } else {
        xn
    }
}

/// The threshold `(t, frac)` of one reference set, or None when it is empty. Reorders `values`.
///
/// With target = x * n, t is the unique value with n_gt(t) <= target < n_ge(t) (n_gt, n_ge: papers
/// with more / at least t citations), which is the definition's "smallest v with
/// F(v) >= 1 - x" rewritten in counts. That is the value at ascending position
/// n - 1 - floor(target), so a selection (linear time) finds it without a sort. Then
/// frac = (F(t) - (1 - x)) / f(t) = (target - n_gt(t)) / k(t), with k(t) the papers at t.
pub(crate) fn threshold(values: &mut [f64], x: f64) -> Option<(f64, f64)> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let target = top_count(x, n);
    // x < 1, so target < n and the position is in range.
    let above = (target.floor() as usize).min(n - 1);
    let (_, t, _) = values.select_nth_unstable_by(n - 1 - above, f64::total_cmp);
    let t = *t;
    let (mut n_gt, mut k) = (0usize, 0usize);
    for &v in values.iter() {
        n_gt += usize::from(v > t);
        k += usize::from(v == t);
    }
    Some((t, (target - n_gt as f64) / k as f64))
}

/// Builds the `Struct<t, frac>` result from per-set thresholds.
fn threshold_array(thresholds: impl ExactSizeIterator<Item = Option<(f64, f64)>>) -> ArrayRef {
    let n = thresholds.len();
    let (mut t, mut frac, mut valid) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for th in thresholds {
        let (tv, fv) = th.unwrap_or_default();
        t.push(tv);
        frac.push(fv);
        valid.push(th.is_some());
    }
    let nulls = NullBuffer::from(valid);
    let nulls = (nulls.null_count() > 0).then_some(nulls);
    let DataType::Struct(fields) = threshold_type() else {
        unreachable!("threshold_type is a struct")
    };
    Arc::new(StructArray::new(
        fields,
        vec![
            Arc::new(Float64Array::new(ScalarBuffer::from(t), nulls.clone())),
            Arc::new(Float64Array::new(ScalarBuffer::from(frac), nulls.clone())),
        ],
        nulls,
    ))
}

/// The state of several sets, as one `List<Float64>` row per set.
fn values_list(groups: &[Vec<f64>]) -> Result<ArrayRef> {
    let total: usize = groups.iter().map(Vec::len).sum();
    if i32::try_from(total).is_err() {
        return exec_err!(
            "top_threshold: {total} values in one partial state exceed the 2^31 a list can hold; \
             use more target partitions"
        );
    }
    let offsets = OffsetBuffer::<i32>::from_lengths(groups.iter().map(Vec::len));
    let mut flat = Vec::with_capacity(total);
    for g in groups {
        flat.extend_from_slice(g);
    }
    Ok(Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Float64, true)),
        offsets,
        Arc::new(Float64Array::from(flat)),
        None,
    )))
}

/// Appends the non-null, non-NaN values of a list row to `out`.
fn extend_from_list_row(list: &ListArray, row: usize, out: &mut Vec<f64>) {
    if list.is_null(row) {
        return;
    }
    let inner = list.values().as_primitive::<Float64Type>();
    let offsets = list.value_offsets();
    let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
    if inner.null_count() == 0 {
        out.extend(inner.values()[start..end].iter().filter(|v| !v.is_nan()));
    } else {
        out.extend(
            (start..end)
                .filter(|&j| inner.is_valid(j))
                .map(|j| inner.value(j))
                .filter(|v| !v.is_nan()),
        );
    }
}

/// Accumulator for one set (no GROUP BY, or a window).
#[derive(Debug)]
struct TopThresholdAccumulator {
    x: f64,
    values: Vec<f64>,
}

impl Accumulator for TopThresholdAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let c = values[0].as_primitive::<Float64Type>();
        if c.null_count() == 0 {
            self.values
                .extend(c.values().iter().filter(|v| !v.is_nan()));
        } else {
            self.values
                .extend(c.iter().flatten().filter(|v| !v.is_nan()));
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let list = states[0].as_list::<i32>();
        for row in 0..list.len() {
            extend_from_list_row(list, row, &mut self.values);
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = values_list(std::slice::from_ref(&self.values))?;
        Ok(vec![ScalarValue::List(Arc::new(
            list.as_list::<i32>().clone(),
        ))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let th = threshold(&mut self.values, self.x);
        ScalarValue::try_from_array(&threshold_array(std::iter::once(th)), 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.values.capacity() * size_of::<f64>()
    }
}

/// Accumulator for many sets at once (GROUP BY): one value vector per set.
#[derive(Debug)]
struct TopThresholdGroupsAccumulator {
    x: f64,
    groups: Vec<Vec<f64>>,
    /// Bytes held by the value vectors, kept up to date because `size` is called per batch.
    value_bytes: usize,
}

impl TopThresholdGroupsAccumulator {
    fn push(&mut self, group: usize, v: f64) {
        if v.is_nan() {
            return;
        }
        let g = &mut self.groups[group];
        let before = g.capacity();
        g.push(v);
        self.value_bytes += (g.capacity() - before) * size_of::<f64>();
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<f64>> {
        let taken = emit_to.take_needed(&mut self.groups);
        let freed: usize = taken.iter().map(|g| g.capacity() * size_of::<f64>()).sum();
        self.value_bytes = self.value_bytes.saturating_sub(freed);
        taken
    }
}

impl GroupsAccumulator for TopThresholdGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let c = values[0].as_primitive::<Float64Type>();
        self.groups.resize_with(total_num_groups, Vec::new);
        let vals = c.values();
        if c.null_count() == 0 && opt_filter.is_none() {
            for (&g, &v) in group_indices.iter().zip(vals.iter()) {
                self.push(g, v);
            }
        } else {
            for (i, (&g, &v)) in group_indices.iter().zip(vals.iter()).enumerate() {
                let kept = c.is_valid(i) && opt_filter.is_none_or(|f| f.is_valid(i) && f.value(i));
                if kept {
                    self.push(g, v);
                }
            }
        }
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let list = values[0].as_list::<i32>();
        self.groups.resize_with(total_num_groups, Vec::new);
        for (row, &g) in group_indices.iter().enumerate() {
            let group = &mut self.groups[g];
            let before = group.capacity();
            extend_from_list_row(list, row, group);
            self.value_bytes += (group.capacity() - before) * size_of::<f64>();
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let x = self.x;
        let mut groups = self.take(emit_to);
        Ok(threshold_array(groups.iter_mut().map(|g| threshold(g, x))))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        Ok(vec![values_list(&groups)?])
    }

    /// Each row as its own set: a one-value list, NULL where c is NULL or filtered out.
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let c = values[0].as_primitive::<Float64Type>();
        let filter_nulls = opt_filter.map(|f| {
            let keep = match f.nulls() {
                Some(n) => f.values() & n.inner(),
                None => f.values().clone(),
            };
            NullBuffer::new(keep)
        });
        let nulls = NullBuffer::union(c.nulls(), filter_nulls.as_ref());
        Ok(vec![Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(DataType::Float64, true)),
            OffsetBuffer::<i32>::from_lengths(std::iter::repeat_n(1, c.len())),
            Arc::new(Float64Array::new(c.values().clone(), None)),
            nulls,
        ))])
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.groups.capacity() * size_of::<Vec<f64>>() + self.value_bytes
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::Float64Array;
    use proptest::prelude::*;

    use super::*;
    use crate::test_util::{assert_near, f64_column, session};

    /// The 20-paper set used across this module's tests, with three papers tied at the threshold.
    ///
    /// Sorted: 0 0 0 0 1 1 2 2 3 3 4 5 5 6 8 | 9 9 9 | 15 30 (n = 20, x = 0.10).
    /// F(8) = 15/20 = 0.75 < 0.9; F(9) = 18/20 = 0.90 >= 0.9, so t = 9.
    /// f(9) = 3/20 = 0.15; frac = (0.90 - 0.90) / 0.15 = 0.
    /// Scores: 15 and 30 get 1, the three 9s get 0: sum 2 = 0.10 * 20.
    pub(crate) const TIES_20: [f64; 20] = [
        5., 0., 9., 1., 30., 2., 0., 9., 3., 4., 15., 0., 1., 9., 2., 5., 0., 3., 6., 8.,
    ];

    /// Same, with the top paper moved down into the tie: 0 0 0 0 1 1 2 2 3 3 4 5 5 6 8 | 9 9 9 9 | 15.
    /// F(8) = 15/20 = 0.75; F(9) = 19/20 = 0.95 >= 0.9 so t = 9, f(9) = 4/20 = 0.2.
    /// frac = (0.95 - 0.90) / 0.20 = 0.25. Scores: 15 -> 1, four 9s -> 0.25 each: sum 2.
    const TIES_20_B: [f64; 20] = [
        5., 0., 9., 1., 9., 2., 0., 9., 3., 4., 15., 0., 1., 9., 2., 5., 0., 3., 6., 8.,
    ];

    #[test]
    fn ties_at_the_threshold() {
        let (t, frac) = threshold(&mut TIES_20.to_vec(), 0.10).unwrap();
        assert_eq!(t, 9.0);
        assert_near(frac, 0.0);
        let (t, frac) = threshold(&mut TIES_20_B.to_vec(), 0.10).unwrap();
        assert_eq!(t, 9.0);
        assert_near(frac, 0.25);
    }

    #[test]
    fn ties_straddling_with_top_quarter() {
        // x = 0.25 on TIES_20: target = 5 papers. F(8) = 0.75 >= 0.75, so t = 8, f(8) = 1/20,
        // frac = (0.75 - 0.75) / 0.05 = 0: the 9s, 15 and 30 (5 papers) get 1.
        let (t, frac) = threshold(&mut TIES_20.to_vec(), 0.25).unwrap();
        assert_eq!((t, frac), (8.0, 0.0));
        // x = 0.2 on TIES_20: target 4. F(8) = 0.75 < 0.8, F(9) = 0.9 >= 0.8: t = 9,
        // frac = (0.9 - 0.8) / 0.15 = 2/3: 15 and 30 get 1, the three 9s 2/3 each: sum 4.
        let (t, frac) = threshold(&mut TIES_20.to_vec(), 0.2).unwrap();
        assert_eq!(t, 9.0);
        assert_near(frac, 2.0 / 3.0);
    }

    #[test]
    fn all_tied_and_single_paper() {
        // Ten uncited papers, x = 0.1: F(0) = 1 >= 0.9, t = 0, frac = (1 - 0.9) / 1 = 0.1 each.
        let (t, frac) = threshold(&mut [0.0; 10], 0.1).unwrap();
        assert_eq!(t, 0.0);
        assert_near(frac, 0.1);
        // One paper with 4 citations: t = 4, frac = (1 - 0.9) / 1 = 0.1.
        let (t, frac) = threshold(&mut [4.0], 0.1).unwrap();
        assert_eq!(t, 4.0);
        assert_near(frac, 0.1);
        assert_eq!(threshold(&mut [], 0.1), None);
    }

    #[test]
    fn decimal_x_is_snapped() {
        assert_eq!(top_count(0.1, 30), 3.0);
        assert_eq!(top_count(0.07, 100), 7.0);
        assert_eq!(top_count(0.25, 3), 0.75);
    }

    #[tokio::test]
    async fn groups_nulls_and_empty_sets() -> Result<()> {
        let values: Vec<String> = TIES_20
            .iter()
            .map(|c| format!("(1, {c})"))
            .chain(["(2, NULL)".into(), "(3, 7)".into(), "(3, NULL)".into()])
            .collect();
        let ctx = session(&format!(
            "CREATE TABLE w (g INT, c BIGINT) AS VALUES {}",
            values.join(", ")
        ))
        .await?;
        let sql = "SELECT thr['t'], thr['frac'] FROM \
                   (SELECT g, top_threshold(c, 0.1) AS thr FROM w GROUP BY g) ORDER BY g";
        // g = 1: the hand-worked TIES_20 (t = 9, frac = 0); g = 2: only NULLs, an empty set, so
        // NULL; g = 3: one paper with 7 (the NULL is ignored): t = 7, frac = (1 - 0.9) / 1 = 0.1.
        let t = f64_column(&ctx, sql, 0).await?;
        let frac = f64_column(&ctx, sql, 1).await?;
        assert_eq!(t, vec![Some(9.0), None, Some(7.0)]);
        assert_eq!(frac[..2], [Some(0.0), None]);
        assert_near(frac[2].unwrap(), 0.1);
        Ok(())
    }

    #[tokio::test]
    async fn without_group_by_and_with_filter() -> Result<()> {
        let ctx = session(
            "CREATE TABLE w (c BIGINT) AS VALUES (0), (0), (0), (0), (0), (0), (0), (0), (0), (5)",
        )
        .await?;
        // Nine 0s and a 5, x = 0.1: F(0) = 9/10 = 0.9 >= 0.9, so t = 0 (not 5) and
        // frac = (0.9 - 0.9) / 0.9 = 0; the 5 is above t and scores 1, the top 10% on its own.
        let sql = "SELECT thr['t'], thr['frac'] FROM (SELECT top_threshold(c, 0.1) AS thr FROM w)";
        assert_eq!(f64_column(&ctx, sql, 0).await?, vec![Some(0.0)]);
        assert_eq!(f64_column(&ctx, sql, 1).await?, vec![Some(0.0)]);
        // FILTER keeps the nine zeros: t = 0, frac = (F(0) - 0.9) / f(0) = (1 - 0.9) / 1 = 0.1.
        let sql = "SELECT thr['frac'] FROM \
                   (SELECT top_threshold(c, 0.1) FILTER (WHERE c = 0) AS thr FROM w)";
        assert_near(f64_column(&ctx, sql, 0).await?[0].unwrap(), 0.1);
        Ok(())
    }

    #[tokio::test]
    async fn invalid_x_is_a_clear_error() -> Result<()> {
        let ctx = session("CREATE TABLE w (c BIGINT, x DOUBLE) AS VALUES (1, 0.1)").await?;
        for (sql, msg) in [
            (
                "SELECT top_threshold(c, 1.5) FROM w",
                "strictly between 0 and 1",
            ),
            (
                "SELECT top_threshold(c, 0) FROM w",
                "strictly between 0 and 1",
            ),
            ("SELECT top_threshold(c, x) FROM w", "must be a constant"),
            ("SELECT top_threshold(c, 'a') FROM w", "must be a number"),
        ] {
            let err = match ctx.sql(sql).await {
                Ok(df) => df.collect().await.unwrap_err(),
                Err(e) => e,
            };
            assert!(err.to_string().contains(msg), "{sql}: {err}");
        }
        Ok(())
    }

    #[test]
    fn groups_accumulator_state_round_trip() -> Result<()> {
        // Two partial accumulators, merged, give the same as one over everything.
        let mut a = TopThresholdGroupsAccumulator {
            x: 0.1,
            groups: vec![],
            value_bytes: 0,
        };
        let mut b = TopThresholdGroupsAccumulator {
            x: 0.1,
            groups: vec![],
            value_bytes: 0,
        };
        let (left, right) = TIES_20_B.split_at(7);
        let arr = |v: &[f64]| Arc::new(Float64Array::from(v.to_vec())) as ArrayRef;
        a.update_batch(&[arr(left)], &vec![0; left.len()], None, 1)?;
        b.update_batch(&[arr(right)], &vec![0; right.len()], None, 1)?;
        let mut merged = TopThresholdGroupsAccumulator {
            x: 0.1,
            groups: vec![],
            value_bytes: 0,
        };
        merged.merge_batch(&a.state(EmitTo::All)?, &[0], 1)?;
        merged.merge_batch(&b.state(EmitTo::All)?, &[0], 1)?;
        assert!(merged.size() >= 20 * size_of::<f64>());
        let out = merged.evaluate(EmitTo::All)?;
        let s = out.as_struct();
        assert_eq!(s.column(0).as_primitive::<Float64Type>().value(0), 9.0);
        assert_near(s.column(1).as_primitive::<Float64Type>().value(0), 0.25);
        Ok(())
    }

    #[test]
    fn convert_to_state_drops_nulls_and_filtered_rows() -> Result<()> {
        // Rows 3, NULL, 9, 9 with the filter keeping all but the last: states [3], NULL, [9], NULL.
        let acc = TopThresholdGroupsAccumulator {
            x: 0.5,
            groups: vec![],
            value_bytes: 0,
        };
        let c = Arc::new(Float64Array::from(vec![
            Some(3.0),
            None,
            Some(9.0),
            Some(9.0),
        ])) as ArrayRef;
        let filter = BooleanArray::from(vec![Some(true), Some(true), Some(true), None]);
        let state = acc.convert_to_state(&[c], Some(&filter))?;
        let list = state[0].as_list::<i32>();
        assert_eq!(list.len(), 4);
        assert_eq!(
            (0..4).map(|i| list.is_valid(i)).collect::<Vec<_>>(),
            [true, false, true, false]
        );
        // Merged into one set {3, 9}, x = 0.5: F(3) = 0.5 >= 0.5, so t = 3 and
        // frac = (0.5 - 0.5) / 0.5 = 0: the 9 scores 1, the 3 scores 0 (sum 1 = 0.5 * 2).
        let mut merged = TopThresholdGroupsAccumulator {
            x: 0.5,
            groups: vec![],
            value_bytes: 0,
        };
        merged.merge_batch(&state, &[0, 0, 0, 0], 1)?;
        let out = merged.evaluate(EmitTo::All)?;
        let s = out.as_struct();
        assert_eq!(s.column(0).as_primitive::<Float64Type>().value(0), 3.0);
        assert_eq!(s.column(1).as_primitive::<Float64Type>().value(0), 0.0);
        Ok(())
    }

    proptest! {
        #[test]
        fn scores_sum_to_x_n(
            counts in proptest::collection::vec(0u32..40, 1..300),
            x in prop::sample::select(vec![0.01, 0.05, 0.1, 0.25, 0.5, 0.9, 0.333]),
        ) {
            let values: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
            let (t, frac) = threshold(&mut values.clone(), x).unwrap();
            prop_assert!((0.0..1.0).contains(&frac), "frac {}", frac);
            let sum: f64 = values
                .iter()
                .map(|&c| if c > t { 1.0 } else if c == t { frac } else { 0.0 })
                .sum();
            let want = x * values.len() as f64;
            prop_assert!((sum - want).abs() <= 1e-9, "sum {} want {}", sum, want);
        }
    }
}
