//! Accuracy of [`resolve`] on real OpenAlex records: the fixtures under `tests/fixtures/openalex/`
//! carry raw affiliation strings together with OpenAlex's own country for each authorship.
//!
//! Run `cargo test -p bibflow-affiliation accuracy -- --nocapture` to see the figures that
//! `docs/affiliation-countries.md` reports.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Method, resolve};

/// The measured figures, kept a little below what the fixtures give so that a change which makes
/// the resolver worse fails here. Precision is also the bar a change must keep.
const MIN_PRECISION: f64 = 0.95;
const MIN_COVERAGE: f64 = 0.83;

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "json") {
            out.push(path);
        }
    }
}

/// The works of one fixture file: an API page (`{meta, results}`), a single work or a list.
fn works(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => match o.get("results") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => vec![v],
        },
        _ => Vec::new(),
    }
}

/// (raw affiliation string, OpenAlex country) for every authorship with exactly one of each.
fn labelled() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/openalex");
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for work in works(&v) {
            let Some(Value::Array(authorships)) = work.get("authorships") else {
                continue;
            };
            for a in authorships {
                let strings = a.get("raw_affiliation_strings").and_then(Value::as_array);
                let countries = a.get("countries").and_then(Value::as_array);
                if let (Some([s]), Some([c])) =
                    (strings.map(Vec::as_slice), countries.map(Vec::as_slice))
                    && let (Some(s), Some(c)) = (s.as_str(), c.as_str())
                {
                    out.push((s.to_string(), c.to_string()));
                }
            }
        }
    }
    out
}

#[test]
#[allow(clippy::print_stdout)] // the figures are the point of this test
fn fixture_accuracy() {
    let data = labelled();
    let total = data.len();
    let (mut resolved, mut correct) = (0usize, 0usize);
    let methods = [
        Method::CountryName,
        Method::UsState,
        Method::Subdivision,
        Method::City,
        Method::EmailDomain,
    ];
    let mut by_method = [(0usize, 0usize); 5];
    let mut wrong = Vec::new();
    let mut unresolved = Vec::new();
    for (text, want) in &data {
        match resolve(text) {
            Some(r) => {
                resolved += 1;
                let m = methods.iter().position(|&m| m == r.method).unwrap();
                by_method[m].0 += 1;
                if r.country == want {
                    correct += 1;
                    by_method[m].1 += 1;
                } else {
                    wrong.push(format!("{want} <- {} ({:?}): {text}", r.country, r.method));
                }
            }
            None => unresolved.push(format!("{want}: {text}")),
        }
    }
    let precision = correct as f64 / resolved.max(1) as f64;
    let coverage = resolved as f64 / total.max(1) as f64;
    println!(
        "affiliation accuracy on tests/fixtures/openalex (authorships with one raw string and one country)"
    );
    println!("  total {total}, resolved {resolved}, correct {correct}");
    println!("  precision = correct / resolved = {precision:.4}");
    println!("  coverage  = resolved / total   = {coverage:.4}");
    // The same string recurs across co-authors and copies of a work: the figures per distinct
    // (string, country) pair show how much the repeats weigh.
    let mut distinct: Vec<&(String, String)> = data.iter().collect();
    distinct.sort();
    distinct.dedup();
    let d_resolved: Vec<_> = distinct
        .iter()
        .filter_map(|(t, c)| resolve(t).map(|r| r.country == c))
        .collect();
    let d_correct = d_resolved.iter().filter(|&&ok| ok).count();
    println!(
        "  distinct (string, country) pairs: {}, resolved {}, correct {} (precision {:.4}, coverage {:.4})",
        distinct.len(),
        d_resolved.len(),
        d_correct,
        d_correct as f64 / d_resolved.len().max(1) as f64,
        d_resolved.len() as f64 / distinct.len().max(1) as f64,
    );
    for (m, (n, ok)) in methods.iter().zip(by_method) {
        println!("  {m:?}: {ok} correct of {n}");
    }
    for w in &wrong {
        println!("  wrong: {w}");
    }
    for u in &unresolved {
        println!("  unresolved: {u}");
    }
    assert!(
        total >= 200,
        "only {total} labelled authorships: are the fixtures there?"
    );
    assert!(
        precision >= MIN_PRECISION,
        "precision {precision:.4} < {MIN_PRECISION}"
    );
    assert!(
        coverage >= MIN_COVERAGE,
        "coverage {coverage:.4} < {MIN_COVERAGE}"
    );
}
