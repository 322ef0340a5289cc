//! `bibflow ingest openalex SNAPSHOT --update DATASET` (issue 19, build item 2): an update gives
//! the same tables as a full ingest of the same snapshot, row for row, in every table; a second
//! run applies nothing and leaves the dataset byte for byte as it was; datasets and snapshots it
//! cannot apply to are refused with an error naming the path.
//!
//! The expected datasets are not written down: each is a full ingest of the same snapshot, read
//! here straight from its Parquet files (not through bibflow's engine).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::*;

/// A work with an author, references, yearly citations and a funder, so that every table the
/// update rewrites has rows of it.
fn work(id: u64, cited: u64, updated: &str, refs: &[u64]) -> String {
    let refs: Vec<String> = refs
        .iter()
        .map(|r| format!("\"https://openalex.org/W{r}\""))
        .collect();
    format!(
        r#"{{"id":"https://openalex.org/W{id}","title":"work {id} cited {cited}","publication_year":2020,"cited_by_count":{cited},"updated_date":"{updated}","referenced_works":[{}],"counts_by_year":[{{"year":2025,"cited_by_count":{cited}}}],"funders":[{{"id":"https://openalex.org/F{id}","display_name":"Funder {id}"}}],"authorships":[{{"author_position":"first","author":{{"id":"https://openalex.org/A{id}","display_name":"Author {id}"}},"countries":["JP"],"institutions":[]}}]}}"#,
        refs.join(",")
    )
}

/// One works partition of the snapshot: its date and its lines.
type Partition = (&'static str, Vec<String>);

/// The snapshot's partitions, the later ones updating works of the earlier ones:
/// - 06-01: W1, W2, W3 (cites W2);
/// - 06-02: W1 again (cited 5, cites W3), W4 (cites W2 and W1), a line that is not JSON
///   (rejected), W6 with a year given as text (kept, with a field warning);
/// - 06-03: W3 again (cites W2 and W4), W5 (cites W2), W7;
/// - merged_ids: W2 merged into W4, W7 into W5.
fn partitions() -> Vec<Partition> {
    vec![
        (
            "2026-06-01",
            vec![
                work(1, 1, "2026-06-01T08:00:00Z", &[]),
                work(2, 0, "2026-06-01T09:00:00Z", &[]),
                work(3, 7, "2026-06-01T10:00:00Z", &[2]),
            ],
        ),
        (
            "2026-06-02",
            vec![
                work(1, 5, "2026-06-02T08:00:00Z", &[3]),
                work(4, 2, "2026-06-02T09:00:00Z", &[2, 1]),
                "{\"id\": \"https://openalex.org/W9\", not json".to_string(),
                work(6, 3, "2026-06-02T11:00:00Z", &[1])
                    .replace("\"publication_year\":2020", "\"publication_year\":\"2021\""),
            ],
        ),
        (
            "2026-06-03",
            vec![
                work(3, 9, "2026-06-03T08:00:00Z", &[2, 4]),
                work(5, 1, "2026-06-03T09:00:00Z", &[2]),
                work(7, 0, "2026-06-03T10:00:00Z", &[]),
            ],
        ),
    ]
}

const MERGED: &str = "merge_date,id,merge_into_id\n2026-06-03,W2,W4\n2026-06-03,W7,W5\n";

/// Writes a 2026-layout snapshot under `root`: `data/jsonl/works/updated_date=D/part_0000.gz`
/// with `data/jsonl/manifest.json`, and `legacy-data/merged_ids/works/2026-06-03.csv.gz` when
/// `merged`. Partitions already there are kept (a later snapshot adds partitions).
fn write_snapshot(root: &Path, parts: &[Partition], merged: bool) {
    let jsonl = root.join("data/jsonl");
    for (date, lines) in parts {
        let path = jsonl.join(format!("works/updated_date={date}/part_0000.gz"));
        write_gz(&path, &(lines.join("\n") + "\n"));
    }
    // The combined manifest lists every works part on disk with its record count.
    let mut entries = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(jsonl.join("works"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        let date = d.file_name().unwrap().to_string_lossy().into_owned();
        let count = gz_lines(&d.join("part_0000.gz"));
        entries.push(serde_json::json!({
            "url": format!("s3://openalex/data/jsonl/works/{date}/part_0000.gz"),
            "meta": {"content_length": 1, "record_count": count},
        }));
    }
    std::fs::write(
        jsonl.join("manifest.json"),
        serde_json::json!({ "entries": entries }).to_string(),
    )
    .unwrap();
    if merged {
        write_gz(
            &root.join("legacy-data/merged_ids/works/2026-06-03.csv.gz"),
            MERGED,
        );
    }
}

fn gz_lines(path: &Path) -> usize {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines().filter(|l| !l.trim().is_empty()).count()
}

/// What `bibflow ingest openalex` reads of a snapshot written by [`write_snapshot`].
fn snapshot_inputs(root: &Path) -> Vec<PathBuf> {
    let mut v = vec![root.join("data/jsonl")];
    let merged = root.join("legacy-data/merged_ids");
    if merged.exists() {
        v.push(merged);
    }
    v
}

/// Runs `bibflow ingest openalex INPUTS --update DATASET [extra]`.
fn update(inputs: &[PathBuf], dataset: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = ["ingest", "openalex"].map(String::from).to_vec();
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--update".to_string(), dataset.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bibflow(&args)
}

fn update_ok(inputs: &[PathBuf], dataset: &Path, extra: &[&str]) -> String {
    let out = update(inputs, dataset, extra);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "update failed: {stderr}");
    stderr
}

fn update_err(inputs: &[PathBuf], dataset: &Path) -> String {
    let out = update(inputs, dataset, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "update should fail: {stderr}");
    stderr
}

/// Every row of table `table` of `dataset`, as JSON text, sorted: read with the Parquet reader
/// from the table's files.
pub fn table_rows(dataset: &Path, table: &str) -> Vec<String> {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let mut rows = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dataset.join(table))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let batch = batch.unwrap();
            let mut out = Vec::new();
            let mut w = arrow::json::LineDelimitedWriter::new(&mut out);
            w.write(&batch).unwrap();
            w.finish().unwrap();
            rows.extend(String::from_utf8(out).unwrap().lines().map(str::to_owned));
        }
    }
    rows.sort();
    rows
}

/// The lines of the `.jsonl` files of `dir` (not recursive), sorted.
fn jsonl_lines(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "jsonl") {
                let text = std::fs::read_to_string(&p).unwrap();
                lines.extend(text.lines().map(str::to_owned));
            }
        }
    }
    lines.sort();
    lines
}

/// Asserts that `updated` holds the same tables, rows, rejects and warnings as `full`, and that
/// its counts add up the way a full ingest's do.
pub fn assert_same_dataset(updated: &Path, full: &Path) {
    let (mu, mf) = (manifest(updated), manifest(full));
    let tables_u: BTreeSet<&String> = mu["tables"].as_object().unwrap().keys().collect();
    let tables_f: BTreeSet<&String> = mf["tables"].as_object().unwrap().keys().collect();
    assert_eq!(tables_u, tables_f);
    assert!(tables_f.len() >= 10, "{tables_f:?}");
    let mut compared_rows = 0;
    for t in tables_f {
        let (u, f) = (table_rows(updated, t), table_rows(full, t));
        assert_eq!(u.len(), f.len(), "table {t}: row count");
        assert_eq!(u, f, "table {t}");
        assert_eq!(mu["tables"][t]["rows"], f.len(), "table {t}: manifest rows");
        compared_rows += f.len();
    }
    assert!(compared_rows > 20, "{compared_rows}");
    for sub in ["_rejects", "_rejects/warnings"] {
        assert_eq!(
            jsonl_lines(&updated.join(sub)),
            jsonl_lines(&full.join(sub)),
            "{sub}"
        );
    }
    for key in ["records", "superseded", "merged_away", "rejected_records"] {
        assert_eq!(mu[key], mf[key], "manifest {key}");
    }
    // Every record read is in the dataset or in _rejects, and the works add up.
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    let r = &mu["records"];
    assert_eq!(n(&r["read"]), n(&r["ingested"]) + n(&r["rejected"]));
    assert_eq!(
        n(&mu["tables"]["works"]["rows"]),
        n(&r["ingested"]) - n(&mu["superseded"]) - n(&mu["merged_away"])
    );
    let last = mu["updates"].as_array().unwrap().last().unwrap();
    assert_eq!(n(&last["works_after"]), n(&mu["tables"]["works"]["rows"]));
    assert_eq!(
        n(&last["works_after"]),
        n(&last["kept"]) + n(&last["added"])
    );
    assert_eq!(
        n(&last["works_before"]),
        n(&last["kept"]) + n(&last["replaced"]) + n(&last["merged_away"])
    );
    assert_eq!(mu["openalex_snapshot"], mf["openalex_snapshot"]);
    assert_eq!(mu["sorted_by_work_id"], true);
    assert_eq!(mu["input_errors"], mf["input_errors"]);
}

/// Every file under `dir` with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn partition_dir(root: &Path, date: &str) -> PathBuf {
    root.join(format!("data/jsonl/works/updated_date={date}"))
}

#[test]
fn an_update_equals_a_full_ingest_of_the_same_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshot");
    write_snapshot(&root, &partitions(), true);
    let full = tmp.path().join("full");
    let mf = ingest(
        &snapshot_inputs(&root)
            .iter()
            .map(PathBuf::as_path)
            .collect::<Vec<_>>(),
        &full,
        &[],
    );
    // The fixture does what it claims: copies superseded, works merged away, a reject, a warning.
    assert_eq!(mf["superseded"], 2, "{mf}");
    assert_eq!(mf["merged_away"], 2, "{mf}");
    assert_eq!(mf["records"]["rejected"], 1, "{mf}");
    assert_eq!(mf["records"]["warnings"], 1, "{mf}");
    assert_eq!(
        mf["openalex_snapshot"]["partitions"],
        serde_json::json!(["2026-06-01", "2026-06-02", "2026-06-03"])
    );
    assert_eq!(
        mf["openalex_snapshot"]["merged_ids"],
        serde_json::json!(["2026-06-03.csv.gz"])
    );

    // From the first partition, and from the first two: each updated with the whole snapshot.
    for base_parts in [&["2026-06-01"][..], &["2026-06-01", "2026-06-02"]] {
        let ds = tmp.path().join(format!("ds-{}", base_parts.len()));
        let dirs: Vec<PathBuf> = base_parts.iter().map(|d| partition_dir(&root, d)).collect();
        let before = ingest(
            &dirs.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
            &ds,
            &[],
        );
        assert_eq!(
            before["openalex_snapshot"]["merged_ids"],
            serde_json::json!([])
        );
        // Work 2 is in the dataset before the update (the merged-ids file is new to it).
        assert!(
            table_rows(&ds, "works")
                .iter()
                .any(|r| r.contains("\"work_id\":2,"))
        );

        let stderr = update_ok(&snapshot_inputs(&root), &ds, &[]);
        assert!(stderr.contains("applied partitions: "), "{stderr}");
        assert_same_dataset(&ds, &full);
        let m = manifest(&ds);
        let applied: Vec<&str> = m["updates"][0]["partitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let expected: Vec<&str> = ["2026-06-01", "2026-06-02", "2026-06-03"]
            .into_iter()
            .filter(|d| !base_parts.contains(d))
            .collect();
        assert_eq!(applied, expected);
        // Merged-away works are gone from every table that names them as the work.
        for t in m["tables"].as_object().unwrap().keys() {
            let rows = table_rows(&ds, t);
            assert!(
                !rows
                    .iter()
                    .any(|r| r.contains("\"work_id\":2,") || r.contains("\"work_id\":7,")),
                "{t}: {rows:?}"
            );
        }
        // Each snapshot part is listed once among the inputs: none applied twice.
        let paths: Vec<&str> = m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["path"].as_str().unwrap())
            .collect();
        let unique: BTreeSet<&str> = paths.iter().copied().collect();
        assert_eq!(paths.len(), unique.len(), "{paths:?}");
        assert_eq!(
            paths.len(),
            4,
            "three parts and the merged-ids file: {paths:?}"
        );

        // Again: nothing new, nothing written.
        let before = tree(&ds);
        let stderr = update_ok(&snapshot_inputs(&root), &ds, &[]);
        assert!(stderr.contains("nothing new"), "{stderr}");
        assert_eq!(tree(&ds), before, "the dataset is byte for byte as it was");
        let beside: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(beside.is_empty(), "{beside:?}");
    }
}

#[test]
fn a_later_snapshot_updates_an_updated_dataset_and_out_leaves_it_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshot");
    let mut parts = partitions();
    write_snapshot(&root, &parts[..1], false);
    let ds = tmp.path().join("ds");
    ingest(
        &snapshot_inputs(&root)
            .iter()
            .map(PathBuf::as_path)
            .collect::<Vec<_>>(),
        &ds,
        &[],
    );
    // The next snapshots: two more partitions and the merged ids, then one more partition where
    // W1 changes again and a new work cites works merged away by the earlier merged-ids file.
    write_snapshot(&root, &parts[1..], true);
    update_ok(&snapshot_inputs(&root), &ds, &[]);
    parts.push((
        "2026-06-04",
        vec![
            work(1, 11, "2026-06-04T08:00:00Z", &[7]),
            work(8, 0, "2026-06-04T09:00:00Z", &[2, 5]),
        ],
    ));
    write_snapshot(&root, &parts[3..], true);
    let full = tmp.path().join("full");
    ingest(
        &snapshot_inputs(&root)
            .iter()
            .map(PathBuf::as_path)
            .collect::<Vec<_>>(),
        &full,
        &[],
    );

    // --out: the updated dataset goes there, the dataset stays as it was.
    let before = tree(&ds);
    let out = tmp.path().join("ds-next");
    let stderr = update_ok(
        &snapshot_inputs(&root),
        &ds,
        &["--out", out.to_str().unwrap()],
    );
    assert!(stderr.contains("2026-06-04"), "{stderr}");
    assert_eq!(tree(&ds), before);
    assert_same_dataset(&out, &full);
    assert_eq!(manifest(&out)["updates"].as_array().unwrap().len(), 2);
    // W8's reference to W2 (merged away by the earlier file) points to W4, as in a full ingest.
    assert!(
        table_rows(&out, "work_references")
            .contains(&r#"{"work_id":8,"referenced_work_id":4}"#.to_string())
    );

    // In place, then an older snapshot (the first partition only) is refused.
    update_ok(&snapshot_inputs(&root), &ds, &[]);
    assert_same_dataset(&ds, &full);
    let old = tmp.path().join("old-snapshot");
    write_snapshot(&old, &parts[..1], false);
    let err = update_err(&snapshot_inputs(&old), &ds);
    assert!(err.contains("older than the dataset"), "{err}");
    assert!(
        err.contains(old.join("data/jsonl").to_str().unwrap()),
        "{err}"
    );
}

#[test]
fn the_2026_fixture_updates_to_its_full_ingest_in_both_formats() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openalex2026/data");
    let tmp = tempfile::tempdir().unwrap();
    for (fmt, ext) in [("jsonl", "gz"), ("parquet", "parquet")] {
        let prefix = data.join(fmt);
        let full = tmp.path().join(format!("full-{fmt}"));
        ingest(&[&prefix], &full, &[]);
        // The base holds the first works partition and no other entity: the update applies the
        // next works partition and every entity partition (the dataset recorded none of them).
        let ds = tmp.path().join(format!("ds-{fmt}"));
        ingest(&[&prefix.join("works/updated_date=2026-06-01")], &ds, &[]);
        let stderr = update_ok(std::slice::from_ref(&prefix), &ds, &[]);
        // Entities bibflow does not read are left out with the full ingest's note.
        assert!(stderr.contains("other OpenAlex entities"), "{stderr}");
        assert!(
            stderr.contains("authors: partitions 2026-06-01, 2026-06-02 applied"),
            "{stderr}"
        );
        assert_same_dataset(&ds, &full);
        let m = manifest(&ds);
        assert_eq!(
            m["updates"][0]["partitions"],
            serde_json::json!(["2026-06-02"])
        );
        let new_inputs: Vec<&str> = m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["source"] == "openalex")
            .map(|i| i["path"].as_str().unwrap())
            .filter(|p| p.contains("2026-06-02"))
            .collect();
        assert_eq!(new_inputs.len(), 1, "{new_inputs:?}");
        assert!(new_inputs[0].ends_with(ext), "{new_inputs:?}");
    }
}

#[test]
fn datasets_it_cannot_update_are_refused_naming_the_path() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("snapshot");
    write_snapshot(&root, &partitions(), true);
    let inputs = snapshot_inputs(&root);

    let missing = tmp.path().join("missing");
    let err = update_err(&inputs, &missing);
    assert!(err.contains(missing.to_str().unwrap()), "{err}");
    assert!(err.contains("no such dataset"), "{err}");
    assert!(!missing.exists());

    let ds = tmp.path().join("ds");
    ingest(&[&partition_dir(&root, "2026-06-01")], &ds, &[]);
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut m = manifest(&ds);
        f(&mut m);
        std::fs::write(ds.join("manifest.json"), m.to_string()).unwrap();
    };
    let original = std::fs::read(ds.join("manifest.json")).unwrap();

    // Made by a bibflow that did not record its snapshot partitions.
    edit(&|m| {
        m.as_object_mut().unwrap().remove("openalex_snapshot");
    });
    let before = tree(&ds);
    let err = update_err(&inputs, &ds);
    assert!(err.contains(ds.to_str().unwrap()), "{err}");
    assert!(err.contains("does not record"), "{err}");
    assert!(err.contains("full ingest once"), "{err}");
    assert_eq!(tree(&ds), before, "a refused update writes nothing");

    std::fs::write(ds.join("manifest.json"), &original).unwrap();
    edit(&|m| m["schema_version"] = serde_json::json!(0));
    let err = update_err(&inputs, &ds);
    assert!(err.contains(ds.to_str().unwrap()), "{err}");
    assert!(err.contains("schema version 0"), "{err}");

    std::fs::write(ds.join("manifest.json"), &original).unwrap();
    edit(&|m| m["inputs"][0]["source"] = serde_json::json!("pubmed"));
    let err = update_err(&inputs, &ds);
    assert!(err.contains(ds.to_str().unwrap()), "{err}");
    assert!(err.contains("not an OpenAlex dataset"), "{err}");

    let plain = tmp.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let err = update_err(&inputs, &plain);
    assert!(err.contains("no manifest.json"), "{err}");

    // The edits undone, the same dataset updates.
    std::fs::write(ds.join("manifest.json"), &original).unwrap();
    update_ok(&inputs, &ds, &[]);
    assert_eq!(manifest(&ds)["updates"].as_array().unwrap().len(), 1);
}
