-- name = "country_profile"
-- title = "Country profile: volume share against impact share, collaboration and partners"
-- description = """
-- For one country, per modality and over all papers: its papers (fractional counting), its share of
-- all credited papers (volume share), its share of the total normalised citation score TNCS = sum(w *
-- NCS) (impact share) and of the top-10% papers P(top 10%) = sum(w * top10), both over citable papers
-- with a subfield, its MNCS, the share of its papers (full counting) that are international, and its
-- three main partner countries by co-authored papers. An impact share below the volume share means
-- impact below the corpus mean."""
-- finding = "3 and 5. A country's profile"
-- [[params]]
-- name = "country"
-- type = "text"
-- default = "JP"
-- description = "ISO 3166-1 alpha-2 code"
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
-- name = "country"
-- description = "the country's code"
-- [[columns]]
-- name = "papers"
-- description = "papers, fractional counting"
-- [[columns]]
-- name = "volume_share"
-- description = "papers / all credited papers"
-- [[columns]]
-- name = "impact_share"
-- description = "the country's TNCS / the total TNCS"
-- [[columns]]
-- name = "top10_share"
-- description = "the country's P(top 10%) / the total P(top 10%)"
-- [[columns]]
-- name = "mncs"
-- description = "mean normalised citation score"
-- [[columns]]
-- name = "international_share"
-- description = "share of its papers (full counting) that are international"
-- [[columns]]
-- name = "top_partners"
-- description = "the three countries it co-authors most with (papers)"
-- [[report]]
-- order = 60
-- title = "Country profile: Japan"
-- chart = { kind = "bar", x = "modality", y = "volume_share", title = "Japan: volume share per modality", percent = true }
-- [[report]]
-- order = 61
-- title = "Country profile: China"
-- params = { country = "CN" }
-- chart = { kind = "bar", x = "modality", y = "volume_share", title = "China: volume share per modality", percent = true }
WITH mm AS (
    SELECT DISTINCT work_id, modality FROM work_modality
    WHERE year BETWEEN $first_year AND $last_year
    UNION ALL
    SELECT DISTINCT work_id, 'all' AS modality FROM work_modality
    WHERE year BETWEEN $first_year AND $last_year),
x AS (
    SELECT mm.modality, mm.work_id, c.country,
           CASE WHEN $fractional = 'country' THEN c.country_weight ELSE c.author_weight END AS w,
           i.ncs, i.top10
    FROM mm
    JOIN work_country c ON mm.work_id = c.work_id
    LEFT JOIN work_impact i ON mm.work_id = i.work_id),
totals AS (
    SELECT modality, sum(w) AS p, sum(w * ncs) AS tncs, sum(w * top10) AS ptop
    FROM x GROUP BY modality),
mine AS (
    SELECT x.modality, sum(x.w) AS p, sum(x.w * x.ncs) AS tncs, sum(x.w * x.top10) AS ptop,
           sum(CASE WHEN x.ncs IS NOT NULL THEN x.w END) AS p_impact,
           avg(CASE WHEN k.collaboration = 'international' THEN 1.0 ELSE 0.0 END) AS intl
    FROM x JOIN work_collab k ON x.work_id = k.work_id
    WHERE x.country = upper($country)
    GROUP BY x.modality),
partners AS (
    SELECT a.modality, b.country AS partner, count(*) AS papers
    FROM x a JOIN x b ON a.modality = b.modality AND a.work_id = b.work_id
    WHERE a.country = upper($country) AND b.country <> upper($country)
    GROUP BY a.modality, b.country),
ranked AS (
    SELECT modality, partner, papers,
           row_number() OVER (PARTITION BY modality ORDER BY papers DESC, partner) AS r
    FROM partners),
best AS (
    SELECT modality, string_agg(concat(partner, ' (', papers, ')'), ', ' ORDER BY r) AS top_partners
    FROM ranked WHERE r <= 3 GROUP BY modality)
SELECT mine.modality, upper($country) AS country, mine.p AS papers,
       mine.p / totals.p AS volume_share,
       mine.tncs / totals.tncs AS impact_share,
       mine.ptop / totals.ptop AS top10_share,
       mine.tncs / mine.p_impact AS mncs,
       mine.intl AS international_share,
       best.top_partners
FROM mine
JOIN totals ON mine.modality = totals.modality
LEFT JOIN best ON mine.modality = best.modality
ORDER BY CASE WHEN mine.modality = 'all' THEN 0 ELSE 1 END, mine.modality
