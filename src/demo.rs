//! `bibflow demo`: the main job on built-in data.
//!
//! A SYNTHETIC corpus of the study's size (160,000 cell and gene therapy papers, 1989-2023, from the
//! default scenario and a fixed seed) is generated as a canonical dataset, the real OpenAlex records
//! bundled with bibflow (tests/fixtures/openalex, CC0) are ingested beside it, and study-style
//! queries run over both. Every printed table says which data it shows.

use std::path::{Path, PathBuf};

/// The bundled records: (relative path, contents).
pub const FIXTURES: &[(&str, &[u8])] = &[
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_1_results_page_1.json",
        include_bytes!(
            "../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_1_results_page_1.json"
        ),
    ),
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_2_results_page_1.json",
        include_bytes!(
            "../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_2_results_page_1.json"
        ),
    ),
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_3_results_page_1.json",
        include_bytes!(
            "../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_3_results_page_1.json"
        ),
    ),
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_4_results_page_1.json",
        include_bytes!(
            "../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_4_results_page_1.json"
        ),
    ),
    (
        "openalexPro/keypaper_json/results_page_1.json",
        include_bytes!("../tests/fixtures/openalex/openalexPro/keypaper_json/results_page_1.json"),
    ),
    (
        "pyopenalex/work.json",
        include_bytes!("../tests/fixtures/openalex/pyopenalex/work.json"),
    ),
    (
        "pyopenalex/works_list.json",
        include_bytes!("../tests/fixtures/openalex/pyopenalex/works_list.json"),
    ),
    (
        "openalex-python/W2741809807.json",
        include_bytes!("../tests/fixtures/openalex/openalex-python/W2741809807.json"),
    ),
    (
        "openalex-python/W-api-response.json",
        include_bytes!("../tests/fixtures/openalex/openalex-python/W-api-response.json"),
    ),
    (
        "SOURCES.md",
        include_bytes!("../tests/fixtures/openalex/SOURCES.md"),
    ),
];

/// Study-style queries over the synthetic corpus: (file stem, title, SQL).
///
/// Impact is field-normalised over reference sets of subfield x year x type (citable types only);
/// countries are credited by author-level fractional counting.
pub const SYNTHETIC_QUERIES: &[(&str, &str, &str)] = &[
    (
        "modality_growth",
        "Papers per modality and period",
        "WITH m AS (SELECT work_id, array_agg(descriptor_name) AS names FROM work_mesh GROUP BY work_id), \
         c AS (SELECT w.publication_year AS year, \
                      unnest(modalities(m.names, w.title, w.abstract)) AS modality \
               FROM works w LEFT JOIN m ON w.work_id = m.work_id) \
         SELECT modality, \
                sum(CASE WHEN year BETWEEN 1989 AND 1998 THEN 1 ELSE 0 END) AS \"1989-1998\", \
                sum(CASE WHEN year BETWEEN 1999 AND 2008 THEN 1 ELSE 0 END) AS \"1999-2008\", \
                sum(CASE WHEN year BETWEEN 2009 AND 2018 THEN 1 ELSE 0 END) AS \"2009-2018\", \
                sum(CASE WHEN year BETWEEN 2019 AND 2023 THEN 1 ELSE 0 END) AS \"2019-2023\" \
         FROM c GROUP BY 1 ORDER BY 1",
    ),
    (
        "country_output_impact",
        "Countries: fractional output (author counting) and MNCS, top 12",
        "WITH r AS (SELECT subfield_id, publication_year, type, avg(cited_by_count) AS e \
                    FROM works WHERE is_citable(type) GROUP BY 1, 2, 3), \
         n AS (SELECT w.work_id, ncs(w.cited_by_count, r.e) AS ncs FROM works w \
               JOIN r ON w.subfield_id = r.subfield_id AND w.publication_year = r.publication_year \
                     AND w.type = r.type), \
         s AS (SELECT work_id, unnest(country_shares(array_agg(institution_countries \
                      ORDER BY author_position), 'author')) AS s FROM authorships GROUP BY work_id) \
         SELECT s.s['country'] AS country, round(sum(s.s['weight']), 1) AS papers, \
                round(sum(s.s['weight'] * n.ncs) / sum(s.s['weight']), 3) AS mncs \
         FROM s JOIN n ON s.work_id = n.work_id WHERE s.s['country'] IS NOT NULL \
         GROUP BY 1 ORDER BY 2 DESC LIMIT 12",
    ),
    (
        "collaboration_impact",
        "International vs single-country papers: MNCS and share of top-10% papers",
        "WITH r AS (SELECT subfield_id, publication_year, type, avg(cited_by_count) AS e, \
                           top_threshold(cited_by_count, 0.10) AS thr \
                    FROM works WHERE is_citable(type) GROUP BY 1, 2, 3), \
         n AS (SELECT w.work_id, ncs(w.cited_by_count, r.e) AS ncs, \
                      top_share(w.cited_by_count, r.thr) AS top10 FROM works w \
               JOIN r ON w.subfield_id = r.subfield_id AND w.publication_year = r.publication_year \
                     AND w.type = r.type), \
         c AS (SELECT work_id, collab_type(flatten(array_agg(countries))) AS collaboration \
               FROM authorships GROUP BY work_id) \
         SELECT c.collaboration, count(*) AS papers, round(avg(n.ncs), 3) AS mncs, \
                round(avg(n.top10), 3) AS pp_top10 \
         FROM c JOIN n ON c.work_id = n.work_id GROUP BY 1 ORDER BY 1",
    ),
];

/// A query over the real sample records: (file stem, title, SQL).
pub const REAL_QUERIES: &[(&str, &str, &str)] = &[(
    "sample_countries",
    "Countries by works (full counting) and mean citations",
    "WITH wc AS ( \
       SELECT DISTINCT work_id, country FROM ( \
         SELECT work_id, unnest(countries) AS country FROM authorships)) \
     SELECT wc.country, count(*) AS works, round(avg(w.cited_by_count), 1) AS mean_citations \
     FROM wc JOIN works w ON w.work_id = wc.work_id \
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
)];

/// Writes the bundled records under `dir/raw/openalex` and returns that folder.
pub fn write_fixtures(dir: &Path) -> std::io::Result<PathBuf> {
    let raw = dir.join("raw").join("openalex");
    for (rel, bytes) in FIXTURES {
        let path = raw.join(rel);
        std::fs::create_dir_all(path.parent().expect("has parent"))?;
        std::fs::write(&path, bytes)?;
    }
    Ok(raw)
}
