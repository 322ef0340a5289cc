//! `bibflow generate`: the SYNTHETIC corpus generator through the CLI, and its OpenAlex snapshot
//! and PubMed baseline files read back by `bibflow ingest` with zero rejects.

use std::collections::BTreeMap;

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

/// Works in the PubMed test corpus: two files (10,000 records and 2,000).
const PUBMED_WORKS: &str = "12000";

fn generate_pubmed(out: &std::path::Path, threads: &str) -> std::process::Output {
    let out = bibflow(&[
        "generate",
        "--works",
        PUBMED_WORKS,
        "--seed",
        "4",
        "--format",
        "pubmed-xml",
        "--threads",
        threads,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `(pmid, author position) -> countries` of a dataset's authorships.
fn countries_by_author(dataset: &std::path::Path, pmid: &str) -> BTreeMap<(i64, i64), Vec<String>> {
    let q = format!("SELECT {pmid} AS pmid, author_position, countries FROM authorships");
    sql_json(dataset, &q)
        .into_iter()
        .map(|r| {
            let mut c: Vec<String> = r["countries"]
                .as_array()
                .map(|a| a.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            c.sort();
            (
                (
                    r["pmid"].as_i64().unwrap(),
                    r["author_position"].as_i64().unwrap(),
                ),
                c,
            )
        })
        .collect()
}

#[test]
fn generated_pubmed_baseline_ingests_with_zero_rejects_and_reconciles() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("raw");
    let first = generate_pubmed(&raw, "1");
    assert!(String::from_utf8_lossy(&first.stderr).contains("SYNTHETIC"));
    let mut names: Vec<String> = std::fs::read_dir(&raw)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "SYNTHETIC.txt",
            "pubmed26n0001.xml.gz",
            "pubmed26n0002.xml.gz"
        ]
    );

    // Same seed, three threads: the same bytes.
    let again = tmp.path().join("again");
    generate_pubmed(&again, "3");
    for name in &names {
        assert!(
            std::fs::read(raw.join(name)).unwrap() == std::fs::read(again.join(name)).unwrap(),
            "{name} differs between 1 and 3 threads"
        );
    }

    let ds = tmp.path().join("ds");
    let m = ingest_pubmed(&[&raw], &ds);
    assert_eq!(m["records"]["read"], 12_000, "{m}");
    assert_eq!(m["records"]["ingested"], 12_000);
    assert_eq!(m["rejected_records"], 0);
    assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");

    // The same seed written as Parquet directly reconciles with the ingested PubMed files.
    let direct = tmp.path().join("direct");
    bibflow_ok(&[
        "--quiet",
        "generate",
        "--works",
        PUBMED_WORKS,
        "--seed",
        "4",
        "--out",
        direct.to_str().unwrap(),
    ]);
    let dm = manifest(&direct);
    for table in [
        "works",
        "authorships",
        "work_mesh",
        "work_publication_types",
        "work_references",
    ] {
        assert_eq!(
            m["tables"][table]["rows"], dm["tables"][table]["rows"],
            "table {table}"
        );
    }
    assert!(
        dm["tables"]["work_publication_types"]["rows"]
            .as_u64()
            .unwrap()
            > 12_000
    );
    let q = "SELECT count(*), sum(authors_count), sum(referenced_works_count), \
             sum(CASE WHEN is_retracted THEN 1 ELSE 0 END), min(publication_date), \
             max(publication_date), count(DISTINCT doi), count(pmcid) FROM works";
    assert_eq!(sql_rows(&ds, q), sql_rows(&direct, q));
    let q = "SELECT count(*), sum(cardinality(qualifiers)), \
             sum(CASE WHEN is_major_topic THEN 1 ELSE 0 END) FROM work_mesh";
    assert_eq!(sql_rows(&ds, q), sql_rows(&direct, q));
    let q = "SELECT publication_type, ui, count(*) FROM work_publication_types \
             GROUP BY 1, 2 ORDER BY 1, 2";
    assert_eq!(sql_rows(&ds, q), sql_rows(&direct, q));
    let q = "SELECT count(DISTINCT referenced_work_id) FROM work_references";
    assert_eq!(sql_value(&ds, q), sql_value(&direct, q));

    // Countries resolved from the generated affiliation strings against the generator's.
    let generated = countries_by_author(&direct, "work_id - 9000000000 + 90000000");
    let resolved = countries_by_author(&ds, "-work_id");
    assert_eq!(generated.len(), resolved.len());
    let (mut with_country, mut same, mut spurious) = (0, 0, 0);
    for (key, want) in &generated {
        let got = &resolved[key];
        if want.is_empty() {
            spurious += usize::from(!got.is_empty());
        } else {
            with_country += 1;
            same += usize::from(got == want);
        }
    }
    let share = same as f64 / with_country as f64;
    // Measured at seed 4, 12,000 works: 83,067 of 83,067 authorships (1.0000).
    let report = format!(
        "authorships whose resolved PubMed countries equal the generator's: {same}/{with_country} \
         = {share:.4}; {spurious} without a generated country got one"
    );
    assert!(with_country > 50_000, "{report}");
    assert!(share >= 0.97, "{report}");
    assert_eq!(spurious, 0, "{report}");
}
