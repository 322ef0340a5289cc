//! Runs the sqllogictest files in `tests/slt/` against a bibflow session (all bibflow functions
//! registered), each file in a fresh session.
//!
//! Supported records, as in DataFusion's `.slt` files: `statement ok`, `statement error [text]`,
//! `query <types> [rowsort|nosort]` with the expected rows after `----`, `query error [text]`,
//! `#` comments. Two more for saved queries (`queries/`):
//!
//! - `dataset`: registers every canonical table empty (fill them with
//!   `INSERT INTO works (work_id, ...) VALUES ...`; unnamed columns are NULL) and the built-in views.
//! - `saved <name> [rowsort]`, then one `param=value` line per parameter (the rest keep their
//!   defaults), then `----` and the expected rows: runs the saved query with those parameters.
//!
//! Values are printed the way DataFusion's sqllogictest prints them: `NULL`, `(empty)`
//! for an empty string, floats rounded to 12 decimals without trailing zeros, everything else as
//! Arrow displays it; columns are separated by one space. An expected error text is matched as a
//! substring of the error message (there is no regex here).

use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float32Type, Float64Type};
use arrow::record_batch::RecordBatch;
use arrow::util::display::array_value_to_string;

fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "slt"))
        .collect();
    files.sort();
    files
}

#[derive(Debug)]
enum Record {
    Statement {
        sql: String,
        error: Option<String>,
        line: usize,
    },
    Query {
        sql: String,
        sort: bool,
        expected: Vec<String>,
        error: Option<String>,
        line: usize,
    },
    Dataset {
        line: usize,
    },
    Saved {
        name: String,
        params: Vec<(String, String)>,
        sort: bool,
        expected: Vec<String>,
        line: usize,
    },
}

fn parse(text: &str) -> Vec<Record> {
    let lines: Vec<&str> = text.lines().collect();
    let mut records = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() || line.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let words: Vec<&str> = line.split_whitespace().collect();
        i += 1;
        let mut sql = Vec::new();
        while i < lines.len() && !lines[i].trim().is_empty() && lines[i].trim() != "----" {
            sql.push(lines[i]);
            i += 1;
        }
        let sql = sql.join("\n");
        let error_text = |w: &[&str]| {
            let t = w.join(" ");
            (!t.is_empty()).then_some(t)
        };
        match (words.first().copied(), words.get(1).copied()) {
            (Some("statement"), Some("ok")) => records.push(Record::Statement {
                sql,
                error: None,
                line: start,
            }),
            (Some("statement"), Some("error")) => records.push(Record::Statement {
                sql,
                error: Some(error_text(&words[2..]).unwrap_or_default()),
                line: start,
            }),
            (Some("query"), Some("error")) => records.push(Record::Query {
                sql,
                sort: false,
                expected: vec![],
                error: Some(error_text(&words[2..]).unwrap_or_default()),
                line: start,
            }),
            (Some("dataset"), _) => records.push(Record::Dataset { line: start }),
            (Some("saved"), Some(name)) => {
                let params = sql
                    .lines()
                    .map(|l| {
                        let (k, v) = l
                            .split_once('=')
                            .unwrap_or_else(|| panic!("line {start}: {l:?} is not param=value"));
                        (k.trim().to_owned(), v.trim().to_owned())
                    })
                    .collect();
                let expected = expected_rows(&lines, &mut i);
                records.push(Record::Saved {
                    name: name.to_owned(),
                    params,
                    sort: words.contains(&"rowsort"),
                    expected,
                    line: start,
                })
            }
            (Some("query"), _) => {
                let expected = expected_rows(&lines, &mut i);
                records.push(Record::Query {
                    sql,
                    sort: words.contains(&"rowsort"),
                    expected,
                    error: None,
                    line: start,
                })
            }
            _ => panic!("line {start}: unknown record {line:?}"),
        }
    }
    records
}

/// The expected rows after a `----` line at `*i`, if any; moves `*i` past them.
fn expected_rows(lines: &[&str], i: &mut usize) -> Vec<String> {
    let mut expected = Vec::new();
    if *i < lines.len() && lines[*i].trim() == "----" {
        *i += 1;
        while *i < lines.len() && !lines[*i].trim().is_empty() {
            expected.push(normalize(lines[*i]));
            *i += 1;
        }
    }
    expected
}

/// Compares a result with the expected rows; the difference as a message, or None.
fn differs(batches: &[RecordBatch], expected: Vec<String>, sort: bool) -> Option<String> {
    let mut actual = rows(batches);
    let mut expected = expected;
    if sort {
        actual.sort();
        expected.sort();
    }
    (actual != expected).then(|| {
        format!(
            "expected:\n    {}\n  actual:\n    {}",
            expected.join("\n    "),
            actual.join("\n    ")
        )
    })
}

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn float_text(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let s = format!("{:.12}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.to_string() }
}

fn cell(col: &dyn Array, row: usize) -> String {
    if col.is_null(row) {
        return "NULL".into();
    }
    match col.data_type() {
        DataType::Float64 => float_text(col.as_primitive::<Float64Type>().value(row)),
        DataType::Float32 => float_text(col.as_primitive::<Float32Type>().value(row) as f64),
        _ => {
            let s = array_value_to_string(col, row).expect("displayable value");
            if s.is_empty() { "(empty)".into() } else { s }
        }
    }
}

fn rows(batches: &[RecordBatch]) -> Vec<String> {
    let mut out = Vec::new();
    for b in batches {
        for r in 0..b.num_rows() {
            let cells: Vec<String> = b.columns().iter().map(|c| cell(c.as_ref(), r)).collect();
            out.push(normalize(&cells.join(" ")));
        }
    }
    out
}

async fn run_file(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let ctx = bibflow_engine::session::SessionBuilder::default()
        .context()
        .unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let mut failures = Vec::new();
    let catalog = bibflow_engine::catalog::Catalog::builtin().unwrap();
    for record in parse(&text) {
        match record {
            Record::Dataset { line } => {
                for t in bibflow_datasets::schema::TABLES {
                    let empty = datafusion::datasource::MemTable::try_new(t.schema(), vec![vec![]])
                        .unwrap();
                    ctx.register_table(t.name(), std::sync::Arc::new(empty))
                        .unwrap_or_else(|e| panic!("{name}:{line}: {e}"));
                }
                catalog
                    .register_views(&ctx)
                    .await
                    .unwrap_or_else(|e| panic!("{name}:{line}: {e}"));
            }
            Record::Saved {
                name: query,
                params,
                sort,
                expected,
                line,
            } => {
                let result = async {
                    let q = catalog.get(&query)?;
                    let b = q.bind(&params)?;
                    Ok::<_, bibflow_engine::EngineError>(
                        q.dataframe(&ctx, &b).await?.collect().await?,
                    )
                }
                .await;
                match result {
                    Ok(batches) => {
                        if let Some(diff) = differs(&batches, expected, sort) {
                            failures.push(format!(
                                "{name}:{line}: saved query {query} differs\n  {diff}"
                            ));
                        }
                    }
                    Err(e) => {
                        failures.push(format!("{name}:{line}: saved query {query} failed: {e}"))
                    }
                }
            }
            Record::Statement { sql, error, line } => {
                let result = match ctx.sql(&sql).await {
                    Ok(df) => df.collect().await.map(|_| ()),
                    Err(e) => Err(e),
                };
                match (result, error) {
                    (Ok(()), None) => {}
                    (Err(e), None) => {
                        failures.push(format!("{name}:{line}: statement failed: {e}"))
                    }
                    (Ok(()), Some(_)) => {
                        failures.push(format!("{name}:{line}: statement should have failed"))
                    }
                    (Err(e), Some(msg)) if e.to_string().contains(&msg) => {}
                    (Err(e), Some(msg)) => failures.push(format!(
                        "{name}:{line}: expected an error containing {msg:?}, got: {e}"
                    )),
                }
            }
            Record::Query {
                sql,
                sort,
                expected,
                error,
                line,
            } => {
                let result = match ctx.sql(&sql).await {
                    Ok(df) => df.collect().await,
                    Err(e) => Err(e),
                };
                match (result, error) {
                    (Ok(batches), None) => {
                        if let Some(diff) = differs(&batches, expected, sort) {
                            failures.push(format!(
                                "{name}:{line}: query result differs\n  query: {sql}\n  {diff}"
                            ));
                        }
                    }
                    (Err(e), None) => {
                        failures.push(format!("{name}:{line}: query failed: {e}\n  query: {sql}"))
                    }
                    (Ok(_), Some(_)) => {
                        failures.push(format!("{name}:{line}: query should have failed"))
                    }
                    (Err(e), Some(msg)) if e.to_string().contains(&msg) => {}
                    (Err(e), Some(msg)) => failures.push(format!(
                        "{name}:{line}: expected an error containing {msg:?}, got: {e}"
                    )),
                }
            }
        }
    }
    failures
}

#[test]
fn sqllogictest_files() {
    let files = slt_files();
    assert!(!files.is_empty(), "no .slt files in tests/slt");
    let rt = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    let mut failures = Vec::new();
    let mut records = 0;
    for f in &files {
        records += parse(&std::fs::read_to_string(f).unwrap()).len();
        failures.extend(rt.block_on(run_file(f)));
    }
    assert!(records > 0, "the .slt files hold no records");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_runner_itself_catches_wrong_results() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.slt");
    std::fs::write(
        &f,
        "statement ok\nCREATE TABLE t AS VALUES (1, 0.5), (2, NULL)\n\n\
         query IR rowsort\nSELECT * FROM t\n----\n1 0.5\n2 NULL\n\n\
         query I\nSELECT 1\n----\n2\n\n\
         query error No field named\nSELECT nope FROM t\n\n\
         dataset\n\n\
         statement ok\nINSERT INTO works (work_id, publication_year, title, type, authors_count, countries_count, source) \
         VALUES (1, 2000, 'bone marrow transplantation in leukemia', 'article', 0, 0, 'x')\n\n\
         saved modality_growth\n----\nHSCT 2000 1 1\n\n\
         saved modality_growth\nfirst_year=2001\n----\nHSCT 2000 1 1\n",
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().build().unwrap();
    let failures = rt.block_on(run_file(&f));
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(failures[0].contains("x.slt:10"), "{failures:?}");
    assert!(failures[1].contains("x.slt:27"), "{failures:?}");
    assert_eq!(float_text(1.0), "1");
    assert_eq!(float_text(1.0 / 3.0), "0.333333333333");
}
