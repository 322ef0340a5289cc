-- name = "modality_growth"
-- title = "Growth of each modality: papers per year"
-- description = """
-- Papers per therapy modality and publication year (a paper of two modalities counts in both), and
-- the modality's share of that year's cell and gene therapy papers (distinct papers, so shares can sum
-- to more than 1)."""
-- finding = "1. Historical development of each modality"
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
-- [[columns]]
-- name = "modality"
-- description = "therapy modality"
-- [[columns]]
-- name = "year"
-- description = "publication year"
-- [[columns]]
-- name = "papers"
-- description = "papers of the modality"
-- [[columns]]
-- name = "share"
-- description = "papers / distinct CGT papers of the year"
-- [[report]]
-- order = 10
-- chart = { kind = "line", x = "year", y = "papers", series = "modality", title = "Papers per year by modality", y_label = "papers" }
WITH y AS (
    SELECT year, count(DISTINCT work_id) AS n
    FROM work_modality
    WHERE year BETWEEN $first_year AND $last_year
    GROUP BY year)
SELECT m.modality, m.year, count(*) AS papers,
       CAST(count(*) AS DOUBLE) / y.n AS share
FROM work_modality m
JOIN y ON m.year = y.year
GROUP BY m.modality, m.year, y.n
ORDER BY m.modality, m.year
