-- name = "country_trends"
-- title = "Country shares per year in a modality"
-- description = """
-- For the listed countries: papers (fractional counting) per publication year in the modality, and
-- the share of the year's fractional total (all countries). Shows who leads when, e.g. China's rise in
-- MSC therapy."""
-- finding = "3. Country contribution: trends"
-- [[params]]
-- name = "modality"
-- type = "text"
-- default = "MSC"
-- allowed = ["all", "HSCT", "MSC", "ex vivo GT", "in vivo GT", "GT unspecified"]
-- description = "one modality, or all papers of the corpus"
-- [[params]]
-- name = "countries"
-- type = "text"
-- default = "US,CN,JP,DE,GB,KR"
-- description = "comma-separated ISO 3166-1 alpha-2 codes"
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
-- [[columns]]
-- name = "modality"
-- description = "the modality, or all"
-- [[columns]]
-- name = "year"
-- description = "publication year"
-- [[columns]]
-- name = "country"
-- description = "ISO 3166-1 alpha-2 code"
-- [[columns]]
-- name = "papers"
-- description = "papers, fractional counting"
-- [[columns]]
-- name = "share"
-- description = "papers / the year's fractional total"
-- [[report]]
-- order = 34
-- title = "Country shares per year in MSC therapy"
-- chart = { kind = "line", x = "year", y = "share", series = "country", title = "Share of MSC papers per year (fractional counting)", percent = true }
-- [[report]]
-- order = 35
-- title = "Country shares per year in HSCT"
-- params = { modality = "HSCT" }
-- chart = { kind = "line", x = "year", y = "share", series = "country", title = "Share of HSCT papers per year (fractional counting)", percent = true }
WITH wm AS (
    -- One row per paper: DISTINCT over the paper's own columns only, the label added after it. A
    -- constant in a DISTINCT or GROUP BY key ('all', or the modality the WHERE fixes) sends
    -- DataFusion 55 into its partially-ordered aggregation, several times slower (docs/queries.md).
    SELECT work_id, $modality AS modality, year
    FROM (SELECT DISTINCT work_id, year
          FROM work_modality
          WHERE ($modality = 'all' OR modality = $modality)
            AND year BETWEEN $first_year AND $last_year) d),
c AS (
    SELECT wm.modality, wm.year, c.country,
           fsum(CASE WHEN $fractional = 'country' THEN c.country_weight ELSE c.author_weight END) AS papers
    FROM wm JOIN work_country c ON wm.work_id = c.work_id
    GROUP BY wm.modality, wm.year, c.country),
s AS (
    SELECT modality, year, country, papers,
           papers / fsum(papers) OVER (PARTITION BY modality, year) AS share
    FROM c)
SELECT modality, year, country, papers, share
FROM s
WHERE array_has(string_to_array(upper(replace($countries, ' ', '')), ','), country)
ORDER BY modality, country, year
