-- The UDF benchmark cases (issue 5), read by benches/udfs.rs (DataFusion) and
-- benches/udfs_duckdb.py (DuckDB).
--
-- Format: `-- case: NAME` starts a case; `-- keys: a, b?` names the columns that identify a result
-- row (`?`: the column can be NULL, a NULL key matches a NULL key); `-- variant: NAME` starts a
-- query. The variant `udf` uses bibflow's functions; every other variant (`plain`, `plain_*`) is the same indicator in plain SQL (window functions, UNNEST,
-- GROUP BY, joins), taken from tests/it/cross_check.rs. Every query returns the key columns and
-- one numeric value `v`, one row per key. The bench times `SELECT count(*), sum(v) FROM (query)`
-- and, before timing, checks row by row that every variant equals `udf` (relative 1e-9).
--
-- The window forms run in bibflow's session, which computes windows over PARTITION BY only by
-- hashing (HashWindowExec), the UDF's and the plain SQL's alike.
--
-- The plain variants run unchanged in DataFusion and DuckDB. (Not `cardinality`: in DataFusion it
-- counts every element of a nested list, [[a, b], [c]] -> 3; the agreement check caught that.)
--
-- Table `works`: one row per paper of the SYNTHETIC bench corpus (benches/udfs/data.rs); table
-- `countries` (code, region): bibflow's shipped region table (udfs/data/countries.csv).
-- HK and MO count as CN and country codes compare upper-case, as the functions do by default.

-- case: ncs
-- keys: work_id
-- variant: udf
SELECT work_id,
       ncs(cited_by_count,
           avg(cited_by_count) OVER (PARTITION BY subfield_id, publication_year, type)) AS v
FROM works WHERE is_citable(type) AND subfield_id IS NOT NULL
-- variant: plain
SELECT work_id, CASE WHEN e = 0 THEN 1.0 ELSE c / e END AS v
FROM (SELECT work_id, CAST(cited_by_count AS DOUBLE) AS c,
             avg(cited_by_count) OVER (PARTITION BY subfield_id, publication_year, type) AS e
      FROM works
      WHERE type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
        AND subfield_id IS NOT NULL) s
-- variant: plain_groupjoin
WITH r AS (SELECT subfield_id, publication_year, type, avg(cited_by_count) AS e
           FROM works
           WHERE type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
             AND subfield_id IS NOT NULL
           GROUP BY 1, 2, 3)
SELECT w.work_id, CASE WHEN r.e = 0 THEN 1.0 ELSE CAST(w.cited_by_count AS DOUBLE) / r.e END AS v
FROM works w JOIN r ON w.subfield_id = r.subfield_id
     AND w.publication_year = r.publication_year AND w.type = r.type

-- case: top_share
-- keys: work_id
-- variant: udf
SELECT work_id,
       top_share(cited_by_count,
                 top_threshold(cited_by_count, 0.1)
                     OVER (PARTITION BY subfield_id, publication_year, type)) AS v
FROM works WHERE is_citable(type) AND subfield_id IS NOT NULL
-- variant: plain
SELECT work_id,
       CASE WHEN n_gt + k <= 0.1 * n THEN 1.0
            WHEN n_gt <= 0.1 * n THEN (0.1 * n - n_gt) / k
            ELSE 0.0 END AS v
FROM (SELECT work_id,
             CAST(count(*) OVER (PARTITION BY subfield_id, publication_year, type) AS DOUBLE) AS n,
             CAST(rank() OVER (PARTITION BY subfield_id, publication_year, type
                               ORDER BY cited_by_count DESC) - 1 AS DOUBLE) AS n_gt,
             CAST(count(*) OVER (PARTITION BY subfield_id, publication_year, type,
                                 cited_by_count) AS DOUBLE) AS k
      FROM works
      WHERE type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
        AND subfield_id IS NOT NULL) s

-- case: citation_percentile_openalex
-- keys: work_id
-- variant: udf
SELECT work_id,
       citation_percentile(cited_by_count)
           OVER (PARTITION BY subfield_id, publication_year, type) AS v
FROM works WHERE is_citable(type) AND subfield_id IS NOT NULL
-- variant: plain
SELECT work_id, (rank_min - 1) / (n + 1) AS v
FROM (SELECT work_id,
             CAST(count(*) OVER (PARTITION BY subfield_id, publication_year, type) AS DOUBLE) AS n,
             CAST(rank() OVER (PARTITION BY subfield_id, publication_year, type
                               ORDER BY cited_by_count) AS DOUBLE) AS rank_min
      FROM works
      WHERE type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
        AND subfield_id IS NOT NULL) s

-- case: citation_percentile_incites
-- keys: work_id
-- variant: udf
SELECT work_id,
       citation_percentile(cited_by_count, 'incites')
           OVER (PARTITION BY subfield_id, publication_year, type) AS v
FROM works WHERE is_citable(type) AND subfield_id IS NOT NULL
-- variant: plain
SELECT work_id, (n - (rank_min - 1)) / n AS v
FROM (SELECT work_id,
             CAST(count(*) OVER (PARTITION BY subfield_id, publication_year, type) AS DOUBLE) AS n,
             CAST(rank() OVER (PARTITION BY subfield_id, publication_year, type
                               ORDER BY cited_by_count) AS DOUBLE) AS rank_min
      FROM works
      WHERE type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
        AND subfield_id IS NOT NULL) s

-- case: country_shares_full
-- keys: work_id, country
-- variant: udf
SELECT work_id, s['country'] AS country, s['weight'] AS v
FROM (SELECT work_id, unnest(country_shares(author_countries, 'full')) AS s FROM works) u
WHERE s['country'] IS NOT NULL
-- variant: plain
SELECT DISTINCT work_id,
       CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(c)) END AS country,
       1.0 AS v
FROM (SELECT work_id, unnest(flatten(author_countries)) AS c FROM works) u
WHERE c IS NOT NULL AND trim(c) <> ''

-- case: country_shares_country
-- keys: work_id, country
-- variant: udf
SELECT work_id, s['country'] AS country, s['weight'] AS v
FROM (SELECT work_id, unnest(country_shares(author_countries, 'country')) AS s FROM works) u
WHERE s['country'] IS NOT NULL
-- variant: plain
SELECT work_id, country, 1.0 / count(*) OVER (PARTITION BY work_id) AS v
FROM (SELECT DISTINCT work_id,
             CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(c)) END AS country
      FROM (SELECT work_id, unnest(flatten(author_countries)) AS c FROM works) u
      WHERE c IS NOT NULL AND trim(c) <> '') d

-- case: country_shares_author
-- keys: work_id, country
-- variant: udf
SELECT work_id, s['country'] AS country, s['weight'] AS v
FROM (SELECT work_id, unnest(country_shares(author_countries, 'author')) AS s FROM works) u
WHERE s['country'] IS NOT NULL
-- variant: plain
SELECT work_id,
       CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(c)) END AS country,
       sum(1.0 / n_auth / n_aff) AS v
FROM (SELECT work_id, n_auth, array_length(ic) AS n_aff, unnest(ic) AS c
      FROM (SELECT work_id, array_length(author_countries) AS n_auth,
                   unnest(author_countries) AS ic
            FROM works) a
      WHERE array_length(ic) > 0) u
WHERE c IS NOT NULL AND trim(c) <> ''
GROUP BY 1, 2

-- case: collab_type
-- keys: work_id
-- variant: udf
SELECT work_id,
       CASE collab_type(flatten(author_countries))
           WHEN 'single-country' THEN 1 WHEN 'international' THEN 2 ELSE 0 END AS v
FROM works
-- variant: plain
SELECT w.work_id, CASE WHEN k.k IS NULL THEN 0 WHEN k.k = 1 THEN 1 ELSE 2 END AS v
FROM works w
LEFT JOIN (SELECT work_id, count(DISTINCT country) AS k
           FROM (SELECT work_id,
                        CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN'
                             ELSE upper(trim(c)) END AS country
                 FROM (SELECT work_id, unnest(flatten(author_countries)) AS c FROM works) u
                 WHERE c IS NOT NULL AND trim(c) <> '') d
           GROUP BY work_id) k ON w.work_id = k.work_id

-- case: country_pairs_full
-- keys: a, b
-- variant: udf
SELECT p['a'] AS a, p['b'] AS b, sum(p['weight']) AS v
FROM (SELECT unnest(country_pairs(flatten(author_countries), 'full')) AS p FROM works) u
GROUP BY 1, 2
-- variant: plain
WITH d AS (SELECT DISTINCT work_id,
                  CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(c)) END AS c
           FROM (SELECT work_id, unnest(flatten(author_countries)) AS c FROM works) u
           WHERE c IS NOT NULL AND trim(c) <> '')
SELECT x.c AS a, y.c AS b, count(*) AS v
FROM d x JOIN d y ON x.work_id = y.work_id AND x.c < y.c
GROUP BY 1, 2

-- case: country_pairs_fractional
-- keys: a, b
-- variant: udf
SELECT p['a'] AS a, p['b'] AS b, sum(p['weight']) AS v
FROM (SELECT unnest(country_pairs(flatten(author_countries), 'fractional')) AS p FROM works) u
GROUP BY 1, 2
-- variant: plain
WITH d AS (SELECT DISTINCT work_id,
                  CASE WHEN upper(trim(c)) IN ('HK', 'MO') THEN 'CN' ELSE upper(trim(c)) END AS c
           FROM (SELECT work_id, unnest(flatten(author_countries)) AS c FROM works) u
           WHERE c IS NOT NULL AND trim(c) <> ''),
     k AS (SELECT work_id, count(*) AS k FROM d GROUP BY work_id)
SELECT x.c AS a, y.c AS b, sum(1.0 / (k.k - 1)) AS v
FROM d x JOIN d y ON x.work_id = y.work_id AND x.c < y.c
JOIN k ON x.work_id = k.work_id
GROUP BY 1, 2

-- case: country_region
-- keys: region?
-- variant: udf
SELECT country_region(c) AS region, count(*) AS v
FROM (SELECT unnest(flatten(author_countries)) AS c FROM works) u
GROUP BY 1
-- variant: plain
SELECT k.region, count(*) AS v
FROM (SELECT unnest(flatten(author_countries)) AS c FROM works) u
LEFT JOIN countries k ON k.code = upper(trim(u.c))
GROUP BY 1

-- case: h_index
-- keys: subfield_id?, publication_year
-- variant: udf
SELECT subfield_id, publication_year, h_index(cited_by_count) AS v
FROM works GROUP BY 1, 2
-- variant: plain
SELECT subfield_id, publication_year, coalesce(max(CASE WHEN c >= rn THEN rn END), 0) AS v
FROM (SELECT subfield_id, publication_year, cited_by_count AS c,
             row_number() OVER (PARTITION BY subfield_id, publication_year
                                ORDER BY cited_by_count DESC NULLS LAST) AS rn
      FROM works) r
GROUP BY 1, 2

-- case: citations_in_window
-- keys: work_id
-- variant: udf
SELECT work_id, citations_in_window(cby_years, cby_counts, publication_year, 3) AS v
FROM works
-- variant: plain
SELECT w.work_id, coalesce(x.v, 0) AS v
FROM works w
LEFT JOIN (SELECT work_id, sum(CASE WHEN y BETWEEN py AND py + 3 THEN n ELSE 0 END) AS v
           FROM (SELECT work_id, publication_year AS py,
                        unnest(cby_years) AS y, unnest(cby_counts) AS n
                 FROM works) u
           GROUP BY work_id) x ON w.work_id = x.work_id

-- case: window_complete
-- keys: work_id
-- variant: udf
SELECT work_id, CASE WHEN window_complete(publication_year, 3, 2024) THEN 1 ELSE 0 END AS v
FROM works
-- variant: plain
SELECT work_id, CASE WHEN publication_year + 3 <= 2024 THEN 1 ELSE 0 END AS v
FROM works

-- case: is_citable
-- keys: work_id
-- variant: udf
SELECT work_id, CASE WHEN is_citable(type) THEN 1 ELSE 0 END AS v
FROM works
-- variant: plain
SELECT work_id,
       CASE WHEN type IN ('article', 'review', 'conference-paper', 'book', 'book-chapter')
            THEN 1 ELSE 0 END AS v
FROM works

-- case: clinical_stage
-- keys: work_id
-- variant: udf
SELECT work_id,
       CASE clinical_stage(publication_types, mesh_names)
           WHEN 'clinical trial' THEN 2 WHEN 'clinical (human)' THEN 1 ELSE 0 END AS v
FROM works
-- variant: plain
SELECT work_id,
       CASE WHEN NOT array_has(mesh_names, 'Humans') THEN 0
            WHEN array_has_any(publication_types,
                               ['Clinical Trial', 'Clinical Trial, Phase I',
                                'Clinical Trial, Phase II', 'Clinical Trial, Phase III',
                                'Clinical Trial, Phase IV', 'Randomized Controlled Trial',
                                'Controlled Clinical Trial', 'Pragmatic Clinical Trial',
                                'Clinical Study', 'Observational Study']) THEN 2
            ELSE 1 END AS v
FROM works
