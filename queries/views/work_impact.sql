-- name = "work_impact"
-- title = "Field-normalised citation impact of each paper"
-- description = """
-- One row per citable paper (article, review, conference paper, book, book chapter: `is_citable()`)
-- with a subfield: its citations (window `all`: `cited_by_count`), its normalised citation score
-- NCS = c / e and its top-10% score (Waltman & Schreiber 2013, ties shared: `top_share()`), over the
-- reference set of papers of the same subfield (the primary topic's), publication year and type in
-- the dataset. Other papers have no row (NULL, not 0, in the indicators)."""
-- [[columns]]
-- name = "work_id"
-- description = "the paper"
-- [[columns]]
-- name = "citations"
-- description = "citations to date"
-- [[columns]]
-- name = "ncs"
-- description = "normalised citation score"
-- [[columns]]
-- name = "top10"
-- description = "top-10% score in [0, 1]"
SELECT work_id, cited_by_count AS citations,
       -- The reference set's mean and top-10% threshold as windows over PARTITION BY only,
       -- which bibflow computes by hashing the set's keys (no sort, no join back).
       ncs(cited_by_count, avg(cited_by_count) OVER reference_set) AS ncs,
       top_share(cited_by_count, top_threshold(cited_by_count, 0.10) OVER reference_set) AS top10
FROM works
WHERE is_citable(type) AND subfield_id IS NOT NULL AND cited_by_count IS NOT NULL
WINDOW reference_set AS (PARTITION BY subfield_id, publication_year, type)
