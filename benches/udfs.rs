//! Criterion benches of bibflow's functions (issue 5): per function, the UDF query against the same
//! indicator in plain SQL, both in DataFusion over the same Parquet files of a SYNTHETIC corpus.
//!
//! ```sh
//! export CARGO_TARGET_DIR=$HOME/.cache/bibflow-target
//! BIBFLOW_BENCH_ROWS=100000 cargo bench --locked --bench udfs     # smoke run
//! cargo bench --locked --bench udfs                               # 10M papers (the default)
//! python3 benches/udfs_duckdb.py --rows 10000000                  # DuckDB + the joint table
//! ```
//!
//! Environment: `BIBFLOW_BENCH_ROWS` (papers, default 10,000,000), `BIBFLOW_BENCH_CASES`
//! (comma-separated case names, default all), `BIBFLOW_BENCH_SECS` (criterion measurement time per
//! query, default 3; slow queries run 10 times whatever it says), `BIBFLOW_BENCH_DATA` (where the
//! corpus is cached, see `data::corpus_dir`).
//!
//! The cases are in `benches/udfs/cases.sql`. Before timing, every plain variant is checked against
//! the UDF row by row (relative difference at most 1e-9, same keys); a disagreement panics. The
//! per-variant `count(*)` and `sum(v)` are written to `<corpus>/datafusion-results.json` so the
//! DuckDB script can check its own results against them.

#[path = "udfs/cases.rs"]
mod cases;
#[path = "udfs/data.rs"]
mod data;

use std::time::{Duration, Instant};

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use criterion::{Criterion, SamplingMode};
use datafusion::prelude::SessionContext;

/// Relative tolerance of the agreement checks.
const TOLERANCE: f64 = 1e-9;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).map_or(default, |v| {
        v.replace(['_', ','], "")
            .parse()
            .unwrap_or_else(|e| panic!("{name}={v}: {e}"))
    })
}

async fn collect(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql)
        .await
        .unwrap_or_else(|e| panic!("planning failed: {e}\n{sql}"))
        .collect()
        .await
        .unwrap_or_else(|e| panic!("execution failed: {e}\n{sql}"))
}

fn f64_at(b: &RecordBatch, col: usize) -> Option<f64> {
    let a = cast(b.column(col), &DataType::Float64).expect("numeric column");
    let a = a.as_primitive::<Float64Type>();
    (!a.is_null(0)).then(|| a.value(0))
}

fn i64_at(b: &RecordBatch, col: usize) -> i64 {
    let a = cast(b.column(col), &DataType::Int64).expect("integer column");
    a.as_primitive::<Int64Type>().value(0)
}

/// `count(*)` and `sum(v)` of a variant (the timed query, run once).
async fn summary(ctx: &SessionContext, query: &str) -> (i64, Option<f64>) {
    let batches = collect(ctx, &cases::timed(query)).await;
    let b = batches.iter().find(|b| b.num_rows() > 0).expect("one row");
    (i64_at(b, 0), f64_at(b, 1))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOLERANCE * a.abs().max(b.abs()).max(1.0)
}

#[allow(
    clippy::print_stderr,
    reason = "a bench binary reports its data set and agreement checks on stderr"
)]
fn main() {
    let rows = env_usize("BIBFLOW_BENCH_ROWS", 10_000_000);
    let secs = env_usize("BIBFLOW_BENCH_SECS", 3);
    let only: Option<Vec<String>> = std::env::var("BIBFLOW_BENCH_CASES")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_owned()).collect());

    let t = Instant::now();
    let (dir, generated) = data::ensure_corpus(rows).expect("bench corpus");
    eprintln!(
        "bench corpus: {rows} SYNTHETIC papers in {} ({})",
        dir.display(),
        if generated {
            format!("generated in {:.1} s", t.elapsed().as_secs_f64())
        } else {
            "cached".to_owned()
        }
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let ctx = bibflow_engine::session::SessionBuilder::default()
        .context()
        .expect("session");
    rt.block_on(bibflow_engine::session::register_parquet_folder(
        &ctx,
        "works",
        &dir.join("works"),
        None,
    ))
    .expect("register works");
    rt.block_on(bibflow_engine::session::register_parquet_folder(
        &ctx,
        "countries",
        &dir.join("countries"),
        None,
    ))
    .expect("register countries");

    let all = cases::parse(cases::CASES_SQL);
    let selected: Vec<_> = all
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|o| o.contains(&c.name)))
        .collect();
    assert!(!selected.is_empty(), "BIBFLOW_BENCH_CASES selects no case");

    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(secs as u64))
        .configure_from_args();

    let results_path = dir.join("datafusion-results.json");
    let mut results: serde_json::Map<String, serde_json::Value> = std::fs::read(&results_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();

    for case in &selected {
        // Agreement first: every plain variant equals the UDF, row by row.
        let t = Instant::now();
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let (udf_name, udf_sql) = &case.variants[0];
        let (udf_n, udf_s) = rt.block_on(summary(&ctx, udf_sql));
        assert!(udf_n > 0, "{}: the UDF query returned no rows", case.name);
        let mut summaries = serde_json::Map::new();
        summaries.insert(
            udf_name.clone(),
            serde_json::json!({"n": udf_n, "sum": udf_s}),
        );
        for (name, sql) in &case.variants[1..] {
            let batches = rt.block_on(collect(&ctx, &cases::check(&case.keys, udf_sql, sql)));
            let b = batches.iter().find(|b| b.num_rows() > 0).expect("one row");
            let diff = f64_at(b, 0).unwrap_or(0.0);
            let one_side = i64_at(b, 1);
            let compared = i64_at(b, 2);
            assert!(
                diff <= TOLERANCE && one_side == 0 && compared == udf_n,
                "{}: `{name}` disagrees with `udf`: max relative difference {diff:e}, {one_side} \
                 keys on one side only, {compared} rows joined, the UDF gave {udf_n}",
                case.name
            );
            let (n, s) = rt.block_on(summary(&ctx, sql));
            assert!(
                n == udf_n
                    && match (s, udf_s) {
                        (Some(a), Some(b)) => close(a, b),
                        (None, None) => true,
                        _ => false,
                    },
                "{}: `{name}` gives count {n} sum {s:?}, the UDF {udf_n} {udf_s:?}",
                case.name
            );
            summaries.insert(name.clone(), serde_json::json!({"n": n, "sum": s}));
        }
        eprintln!(
            "{}: {} plain variant(s) agree with the UDF on {udf_n} rows (checked in {:.1} s)",
            case.name,
            case.variants.len() - 1,
            t.elapsed().as_secs_f64()
        );
        results.insert(
            case.name.clone(),
            serde_json::json!({"rows": rows, "started_at": started_at, "variants": summaries}),
        );
        std::fs::write(
            &results_path,
            serde_json::to_vec_pretty(&results).expect("json"),
        )
        .expect("write results");

        let mut group = criterion.benchmark_group(&case.name);
        group.sampling_mode(SamplingMode::Flat);
        for (name, sql) in &case.variants {
            let timed = cases::timed(sql);
            group.bench_function(name, |b| {
                b.iter(|| rt.block_on(collect(&ctx, &timed)));
            });
        }
        group.finish();
    }
    criterion.final_summary();
}
