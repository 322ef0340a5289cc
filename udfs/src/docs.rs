//! `docs/functions.md`, generated from the DataFusion [`Documentation`] of every bibflow function.
//!
//! A test compares the checked-in file with [`functions_markdown`]; regenerate it with
//! `BIBFLOW_WRITE_DOCS=1 cargo test --workspace docs_functions_md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use datafusion::logical_expr::Documentation;
use datafusion::prelude::SessionContext;

/// What kind of function a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunctionKind {
    /// One value per row.
    Scalar,
    /// One value per group.
    Aggregate,
    /// One value per row over a window.
    Window,
}

impl FunctionKind {
    fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Scalar => "scalar",
            FunctionKind::Aggregate => "aggregate",
            FunctionKind::Window => "window",
        }
    }
}

/// One bibflow function as registered: its kind and documentation (if it has any).
#[derive(Debug, Clone)]
pub struct FunctionDoc {
    /// The function's name.
    pub name: String,
    /// Scalar, aggregate or window.
    pub kind: FunctionKind,
    /// Its documentation; `None` for an undocumented function.
    pub documentation: Option<Documentation>,
}

/// Every function [`crate::register_all`] adds to a session (those a plain DataFusion session does
/// not have), sorted by name.
pub fn bibflow_functions() -> datafusion::error::Result<Vec<FunctionDoc>> {
    let plain = SessionContext::new().state();
    let ctx = SessionContext::new();
    crate::register_all(&ctx)?;
    let state = ctx.state();
    let mut out = BTreeMap::new();
    // Aliases are extra keys for the same function: list each function once, under its name.
    for (key, f) in state.scalar_functions() {
        if key == f.name() && !plain.scalar_functions().contains_key(key) {
            out.insert(
                key.clone(),
                (FunctionKind::Scalar, f.documentation().cloned()),
            );
        }
    }
    for (key, f) in state.aggregate_functions() {
        if key == f.name() && !plain.aggregate_functions().contains_key(key) {
            out.insert(
                key.clone(),
                (FunctionKind::Aggregate, f.documentation().cloned()),
            );
        }
    }
    for (key, f) in state.window_functions() {
        if key == f.name() && !plain.window_functions().contains_key(key) {
            out.insert(
                key.clone(),
                (FunctionKind::Window, f.documentation().cloned()),
            );
        }
    }
    Ok(out
        .into_iter()
        .map(|(name, (kind, documentation))| FunctionDoc {
            name,
            kind,
            documentation,
        })
        .collect())
}

/// The names of the bibflow functions without documentation.
pub fn undocumented_functions() -> datafusion::error::Result<Vec<String>> {
    Ok(bibflow_functions()?
        .into_iter()
        .filter(|f| f.documentation.is_none())
        .map(|f| f.name)
        .collect())
}

/// The Markdown reference of every bibflow function, sorted by name: the contents of
/// `docs/functions.md`.
///
/// ```
/// let md = bibflow_udfs::docs::functions_markdown();
/// assert!(md.contains("## `modalities`"));
/// ```
pub fn functions_markdown() -> String {
    let mut md = String::from(
        "# bibflow functions\n\n\
         <!-- Generated from the functions' documentation by bibflow_udfs::docs::functions_markdown.\n     \
         Do not edit: run `BIBFLOW_WRITE_DOCS=1 cargo test --workspace docs_functions_md` to regenerate. -->\n\n\
         Every function bibflow registers in a session, beside DataFusion's own, sorted by name.\n\
         Definitions: `docs/indicators.md`.\n",
    );
    let functions = match bibflow_functions() {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(md, "\nThe functions could not be registered: {e}");
            return md;
        }
    };
    md.push_str("\n| function | kind | section |\n|---|---|---|\n");
    for f in &functions {
        let section = f
            .documentation
            .as_ref()
            .map_or("(undocumented)", |d| d.doc_section.label);
        let _ = writeln!(
            md,
            "| [`{0}`](#{0}) | {1} | {section} |",
            f.name,
            f.kind.as_str()
        );
    }
    for f in &functions {
        let _ = write!(md, "\n## `{}`\n\n", f.name);
        let Some(doc) = &f.documentation else {
            let _ = writeln!(md, "*{} function without documentation.*", f.kind.as_str());
            continue;
        };
        let _ = writeln!(
            md,
            "*{} function; {}*\n",
            f.kind.as_str(),
            doc.doc_section.label
        );
        let _ = writeln!(md, "{}\n", doc.description.trim());
        let _ = writeln!(md, "```sql\n{}\n```", doc.syntax_example.trim());
        if let Some(args) = doc.arguments.as_ref().filter(|a| !a.is_empty()) {
            md.push_str("\n### Arguments\n\n");
            for (name, text) in args {
                let _ = writeln!(md, "- **{name}**: {}", text.trim());
            }
        }
        if let Some(example) = &doc.sql_example {
            let _ = writeln!(md, "\n### Example\n\n{}", example.trim());
        }
        if let Some(alternatives) = doc.alternative_syntax.as_ref().filter(|a| !a.is_empty()) {
            md.push_str("\n### Alternative syntax\n\n");
            for a in alternatives {
                let _ = writeln!(md, "```sql\n{}\n```", a.trim());
            }
        }
        if let Some(related) = doc.related_udfs.as_ref().filter(|r| !r.is_empty()) {
            let links: Vec<String> = related.iter().map(|r| format!("[`{r}`](#{r})")).collect();
            let _ = writeln!(md, "\nRelated: {}", links.join(", "));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn docs_functions_md_is_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/functions.md");
        let expected = functions_markdown();
        if std::env::var("BIBFLOW_WRITE_DOCS").as_deref() == Ok("1") {
            std::fs::write(&path, &expected)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
        let undocumented = undocumented_functions().expect("register_all");
        assert!(
            undocumented.is_empty(),
            "functions without documentation(): {}",
            undocumented.join(", ")
        );
        let actual = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "{} is out of date: run `BIBFLOW_WRITE_DOCS=1 cargo test --workspace docs_functions_md` to regenerate",
            path.display()
        );
    }
}
