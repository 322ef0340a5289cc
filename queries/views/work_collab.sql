-- name = "work_collab"
-- title = "Collaboration type of each paper"
-- description = """
-- One row per paper with at least one known country: the number of distinct countries and
-- `collab_type()`: single-country or international (two or more distinct countries). Papers
-- without a known country are `unknown` and have no row."""
-- [[columns]]
-- name = "work_id"
-- description = "the paper"
-- [[columns]]
-- name = "countries"
-- description = "number of distinct countries"
-- [[columns]]
-- name = "collaboration"
-- description = "single-country or international"
SELECT work_id, count(*) AS countries, collab_type(array_agg(country)) AS collaboration
FROM work_country
GROUP BY work_id
