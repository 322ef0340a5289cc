//! The house rules of `docs/architecture.md`, checked on the tree: every crate and folder the
//! document names exists and every crate is named; no crate has an import cycle between its
//! top-level modules; no source file passes 800 lines (tests excepted); `src/main.rs` stays thin.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The workspace members, from the root `Cargo.toml`.
fn members() -> Vec<String> {
    let manifest = read(&root().join("Cargo.toml"));
    let line = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("members"))
        .expect("a members line in Cargo.toml");
    line.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn architecture_doc_names_what_exists() {
    let doc = read(&root().join("docs/architecture.md"));
    // Paths in backticks that end in `/` or name a file with an extension, relative to the root.
    let mut named = BTreeSet::new();
    for (i, part) in doc.split('`').enumerate() {
        if i % 2 == 0 || part.contains(' ') || part.contains('*') || part.contains('<') {
            continue;
        }
        let looks_like_path = part.ends_with('/')
            || (part.contains('/') && Path::new(part).extension().is_some())
            || part.ends_with(".md");
        if looks_like_path && !part.starts_with("http") && !part.starts_with("~") {
            named.insert(part.trim_end_matches('/').to_owned());
        }
    }
    assert!(named.len() >= 10, "too few paths named: {named:?}");
    let missing: Vec<&String> = named.iter().filter(|p| !root().join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "docs/architecture.md names paths that do not exist: {missing:?}"
    );
    for m in members() {
        assert!(
            named.contains(&m),
            "docs/architecture.md does not name the crate folder `{m}/`"
        );
    }
}

/// Top-level module of `file` inside `src` (`src/a.rs` and `src/a/b.rs` are both `a`).
fn top_module(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The code of a file before its first `#[cfg(test)]` at the start of a line: test modules may
/// use anything.
fn non_test_code(text: &str) -> &str {
    text.find("\n#[cfg(test)]").map_or(text, |i| &text[..i])
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    for member in members().into_iter().chain(["".to_owned()]) {
        let src = root().join(&member).join("src");
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in rust_files(&src) {
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let from = top_module(&src, &file);
            let text = read(&file);
            // Code only: a doc link to another module is not an import.
            let code = non_test_code(&text)
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"));
            for line in code {
                for (i, _) in line.match_indices("crate::") {
                    let to: String = line[i + "crate::".len()..]
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    let to_file = src.join(format!("{to}.rs"));
                    let to_dir = src.join(&to);
                    if to != from && (to_file.exists() || to_dir.join("mod.rs").exists()) {
                        edges.entry(from.clone()).or_default().insert(to);
                    }
                }
            }
        }
        // Depth-first search for a cycle.
        fn visit(
            m: &str,
            edges: &BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<String>,
            done: &mut BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(at) = path.iter().position(|p| p == m) {
                let mut cycle = path[at..].to_vec();
                cycle.push(m.to_owned());
                return Some(cycle);
            }
            if done.contains(m) {
                return None;
            }
            path.push(m.to_owned());
            for next in edges.get(m).into_iter().flatten() {
                if let Some(c) = visit(next, edges, path, done) {
                    return Some(c);
                }
            }
            path.pop();
            done.insert(m.to_owned());
            None
        }
        let mut done = BTreeSet::new();
        for m in edges.keys() {
            let cycle = visit(m, &edges, &mut Vec::new(), &mut done);
            assert!(
                cycle.is_none(),
                "{}: modules import each other: {}",
                src.display(),
                cycle.unwrap().join(" -> ")
            );
        }
    }
}

#[test]
fn source_files_stay_readable() {
    let mut long = Vec::new();
    for member in members().into_iter().chain(["".to_owned()]) {
        for file in rust_files(&root().join(&member).join("src")) {
            if file.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            let text = read(&file);
            let lines = non_test_code(&text).lines().count();
            if lines > 800 {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(long.is_empty(), "over 800 lines outside tests: {long:?}");
    let main = read(&root().join("src/main.rs")).lines().count();
    assert!(
        main < 150,
        "src/main.rs has {main} lines; commands go in src/commands/"
    );
}

#[test]
fn udfs_do_not_depend_on_the_ingest_stack() {
    // `cargo tree` resolves the dependency graph without building anything.
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "bibflow-udfs",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .args(["--locked", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: BTreeSet<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains("datafusion"), "{tree}");
    for forbidden in ["bibflow-datasets", "quick-xml", "flate2", "parquet"] {
        assert!(
            !crates.contains(forbidden),
            "bibflow-udfs depends on {forbidden}:\n{tree}"
        );
    }
}
