//! [`CompactExec`]: copies a batch into buffers of its own when the buffers it shares with other
//! batches make it count for much more memory than it holds.
//!
//! DataFusion counts a batch's memory as the whole capacity of every buffer it points into
//! (`get_record_batch_memory_size`), and a sort reserves that plus the batch's sliced size for
//! each batch it keeps. A final aggregate builds its whole output as one batch and emits it in
//! slices of `batch_size` rows: every slice points into the whole output's buffers, so a sort over
//! it counted each slice at the size of the whole output. On a cluster, where the views' joins are
//! sort-merge joins of hash aggregates, the study at 10^7 works failed when a sort's first slice
//! of `array_agg(descriptor_name)` per work asked for 673 MB (docs/benchmarks.md); when it got
//! it, every later slice asked for as much again, and the sort spilled after each one. A string
//! view column taken by a hash repartition keeps every data buffer of its input batch in each
//! output batch, the same way.
//!
//! This operator sits under every sort ([`crate::plan::compact_rule::CompactBeforeSortRule`]).
//! A batch counted at more than twice the bytes it uses (and more than [`MIN_EXCESS`] above them)
//! is copied, so the sort counts what it holds; other batches pass as they are.

use std::fmt;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayData, ArrayRef, AsArray, BinaryViewArray, RecordBatch, StringViewArray,
    UInt32Array, make_array,
};
use arrow::compute::take;
use arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::utils::memory::get_record_batch_memory_size;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties,
    ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::StreamExt;

/// A batch is copied only when it counts for at least this many bytes more than it uses: 1 MiB.
pub const MIN_EXCESS: usize = 1 << 20;

/// See the [module documentation](self).
#[derive(Debug)]
pub struct CompactExec {
    input: Arc<dyn ExecutionPlan>,
    metrics: ExecutionPlanMetricsSet,
    cache: Arc<PlanProperties>,
}

impl CompactExec {
    /// The operator over `input`: same schema, partitioning and order.
    pub fn new(input: Arc<dyn ExecutionPlan>) -> Self {
        let cache = Arc::clone(input.properties());
        Self {
            input,
            metrics: ExecutionPlanMetricsSet::new(),
            cache,
        }
    }

    /// Its input.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }
}

impl DisplayAs for CompactExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactExec")
    }
}

impl ExecutionPlan for CompactExec {
    fn name(&self) -> &str {
        "CompactExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.cache
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    // Rows keep their order, and the properties (the input's) say so; but `false` here keeps
    // DataFusion's sort pushdown from moving the sort below this operator, which would leave it
    // compacting sorted batches. Ballista runs `EnsureRequirements` again on each stage's plan,
    // and with `true` every sort ended up above its `CompactExec`.
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return datafusion::common::internal_err!(
                "CompactExec takes one child, got {}",
                children.len()
            );
        }
        // Its properties are its input's, taken again.
        Ok(Arc::new(Self::new(children.swap_remove(0))))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let schema = input.schema();
        let baseline = BaselineMetrics::new(&self.metrics, partition);
        let counters = Counters {
            compacted: MetricBuilder::new(&self.metrics).counter("compacted_batches", partition),
            counted: MetricBuilder::new(&self.metrics)
                .counter("compacted_bytes_counted_before", partition),
            after: MetricBuilder::new(&self.metrics)
                .counter("compacted_bytes_counted_after", partition),
        };
        let output = input.map(move |batch| {
            let batch = batch?;
            let _timer = baseline.elapsed_compute().timer();
            let out = match compact_shared(&batch) {
                Some(c) => {
                    counters.compacted.add(1);
                    counters.counted.add(c.counted_before);
                    counters.after.add(get_record_batch_memory_size(&c.batch));
                    c.batch
                }
                None => batch,
            };
            baseline.record_output(out.num_rows());
            Ok(out)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, output)))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

struct Counters {
    compacted: Count,
    counted: Count,
    after: Count,
}

/// A batch [`compact_shared`] copied, with what DataFusion counted it at before.
#[derive(Debug)]
pub struct Compacted {
    /// The copy, in buffers of its own.
    pub batch: RecordBatch,
    /// `get_record_batch_memory_size` of the batch it copied.
    pub counted_before: usize,
}

/// A copy of `batch` in buffers of its own, if DataFusion counts it at more than twice the bytes
/// it uses and at least [`MIN_EXCESS`] more; `None` for a batch counted about right, and for one
/// of a type the copy does not handle (it then stays as it is: counted high, but correct).
pub fn compact_shared(batch: &RecordBatch) -> Option<Compacted> {
    let counted = get_record_batch_memory_size(batch);
    let used = used_bytes(batch)?;
    if counted <= used.saturating_mul(2) || counted - used < MIN_EXCESS {
        return None;
    }
    let copy = deep_copy(batch).ok()?;
    Some(Compacted {
        batch: copy,
        counted_before: counted,
    })
}

/// The bytes `batch` would take in buffers of its own, about; `None` when arrow cannot say.
fn used_bytes(batch: &RecordBatch) -> Option<usize> {
    batch.columns().iter().map(|c| used(c.as_ref())).sum()
}

/// The bytes of `array`'s rows: its sliced buffers, the strings its string views point to, and
/// for a list only the values its rows reach. Arrow's `get_slice_memory_size` counts a list's
/// whole child and leaves out the strings of views; DataFusion's sorts add that figure to the
/// buffers' capacity, so a slice of 8,192 rows of a list of names asked for the whole list twice
/// (673 MB at 10^7 works). Other nested types fall back to arrow's figure, which is high, so
/// such batches are copied less readily.
fn used(array: &dyn Array) -> Option<usize> {
    let nulls = array.nulls().map_or(0, |n| n.len().div_ceil(8));
    Some(match array.data_type() {
        DataType::Utf8View => {
            let a = array.as_string_view();
            a.len() * 16 + a.total_buffer_bytes_used() + nulls
        }
        DataType::BinaryView => {
            let a = array.as_binary_view();
            a.len() * 16 + a.total_buffer_bytes_used() + nulls
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[list.len()] as usize);
            offsets.len() * 4 + nulls + used(list.values().slice(first, last - first).as_ref())?
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>();
            let offsets = list.value_offsets();
            let (first, last) = (offsets[0] as usize, offsets[list.len()] as usize);
            offsets.len() * 8 + nulls + used(list.values().slice(first, last - first).as_ref())?
        }
        DataType::Struct(_) => {
            let mut total = nulls;
            for c in array.as_struct().columns() {
                total += used(c.as_ref())?;
            }
            total
        }
        _ => array.to_data().get_slice_memory_size().ok()?,
    })
}

/// `batch` with every column copied (`take` of all its rows), and the strings of string views,
/// which `take` shares, copied too.
fn deep_copy(batch: &RecordBatch) -> Result<RecordBatch> {
    let rows = u32::try_from(batch.num_rows()).map_err(|_| {
        datafusion::common::DataFusionError::Internal("a batch of 2^32 rows or more".into())
    })?;
    let indices = UInt32Array::from_iter_values(0..rows);
    let columns = batch
        .columns()
        .iter()
        .map(|c| {
            let taken = take(c.as_ref(), &indices, None)?;
            if has_views(taken.data_type()) {
                Ok(make_array(gc_views(taken.to_data())?))
            } else {
                Ok(taken)
            }
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// Whether a column of type `t` holds string or binary views, at any depth.
fn has_views(t: &DataType) -> bool {
    match t {
        DataType::Utf8View | DataType::BinaryView => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => has_views(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| has_views(f.data_type())),
        DataType::Dictionary(_, v) => has_views(v),
        _ => false,
    }
}

/// `data` with the strings of every view array in it copied into buffers holding only them.
fn gc_views(data: ArrayData) -> Result<ArrayData> {
    Ok(match data.data_type() {
        DataType::Utf8View => StringViewArray::from(data).gc().into_data(),
        DataType::BinaryView => BinaryViewArray::from(data).gc().into_data(),
        t if has_views(t) => {
            let children = data
                .child_data()
                .iter()
                .map(|c| gc_views(c.clone()))
                .collect::<Result<Vec<_>>>()?;
            data.into_builder().child_data(children).build()?
        }
        _ => data,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, ListBuilder, StringViewBuilder};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    /// 100,000 rows: a key and a list of three strings of 20 bytes, as an aggregate's output.
    fn aggregate_output() -> RecordBatch {
        let mut names = ListBuilder::new(StringViewBuilder::new());
        for i in 0..100_000 {
            for j in 0..3 {
                names
                    .values()
                    .append_value(format!("descriptor-{i:06}-{j:03}"));
            }
            names.append(true);
        }
        let names = names.finish();
        let schema = Arc::new(Schema::new(vec![
            Field::new("work_id", DataType::Int64, false),
            Field::new("names", names.data_type().clone(), true),
        ]));
        RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values(0..100_000)),
                Arc::new(names),
            ],
        )
        .unwrap()
    }

    #[test]
    fn a_slice_of_a_large_batch_is_copied_and_then_counts_its_own_size() {
        let whole = aggregate_output();
        let slice = whole.slice(8192, 8192);
        let counted = get_record_batch_memory_size(&slice);
        assert_eq!(
            counted,
            get_record_batch_memory_size(&whole),
            "a slice counts the whole"
        );
        // What the slice uses is about its share of the whole (8,192 of 100,000 rows), not the
        // list's whole child (arrow's sliced size) nor its buffers' capacity.
        let share = used_bytes(&slice).unwrap();
        assert!(share * 10 < counted, "{share} of {counted}");
        let c = compact_shared(&slice).expect("copied");
        assert_eq!(c.counted_before, counted);
        assert_eq!(c.batch, slice, "same rows and values");
        let after = get_record_batch_memory_size(&c.batch);
        assert!(after * 5 < counted, "{after} of {counted}");
        // The copy is counted about right: not copied again.
        assert!(compact_shared(&c.batch).is_none());
    }

    #[test]
    fn batches_counted_about_right_pass_as_they_are() {
        let whole = aggregate_output();
        assert!(compact_shared(&whole).is_none());
        // A slice of most of it.
        assert!(compact_shared(&whole.slice(0, 90_000)).is_none());
        // A slice of a small batch: counted high, but by less than MIN_EXCESS.
        let small = compact_shared(&whole.slice(0, 1000)).expect("copied").batch;
        assert!(get_record_batch_memory_size(&small) < MIN_EXCESS);
        assert!(compact_shared(&small.slice(0, 10)).is_none());
    }

    #[test]
    fn string_views_taken_from_a_larger_batch_are_copied() {
        let mut b = StringViewBuilder::new();
        for i in 0..100_000 {
            b.append_value(format!("a title long enough not to be inlined {i}"));
        }
        let strings: ArrayRef = Arc::new(b.finish());
        // What a hash repartition sends one partition: some rows, every data buffer.
        let taken = take(
            strings.as_ref(),
            &UInt32Array::from_iter_values((0..100_000).step_by(10)),
            None,
        )
        .unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new(
            "t",
            DataType::Utf8View,
            false,
        )]));
        let batch = RecordBatch::try_new(schema, vec![taken]).unwrap();
        let c = compact_shared(&batch).expect("copied");
        assert_eq!(c.batch, batch);
        assert!(get_record_batch_memory_size(&c.batch) * 4 < c.counted_before);
    }
}
