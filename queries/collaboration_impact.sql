-- name = "collaboration_impact"
-- title = "Impact of international versus single-country papers"
-- description = """
-- MCS, MNCS and PP(top 10%) of international and single-country papers (`work_collab`), over all
-- papers (unit `all`) and per country (full counting: a paper counts for each of its countries), for
-- citable papers with a subfield (`work_impact`). A country is shown only with papers of both types,
-- at least `min_papers` of each (a comparison needs both sides)."""
-- finding = "4. International collaboration and impact"
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
-- name = "min_papers"
-- type = "int"
-- default = 50
-- min = 0
-- description = "smallest number of papers of each type for a country to be shown"
-- [[columns]]
-- name = "unit"
-- description = "all, or a country code"
-- [[columns]]
-- name = "collaboration"
-- description = "international or single-country"
-- [[columns]]
-- name = "papers"
-- description = "papers"
-- [[columns]]
-- name = "mcs"
-- description = "mean citation score"
-- [[columns]]
-- name = "mncs"
-- description = "mean normalised citation score"
-- [[columns]]
-- name = "pp_top10"
-- description = "share of top-10% papers"
-- [[report]]
-- order = 40
-- chart = { kind = "bar", x = "unit", y = "mncs", series = "collaboration", title = "MNCS of international and single-country papers", limit = 11, y_label = "MNCS" }
WITH wm AS (
    SELECT DISTINCT work_id FROM work_modality
    WHERE ($modality = 'all' OR modality = $modality)
      AND year BETWEEN $first_year AND $last_year),
p AS (
    SELECT wm.work_id, k.collaboration, i.citations, i.ncs, i.top10
    FROM wm
    JOIN work_collab k ON wm.work_id = k.work_id
    JOIN work_impact i ON wm.work_id = i.work_id),
overall AS (
    SELECT 'all' AS unit, collaboration, count(*) AS papers, favg(citations) AS mcs,
           favg(ncs) AS mncs, favg(top10) AS pp_top10
    FROM p GROUP BY collaboration),
per_country AS (
    SELECT c.country AS unit, p.collaboration, count(*) AS papers, favg(p.citations) AS mcs,
           favg(p.ncs) AS mncs, favg(p.top10) AS pp_top10
    FROM p JOIN work_country c ON p.work_id = c.work_id
    GROUP BY c.country, p.collaboration),
big AS (
    SELECT unit FROM per_country GROUP BY unit
    HAVING count(*) = 2 AND min(papers) >= $min_papers),
r AS (
    SELECT * FROM overall
    UNION ALL
    SELECT pc.* FROM per_country pc JOIN big ON pc.unit = big.unit),
t AS (
    SELECT r.*, CASE WHEN unit = 'all' THEN 0 ELSE 1 END AS is_country,
           sum(papers) OVER (PARTITION BY unit) AS unit_papers
    FROM r)
SELECT unit, collaboration, papers, mcs, mncs, pp_top10
FROM t
ORDER BY is_country, unit_papers DESC, unit, collaboration
