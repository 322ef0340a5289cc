//! Computing the catalog's views: each view is planned on its own, run once, and its result
//! registered in place of the view, so that every later view and query reads the computed rows.
//! `bibflow query run` computes the views a query reads; the report computes all of them.
//!
//! A computed view is held within the session's memory limit: its rows stay in memory while the
//! session's memory pool grants them (as a reservation that lives as long as the session), and
//! once the pool refuses, the view goes to Parquet files in the session's spill folder (DataFusion's
//! disk manager, where sorts spill too) and is read back from there. Both go when the session is
//! dropped: the reservations are freed and the files deleted.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::execution::SpillFile;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit, MemoryReservation};
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::logical_expr::SortExpr;
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_expr::PhysicalSortExpr;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::{ExecutionPlan, ExecutionPlanProperties};
use datafusion::prelude::{DataFrame, SessionContext};
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{Catalog, SavedQuery};
use crate::error::{EngineError, Result};

/// How long a view took to compute, and where its rows went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewTime {
    /// The view's name.
    pub name: String,
    /// Wall time from planning to its last batch, in milliseconds.
    pub elapsed_ms: u128,
    /// Rows of the view.
    pub rows: u64,
    /// Bytes of Parquet written to the spill folder because the memory pool refused to hold the
    /// view (0: the view is held in memory).
    pub spilled_bytes: u64,
    /// Bytes of Parquet the view was written to when the session writes its views to a folder
    /// ([`crate::session::ViewPlacement::Written`]); 0 otherwise.
    pub written_bytes: u64,
}

/// What computed views hold on to for as long as the session lives: memory reservations for
/// views in memory, spill files for the others. Dropping it frees both.
///
/// Views in memory may take at most a quarter of a finite memory pool ([`VIEW_SHARE`]): the rest
/// is left to the operators of the views and queries that read them, which would otherwise find
/// the pool full (a hash join cannot spill, and a hash aggregate with nothing of its own to spill
/// fails). With half, the report at 10^5 works under 64 MiB failed now and then in a hash join.
#[derive(Debug, Default, Clone)]
pub struct ViewStore {
    held: Arc<Mutex<Vec<Held>>>,
    /// Bytes of views held in memory, over all views and partitions.
    in_memory: Arc<AtomicUsize>,
    /// Hold every view with a `work_id` column sorted by it (see
    /// [`ViewStore::with_views_sorted_by_work_id`]).
    sorted_by_work_id: bool,
}

/// The share of a finite memory pool that computed views may hold in memory.
pub const VIEW_SHARE: f64 = 0.25;

enum Held {
    Memory(MemoryReservation),
    Files(Vec<Arc<dyn SpillFile>>),
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Held::Memory(r) => write!(f, "Memory({} bytes)", r.size()),
            Held::Files(files) => write!(f, "Files({})", files.len()),
        }
    }
}

impl ViewStore {
    /// Views over a dataset whose tables are sorted by `work_id` are held sorted by `work_id` too,
    /// in each partition: most come out of their plans in that order (ordered aggregates and
    /// sort-merge joins over the sorted tables); the others are sorted (a sort that spills under
    /// the memory limit). The table that replaces the view declares the order, so the queries
    /// that read it group and join by `work_id` as the rows stream, holding no hash table of a
    /// view (see [`crate::plan::sorted_join_rule`]; measured at 10^7 works in docs/benchmarks.md).
    pub fn with_views_sorted_by_work_id(mut self, on: bool) -> Self {
        self.sorted_by_work_id = on;
        self
    }

    /// Takes `bytes` of the views' share of the pool, if it has room (always, for a pool without
    /// a limit).
    fn try_take(&self, bytes: usize, pool_limit: Option<usize>) -> bool {
        let Some(limit) = pool_limit else {
            self.in_memory.fetch_add(bytes, Ordering::Relaxed);
            return true;
        };
        let budget = (limit as f64 * VIEW_SHARE) as usize;
        self.in_memory
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                (held + bytes <= budget).then_some(held + bytes)
            })
            .is_ok()
    }

    /// Gives back `bytes` taken with [`try_take`](Self::try_take).
    fn give_back(&self, bytes: usize) {
        self.in_memory.fetch_sub(bytes, Ordering::Relaxed);
    }

    fn hold(&self, held: Held) {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(held);
    }
}

impl Catalog {
    /// Computes every view of the catalog once and registers its result in place of the view, so
    /// each later view and query reads the computed rows. Views that do not read each other are
    /// computed at the same time (see [`Catalog::views_in_waves`]). `store` keeps what the
    /// results hold (memory reservations, spill files) and must live as long as `ctx` reads them.
    /// Returns each view's time, in dependency order, also given to `on_view` as soon as the
    /// view is registered (a long report says what it has done while it runs).
    pub async fn compute_views(
        &self,
        ctx: &SessionContext,
        store: &ViewStore,
        on_view: OnView<'_>,
    ) -> Result<Vec<ViewTime>> {
        compute_waves(ctx, self.views_in_waves()?, store, on_view).await
    }

    /// Computes the views `sql` reads (directly or through other views), as
    /// [`compute_views`](Self::compute_views) does for all of them: `bibflow query run` does this
    /// before the query, so that each view is planned with its own join order rather than inlined
    /// into the query's plan.
    pub async fn compute_views_read_by(
        &self,
        ctx: &SessionContext,
        sql: &str,
        store: &ViewStore,
    ) -> Result<Vec<ViewTime>> {
        compute_waves(ctx, self.views_read_by(sql)?, store, &|_| {}).await
    }
}

/// Called with each computed view's time as soon as the view is registered.
pub type OnView<'a> = &'a (dyn Fn(&ViewTime) + Send + Sync);

async fn compute_waves(
    ctx: &SessionContext,
    waves: Vec<Vec<&SavedQuery>>,
    store: &ViewStore,
    on_view: OnView<'_>,
) -> Result<Vec<ViewTime>> {
    let mut times = Vec::new();
    for wave in waves {
        let computed =
            futures::future::try_join_all(wave.into_iter().map(|view| async move {
                let t = Instant::now();
                // Join reordering off: each view's SQL puts its hash joins' build side on the left
                // (see queries/views/work_modality.sql). DataFusion's reordering goes by row-count
                // estimates, and it overestimates aggregates (input rows), so it would build the
                // hash table on `works` with every title and abstract.
                let mut state = ctx.state();
                state.config_mut().options_mut().optimizer.join_reordering = false;
                let plan = state.create_logical_plan(&view.sql).await.map_err(|e| {
                    EngineError::Catalog {
                        file: view.origin.to_string(),
                        reason: format!("the view does not plan over this dataset: {e}"),
                    }
                })?;
                let df = DataFrame::new(state, plan);
                let schema = Arc::new(df.schema().as_arrow().clone());
                let task_ctx = Arc::new(df.task_ctx());
                let mut physical = df.create_physical_plan().await?;
                if store.sorted_by_work_id {
                    physical = sorted_by_work_id(physical)?;
                }
                let order = logical_order(physical.output_ordering(), &schema);
                let partitions = physical.output_partitioning().partition_count();
                let runtime = ctx.runtime_env();
                // Each partition in its own task, as DataFusion's collect_partitioned runs them.
                let mut tasks = tokio::task::JoinSet::new();
                for i in 0..partitions {
                    let stream = physical.execute(i, Arc::clone(&task_ctx))?;
                    let sink = PartitionSink::new(view.name(), i, &schema, &runtime, store);
                    tasks.spawn(sink.run(stream));
                }
                let mut parts: Vec<(usize, Computed)> = Vec::with_capacity(partitions);
                while let Some(joined) = tasks.join_next().await {
                    let part = joined.map_err(|e| {
                        EngineError::Usage(format!("computing view {}: {e}", view.name()))
                    })??;
                    parts.push(part);
                }
                parts.sort_by_key(|(i, _)| *i);
                let parts: Vec<Computed> = parts.into_iter().map(|(_, c)| c).collect();
                let elapsed_ms = t.elapsed().as_millis();
                Ok::<_, EngineError>((view, schema, order, parts, elapsed_ms, runtime))
            }))
            .await?;
        for (view, schema, order, parts, elapsed_ms, runtime) in computed {
            let rows = parts.iter().map(|p| p.rows).sum();
            let (table, spilled_bytes) = view_table(&schema, order, parts, &runtime, store)?;
            ctx.deregister_table(view.name())?;
            ctx.register_table(view.name(), table)?;
            let time = ViewTime {
                name: view.name().to_owned(),
                elapsed_ms,
                rows,
                spilled_bytes,
                written_bytes: 0,
            };
            on_view(&time);
            times.push(time);
        }
    }
    Ok(times)
}

/// One partition of a computed view: in memory (with its reservation) or in a spill file.
struct Computed {
    rows: u64,
    batches: Vec<RecordBatch>,
    reservation: MemoryReservation,
    file: Option<(Arc<dyn SpillFile>, u64)>,
}

/// Collects one partition's batches under a memory reservation, and moves them to a Parquet spill
/// file as soon as the pool refuses to grow it.
struct PartitionSink {
    index: usize,
    store: ViewStore,
    /// The pool's limit, if finite: views take at most [`VIEW_SHARE`] of it.
    pool_limit: Option<usize>,
    schema: SchemaRef,
    runtime: Arc<RuntimeEnv>,
    reservation: MemoryReservation,
    description: String,
}

impl PartitionSink {
    fn new(
        view: &str,
        index: usize,
        schema: &SchemaRef,
        runtime: &Arc<RuntimeEnv>,
        store: &ViewStore,
    ) -> Self {
        let description = format!("view {view} partition {index}");
        let reservation = MemoryConsumer::new(description.clone()).register(&runtime.memory_pool);
        let pool_limit = match runtime.memory_pool.memory_limit() {
            MemoryLimit::Finite(n) => Some(n),
            MemoryLimit::Infinite | MemoryLimit::Unknown => None,
        };
        Self {
            index,
            store: store.clone(),
            pool_limit,
            schema: Arc::clone(schema),
            runtime: Arc::clone(runtime),
            reservation,
            description,
        }
    }

    async fn run(
        self,
        mut stream: datafusion::execution::SendableRecordBatchStream,
    ) -> Result<(usize, Computed)> {
        let mut batches = Vec::new();
        let mut rows = 0u64;
        let mut writer: Option<SpillParquet> = None;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows() as u64;
            if let Some(w) = writer.as_mut() {
                w.write(&batch)?;
                continue;
            }
            let size = batch.get_array_memory_size();
            if self.store.try_take(size, self.pool_limit) {
                if self.reservation.try_grow(size).is_ok() {
                    batches.push(batch);
                    continue;
                }
                self.store.give_back(size);
            }
            // The views' share of the pool is used up, or the pool is full: this partition goes
            // to disk, with what it held so far.
            let mut w = SpillParquet::create(&self.runtime, &self.description, &self.schema)?;
            for b in batches.drain(..) {
                w.write(&b)?;
            }
            w.write(&batch)?;
            self.store.give_back(self.reservation.free());
            writer = Some(w);
        }
        let file = writer.map(SpillParquet::finish).transpose()?;
        Ok((
            self.index,
            Computed {
                rows,
                batches,
                reservation: self.reservation,
                file,
            },
        ))
    }
}

/// A Parquet file being written into the session's spill folder.
struct SpillParquet {
    file: Arc<dyn SpillFile>,
    writer: ArrowWriter<Box<dyn datafusion::execution::SpillWriter>>,
}

impl SpillParquet {
    fn create(runtime: &Arc<RuntimeEnv>, description: &str, schema: &SchemaRef) -> Result<Self> {
        let file = runtime.disk_manager.create_tmp_file(description)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(file.open_writer()?, Arc::clone(schema), Some(props))
            .map_err(datafusion::error::DataFusionError::from)?;
        Ok(Self { file, writer })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer
            .write(batch)
            .map_err(datafusion::error::DataFusionError::from)?;
        Ok(())
    }

    /// Closes the file; returns it with its size in bytes.
    fn finish(self) -> Result<(Arc<dyn SpillFile>, u64)> {
        let mut inner = self
            .writer
            .into_inner()
            .map_err(datafusion::error::DataFusionError::from)?;
        inner.finish()?;
        let bytes = match self.file.path() {
            Some(p) => std::fs::metadata(p)
                .map_err(|e| EngineError::io(p, e))?
                .len(),
            None => self.file.size().unwrap_or(0),
        };
        Ok((self.file, bytes))
    }
}

/// `plan`, sorted by `work_id` in each partition if it has that column and is not in that order
/// already.
fn sorted_by_work_id(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let Ok(index) = plan.schema().index_of("work_id") else {
        return Ok(plan);
    };
    let key = PhysicalSortExpr {
        expr: Arc::new(Column::new("work_id", index)),
        options: arrow::compute::SortOptions {
            descending: false,
            nulls_first: false,
        },
    };
    if plan
        .equivalence_properties()
        .ordering_satisfy([key.clone()])?
    {
        return Ok(plan);
    }
    let Some(ordering) = LexOrdering::new([key]) else {
        return Ok(plan);
    };
    Ok(Arc::new(
        SortExec::new(ordering, plan).with_preserve_partitioning(true),
    ))
}

/// The order of every partition of a view's plan, as logical sort expressions over the view's
/// columns: the longest prefix of the plan's output ordering that names columns. Declared on the
/// computed view's table, it lets the queries that read the view group and join by its order as
/// the rows stream (see [`crate::plan::sorted_join_rule`]) instead of hashing every row.
fn logical_order(ordering: Option<&LexOrdering>, schema: &SchemaRef) -> Vec<SortExpr> {
    let mut order = Vec::new();
    for sort in ordering.into_iter().flat_map(|o| o.iter()) {
        let Some(column) = sort.expr.downcast_ref::<Column>() else {
            break;
        };
        // The plan's column, at its index, is the view's column of the same index.
        let Some(field) = schema.fields().get(column.index()) else {
            break;
        };
        if field.name() != column.name() {
            break;
        }
        order.push(
            datafusion::prelude::ident(field.name())
                .sort(!sort.options.descending, sort.options.nulls_first),
        );
    }
    order
}

/// The table that replaces a view: in memory when every partition is, else Parquet files in the
/// spill folder (the partitions still in memory are written there too, which frees them). Either
/// declares `order`, the order of each partition's rows (one spill file per partition).
fn view_table(
    schema: &SchemaRef,
    order: Vec<SortExpr>,
    parts: Vec<Computed>,
    runtime: &Arc<RuntimeEnv>,
    store: &ViewStore,
) -> Result<(Arc<dyn datafusion::catalog::TableProvider>, u64)> {
    if parts.iter().all(|p| p.file.is_none()) {
        let mut batches = Vec::with_capacity(parts.len());
        for p in parts {
            batches.push(p.batches);
            store.hold(Held::Memory(p.reservation));
        }
        let table = MemTable::try_new(Arc::clone(schema), batches)?;
        let table = if order.is_empty() {
            table
        } else {
            table.with_sort_order(vec![order])
        };
        return Ok((Arc::new(table), 0));
    }
    let mut files = Vec::with_capacity(parts.len());
    let mut bytes = 0;
    for p in parts {
        let (file, size) = match p.file {
            Some(f) => f,
            None if p.batches.is_empty() => continue,
            None => {
                let mut w = SpillParquet::create(runtime, "view partition", schema)?;
                for b in &p.batches {
                    w.write(b)?;
                }
                store.give_back(p.reservation.free());
                w.finish()?
            }
        };
        bytes += size;
        files.push(file);
    }
    let mut urls = Vec::with_capacity(files.len());
    for f in &files {
        let path = f.path().ok_or_else(|| {
            EngineError::Usage("a computed view was spilled to a store without local paths".into())
        })?;
        urls.push(ListingTableUrl::parse(path.to_string_lossy())?);
    }
    // The spill files have no `.parquet` extension: list them by their paths, any name.
    // DataFusion relies on the order across the files of one partition only where their min/max
    // statistics show they do not overlap.
    let mut options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension("");
    if !order.is_empty() {
        options = options.with_file_sort_order(vec![order]);
    }
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(Arc::clone(schema));
    let table = ListingTable::try_new(config)?;
    store.hold(Held::Files(files));
    Ok((Arc::new(table), bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Origin;
    use crate::session::{SessionBuilder, SessionOptions};

    const VIEW: &str = r#"-- name = "big"
-- title = "every row of t, with a string"
-- description = "a view larger than its share of a small memory pool"
-- [[columns]]
-- name = "id"
-- description = "the row"
-- [[columns]]
-- name = "label"
-- description = "a string"
SELECT id, concat('row ', CAST(id AS VARCHAR)) AS label FROM t
"#;

    /// A session with `limit` (and two partitions) holding `t`: the numbers below `rows`.
    async fn session_with_t(limit: Option<usize>, rows: u64) -> crate::session::Session {
        let session = SessionBuilder::new(SessionOptions {
            memory_limit: limit,
            target_partitions: Some(2),
            ..Default::default()
        })
        .build()
        .await
        .unwrap();
        let create = format!("CREATE TABLE t AS SELECT value AS id FROM range({rows})");
        session
            .ctx()
            .sql(&create)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        session
    }

    /// Computes the view `big` in `ctx` into `store`.
    async fn compute_big(ctx: &SessionContext, store: &ViewStore) -> ViewTime {
        let view = SavedQuery::parse(VIEW, Origin::File("big.sql".into()), "big").unwrap();
        compute_waves(ctx, vec![vec![&view]], store, &|_| {})
            .await
            .unwrap()
            .remove(0)
    }

    /// Computes the view `big` over 200,000 rows in a session with `limit`; returns its timing
    /// and the view's rows read back through SQL (sorted).
    async fn compute(limit: Option<usize>) -> (ViewTime, RecordBatch) {
        let session = session_with_t(limit, 200_000).await;
        let ctx = session.ctx();
        let store = ViewStore::default();
        let time = compute_big(ctx, &store).await;
        // Sorted here, not in SQL: DataFusion's own sort does not fit in the small pool.
        let batches = ctx
            .sql("SELECT id, label FROM big")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let all = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let order = arrow::compute::sort_to_indices(all.column(0), None, None).unwrap();
        let rows = arrow::compute::take_record_batch(&all, &order).unwrap();
        (time, rows)
    }

    #[tokio::test]
    async fn a_view_past_its_share_of_the_pool_spills_and_reads_back_the_same() {
        let (free, expected) = compute(None).await;
        assert_eq!(free.rows, 200_000);
        // 8 MiB: the view (several MiB of strings) is past its share of the pool.
        let (bounded, got) = compute(Some(8 << 20)).await;
        assert_eq!(bounded.rows, 200_000);
        assert!(bounded.spilled_bytes > 0, "{bounded:?}");
        assert_eq!(expected, got);
    }

    #[tokio::test]
    async fn a_view_in_memory_is_counted_in_the_pool_until_the_store_goes() {
        let session = session_with_t(Some(256 << 20), 1000).await;
        let ctx = session.ctx();
        let store = ViewStore::default();
        assert_eq!(compute_big(ctx, &store).await.spilled_bytes, 0);
        let pool = &ctx.runtime_env().memory_pool;
        assert!(
            pool.reserved() > 0,
            "the view's rows are reserved in the pool"
        );
        drop(store);
        assert_eq!(pool.reserved(), 0, "and freed with the store");
    }

    #[tokio::test]
    async fn spill_files_are_deleted_with_the_store() {
        let session = session_with_t(Some(1 << 20), 100_000).await;
        let ctx = session.ctx();
        let store = ViewStore::default();
        assert!(compute_big(ctx, &store).await.spilled_bytes > 0);
        let disk = &ctx.runtime_env().disk_manager;
        assert!(disk.spilling_progress().active_files_count > 0);
        ctx.deregister_table("big").unwrap();
        drop(store);
        assert_eq!(disk.spilling_progress().active_files_count, 0);
    }
}
