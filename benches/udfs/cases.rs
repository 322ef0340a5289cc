//! The bench cases of `cases.sql`: a UDF query and its plain-SQL formulations per function, and the
//! queries the bench runs over them (the timed aggregate, the row-by-row agreement check).

/// The case file, shared with benches/udfs_duckdb.py.
pub const CASES_SQL: &str = include_str!("cases.sql");

/// One function (or one mode of it) with its formulations.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// The columns identifying a result row.
    pub keys: Vec<String>,
    /// (variant name, query); the first is `udf`.
    pub variants: Vec<(String, String)>,
}

/// Parses `cases.sql` (format in its header).
pub fn parse(text: &str) -> Vec<Case> {
    let mut cases: Vec<Case> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(name) = t.strip_prefix("-- case:") {
            cases.push(Case {
                name: name.trim().to_owned(),
                keys: Vec::new(),
                variants: Vec::new(),
            });
        } else if let Some(keys) = t.strip_prefix("-- keys:") {
            let case = cases.last_mut().expect("keys before any case");
            case.keys = keys.split(',').map(|k| k.trim().to_owned()).collect();
        } else if let Some(name) = t.strip_prefix("-- variant:") {
            let case = cases.last_mut().expect("variant before any case");
            case.variants.push((name.trim().to_owned(), String::new()));
        } else if let Some((_, sql)) = cases.last_mut().and_then(|c| c.variants.last_mut())
            && !t.is_empty()
        {
            sql.push_str(line);
            sql.push('\n');
        }
    }
    for c in &cases {
        assert!(!c.keys.is_empty(), "case {}: no keys", c.name);
        assert!(
            c.variants.first().is_some_and(|v| v.0 == "udf") && c.variants.len() >= 2,
            "case {}: needs a `udf` variant first and at least one plain variant",
            c.name
        );
    }
    cases
}

/// The timed query: one row (`n` rows, `s` the sum of `v`), so result transfer costs nothing.
pub fn timed(query: &str) -> String {
    format!("SELECT count(*) AS n, sum(CAST(v AS DOUBLE)) AS s FROM (\n{query}) q")
}

/// The agreement check of `other` against `udf`: one row with the largest relative difference of
/// `v` (1e300 when one side is NULL and the other not), the number of keys on one side only, and
/// the number of joined rows.
pub fn check(keys: &[String], udf: &str, other: &str) -> String {
    // `=` for keys that are never NULL; `IS NOT DISTINCT FROM` for those marked `?`, in
    // parentheses: DataFusion's parser binds `AND` tighter than `IS NOT DISTINCT FROM`.
    let on = keys
        .iter()
        .map(|k| match k.strip_suffix('?') {
            Some(k) => format!("(f.{k} IS NOT DISTINCT FROM p.{k})"),
            None => format!("f.{k} = p.{k}"),
        })
        .collect::<Vec<_>>()
        .join(" AND ");
    format!(
        "SELECT max(CASE WHEN f.v IS NULL AND p.v IS NULL THEN 0.0
                         WHEN f.v IS NULL OR p.v IS NULL THEN 1e300
                         ELSE abs(CAST(f.v AS DOUBLE) - CAST(p.v AS DOUBLE))
                              / greatest(1.0, abs(CAST(f.v AS DOUBLE)), abs(CAST(p.v AS DOUBLE)))
                    END) AS diff,
                sum(CASE WHEN f.bench_side IS NULL OR p.bench_side IS NULL THEN 1 ELSE 0 END)
                    AS one_side,
                count(*) AS compared
         FROM (SELECT *, 1 AS bench_side FROM (\n{udf}) a) f
         FULL JOIN (SELECT *, 1 AS bench_side FROM (\n{other}) b) p ON {on}"
    )
}
