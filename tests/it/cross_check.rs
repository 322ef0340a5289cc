//! Cross-check at corpus scale (issue 5): on a generated corpus, each counting and impact function
//! gives the same indicator as plain SQL (window AVG / RANK / COUNT, UNNEST, GROUP BY, self-joins)
//! to 1e-9. The same check on a small hand-made table lives in `udfs/src/impact/cross_check.rs`;
//! this one runs over the real shapes of a corpus (team sizes, multiple affiliations, thousands of
//! reference sets) read from Parquet.

use std::path::PathBuf;
use std::sync::OnceLock;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Float64Type, Int64Type};

use crate::common::bibflow_ok;

fn corpus() -> &'static (tempfile::TempDir, PathBuf) {
    static C: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ds = dir.path().join("cgt");
        bibflow_ok(&[
            "--quiet",
            "generate",
            "--works",
            "30000",
            "--seed",
            "5",
            "--out",
            ds.to_str().unwrap(),
        ]);
        (dir, ds)
    })
}

/// Runs `sql` (one row: `diff` DOUBLE, `mismatched` BIGINT, `compared` BIGINT) and checks that the
/// largest difference is within 1e-9, no key is on one side only, and enough rows were compared.
fn check(what: &str, sql: &str, min_rows: i64) {
    let rt = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    let batches = rt.block_on(async {
        let session = bibflow_engine::session::SessionBuilder::default()
            .dataset(&corpus().1)
            .build()
            .await
            .unwrap();
        session
            .ctx()
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
            .collect()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"))
    });
    let b = &batches[0];
    let diff = b.column(0).as_primitive::<Float64Type>();
    let mismatched = b.column(1).as_primitive::<Int64Type>().value(0);
    let compared = b.column(2).as_primitive::<Int64Type>().value(0);
    assert!(
        compared >= min_rows,
        "{what}: only {compared} rows compared"
    );
    assert_eq!(mismatched, 0, "{what}: {mismatched} keys on one side only");
    assert!(!diff.is_null(0), "{what}: no difference computed");
    assert!(
        diff.value(0) <= 1e-9,
        "{what}: max difference {}",
        diff.value(0)
    );
}

/// HK and MO count as CN; codes compare upper-case (as the functions do by default).
const NORM: &str = "CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(c)) END";

#[test]
fn impact_functions_equal_plain_sql_on_a_corpus() {
    check(
        "ncs, top_share, citation_percentile",
        "WITH r AS (
             SELECT subfield_id, publication_year, type, avg(cited_by_count) AS e,
                    top_threshold(cited_by_count, 0.1) AS thr
             FROM works WHERE is_citable(type) AND subfield_id IS NOT NULL
             GROUP BY 1, 2, 3),
         f AS (
             SELECT w.work_id, ncs(w.cited_by_count, r.e) AS ncs,
                    top_share(w.cited_by_count, r.thr) AS top10,
                    citation_percentile(w.cited_by_count)
                        OVER (PARTITION BY w.subfield_id, w.publication_year, w.type) AS pct,
                    citation_percentile(w.cited_by_count, 'incites')
                        OVER (PARTITION BY w.subfield_id, w.publication_year, w.type) AS inc
             FROM works w JOIN r ON w.subfield_id = r.subfield_id
                  AND w.publication_year = r.publication_year AND w.type = r.type),
         s AS (
             SELECT work_id, CAST(cited_by_count AS DOUBLE) AS c,
                    avg(cited_by_count) OVER p AS e,
                    CAST(count(*) OVER p AS DOUBLE) AS n,
                    CAST(rank() OVER (PARTITION BY subfield_id, publication_year, type
                                      ORDER BY cited_by_count DESC) - 1 AS DOUBLE) AS n_gt,
                    CAST(count(*) OVER (PARTITION BY subfield_id, publication_year, type,
                                        cited_by_count) AS DOUBLE) AS k,
                    CAST(rank() OVER (PARTITION BY subfield_id, publication_year, type
                                      ORDER BY cited_by_count) AS DOUBLE) AS rank_min
             FROM works
             WHERE type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
               AND subfield_id IS NOT NULL
             WINDOW p AS (PARTITION BY subfield_id, publication_year, type)),
         p AS (
             SELECT work_id,
                    CASE WHEN e = 0 THEN 1.0 ELSE c / e END AS ncs,
                    CASE WHEN n_gt + k <= 0.1 * n THEN 1.0
                         WHEN n_gt <= 0.1 * n THEN (0.1 * n - n_gt) / k
                         ELSE 0.0 END AS top10,
                    (rank_min - 1) / (n + 1) AS pct,
                    (n - (rank_min - 1)) / n AS inc
             FROM s)
         SELECT max(greatest(abs(f.ncs - p.ncs), abs(f.top10 - p.top10),
                             abs(f.pct - p.pct), abs(f.inc - p.inc))) AS diff,
                sum(CASE WHEN f.work_id IS NULL OR p.work_id IS NULL THEN 1 ELSE 0 END) AS mismatched,
                count(*) AS compared
         FROM f FULL JOIN p ON f.work_id = p.work_id",
        20_000,
    );
}

#[test]
fn country_shares_equal_plain_sql_on_a_corpus() {
    // Author mode: each author 1/n (n = authorships of the paper), split equally over the author's
    // affiliations, each affiliation's share to its country; unknown countries dropped.
    let author_plain = format!(
        "WITH a AS (
             SELECT work_id, institution_countries AS ic,
                    count(*) OVER (PARTITION BY work_id) AS n_auth
             FROM authorships),
         u AS (
             SELECT work_id, n_auth, cardinality(ic) AS n_aff, unnest(ic) AS c
             FROM a WHERE cardinality(ic) > 0)
         SELECT work_id, {NORM} AS country, sum(1.0 / n_auth / n_aff) AS w
         FROM u WHERE c IS NOT NULL AND trim(c) <> '' GROUP BY 1, 2"
    );
    let distinct_plain = format!(
        "SELECT DISTINCT work_id, {NORM} AS country
         FROM (SELECT work_id, unnest(institution_countries) AS c FROM authorships)
         WHERE c IS NOT NULL AND trim(c) <> ''"
    );
    for (mode, plain) in [
        ("author", author_plain),
        (
            "country",
            format!(
                "SELECT work_id, country, 1.0 / count(*) OVER (PARTITION BY work_id) AS w
                 FROM ({distinct_plain})"
            ),
        ),
        (
            "full",
            format!("SELECT work_id, country, 1.0 AS w FROM ({distinct_plain})"),
        ),
    ] {
        // The scalar over array_agg, and the aggregate form the work_country view uses.
        for shares in [
            format!("country_shares(array_agg(institution_countries), '{mode}')"),
            format!("country_shares_agg(institution_countries, '{mode}')"),
        ] {
            check(
                &shares,
                &format!(
                    "WITH f AS (
                         SELECT work_id, s['country'] AS country, s['weight'] AS w
                         FROM (SELECT work_id, unnest({shares}) AS s
                               FROM authorships GROUP BY work_id)
                         WHERE s['country'] IS NOT NULL),
                     p AS ({plain})
                     SELECT max(abs(f.w - p.w)) AS diff,
                            sum(CASE WHEN f.work_id IS NULL OR p.work_id IS NULL THEN 1 ELSE 0 END)
                                AS mismatched,
                            count(*) AS compared
                     FROM f FULL JOIN p ON f.work_id = p.work_id AND f.country = p.country"
                ),
                20_000,
            );
        }
    }
}

#[test]
fn collaboration_functions_equal_plain_sql_on_a_corpus() {
    let distinct = format!(
        "SELECT DISTINCT work_id, {NORM} AS c
         FROM (SELECT work_id, unnest(countries) AS c FROM authorships)
         WHERE c IS NOT NULL AND trim(c) <> ''"
    );
    // collab_type: compared as 0/1/2 codes so the difference is numeric.
    check(
        "collab_type",
        &format!(
            "WITH f AS (
                 SELECT work_id, collab_type(flatten(array_agg(countries))) AS t
                 FROM authorships GROUP BY work_id),
             k AS (SELECT work_id, count(*) AS k FROM ({distinct}) GROUP BY work_id),
             p AS (
                 SELECT w.work_id, CASE WHEN k.k IS NULL THEN 'unknown'
                                        WHEN k.k = 1 THEN 'single-country'
                                        ELSE 'international' END AS t
                 FROM (SELECT DISTINCT work_id FROM authorships) w
                 LEFT JOIN k ON w.work_id = k.work_id)
             SELECT max(CASE WHEN f.t = p.t THEN 0.0 ELSE 1.0 END) AS diff,
                    sum(CASE WHEN f.work_id IS NULL OR p.work_id IS NULL THEN 1 ELSE 0 END)
                        AS mismatched,
                    count(*) AS compared
             FROM f FULL JOIN p ON f.work_id = p.work_id"
        ),
        20_000,
    );
    // country_pairs, summed per pair over the corpus (full and fractional).
    for (mode, weight) in [("full", "1.0"), ("fractional", "1.0 / (k.k - 1)")] {
        check(
            &format!("country_pairs {mode}"),
            &format!(
                "WITH f AS (
                     SELECT p['a'] AS a, p['b'] AS b, sum(p['weight']) AS w
                     FROM (SELECT unnest(country_pairs(flatten(array_agg(countries)), '{mode}')) AS p
                           FROM authorships GROUP BY work_id)
                     GROUP BY 1, 2),
                 d AS ({distinct}),
                 k AS (SELECT work_id, count(*) AS k FROM d GROUP BY work_id),
                 p AS (
                     SELECT x.c AS a, y.c AS b, sum({weight}) AS w
                     FROM d x JOIN d y ON x.work_id = y.work_id AND x.c < y.c
                     JOIN k ON x.work_id = k.work_id
                     GROUP BY 1, 2)
                 SELECT max(abs(f.w - p.w)) AS diff,
                        sum(CASE WHEN f.a IS NULL OR p.a IS NULL THEN 1 ELSE 0 END) AS mismatched,
                        count(*) AS compared
                 FROM f FULL JOIN p ON f.a = p.a AND f.b = p.b"
            ),
            100,
        );
    }
}

#[test]
fn h_index_and_citation_windows_equal_plain_sql_on_a_corpus() {
    check(
        "h_index per subfield and year",
        "WITH f AS (
             SELECT subfield_id, publication_year, h_index(cited_by_count) AS h
             FROM works GROUP BY 1, 2),
         r AS (
             SELECT subfield_id, publication_year, cited_by_count AS c,
                    row_number() OVER (PARTITION BY subfield_id, publication_year
                                       ORDER BY cited_by_count DESC) AS rn
             FROM works),
         p AS (
             SELECT g.subfield_id, g.publication_year,
                    coalesce(max(CASE WHEN r.c >= r.rn THEN r.rn END), 0) AS h
             FROM (SELECT DISTINCT subfield_id, publication_year FROM works) g
             JOIN r ON (g.subfield_id IS NOT DISTINCT FROM r.subfield_id)
                   AND g.publication_year = r.publication_year
             GROUP BY 1, 2)
         SELECT max(abs(CAST(f.h AS DOUBLE) - CAST(p.h AS DOUBLE))) AS diff,
                sum(CASE WHEN f.publication_year IS NULL OR p.publication_year IS NULL
                         THEN 1 ELSE 0 END) AS mismatched,
                count(*) AS compared
         FROM f FULL JOIN p ON (f.subfield_id IS NOT DISTINCT FROM p.subfield_id)
                           AND f.publication_year = p.publication_year",
        100,
    );
    check(
        "citations_in_window n = 3",
        "WITH y AS (
             SELECT work_id, array_agg(year ORDER BY year) AS years,
                    array_agg(cited_by_count ORDER BY year) AS counts
             FROM work_citations_by_year GROUP BY work_id),
         f AS (
             SELECT w.work_id, citations_in_window(y.years, y.counts, w.publication_year, 3) AS c3
             FROM works w JOIN y ON w.work_id = y.work_id),
         p AS (
             SELECT w.work_id, sum(c.cited_by_count) AS c3
             FROM works w JOIN work_citations_by_year c ON w.work_id = c.work_id
             WHERE c.year BETWEEN w.publication_year AND w.publication_year + 3
             GROUP BY w.work_id),
         both AS (
             SELECT f.work_id AS fw, p.work_id AS pw,
                    CAST(f.c3 AS DOUBLE) AS a, CAST(coalesce(p.c3, 0) AS DOUBLE) AS b
             FROM f LEFT JOIN p ON f.work_id = p.work_id)
         SELECT max(abs(a - b)) AS diff,
                sum(CASE WHEN fw IS NULL THEN 1 ELSE 0 END) AS mismatched,
                count(*) AS compared
         FROM both",
        10_000,
    );
}
