//! Runs a reader of raw records (the real ingest stage one: `discover` and `stage`, writing
//! staging Parquet and `_rejects/`) over one input file, and checks what every ingest promises:
//! the file is read to the end or marked damaged, never failed whole; `read = ingested + rejected`;
//! every ingested work is a row of `works`; every rejected record is a line of `_rejects/` with the
//! file, a line number and a reason.

use std::collections::HashMap;
use std::path::Path;

use bibflow_datasets::ingest::{StageOptions, stage};
use bibflow_datasets::input::discover;
use bibflow_datasets::openalex::{OpenAlex, OpenAlexStrict};
use bibflow_datasets::pubmed::PubMed;
use bibflow_datasets::source::{Progress, RecordCounts, Source};
use bibflow_datasets::staging::{REJECTS_DIR, WARNINGS_DIR};
use serde_json::value::RawValue;

use super::Violation;

/// Which reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    OpenAlex,
    /// The OpenAlex reader of `--strict` runs.
    OpenAlexStrict,
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

/// Reads `data`, saved as `dir/name`, with `reader` and `threads` threads (the PubMed reader
/// parses on `threads` threads inside the file), staging into `dir/staging`, and checks the
/// invariants. `dir` must be empty.
pub fn run(
    reader: Reader,
    name: &str,
    data: &[u8],
    dir: &Path,
    threads: usize,
) -> Result<Outcome, Violation> {
    let file = dir.join(name);
    std::fs::write(&file, data)
        .map_err(|e| Violation(format!("cannot write {}: {e}", file.display())))?;
    let staging = dir.join("staging");
    let source: &dyn Source = match reader {
        Reader::OpenAlex => &OpenAlex,
        Reader::OpenAlexStrict => &OpenAlexStrict,
        Reader::PubMed => &PubMed,
    };
    let inputs = discover(std::slice::from_ref(&file), source.extensions())
        .map_err(|e| Violation(format!("the input was not found: {e}")))?;
    let options = StageOptions {
        threads,
        chunk_bytes: None,
    };
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
    if reader == Reader::PubMed && !name.ends_with(".gz") {
        let (tags, deletes) = pubmed_start_tags(data);
        if c.read > tags || c.read + deletes < tags {
            return Err(Violation(format!(
                "{tags} record start tags ({deletes} of them <DeleteCitation>) but {} records read: \
                 each start tag begins a record, read (or rejected) unless it is a valid deletion",
                c.read
            )));
        }
    }
    if matches!(reader, Reader::OpenAlex | Reader::OpenAlexStrict)
        && !name.ends_with(".gz")
        && let Some((lo, hi)) = openalex_line_records(name, data)
        && !(lo..=hi).contains(&c.read)
    {
        return Err(Violation(format!(
            "JSON Lines whose lines hold {lo}..={hi} records, but {} records read: every \
             non-blank line is a record (or, an API page, its results)",
            c.read
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
    // A gzip file's offsets are in its decompressed text: they are compared with its payload's
    // own run instead (the `gzip` target).
    // A Parquet file's records are located by row, not by line and offset.
    let text = (!name.ends_with(".gz") && !name.ends_with(".parquet")).then_some(data);
    let rejects = rejects(&staging, source.name(), &shown, text)?;
    if rejects.len() as u64 != c.rejected {
        return Err(Violation(format!(
            "{} rejects counted but {} lines in {REJECTS_DIR}/",
            c.rejected,
            rejects.len()
        )));
    }
    let warnings = warnings(&staging, source.name(), &shown)?;
    if warnings != c.warnings {
        return Err(Violation(format!(
            "{} field warnings counted but {warnings} lines in {REJECTS_DIR}/{WARNINGS_DIR}/",
            c.warnings
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
    text: Option<&[u8]>,
) -> Result<Vec<(u64, Option<u64>, String)>, Violation> {
    let path = staging
        .join(REJECTS_DIR)
        .join(format!("{source}-00000.jsonl"));
    let written = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Violation(format!("cannot read {}: {e}", path.display()))),
    };
    // Where each line of the input ends, to find an offset's line.
    let newlines: Vec<usize> = text.map_or(Vec::new(), |t| {
        t.iter()
            .enumerate()
            .filter_map(|(i, &b)| (b == b'\n').then_some(i))
            .collect()
    });
    let mut out = Vec::new();
    for (i, line) in written.lines().enumerate() {
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
        // A line of a text file, or a row of a Parquet file (1-based).
        let Some(at) = location(&v) else {
            return Err(bad("the reject has no line or row number"));
        };
        let reason = v["reason"].as_str().unwrap_or_default();
        if reason.is_empty() {
            return Err(bad("the reject has no reason"));
        }
        let Some(record) = v["record"].as_str() else {
            return Err(bad("the reject has no raw record"));
        };
        let offset = v["byte_offset"].as_u64();
        if let (Some(text), Some(offset)) = (text, offset)
            && !reason.starts_with("invalid JSON document")
            && let Err(e) = points_at(
                text,
                &newlines,
                at,
                offset,
                record,
                v["result_index"].is_u64(),
            )
        {
            return Err(bad(&e));
        }
        out.push((at, offset, reason.to_owned()));
    }
    Ok(out)
}

/// A reject's or a warning's place in its file: its line, or for a Parquet file its row
/// (1-based).
fn location(v: &serde_json::Value) -> Option<u64> {
    v["line"]
        .as_u64()
        .or_else(|| v["row"].as_u64())
        .filter(|&l| l >= 1)
}

/// The field warnings of file 0, each checked for a location, a work and a field.
fn warnings(staging: &Path, source: &str, file: &str) -> Result<u64, Violation> {
    let path = staging
        .join(REJECTS_DIR)
        .join(WARNINGS_DIR)
        .join(format!("{source}-00000.jsonl"));
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(Violation(format!("cannot read {}: {e}", path.display()))),
    };
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        let located = v["file"].as_str() == Some(file) && location(&v).is_some();
        if !located || !v["work_id"].is_i64() || !v["field"].is_string() {
            return Err(Violation(format!(
                "{}, line {}: a warning without its file, line (or row), work or field: {line}",
                path.display(),
                i + 1
            )));
        }
        n += 1;
    }
    Ok(n)
}

/// Whether `line` and `offset` point at `record` in `text`: the record's text starts at the
/// offset (after blanks), and the offset is on that line. A work of an API page on a JSON Lines
/// line (`in_page`) is located by the line's offset and its result index: its text is further on.
fn points_at(
    text: &[u8],
    newlines: &[usize],
    line: u64,
    offset: u64,
    record: &str,
    in_page: bool,
) -> Result<(), String> {
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    if offset > text.len() {
        return Err(format!(
            "byte offset {offset} is past the end ({} bytes)",
            text.len()
        ));
    }
    let on_line = 1 + newlines.partition_point(|&n| n < offset) as u64;
    if on_line != line {
        return Err(format!(
            "byte offset {offset} is on line {on_line}, not {line}"
        ));
    }
    let window = if in_page {
        &text[offset..]
    } else {
        &text[offset..text.len().min(offset + 64 * 1024)]
    };
    let there = String::from_utf8_lossy(window);
    let mut head = record.len().min(64);
    while !record.is_char_boundary(head) {
        head -= 1;
    }
    let found = if in_page {
        there.contains(&record[..head])
    } else {
        there.trim_start().starts_with(&record[..head])
    };
    if !found {
        return Err(format!(
            "the record is not at byte offset {offset}: {:?} there",
            there.chars().take(64).collect::<String>()
        ));
    }
    Ok(())
}

/// The start tags of PubMed records in `data`, counted as the splitter's contract says (a record
/// runs from its start tag to its end tag, or to the next record's start tag), independently of
/// its code: `<PubmedArticle`, `<PubmedBookArticle` and `<DeleteCitation` followed by the end of
/// the name, and `<MedlineCitation` when the root element is a `MedlineCitationSet` (or a bare
/// `MedlineCitation`). Returns (all, `<DeleteCitation>` ones).
pub fn pubmed_start_tags(data: &[u8]) -> (u64, u64) {
    let ends_name = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'));
    // The root: the first start tag whose name begins with a letter.
    let mut bare_medline = false;
    let mut at = 0;
    while let Some(i) = data[at..].iter().position(|&b| b == b'<') {
        let lt = at + i;
        if data.get(lt + 1).is_some_and(u8::is_ascii_alphabetic) {
            let name = &data[lt + 1..];
            for root in [&b"MedlineCitationSet"[..], b"MedlineCitation"] {
                if name.starts_with(root) && ends_name(name.get(root.len())) {
                    bare_medline = true;
                }
            }
            break;
        }
        at = lt + 1;
    }
    let (mut all, mut deletes) = (0, 0);
    for (i, _) in data.iter().enumerate().filter(|(_, b)| **b == b'<') {
        let name = &data[i + 1..];
        let is = |tag: &[u8]| name.starts_with(tag) && ends_name(name.get(tag.len()));
        if is(b"DeleteCitation") {
            deletes += 1;
            all += 1;
        } else if is(b"PubmedArticle")
            || is(b"PubmedBookArticle")
            || (bare_medline && is(b"MedlineCitation"))
        {
            all += 1;
        }
    }
    (all, deletes)
}

/// For input read as JSON Lines (named so, or whose first non-blank line is a whole JSON value),
/// how many records its lines hold: each non-blank line is one, except that a line that is an API
/// page (`results` an array of k items) is one (a work that also has results) or k. `None` for a
/// single JSON document.
pub fn openalex_line_records(name: &str, data: &[u8]) -> Option<(u64, u64)> {
    let named = [".jsonl", ".ndjson"].iter().any(|e| name.ends_with(e));
    let mut lines = data
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    let first = lines.clone().next()?;
    let is_value = serde_json::from_slice::<&RawValue>(first).is_ok();
    if !(named || is_value) {
        return None;
    }
    let (mut lo, mut hi) = (0, 0);
    for line in lines.by_ref() {
        // Raw values: unlike `serde_json::Value`, they take nesting deeper than 128 levels, as
        // the reader's do.
        let results = serde_json::from_slice::<HashMap<String, &RawValue>>(line)
            .ok()
            .and_then(|o| o.get("results").copied())
            .and_then(|r| serde_json::from_str::<Vec<&RawValue>>(r.get()).ok())
            .map(|r| r.len());
        match results {
            Some(k) => {
                lo += 1.min(k as u64);
                hi += 1.max(k as u64);
            }
            None => {
                lo += 1;
                hi += 1;
            }
        }
    }
    Some((lo, hi))
}
