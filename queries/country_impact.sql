-- name = "country_impact"
-- title = "Country citation impact per modality: MCS, MNCS, PP(top 10%)"
-- description = """
-- Per country (and modality): P, the papers credited to the country in the chosen counting mode;
-- MCS = sum(w * c) / sum(w); MNCS = sum(w * NCS) / sum(w); PP(top 10%) = fsum(w * top10) / fsum(w),
-- over citable papers with a subfield (`work_impact`: reference sets of subfield x year x type,
-- citation window `all`). Countries with fewer than `min_papers` credited papers are left out.
-- Sorted by P, largest first."""
-- finding = "3. Country contribution by quality"
-- [[params]]
-- name = "counting"
-- type = "text"
-- default = "author"
-- allowed = ["author", "country", "full"]
-- description = "how a paper is credited to countries (docs/indicators.md)"
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
-- type = "float"
-- default = 50.0
-- min = 0.0
-- description = "smallest P shown"
-- [[columns]]
-- name = "modality"
-- description = "the modality, or all"
-- [[columns]]
-- name = "country"
-- description = "ISO 3166-1 alpha-2 code"
-- [[columns]]
-- name = "papers"
-- description = "P, credited papers"
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
-- order = 32
-- title = "Country impact: MNCS of the 15 largest countries (fractional counting)"
-- chart = { kind = "bar", x = "country", y = "mncs", title = "MNCS of the 15 largest countries, 1989-2023", limit = 15, y_label = "MNCS" }
-- [[report]]
-- order = 33
-- title = "Country impact: share of top-10% papers, by modality"
-- params = { modality = "MSC", min_papers = 100.0 }
-- chart = { kind = "bar", x = "country", y = "pp_top10", title = "PP(top 10%) in MSC therapy, countries with P >= 100", limit = 15, percent = true }
WITH wm AS (
    -- One row per paper: DISTINCT over the paper's own columns only, the label added after it. A
    -- constant in a DISTINCT or GROUP BY key ('all', or the modality the WHERE fixes) sends
    -- DataFusion 55 into its partially-ordered aggregation, several times slower (docs/queries.md).
    SELECT work_id, $modality AS modality
    FROM (SELECT DISTINCT work_id
          FROM work_modality
          WHERE ($modality = 'all' OR modality = $modality)
            AND year BETWEEN $first_year AND $last_year) d),
x AS (
    SELECT wm.modality, c.country,
           CASE $counting WHEN 'full' THEN c.full_weight
                          WHEN 'country' THEN c.country_weight
                          ELSE c.author_weight END AS w,
           i.citations, i.ncs, i.top10
    FROM wm
    JOIN work_country c ON wm.work_id = c.work_id
    JOIN work_impact i ON wm.work_id = i.work_id)
SELECT modality, country, fsum(w) AS papers,
       fsum(w * citations) / fsum(w) AS mcs,
       fsum(w * ncs) / fsum(w) AS mncs,
       fsum(w * top10) / fsum(w) AS pp_top10
FROM x
GROUP BY modality, country
HAVING fsum(w) >= $min_papers
ORDER BY papers DESC, country
