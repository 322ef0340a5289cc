-- name = "modality_cagr"
-- title = "Growth of each modality: compound annual growth rate per period"
-- description = """
-- Papers per modality in periods of `period_years` years from `first_year`, and the compound annual
-- growth rate over the period, CAGR = (papers in its last year / papers in its first year)^(1 / (last
-- year - first year)) - 1; NULL when the first year has no paper or the period is one year long."""
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
-- [[params]]
-- name = "period_years"
-- type = "int"
-- default = 5
-- min = 1
-- max = 100
-- description = "length of a period in years"
-- [[columns]]
-- name = "modality"
-- description = "therapy modality"
-- [[columns]]
-- name = "period"
-- description = "first-last year of the period"
-- [[columns]]
-- name = "papers"
-- description = "papers of the modality in the period"
-- [[columns]]
-- name = "papers_first_year"
-- description = "papers in the period's first year"
-- [[columns]]
-- name = "papers_last_year"
-- description = "papers in the period's last year"
-- [[columns]]
-- name = "cagr"
-- description = "compound annual growth rate over the period"
-- [[report]]
-- order = 11
-- chart = { kind = "bar", x = "period", y = "cagr", series = "modality", title = "Compound annual growth rate per period", percent = true }
WITH c AS (
    SELECT modality, year, count(*) AS papers
    FROM work_modality
    WHERE year BETWEEN $first_year AND $last_year
    GROUP BY modality, year),
p AS (
    SELECT modality, year, papers,
           $first_year + $period_years * ((year - $first_year) / $period_years) AS start
    FROM c),
q AS (
    SELECT modality, start, least(start + $period_years - 1, $last_year) AS stop,
           sum(papers) AS papers,
           coalesce(sum(CASE WHEN year = start THEN papers END), 0) AS papers_first_year,
           coalesce(sum(CASE WHEN year = least(start + $period_years - 1, $last_year) THEN papers END), 0)
               AS papers_last_year
    FROM p GROUP BY modality, start)
SELECT modality, concat(start, '-', stop) AS period, papers, papers_first_year, papers_last_year,
       CASE WHEN papers_first_year > 0 AND stop > start
            THEN power(CAST(papers_last_year AS DOUBLE) / papers_first_year, 1.0 / (stop - start)) - 1
       END AS cagr
FROM q
ORDER BY modality, start
