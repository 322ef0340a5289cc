//! The saved-query catalog: named, documented, parameterised SQL.
//!
//! Every `.sql` file of `queries/` is a saved query and every file of `queries/views/` a view that
//! saved queries build on (the papers' modalities, country credits, normalised impact). Both are
//! embedded in the binary; [`Catalog::with_dir`] adds a user's own folder of queries in the same
//! format (a user query with a built-in's name replaces it; its `views/` sub-folder holds views,
//! which replace built-in views of the same name). A file is a header block of TOML in
//! `--` comments (see [`header`]) and the SQL, whose `$name` placeholders are the declared
//! parameters.
//!
//! Views are the catalog's job: [`Catalog::register_views`] makes them queryable by name (planned
//! inline with a query), and [`Catalog::compute_views_read_by`] / [`Catalog::compute_views`] run
//! them once and hold their rows for the queries that follow (see `views.rs`).
//!
//! ```no_run
//! # async fn run() -> bibflow_engine::Result<()> {
//! use bibflow_engine::catalog::Catalog;
//! use bibflow_engine::session::{SessionBuilder, SessionOptions};
//! let session = SessionBuilder::new(SessionOptions::default())
//!     .dataset("my-dataset")
//!     .catalog(Catalog::builtin()?)
//!     .build()
//!     .await?;
//! let query = session.catalog().unwrap().get("country_impact")?;
//! let bindings = query.bind(&[("counting".into(), "full".into())])?;
//! // The views the query reads, computed first (each with its own plan); then the query.
//! session.compute_views_read_by(&query.sql).await?;
//! let df = query.dataframe(session.ctx(), &bindings).await?;
//! df.show().await?;
//! # Ok(()) }
//! ```

pub mod header;
pub mod params;
mod read_only;
mod views;
mod written;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use datafusion::common::ParamValues;
use datafusion::dataframe::DataFrame;
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{EngineError, Result};
use header::Header;
use params::Bindings;
pub use views::{OnView, ViewStore, ViewTime};
pub use written::WrittenViews;

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_queries.rs"));
}

/// Where a saved query comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in bibflow (`queries/<path>`).
    Builtin(String),
    /// A user's file.
    File(PathBuf),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Builtin(p) => write!(f, "built-in queries/{p}"),
            Origin::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// One saved query (or view).
#[derive(Debug, Clone)]
pub struct SavedQuery {
    pub header: Header,
    /// The SQL after the header.
    pub sql: String,
    pub origin: Origin,
}

/// The saved queries and views known to a session.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    queries: BTreeMap<String, SavedQuery>,
    views: Vec<SavedQuery>,
}

impl Catalog {
    /// The built-in queries and views.
    pub fn builtin() -> Result<Self> {
        let mut catalog = Catalog::default();
        for (path, text) in builtin::BUILTIN {
            let q = SavedQuery::parse(text, Origin::Builtin((*path).to_owned()), file_stem(path))?;
            if path.starts_with("views/") {
                catalog.views.push(q);
            } else {
                catalog.queries.insert(q.header.name.clone(), q);
            }
        }
        Ok(catalog)
    }

    /// The built-in queries plus the `.sql` files of `dir`: a file with a built-in query's name
    /// replaces it. The `.sql` files of `dir/views/` are views: one with a built-in view's name
    /// replaces that view (for every query that reads it), others are added. A query file named
    /// like a built-in view is an error that says where views go.
    pub fn with_dir(mut self, dir: &Path) -> Result<Self> {
        let files = sql_files_in(dir)?;
        let views_dir = dir.join("views");
        let view_files = if views_dir.is_dir() {
            sql_files_in(&views_dir)?
        } else {
            Vec::new()
        };
        if files.is_empty() && view_files.is_empty() {
            return Err(EngineError::Usage(format!(
                "{} holds no .sql files; a saved query is a .sql file with a header (see `bibflow query show modality_growth`)",
                dir.display()
            )));
        }
        for file in view_files {
            let q = parse_file(&file)?;
            match self
                .views
                .iter_mut()
                .find(|v| v.header.name == q.header.name)
            {
                Some(builtin) => *builtin = q,
                None => self.views.push(q),
            }
        }
        for file in files {
            let q = parse_file(&file)?;
            if self.views.iter().any(|v| v.header.name == q.header.name) {
                return Err(EngineError::Catalog {
                    file: file.display().to_string(),
                    reason: format!(
                        "{:?} is the name of a view; to replace the view, put the file in {}",
                        q.header.name,
                        views_dir.display()
                    ),
                });
            }
            self.queries.insert(q.header.name.clone(), q);
        }
        Ok(self)
    }

    /// The saved queries, by name.
    pub fn queries(&self) -> impl Iterator<Item = &SavedQuery> {
        self.queries.values()
    }

    /// The views saved queries build on, in dependency order.
    pub fn views(&self) -> &[SavedQuery] {
        &self.views
    }

    /// A saved query by name; the error lists the names known.
    pub fn get(&self, name: &str) -> Result<&SavedQuery> {
        self.queries.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.queries.keys().map(String::as_str).collect();
            EngineError::Usage(format!(
                "no saved query named {name:?}; known: {}",
                names.join(", ")
            ))
        })
    }

    /// Creates the views in `ctx` (after the dataset's tables are registered). Views are planned,
    /// not run: a query pays only for the views it reads.
    pub async fn register_views(&self, ctx: &SessionContext) -> Result<()> {
        for view in self.views_in_order()? {
            let plan = ctx
                .state()
                .create_logical_plan(&view.sql)
                .await
                .map_err(|e| EngineError::Catalog {
                    file: view.origin.to_string(),
                    reason: format!("the view does not plan over this dataset: {e}"),
                })?;
            read_only::check_plan(&plan).map_err(|e| EngineError::Catalog {
                file: view.origin.to_string(),
                reason: format!("a view only reads: {e}"),
            })?;
            let table = datafusion::datasource::ViewTable::new(plan, Some(view.sql.clone()));
            ctx.register_table(view.header.name.as_str(), std::sync::Arc::new(table))?;
        }
        Ok(())
    }

    /// The views `sql` reads, directly or through other views, in waves as
    /// [`Catalog::views_in_waves`] gives them (each view after the views it reads).
    pub fn views_read_by(&self, sql: &str) -> Result<Vec<Vec<&SavedQuery>>> {
        let names: BTreeSet<&str> = self.views.iter().map(|v| v.header.name.as_str()).collect();
        let mut needed: BTreeSet<String> = identifiers(sql)
            .into_iter()
            .filter(|i| names.contains(i.as_str()))
            .collect();
        // A view reads only views of earlier waves: walking the waves backwards adds each needed
        // view's own views before their turn comes.
        let waves = self.views_in_waves()?;
        for v in waves.iter().rev().flatten() {
            if needed.contains(v.header.name.as_str()) {
                needed.extend(
                    identifiers(&v.sql)
                        .into_iter()
                        .filter(|i| names.contains(i.as_str())),
                );
            }
        }
        Ok(waves
            .into_iter()
            .map(|wave| {
                wave.into_iter()
                    .filter(|v| needed.contains(v.header.name.as_str()))
                    .collect::<Vec<_>>()
            })
            .filter(|wave| !wave.is_empty())
            .collect())
    }

    /// Views sorted so that each comes after the views it reads.
    pub fn views_in_order(&self) -> Result<Vec<&SavedQuery>> {
        Ok(self.views_in_waves()?.into_iter().flatten().collect())
    }

    /// Views in waves: every view of a wave reads only views of earlier waves, so the views of
    /// one wave can be computed at the same time.
    pub fn views_in_waves(&self) -> Result<Vec<Vec<&SavedQuery>>> {
        let names: BTreeSet<&str> = self.views.iter().map(|v| v.header.name.as_str()).collect();
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut waves: Vec<Vec<&SavedQuery>> = Vec::new();
        let mut placed = 0;
        while placed < self.views.len() {
            let wave: Vec<&SavedQuery> = self
                .views
                .iter()
                .filter(|v| !done.contains(v.header.name.as_str()))
                .filter(|v| {
                    let name = v.header.name.as_str();
                    identifiers(&v.sql).iter().all(|d| {
                        d == name || !names.contains(d.as_str()) || done.contains(d.as_str())
                    })
                })
                .collect();
            if wave.is_empty() {
                return Err(EngineError::Usage(
                    "the built-in views read each other in a cycle".into(),
                ));
            }
            placed += wave.len();
            done.extend(wave.iter().map(|v| v.header.name.as_str()));
            waves.push(wave);
        }
        Ok(waves)
    }
}

/// The `.sql` files of `dir` (not recursive), sorted.
fn sql_files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(dir).map_err(|e| EngineError::io(dir, e))?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "sql"))
        .collect();
    files.sort();
    Ok(files)
}

/// Reads and parses a user's saved query or view file.
fn parse_file(file: &Path) -> Result<SavedQuery> {
    let text = std::fs::read_to_string(file).map_err(|e| EngineError::io(file, e))?;
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_owned();
    SavedQuery::parse(&text, Origin::File(file.to_path_buf()), &stem)
}

fn file_stem(path: &str) -> &str {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.strip_suffix(".sql").unwrap_or(name)
}

impl SavedQuery {
    /// Parses and checks a query file: the header is valid TOML with the known keys, the name is
    /// the file stem, every default is valid, and the SQL's placeholders are exactly the declared
    /// parameters.
    pub fn parse(text: &str, origin: Origin, stem: &str) -> Result<Self> {
        let bad = |reason: String| EngineError::Catalog {
            file: origin.to_string(),
            reason,
        };
        let (head, sql) = header::split(text);
        if head.trim().is_empty() {
            return Err(bad(
                "no header: a saved query starts with `-- name = \"...\"`, `-- title`, `-- description` lines".into(),
            ));
        }
        let header: Header = toml::from_str(&head).map_err(|e| bad(format!("header: {e}")))?;
        // The name names the exports (`data/NAME.csv`) and, for a view, a table.
        if header.name.is_empty()
            || header.name.starts_with('-')
            || !header
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad(format!(
                "the name {:?} is not a query name: letters, digits, `_` and `-` only",
                header.name
            )));
        }
        if header.name != stem {
            return Err(bad(format!(
                "the header names the query {:?} but the file is {stem}.sql; they must agree",
                header.name
            )));
        }
        let mut declared = BTreeSet::new();
        for p in &header.params {
            if !declared.insert(p.name.as_str()) {
                return Err(bad(format!("parameter {:?} is declared twice", p.name)));
            }
            p.allowed_values()
                .and_then(|_| p.default_value())
                .map_err(|e| bad(format!("parameter {}: {e}", p.name)))?;
        }
        read_only::check_sql(sql).map_err(bad)?;
        let used = placeholders(sql).map_err(bad)?;
        for u in &used {
            if !declared.contains(u.as_str()) {
                return Err(bad(format!(
                    "the SQL uses ${u} but the header declares no parameter {u:?}"
                )));
            }
        }
        for d in &declared {
            if !used.contains(*d) {
                return Err(bad(format!(
                    "parameter {d:?} is declared but the SQL never uses ${d}"
                )));
            }
        }
        for (i, r) in header.report.iter().enumerate() {
            for k in r.params.keys() {
                if !declared.contains(k.as_str()) {
                    return Err(bad(format!("report use {i} sets unknown parameter {k:?}")));
                }
            }
        }
        Ok(SavedQuery {
            header,
            sql: sql.to_owned(),
            origin,
        })
    }

    /// The query's name.
    pub fn name(&self) -> &str {
        &self.header.name
    }

    /// Binds `name=value` pairs given as text; parameters not given take their default.
    pub fn bind(&self, given: &[(String, String)]) -> Result<Bindings> {
        let mut raw: BTreeMap<&str, &str> = BTreeMap::new();
        for (k, v) in given {
            if raw.insert(k.as_str(), v.as_str()).is_some() {
                return Err(self.param_error(format!("parameter {k:?} is given twice")));
            }
        }
        self.bind_with(|name| raw.remove(name).map(|v| Raw::Text(v.to_owned())))
            .and_then(|b| match raw.keys().next() {
                Some(unknown) => Err(self.param_error(format!("unknown parameter {unknown:?}"))),
                None => Ok(b),
            })
    }

    /// Binds the parameter values of a report use (TOML values).
    pub fn bind_toml(&self, given: &BTreeMap<String, toml::Value>) -> Result<Bindings> {
        self.bind_with(|name| given.get(name).map(|v| Raw::Toml(v.clone())))
    }

    fn bind_with(&self, mut lookup: impl FnMut(&str) -> Option<Raw>) -> Result<Bindings> {
        let mut out = BTreeMap::new();
        for p in &self.header.params {
            let value = match lookup(&p.name) {
                Some(Raw::Text(s)) => p.parse(&s),
                Some(Raw::Toml(v)) => p.from_toml(&v).and_then(|v| p.check(&v).map(|()| v)),
                None => match p.default_value() {
                    Ok(Some(d)) => Ok(d),
                    Ok(None) => Err("is required".to_owned()),
                    Err(e) => Err(e),
                },
            }
            .map_err(|e| self.param_error(format!("parameter {} {e}", p.name)))?;
            out.insert(p.name.clone(), value);
        }
        Ok(Bindings(out))
    }

    fn param_error(&self, message: String) -> EngineError {
        let accepted: Vec<String> = self.header.params.iter().map(|p| p.accepted()).collect();
        EngineError::Param {
            query: self.header.name.clone(),
            message,
            accepted: if accepted.is_empty() {
                "none (this query takes no parameters)".into()
            } else {
                accepted.join(", ")
            },
        }
    }

    /// Plans the query over `ctx` with `bindings` bound to its placeholders.
    pub async fn dataframe(&self, ctx: &SessionContext, bindings: &Bindings) -> Result<DataFrame> {
        let plan = ctx.state().create_logical_plan(&self.sql).await?;
        read_only::check_plan(&plan).map_err(|e| EngineError::Catalog {
            file: self.origin.to_string(),
            reason: format!("a saved query only reads: {e}"),
        })?;
        let values: Vec<(String, datafusion::scalar::ScalarValue)> = bindings
            .0
            .iter()
            .map(|(k, v)| (k.clone(), v.to_scalar()))
            .collect();
        let plan = if values.is_empty() {
            plan
        } else {
            plan.with_param_values(ParamValues::from(values))?
        };
        Ok(ctx.execute_logical_plan(plan).await?)
    }
}

enum Raw {
    Text(String),
    Toml(toml::Value),
}

/// The `$name` placeholders of `sql` (outside strings and comments).
fn placeholders(sql: &str) -> std::result::Result<BTreeSet<String>, String> {
    let tokens = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .map_err(|e| format!("the SQL does not tokenize: {e}"))?;
    Ok(tokens
        .into_iter()
        .filter_map(|t| match t {
            Token::Placeholder(p) => p.strip_prefix('$').map(str::to_owned),
            _ => None,
        })
        .collect())
}

/// The lower-case identifiers of `sql` (to find which views a view reads).
fn identifiers(sql: &str) -> BTreeSet<String> {
    Tokenizer::new(&GenericDialect {}, sql)
        .tokenize()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.value.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use params::ParamValue;

    const Q: &str = "-- name = \"q\"\n-- title = \"T\"\n-- description = \"d\"\n\
        -- [[params]]\n-- name = \"n\"\n-- type = \"int\"\n-- default = 3\n-- min = 1\n-- description = \"\"\n\
        SELECT $n AS n, '$notaparam' AS s -- $nor_this\n";

    fn parse(text: &str) -> Result<SavedQuery> {
        SavedQuery::parse(text, Origin::Builtin("q.sql".into()), "q")
    }

    #[test]
    fn placeholders_skip_strings_and_comments() {
        let q = parse(Q).unwrap();
        assert_eq!(q.header.params.len(), 1);
        assert_eq!(
            placeholders(&q.sql).unwrap(),
            BTreeSet::from(["n".to_owned()])
        );
    }

    #[test]
    fn header_and_sql_must_agree() {
        let err = parse(&Q.replace("$n AS n", "$m AS n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("$m") && err.contains("declares no parameter"),
            "{err}"
        );
        let err = parse(&Q.replace("$n AS n", "1 AS n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("never uses $n"), "{err}");
        let err = parse(&Q.replace("name = \"q\"", "name = \"r\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("q.sql"), "{err}");
        let err = parse(&Q.replace("default = 3", "default = 0"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("at least 1"), "{err}");
        assert!(
            parse("SELECT 1")
                .unwrap_err()
                .to_string()
                .contains("no header")
        );
    }

    #[test]
    fn binding_checks_names_types_and_defaults() {
        let q = parse(Q).unwrap();
        assert_eq!(q.bind(&[]).unwrap().0["n"], ParamValue::Int(3));
        assert_eq!(
            q.bind(&[("n".into(), "7".into())]).unwrap().0["n"],
            ParamValue::Int(7)
        );
        let err = q.bind(&[("k".into(), "1".into())]).unwrap_err().to_string();
        assert!(
            err.contains("unknown parameter \"k\"") && err.contains("n (int; >= 1; default 3)"),
            "{err}"
        );
        let err = q.bind(&[("n".into(), "x".into())]).unwrap_err().to_string();
        assert!(err.contains("expects an integer"), "{err}");
        let err = q
            .bind(&[("n".into(), "1".into()), ("n".into(), "2".into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("given twice"), "{err}");
    }

    #[test]
    fn views_read_by_a_query_come_with_their_dependencies_in_order() {
        let c = Catalog::builtin().unwrap();
        let names = |waves: Vec<Vec<&SavedQuery>>| -> Vec<Vec<String>> {
            waves
                .into_iter()
                .map(|w| w.into_iter().map(|v| v.name().to_owned()).collect())
                .collect()
        };
        // work_collab reads work_country: both, work_country in the earlier wave.
        assert_eq!(
            names(c.views_read_by("SELECT * FROM work_collab").unwrap()),
            [
                vec!["work_country".to_owned()],
                vec!["work_collab".to_owned()]
            ]
        );
        assert!(
            c.views_read_by("SELECT count(*) FROM works")
                .unwrap()
                .is_empty()
        );
        // A saved query: every view it names, each once.
        let q = c.get("country_impact").unwrap();
        let read: Vec<String> = names(c.views_read_by(&q.sql).unwrap()).concat();
        for v in ["work_modality", "work_country", "work_impact"] {
            assert!(read.contains(&v.to_owned()), "{v} not in {read:?}");
        }
        let mut unique = read.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), read.len(), "{read:?}");
    }

    #[tokio::test]
    async fn values_are_bound_not_spliced() {
        let q = parse(
            "-- name = \"q\"\n-- title = \"T\"\n-- description = \"d\"\n\
             -- [[params]]\n-- name = \"s\"\n-- type = \"text\"\n-- default = \"x\"\n-- description = \"\"\n\
             SELECT $s AS s, length($s) AS n\n",
        )
        .unwrap();
        let ctx = SessionContext::new();
        let evil = "'; DROP TABLE works; --";
        let b = q.bind(&[("s".into(), evil.into())]).unwrap();
        let batches = q
            .dataframe(&ctx, &b)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let s = arrow::util::display::array_value_to_string(batches[0].column(0), 0).unwrap();
        assert_eq!(s, evil);
        let n = arrow::util::display::array_value_to_string(batches[0].column(1), 0).unwrap();
        assert_eq!(n, evil.chars().count().to_string());
    }

    /// Every built-in view and query plans over an empty dataset, and its result has exactly the
    /// columns its header documents, in order.
    #[tokio::test]
    async fn builtin_columns_match_their_headers() {
        let ctx = SessionContext::new();
        bibflow_udfs::register_all(&ctx).unwrap();
        for t in bibflow_datasets::schema::TABLES {
            let empty =
                datafusion::datasource::MemTable::try_new(t.schema(), vec![vec![]]).unwrap();
            ctx.register_table(t.name(), std::sync::Arc::new(empty))
                .unwrap();
        }
        let c = Catalog::builtin().unwrap();
        c.register_views(&ctx).await.unwrap();
        let documented = |q: &SavedQuery| -> Vec<String> {
            q.header.columns.iter().map(|c| c.name.clone()).collect()
        };
        for v in c.views() {
            let df = ctx.table(v.name()).await.unwrap();
            let got: Vec<String> = df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(got, documented(v), "view {}", v.name());
        }
        for q in c.queries() {
            assert!(q.header.finding.is_some(), "{} names no finding", q.name());
            let b = q.bind(&[]).unwrap();
            let df = q
                .dataframe(&ctx, &b)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", q.name()));
            let got: Vec<String> = df
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(got, documented(q), "query {}", q.name());
            // And it runs (over no rows).
            df.collect()
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", q.name()));
        }
    }

    #[test]
    fn docs_list_every_query_and_view() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/queries.md"))
                .unwrap();
        let c = Catalog::builtin().unwrap();
        for q in c.queries().chain(c.views()) {
            assert!(
                doc.contains(&format!("`{}`", q.name())),
                "docs/queries.md does not mention `{}`",
                q.name()
            );
        }
    }

    #[test]
    fn builtin_catalog_parses() {
        let c = Catalog::builtin().unwrap();
        assert!(c.queries().count() > 0);
        assert!(
            c.get("no_such_query")
                .unwrap_err()
                .to_string()
                .contains("known:")
        );
        c.views_in_order().unwrap();
    }

    #[test]
    fn user_views_replace_builtin_views_and_queries_cannot_take_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let view = "-- name = \"work_ham\"\n-- title = \"t\"\n-- description = \"d\"\n\
                    SELECT work_id, 1.0 AS human, 0.0 AS animal, 0.0 AS molecular_cellular FROM works\n";
        std::fs::create_dir(dir.path().join("views")).unwrap();
        std::fs::write(dir.path().join("views/work_ham.sql"), view).unwrap();
        std::fs::write(
            dir.path().join("views/my_view.sql"),
            view.replace("work_ham", "my_view"),
        )
        .unwrap();
        let c = Catalog::builtin().unwrap().with_dir(dir.path()).unwrap();
        let builtin = Catalog::builtin().unwrap();
        assert_eq!(c.views().len(), builtin.views().len() + 1);
        let ham = c.views().iter().find(|v| v.name() == "work_ham").unwrap();
        assert!(ham.sql.contains("1.0 AS human"), "{}", ham.sql);
        assert!(matches!(ham.origin, Origin::File(_)));
        assert!(c.views().iter().any(|v| v.name() == "my_view"));

        // The same file beside the queries is a clear error naming the views folder.
        std::fs::write(dir.path().join("work_ham.sql"), view).unwrap();
        let err = Catalog::builtin()
            .unwrap()
            .with_dir(dir.path())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("is the name of a view") && err.contains("views"),
            "{err}"
        );
    }
}
