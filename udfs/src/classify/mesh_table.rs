//! The compact MeSH tree table (`udfs/data/mesh_trees.tsv`), compiled in and parsed once.
//!
//! Columns: `descriptor_ui`, `name`, `tree_numbers` (`|`-separated, possibly empty), one header
//! line. `udfs/rules/README.md` says how to make the same file from the full MeSH descriptor
//! file; with that one, join it as a table instead of calling `mesh_tree_numbers`.

use std::collections::HashMap;
use std::sync::LazyLock;

/// The TSV as shipped.
pub(crate) const TSV: &str = include_str!("../../data/mesh_trees.tsv");

/// The parsed table: tree numbers by upper-case descriptor UI.
pub(crate) static TREES: LazyLock<Result<HashMap<&'static str, Vec<&'static str>>, String>> =
    LazyLock::new(|| parse(TSV));

fn parse(tsv: &'static str) -> Result<HashMap<&'static str, Vec<&'static str>>, String> {
    let mut lines = tsv.lines().enumerate();
    match lines.next() {
        Some((_, "descriptor_ui\tname\ttree_numbers")) => {}
        other => return Err(format!("mesh_trees.tsv: unexpected header {other:?}")),
    }
    let mut out = HashMap::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let [ui, _name, trees] = fields[..] else {
            return Err(format!(
                "mesh_trees.tsv line {}: expected 3 tab-separated fields",
                n + 1
            ));
        };
        let trees = trees.split('|').filter(|t| !t.is_empty()).collect();
        if out.insert(ui, trees).is_some() {
            return Err(format!("mesh_trees.tsv line {}: {ui} twice", n + 1));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_is_well_formed() {
        let trees = TREES.as_ref().unwrap();
        assert!(trees.len() > 40);
        for (ui, numbers) in trees {
            assert!(
                ui.starts_with('D') && ui[1..].bytes().all(|b| b.is_ascii_digit()),
                "{ui}"
            );
            for t in numbers {
                let ok = t.split('.').enumerate().all(|(i, part)| {
                    if i == 0 {
                        part.len() == 3 && part.as_bytes()[0].is_ascii_uppercase()
                    } else {
                        part.len() == 3 && part.bytes().all(|b| b.is_ascii_digit())
                    }
                });
                assert!(ok, "{ui}: bad tree number {t}");
            }
        }
        assert_eq!(
            trees["D006801"],
            ["B01.050.150.900.649.313.988.400.112.400.400"]
        );
    }
}
