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
WITH wm AS (
    SELECT DISTINCT work_id FROM work_modality
    WHERE ($modality = 'all' OR modality = $modality)
      AND year BETWEEN $first_year AND $last_year),
u AS (
    SELECT DISTINCT c.work_id,
           CASE WHEN $level = 'region' THEN coalesce(country_region(c.country), 'Unknown region')
                ELSE c.country END AS unit
    FROM wm JOIN work_country c ON wm.work_id = c.work_id),
k AS (
    SELECT work_id, count(*) AS k FROM u GROUP BY work_id),
n AS (
    SELECT unit, count(*) AS papers FROM u GROUP BY unit),
total AS (
    SELECT count(*) AS n FROM k),
l AS (
    SELECT x.unit AS a, y.unit AS b,
           sum(CASE WHEN $counting = 'fractional' THEN 1.0 / (k.k - 1) ELSE 1.0 END) AS links
    FROM u x
    JOIN u y ON x.work_id = y.work_id AND x.unit < y.unit
    JOIN k ON x.work_id = k.work_id
    GROUP BY x.unit, y.unit)
SELECT l.a, l.b, l.links, na.papers AS papers_a, nb.papers AS papers_b,
       l.links / (CAST(na.papers AS DOUBLE) * nb.papers) AS association_strength,
       total.n * l.links / (CAST(na.papers AS DOUBLE) * nb.papers) AS relative_strength
FROM l
JOIN n na ON l.a = na.unit
JOIN n nb ON l.b = nb.unit
CROSS JOIN total
WHERE l.links >= $min_links
ORDER BY l.links DESC, l.a, l.b
