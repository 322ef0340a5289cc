//! `bibflow classify evaluate` over the built-in labelled set of real records: no figure may fall
//! below the one recorded in docs/classification.md (between the `evaluation` markers), so that a
//! rule change cannot silently make classification worse. Improving a figure means recording the
//! new one there.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::bibflow_ok;

/// `(class, measure) -> value` from the docs' table of recorded figures.
fn recorded(mode: &str) -> BTreeMap<(String, String), f64> {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/classification.md"),
    )
    .unwrap();
    let start = format!("<!-- evaluation {mode} -->");
    let body = doc
        .split(&start)
        .nth(1)
        .unwrap_or_else(|| panic!("docs/classification.md has no '{start}' table"))
        .split("<!-- /evaluation -->")
        .next()
        .unwrap();
    let mut out = BTreeMap::new();
    let mut lines = body.lines().filter(|l| l.starts_with('|'));
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split('|')
        .map(|c| c.trim().to_string())
        .collect();
    for line in lines.skip(1) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        for (i, cell) in cells.iter().enumerate().skip(2) {
            if let Ok(v) = cell.split_whitespace().next().unwrap_or("").parse::<f64>() {
                out.insert((cells[1].to_string(), header[i].clone()), v);
            }
        }
    }
    assert!(!out.is_empty(), "no figures in the '{start}' table");
    out
}

fn measured(args: &[&str]) -> BTreeMap<(String, String), f64> {
    let json = bibflow_ok(&[&["classify", "evaluate", "--json"], args].concat());
    let e: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut out = BTreeMap::new();
    let classes = e["modalities"]
        .as_array()
        .unwrap()
        .iter()
        .chain(std::iter::once(&e["any_cgt"]))
        .chain(e["stages"].as_array().unwrap().iter());
    for c in classes {
        let name = c["class"].as_str().unwrap().to_string();
        for m in ["precision", "recall"] {
            if let Some(v) = c[m]["value"].as_f64() {
                out.insert((name.clone(), m.to_string()), v);
            }
        }
        if let Some(v) = c["f1"].as_f64() {
            out.insert((name.clone(), "F1".to_string()), v);
        }
    }
    out.insert(
        ("clinical stage".to_string(), "accuracy".to_string()),
        e["stage_accuracy"]["value"].as_f64().unwrap(),
    );
    out
}

fn no_figure_below_the_docs(mode: &str, args: &[&str]) {
    let floor = recorded(mode);
    let got = measured(args);
    let mut worse = Vec::new();
    for (key, want) in &floor {
        match got.get(key) {
            // The docs round to two decimals.
            Some(v) if *v + 0.005 >= *want => {}
            Some(v) => worse.push(format!("{key:?}: {v:.3} < recorded {want}")),
            None => worse.push(format!("{key:?}: not measured (recorded {want})")),
        }
    }
    assert!(
        worse.is_empty(),
        "classification got worse ({mode}):\n{}",
        worse.join("\n")
    );
}

#[test]
fn classification_is_no_worse_than_recorded() {
    no_figure_below_the_docs("with-mesh", &["--part", "held-out"]);
}

#[test]
fn classification_without_mesh_is_no_worse_than_recorded() {
    no_figure_below_the_docs("without-mesh", &["--part", "held-out", "--without-mesh"]);
}
