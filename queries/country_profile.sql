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

-- The paper-country rows (x) are read once for both the totals and the country's own sums
-- (conditional aggregates), and the partners come from a join with the country's papers only.
-- DataFusion recomputes a CTE at every reference, so fewer references is faster.
WITH mm AS (
    SELECT DISTINCT work_id, modality FROM work_modality
    WHERE year BETWEEN $first_year AND $last_year
    UNION ALL
    -- 'all' is added after the DISTINCT: a constant in a DISTINCT key sends DataFusion 55 into its
    -- partially-ordered aggregation, several times slower (docs/queries.md).
    SELECT work_id, 'all' AS modality
    FROM (SELECT DISTINCT work_id FROM work_modality
          WHERE year BETWEEN $first_year AND $last_year) d),
x AS (
    SELECT mm.modality, c.country,
           CASE WHEN $fractional = 'country' THEN c.country_weight ELSE c.author_weight END AS w,
           i.ncs, i.top10, k.collaboration
    FROM mm
    JOIN work_country c ON mm.work_id = c.work_id
    LEFT JOIN work_impact i ON mm.work_id = i.work_id
    LEFT JOIN work_collab k ON mm.work_id = k.work_id),
s AS (
    SELECT modality,
           fsum(w) AS p_all, fsum(w * ncs) AS tncs_all, fsum(w * top10) AS ptop_all,
           count(CASE WHEN country = upper($country) THEN 1 END) AS rows_mine,
           fsum(CASE WHEN country = upper($country) THEN w END) AS p,
           fsum(CASE WHEN country = upper($country) THEN w * ncs END) AS tncs,
           fsum(CASE WHEN country = upper($country) THEN w * top10 END) AS ptop,
           fsum(CASE WHEN country = upper($country) AND ncs IS NOT NULL THEN w END) AS p_impact,
           favg(CASE WHEN country = upper($country)
                    THEN CASE WHEN collaboration = 'international' THEN 1.0 ELSE 0.0 END END) AS intl
    FROM x GROUP BY modality),
partners AS (
    SELECT mm.modality, c.country AS partner, count(*) AS papers
    FROM mm
    JOIN (SELECT work_id FROM work_country WHERE country = upper($country)) mine
      ON mm.work_id = mine.work_id
    JOIN work_country c ON mm.work_id = c.work_id
    WHERE c.country <> upper($country)
    GROUP BY mm.modality, c.country),
ranked AS (
    SELECT modality, partner, papers,
           row_number() OVER (PARTITION BY modality ORDER BY papers DESC, partner) AS r
    FROM partners),
best AS (
    SELECT modality, string_agg(concat(partner, ' (', papers, ')'), ', ' ORDER BY r) AS top_partners
    FROM ranked WHERE r <= 3 GROUP BY modality)
SELECT s.modality, upper($country) AS country, s.p AS papers,
       s.p / s.p_all AS volume_share,
       s.tncs / s.tncs_all AS impact_share,
       s.ptop / s.ptop_all AS top10_share,
       s.tncs / s.p_impact AS mncs,
       s.intl AS international_share,
       best.top_partners
FROM s
LEFT JOIN best ON s.modality = best.modality
WHERE s.rows_mine > 0
ORDER BY CASE WHEN s.modality = 'all' THEN 0 ELSE 1 END, s.modality
