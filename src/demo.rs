//! `bibflow demo`: the main job on built-in data.
//!
//! The real OpenAlex records bundled with bibflow (tests/fixtures/openalex, CC0) are written out,
//! ingested into a dataset, and a few study-style queries run over it. The synthetic CGT corpus of
//! the study will join them here once the generator exists.

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

/// The demo's queries: (file stem, title, SQL).
pub const QUERIES: &[(&str, &str, &str)] = &[
    (
        "works_per_decade_and_type",
        "Works per decade and type",
        "SELECT (publication_year / 10) * 10 AS decade, type, count(*) AS works, \
         sum(cited_by_count) AS citations \
         FROM works GROUP BY 1, 2 ORDER BY 1, 3 DESC",
    ),
    (
        "countries_full_count",
        "Countries by works (full counting) and mean citations",
        "WITH wc AS ( \
           SELECT DISTINCT work_id, country FROM ( \
             SELECT work_id, unnest(countries) AS country FROM authorships)) \
         SELECT wc.country, count(*) AS works, round(avg(w.cited_by_count), 1) AS mean_citations \
         FROM wc JOIN works w ON w.work_id = wc.work_id \
         GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 15",
    ),
    (
        "collaboration_type",
        "Works by collaboration type",
        "SELECT CASE WHEN countries_count = 0 THEN 'unknown' \
                     WHEN countries_count = 1 THEN 'single-country' \
                     ELSE 'international' END AS collaboration, \
                count(*) AS works, round(avg(cited_by_count), 1) AS mean_citations \
         FROM works GROUP BY 1 ORDER BY 2 DESC",
    ),
];

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
