//! `bibflow generate`: the SYNTHETIC corpus generator through the CLI, and its OpenAlex snapshot
//! read back by `bibflow ingest openalex` with zero rejects.

use crate::common::*;

#[test]
fn generated_openalex_snapshot_ingests_with_zero_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("raw");
    let out = bibflow(&[
        "generate",
        "--works",
        "2500",
        "--seed",
        "9",
        "--format",
        "openalex-jsonl",
        "--out",
        raw.to_str().unwrap(),
        "--threads",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("SYNTHETIC"));
    let ds = tmp.path().join("ds");
    let m = ingest(&[&raw], &ds, &["--strict"]);
    assert_eq!(m["records"]["read"], 2500, "{m}");
    assert_eq!(m["records"]["ingested"], 2500);
    assert_eq!(m["rejected_records"], 0);
    assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");

    // The same seed written as Parquet directly reconciles with the ingested snapshot.
    let direct = tmp.path().join("direct");
    bibflow_ok(&[
        "--quiet",
        "generate",
        "--works",
        "2500",
        "--seed",
        "9",
        "--out",
        direct.to_str().unwrap(),
    ]);
    let dm = manifest(&direct);
    assert_eq!(dm["synthetic"], true);
    for table in [
        "works",
        "authorships",
        "work_topics",
        "work_mesh",
        "work_references",
        "work_citations_by_year",
    ] {
        assert_eq!(
            m["tables"][table]["rows"], dm["tables"][table]["rows"],
            "table {table}"
        );
    }
    let q = "SELECT count(*), sum(cited_by_count), sum(authors_count) FROM works";
    let a = sql_rows(&ds, q);
    let b = sql_rows(&direct, q);
    assert_eq!(a, b);
    assert_eq!(a[0][0], "2500");
    let authors = sql_value(&direct, "SELECT count(*) FROM authorships");
    assert_eq!(a[0][2], authors);
    assert_eq!(
        sql_value(
            &direct,
            "SELECT count(*) FROM works WHERE source <> 'synthetic'"
        ),
        "0"
    );
}

#[test]
fn same_seed_same_files_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, threads: &str| {
        let p = tmp.path().join(name);
        bibflow_ok(&[
            "--quiet",
            "generate",
            "--works",
            "1200",
            "--seed",
            "3",
            "--threads",
            threads,
            "--out",
            p.to_str().unwrap(),
        ]);
        std::fs::read(p.join("works/part-00000.parquet")).unwrap()
    };
    assert_eq!(run("a", "1"), run("b", "2"));
}
