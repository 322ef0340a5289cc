-- name = "country_output"
-- title = "Country output per modality and period, full and fractional"
-- description = """
-- Papers per country, modality and period: full counting (each country of a paper gets 1) and
-- fractional counting (`fractional` = author: author-level fractional, the Leiden default; country:
-- 1 / number of countries), and the country's share of the fractional total of the modality and
-- period (papers without a known country are left out of the total). With `modality` = all, each
-- paper counts once whatever its modalities. Rows are sorted by modality, period and fractional
-- papers, largest first."""
-- finding = "3. Country contribution by volume"
-- [[params]]
-- name = "modality"
-- type = "text"
-- default = "all"
-- allowed = ["all", "HSCT", "MSC", "ex vivo GT", "in vivo GT", "GT unspecified"]
-- description = "one modality, or all papers of the corpus"
-- [[params]]
-- name = "fractional"
-- type = "text"
-- default = "author"
-- allowed = ["author", "country"]
-- description = "the fractional counting mode"
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
-- default = 35
-- min = 1
-- max = 100
-- description = "length of a period in years (35: the whole study window)"
-- [[columns]]
-- name = "modality"
-- description = "the modality, or all"
-- [[columns]]
-- name = "period"
-- description = "first-last year of the period"
-- [[columns]]
-- name = "country"
-- description = "ISO 3166-1 alpha-2 code"
-- [[columns]]
-- name = "country_name"
-- description = "English short name"
-- [[columns]]
-- name = "papers_full"
-- description = "papers, full counting"
-- [[columns]]
-- name = "papers_fractional"
-- description = "papers, fractional counting"
-- [[columns]]
-- name = "share"
-- description = "papers_fractional / the period's fractional total"
-- [[report]]
-- order = 30
-- title = "Country output 1989-2023: top 15 countries (fractional counting)"
-- chart = { kind = "bar", x = "country", y = "papers_fractional", title = "Papers by country, 1989-2023 (author-level fractional counting)", limit = 15, y_label = "papers" }
-- [[report]]
-- order = 31
-- title = "Country output in MSC therapy, 1989-2023"
-- params = { modality = "MSC" }
-- chart = { kind = "bar", x = "country", y = "papers_fractional", title = "MSC papers by country, 1989-2023 (fractional)", limit = 15, y_label = "papers" }
WITH wm AS (
    -- One row per paper: DISTINCT over the paper's own columns only, the label added after it. A
    -- constant in a DISTINCT or GROUP BY key ('all', or the modality the WHERE fixes) sends
    -- DataFusion 55 into its partially-ordered aggregation, several times slower (docs/queries.md).
    SELECT work_id, $modality AS modality,
           $first_year + $period_years * ((year - $first_year) / $period_years) AS start
    FROM (SELECT DISTINCT work_id, year
          FROM work_modality
          WHERE ($modality = 'all' OR modality = $modality)
            AND year BETWEEN $first_year AND $last_year) d),
c AS (
    SELECT wm.modality, wm.start, c.country,
           fsum(c.full_weight) AS papers_full,
           fsum(CASE WHEN $fractional = 'country' THEN c.country_weight ELSE c.author_weight END)
               AS papers_fractional
    FROM wm JOIN work_country c ON wm.work_id = c.work_id
    GROUP BY wm.modality, wm.start, c.country)
SELECT modality, concat(start, '-', least(start + $period_years - 1, $last_year)) AS period,
       country, country_name(country) AS country_name,
       papers_full, papers_fractional,
       papers_fractional / fsum(papers_fractional) OVER (PARTITION BY modality, start) AS share
FROM c
ORDER BY modality, start, papers_fractional DESC, country
