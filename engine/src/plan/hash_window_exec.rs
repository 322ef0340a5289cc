//! [`HashWindowExec`]: window functions over `PARTITION BY` only, computed by hashing the partition
//! keys instead of sorting the input by them.
//!
//! A window with a `PARTITION BY` and no `ORDER BY` (`avg(c) OVER (PARTITION BY field, year,
//! type)`, `citation_percentile(c) OVER (PARTITION BY ...)`) needs each row's partition, not any
//! order. DataFusion's window operators nevertheless require their input sorted by the partition
//! keys, and at corpus scale that sort is most of the query's time. This operator assigns each
//! row a group id with DataFusion's own hash group table ([`GroupValues`], as `GROUP BY` does) and
//! then:
//!
//! - feeds plain aggregates (`avg`, `sum`, `count`, `min`, `max`, any aggregate UDF) to their
//!   [`GroupsAccumulator`] batch by batch and gathers the per-group result back to each row;
//! - for window functions that read the whole partition at once (`evaluate_all`: bibflow's
//!   `citation_percentile`, `row_number` without `ORDER BY`, ...) and for aggregates without a
//!   groups accumulator, puts the rows in group order with one counting sort (stable: within a
//!   partition, rows keep their input order), evaluates each partition's slice and scatters the
//!   results back.
//!
//! Rows come out in the order they came in, with the window columns appended, exactly the schema of
//! the window operator it replaces. The input is buffered (as DataFusion's `WindowAggExec` buffers
//! it) and accounted to the memory pool. When the pool refuses more memory (`--memory-limit`), the
//! partition falls back to DataFusion's own plan, a sort by the partition keys (which spills to
//! disk) and `WindowAggExec`, fed with the rows buffered so far followed by the rest of the input:
//! slower, but the query completes wherever the sorted plan would.
//!
//! Floating-point keys are partitioned as DataFusion's sort-based window partitions them, by
//! their bits (IEEE total order: `-0.0` and `0.0` are two partitions, as are NaNs with different
//! bits), not as `GROUP BY` groups them (one group for `-0.0` and `0.0`): the hash is taken over the
//! keys' bit patterns ([`total_order_key`]), so this operator, its fallback and `--sort-windows`
//! give the same partitions (docs/reliability.md).
//!
//! [`GroupValues`]: datafusion::physical_plan::aggregates::group_values::GroupValues

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, AsArray, PrimitiveArray, RecordBatch, UInt32Array};
use arrow::compute::{concat, take};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Float16Type, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Schema, SchemaRef,
};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator, PartitionEvaluator};
use datafusion::physical_expr::window::{PlainAggregateWindowExpr, StandardWindowExpr};
use datafusion::physical_expr::{
    EquivalenceProperties, LexOrdering, Partitioning, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::aggregates::group_values::{GroupValues, new_group_values};
use datafusion::physical_plan::aggregates::order::GroupOrdering;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{
    BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet,
};
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::windows::WindowAggExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, Distribution, ExecutionPlan, ExecutionPlanProperties,
    InputDistributionRequirements, PlanProperties, ReplaceChildrenOptions,
    SendableRecordBatchStream, WindowExpr,
};
use futures::{StreamExt, TryStreamExt, stream};

/// How one window expression is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashWindowKind {
    /// A plain aggregate over the whole partition, with a groups accumulator: streamed.
    GroupsAccumulator,
    /// A plain aggregate over the whole partition without one: one accumulator per partition.
    Accumulator,
    /// A window function evaluated on the whole partition at once (`evaluate_all`).
    EvaluateAll,
}

/// Classifies a window expression, or `None` when it needs an order or a frame (and so stays with
/// DataFusion's sort-based operators).
pub fn hash_window_kind(expr: &Arc<dyn WindowExpr>) -> Option<HashWindowKind> {
    if !expr.order_by().is_empty() {
        return None;
    }
    let any = expr.as_any();
    if let Some(agg) = any.downcast_ref::<PlainAggregateWindowExpr>() {
        let frame = expr.get_window_frame();
        let whole_partition = matches!(
            &frame.start_bound,
            datafusion::logical_expr::WindowFrameBound::Preceding(v) if v.is_null()
        ) && matches!(
            &frame.end_bound,
            datafusion::logical_expr::WindowFrameBound::Following(v) if v.is_null()
        );
        let aggregate = agg.get_aggregate_expr();
        // DataFusion does not export `AggregateWindowExpr::filter_expr`; the derived Debug of the
        // window expression is the one public view of a FILTER clause, its last field (so an
        // argument's own Debug text cannot be mistaken for it). If the format changes, every
        // aggregate falls back to DataFusion's operators (safe), and the tests that assert this
        // operator is chosen fail.
        let no_filter = format!("{agg:?}").ends_with("filter: None }");
        if !whole_partition || aggregate.is_distinct() || aggregate.ignore_nulls() || !no_filter {
            return None;
        }
        return Some(if aggregate.groups_accumulator_supported() {
            HashWindowKind::GroupsAccumulator
        } else {
            HashWindowKind::Accumulator
        });
    }
    if let Some(standard) = any.downcast_ref::<StandardWindowExpr>() {
        let evaluator = standard.get_standard_func_expr().create_evaluator().ok()?;
        if evaluator.uses_window_frame() || evaluator.include_rank() {
            return None;
        }
        return Some(HashWindowKind::EvaluateAll);
    }
    None
}

/// Window functions over `PARTITION BY` only, by hashing (see the module documentation).
#[derive(Debug)]
pub struct HashWindowExec {
    input: Arc<dyn ExecutionPlan>,
    window_expr: Vec<Arc<dyn WindowExpr>>,
    kinds: Vec<HashWindowKind>,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    /// What the replaced operator asked of its input: the partition keys, or a single partition.
    distribution: Distribution,
    schema: SchemaRef,
    metrics: ExecutionPlanMetricsSet,
    cache: Arc<PlanProperties>,
    /// Set by the first partition that runs out of memory: the others then sort too, releasing
    /// what they buffered for the sorts that need it.
    sorting: Arc<AtomicBool>,
}

impl HashWindowExec {
    /// Builds the operator, or `None` when an expression is not one it computes, the expressions
    /// do not share one `PARTITION BY`, or `schema` is not the input's columns followed by one per
    /// expression.
    pub fn try_new(
        window_expr: Vec<Arc<dyn WindowExpr>>,
        input: Arc<dyn ExecutionPlan>,
        distribution: Distribution,
        schema: SchemaRef,
    ) -> Option<Self> {
        let first = window_expr.first()?;
        let partition_by = first.partition_by().to_vec();
        let same_partitions = window_expr.iter().all(|e| {
            e.partition_by().len() == partition_by.len()
                && e.partition_by()
                    .iter()
                    .zip(&partition_by)
                    .all(|(a, b)| a.eq(b))
        });
        if !same_partitions
            || schema.fields().len() != input.schema().fields().len() + window_expr.len()
        {
            return None;
        }
        let kinds = window_expr
            .iter()
            .map(hash_window_kind)
            .collect::<Option<Vec<_>>>()?;
        let cache = Arc::new(Self::compute_properties(&schema, &input));
        Some(Self {
            input,
            window_expr,
            kinds,
            partition_by,
            distribution,
            schema,
            metrics: ExecutionPlanMetricsSet::new(),
            cache,
            sorting: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The window expressions, in output order.
    pub fn window_expr(&self) -> &[Arc<dyn WindowExpr>] {
        &self.window_expr
    }

    /// The input.
    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// What it asks of its input's partitioning.
    pub fn distribution(&self) -> &Distribution {
        &self.distribution
    }

    fn compute_properties(schema: &SchemaRef, input: &Arc<dyn ExecutionPlan>) -> PlanProperties {
        // Rows keep their input order, but no ordering is claimed: the optimizer adds a sort where
        // a parent needs one. The partitioning is the input's (the columns keep their indices).
        PlanProperties::new(
            EquivalenceProperties::new(Arc::clone(schema)),
            input.output_partitioning().clone(),
            EmissionType::Final,
            Boundedness::Bounded,
        )
    }
}

impl DisplayAs for HashWindowExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .window_expr
            .iter()
            .zip(&self.kinds)
            .map(|(e, k)| {
                let how = match k {
                    HashWindowKind::GroupsAccumulator => "grouped",
                    HashWindowKind::Accumulator => "per partition",
                    HashWindowKind::EvaluateAll => "whole partition",
                };
                format!("{} ({how})", e.name())
            })
            .collect();
        let keys: Vec<String> = self.partition_by.iter().map(|e| e.to_string()).collect();
        write!(
            f,
            "HashWindowExec: partition_by=[{}], wdw=[{}]",
            keys.join(", "),
            names.join(", ")
        )
    }
}

impl ExecutionPlan for HashWindowExec {
    fn name(&self) -> &str {
        "HashWindowExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.cache
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let expressions = self.window_expr.iter().flat_map(|w| {
            let all = w.all_expressions();
            all.args
                .into_iter()
                .chain(all.partition_by_exprs)
                .chain(all.order_by_exprs)
        });
        for e in expressions {
            if f(&e)? == TreeNodeRecursion::Stop {
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn required_input_distribution(&self) -> Vec<Distribution> {
        self.input_distribution_requirements().into_per_child()
    }

    fn input_distribution_requirements(&self) -> InputDistributionRequirements {
        InputDistributionRequirements::new(vec![self.distribution.clone()])
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }

    fn replace_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("HashWindowExec takes one child, got {}", children.len());
        }
        // Properties are always recomputed: they are cheap and follow the new child.
        let input = children.swap_remove(0);
        let cache = Arc::new(Self::compute_properties(&self.schema, &input));
        Ok(Arc::new(Self {
            input,
            window_expr: self.window_expr.clone(),
            kinds: self.kinds.clone(),
            partition_by: self.partition_by.clone(),
            distribution: self.distribution.clone(),
            schema: Arc::clone(&self.schema),
            metrics: ExecutionPlanMetricsSet::new(),
            cache,
            sorting: Arc::new(AtomicBool::new(false)),
        }))
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(
                datafusion::physical_plan::ChildrenPropertiesMode::Recompute,
            ),
        )
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, Arc::clone(&context))?;
        let reservation = MemoryConsumer::new(format!("HashWindowExec[{partition}]"))
            .register(context.memory_pool());
        let state = PartitionState {
            window_expr: self.window_expr.clone(),
            kinds: self.kinds.clone(),
            partition_by: self.partition_by.clone(),
            input_schema: self.input.schema(),
            schema: Arc::clone(&self.schema),
            metrics: BaselineMetrics::new(&self.metrics, partition),
            fallbacks: MetricBuilder::new(&self.metrics).counter("sort_fallbacks", partition),
            reservation,
            context,
            sorting: Arc::clone(&self.sorting),
        };
        let output = stream::once(state.run(input)).try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            output,
        )))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// Per window expression, what is gathered while the input streams in.
enum Gather {
    Groups(Box<dyn GroupsAccumulator>),
    /// Argument arrays of every batch, evaluated per partition at the end.
    Args(Vec<Vec<ArrayRef>>),
}

struct PartitionState {
    window_expr: Vec<Arc<dyn WindowExpr>>,
    kinds: Vec<HashWindowKind>,
    partition_by: Vec<Arc<dyn PhysicalExpr>>,
    input_schema: SchemaRef,
    schema: SchemaRef,
    metrics: BaselineMetrics,
    /// Partitions that ran out of memory and were computed by sorting instead.
    fallbacks: Count,
    reservation: MemoryReservation,
    context: Arc<TaskContext>,
    sorting: Arc<AtomicBool>,
}

/// The type [`total_order_key`] makes of a key of type `t`.
fn total_order_key_type(t: &DataType) -> DataType {
    match t {
        DataType::Float16 => DataType::Int16,
        DataType::Float32 => DataType::Int32,
        DataType::Float64 => DataType::Int64,
        other => other.clone(),
    }
}

/// A partition key as the hash table should compare it: a floating-point column as its bit
/// patterns (equal exactly when the sort-based window's total order says equal), any other as is.
/// (Floats nested in structs or lists are compared as `GROUP BY` compares them.)
fn total_order_key(key: ArrayRef) -> ArrayRef {
    fn bits<F: ArrowPrimitiveType, I: ArrowPrimitiveType>(key: &ArrayRef) -> ArrayRef {
        let f = key.as_primitive::<F>();
        let data = f.to_data().into_builder().data_type(I::DATA_TYPE);
        // Same width, any bit pattern valid: the buffers are reused as they are.
        Arc::new(PrimitiveArray::<I>::from(data.build().expect(
            "a float array's buffers make an integer array of its width",
        )))
    }
    match key.data_type() {
        DataType::Float16 => bits::<Float16Type, Int16Type>(&key),
        DataType::Float32 => bits::<Float32Type, Int32Type>(&key),
        DataType::Float64 => bits::<Float64Type, Int64Type>(&key),
        _ => key,
    }
}

impl PartitionState {
    async fn run(self, mut input: SendableRecordBatchStream) -> Result<SendableRecordBatchStream> {
        let mut group_values: Option<Box<dyn GroupValues>> = if self.partition_by.is_empty() {
            None
        } else {
            let fields = self
                .partition_by
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    Ok(Field::new(
                        format!("k{i}"),
                        total_order_key_type(&e.data_type(&self.input_schema)?),
                        true,
                    ))
                })
                .collect::<Result<Vec<_>>>()?;
            Some(new_group_values(
                Arc::new(Schema::new(fields)),
                &GroupOrdering::None,
            )?)
        };
        let mut gathers = self
            .window_expr
            .iter()
            .zip(&self.kinds)
            .map(|(w, kind)| -> Result<Gather> {
                Ok(match kind {
                    HashWindowKind::GroupsAccumulator => {
                        let Some(agg) = w.as_any().downcast_ref::<PlainAggregateWindowExpr>()
                        else {
                            return internal_err!(
                                "HashWindowExec: {} is not an aggregate",
                                w.name()
                            );
                        };
                        Gather::Groups(agg.get_aggregate_expr().create_groups_accumulator()?)
                    }
                    HashWindowKind::Accumulator | HashWindowKind::EvaluateAll => {
                        Gather::Args(Vec::new())
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;

        let mut batches: Vec<RecordBatch> = Vec::new();
        let mut batch_groups: Vec<Vec<u32>> = Vec::new();
        let mut groups: Vec<usize> = Vec::new();
        let mut n_groups = 0usize;
        let mut buffered_bytes = 0usize;
        while let Some(batch) = input.next().await {
            let batch = batch?;
            if batch.num_rows() == 0 {
                continue;
            }
            let timer = self.metrics.elapsed_compute().timer();
            let args = self
                .window_expr
                .iter()
                .map(|w| w.evaluate_args(&batch))
                .collect::<Result<Vec<_>>>()?;
            match group_values.as_mut() {
                Some(gv) => {
                    let keys = self
                        .partition_by
                        .iter()
                        .map(|e| {
                            Ok(total_order_key(
                                e.evaluate(&batch)?.into_array(batch.num_rows())?,
                            ))
                        })
                        .collect::<Result<Vec<_>>>()?;
                    gv.intern(&keys, &mut groups)?;
                    n_groups = gv.len();
                    if n_groups > u32::MAX as usize {
                        return internal_err!("HashWindowExec: more than 2^32 partitions");
                    }
                }
                None => {
                    groups.clear();
                    groups.resize(batch.num_rows(), 0);
                    n_groups = 1;
                }
            }
            // Held from here on: the batch, its group ids and the arguments kept for the
            // functions evaluated per partition, plus the group table and the accumulators.
            buffered_bytes += batch.get_array_memory_size() + batch.num_rows() * 4;
            for (args, gather) in args.into_iter().zip(gathers.iter_mut()) {
                match gather {
                    Gather::Groups(acc) => acc.update_batch(&args, &groups, None, n_groups)?,
                    Gather::Args(all) => {
                        buffered_bytes += args
                            .iter()
                            .map(|a| a.get_array_memory_size())
                            .sum::<usize>();
                        all.push(args);
                    }
                }
            }
            batch_groups.push(groups.iter().map(|&g| g as u32).collect());
            batches.push(batch);
            timer.done();
            let state_bytes = group_values.as_ref().map_or(0, |g| g.size())
                + gathers
                    .iter()
                    .map(|g| match g {
                        Gather::Groups(acc) => acc.size(),
                        Gather::Args(_) => 0,
                    })
                    .sum::<usize>();
            // Past the pool's limit, sort instead (see the module documentation).
            if self.sorting.load(Ordering::Relaxed)
                || self
                    .reservation
                    .try_resize(buffered_bytes + state_bytes)
                    .is_err()
            {
                self.sorting.store(true, Ordering::Relaxed);
                return self.sort_instead(batches, input);
            }
        }
        if batches.is_empty() {
            return Ok(self.batches_stream(Vec::new()));
        }
        let _timer = self.metrics.elapsed_compute().timer();

        // The group-order permutation, built only when an expression needs it.
        let needs_order = gathers.iter().any(|g| matches!(g, Gather::Args(_)));
        let order = needs_order.then(|| GroupOrder::new(&batch_groups, n_groups));

        // One whole-input column per window expression, in input row order.
        let mut columns: Vec<ColumnResult> = Vec::with_capacity(gathers.len());
        for ((w, kind), gather) in self.window_expr.iter().zip(&self.kinds).zip(gathers) {
            columns.push(match gather {
                Gather::Groups(mut acc) => ColumnResult::PerGroup(acc.evaluate(EmitTo::All)?),
                Gather::Args(args) => {
                    let Some(order) = order.as_ref() else {
                        return internal_err!("HashWindowExec: no group order");
                    };
                    evaluate_by_partition(w, *kind, &args, order)?
                }
            });
        }

        let mut out = Vec::with_capacity(batches.len());
        let mut row_offset = 0usize;
        for (batch, ids) in batches.into_iter().zip(batch_groups) {
            let n = batch.num_rows();
            let mut cols = batch.columns().to_vec();
            let ids = UInt32Array::from(ids);
            for column in &columns {
                cols.push(match column {
                    ColumnResult::PerGroup(values) => take(values.as_ref(), &ids, None)?,
                    ColumnResult::PerRow(values) => values.slice(row_offset, n),
                });
            }
            row_offset += n;
            out.push(RecordBatch::try_new(Arc::clone(&self.schema), cols)?);
        }
        self.metrics.record_output(row_offset);
        self.reservation.free();
        Ok(self.batches_stream(out))
    }

    fn batches_stream(&self, batches: Vec<RecordBatch>) -> SendableRecordBatchStream {
        Box::pin(RecordBatchStreamAdapter::new(
            Arc::clone(&self.schema),
            stream::iter(batches.into_iter().map(Ok)),
        ))
    }

    /// DataFusion's plan for this partition: sort by the partition keys (spilling as the memory
    /// pool requires), then `WindowAggExec`, over the rows buffered so far and the rest of `input`.
    fn sort_instead(
        self,
        buffered: Vec<RecordBatch>,
        input: SendableRecordBatchStream,
    ) -> Result<SendableRecordBatchStream> {
        self.fallbacks.add(1);
        self.reservation.free();
        let rows = stream::iter(buffered.into_iter().map(Ok)).chain(input);
        let source = Arc::new(OnceStreamExec::new(Box::pin(
            RecordBatchStreamAdapter::new(Arc::clone(&self.input_schema), rows),
        )));
        let plan: Arc<dyn ExecutionPlan> = match LexOrdering::new(
            self.partition_by
                .iter()
                .map(|e| PhysicalSortExpr::new_default(Arc::clone(e))),
        ) {
            Some(ordering) => Arc::new(SortExec::new(ordering, source)),
            None => source,
        };
        let window = WindowAggExec::try_new(self.window_expr.clone(), plan, false)?;
        window.execute(0, Arc::clone(&self.context))
    }
}

/// A plan that yields one stream once: the input of [`PartitionState::sort_instead`].
struct OnceStreamExec {
    stream: Mutex<Option<SendableRecordBatchStream>>,
    cache: Arc<PlanProperties>,
}

impl fmt::Debug for OnceStreamExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnceStreamExec")
    }
}

impl OnceStreamExec {
    fn new(stream: SendableRecordBatchStream) -> Self {
        let cache = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(stream.schema()),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self {
            stream: Mutex::new(Some(stream)),
            cache,
        }
    }
}

impl DisplayAs for OnceStreamExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OnceStreamExec")
    }
}

impl ExecutionPlan for OnceStreamExec {
    fn name(&self) -> &str {
        "OnceStreamExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.cache
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("OnceStreamExec has no children")
        }
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let taken = self.stream.lock().ok().and_then(|mut s| s.take());
        match (partition, taken) {
            (0, Some(stream)) => Ok(stream),
            _ => internal_err!("OnceStreamExec: partition {partition} executed twice or missing"),
        }
    }
}

enum ColumnResult {
    /// One value per group, gathered to the rows by group id.
    PerGroup(ArrayRef),
    /// One value per input row, in input order.
    PerRow(ArrayRef),
}

/// The rows in group order (stable), as a permutation and the groups' offsets into it.
struct GroupOrder {
    /// `perm[i]` is the input row (across all batches) at position `i` of the group order.
    perm: UInt32Array,
    /// Group `g` occupies positions `offsets[g]..offsets[g + 1]`.
    offsets: Vec<usize>,
}

impl GroupOrder {
    fn new(batch_groups: &[Vec<u32>], n_groups: usize) -> Self {
        let mut offsets = vec![0usize; n_groups + 1];
        for ids in batch_groups {
            for &g in ids {
                offsets[g as usize + 1] += 1;
            }
        }
        for g in 0..n_groups {
            offsets[g + 1] += offsets[g];
        }
        let total = offsets[n_groups];
        let mut next = offsets.clone();
        let mut perm = vec![0u32; total];
        let mut row = 0u32;
        for ids in batch_groups {
            for &g in ids {
                let slot = &mut next[g as usize];
                perm[*slot] = row;
                *slot += 1;
                row += 1;
            }
        }
        Self {
            perm: UInt32Array::from(perm),
            offsets,
        }
    }

    /// The inverse permutation: `inverse[row]` is the row's position in group order.
    fn inverse(&self) -> UInt32Array {
        let mut inv = vec![0u32; self.perm.len()];
        for (pos, &row) in self.perm.values().iter().enumerate() {
            inv[row as usize] = pos as u32;
        }
        UInt32Array::from(inv)
    }
}

/// Evaluates one expression partition by partition over the rows in group order: one value per
/// partition for an aggregate, one per row (put back in input order) for a window function.
fn evaluate_by_partition(
    w: &Arc<dyn WindowExpr>,
    kind: HashWindowKind,
    args: &[Vec<ArrayRef>],
    order: &GroupOrder,
) -> Result<ColumnResult> {
    let n_args = args.first().map_or(0, Vec::len);
    // Each argument across all batches, then in group order.
    let sorted_args = (0..n_args)
        .map(|i| {
            let parts: Vec<&dyn Array> = args.iter().map(|a| a[i].as_ref()).collect();
            let whole = concat(&parts)?;
            Ok(take(whole.as_ref(), &order.perm, None)?)
        })
        .collect::<Result<Vec<ArrayRef>>>()?;
    // The arguments of each partition, in group order.
    let partitions = order.offsets.windows(2).map(|r| {
        let args: Vec<ArrayRef> = sorted_args
            .iter()
            .map(|a| a.slice(r[0], r[1] - r[0]))
            .collect();
        (args, r[1] - r[0])
    });
    match kind {
        HashWindowKind::EvaluateAll => {
            let Some(standard) = w.as_any().downcast_ref::<StandardWindowExpr>() else {
                return internal_err!("HashWindowExec: {} is not a window function", w.name());
            };
            let func = standard.get_standard_func_expr();
            let parts = partitions
                .map(|(args, rows)| {
                    let mut evaluator: Box<dyn PartitionEvaluator> = func.create_evaluator()?;
                    let part = evaluator.evaluate_all(&args, rows)?;
                    if part.len() != rows {
                        return internal_err!(
                            "HashWindowExec: {} returned {} values for a partition of {rows} rows",
                            w.name(),
                            part.len()
                        );
                    }
                    Ok(part)
                })
                .collect::<Result<Vec<ArrayRef>>>()?;
            let refs: Vec<&dyn Array> = parts.iter().map(|p| p.as_ref()).collect();
            let sorted_out = concat(&refs)?;
            Ok(ColumnResult::PerRow(take(
                sorted_out.as_ref(),
                &order.inverse(),
                None,
            )?))
        }
        HashWindowKind::Accumulator => {
            let Some(agg) = w.as_any().downcast_ref::<PlainAggregateWindowExpr>() else {
                return internal_err!("HashWindowExec: {} is not an aggregate", w.name());
            };
            let aggregate = agg.get_aggregate_expr();
            let per_group = partitions
                .map(|(args, _)| {
                    let mut acc: Box<dyn Accumulator> = aggregate.create_accumulator()?;
                    acc.update_batch(&args)?;
                    acc.evaluate()
                })
                .collect::<Result<Vec<ScalarValue>>>()?;
            Ok(ColumnResult::PerGroup(ScalarValue::iter_to_array(
                per_group,
            )?))
        }
        HashWindowKind::GroupsAccumulator => {
            internal_err!("HashWindowExec: a groups accumulator is not evaluated by partition")
        }
    }
}
