//! Raw inputs read straight from the loopback S3 server (no local copy first), and `--update` of
//! a dataset in S3 from a snapshot in S3: each gives what the same command gives on local folders,
//! table by table. The snapshot is the 2026 fixture (`tests/fixtures/openalex2026`: works written
//! from OpenAlex's documented schema around a real work, in JSON Lines and in OpenAlex's Parquet
//! layout, with entities and the combined manifest; tests/fixtures/openalex2026/SOURCES.md). PubMed
//! XML in S3 (the real fixtures of tests/fixtures/pubmed) is streamed the same way.

use std::path::{Path, PathBuf};

use crate::common::{ingest, manifest};
use crate::ingest_openalex_update::{assert_same_dataset, table_rows};
use crate::object_store::{bibflow_s3, download, prefix, upload_tree};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openalex2026/data")
}

/// Runs `cmd`, insists on success, returns stderr.
fn run_ok(mut cmd: std::process::Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{cmd:?} failed:\n{stderr}");
    stderr
}

/// The manifest's `inputs` of one source as (path, sha256, records read), in order.
fn inputs_of(m: &serde_json::Value) -> Vec<(String, String, u64)> {
    m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["path"].as_str().unwrap().to_string(),
                i["sha256"].as_str().unwrap_or_default().to_string(),
                i["read"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

#[test]
fn a_snapshot_in_s3_is_streamed_and_ingests_like_its_local_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefix("stream");
    let snap = format!("{base}/snap/data");
    upload_tree(&fixture(), &snap);
    for fmt in ["jsonl", "parquet"] {
        let local = tmp.path().join(format!("local-{fmt}"));
        ingest(&[&fixture().join(fmt)], &local, &[]);
        // Pointed at the format prefix and at its `works/` folder (whose manifest is beside it).
        for (name, url) in [
            ("prefix", format!("{snap}/{fmt}")),
            ("works", format!("{snap}/{fmt}/works/")),
        ] {
            let from_s3 = tmp.path().join(format!("s3-{fmt}-{name}"));
            let mut cmd = bibflow_s3(&[
                "ingest",
                "openalex",
                &url,
                "--out",
                from_s3.to_str().unwrap(),
            ]);
            if fmt == "jsonl" {
                // Nothing is copied to this machine first: with no temporary or staging folder
                // to write in, the ingest still succeeds (only Parquet parts, which the reader
                // seeks in, go through the temporary folder).
                // Under a file, no folder can be made.
                let nowhere = tmp.path().join("a-file");
                std::fs::write(&nowhere, b"not a folder").unwrap();
                cmd.env("TMPDIR", nowhere.join("tmp"))
                    .env("BIBFLOW_STAGING_DIR", nowhere.join("staging"));
            }
            let stderr = run_ok(cmd);
            assert!(
                stderr.contains("read from the store as ingest goes"),
                "{stderr}"
            );
            assert!(!stderr.contains("error:"), "{stderr}");
            let (ms, ml) = (manifest(&from_s3), manifest(&local));
            // Every input is named by its URL (it was read there, not from a downloaded copy)
            // and has the local file's hash and record count.
            let (si, li) = (inputs_of(&ms), inputs_of(&ml));
            let li: Vec<_> = if name == "works" {
                li.into_iter().filter(|i| i.0.contains("/works/")).collect()
            } else {
                li
            };
            assert_eq!(si.len(), li.len(), "{si:?}\n{li:?}");
            let root = fixture().join(fmt);
            for (s, l) in si.iter().zip(&li) {
                assert!(s.0.starts_with("s3://"), "{s:?}");
                let rel = Path::new(&l.0).strip_prefix(&root).unwrap();
                assert!(s.0.ends_with(&rel.display().to_string()), "{s:?} {l:?}");
                assert_eq!((&s.1, s.2), (&l.1, l.2), "{}", s.0);
                assert!(!s.1.is_empty(), "{s:?}");
            }
            assert_eq!(ms["input_errors"], ml["input_errors"]);
            assert_eq!(ms["input_errors"].as_array().map_or(0, Vec::len), 0);
            if name == "prefix" {
                assert_eq!(ms["records"], ml["records"]);
                let tables: Vec<&String> = ml["tables"].as_object().unwrap().keys().collect();
                assert!(tables.len() >= 10, "{tables:?}");
                for t in tables {
                    assert_eq!(table_rows(&from_s3, t), table_rows(&local, t), "{fmt}: {t}");
                }
            } else {
                assert_eq!(
                    table_rows(&from_s3, "works"),
                    table_rows(&local, "works"),
                    "{fmt}: works"
                );
            }
        }
    }
    // A URL with nothing under it names the URL.
    let missing = format!("{base}/no-such-snapshot");
    let out = bibflow_s3(&[
        "ingest",
        "openalex",
        &missing,
        "--out",
        tmp.path().join("none").to_str().unwrap(),
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&missing) && stderr.contains("not found"),
        "{stderr}"
    );
}

#[test]
fn a_dataset_in_s3_is_updated_from_a_snapshot_in_s3_like_a_local_one() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefix("update");
    let snap = format!("{base}/snap/data");
    upload_tree(&fixture(), &snap);
    let fmt = "jsonl";
    let full = tmp.path().join("full");
    ingest(&[&fixture().join(fmt)], &full, &[]);
    // The dataset in S3 holds the first works partition; the update applies the rest.
    let ds = format!("{base}/ds");
    run_ok(bibflow_s3(&[
        "--quiet",
        "ingest",
        "openalex",
        &format!("{snap}/{fmt}/works/updated_date=2026-06-01"),
        "--out",
        &ds,
    ]));
    let stderr = run_ok(bibflow_s3(&[
        "ingest",
        "openalex",
        &format!("{snap}/{fmt}"),
        "--update",
        &ds,
    ]));
    assert!(
        stderr.contains("applied partitions: 2026-06-02"),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("dataset: {ds}")), "{stderr}");
    let updated = download(&ds, &tmp.path().join("updated"));
    assert_same_dataset(&updated, &full);
    let m = manifest(&updated);
    assert_eq!(
        m["updates"][0]["partitions"],
        serde_json::json!(["2026-06-02"])
    );
    assert!(
        m["updates"][0]["snapshot"][0]
            .as_str()
            .unwrap()
            .starts_with("s3://"),
        "{}",
        m["updates"][0]
    );

    // Nothing new: the dataset in S3 stays byte for byte as it was.
    let stderr = run_ok(bibflow_s3(&[
        "ingest",
        "openalex",
        &format!("{snap}/{fmt}"),
        "--update",
        &ds,
    ]));
    assert!(stderr.contains("nothing new"), "{stderr}");
    let again = download(&ds, &tmp.path().join("again"));
    assert_eq!(
        crate::common::files_under(&again),
        crate::common::files_under(&updated)
    );

    // --out elsewhere in S3: a new dataset there, the first one left as it was.
    let copy = format!("{base}/copy");
    run_ok(bibflow_s3(&[
        "--quiet",
        "ingest",
        "openalex",
        &format!("{snap}/{fmt}"),
        "--update",
        &ds,
        "--out",
        &copy,
    ]));
    let copied = download(&copy, &tmp.path().join("copied"));
    for t in ["works", "authorships", "authors"] {
        assert_eq!(table_rows(&copied, t), table_rows(&full, t), "{t}");
    }
    let still = download(&ds, &tmp.path().join("still"));
    assert_eq!(
        crate::common::files_under(&still),
        crate::common::files_under(&updated)
    );
}

#[test]
fn pubmed_files_in_s3_are_streamed_and_ingest_like_their_local_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefix("pubmed");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pubmed");
    upload_tree(&fixtures, &format!("{base}/raw"));
    let (local, remote) = (tmp.path().join("local"), tmp.path().join("s3"));
    let ingest_pubmed = |input: &str, out: &Path| {
        run_ok(bibflow_s3(&[
            "ingest",
            "pubmed",
            input,
            "--out",
            out.to_str().unwrap(),
        ]))
    };
    ingest_pubmed(fixtures.to_str().unwrap(), &local);
    let stderr = ingest_pubmed(&format!("{base}/raw"), &remote);
    assert!(
        stderr.contains("read from the store as ingest goes"),
        "{stderr}"
    );
    let (ml, ms) = (manifest(&local), manifest(&remote));
    assert!(
        ml["records"]["read"].as_u64().unwrap() > 100,
        "{}",
        ml["records"]
    );
    assert_eq!(ms["records"], ml["records"]);
    assert_eq!(ms["tables"], ml["tables"]);
    for t in ["works", "authorships", "work_mesh", "work_grants"] {
        assert_eq!(table_rows(&remote, t), table_rows(&local, t), "{t}");
    }
    let (si, li) = (inputs_of(&ms), inputs_of(&ml));
    assert_eq!(si.len(), li.len());
    for (s, l) in si.iter().zip(&li) {
        assert!(s.0.starts_with(&base), "{s:?}");
        assert_eq!((&s.1, s.2), (&l.1, l.2), "{}", s.0);
    }
}
