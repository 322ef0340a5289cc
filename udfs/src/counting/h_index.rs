//! `h_index(citations)`: the h-index of a set of papers, as an aggregate.

use std::mem::size_of;
use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use crate::doc_sections::DOC_SECTION_COUNTING;

const NAME: &str = "h_index";

static DOCUMENTATION: LazyLock<Documentation> =
    LazyLock::new(|| {
        Documentation::builder(
        DOC_SECTION_COUNTING,
        "The h-index of a set of papers: the largest h such that h of the citation counts are at \
         least h. NULLs are ignored; an empty set has h-index 0. With DISTINCT, equal counts \
         count once.",
        "h_index(citations)",
    )
    .with_sql_example(
        r#"```sql
> SELECT author_id, h_index(cited_by_count) FROM authorships JOIN works USING (work_id)
  GROUP BY author_id;
> SELECT h_index(c) FROM (VALUES (10), (8), (5), (4), (3), (NULL)) t(c);
4
```"#,
    )
    .with_argument("citations", "Int64 (or any integer type): the citation count of each paper.")
    .build()
    });

/// The h-index of `values`: the largest h such that h of them are >= h. Reorders `values`.
///
/// ```
/// assert_eq!(bibflow_udfs::counting::h_index_of(&mut [10, 8, 5, 4, 3]), 4);
/// assert_eq!(bibflow_udfs::counting::h_index_of(&mut [0, 0]), 0);
/// ```
pub fn h_index_of(values: &mut [i64]) -> i64 {
    values.sort_unstable_by(|a, b| b.cmp(a));
    // In descending order, the i-th value (1-based) supports h = i while it is >= i.
    values
        .iter()
        .zip(1i64..)
        .take_while(|&(&v, i)| v >= i)
        .count() as i64
}

fn h_index_distinct(values: &mut Vec<i64>) -> i64 {
    values.sort_unstable_by(|a, b| b.cmp(a));
    values.dedup();
    h_index_of(values)
}

/// `h_index(citations)`: the h-index of the citation counts of a group (an aggregate).
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT h_index(c) AS h FROM (VALUES (10), (8), (5), (4), (3), (NULL)) t(c)";
/// let batches = ctx.sql(sql).await?.collect().await?;
/// let h = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(batches[0].column(0));
/// assert_eq!(h.value(0), 4);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HIndex {
    signature: Signature,
}

impl Default for HIndex {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

fn values_list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true)))
}

impl AggregateUDFImpl for HIndex {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [t] if t.is_integer() || t == &DataType::Null => Ok(vec![DataType::Int64]),
            _ => plan_err!(
                "{NAME}: expected one integer argument (citation counts), got {arg_types:?}"
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(
            format_state_name(args.name, "values"),
            values_list_type(),
            true,
        ))])
    }

    fn accumulator(&self, acc_args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(HIndexAccumulator {
            values: Vec::new(),
            distinct: acc_args.is_distinct,
        }))
    }

    fn groups_accumulator_supported(&self, args: AccumulatorArgs<'_>) -> bool {
        !args.is_distinct
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(HIndexGroupsAccumulator::default()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// Appends the non-NULL values of `array` (an Int64 array) to `out`.
fn extend_non_null(out: &mut Vec<i64>, array: &Int64Array) {
    if array.null_count() == 0 {
        out.extend_from_slice(array.values());
    } else {
        out.extend(array.iter().flatten());
    }
}

fn as_int64(values: &[ArrayRef]) -> Result<&Int64Array> {
    match values
        .first()
        .and_then(|a| a.as_primitive_opt::<Int64Type>())
    {
        Some(a) => Ok(a),
        None => exec_err!("{NAME}: expected one Int64 argument"),
    }
}

fn as_state(states: &[ArrayRef]) -> Result<(&ListArray, &Int64Array)> {
    let Some(list) = states.first().and_then(|a| a.as_list_opt::<i32>()) else {
        return exec_err!("{NAME}: expected a List<Int64> state");
    };
    let Some(values) = list.values().as_primitive_opt::<Int64Type>() else {
        return exec_err!("{NAME}: expected a List<Int64> state");
    };
    Ok((list, values))
}

/// Builds the `List<Int64>` state from per-group value lists.
fn state_list<'a>(groups: impl ExactSizeIterator<Item = &'a [i64]> + Clone) -> ArrayRef {
    let offsets = OffsetBuffer::from_lengths(groups.clone().map(<[i64]>::len));
    let mut values = Vec::with_capacity(offsets.last().map_or(0, |&n| n as usize));
    for g in groups {
        values.extend_from_slice(g);
    }
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int64, true)),
        offsets,
        Arc::new(Int64Array::from(values)),
        None,
    ))
}

/// The per-group accumulator (used without GROUP BY, for DISTINCT and in windows).
#[derive(Debug)]
struct HIndexAccumulator {
    values: Vec<i64>,
    distinct: bool,
}

impl Accumulator for HIndexAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        extend_non_null(&mut self.values, as_int64(values)?);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (list, values) = as_state(states)?;
        for row in 0..list.len() {
            if list.is_null(row) {
                continue;
            }
            let offsets = list.value_offsets();
            let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
            extend_non_null(&mut self.values, &values.slice(start, end - start));
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let list = state_list(std::iter::once(self.values.as_slice()));
        Ok(vec![ScalarValue::List(Arc::new(
            list.as_list::<i32>().clone(),
        ))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let h = if self.distinct {
            h_index_distinct(&mut self.values)
        } else {
            h_index_of(&mut self.values)
        };
        Ok(ScalarValue::Int64(Some(h)))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.values.capacity() * size_of::<i64>()
    }
}

/// The accumulator for GROUP BY: every group's values, sorted only when the group is emitted.
#[derive(Debug, Default)]
struct HIndexGroupsAccumulator {
    groups: Vec<Vec<i64>>,
    /// Values held over all groups, for [`GroupsAccumulator::size`] without a pass over groups.
    held: usize,
}

impl HIndexGroupsAccumulator {
    fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<i64>> {
        let taken = emit_to.take_needed(&mut self.groups);
        self.held -= taken.iter().map(Vec::len).sum::<usize>();
        taken
    }
}

impl GroupsAccumulator for HIndexGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let values = as_int64(values)?;
        self.groups.resize_with(total_num_groups, Vec::new);
        let before = self.held;
        for (row, &g) in group_indices.iter().enumerate() {
            if values.is_null(row) || opt_filter.is_some_and(|f| !f.is_valid(row) || !f.value(row))
            {
                continue;
            }
            self.groups[g].push(values.value(row));
            self.held += 1;
        }
        debug_assert!(self.held >= before);
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        let (list, items) = as_state(values)?;
        self.groups.resize_with(total_num_groups, Vec::new);
        let offsets = list.value_offsets();
        for (row, &g) in group_indices.iter().enumerate() {
            if list.is_null(row) {
                continue;
            }
            let range = offsets[row] as usize..offsets[row + 1] as usize;
            let group = &mut self.groups[g];
            let len_before = group.len();
            if items.null_count() == 0 {
                group.extend_from_slice(&items.values()[range]);
            } else {
                group.extend(range.filter(|&i| items.is_valid(i)).map(|i| items.value(i)));
            }
            self.held += group.len() - len_before;
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        let h: Int64Array = groups
            .into_iter()
            .map(|mut g| Some(h_index_of(&mut g)))
            .collect();
        Ok(Arc::new(h))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        Ok(vec![state_list(groups.iter().map(Vec::as_slice))])
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // Each input row becomes a one-value list (or an empty one when NULL or filtered out).
        let values = as_int64(values)?;
        let keep = |row: usize| {
            values.is_valid(row) && opt_filter.is_none_or(|f| f.is_valid(row) && f.value(row))
        };
        let offsets = OffsetBuffer::from_lengths((0..values.len()).map(|r| usize::from(keep(r))));
        let kept: Int64Array = (0..values.len())
            .filter(|&r| keep(r))
            .map(|r| Some(values.value(r)))
            .collect();
        Ok(vec![Arc::new(ListArray::new(
            Arc::new(Field::new_list_field(DataType::Int64, true)),
            offsets,
            Arc::new(kept),
            None,
        ))])
    }

    fn size(&self) -> usize {
        size_of::<Self>()
            + self.groups.capacity() * size_of::<Vec<i64>>()
            + self.held * size_of::<i64>()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::SessionContext;
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn hand_computed() {
        assert_eq!(h_index_of(&mut []), 0);
        assert_eq!(h_index_of(&mut [0]), 0);
        assert_eq!(h_index_of(&mut [1]), 1);
        assert_eq!(h_index_of(&mut [100]), 1);
        assert_eq!(h_index_of(&mut [3, 0, 6, 1, 5]), 3);
        assert_eq!(h_index_of(&mut [10, 8, 5, 4, 3]), 4);
        assert_eq!(h_index_of(&mut [25, 8, 5, 3, 3]), 3);
        assert_eq!(h_index_of(&mut [4, 4, 4, 4]), 4);
        assert_eq!(h_index_of(&mut [5, 5, 5, 5]), 4);
        assert_eq!(h_index_of(&mut [-3, 2, 2]), 2);
        assert_eq!(h_index_distinct(&mut vec![4, 4, 4, 4, 1]), 1);
        assert_eq!(h_index_distinct(&mut vec![5, 4, 4, 3, 3]), 3);
    }

    fn naive(values: &[i64]) -> i64 {
        (0..=values.len() as i64)
            .rev()
            .find(|&h| values.iter().filter(|&&v| v >= h).count() as i64 >= h)
            .unwrap_or(0)
    }

    proptest! {
        #[test]
        fn matches_the_definition(mut values in prop::collection::vec(-2i64..40, 0..60)) {
            let expected = naive(&values);
            prop_assert_eq!(h_index_of(&mut values), expected);
        }

        #[test]
        fn groups_accumulator_matches_accumulator(
            rows in prop::collection::vec((0usize..4, prop::option::of(0i64..20)), 0..80),
            split in 0usize..80,
        ) {
            let values: ArrayRef = Arc::new(rows.iter().map(|r| r.1).collect::<Int64Array>());
            let groups: Vec<usize> = rows.iter().map(|r| r.0).collect();
            let split = split.min(rows.len());
            // Two partial accumulators over the two halves, merged into a third.
            let mut parts = [HIndexGroupsAccumulator::default(), HIndexGroupsAccumulator::default()];
            parts[0].update_batch(&[values.slice(0, split)], &groups[..split], None, 4).unwrap();
            parts[1]
                .update_batch(&[values.slice(split, rows.len() - split)], &groups[split..], None, 4)
                .unwrap();
            let mut merged = HIndexGroupsAccumulator::default();
            for p in &mut parts {
                let state = p.state(EmitTo::All).unwrap();
                merged.merge_batch(&state, &[0, 1, 2, 3], 4).unwrap();
            }
            prop_assert_eq!(merged.held, rows.iter().filter(|r| r.1.is_some()).count());
            let out = merged.evaluate(EmitTo::All).unwrap();
            let out = out.as_primitive::<Int64Type>();
            for g in 0..4 {
                let vals: Vec<i64> = rows.iter().filter(|r| r.0 == g).filter_map(|r| r.1).collect();
                prop_assert_eq!(out.value(g), naive(&vals));
            }
            prop_assert_eq!(merged.held, 0);
        }
    }

    #[test]
    fn filter_and_convert_to_state() {
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None, Some(7), Some(9)]));
        let filter = BooleanArray::from(vec![Some(true), Some(true), None, Some(true)]);
        let mut acc = HIndexGroupsAccumulator::default();
        acc.update_batch(&[Arc::clone(&values)], &[0, 0, 0, 1], Some(&filter), 2)
            .unwrap();
        // Group 0 keeps 5 (NULL skipped, 7 filtered out); group 1 keeps 9.
        assert_eq!(acc.groups, vec![vec![5], vec![9]]);
        let first = acc.evaluate(EmitTo::First(1)).unwrap();
        assert_eq!(first.as_primitive::<Int64Type>().values(), &[1]);
        assert_eq!(acc.groups, vec![vec![9]]);

        let state = acc.convert_to_state(&[values], Some(&filter)).unwrap();
        let list = state[0].as_list::<i32>();
        let lengths: Vec<i32> = (0..list.len()).map(|i| list.value_length(i)).collect();
        assert_eq!(lengths, [1, 0, 0, 1]);
        let mut merged = HIndexGroupsAccumulator::default();
        merged.merge_batch(&state, &[0, 0, 0, 0], 1).unwrap();
        assert_eq!(merged.groups, vec![vec![5, 9]]);
    }

    #[tokio::test]
    async fn works_with_group_by_and_without() -> Result<()> {
        let ctx = SessionContext::new();
        crate::register_all(&ctx)?;
        ctx.sql(
            "CREATE TABLE p (author VARCHAR, c INT) AS VALUES \
             ('a', 10), ('a', 8), ('a', 5), ('a', 4), ('a', 3), \
             ('b', 25), ('b', 8), ('b', 5), ('b', 3), ('b', 3), \
             ('c', NULL), ('d', 0), ('d', 0)",
        )
        .await?
        .collect()
        .await?;
        let batches = ctx
            .sql("SELECT author, h_index(c) FROM p GROUP BY author ORDER BY author")
            .await?
            .collect()
            .await?;
        let h: Vec<i64> = batches
            .iter()
            .flat_map(|b| b.column(1).as_primitive::<Int64Type>().values().to_vec())
            .collect();
        assert_eq!(h, [4, 3, 0, 0]);
        let batches = ctx
            .sql("SELECT h_index(c), h_index(DISTINCT c), h_index(c) FILTER (WHERE author = 'b') FROM p")
            .await?
            .collect()
            .await?;
        let b = &batches[0];
        // All: 25 10 8 8 5 5 4 3 3 3 0 0 -> h 5; distinct: 25 10 8 5 4 3 0 -> 4; b only: 3.
        let get = |i: usize| b.column(i).as_primitive::<Int64Type>().value(0);
        assert_eq!((get(0), get(1), get(2)), (5, 4, 3));
        Ok(())
    }
}
