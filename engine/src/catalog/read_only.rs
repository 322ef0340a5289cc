//! Saved queries and views only read: one `SELECT` (or `WITH ... SELECT`, `VALUES`) statement, no
//! `COPY ... TO`, `CREATE EXTERNAL TABLE`, `INSERT INTO`, `SELECT ... INTO`, `SET` or other
//! statement that writes files, makes tables or changes the session. A `--queries` folder may come
//! from someone else, and `bibflow report` runs every query in it: a query that wrote files would
//! write wherever its SQL says. Checked when the file is read ([`check_sql`]) and again on the plan
//! DataFusion makes of it ([`check_plan`]). `bibflow sql` runs the user's own SQL unchecked.

use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SQLOptions;
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;

/// Why `sql` is not one read-only query, if it is not.
pub(crate) fn check_sql(sql: &str) -> Result<(), String> {
    let statements =
        DFParser::parse_sql(sql).map_err(|e| format!("the SQL does not parse: {e}"))?;
    let kind = match statements.len() {
        1 => match &statements[0] {
            Statement::Statement(s) if matches!(**s, SqlStatement::Query(_)) => return Ok(()),
            Statement::CopyTo(_) => "COPY ... TO".to_string(),
            Statement::CreateExternalTable(_) => "CREATE EXTERNAL TABLE".to_string(),
            other => leading_keywords(&other.to_string()),
        },
        0 => return Err("the SQL holds no statement".into()),
        n => {
            return Err(format!(
                "the SQL holds {n} statements; a saved query is one"
            ));
        }
    };
    Err(format!(
        "the SQL is a {kind} statement; a saved query only reads: one SELECT (or WITH ... SELECT) \
         statement, no COPY, CREATE, INSERT or other statement that writes or changes anything"
    ))
}

/// Refuses a plan that would write, make tables or views, or change the session (a `SELECT ...
/// INTO`, which parses as a query, plans as `CREATE TABLE`).
pub(crate) fn check_plan(plan: &LogicalPlan) -> datafusion::error::Result<()> {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
}

/// The statement's first two words, for the error: `INSERT INTO`, `CREATE TABLE`, `DROP TABLE`.
fn leading_keywords(statement: &str) -> String {
    statement
        .split_whitespace()
        .take(2)
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_query_passes() {
        assert!(check_sql("SELECT 1").is_ok());
        assert!(check_sql("WITH a AS (SELECT $n AS x) SELECT x FROM a").is_ok());
        for (sql, kind) in [
            ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY ... TO"),
            (
                "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/tmp/x/'",
                "CREATE EXTERNAL TABLE",
            ),
            ("INSERT INTO works VALUES (1)", "INSERT INTO"),
            ("DROP TABLE works", "DROP TABLE"),
        ] {
            let err = check_sql(sql).unwrap_err();
            assert!(
                err.contains(&format!("is a {kind} statement")),
                "{sql}: {err}"
            );
        }
        assert!(
            check_sql("SELECT 1; SELECT 2")
                .unwrap_err()
                .contains("2 statements")
        );
        assert!(
            check_sql("SELEKT 1")
                .unwrap_err()
                .contains("does not parse")
        );
    }

    #[tokio::test]
    async fn a_select_into_is_refused_when_planned() {
        let ctx = datafusion::prelude::SessionContext::new();
        let plan = ctx
            .state()
            .create_logical_plan("SELECT 1 AS x INTO t")
            .await
            .unwrap();
        assert!(check_sql("SELECT 1 AS x INTO t").is_ok());
        let err = check_plan(&plan).unwrap_err().to_string();
        assert!(err.contains("DDL not supported"), "{err}");
        let select = ctx.state().create_logical_plan("SELECT 1").await.unwrap();
        check_plan(&select).unwrap();
    }
}
