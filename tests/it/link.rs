//! `bibflow link`: an OpenAlex and a PubMed dataset into one, by PMID then DOI.
//!
//! The PubMed side is derived from the OpenAlex fixture dataset with SQL, so that the expected
//! matches are known: works with a PMID become PubMed records (-PMID keys, a journal abbreviation,
//! their own MeSH); some lose their PMID but keep their DOI (must match by DOI); some lose both
//! (must stay PubMed-only).

use std::path::Path;

use crate::common::*;

fn sql_to_parquet(ds: &Path, query: &str, out: &Path) {
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    bibflow_ok(&[
        "sql",
        ds.to_str().unwrap(),
        query,
        "--format",
        "parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
}

/// The PubMed record of a fixture work: PMID kept when `pmid % 3 = 0`, DOI only when `= 1`,
/// neither when `= 2` (a PubMed-only work with a new PMID).
const PM_KEY: &str = "CASE pmid % 3 WHEN 0 THEN pmid WHEN 1 THEN pmid + 500000000 \
                      ELSE pmid + 700000000 END";

#[test]
fn works_match_by_pmid_then_doi_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let oa = tmp.path().join("oa");
    ingest(&[&openalex_fixtures()], &oa, &[]);
    let with_pmid: Vec<i64> = sql_rows(&oa, "SELECT pmid FROM works WHERE pmid IS NOT NULL")
        .iter()
        .map(|r| r[0].parse().unwrap())
        .collect();
    let by_pmid = with_pmid.iter().filter(|p| *p % 3 == 0).count() as u64;
    let doi_only: Vec<String> = sql_rows(
        &oa,
        "SELECT CAST(pmid AS VARCHAR) || ':' || COALESCE(doi, '') FROM works WHERE pmid IS NOT NULL AND pmid % 3 = 1",
    )
    .iter()
    .map(|r| r[0].clone())
    .collect();
    let by_doi = doi_only.iter().filter(|s| !s.ends_with(':')).count() as u64;
    assert!(
        by_pmid > 0 && by_doi > 0,
        "fixtures need both kinds: {by_pmid} {by_doi}"
    );
    let total_pm = with_pmid.len() as u64;
    let oa_works: u64 = sql_value(&oa, "SELECT count(*) FROM works")
        .parse()
        .unwrap();

    // Build the PubMed dataset.
    let pm = tmp.path().join("pm");
    let works_sql = format!(
        "SELECT * REPLACE (-({PM_KEY}) AS work_id, CAST(NULL AS BIGINT) AS openalex_id, \
           {PM_KEY} AS pmid, CASE WHEN pmid % 3 = 2 THEN NULL ELSE doi END AS doi, \
           'pubmed' AS source, 'J Abbrev' AS journal_iso_abbrev, CAST(NULL AS BIGINT) AS cited_by_count) \
         FROM works WHERE pmid IS NOT NULL"
    );
    sql_to_parquet(&oa, &works_sql, &pm.join("works/part-0.parquet"));
    // One PubMed MeSH heading per PubMed work, different from OpenAlex's.
    let mesh_sql = format!(
        "SELECT -({PM_KEY}) AS work_id, 'D999999' AS descriptor_ui, 'Linked Heading' AS descriptor_name, \
           true AS is_major_topic, \
           make_array(named_struct('qualifier_ui', 'Q000379', 'qualifier_name', 'methods', \
                                   'is_major_topic', false)) AS qualifiers \
         FROM works WHERE pmid IS NOT NULL"
    );
    sql_to_parquet(&oa, &mesh_sql, &pm.join("work_mesh/part-0.parquet"));
    for t in [
        "authorships",
        "work_topics",
        "work_publication_types",
        "work_references",
        "work_citations_by_year",
        "work_keywords",
        "work_chemicals",
        "work_grants",
    ] {
        sql_to_parquet(
            &oa,
            &format!("SELECT * FROM {t} WHERE false"),
            &pm.join(format!("{t}/part-0.parquet")),
        );
    }
    std::fs::copy(oa.join("manifest.json"), pm.join("manifest.json")).unwrap();

    let linked = tmp.path().join("linked");
    let out = bibflow(&[
        "link",
        oa.to_str().unwrap(),
        pm.to_str().unwrap(),
        "--out",
        linked.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let pm_only = total_pm - by_pmid - by_doi;
    assert!(
        stderr.contains(&format!(
            "{by_pmid} works matched by PMID, {by_doi} by DOI; {} OpenAlex-only and {pm_only} PubMed-only",
            oa_works - by_pmid - by_doi
        )),
        "{stderr}"
    );

    // Nothing lost: every OpenAlex work and every unmatched PubMed record is a work.
    let works: u64 = sql_value(&linked, "SELECT count(*) FROM works")
        .parse()
        .unwrap();
    assert_eq!(works, oa_works + pm_only);
    assert_eq!(
        sql_value(
            &linked,
            "SELECT count(*) - count(DISTINCT work_id) FROM works"
        ),
        "0"
    );
    // Provenance.
    let sources = sql_rows(
        &linked,
        "SELECT COALESCE(matched_by, 'none'), in_openalex, in_pubmed, count(*) FROM work_sources GROUP BY 1, 2, 3 ORDER BY 1, 2",
    );
    assert_eq!(
        sources,
        vec![
            vec![
                "doi".to_string(),
                "true".into(),
                "true".into(),
                by_doi.to_string()
            ],
            vec![
                "none".to_string(),
                "false".into(),
                "true".into(),
                pm_only.to_string()
            ],
            vec![
                "none".to_string(),
                "true".into(),
                "false".into(),
                (oa_works - by_pmid - by_doi).to_string()
            ],
            vec![
                "pmid".to_string(),
                "true".into(),
                "true".into(),
                by_pmid.to_string()
            ],
        ]
    );
    // A matched work keeps its OpenAlex key and citations, and gains PubMed's journal abbreviation.
    let m = sql_rows(
        &linked,
        "SELECT count(*), count(cited_by_count), count(journal_iso_abbrev) FROM works WHERE source = 'openalex+pubmed'",
    );
    let matched = (by_pmid + by_doi).to_string();
    assert_eq!(
        m[0],
        vec![matched.clone(), matched.clone(), matched.clone()]
    );
    // MeSH of matched works comes from PubMed; OpenAlex-only works keep OpenAlex's.
    let pubmed_mesh: u64 = sql_value(
        &linked,
        "SELECT count(*) FROM work_mesh WHERE descriptor_ui = 'D999999'",
    )
    .parse()
    .unwrap();
    assert_eq!(pubmed_mesh, total_pm);
    assert_eq!(
        sql_value(
            &linked,
            "SELECT count(*) FROM work_mesh m JOIN work_sources s USING (work_id) \
             WHERE s.in_pubmed AND m.descriptor_ui <> 'D999999' AND m.work_id IN \
               (SELECT work_id FROM work_mesh WHERE descriptor_ui = 'D999999')"
        ),
        "0"
    );
    // Authorships stay OpenAlex's, keyed by OpenAlex ids.
    assert_eq!(
        sql_value(&linked, "SELECT count(*) FROM authorships"),
        sql_value(&oa, "SELECT count(*) FROM authorships")
    );
}
