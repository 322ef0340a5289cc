//! Cross-check: the indicators through this module's functions equal the same indicators written
//! in plain SQL with window functions (AVG / RANK / COUNT OVER), on a seeded table split over
//! several partitions so that partial aggregation states are merged.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::common::Result;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::test_util::{assert_near, f64_column};

/// A small corpus: 14 reference sets (g1 x g2) of skewed, heavily tied counts, one set where
/// nobody is cited (g1 = 99) and one set of a single paper (g1 = 100).
fn corpus() -> Result<(Arc<Schema>, Vec<Vec<RecordBatch>>)> {
    let mut state: u64 = 0x5eed_b1bf_1000_0001;
    let mut next = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        state >> 33
    };
    let (mut id, mut g1, mut g2, mut c) = (vec![], vec![], vec![], vec![]);
    for i in 0..700i64 {
        let r = next();
        id.push(i);
        g1.push((r % 7) as i32);
        g2.push(2020 + ((r >> 8) % 2) as i32);
        let r2 = next();
        // Mostly 0-5 citations (many ties), a tail up to 80.
        c.push(if r2 % 10 == 0 {
            (r2 >> 4) % 80
        } else {
            (r2 >> 4) % 6
        } as i64);
    }
    for i in 0..5 {
        id.push(1000 + i);
        g1.push(99);
        g2.push(2020);
        c.push(0);
    }
    id.push(2000);
    g1.push(100);
    g2.push(2021);
    c.push(12);

    let schema = Arc::new(Schema::new(vec![
        Field::new("work_id", DataType::Int64, false),
        Field::new("g1", DataType::Int32, false),
        Field::new("g2", DataType::Int32, false),
        Field::new("c", DataType::Int64, true),
    ]));
    // Three partitions of uneven size, cut across reference sets.
    let mut partitions = Vec::new();
    for (from, to) in [(0, 250), (250, 251), (251, id.len())] {
        partitions.push(vec![RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(Int64Array::from(id[from..to].to_vec())),
                Arc::new(Int32Array::from(g1[from..to].to_vec())),
                Arc::new(Int32Array::from(g2[from..to].to_vec())),
                Arc::new(Int64Array::from(c[from..to].to_vec())),
            ],
        )?]);
    }
    Ok((schema, partitions))
}

async fn session() -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_target_partitions(4)
        .with_batch_size(64);
    let ctx = SessionContext::new_with_config(config);
    super::register(&ctx)?;
    let (schema, partitions) = corpus()?;
    ctx.register_table("works", Arc::new(MemTable::try_new(schema, partitions)?))?;
    Ok(ctx)
}

const WITH_FUNCTIONS: &str = "
WITH r AS (SELECT g1, g2, avg(c) AS e, top_threshold(c, 0.1) AS thr FROM works GROUP BY g1, g2)
SELECT w.work_id,
       ncs(w.c, r.e),
       top_share(w.c, r.thr),
       citation_percentile(w.c) OVER (PARTITION BY w.g1, w.g2),
       citation_percentile(w.c, 'incites') OVER (PARTITION BY w.g1, w.g2),
       w.g1, w.g2
FROM works w JOIN r USING (g1, g2)
ORDER BY w.work_id";

// n_gt = papers cited more (RANK DESC - 1), k = papers with the same count. A paper is above t
// when n_gt + k <= x n, at t when n_gt <= x n < n_gt + k (see top_threshold::threshold).
const PLAIN_SQL: &str = "
SELECT work_id,
       CASE WHEN e = 0 THEN 1.0 ELSE c / e END,
       CASE WHEN n_gt + k <= 0.1 * n THEN 1.0
            WHEN n_gt <= 0.1 * n THEN (0.1 * n - n_gt) / k
            ELSE 0.0 END,
       (rank_min - 1) / (n + 1),
       (n - (rank_min - 1)) / n
FROM (SELECT work_id,
             CAST(c AS DOUBLE) AS c,
             AVG(c) OVER (PARTITION BY g1, g2) AS e,
             CAST(COUNT(*) OVER (PARTITION BY g1, g2) AS DOUBLE) AS n,
             CAST(RANK() OVER (PARTITION BY g1, g2 ORDER BY c DESC) - 1 AS DOUBLE) AS n_gt,
             CAST(COUNT(*) OVER (PARTITION BY g1, g2, c) AS DOUBLE) AS k,
             CAST(RANK() OVER (PARTITION BY g1, g2 ORDER BY c) AS DOUBLE) AS rank_min
      FROM works) s
ORDER BY work_id";

#[tokio::test]
async fn functions_equal_plain_sql() -> Result<()> {
    let ctx = session().await?;
    for col in 0..5 {
        let got = f64_column(&ctx, WITH_FUNCTIONS, col).await?;
        let want = f64_column(&ctx, PLAIN_SQL, col).await?;
        assert_eq!(got.len(), 706);
        assert_eq!(got.len(), want.len());
        for (row, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!(
                (g.unwrap() - w.unwrap()).abs() <= 1e-9,
                "column {col}, row {row}: functions {g:?}, plain SQL {w:?}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn per_set_invariants() -> Result<()> {
    let ctx = session().await?;
    let ncs = f64_column(&ctx, WITH_FUNCTIONS, 1).await?;
    let top = f64_column(&ctx, WITH_FUNCTIONS, 2).await?;
    let g1 = f64_column(&ctx, WITH_FUNCTIONS, 5).await?;
    let g2 = f64_column(&ctx, WITH_FUNCTIONS, 6).await?;
    // (sum ncs, sum top, n) per set.
    let mut sets: HashMap<(i64, i64), (f64, f64, f64)> = HashMap::new();
    for i in 0..ncs.len() {
        let s = sets
            .entry((g1[i].unwrap() as i64, g2[i].unwrap() as i64))
            .or_default();
        s.0 += ncs[i].unwrap();
        s.1 += top[i].unwrap();
        s.2 += 1.0;
    }
    assert_eq!(sets.len(), 16);
    for ((g1, _), (sum_ncs, sum_top, n)) in sets {
        // Mean NCS is 1 in every set, the all-zero set included (each NCS is 1 there).
        assert_near(sum_ncs / n, 1.0);
        assert_near(sum_top, 0.1 * n);
        if g1 == 100 {
            assert_eq!(n, 1.0);
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_function_is_registered_by_name() -> Result<()> {
    let ctx = SessionContext::new();
    super::register(&ctx)?;
    let state = ctx.state();
    let mut names = Vec::new();
    for f in super::scalar_functions() {
        assert!(state.scalar_functions().contains_key(f.name()));
        names.push(f.name().to_string());
        assert!(
            f.documentation().is_some(),
            "{} has no documentation",
            f.name()
        );
    }
    for f in super::aggregate_functions() {
        assert!(state.aggregate_functions().contains_key(f.name()));
        names.push(f.name().to_string());
        assert!(f.documentation().is_some());
    }
    for f in super::window_functions() {
        assert!(state.window_functions().contains_key(f.name()));
        names.push(f.name().to_string());
        assert!(f.documentation().is_some());
    }
    let n = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "two functions share a name");
    Ok(())
}
