//! `bibflow sql` and `bibflow tables`: formats, user tables, errors; the dataset's atomicity.

use std::process::Command;
use std::sync::OnceLock;

use crate::common::*;

/// One fixture dataset shared by the read-only tests here.
fn dataset() -> &'static std::path::Path {
    static DS: OnceLock<tempfile::TempDir> = OnceLock::new();
    DS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        ingest(&[&openalex_fixtures()], &tmp.path().join("ds"), &[]);
        tmp
    })
    .path()
    .join("ds")
    .leak()
}

const Q: &str = "SELECT publication_year, count(*) AS n FROM works \
                 WHERE publication_year >= 2017 GROUP BY 1 ORDER BY 1";

#[test]
fn csv_and_json_agree() {
    let ds = dataset().to_str().unwrap();
    let csv = bibflow_ok(&["sql", ds, Q, "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("publication_year,n"));
    let csv_rows: Vec<(i64, i64)> = lines
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert!(!csv_rows.is_empty());

    let json = bibflow_ok(&["sql", ds, Q, "--format", "json"]);
    let v: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let json_rows: Vec<(i64, i64)> = v
        .iter()
        .map(|r| {
            (
                r["publication_year"].as_i64().unwrap(),
                r["n"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(csv_rows, json_rows);

    let nd = bibflow_ok(&["sql", ds, Q, "--format", "ndjson"]);
    assert_eq!(nd.lines().count(), csv_rows.len());

    let table = bibflow_ok(&["sql", ds, Q]);
    assert!(table.contains("| publication_year |"), "{table}");
}

#[test]
fn empty_results_are_still_well_formed() {
    let ds = dataset().to_str().unwrap();
    let q = "SELECT work_id FROM works WHERE work_id < 0";
    assert_eq!(
        bibflow_ok(&["sql", ds, q, "--format", "csv"]).trim(),
        "work_id"
    );
    let json = bibflow_ok(&["sql", ds, q, "--format", "json"]);
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&json)
            .unwrap()
            .len(),
        0
    );
}

#[test]
fn parquet_export_reads_back() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r.parquet");
    bibflow_ok(&[
        "sql",
        dataset().to_str().unwrap(),
        "SELECT work_id, title FROM works",
        "--format",
        "parquet",
        "--out",
        out.to_str().unwrap(),
    ]);
    let reader = SerializedFileReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let works: i64 = sql_value(dataset(), "SELECT count(*) FROM works")
        .parse()
        .unwrap();
    assert_eq!(reader.metadata().file_metadata().num_rows(), works);
    let names: Vec<String> = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names, ["work_id", "title"]);
}

#[test]
fn a_users_own_table_folder_is_queryable() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ingest(&[&openalex_fixtures()], &ds, &[]);
    // A user drops their own Parquet table beside the canonical ones.
    std::fs::create_dir_all(ds.join("patents")).unwrap();
    bibflow_ok(&[
        "sql",
        ds.to_str().unwrap(),
        "SELECT work_id, 'EP' || CAST(work_id % 1000 AS VARCHAR) AS patent FROM works WHERE publication_year = 2018",
        "--format",
        "parquet",
        "--out",
        ds.join("patents/p.parquet").to_str().unwrap(),
    ]);
    let n = sql_value(
        &ds,
        "SELECT count(*) FROM patents p JOIN works w ON w.work_id = p.work_id",
    );
    assert_eq!(
        n,
        sql_value(
            &ds,
            "SELECT count(*) FROM works WHERE publication_year = 2018"
        )
    );
    let tables = bibflow_ok(&["tables", ds.to_str().unwrap()]);
    assert!(
        tables.lines().any(|l| l.starts_with("patents\t")),
        "{tables}"
    );
    assert!(tables.lines().any(|l| l.starts_with("works\t")), "{tables}");
}

#[test]
fn sql_errors_are_clear() {
    let ds = dataset().to_str().unwrap();
    let out = bibflow(&["sql", ds, "SELECT nope FROM works"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error:") && err.contains("nope"), "{err}");

    let out = bibflow(&["sql", "/no/such/dataset", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/dataset"));
}

#[test]
fn an_existing_dataset_is_never_damaged() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let first = ingest(&[&openalex_fixtures().join("pyopenalex")], &ds, &[]);
    let ds_s = ds.to_str().unwrap();

    // Without --overwrite: refused, untouched.
    let out = bibflow(&[
        "ingest",
        "openalex",
        openalex_fixtures().to_str().unwrap(),
        "--out",
        ds_s,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--overwrite"));
    assert_eq!(manifest(&ds), first);

    // A run that fails (a missing input) leaves it untouched and no staging folder behind.
    let out = bibflow(&[
        "ingest",
        "openalex",
        "/no/such/input",
        "--out",
        ds_s,
        "--overwrite",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/input"));
    assert_eq!(manifest(&ds), first);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["ds"]);

    // With --overwrite the new dataset replaces it.
    let second = ingest(&[&openalex_fixtures()], &ds, &["--overwrite"]);
    assert_eq!(second["records"]["read"], 182);
}

#[test]
fn datafusion_settings_come_from_the_environment() {
    let ds = dataset().to_str().unwrap();
    let q = "SELECT value FROM information_schema.df_settings \
             WHERE name = 'datafusion.execution.batch_size'";
    let run = |v: &str| {
        Command::new(env!("CARGO_BIN_EXE_bibflow"))
            .args(["--quiet", "sql", ds, q, "--format", "csv"])
            .env("DATAFUSION_EXECUTION_BATCH_SIZE", v)
            .output()
            .unwrap()
    };
    let out = run("1000");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "value\n1000\n");

    let out = run("many");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DATAFUSION_") && err.contains("datafusion.execution.batch_size"),
        "{err}"
    );
}

#[test]
fn repeat_times_every_run_and_writes_the_result_once() {
    let ds = dataset().to_str().unwrap();
    let q = "SELECT count(*) AS n FROM works";
    let once = bibflow_ok(&["--quiet", "sql", ds, q, "--format", "csv"]);
    let out = bibflow(&["--quiet", "sql", ds, q, "--format", "csv", "--repeat", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), once);
    let err = String::from_utf8_lossy(&out.stderr);
    let runs: Vec<&str> = err.lines().filter(|l| l.starts_with("run ")).collect();
    assert_eq!(runs.len(), 3, "{err}");
    assert!(
        runs[2].starts_with("run 3/3: ") && runs[2].contains("(planning "),
        "{err}"
    );
    assert!(err.contains("median of 3 runs: "), "{err}");

    // An empty result keeps its columns.
    let empty = "SELECT work_id, title FROM works WHERE false";
    let out = bibflow(&[
        "--quiet", "sql", ds, empty, "--format", "csv", "--repeat", "2",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "work_id,title\n");

    let out = bibflow(&["sql", ds, q, "--repeat", "0"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    // `bibflow sql ... | head -1`: the pipe closes after the first line. Every streaming format
    // exits 0 with nothing on stderr, as the table format already did.
    for format in ["csv", "json", "ndjson", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bibflow"))
            .args(["sql", dataset().to_str().unwrap()])
            .arg("SELECT a.work_id, b.title FROM works a, works b")
            .args(["--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{format}: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
