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

/// Rows of each study result printed on stdout (the report's files hold all of them).
pub const ROWS_SHOWN: usize = 8;

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
