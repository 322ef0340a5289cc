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
WITH r AS (
    SELECT subfield_id, publication_year, type,
           favg(cited_by_count) AS e,
           top_threshold(cited_by_count, 0.10) AS thr
    FROM works
    WHERE is_citable(type) AND subfield_id IS NOT NULL AND cited_by_count IS NOT NULL
    GROUP BY subfield_id, publication_year, type)
-- The reference sets (a few thousand rows) are the join's build side: the left side, as
-- `bibflow report` computes views with join reordering off. A GROUP BY joined back rather than
-- windows over the reference set (`avg(c) OVER (PARTITION BY ...)`, faster at study scale): the
-- join streams the works, where a window holds every row of its input in memory, and this view
-- must run over all of OpenAlex.
SELECT w.work_id, w.cited_by_count AS citations,
       ncs(w.cited_by_count, r.e) AS ncs,
       top_share(w.cited_by_count, r.thr) AS top10
FROM r
JOIN works w ON w.subfield_id = r.subfield_id
      AND w.publication_year = r.publication_year
      AND w.type = r.type
WHERE w.cited_by_count IS NOT NULL
