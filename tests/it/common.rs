//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's real OpenAlex fixtures.
pub fn openalex_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openalex")
}

/// Runs the `bibflow` binary.
pub fn bibflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bibflow"))
        .args(args)
        .output()
        .expect("bibflow runs")
}

/// Runs `bibflow` and insists on success; returns stdout.
pub fn bibflow_ok(args: &[&str]) -> String {
    let out = bibflow(args);
    assert!(
        out.status.success(),
        "bibflow {args:?} failed with {:?}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// Runs a query and returns its CSV rows (header dropped), each split on commas.
pub fn sql_rows(dataset: &Path, query: &str) -> Vec<Vec<String>> {
    let csv = bibflow_ok(&["sql", dataset.to_str().unwrap(), query, "--format", "csv"]);
    csv.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

/// The single value of a one-row, one-column query.
pub fn sql_value(dataset: &Path, query: &str) -> String {
    let rows = sql_rows(dataset, query);
    assert_eq!(rows.len(), 1, "{query}: {rows:?}");
    rows[0][0].clone()
}

/// Ingests `inputs` into `out` and returns the parsed manifest.
pub fn ingest(inputs: &[&Path], out: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--quiet", "ingest", "openalex"];
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    args.extend(inputs.iter().map(String::as_str));
    let out_s = out.display().to_string();
    args.extend(["--out", out_s.as_str()]);
    args.extend(extra);
    bibflow_ok(&args);
    manifest(out)
}

/// A dataset's manifest.
pub fn manifest(dataset: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dataset.join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// All works in an OpenAlex JSON file, whatever its shape (page, single work, JSON Lines).
pub fn works_in(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(mut o)) => match o.remove("results") {
            Some(serde_json::Value::Array(v)) => v,
            _ => vec![serde_json::Value::Object(o)],
        },
        Ok(serde_json::Value::Array(v)) => v,
        _ => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    }
}

/// Writes `lines` gzipped to `path`.
pub fn write_gz(path: &Path, text: &str) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
}

/// The repository's real PubMed fixtures.
pub fn pubmed_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pubmed")
}

/// Runs `bibflow --quiet ingest pubmed INPUT... --out DS` and returns the parsed manifest.
pub fn ingest_pubmed(inputs: &[&Path], out: &Path) -> serde_json::Value {
    let mut args = vec!["--quiet", "ingest", "pubmed"];
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    args.extend(inputs.iter().map(String::as_str));
    let out_s = out.display().to_string();
    args.extend(["--out", out_s.as_str()]);
    bibflow_ok(&args);
    manifest(out)
}

/// A query's rows as JSON objects (`--format ndjson`), for values that may hold commas.
pub fn sql_json(dataset: &Path, query: &str) -> Vec<serde_json::Value> {
    let out = bibflow_ok(&[
        "sql",
        dataset.to_str().unwrap(),
        query,
        "--format",
        "ndjson",
    ]);
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("ndjson row"))
        .collect()
}

/// Every file under `dir`, by its path relative to `dir`, with its bytes.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
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
