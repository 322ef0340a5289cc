-- name = "corpus_summary"
-- title = "Corpus summary: works per source and year, linkage and coverage"
-- description = """
-- Every work of the dataset (not only the cell and gene therapy corpus) per source and publication
-- year: how many works, how many carry a DOI and a PMID, the share known to both OpenAlex and PubMed
-- (linked: an OpenAlex id and a PMID), and the shares with at least one known country, with MeSH
-- descriptors, and classified into a therapy modality (the study corpus)."""
-- finding = "0. The data"
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
-- name = "source"
-- description = "openalex, pubmed, linked or synthetic"
-- [[columns]]
-- name = "year"
-- description = "publication year"
-- [[columns]]
-- name = "works"
-- description = "works"
-- [[columns]]
-- name = "with_doi"
-- description = "works with a DOI"
-- [[columns]]
-- name = "with_pmid"
-- description = "works with a PMID"
-- [[columns]]
-- name = "linked_share"
-- description = "share with both an OpenAlex id and a PMID"
-- [[columns]]
-- name = "country_share"
-- description = "share with at least one known country"
-- [[columns]]
-- name = "mesh_share"
-- description = "share with MeSH descriptors; the others' clinical stage comes from their title, abstract and publication types alone (docs/classification.md)"
-- [[columns]]
-- name = "cgt_share"
-- description = "share classified into a therapy modality"
-- [[report]]
-- order = 1
-- chart = { kind = "line", x = "year", y = "works", series = "source", title = "Works per year and source", y_label = "works" }
WITH c AS (SELECT DISTINCT work_id FROM work_country),
m AS (SELECT DISTINCT work_id FROM work_mesh),
t AS (SELECT DISTINCT work_id FROM work_modality)
SELECT w.source, w.publication_year AS year, count(*) AS works,
       count(w.doi) AS with_doi,
       count(w.pmid) AS with_pmid,
       favg(CASE WHEN w.openalex_id IS NOT NULL AND w.pmid IS NOT NULL THEN 1.0 ELSE 0.0 END) AS linked_share,
       favg(CASE WHEN c.work_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS country_share,
       favg(CASE WHEN m.work_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS mesh_share,
       favg(CASE WHEN t.work_id IS NOT NULL THEN 1.0 ELSE 0.0 END) AS cgt_share
FROM works w
LEFT JOIN c ON w.work_id = c.work_id
LEFT JOIN m ON w.work_id = m.work_id
LEFT JOIN t ON w.work_id = t.work_id
WHERE w.publication_year BETWEEN $first_year AND $last_year
GROUP BY w.source, w.publication_year
ORDER BY w.source, year
