//! The JSON Lines pipeline ([`super::chunks`]) against the sequential reader.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde_json::Value;

use super::OpenAlex;
use crate::ingest::{StageOptions, StageReport, stage};
use crate::input::{InputFile, Inputs};
use crate::source::Progress;

/// The works of the real API pages in `tests/fixtures/openalex/openalexPro`.
fn fixture_works() -> Vec<Value> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel");
    let mut works = Vec::new();
    for i in 1..=4 {
        let path = dir.join(format!("json_chunk_{i}_results_page_1.json"));
        let page: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        works.extend(page["results"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(works.len(), 175);
    works
}

/// JSON Lines of `n` real works with new ids (`W900000001`...), then their line numbers: a bad
/// line in the middle, a blank line, a work with a field of the wrong type, a second copy of a
/// work far from its first and one right after it.
fn lines(n: usize) -> (String, BTreeMap<&'static str, u64>) {
    let works = fixture_works();
    let mut text = String::new();
    let mut marks = BTreeMap::new();
    let mut line = 0u64;
    let mut push = |text: &mut String, s: &str| {
        text.push_str(s);
        text.push('\n');
        line += 1;
        line
    };
    for k in 0..n {
        let mut w = works[k % works.len()].clone();
        w["id"] = Value::from(format!("https://openalex.org/W{}", 900_000_001 + k));
        if k == n / 3 {
            w["publication_year"] = Value::from("in press");
        }
        let json = serde_json::to_string(&w).unwrap();
        let at = push(&mut text, &json);
        if k == n / 2 {
            marks.insert(
                "bad",
                push(&mut text, "{\"id\": \"https://openalex.org/W1\", "),
            );
            marks.insert("blank", push(&mut text, "   "));
        }
        if k == 5 {
            marks.insert("first copy", at);
        }
        if k == n - 10 {
            let mut copy = works[5].clone();
            copy["id"] = Value::from("https://openalex.org/W900000006");
            marks.insert(
                "far copy",
                push(&mut text, &serde_json::to_string(&copy).unwrap()),
            );
            marks.insert("near copy", push(&mut text, &json));
            marks.insert("near first", at);
        }
    }
    (text, marks)
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

/// Stages `bytes` as one file named `name` with `threads` threads and chunks of `chunk_bytes`.
fn stage_file(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    threads: usize,
    chunk_bytes: Option<usize>,
) -> (StageReport, BTreeMap<String, Vec<u8>>) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let inputs = Inputs {
        files: vec![InputFile {
            path,
            size: bytes.len() as u64,
            snapshot_date: None,
            remote: None,
        }],
        ..Inputs::default()
    };
    let staging = dir.join(format!("staging-{threads}-{chunk_bytes:?}"));
    let options = StageOptions {
        threads,
        chunk_bytes,
    };
    let report = stage(&OpenAlex, &inputs, &staging, &options, &Progress::default()).unwrap();
    (report, tree(&staging))
}

/// Every file under `dir`, relative path -> bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The rejects of a staged tree, one JSON value per rejected record.
fn rejects(tree: &BTreeMap<String, Vec<u8>>) -> Vec<Value> {
    tree.iter()
        .filter(|(p, _)| p.starts_with("_rejects") && !p.contains("warnings"))
        .flat_map(|(_, b)| {
            String::from_utf8(b.clone())
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn a_file_cut_into_chunks_stages_the_same_bytes_as_the_sequential_reader() {
    // More works than one flush (2,048), so that flushes fall inside chunks.
    let n = 2_300;
    let (text, marks) = lines(n);
    let gz = gzip(&text);
    let dir = tempfile::tempdir().unwrap();
    let (seq, seq_tree) = stage_file(dir.path(), "works.jsonl.gz", &gz, 1, None);
    let c = seq.totals;
    assert_eq!(
        (c.read, c.ingested, c.rejected),
        (n as u64 + 3, n as u64, 3)
    );
    assert_eq!(c.warnings, 1);
    let rejected = rejects(&seq_tree);
    let at = |what: &str| {
        rejected
            .iter()
            .find(|r| r["line"] == marks[what])
            .unwrap_or_else(|| panic!("no reject at the {what} line: {rejected:?}"))
    };
    assert!(at("bad")["reason"].as_str().unwrap().contains("invalid"));
    let far = at("far copy")["reason"].as_str().unwrap().to_owned();
    assert!(
        far.contains(&format!("first at line {}", marks["first copy"])),
        "{far}"
    );
    let near = at("near copy")["reason"].as_str().unwrap().to_owned();
    assert!(
        near.contains(&format!("first at line {}", marks["near first"])),
        "{near}"
    );
    assert!(
        at("bad")["file"]
            .as_str()
            .unwrap()
            .ends_with("works.jsonl.gz"),
        "{rejected:?}"
    );

    // Chunks of one line, of a few lines, of many; two and three parser threads.
    for (threads, chunk) in [
        (2, Some(1)),
        (2, Some(60_000)),
        (3, Some(1 << 20)),
        (2, None),
    ] {
        let (par, par_tree) = stage_file(dir.path(), "works.jsonl.gz", &gz, threads, chunk);
        assert_eq!(
            par.totals, seq.totals,
            "{threads} threads, chunks of {chunk:?}"
        );
        assert_eq!(par.rows, seq.rows);
        assert_eq!(par.files[0].sha256, seq.files[0].sha256);
        assert_eq!(
            par_tree.keys().collect::<Vec<_>>(),
            seq_tree.keys().collect::<Vec<_>>()
        );
        for (path, bytes) in &seq_tree {
            assert!(
                par_tree[path] == *bytes,
                "{path} differs with {threads} threads, chunks of {chunk:?}"
            );
        }
    }
}

#[test]
fn a_truncated_gzip_file_keeps_the_same_records_in_chunks() {
    let (text, _) = lines(300);
    let gz = gzip(&text);
    let cut = &gz[..gz.len() * 2 / 3];
    let dir = tempfile::tempdir().unwrap();
    let (seq, seq_tree) = stage_file(dir.path(), "cut.jsonl.gz", cut, 1, None);
    assert!(seq.files[0].error.is_some());
    assert!(seq.totals.ingested > 100 && seq.totals.ingested < 300);
    let (par, par_tree) = stage_file(dir.path(), "cut.jsonl.gz", cut, 2, Some(100_000));
    assert_eq!(par.totals, seq.totals);
    assert_eq!(par.files[0].error, seq.files[0].error);
    assert!(par_tree == seq_tree, "the staged files differ");
}
