-- name = "international_collaboration"
-- title = "International collaboration rate per country or region"
-- description = """
-- Per country (or region: each country's region from bibflow's country table), the papers with at
-- least one author there (full counting) and the share of them that are international (two or more
-- distinct countries). Units with fewer than `min_papers` papers are left out. Sorted by papers."""
-- finding = "5. International collaboration"
-- [[params]]
-- name = "level"
-- type = "text"
-- default = "country"
-- allowed = ["country", "region"]
-- description = "the unit"
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
-- default = 100
-- min = 0
-- description = "smallest number of papers shown"
-- [[columns]]
-- name = "unit"
-- description = "country code or region name"
-- [[columns]]
-- name = "papers"
-- description = "papers with an author in the unit (full counting)"
-- [[columns]]
-- name = "international_papers"
-- description = "of which international"
-- [[columns]]
-- name = "international_share"
-- description = "international_papers / papers"
-- [[report]]
-- order = 50
-- title = "International collaboration rate of the 15 largest countries"
-- chart = { kind = "bar", x = "unit", y = "international_share", title = "Share of internationally co-authored papers, 15 largest countries", limit = 15, percent = true }
-- [[report]]
-- order = 51
-- title = "International collaboration rate per region"
-- params = { level = "region", min_papers = 0 }
-- chart = { kind = "bar", x = "unit", y = "international_share", title = "Share of internationally co-authored papers per region", percent = true }
WITH wm AS (
    SELECT DISTINCT work_id FROM work_modality
    WHERE ($modality = 'all' OR modality = $modality)
      AND year BETWEEN $first_year AND $last_year),
u AS (
    SELECT DISTINCT c.work_id,
           CASE WHEN $level = 'region' THEN coalesce(country_region(c.country), 'Unknown region')
                ELSE c.country END AS unit
    FROM wm JOIN work_country c ON wm.work_id = c.work_id)
SELECT u.unit, count(*) AS papers,
       sum(CASE WHEN k.collaboration = 'international' THEN 1 ELSE 0 END) AS international_papers,
       favg(CASE WHEN k.collaboration = 'international' THEN 1.0 ELSE 0.0 END) AS international_share
FROM u JOIN work_collab k ON u.work_id = k.work_id
GROUP BY u.unit
HAVING count(*) >= $min_papers
ORDER BY papers DESC, u.unit
