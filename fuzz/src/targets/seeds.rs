//! Seeds: real records from the repository's fixtures (`tests/fixtures/*/SOURCES.md` say where
//! each comes from), cut into the pieces the generators combine, and the saved queries of
//! `queries/`. Nothing here is made up but the `<DeleteCitation>` blocks, which list PMIDs of the
//! real records (no fixture has one).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Target;
use crate::error::{FuzzError, Result};

/// Whole files larger than this are not mutated as a whole (their records still are).
const SMALL_FILE: u64 = 48 * 1024;

/// MEDLINE records taken from the large 2016 `MedlineCitationSet` file.
const MEDLINE_RECORDS: usize = 400;

/// The material one target's inputs are made from.
#[derive(Debug, Default)]
pub struct Seeds {
    /// Whole small files, for byte-level edits.
    pub files: Vec<Vec<u8>>,
    /// OpenAlex works (from API pages, single-work files and snapshot JSON Lines).
    pub works: Vec<Value>,
    /// The `meta` objects of API pages.
    pub metas: Vec<Value>,
    /// `<PubmedArticle>`, `<PubmedBookArticle>` and `<DeleteCitation>` records.
    pub records: Vec<Vec<u8>>,
    /// Bare `<MedlineCitation>` records of a `MedlineCitationSet`.
    pub medline: Vec<Vec<u8>>,
    /// Saved query files.
    pub queries: Vec<String>,
    /// OpenAlex's Parquet copy of works (the 2026 fixture's parts), whole files.
    pub parquet: Vec<Vec<u8>>,
    /// The 2026 fixture's combined snapshot manifests.
    pub manifests: Vec<Value>,
    /// The `id` of every OpenAlex work seed.
    pub work_ids: Vec<String>,
}

impl Seeds {
    /// Loads the seeds `target` needs from the repository at `root`.
    pub fn load(target: Target, root: &Path) -> Result<Self> {
        let mut s = Seeds::default();
        let fixtures = root.join("tests/fixtures");
        let openalex = matches!(
            target,
            Target::OpenAlex | Target::Gzip | Target::Parquet | Target::Snapshot
        );
        if target == Target::Snapshot {
            for fmt in ["jsonl", "parquet"] {
                let f = fixtures.join(format!("openalex2026/data/{fmt}/manifest.json"));
                let v = serde_json::from_slice(&read(&f)?).map_err(|e| FuzzError::Seeds {
                    path: f.clone(),
                    reason: format!("not JSON: {e}"),
                })?;
                s.manifests.push(v);
            }
        }
        if target == Target::Parquet {
            let dir = fixtures.join("openalex2026/data/parquet/works");
            for f in files_under(&dir, true)? {
                if f.extension().is_some_and(|e| e == "parquet") {
                    s.parquet.push(read(&f)?);
                }
            }
        }
        let pubmed = matches!(target, Target::PubMed | Target::Gzip);
        if openalex {
            s.load_openalex(&fixtures)?;
        }
        if pubmed {
            s.load_pubmed(&fixtures)?;
        }
        if target == Target::Query {
            for dir in [root.join("queries"), root.join("queries/views")] {
                for f in files_under(&dir, false)? {
                    if f.extension().is_some_and(|e| e == "sql") {
                        s.queries.push(read_text(&f)?);
                    }
                }
            }
        }
        s.work_ids = (s.works.iter())
            .filter_map(|w| w["id"].as_str().map(str::to_owned))
            .collect();
        let empty = match target {
            Target::OpenAlex => s.works.is_empty() || s.metas.is_empty(),
            Target::PubMed => s.records.is_empty() || s.medline.is_empty(),
            Target::Gzip => s.works.is_empty() || s.records.is_empty(),
            Target::Query => s.queries.is_empty(),
            Target::Parquet => s.parquet.is_empty() || s.works.is_empty(),
            Target::Snapshot => s.manifests.is_empty() || s.work_ids.is_empty(),
        };
        if empty {
            return Err(FuzzError::Seeds {
                path: root.to_path_buf(),
                reason: format!("no seeds found for target {}", target.name()),
            });
        }
        Ok(s)
    }

    fn load_openalex(&mut self, fixtures: &Path) -> Result<()> {
        for f in files_under(&fixtures.join("openalex"), true)? {
            if f.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = read(&f)?;
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| FuzzError::Seeds {
                path: f.clone(),
                reason: format!("not JSON: {e}"),
            })?;
            if (bytes.len() as u64) < SMALL_FILE {
                self.files.push(bytes);
            }
            match v {
                Value::Object(mut o) if o.contains_key("results") => {
                    if let Some(Value::Array(results)) = o.remove("results") {
                        self.works.extend(results);
                    }
                    self.metas.push(o.remove("meta").unwrap_or(Value::Null));
                }
                Value::Array(works) => self.works.extend(works),
                work => self.works.push(work),
            }
        }
        // Snapshot parts: gzipped JSON Lines, one work a line.
        for f in files_under(&fixtures.join("openalex2026/data/jsonl/works"), true)? {
            let mut text = String::new();
            flate2::read::MultiGzDecoder::new(read(&f)?.as_slice())
                .read_to_string(&mut text)
                .map_err(|e| FuzzError::Seeds {
                    path: f.clone(),
                    reason: format!("not gzipped text: {e}"),
                })?;
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let work = serde_json::from_str(line).map_err(|e| FuzzError::Seeds {
                    path: f.clone(),
                    reason: format!("a line is not JSON: {e}"),
                })?;
                self.works.push(work);
            }
        }
        Ok(())
    }

    fn load_pubmed(&mut self, fixtures: &Path) -> Result<()> {
        let mut pmids = Vec::new();
        for f in files_under(&fixtures.join("pubmed"), true)? {
            let name = f.to_string_lossy();
            let gz = name.ends_with(".xml.gz");
            if !(gz || name.ends_with(".xml")) {
                continue;
            }
            let bytes = read(&f)?;
            let text = if gz {
                let mut t = Vec::new();
                flate2::read::MultiGzDecoder::new(bytes.as_slice())
                    .read_to_end(&mut t)
                    .map_err(|e| FuzzError::Seeds {
                        path: f.clone(),
                        reason: format!("not gzip: {e}"),
                    })?;
                t
            } else {
                if (bytes.len() as u64) < SMALL_FILE {
                    self.files.push(bytes.clone());
                }
                bytes
            };
            for tag in ["PubmedArticle", "PubmedBookArticle", "DeleteCitation"] {
                for r in elements(&text, tag, usize::MAX) {
                    if let Some(p) = first_text(&r, b"<PMID") {
                        pmids.push(p);
                    }
                    self.records.push(r);
                }
            }
            if text.windows(19).any(|w| w == b"<MedlineCitationSet") {
                self.medline
                    .extend(elements(&text, "MedlineCitation", MEDLINE_RECORDS));
            }
        }
        // Deletion blocks of update files, listing PMIDs of the records above.
        for chunk in pmids.chunks(3).take(8) {
            let mut d = b"<DeleteCitation>".to_vec();
            for p in chunk {
                d.extend_from_slice(b"<PMID Version=\"1\">");
                d.extend_from_slice(p);
                d.extend_from_slice(b"</PMID>");
            }
            d.extend_from_slice(b"</DeleteCitation>");
            self.records.push(d);
        }
        Ok(())
    }
}

/// Up to `max` elements `<tag>...</tag>` (or `<tag attr...>`) of `text`, whole.
fn elements(text: &[u8], tag: &str, max: usize) -> Vec<Vec<u8>> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() < max {
        let Some(s) = find(&text[at..], open.as_bytes()).map(|k| at + k) else {
            break;
        };
        // `<PubmedArticleSet>` starts with `<PubmedArticle`: take the tag only when its name ends.
        let next = text.get(s + open.len()).copied().unwrap_or(b'>');
        if !(next == b'>' || next.is_ascii_whitespace()) {
            at = s + open.len();
            continue;
        }
        let Some(e) = find(&text[s..], close.as_bytes()).map(|k| s + k + close.len()) else {
            break;
        };
        out.push(text[s..e].to_vec());
        at = e;
    }
    out
}

/// The text of the first element starting with `open` (`<PMID`).
fn first_text(record: &[u8], open: &[u8]) -> Option<Vec<u8>> {
    let s = find(record, open)?;
    let gt = s + find(&record[s..], b">")? + 1;
    let lt = gt + find(&record[gt..], b"<")?;
    Some(record[gt..lt].to_vec())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| FuzzError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| FuzzError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The files under `dir` (recursively when `deep`), sorted, so that seeds come in one order.
fn files_under(dir: &Path, deep: bool) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|source| FuzzError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    for e in entries {
        let path = e
            .map_err(|source| FuzzError::Io {
                path: dir.to_path_buf(),
                source,
            })?
            .path();
        if path.is_dir() {
            if deep {
                out.extend(files_under(&path, deep)?);
            }
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}
