//! A reader during a publish (issue 22, item 4): `bibflow sql` reads a dataset in a loop while
//! `ingest --overwrite` republishes it, alternating two inputs of different sizes. Every read that
//! succeeds should see the counts of one dataset or the other, never a mix.
//!
//! It does not yet: under load (the whole test suite beside it) one read saw `works` and
//! `authorships` of the old dataset and an empty `work_references` (1500, 11052, 0): DataFusion lists
//! a table's folder when the query reaches it, the old dataset had been moved aside and removed in
//! between, and a missing folder lists as an empty table, not an error. Ignored until the reader
//! detects a replaced dataset (docs/reliability.md, "Not done"); run it with
//! `cargo test --workspace --test it -- --ignored a_reader_during_publish`.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::bibflow_ok;

const COUNTS: &str = "SELECT (SELECT count(*) FROM works) AS w, \
                      (SELECT count(*) FROM authorships) AS a, \
                      (SELECT count(*) FROM work_references) AS r";

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
#[ignore = "finds a mix (an emptied table) under load: issue 22 item 4, docs/reliability.md"]
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
            for i in 0..8 {
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
    // A read can fail (the moment between the two renames, or files removed under a reader), but
    // with an error, and most reads succeed.
    for stderr in &failed {
        assert!(stderr.starts_with("error:"), "{stderr}");
    }
    assert!(
        seen[0] + seen[1] > failed.len(),
        "reads of the first dataset: {}, of the second: {}, failed: {failed:?}",
        seen[0],
        seen[1]
    );
}
