//! A reader during a publish (issue 22, item 4): `bibflow sql` reads a dataset in a loop while
//! `ingest --overwrite` republishes it, alternating two inputs of different sizes. Every read that
//! succeeds sees the counts of one dataset or the other, never a mix, and every read that fails
//! says the dataset was replaced while it was read (or is being written).
//!
//! Before `engine/src/dataset_guard.rs`, one read under load saw `works` and `authorships` of the
//! old dataset and an empty `work_references` (1500, 11052, 0): DataFusion lists a table's folder
//! when the query reaches it, and a folder missing between the publish's two renames listed as an
//! empty table. The tests after the concurrent one make those moments happen on purpose, in one
//! session: the dataset moved away (the moment between the renames) and replaced by another.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::bibflow_ok;

// The counts come from the Parquet footers (at planning); the distinct count reads the rows.
const COUNTS: &str = "SELECT (SELECT count(*) FROM works) AS w, \
                      (SELECT count(*) FROM authorships) AS a, \
                      (SELECT count(*) FROM work_references) AS r, \
                      (SELECT count(DISTINCT work_id) FROM work_references) AS rw";

/// What a read that fails during a publish may say: the dataset was replaced under it, or it was
/// missing (between the two renames) for longer than a reader waits.
const CLEAR_FAILURES: [&str; 2] = ["was replaced while it was read", "is writing it"];

fn counts(dataset: &Path) -> Result<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_bibflow"))
        .args(["sql", dataset.to_str().unwrap(), COUNTS, "--format", "csv"])
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8(out.stdout).unwrap())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn ingest(input: &Path, out: &Path) {
    bibflow_ok(&[
        "--quiet",
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
}

#[test]
fn a_reader_during_publish_sees_the_old_dataset_or_the_new_one() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs: Vec<_> = [(1500, "1"), (2500, "2")]
        .iter()
        .map(|(works, seed)| {
            let p = tmp.path().join(format!("snapshot-{seed}"));
            bibflow_ok(&[
                "--quiet",
                "generate",
                "--works",
                &works.to_string(),
                "--seed",
                seed,
                "--format",
                "openalex-jsonl",
                "--out",
                p.to_str().unwrap(),
            ]);
            p
        })
        .collect();
    let ds = tmp.path().join("ds");
    let mut expected = Vec::new();
    for input in &inputs {
        ingest(input, &ds);
        expected.push(counts(&ds).expect("a quiet dataset reads"));
    }
    assert_ne!(expected[0], expected[1]);

    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (done, inputs, ds) = (Arc::clone(&done), inputs.clone(), ds.clone());
        std::thread::spawn(move || {
            for i in 0..12 {
                ingest(&inputs[i % 2], &ds);
            }
            done.store(true, Ordering::SeqCst);
        })
    };
    let (mut seen, mut failed) = ([0usize; 2], Vec::new());
    while !done.load(Ordering::SeqCst) {
        match counts(&ds) {
            Ok(got) => match expected.iter().position(|e| *e == got) {
                Some(i) => seen[i] += 1,
                None => panic!("a read saw a mix: {got:?}, expected one of {expected:?}"),
            },
            Err(stderr) => failed.push(stderr),
        }
    }
    writer.join().unwrap();
    // A read can fail (the dataset replaced under it), but with an error that says so, and most
    // reads succeed.
    for stderr in &failed {
        assert!(
            stderr.starts_with("error:") && CLEAR_FAILURES.iter().any(|m| stderr.contains(m)),
            "{stderr}"
        );
    }
    assert!(
        seen[0] + seen[1] > failed.len(),
        "reads of the first dataset: {}, of the second: {}, failed: {failed:?}",
        seen[0],
        seen[1]
    );
}

/// Two datasets ingested from generated inputs, `ds` (300 works) and `other` (500 works).
fn two_datasets(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let out: Vec<_> = [("ds", 300, "3"), ("other", 500, "4")]
        .iter()
        .map(|(name, works, seed)| {
            let input = tmp.join(format!("snapshot-{name}"));
            bibflow_ok(&[
                "--quiet",
                "generate",
                "--works",
                &works.to_string(),
                "--seed",
                seed,
                "--format",
                "openalex-jsonl",
                "--out",
                input.to_str().unwrap(),
            ]);
            let ds = tmp.join(name);
            ingest(&input, &ds);
            ds
        })
        .collect();
    (out[0].clone(), out[1].clone())
}

/// [`COUNTS`] in `session`, as text.
async fn session_counts(
    session: &bibflow_engine::session::Session,
) -> Result<String, bibflow_engine::EngineError> {
    let batches = session.ctx().sql(COUNTS).await?.collect().await?;
    Ok(arrow::util::pretty::pretty_format_batches(&batches)?.to_string())
}

async fn session_on(ds: &Path) -> bibflow_engine::session::Session {
    bibflow_engine::session::SessionBuilder::default()
        .dataset(ds)
        .build()
        .await
        .unwrap()
}

fn assert_replaced(got: Result<String, bibflow_engine::EngineError>, ds: &Path) {
    match got {
        Err(e @ bibflow_engine::EngineError::DatasetReplaced { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains(&format!("the dataset {} was replaced", ds.display()))
                    && text.contains("run the query again"),
                "{text}"
            );
        }
        other => panic!("expected the dataset replaced error, got {other:?}"),
    }
}

#[test]
fn a_session_fails_clearly_when_its_dataset_is_moved_away_or_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let (ds, other) = two_datasets(tmp.path());
    let aside = tmp.path().join("aside");
    tokio::runtime::Builder::new_multi_thread()
        .build()
        .unwrap()
        .block_on(async {
            let other_counts = session_counts(&session_on(&other).await).await.unwrap();
            let session = session_on(&ds).await;
            let before = session_counts(&session).await.unwrap();
            assert_ne!(before, other_counts);
            assert_eq!(session_counts(&session).await.unwrap(), before);

            // The moment between a publish's two renames: without the check, every table listed
            // as empty and the query answered zeros.
            std::fs::rename(&ds, &aside).unwrap();
            assert_replaced(session_counts(&session).await, &ds);

            // The new dataset in place: this session registered the earlier one, so it does not
            // answer from the new one's files either.
            std::fs::rename(&other, &ds).unwrap();
            assert_replaced(session_counts(&session).await, &ds);

            // A new session reads the new dataset.
            assert_eq!(
                session_counts(&session_on(&ds).await).await.unwrap(),
                other_counts
            );
        });
}

#[test]
fn a_dataset_missing_while_a_run_writes_it_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    // The lock of a run writing `ds` (its first publish, or one between its two renames).
    std::fs::write(tmp.path().join(".ds.bibflow-lock"), "pid 4242").unwrap();
    let out = crate::common::bibflow(&["sql", ds.to_str().unwrap(), "SELECT 1"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!("error: {} is not a bibflow dataset", ds.display()))
            && stderr.contains("a bibflow run (pid 4242) is writing it")
            && stderr.contains("run the query again when it has finished"),
        "{stderr}"
    );
}
