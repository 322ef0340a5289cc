-- name = "country_overtake"
-- title = "When one country overtakes another in a modality"
-- description = """
-- Yearly papers (fractional counting) of a challenger and a leader in a modality: the first year the
-- challenger published more (`first_year_ahead`), the year from which it stayed ahead to the last
-- year (`ahead_since`, NULL if it is behind in the last year), and both countries' papers in the
-- last year."""
-- finding = "3. Country contribution: trends"
-- [[params]]
-- name = "challenger"
-- type = "text"
-- default = "CN"
-- description = "ISO 3166-1 alpha-2 code of the country that may overtake"
-- [[params]]
-- name = "leader"
-- type = "text"
-- default = "US"
-- description = "ISO 3166-1 alpha-2 code of the country that may be overtaken"
-- [[params]]
-- name = "modality"
-- type = "text"
-- default = "MSC"
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
-- [[columns]]
-- name = "modality"
-- description = "the modality, or all"
-- [[columns]]
-- name = "challenger"
-- description = "the challenger's code"
-- [[columns]]
-- name = "leader"
-- description = "the leader's code"
-- [[columns]]
-- name = "first_year_ahead"
-- description = "first year the challenger published more papers"
-- [[columns]]
-- name = "ahead_since"
-- description = "first year of the challenger's final lead, NULL if not ahead at the end"
-- [[columns]]
-- name = "challenger_last_year"
-- description = "the challenger's papers in the last year with papers"
-- [[columns]]
-- name = "leader_last_year"
-- description = "the leader's papers in that year"
-- [[report]]
-- order = 36
-- title = "China and the USA in MSC therapy"
-- [[report]]
-- order = 37
-- title = "China and the USA in all cell and gene therapy"
-- params = { modality = "all" }
WITH wm AS (
    SELECT DISTINCT work_id, year
    FROM work_modality
    WHERE ($modality = 'all' OR modality = $modality)
      AND year BETWEEN $first_year AND $last_year),
y AS (
    SELECT wm.year,
           coalesce(fsum(CASE WHEN c.country = upper($challenger)
                             THEN CASE WHEN $fractional = 'country' THEN c.country_weight ELSE c.author_weight END
                        END), 0.0) AS a,
           coalesce(fsum(CASE WHEN c.country = upper($leader)
                             THEN CASE WHEN $fractional = 'country' THEN c.country_weight ELSE c.author_weight END
                        END), 0.0) AS b
    FROM wm LEFT JOIN work_country c ON wm.work_id = c.work_id
    GROUP BY wm.year),
f AS (
    SELECT year, a, b, a > b AS ahead, max(year) OVER () AS last FROM y)
SELECT $modality AS modality, upper($challenger) AS challenger, upper($leader) AS leader,
       min(CASE WHEN ahead THEN year END) AS first_year_ahead,
       CASE WHEN bool_or(ahead AND year = last)
            THEN coalesce(max(CASE WHEN NOT ahead THEN year END) + 1, min(year)) END AS ahead_since,
       max(CASE WHEN year = last THEN a END) AS challenger_last_year,
       max(CASE WHEN year = last THEN b END) AS leader_last_year
FROM f
