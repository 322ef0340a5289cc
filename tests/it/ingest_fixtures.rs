//! Ingesting the real OpenAlex fixtures gives the counts and values of the source JSON.

use std::collections::{BTreeSet, HashMap};

use crate::common::*;

/// The fixture works counted straight from the JSON: the newest copy of each work (by
/// `updated_date`), as the ingest is specified to keep.
fn newest_copies() -> HashMap<String, serde_json::Value> {
    let mut files = Vec::new();
    let mut stack = vec![openalex_fixtures()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    let mut newest: HashMap<String, serde_json::Value> = HashMap::new();
    let mut copies = 0;
    for f in files {
        for w in works_in(&f) {
            copies += 1;
            let id = w["id"].as_str().unwrap().to_string();
            let date = w["updated_date"].as_str().unwrap_or("").to_string();
            let keep = match newest.get(&id) {
                Some(old) => date.as_str() > old["updated_date"].as_str().unwrap_or(""),
                None => true,
            };
            if keep {
                newest.insert(id, w);
            }
        }
    }
    assert_eq!(copies, 182, "the fixture files hold 182 work records");
    newest
}

#[test]
fn fixture_counts_and_values_match_the_json() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let m = ingest(&[&openalex_fixtures()], &ds, &[]);

    let newest = newest_copies();
    // Records: every copy read, none rejected.
    assert_eq!(m["records"]["read"], 182);
    assert_eq!(m["records"]["ingested"], 182);
    assert_eq!(m["records"]["rejected"], 0);
    assert_eq!(m["superseded"], 182 - newest.len() as u64);

    let works: u64 = sql_value(&ds, "SELECT count(*) FROM works")
        .parse()
        .unwrap();
    assert_eq!(works, newest.len() as u64);
    assert_eq!(m["tables"]["works"]["rows"], works);

    let authorships_json: usize = newest
        .values()
        .map(|w| w["authorships"].as_array().map_or(0, Vec::len))
        .sum();
    let authorships: usize = sql_value(&ds, "SELECT count(*) FROM authorships")
        .parse()
        .unwrap();
    assert_eq!(authorships, authorships_json);

    let refs_json: usize = newest
        .values()
        .map(|w| w["referenced_works"].as_array().map_or(0, Vec::len))
        .sum();
    let refs: usize = sql_value(&ds, "SELECT count(*) FROM work_references")
        .parse()
        .unwrap();
    assert_eq!(refs, refs_json);

    // No work appears twice in any table of its own.
    assert_eq!(
        sql_value(&ds, "SELECT count(*) - count(DISTINCT work_id) FROM works"),
        "0"
    );
}

#[test]
fn the_state_of_oa_keeps_its_newest_version() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ingest(&[&openalex_fixtures()], &ds, &[]);

    // W2741809807 is in three files; pyopenalex/work.json (updated 2026-03-18) is the newest and
    // says cited_by_count 1163 (the 2025 copies say 957 and 962).
    let row = &sql_rows(
        &ds,
        "SELECT cited_by_count, doi, pmid, publication_year, type, source_name, authors_count \
         FROM works WHERE work_id = 2741809807",
    )[0];
    assert_eq!(
        row,
        &[
            "1163",
            "10.7717/peerj.4375",
            "29456894",
            "2018",
            "book-chapter",
            "PeerJ",
            "9"
        ]
    );

    // Its countries, from the same JSON: every authorship's `countries`.
    let json = &works_in(&openalex_fixtures().join("pyopenalex/work.json"))[0];
    let expected: BTreeSet<String> = json["authorships"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|a| a["countries"].as_array().unwrap().clone())
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert!(
        expected.contains("US") && expected.contains("CA"),
        "{expected:?}"
    );
    let got: BTreeSet<String> = sql_rows(
        &ds,
        "SELECT DISTINCT c FROM (SELECT unnest(countries) AS c FROM authorships \
         WHERE work_id = 2741809807) ORDER BY c",
    )
    .into_iter()
    .map(|r| r[0].clone())
    .collect();
    assert_eq!(got, expected);

    // Its first author, with OpenAlex's ids typed.
    let first = &sql_rows(
        &ds,
        "SELECT author_id, author_name, orcid, is_corresponding FROM authorships \
         WHERE work_id = 2741809807 AND author_position = 0",
    )[0];
    assert_eq!(
        first,
        &[
            "5048491430",
            "Heather Piwowar",
            "0000-0003-1613-5981",
            "true"
        ]
    );

    // The abstract is rebuilt from the inverted index, words in order.
    let abstract_start = sql_value(
        &ds,
        "SELECT substr(abstract, 1, 40) FROM works WHERE work_id = 2741809807",
    );
    assert_eq!(abstract_start, "Despite growing interest in Open Access ");

    // Per-year citations of the newest copy.
    let per_year: i64 = sql_value(
        &ds,
        "SELECT cited_by_count FROM work_citations_by_year WHERE work_id = 2741809807 AND year = 2026",
    )
    .parse()
    .unwrap();
    assert_eq!(per_year, 30);
}

#[test]
fn mesh_and_topics_are_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ingest(&[&openalex_fixtures()], &ds, &[]);
    // W2125576237 (Conservation Biology, 2008) carries MeSH "Biodiversity" (D044822), major.
    let row = &sql_rows(
        &ds,
        "SELECT descriptor_name, is_major_topic FROM work_mesh \
         WHERE work_id = 2125576237 AND descriptor_ui = 'D044822'",
    )[0];
    assert_eq!(row, &["Biodiversity", "true"]);
    // Its qualifiers are a list: "Conservation of Natural Resources" has "methods".
    let q = sql_value(
        &ds,
        "SELECT qualifiers[1]['qualifier_name'] FROM work_mesh \
         WHERE work_id = 2125576237 AND descriptor_ui = 'D003247'",
    );
    assert_eq!(q, "methods");
    // The primary topic of the state-of-OA paper, with its subfield.
    let t = &sql_rows(
        &ds,
        "SELECT primary_topic_id, subfield_id, field_id, domain_id FROM works WHERE work_id = 2741809807",
    )[0];
    assert_eq!(t, &["10102", "1804", "18", "2"]);
}
