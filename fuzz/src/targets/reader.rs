//! Runs a reader of raw records (the real ingest stage one: `discover` and `stage`, writing
//! staging Parquet and `_rejects/`) over one input file, and checks what every ingest promises:
//! the file is read to the end or marked damaged, never failed whole; `read = ingested + rejected`;
//! every ingested work is a row of `works`; every rejected record is a line of `_rejects/` with the
//! file, a line number and a reason.

use std::path::Path;

use bibflow_datasets::ingest::{StageOptions, stage};
use bibflow_datasets::input::discover;
use bibflow_datasets::openalex::OpenAlex;
use bibflow_datasets::pubmed::PubMed;
use bibflow_datasets::source::{Progress, RecordCounts, Source};
use bibflow_datasets::staging::REJECTS_DIR;

use super::Violation;

/// Which reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    OpenAlex,
    PubMed,
}

/// What one run gave, for comparisons between runs (a gzip file and its payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub counts: RecordCounts,
    /// The file-level error (a damaged gzip stream), if any.
    pub file_error: Option<String>,
    /// `(line, byte offset, reason)` of every reject, in order.
    pub rejects: Vec<(u64, Option<u64>, String)>,
}

/// Reads `data`, saved as `dir/name`, with `reader`, staging into `dir/staging`, and checks the
/// invariants. `dir` must be empty; it is left with the files for a look when a check fails.
pub fn run(reader: Reader, name: &str, data: &[u8], dir: &Path) -> Result<Outcome, Violation> {
    let file = dir.join(name);
    std::fs::write(&file, data)
        .map_err(|e| Violation(format!("cannot write {}: {e}", file.display())))?;
    let staging = dir.join("staging");
    let source: &dyn Source = match reader {
        Reader::OpenAlex => &OpenAlex,
        Reader::PubMed => &PubMed,
    };
    let inputs = discover(std::slice::from_ref(&file), source.extensions())
        .map_err(|e| Violation(format!("the input was not found: {e}")))?;
    // Two threads: the PubMed reader then splits and parses on separate threads.
    let options = StageOptions { threads: 2 };
    let report = stage(source, &inputs, &staging, &options, &Progress::default()).map_err(|e| {
        Violation(format!(
            "the reader failed the whole file instead of rejecting records: {e}"
        ))
    })?;
    let [f] = report.files.as_slice() else {
        return Err(Violation(format!(
            "{} file reports for one input",
            report.files.len()
        )));
    };
    let c = f.counts;
    if c.read != c.ingested + c.rejected {
        return Err(Violation(format!(
            "read {} != ingested {} + rejected {}",
            c.read, c.ingested, c.rejected
        )));
    }
    if report.rows[0] != c.ingested {
        return Err(Violation(format!(
            "{} works ingested but {} rows written to works",
            c.ingested, report.rows[0]
        )));
    }
    let shown = file.display().to_string();
    if let Some(e) = &f.error
        && !e.contains(&shown)
    {
        return Err(Violation(format!(
            "the file error does not name the file: {e}"
        )));
    }
    let rejects = rejects(&staging, source.name(), &shown)?;
    if rejects.len() as u64 != c.rejected {
        return Err(Violation(format!(
            "{} rejects counted but {} lines in {REJECTS_DIR}/",
            c.rejected,
            rejects.len()
        )));
    }
    Ok(Outcome {
        counts: c,
        file_error: f.error.clone(),
        rejects,
    })
}

/// The rejects of file 0, each checked for a location and a reason.
fn rejects(
    staging: &Path,
    source: &str,
    file: &str,
) -> Result<Vec<(u64, Option<u64>, String)>, Violation> {
    let path = staging
        .join(REJECTS_DIR)
        .join(format!("{source}-00000.jsonl"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Violation(format!("cannot read {}: {e}", path.display()))),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let bad = |what: &str| {
            Violation(format!(
                "{}, line {}: {what}: {line}",
                path.display(),
                i + 1
            ))
        };
        let v: serde_json::Value =
            serde_json::from_str(line).map_err(|e| bad(&format!("not JSON ({e})")))?;
        if v["file"].as_str() != Some(file) {
            return Err(bad("the reject does not name the input file"));
        }
        let Some(at) = v["line"].as_u64().filter(|&l| l >= 1) else {
            return Err(bad("the reject has no line number"));
        };
        let reason = v["reason"].as_str().unwrap_or_default();
        if reason.is_empty() {
            return Err(bad("the reject has no reason"));
        }
        if !v["record"].is_string() {
            return Err(bad("the reject has no raw record"));
        }
        out.push((at, v["byte_offset"].as_u64(), reason.to_owned()));
    }
    Ok(out)
}
