//! `ham_position_agg(mesh_tree_numbers)`: [`ham_position`](super::HamPosition) as an aggregate over
//! one row per descriptor.

use std::mem::size_of;
use std::sync::{Arc, LazyLock};

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Builder, StructArray, UInt64Array,
};
use arrow::datatypes::{DataType, Field, FieldRef, UInt64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature, Volatility,
};

use super::ham_position::{Counts, groups_of_joined, groups_of_trees, ham_fields, ham_type};
use crate::args::{coerce_string_list, is_string, row_range, str_at};
use crate::doc_sections::DOC_SECTION_CLASSIFY;

const NAME: &str = "ham_position_agg";

/// The names of the three group counts, in the order of the result's fields.
const GROUPS: [&str; 3] = ["human", "animal", "molecular_cellular"];

static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    Documentation::builder(
        DOC_SECTION_CLASSIFY,
        "`ham_position` as an aggregate: the Human / Animal / Molecular-Cellular position of a \
         group of descriptor rows (one paper's, in `GROUP BY work_id`), equal to \
         `ham_position(array_agg(mesh_tree_numbers))` without building the lists. Each row is one \
         descriptor's tree numbers; it counts once for each group any of them falls in (the \
         groups and the shares as in `ham_position`). NULL rows are ignored; all three fields \
         are NULL when no descriptor of the group falls in any group.",
        "ham_position_agg(mesh_tree_numbers)",
    )
    .with_sql_example(
        r#"```sql
> SELECT work_id, ham_position_agg(mesh_tree_numbers(descriptor_ui)) AS ham
  FROM work_mesh GROUP BY work_id;
> SELECT ham_position_agg(t) FROM (VALUES (['M01.060.116']), (['B01.050']), (['B04', 'A11']), (['E05.200'])) v(t);
{human: 0.3333333333333333, animal: 0.3333333333333333, molecular_cellular: 0.3333333333333333}
```"#,
    )
    .with_argument(
        "mesh_tree_numbers",
        "List<Utf8>: one descriptor's tree numbers, as `mesh_tree_numbers(descriptor_ui)` gives; \
         or Utf8 with the tree numbers separated by '|' or ';'.",
    )
    .with_related_udf("ham_position")
    .with_related_udf("mesh_tree_numbers")
    .build()
});

/// `ham_position_agg(mesh_tree_numbers)` -> `Struct<human, animal, molecular_cellular>` (Float64):
/// the aggregate form of [`ham_position`](super::HamPosition), for `GROUP BY work_id` over
/// `work_mesh`. Its state is three counts per group, so a million papers cost three million
/// integers, not a million lists.
///
/// ```
/// # use datafusion::prelude::SessionContext;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> datafusion::error::Result<()> {
/// let ctx = SessionContext::new();
/// bibflow_udfs::register_all(&ctx)?;
/// let sql = "SELECT ham_position_agg(t)['human'] AS h \
///            FROM (VALUES (['M01.060.116']), (['B01.050']), (['B04']), (['B04.280'])) v(t)";
/// let batches = ctx.sql(sql).await?.collect().await?;
/// let h = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(batches[0].column(0));
/// assert_eq!(h.value(0), 0.25);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HamPositionAgg {
    signature: Signature,
}

impl Default for HamPositionAgg {
    fn default() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl AggregateUDFImpl for HamPositionAgg {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let usage = "expected ham_position_agg(mesh_tree_numbers List<Utf8> or Utf8)";
        let [t] = arg_types else {
            return plan_err!("{NAME}: {usage}, got {} arguments", arg_types.len());
        };
        if is_string(t) {
            return Ok(vec![DataType::Utf8]);
        }
        match coerce_string_list(t) {
            Some(c) => Ok(vec![c]),
            None => plan_err!("{NAME}: {usage}; got {t}"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(ham_type())
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(GROUPS
            .iter()
            .map(|g| {
                Arc::new(Field::new(
                    format_state_name(args.name, g),
                    DataType::UInt64,
                    false,
                ))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(HamAccumulator::default()))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(HamGroupsAccumulator::default()))
    }

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
    }
}

/// The group bits of every row of a coerced argument (0 for NULL rows).
fn row_groups(values: &ArrayRef) -> Result<Vec<u8>> {
    if let Some(list) = values.as_list_opt::<i32>() {
        let Some(trees) = list.values().as_string_opt::<i32>() else {
            return exec_err!(
                "{NAME}: expected a list of strings, got {}",
                values.data_type()
            );
        };
        Ok((0..list.len())
            .map(|row| groups_of_trees(row_range(list, row).filter_map(|i| str_at(trees, i))))
            .collect())
    } else if let Some(s) = values.as_string_opt::<i32>() {
        Ok((0..s.len())
            .map(|row| str_at(s, row).map_or(0, groups_of_joined))
            .collect())
    } else {
        exec_err!(
            "{NAME}: expected List<Utf8> or Utf8, got {}",
            values.data_type()
        )
    }
}

/// Whether row `i` passes the aggregate's FILTER clause.
fn kept(filter: Option<&BooleanArray>, i: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(i) && f.value(i))
}

/// The three state columns as `u64` slices.
fn state_columns(states: &[ArrayRef]) -> Result<[&[u64]; 3]> {
    let [h, a, m] = states else {
        return exec_err!("{NAME}: expected 3 state columns, got {}", states.len());
    };
    Ok([h, a, m].map(|c| c.as_primitive::<UInt64Type>().values().as_ref()))
}

/// The result for a run of groups' counts.
fn shares_array<'a>(counts: impl ExactSizeIterator<Item = &'a Counts>) -> Result<ArrayRef> {
    let n = counts.len();
    let mut out: [Float64Builder; 3] = std::array::from_fn(|_| Float64Builder::with_capacity(n));
    for c in counts {
        c.append_to(&mut out);
    }
    let columns: Vec<ArrayRef> = out
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    Ok(Arc::new(StructArray::try_new(ham_fields(), columns, None)?))
}

/// The state columns for a run of groups' counts.
fn state_arrays(counts: &[Counts]) -> Vec<ArrayRef> {
    (0..3)
        .map(|k| Arc::new(counts.iter().map(|c| c.0[k]).collect::<UInt64Array>()) as ArrayRef)
        .collect()
}

/// Accumulator for one group (no GROUP BY).
#[derive(Debug, Default)]
struct HamAccumulator {
    counts: Counts,
}

impl Accumulator for HamAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        for g in row_groups(&values[0])? {
            self.counts.add(g);
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let cols = state_columns(states)?;
        for (k, col) in cols.iter().enumerate() {
            self.counts.0[k] += col.iter().sum::<u64>();
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(self
            .counts
            .0
            .iter()
            .map(|&c| ScalarValue::UInt64(Some(c)))
            .collect())
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        ScalarValue::try_from_array(&shares_array(std::iter::once(&self.counts))?, 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>()
    }
}

/// Accumulator for many groups at once: three counts per group.
#[derive(Debug, Default)]
struct HamGroupsAccumulator {
    counts: Vec<Counts>,
}

impl GroupsAccumulator for HamGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.counts.resize_with(total_num_groups, Counts::default);
        let groups = row_groups(&values[0])?;
        for (i, (&group, &g)) in group_indices.iter().zip(&groups).enumerate() {
            if g != 0 && kept(opt_filter, i) {
                self.counts[group].add(g);
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
        self.counts.resize_with(total_num_groups, Counts::default);
        let cols = state_columns(values)?;
        for (i, &group) in group_indices.iter().enumerate() {
            for (k, col) in cols.iter().enumerate() {
                self.counts[group].0[k] += col[i];
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let counts = emit_to.take_needed(&mut self.counts);
        shares_array(counts.iter())
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let counts = emit_to.take_needed(&mut self.counts);
        Ok(state_arrays(&counts))
    }

    /// Each row as its own group: its descriptor's counts (zero for NULL or filtered rows).
    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let groups = row_groups(&values[0])?;
        let counts: Vec<Counts> = groups
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                let mut c = Counts::default();
                if kept(opt_filter, i) {
                    c.add(g);
                }
                c
            })
            .collect();
        Ok(state_arrays(&counts))
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.counts.capacity() * size_of::<Counts>()
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::Float64Array;
    use arrow::datatypes::Float64Type;
    use datafusion::prelude::SessionContext;

    use super::*;
    use crate::classify::ham_position::HUMANS_TREE;

    async fn rows(sql: &str) -> Vec<(i64, [Option<f64>; 3])> {
        let ctx = SessionContext::new();
        crate::register_all(&ctx).expect("register");
        let batches = ctx.sql(sql).await.expect(sql).collect().await.expect(sql);
        let mut out = Vec::new();
        for b in &batches {
            let ids = b.column(0).as_primitive::<arrow::datatypes::Int64Type>();
            let s = b.column(1).as_struct();
            for i in 0..b.num_rows() {
                out.push((
                    ids.value(i),
                    std::array::from_fn(|c| {
                        let col: &Float64Array = s.column(c).as_primitive::<Float64Type>();
                        (!col.is_null(i)).then(|| col.value(i))
                    }),
                ));
            }
        }
        out.sort_by_key(|r| r.0);
        out
    }

    /// The hand-worked papers of `ham_position`'s test, one row per descriptor: the aggregate
    /// gives the same shares as the scalar over `array_agg`, group by group.
    const PAPERS: &str = "(VALUES
        (1, ['HUMANS']), (1, ['B01.050.150.900.649.313.992.635.505.500']), (1, ['A11.251']),
        (1, ['E02.095.301']),
        (2, ['M01.060.116']), (2, ['M01.060.116.100']),
        (2, ['A11.118.637.555.567', 'A15.145.229.637.555.567']),
        (3, ['M01.643', 'A11.251']), (3, ['B01.050']), (3, ['B04']),
        (4, ['E05.200']), (4, []),
        (5, NULL)) t(work_id, trees)";

    fn papers() -> String {
        PAPERS.replace("HUMANS", HUMANS_TREE)
    }

    #[tokio::test]
    async fn shares_per_group_worked_by_hand() {
        let got = rows(&format!(
            "SELECT work_id, ham_position_agg(trees) FROM {} GROUP BY work_id",
            papers()
        ))
        .await;
        let third = 1.0 / 3.0;
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].1, [Some(third), Some(third), Some(third)]);
        assert_eq!(got[1].1, [Some(2.0 / 3.0), Some(0.0), Some(third)]);
        assert_eq!(got[2].1, [Some(0.25), Some(0.25), Some(0.5)]);
        assert_eq!(got[3].1, [None, None, None]);
        assert_eq!(got[4].1, [None, None, None]);
    }

    #[tokio::test]
    async fn equals_the_scalar_over_array_agg() {
        let agg = rows(&format!(
            "SELECT work_id, ham_position_agg(trees) FROM {} GROUP BY work_id",
            papers()
        ))
        .await;
        let scalar = rows(&format!(
            "SELECT work_id, ham_position(array_agg(trees)) FROM {} GROUP BY work_id",
            papers()
        ))
        .await;
        assert_eq!(agg, scalar);
    }

    #[tokio::test]
    async fn filter_and_no_group_by_and_flat_strings() {
        let got = rows(&format!(
            "SELECT 0::BIGINT, ham_position_agg(trees) FILTER (WHERE work_id <> 3) FROM {}",
            papers()
        ))
        .await;
        // Papers 1, 2, 4, 5: human 1 + 2, animal 1, m/c 1 + 1 = 6 counts.
        assert_eq!(got[0].1, [Some(0.5), Some(1.0 / 6.0), Some(1.0 / 3.0)]);
        let flat = rows(
            "SELECT 0::BIGINT, ham_position_agg(t) FROM (VALUES ('M01.060.116;A11.251'), ('B01.050|E05'), (NULL)) v(t)",
        )
        .await;
        assert_eq!(
            flat[0].1,
            [Some(1.0 / 3.0), Some(1.0 / 3.0), Some(1.0 / 3.0)]
        );
    }

    #[test]
    fn state_round_trip_and_convert_to_state() -> Result<()> {
        let input: ArrayRef = crate::test_util::string_lists(&[
            Some(vec!["M01.060.116"]),
            Some(vec!["B01.050", "A11"]),
            None,
        ]);
        let mut a = HamGroupsAccumulator::default();
        a.update_batch(std::slice::from_ref(&input), &[0, 1, 1], None, 2)?;
        let state = a.state(EmitTo::All)?;
        // Per row, as when DataFusion skips the partial aggregation.
        let rows = a.convert_to_state(std::slice::from_ref(&input), None)?;
        let mut b = HamGroupsAccumulator::default();
        b.merge_batch(&state, &[0, 1], 2)?;
        b.merge_batch(&rows, &[1, 1, 0], 2)?;
        let out = b.evaluate(EmitTo::All)?;
        let s = out.as_struct();
        let share = |c: usize, i: usize| s.column(c).as_primitive::<Float64Type>().value(i);
        // Group 0: human 1 (its state) + nothing (converted row 2 is NULL).
        assert_eq!([share(0, 0), share(1, 0), share(2, 0)], [1.0, 0.0, 0.0]);
        // Group 1: animal 1, m/c 1 (its state) + human 1 and animal 1, m/c 1 (converted rows 0
        // and 1): 1, 2, 2 of 5.
        assert_eq!([share(0, 1), share(1, 1), share(2, 1)], [0.2, 0.4, 0.4]);
        Ok(())
    }
}
