-- name = "clinical_translation"
-- title = "Clinical translation per modality"
-- description = """
-- Per modality and period: papers, clinical papers (PubMed clinical publication types - Clinical
-- Trial of any phase, Randomized Controlled, Controlled, Pragmatic Clinical Trial, Clinical Study,
-- Observational Study - together with the MeSH heading Humans: `clinical_stage()` = 'clinical
-- trial'), the clinical share, and the mean Human / Animal / Molecular-cellular position of the
-- papers with MeSH descriptors (Weber 2013; `ham_position()`)."""
-- finding = "2. Clinical translation per modality"
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
-- description = "length of a period in years (1: per year)"
-- [[columns]]
-- name = "modality"
-- description = "therapy modality"
-- [[columns]]
-- name = "period_start"
-- description = "first year of the period"
-- [[columns]]
-- name = "period"
-- description = "first-last year of the period"
-- [[columns]]
-- name = "papers"
-- description = "papers of the modality"
-- [[columns]]
-- name = "clinical_papers"
-- description = "clinical papers"
-- [[columns]]
-- name = "clinical_share"
-- description = "clinical papers / papers"
-- [[columns]]
-- name = "human"
-- description = "mean Human position (papers with MeSH)"
-- [[columns]]
-- name = "animal"
-- description = "mean Animal position"
-- [[columns]]
-- name = "molecular_cellular"
-- description = "mean Molecular/Cellular position"
-- [[report]]
-- order = 20
-- chart = { kind = "line", x = "period_start", y = "clinical_share", series = "modality", title = "Share of clinical papers per modality (5-year periods)", percent = true }
WITH p AS (
    SELECT m.work_id, m.modality, m.stage,
           $first_year + $period_years * ((m.year - $first_year) / $period_years) AS start
    FROM work_modality m
    WHERE m.year BETWEEN $first_year AND $last_year)
SELECT p.modality, p.start AS period_start,
       CASE WHEN $period_years = 1 THEN CAST(p.start AS VARCHAR)
            ELSE concat(p.start, '-', least(p.start + $period_years - 1, $last_year)) END AS period,
       count(*) AS papers,
       sum(CASE WHEN p.stage = 'clinical trial' THEN 1 ELSE 0 END) AS clinical_papers,
       favg(CASE WHEN p.stage = 'clinical trial' THEN 1.0 ELSE 0.0 END) AS clinical_share,
       favg(h.human) AS human,
       favg(h.animal) AS animal,
       favg(h.molecular_cellular) AS molecular_cellular
FROM p
LEFT JOIN work_ham h ON p.work_id = h.work_id
GROUP BY p.modality, p.start
ORDER BY p.modality, p.start
