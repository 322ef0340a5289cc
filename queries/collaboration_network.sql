-- name = "collaboration_network"
-- title = "Country or region collaboration network"
-- description = """
-- One row per pair of countries (or regions) that co-authored: links, full (each co-authored paper
-- adds 1) or fractional (a paper with k units adds 1 / (k - 1) to each of its pairs, so a unit's
-- links sum to at most its papers, as VOSviewer does), the papers of both ends (full counting), and
-- the association strength AS = links / (papers_a * papers_b) (VOSviewer normalisation), also scaled
-- by the number of papers N (N * AS = 1 when co-authorship is as frequent as chance predicts).
-- Pairs with fewer than `min_links` links are left out. Exported as a table, GraphML, GEXF and
-- VOSviewer map and network files by `bibflow report`."""
-- finding = "5. Collaboration network"
-- [[params]]
-- name = "level"
-- type = "text"
-- default = "country"
-- allowed = ["country", "region"]
-- description = "the unit"
-- [[params]]
-- name = "counting"
-- type = "text"
-- default = "full"
-- allowed = ["full", "fractional"]
-- description = "how links are counted"
-- [[params]]
-- name = "modality"
-- type = "text"
-- default = "all"
-- allowed = ["all", "HSCT", "MSC", "ex vivo GT", "in vivo GT", "GT unspecified"]
-- description = "one modality, or all papers of the corpus"
-- [[params]]
-- name = "first_year"
-- type = "int"
-- default = 1989
-- min = 1800
-- max = 2100
-- description = "first publication year"
-- [[params]]
-- name = "last_year"
-- type = "int"
-- default = 2023
-- min = 1800
-- max = 2100
-- description = "last publication year"
-- [[params]]
-- name = "min_links"
-- type = "float"
-- default = 20.0
-- min = 0.0
-- description = "smallest number of links shown"
-- [[columns]]
-- name = "a"
-- description = "one end (the smaller code or name)"
-- [[columns]]
-- name = "b"
-- description = "the other end"
-- [[columns]]
-- name = "links"
-- description = "co-authored papers (full) or fractional links"
-- [[columns]]
-- name = "papers_a"
-- description = "papers of a (full counting)"
-- [[columns]]
-- name = "papers_b"
-- description = "papers of b (full counting)"
-- [[columns]]
-- name = "association_strength"
-- description = "links / (papers_a * papers_b)"
-- [[columns]]
-- name = "relative_strength"
-- description = "N * association_strength, N = papers with a known unit"
-- [[report]]
-- order = 52
-- title = "Country collaboration network (pairs with at least 20 co-authored papers)"
-- chart = { kind = "network", source = "a", target = "b", weight = "links", title = "Country collaboration network (full counting)" }
-- exports = ["graphml", "gexf", "vosviewer"]
-- [[report]]
-- order = 53
-- title = "Region collaboration network"
-- params = { level = "region", min_links = 1.0 }
-- chart = { kind = "network", source = "a", target = "b", weight = "links", title = "Region collaboration network (full counting)" }
-- exports = ["graphml", "gexf", "vosviewer"]

-- One pass over the papers: each paper's distinct units as a list, unnested twice into all its
-- ordered pairs (a, b). Rows a = b count the papers of a unit, rows a < b are the links. (A
-- self-join of the paper-unit rows would make DataFusion recompute them once per reference.)
WITH u AS (
    SELECT DISTINCT work_id,
           CASE WHEN $level = 'region' THEN coalesce(country_region(country), 'Unknown region')
                ELSE country END AS unit
    FROM work_country
    WHERE work_id IN (SELECT work_id FROM work_modality
                      WHERE ($modality = 'all' OR modality = $modality)
                        AND year BETWEEN $first_year AND $last_year)),
g AS (
    SELECT work_id, array_agg(unit) AS units FROM u GROUP BY work_id),
p AS (
    SELECT a, unnest(units) AS b, k
    FROM (SELECT unnest(units) AS a, units, cardinality(units) AS k FROM g)),
agg AS (
    SELECT a, b,
           fsum(CASE WHEN a = b THEN 1.0
                    WHEN $counting = 'fractional' THEN 1.0 / (k - 1)
                    ELSE 1.0 END) AS v
    FROM p WHERE a <= b GROUP BY a, b),
w AS (
    SELECT a, b, v AS links,
           max(CASE WHEN a = b THEN v END) OVER (PARTITION BY a) AS papers_a,
           max(CASE WHEN a = b THEN v END) OVER (PARTITION BY b) AS papers_b
    FROM agg),
total AS (
    SELECT count(*) AS n FROM g)
SELECT w.a, w.b, w.links,
       CAST(w.papers_a AS BIGINT) AS papers_a, CAST(w.papers_b AS BIGINT) AS papers_b,
       w.links / (w.papers_a * w.papers_b) AS association_strength,
       total.n * w.links / (w.papers_a * w.papers_b) AS relative_strength
FROM w CROSS JOIN total
WHERE w.a < w.b AND w.links >= $min_links
ORDER BY w.links DESC, w.a, w.b
