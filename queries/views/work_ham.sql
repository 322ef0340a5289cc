-- name = "work_ham"
-- title = "Human / Animal / Molecular-cellular position of each paper"
-- description = """
-- The paper's position in the triangle of biomedicine (Weber 2013, as NIH iCite uses it):
-- `ham_position_agg()` (the aggregate form of `ham_position()`) over the MeSH tree numbers of its
-- descriptors. Papers without MeSH descriptors have no row."""
-- [[columns]]
-- name = "work_id"
-- description = "the paper"
-- [[columns]]
-- name = "human"
-- description = "share of the paper's descriptors in the Human group"
-- [[columns]]
-- name = "animal"
-- description = "share in the Animal group"
-- [[columns]]
-- name = "molecular_cellular"
-- description = "share in the Molecular/Cellular group"
SELECT work_id, h['human'] AS human, h['animal'] AS animal,
       h['molecular_cellular'] AS molecular_cellular
FROM (SELECT work_id, ham_position_agg(mesh_tree_numbers(descriptor_ui)) AS h
      FROM work_mesh GROUP BY work_id)
