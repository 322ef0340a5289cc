-- name = "work_country"
-- title = "The countries of each paper, with their credit"
-- description = """
-- One row per paper and country of its authors' affiliations, with the paper's credit to that
-- country in the three counting modes of docs/indicators.md: `full` (1), `country` (1 / number of
-- distinct countries) and `author` (author-level fractional, the Leiden default: `country_shares()`;
-- shares of authors without a known country are dropped, so a paper's author weights sum to at most
-- 1). An author's countries are those of their institutions, else those bibflow resolved from the raw
-- affiliation strings (PubMed). Hong Kong and Macao count as China. (`country_shares_agg()`, the
-- aggregate form of `country_shares()`, credits each paper from its authorship rows without
-- building a list of lists per paper: `array_agg` of lists took most of this view's time.)"""
-- [[columns]]
-- name = "work_id"
-- description = "the paper"
-- [[columns]]
-- name = "country"
-- description = "ISO 3166-1 alpha-2 code, upper-case"
-- [[columns]]
-- name = "author_weight"
-- description = "author-level fractional credit"
-- [[columns]]
-- name = "country_weight"
-- description = "1 / number of distinct countries of the paper"
-- [[columns]]
-- name = "full_weight"
-- description = "1"
WITH ac AS (
    -- An author's countries: those of their institutions, else those resolved from the raw
    -- affiliation strings.
    SELECT work_id,
           CASE WHEN cardinality(institution_countries) > 0 THEN institution_countries
                ELSE affiliation_countries END AS c
    FROM authorships),
a AS (
    -- The authorships are aggregated in two branches (OpenAlex ids >= 0, PubMed-only ids < 0) joined by
    -- UNION ALL. The result is the same as one GROUP BY, but a UNION drops the "work_id is unique"
    -- property that DataFusion 55 wrongly carries through UNNEST, which would let the optimizer drop a
    -- later DISTINCT or GROUP BY over this view (tests/slt/bug_*.slt fail without it).
    SELECT work_id, country_shares_agg(c, 'author') AS sa, country_shares_agg(c, 'country') AS sc
    FROM ac WHERE work_id >= 0 GROUP BY work_id
    UNION ALL
    SELECT work_id, country_shares_agg(c, 'author') AS sa, country_shares_agg(c, 'country') AS sc
    FROM ac WHERE work_id < 0 GROUP BY work_id),
-- The author and country weights come from two lists unnested side by side: both are sorted by
-- country and hold the same countries; only the author list has a last entry with a NULL country
-- (the dropped share), which the WHERE removes. (1 / count(*) OVER (PARTITION BY work_id) would
-- give the same country weight but needs a sort.)
s AS (
    SELECT work_id, unnest(sa) AS s, unnest(sc) AS t
    FROM a)
SELECT work_id, s['country'] AS country, s['weight'] AS author_weight,
       t['weight'] AS country_weight,
       1.0 AS full_weight
FROM s
WHERE s['country'] IS NOT NULL
