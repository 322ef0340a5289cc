//! The OpenAlex bulk snapshot layout: partitions by updated date, newest copy wins, merged ids
//! applied, the snapshot manifest checked.

use crate::common::*;

fn work(id: u64, cited: u64, updated: &str, refs: &[u64]) -> String {
    let refs: Vec<String> = refs
        .iter()
        .map(|r| format!("\"https://openalex.org/W{r}\""))
        .collect();
    format!(
        r#"{{"id":"https://openalex.org/W{id}","title":"work {id}","publication_year":2020,"cited_by_count":{cited},"updated_date":"{updated}","referenced_works":[{}],"authorships":[{{"author_position":"first","author":{{"id":"https://openalex.org/A{id}"}},"countries":["JP"],"institutions":[]}}]}}"#,
        refs.join(",")
    )
}

#[test]
fn newest_copy_wins_and_merged_ids_are_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("openalex");
    let works = root.join("data/works");
    // Jan: works 1 (cited 1), 2, 3 (cites 2). Feb: work 1 again (cited 5), work 4 (cites 2 and 3).
    write_gz(
        &works.join("updated_date=2024-01-01/part_000.gz"),
        &[
            work(1, 1, "2024-01-01T00:00:00", &[]),
            work(2, 0, "2024-01-01T00:00:00", &[]),
            work(3, 7, "2024-01-01T00:00:00", &[2]),
        ]
        .join("\n"),
    );
    write_gz(
        &works.join("updated_date=2024-02-01/part_000.gz"),
        &[
            work(1, 5, "2024-02-01T00:00:00", &[3]),
            work(4, 2, "2024-02-01T00:00:00", &[2, 3]),
        ]
        .join("\n"),
    );
    std::fs::write(
        works.join("manifest"),
        r#"{"entries":[
          {"url":"s3://openalex/data/works/updated_date=2024-01-01/part_000.gz","meta":{"content_length":1,"record_count":3}},
          {"url":"s3://openalex/data/works/updated_date=2024-02-01/part_000.gz","meta":{"content_length":1,"record_count":2}}],
          "meta":{"content_length":2,"record_count":5}}"#,
    )
    .unwrap();
    // OpenAlex merged work 2 into work 3.
    write_gz(
        &root.join("data/merged_ids/works/2024-02-01.csv.gz"),
        "merge_date,id,merge_into_id\n2024-02-01,W2,W3\n",
    );

    let ds = tmp.path().join("ds");
    let m = ingest(&[&root], &ds, &[]);
    assert_eq!(m["records"]["read"], 5);
    assert_eq!(m["records"]["ingested"], 5);
    assert_eq!(m["superseded"], 1);
    assert_eq!(m["merged_away"], 1);
    assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");

    let rows = sql_rows(
        &ds,
        "SELECT work_id, cited_by_count FROM works ORDER BY work_id",
    );
    assert_eq!(rows, vec![vec!["1", "5"], vec!["3", "7"], vec!["4", "2"]]);
    // Child rows come from the kept copy only.
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM authorships WHERE work_id = 1"),
        "1"
    );
    // References to the merged work point to the work it was merged into.
    let refs = sql_rows(
        &ds,
        "SELECT work_id, referenced_work_id FROM work_references ORDER BY 1, 2",
    );
    assert_eq!(
        refs,
        vec![
            vec!["1", "3"],
            vec!["3", "3"],
            vec!["4", "3"],
            vec!["4", "3"]
        ]
    );
    // Inputs are listed with their hashes.
    let inputs = m["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 3);
    assert!(
        inputs
            .iter()
            .all(|i| i["sha256"].as_str().unwrap().len() == 64)
    );
}

#[test]
fn a_snapshot_manifest_mismatch_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let works = tmp.path().join("works");
    write_gz(
        &works.join("updated_date=2024-01-01/part_000.gz"),
        &work(1, 1, "2024-01-01", &[]),
    );
    std::fs::write(
        works.join("manifest"),
        r#"{"entries":[{"url":"s3://openalex/data/works/updated_date=2024-01-01/part_000.gz","meta":{"record_count":2}}]}"#,
    )
    .unwrap();
    let ds = tmp.path().join("ds");
    let m = ingest(&[&works], &ds, &[]);
    let errors = m["input_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0]
            .as_str()
            .unwrap()
            .contains("manifest says 2 records, 1 were read")
    );
}
