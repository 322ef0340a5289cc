-- name = "work_modality"
-- title = "The therapy modalities of each paper"
-- description = """
-- One row per paper and cell/gene therapy modality it belongs to (multi-label: a paper can be both
-- HSCT and ex vivo GT), classified by `modalities()` from its MeSH descriptor names, title and abstract
-- with the rules of udfs/rules/modalities.tsv. Papers of no modality (outside cell and gene therapy)
-- have no row, so this view is also the study corpus. Carries the paper's publication year, type and
-- clinical stage (`clinical_stage()`: PubMed clinical publication types together with the MeSH
-- heading Humans)."""
-- [[columns]]
-- name = "work_id"
-- description = "the paper"
-- [[columns]]
-- name = "year"
-- description = "publication year"
-- [[columns]]
-- name = "type"
-- description = "document type (OpenAlex)"
-- [[columns]]
-- name = "modality"
-- description = "HSCT, MSC, ex vivo GT, in vivo GT or GT unspecified"
-- [[columns]]
-- name = "stage"
-- description = "clinical trial, clinical (human) or basic"
WITH m AS (
    SELECT work_id, array_agg(descriptor_name) AS names
    FROM work_mesh GROUP BY work_id),
p AS (
    SELECT work_id, array_agg(publication_type) AS types
    FROM work_publication_types GROUP BY work_id),
mp AS (
    SELECT coalesce(m.work_id, p.work_id) AS work_id, m.names, p.types
    FROM m FULL JOIN p ON m.work_id = p.work_id),
-- Join order: the paper's MeSH and type lists (mp) are the hash join's build side and works, with
-- its titles and abstracts, streams past them. `bibflow report` computes views with DataFusion's
-- join reordering off, so the left side of each join here is the build side; with works as the
-- build side, a 10M-work corpus held every abstract in the join's hash table (10 GB).
c AS (
    SELECT w.work_id, w.publication_year AS year, w.type,
           modalities(mp.names, w.title, w.abstract) AS mods,
           clinical_stage(mp.types, mp.names) AS stage
    FROM mp RIGHT JOIN works w ON w.work_id = mp.work_id)
SELECT work_id, year, type, unnest(mods) AS modality, stage
FROM c
