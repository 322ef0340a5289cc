-- name = "work_modality"
-- title = "The therapy modalities of each paper"
-- description = """
-- One row per paper and cell/gene therapy modality it belongs to (multi-label: a paper can be both
-- HSCT and ex vivo GT), classified by `modalities()` from its MeSH descriptor names, title and abstract
-- with the rules of udfs/rules/modalities.tsv. Papers of no modality (outside cell and gene therapy)
-- have no row, so this view is also the study corpus. Carries the paper's publication year, type and
-- clinical stage (`clinical_stage()` with title and abstract: PubMed clinical publication types
-- together with the MeSH heading Humans where a paper is indexed, and trial and human-subject
-- wording in its title and abstract, so that papers without MeSH are staged too;
-- docs/classification.md)."""
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
-- Join order: each paper's MeSH list (m), then its type list (p), joined to works by work_id, with
-- works always on the right, so that:
-- - with hash joins (datasets not sorted by work_id), m and p are the build sides and works, with
--   its titles and abstracts, streams past them. `bibflow report` computes views with DataFusion's
--   join reordering off, so the left side of each join here is the build side; with works as the
--   build side, a 10M-work corpus held every abstract in the join's hash table (10 GB);
-- - with sort-merge joins (datasets sorted by work_id, see engine/src/session.rs), every join's
--   output keeps works' order, so no join or aggregate sorts or hashes: memory stays flat in the
--   corpus size. (A FULL JOIN of m and p, as this view had, loses the order in its
--   coalesce(m.work_id, p.work_id) and sorts its output.)
mw AS (
    SELECT w.work_id, w.publication_year, w.type, w.title, w.abstract, m.names
    FROM m RIGHT JOIN works w ON w.work_id = m.work_id),
c AS (
    SELECT mw.work_id, mw.publication_year AS year, mw.type,
           modalities(mw.names, mw.title, mw.abstract) AS mods,
           clinical_stage(p.types, mw.names, mw.title, mw.abstract) AS stage
    FROM p RIGHT JOIN mw ON mw.work_id = p.work_id)
SELECT work_id, year, type, unnest(mods) AS modality, stage
FROM c
