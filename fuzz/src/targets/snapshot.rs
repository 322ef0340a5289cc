//! Runs ingest stage one over a small OpenAlex 2026 snapshot whose control files are fuzzed: the
//! combined `manifest.json` of `data/jsonl/` (its record counts are checked against the parts
//! read) or a `merged_ids/works/` CSV file (the works it merges away are dropped). The works parts
//! are the 2026 fixture's, as they are.
//!
//! Checked: the stage succeeds, with `read = ingested + rejected` for every part and every
//! manifest mismatch naming the manifest; or it fails with an error that names the
//! control file (and, for a merged-ids file, the line).

use std::path::Path;

use bibflow_datasets::ingest::{StageOptions, stage};
use bibflow_datasets::input::discover;
use bibflow_datasets::openalex::OpenAlex;
use bibflow_datasets::source::{Progress, Source};

use super::{Reached, Violation};

/// The fixture's JSON Lines works parts, under the repository.
const WORKS: &str = "tests/fixtures/openalex2026/data/jsonl/works";

/// Reads a snapshot made in `dir` of the fixture's works parts and `data`, saved as the control
/// file `name` (`manifest.json`, or a merged-ids file `*.csv` / `*.csv.gz`).
pub fn run(name: &str, data: &[u8], dir: &Path) -> Result<Reached, Violation> {
    let io = |what: &Path, e: std::io::Error| Violation(format!("{}: {e}", what.display()));
    let jsonl = dir.join("data/jsonl");
    let fixture = super::repo_root().join(WORKS);
    for (rel, bytes) in files(&fixture).map_err(|e| io(&fixture, e))? {
        let to = jsonl.join("works").join(rel);
        std::fs::create_dir_all(to.parent().expect("a part has a folder"))
            .map_err(|e| io(&to, e))?;
        std::fs::write(&to, bytes).map_err(|e| io(&to, e))?;
    }
    let control = if name == "manifest.json" {
        jsonl.join(name)
    } else {
        dir.join("data/merged_ids/works").join(name)
    };
    std::fs::create_dir_all(control.parent().expect("a folder")).map_err(|e| io(&control, e))?;
    std::fs::write(&control, data).map_err(|e| io(&control, e))?;

    let inputs = discover(&[dir.join("data")], OpenAlex.extensions())
        .map_err(|e| Violation(format!("the snapshot was not found: {e}")))?;
    let options = StageOptions {
        threads: 2,
        chunk_bytes: None,
    };
    let shown = control.display().to_string();
    let report = match stage(
        &OpenAlex,
        &inputs,
        &dir.join("staging"),
        &options,
        &Progress::default(),
    ) {
        Ok(r) => r,
        Err(e) => {
            let text = e.to_string();
            let merged = name != "manifest.json";
            if !text.contains(&shown) || (merged && !text.contains("line")) {
                return Err(Violation(format!(
                    "a bad control file failed the ingest without naming it{}: {text}",
                    if merged { " and the line" } else { "" }
                )));
            }
            return Ok(Reached {
                rejected: 1,
                ..Reached::default()
            });
        }
    };
    let mut reached = Reached::default();
    for f in &report.files {
        let c = f.counts;
        if c.read != c.ingested + c.rejected {
            return Err(Violation(format!(
                "{}: read {} != ingested {} + rejected {}",
                f.path.display(),
                c.read,
                c.ingested,
                c.rejected
            )));
        }
        reached.ingested += c.ingested;
        reached.rejected += c.rejected;
    }
    if reached.ingested == 0 {
        return Err(Violation(
            "the fixture's works were not ingested beside the control file".into(),
        ));
    }
    for m in &report.manifest_mismatches {
        if !m.contains(&shown) {
            return Err(Violation(format!(
                "a manifest mismatch that does not name the manifest: {m}"
            )));
        }
        reached.damaged += 1;
    }
    Ok(reached)
}

/// Every file under `dir`, by its path relative to `dir`, with its bytes.
fn files(dir: &Path) -> std::io::Result<Vec<(std::path::PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("under dir").to_path_buf();
                out.push((rel, std::fs::read(&p)?));
            }
        }
    }
    out.sort();
    Ok(out)
}
