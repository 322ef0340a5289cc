//! Hostile saved queries and names (issue 22, item 5): a saved query whose SQL writes files or
//! makes tables, query names with `..` or `/`, `--queries` paths with `..`. Each is refused with
//! an error naming the file, before anything runs, and nothing is written.

use std::path::Path;

use crate::common::{bibflow, ingest, openalex_fixtures};

const HEADER: &str = "-- name = \"NAME\"\n-- title = \"T\"\n-- description = \"d\"\n";

/// A `--queries` folder holding one query `name` with `sql`.
fn queries_with(dir: &Path, name: &str, sql: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let text = HEADER.replace("NAME", name) + sql + "\n";
    std::fs::write(dir.join(format!("{name}.sql")), text).unwrap();
}

fn dataset(tmp: &Path) -> std::path::PathBuf {
    let ds = tmp.join("ds");
    ingest(&[&openalex_fixtures()], &ds, &["--quiet"]);
    ds
}

#[test]
fn a_saved_query_that_writes_files_is_refused_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = dataset(tmp.path());
    let target = tmp.path().join("pwned");
    let t = target.display();
    let cases = [
        (
            "copy_to",
            format!("COPY (SELECT work_id FROM works) TO '{t}/x.csv' STORED AS CSV"),
            "COPY ... TO",
        ),
        (
            "external",
            format!("CREATE EXTERNAL TABLE x (a INT) STORED AS CSV LOCATION '{t}/'"),
            "CREATE EXTERNAL TABLE",
        ),
        (
            "insert",
            "INSERT INTO works SELECT * FROM works".to_string(),
            "INSERT INTO",
        ),
        (
            "two",
            format!("SELECT 1; COPY (SELECT 1) TO '{t}/y.csv'"),
            "2 statements",
        ),
    ];
    for (name, sql, says) in &cases {
        let queries = tmp.path().join(format!("q-{name}"));
        queries_with(&queries, name, sql);
        let file = queries.join(format!("{name}.sql"));
        let q = queries.to_str().unwrap();
        let report = tmp.path().join(format!("report-{name}"));
        let runs: [Vec<&str>; 2] = [
            vec![
                "query",
                "run",
                name,
                "--dataset",
                ds.to_str().unwrap(),
                "--queries",
                q,
            ],
            vec![
                "report",
                "--dataset",
                ds.to_str().unwrap(),
                "--queries",
                q,
                "--out",
                report.to_str().unwrap(),
            ],
        ];
        for args in &runs {
            let out = bibflow(args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
            assert!(
                stderr.starts_with(&format!("error: {}: ", file.display()))
                    && stderr.contains(says)
                    && (stderr.contains("a saved query only reads")
                        || stderr.contains("statements; a saved query is one")),
                "{args:?}: {stderr}"
            );
        }
        // A view in `views/` is a saved query too.
        let views = tmp.path().join(format!("v-{name}"));
        queries_with(&views.join("views"), name, sql);
        let out = bibflow(&[
            "query",
            "run",
            "corpus_summary",
            "--dataset",
            ds.to_str().unwrap(),
            "--queries",
            views.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "view {name}: {stderr}");
        assert!(stderr.contains(says), "view {name}: {stderr}");
    }
    assert!(
        !target.exists(),
        "a refused query wrote {}",
        target.display()
    );
    assert!(
        !tmp.path().join("report-copy_to").exists(),
        "a refused report wrote its folder"
    );
}

#[test]
fn a_select_into_is_refused_when_planned() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = dataset(tmp.path());
    let queries = tmp.path().join("q");
    queries_with(&queries, "into", "SELECT work_id INTO copied FROM works");
    let out = bibflow(&[
        "query",
        "run",
        "into",
        "--dataset",
        ds.to_str().unwrap(),
        "--queries",
        queries.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("into.sql: a saved query only reads") && stderr.contains("DDL"),
        "{stderr}"
    );
}

#[test]
fn query_names_with_dots_or_slashes_are_refused_and_queries_paths_are_taken_as_given() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = dataset(tmp.path());
    let d = ds.to_str().unwrap();
    // A name on the command line is looked up, never opened as a path.
    for name in ["../../etc/passwd", "..", "views/../corpus_summary"] {
        let out = bibflow(&["query", "run", name, "--dataset", d]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.starts_with(&format!("error: no saved query named {name:?}; known: ")),
            "{name}: {stderr}"
        );
    }
    // A file whose name is not a query name (its stem names the exports, `data/NAME.csv`).
    for stem in ["..", "a..b", ".hidden"] {
        let queries = tmp.path().join(format!("names-{}", stem.replace('.', "d")));
        queries_with(&queries, stem, "SELECT 1 AS x");
        let out = bibflow(&["query", "list", "--queries", queries.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stem}: {stderr}");
        assert!(
            stderr.contains(&format!("the name {stem:?} is not a query name")),
            "{stem}: {stderr}"
        );
    }
    // `--queries` with `..` is a path like any other: the folder it names is read.
    let queries = tmp.path().join("mine");
    queries_with(&queries, "one", "SELECT 1 AS x");
    std::fs::create_dir(tmp.path().join("elsewhere")).unwrap();
    let dotted = tmp.path().join("elsewhere/../mine");
    let out = bibflow(&[
        "query",
        "run",
        "one",
        "--dataset",
        d,
        "--queries",
        dotted.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "x\n1\n");
    // And a `--queries` path that does not exist is an error naming it.
    let missing = tmp.path().join("nothing/../nowhere");
    let out = bibflow(&["query", "list", "--queries", missing.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&missing.display().to_string()), "{stderr}");
}
