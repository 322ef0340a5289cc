//! Embeds the saved queries of `queries/` (and `queries/views/`) in the engine: every `.sql` file
//! there is listed in `$OUT_DIR/builtin_queries.rs`, so adding a query is adding a file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    files
}

fn main() {
    // Read at run time: a build script binary compiled in another checkout must not point there.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest).join("../queries");
    let root = root.canonicalize().expect("queries/ beside engine/");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out =
        String::from("/// Built-in saved queries and views: (path under `queries/`, text).\n");
    out.push_str("pub const BUILTIN: &[(&str, &str)] = &[\n");
    for (prefix, dir) in [("", root.clone()), ("views/", root.join("views"))] {
        for file in sql_files(&dir) {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .expect("utf-8 name");
            writeln!(
                out,
                "    ({:?}, include_str!({:?})),",
                format!("{prefix}{name}"),
                file.display().to_string()
            )
            .expect("write to string");
        }
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("builtin_queries.rs");
    std::fs::write(dest, out).expect("write builtin_queries.rs");
}
