//! Window functions over `PARTITION BY` only, computed by hashing (`HashWindowExec`), against
//! DataFusion's own sort-based plan of the same query (`SessionOptions::sort_windows`): which
//! operator each query gets, and that both give the same value on every row.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::physical_plan::displayable;
use datafusion::prelude::SessionContext;

use bibflow_engine::session::{SessionBuilder, SessionOptions};

const ROWS: usize = 20_000;

/// A made-up table `t(id, k1, k2, x, f)` in 3 partitions of at least 4 batches: `k1` (200 values and NULL)
/// and `k2` (5 strings and NULL) are partition keys, `x` a nullable count with many ties, `f` a
/// float.
fn table() -> Arc<MemTable> {
    table_of(ROWS)
}

fn table_of(rows: usize) -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k1", DataType::Int64, true),
        Field::new("k2", DataType::Utf8, true),
        Field::new("x", DataType::Int64, true),
        Field::new("f", DataType::Float64, false),
    ]));
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let kinds = ["article", "review", "book", "letter", "preprint"];
    // At least 12 batches, and none larger than DataFusion's default batch size.
    let n_batches = (rows / 8192).max(12);
    let batch_rows = rows / n_batches;
    let mut partitions = vec![Vec::new(), Vec::new(), Vec::new()];
    for b in 0..n_batches {
        let (mut id, mut k1, mut k2, mut x, mut f) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..batch_rows {
            let r = next();
            id.push((b * batch_rows + i) as i64);
            k1.push((r % 211 != 0).then_some(((r >> 8) % 200) as i64));
            k2.push((r % 97 != 0).then(|| kinds[((r >> 20) % 5) as usize]));
            x.push((r % 13 != 0).then_some(((r >> 30) % 8) as i64 * ((r >> 40) % 3) as i64));
            f.push(((r >> 11) % 10_000) as f64 / 7.0);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(id)),
            Arc::new(Int64Array::from(k1)),
            Arc::new(StringArray::from(k2)),
            Arc::new(Int64Array::from(x)),
            Arc::new(Float64Array::from(f)),
        ];
        partitions[b % 3].push(RecordBatch::try_new(Arc::clone(&schema), columns).unwrap());
    }
    Arc::new(MemTable::try_new(schema, partitions).unwrap())
}

fn session(sort_windows: bool) -> SessionContext {
    let ctx = SessionBuilder::new(SessionOptions {
        sort_windows,
        target_partitions: Some(2),
        ..Default::default()
    })
    .context()
    .unwrap();
    ctx.register_table("t", table()).unwrap();
    ctx
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// The physical plan, one operator per line.
async fn plan(ctx: &SessionContext, sql: &str) -> String {
    let df = ctx.sql(sql).await.unwrap();
    let physical = df.create_physical_plan().await.unwrap();
    displayable(physical.as_ref()).indent(false).to_string()
}

/// The query's rows sorted by its first column `id`; every other column cast to Float64.
async fn rows(ctx: &SessionContext, sql: &str) -> Vec<Vec<Option<f64>>> {
    let batches = ctx
        .sql(&format!("SELECT * FROM ({sql}) q ORDER BY id"))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let mut out = Vec::new();
    for b in &batches {
        let ids = cast(b.column(0), &DataType::Int64).unwrap();
        let ids = ids.as_primitive::<Int64Type>();
        let values: Vec<ArrayRef> = (1..b.num_columns())
            .map(|c| cast(b.column(c), &DataType::Float64).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            let mut row = vec![Some(ids.value(r) as f64)];
            for v in &values {
                let v = v.as_primitive::<Float64Type>();
                row.push(v.is_valid(r).then(|| v.value(r)));
            }
            out.push(row);
        }
    }
    out
}

/// Runs `sql` both ways and asserts that the hashed plan was used (or not, `hashed = false`) and
/// that every value agrees to 1e-9 (relative: sums are added in a different order).
fn same_both_ways(sql: &str, hashed: bool) {
    runtime().block_on(async {
        let (hash, sort) = (session(false), session(true));
        let hash_plan = plan(&hash, sql).await;
        let sort_plan = plan(&sort, sql).await;
        assert_eq!(
            hash_plan.contains("HashWindowExec"),
            hashed,
            "{sql}\nplan:\n{hash_plan}"
        );
        assert!(!sort_plan.contains("HashWindowExec"), "{sort_plan}");
        if hashed {
            assert!(
                !hash_plan.contains("SortExec"),
                "a hashed window needs no sort:\n{hash_plan}"
            );
        }
        let (a, b) = (rows(&hash, sql).await, rows(&sort, sql).await);
        assert_eq!(a.len(), b.len(), "{sql}: row counts");
        assert!(a.len() >= ROWS / 2, "{sql}: only {} rows", a.len());
        let mut non_null = 0usize;
        for (ra, rb) in a.iter().zip(&b) {
            assert_eq!(ra.len(), rb.len());
            for (va, vb) in ra.iter().zip(rb) {
                match (va, vb) {
                    (Some(x), Some(y)) => {
                        non_null += 1;
                        let scale = x.abs().max(y.abs()).max(1.0);
                        assert!(
                            (x - y).abs() <= 1e-9 * scale,
                            "{sql}: row id {:?}: {x} (hashed) vs {y} (sorted)",
                            ra[0]
                        );
                    }
                    (None, None) => {}
                    _ => panic!(
                        "{sql}: row id {:?}: {va:?} (hashed) vs {vb:?} (sorted)",
                        ra[0]
                    ),
                }
            }
        }
        assert!(non_null > a.len(), "{sql}: the window columns are all NULL");
    });
}

#[test]
fn plain_aggregates_over_partitions() {
    same_both_ways(
        "SELECT id,
                avg(x) OVER (PARTITION BY k1, k2) AS a,
                sum(f) OVER (PARTITION BY k1, k2) AS s,
                count(*) OVER (PARTITION BY k1, k2) AS n,
                count(x) OVER (PARTITION BY k1, k2) AS nx,
                min(x) OVER (PARTITION BY k1, k2) AS lo,
                max(f) OVER (PARTITION BY k1, k2) AS hi
         FROM t",
        true,
    );
}

#[test]
fn one_key_no_key_and_expressions_as_keys() {
    same_both_ways("SELECT id, avg(f) OVER (PARTITION BY k2) AS a FROM t", true);
    same_both_ways(
        "SELECT id, avg(f) OVER () AS a, count(x) OVER () AS n FROM t",
        true,
    );
    same_both_ways(
        "SELECT id, sum(x) OVER (PARTITION BY k1 % 7, upper(k2)) AS s FROM t WHERE x > 0",
        true,
    );
}

#[test]
fn aggregates_without_groups_accumulator_and_udafs() {
    // covar_samp has no groups accumulator in DataFusion: one accumulator per partition.
    same_both_ways(
        "SELECT id, covar_samp(x, f) OVER (PARTITION BY k1) AS c FROM t",
        true,
    );
    runtime().block_on(async {
        let p = plan(
            &session(false),
            "SELECT id, covar_samp(x, f) OVER (PARTITION BY k1) AS c,
                    avg(x) OVER (PARTITION BY k1) AS a,
                    citation_percentile(x) OVER (PARTITION BY k1) AS pct FROM t",
        )
        .await;
        for how in ["(per partition)", "(grouped)", "(whole partition)"] {
            assert!(p.contains(how), "{how}:\n{p}");
        }
    });
    same_both_ways(
        "SELECT id, m, thr['t'] AS t, thr['frac'] AS frac, h
         FROM (SELECT id, median(f) OVER (PARTITION BY k1) AS m,
                      top_threshold(x, 0.1) OVER (PARTITION BY k1, k2) AS thr,
                      h_index(x) OVER (PARTITION BY k2) AS h
               FROM t) q",
        true,
    );
}

#[test]
fn whole_partition_window_functions() {
    same_both_ways(
        "SELECT id,
                citation_percentile(x) OVER (PARTITION BY k1, k2) AS oa,
                citation_percentile(x, 'incites') OVER (PARTITION BY k1, k2) AS ic
         FROM t",
        true,
    );
    // row_number without ORDER BY numbers a partition in an arbitrary order: compare what is
    // defined, each partition's largest number (its size) and the numbers' sum.
    same_both_ways(
        "SELECT id, max(rn) OVER (PARTITION BY k1) AS size, sum(rn) OVER (PARTITION BY k1) AS s
         FROM (SELECT id, k1, row_number() OVER (PARTITION BY k1) AS rn FROM t) r",
        true,
    );
}

#[test]
fn the_indicators_written_with_windows() {
    // NCS and the top-10% share as a user writes them with bibflow's functions.
    same_both_ways(
        "SELECT id,
                ncs(x, avg(x) OVER (PARTITION BY k1, k2)) AS ncs,
                top_share(x, top_threshold(x, 0.1) OVER (PARTITION BY k1, k2)) AS top10
         FROM t WHERE x IS NOT NULL",
        true,
    );
}

#[test]
fn ordered_framed_and_filtered_windows_stay_sorted() {
    same_both_ways(
        "SELECT id, row_number() OVER (PARTITION BY k1 ORDER BY id) AS rn FROM t",
        false,
    );
    same_both_ways(
        "SELECT id, sum(x) OVER (PARTITION BY k1 ORDER BY id) AS running FROM t",
        false,
    );
    // A frame without an ORDER BY depends on the order rows arrive in: compare the plan only.
    runtime().block_on(async {
        let sql =
            "SELECT id, sum(x) OVER (PARTITION BY k1 ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)
                   AS s FROM t";
        let p = plan(&session(false), sql).await;
        assert!(
            !p.contains("HashWindowExec") && p.contains("WindowAggExec"),
            "{p}"
        );
    });
    same_both_ways(
        "SELECT id, rank() OVER (PARTITION BY k1 ORDER BY x) AS r FROM t",
        false,
    );
    // FILTER on a window aggregate: computed DataFusion's way, with the filter applied.
    same_both_ways(
        "SELECT id, count(*) FILTER (WHERE x > 3) OVER (PARTITION BY k1) AS n FROM t",
        false,
    );
}

#[test]
fn a_hashed_window_under_an_order_by_gets_its_sort() {
    runtime().block_on(async {
        let ctx = session(false);
        let sql = "SELECT k1, avg(f) OVER (PARTITION BY k1) AS a FROM t ORDER BY k1 NULLS FIRST, a";
        let p = plan(&ctx, sql).await;
        assert!(p.contains("HashWindowExec"), "{p}");
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let mut last: Option<Option<i64>> = None;
        let mut n = 0;
        for b in &batches {
            let k = b.column(0).as_primitive::<Int64Type>();
            for r in 0..b.num_rows() {
                let cur = k.is_valid(r).then(|| k.value(r));
                if let Some(prev) = last {
                    assert!(prev <= cur, "not sorted: {prev:?} then {cur:?}");
                }
                last = Some(cur);
                n += 1;
            }
        }
        assert_eq!(n, ROWS / 12 * 12, "every row");
    });
}

#[test]
fn past_the_memory_limit_a_partition_is_sorted_instead() {
    // 600k rows (about 27 MB) through a 32 MB pool: the hashed window gives up buffering and sorts
    // (spilling) instead, and gives what the sorted plan without a limit gives. One partition and
    // no ORDER BY on top: DataFusion's own sorts, racing for a small pool, fail now and then.
    let sql = "SELECT count(*) AS n, sum(a) AS sa, sum(p) AS sp
               FROM (SELECT id, avg(x) OVER (PARTITION BY k1, k2) AS a,
                            citation_percentile(x) OVER (PARTITION BY k1, k2) AS p FROM t) w";
    runtime().block_on(async {
        let limited = SessionBuilder::new(SessionOptions {
            memory_limit: Some(32 << 20),
            target_partitions: Some(1),
            ..Default::default()
        })
        .context()
        .unwrap();
        let sorted = session(true);
        for ctx in [&limited, &sorted] {
            ctx.deregister_table("t").ok();
            ctx.register_table("t", table_of(600_000)).unwrap();
        }
        limited
            .sql("SET datafusion.execution.sort_spill_reservation_bytes = 262144")
            .await
            .unwrap();
        let physical = limited
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let got = datafusion::physical_plan::collect(Arc::clone(&physical), limited.task_ctx())
            .await
            .unwrap();
        let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
            physical.as_ref(),
        )
        .indent(true)
        .to_string();
        assert!(shown.contains("HashWindowExec"), "{shown}");
        let fallbacks: usize = shown
            .split("sort_fallbacks=")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse::<usize>()
                    .unwrap()
            })
            .sum();
        assert_eq!(
            fallbacks, 1,
            "the one partition did not fall back to sorting:\n{shown}"
        );

        let want = sorted.sql(sql).await.unwrap().collect().await.unwrap();
        let values = |batches: &[RecordBatch]| -> Vec<f64> {
            (0..3)
                .map(|c| {
                    let v = cast(batches[0].column(c), &DataType::Float64).unwrap();
                    v.as_primitive::<Float64Type>().value(0)
                })
                .collect()
        };
        let (got, want) = (values(&got), values(&want));
        assert_eq!(got[0], (600_000 / 73 * 73) as f64, "every row");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() <= 1e-9 * g.abs().max(1.0),
                "{got:?} vs {want:?}"
            );
        }
    });
}

/// `z(id, k)`: `k` is -0.0 (30% of rows), 0.0 (20%), NaN (10%) or 1.5 (40%), in one partition.
fn signed_zeros(rows: usize) -> Arc<MemTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("k", DataType::Float64, true),
    ]));
    let batches = (0..rows)
        .collect::<Vec<_>>()
        .chunks(8192)
        .map(|ids| {
            let k: Float64Array = ids
                .iter()
                .map(|i| {
                    Some(match i % 10 {
                        0..3 => -0.0,
                        3..5 => 0.0,
                        5 => f64::NAN,
                        _ => 1.5,
                    })
                })
                .collect();
            let id: Int64Array = ids.iter().map(|&i| Some(i as i64)).collect();
            RecordBatch::try_new(Arc::clone(&schema), vec![Arc::new(id), Arc::new(k)]).unwrap()
        })
        .collect();
    Arc::new(MemTable::try_new(schema, vec![batches]).unwrap())
}

#[test]
fn signed_zeros_and_nans_are_partitioned_by_their_bits_on_every_path() {
    // bibflow's promise (docs/reliability.md): PARTITION BY over a float puts -0.0 and 0.0 in two
    // partitions (and NaNs with different bits apart), as DataFusion's sort-based window does,
    // whether the window is hashed, sorted (--sort-windows), or hashed and then sorted because the
    // memory pool refused (the fallback). GROUP BY keeps DataFusion's one group for -0.0 and 0.0.
    let rows = 400_000;
    let sql = "SELECT n, count(*) AS r FROM (SELECT count(*) OVER (PARTITION BY k) AS n FROM z) w \
               GROUP BY n ORDER BY n";
    let expected: Vec<(i64, i64)> = [40_000, 80_000, 120_000, 160_000]
        .into_iter()
        .map(|n| (n, n))
        .collect();
    runtime().block_on(async {
        let limited = SessionBuilder::new(SessionOptions {
            memory_limit: Some(4 << 20),
            target_partitions: Some(1),
            ..Default::default()
        })
        .context()
        .unwrap();
        limited
            .sql("SET datafusion.execution.sort_spill_reservation_bytes = 262144")
            .await
            .unwrap();
        let (hashed, sorted) = (session(false), session(true));
        for (name, ctx) in [
            ("hashed", &hashed),
            ("sorted", &sorted),
            ("fallback", &limited),
        ] {
            ctx.register_table("z", signed_zeros(rows)).unwrap();
            let physical = ctx
                .sql(sql)
                .await
                .unwrap()
                .create_physical_plan()
                .await
                .unwrap();
            let batches = datafusion::physical_plan::collect(Arc::clone(&physical), ctx.task_ctx())
                .await
                .unwrap();
            let shown = datafusion::physical_plan::display::DisplayableExecutionPlan::with_metrics(
                physical.as_ref(),
            )
            .indent(true)
            .to_string();
            assert_eq!(
                shown.contains("HashWindowExec"),
                name != "sorted",
                "{shown}"
            );
            if name == "fallback" {
                assert!(
                    !shown.contains("sort_fallbacks=0"),
                    "the hashed window did not fall back to sorting:\n{shown}"
                );
            }
            let got: Vec<(i64, i64)> = batches
                .iter()
                .flat_map(|b| {
                    let n = b.column(0).as_primitive::<Int64Type>().clone();
                    let r = b.column(1).as_primitive::<Int64Type>().clone();
                    (0..b.num_rows()).map(move |i| (n.value(i), r.value(i)))
                })
                .collect();
            assert_eq!(got, expected, "{name}: partitions of -0.0, 0.0, NaN, 1.5");
        }
        let groups = hashed
            .sql("SELECT count(*) FROM (SELECT k FROM z WHERE k = 0 GROUP BY k) g")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(
            groups[0].column(0).as_primitive::<Int64Type>().value(0),
            1,
            "GROUP BY puts -0.0 and 0.0 in one group"
        );
    });
}
