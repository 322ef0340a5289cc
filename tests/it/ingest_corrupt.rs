//! Bad input loses nothing: good records are ingested, bad ones land in `_rejects/` with their
//! location, and `read = ingested + rejected`.

use crate::common::*;

/// The 50 works of a real API page, one per line.
fn fixture_lines() -> Vec<String> {
    let page = openalex_fixtures()
        .join("openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_1_results_page_1.json");
    works_in(&page)
        .iter()
        .map(|w| serde_json::to_string(w).unwrap())
        .collect()
}

fn rejects(ds: &std::path::Path) -> Vec<serde_json::Value> {
    let dir = ds.join("_rejects");
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            out.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
        }
    }
    out
}

#[test]
fn a_broken_line_is_rejected_with_its_line_and_the_rest_ingested() {
    let tmp = tempfile::tempdir().unwrap();
    let mut lines = fixture_lines();
    assert_eq!(lines.len(), 50);
    // Line 7: cut in half (invalid JSON). Line 20: valid JSON but not a work id.
    let half = lines[6].len() / 2;
    lines[6].truncate(half);
    lines[19] = r#"{"id": "https://openalex.org/A123", "title": "an author, not a work"}"#.into();
    let input = tmp.path().join("works.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();

    let ds = tmp.path().join("ds");
    let m = ingest(&[&input], &ds, &[]);
    assert_eq!(m["records"]["read"], 50);
    assert_eq!(m["records"]["ingested"], 48);
    assert_eq!(m["records"]["rejected"], 2);
    assert_eq!(sql_value(&ds, "SELECT count(*) FROM works"), "48");

    let mut r = rejects(&ds);
    r.sort_by_key(|v| v["line"].as_u64());
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["line"], 7);
    assert!(r[0]["file"].as_str().unwrap().ends_with("works.jsonl"));
    assert!(
        r[0]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid work JSON"),
        "{}",
        r[0]
    );
    // The raw text is kept whole, so nothing is lost.
    assert_eq!(r[0]["record"].as_str().unwrap(), lines[6]);
    assert_eq!(r[1]["line"], 20);
    assert!(
        r[1]["reason"]
            .as_str()
            .unwrap()
            .contains("not an OpenAlex work id")
    );

    // --strict turns rejects into exit code 3, and the dataset is still written.
    let strict_ds = tmp.path().join("strict");
    let out = bibflow(&[
        "--quiet",
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        strict_ds.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(strict_ds.join("manifest.json").exists());
}

#[test]
fn a_truncated_gzip_keeps_the_records_before_the_break() {
    let tmp = tempfile::tempdir().unwrap();
    let lines = fixture_lines();
    let whole = tmp.path().join("whole.jsonl.gz");
    write_gz(&whole, &(lines.join("\n") + "\n"));
    let bytes = std::fs::read(&whole).unwrap();
    let cut = bytes.len() * 6 / 10;
    let input = tmp.path().join("part_000.gz");
    std::fs::write(&input, &bytes[..cut]).unwrap();

    let ds = tmp.path().join("ds");
    let out = bibflow(&[
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        ds.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("part_000.gz"), "{stderr}");
    assert!(stderr.contains("compressed byte offset"), "{stderr}");

    let m = manifest(&ds);
    let read = m["records"]["read"].as_u64().unwrap();
    let ingested = m["records"]["ingested"].as_u64().unwrap();
    let rejected = m["records"]["rejected"].as_u64().unwrap();
    assert_eq!(read, ingested + rejected);
    assert!(ingested > 10 && ingested < 50, "ingested {ingested}");
    // The partial record at the break is rejected with the compressed offset.
    assert_eq!(rejected, 1);
    let r = &rejects(&ds)[0];
    let offset = r["compressed_offset"].as_u64().unwrap();
    assert!(offset > 0 && offset <= cut as u64, "{r}");
    assert_eq!(r["line"].as_u64().unwrap(), ingested + 1);
    // The ingested ones are exactly the first lines of the file, intact.
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM works")
            .parse::<u64>()
            .unwrap(),
        ingested
    );
    let errors = m["input_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert!(errors[0].as_str().unwrap().contains("part_000.gz"));
}

#[test]
fn a_broken_document_is_rejected_whole_with_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let good = openalex_fixtures().join("pyopenalex/work.json");
    let text = std::fs::read_to_string(&good).unwrap();
    let broken = tmp.path().join("broken.json");
    // Pretty-printed JSON cut short.
    std::fs::write(&broken, &text[..text.len() / 2]).unwrap();
    let ds = tmp.path().join("ds");
    let m = ingest(&[&good, &broken], &ds, &[]);
    assert_eq!(m["records"]["read"], 2);
    assert_eq!(m["records"]["ingested"], 1);
    assert_eq!(m["records"]["rejected"], 1);
    let r = &rejects(&ds)[0];
    assert!(r["file"].as_str().unwrap().ends_with("broken.json"));
    assert!(r["line"].as_u64().unwrap() > 1);
}
