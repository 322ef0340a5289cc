//! What a dataset holds: its tables with their row counts and columns (`bibflow tables`).
//!
//! ```no_run
//! # async fn run() -> bibflow_engine::Result<()> {
//! use bibflow_engine::inspect::describe_table;
//! use bibflow_engine::session::{SessionBuilder, SessionOptions};
//! let session = SessionBuilder::new(SessionOptions::default()).dataset("my-dataset").build().await?;
//! for t in session.tables() {
//!     let t = describe_table(session.ctx(), &t.name).await?;
//!     let (name, rows, columns) = (t.name, t.rows, t.schema.fields().len());
//! }
//! # Ok(()) }
//! ```

use arrow::datatypes::SchemaRef;
use datafusion::common::cast::as_int64_array;
use datafusion::prelude::SessionContext;

use crate::error::Result;

/// A table of a session with its row count and columns.
#[derive(Debug, Clone)]
pub struct TableInfo {
    /// The table's name in the session.
    pub name: String,
    /// Its rows, counted.
    pub rows: u64,
    /// Its columns.
    pub schema: SchemaRef,
}

/// Counts the rows of the table `name` of `ctx` and reads its columns.
pub async fn describe_table(ctx: &SessionContext, name: &str) -> Result<TableInfo> {
    let df = ctx.sql(&format!("SELECT count(*) FROM \"{name}\"")).await?;
    let batches = df.collect().await?;
    // count(*) is a non-negative Int64.
    let rows = as_int64_array(batches[0].column(0))?.value(0) as u64;
    let schema = ctx.table(name).await?.schema().as_arrow().clone();
    Ok(TableInfo {
        name: name.to_owned(),
        rows,
        schema: schema.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rows_and_columns_of_a_table() {
        let ctx = SessionContext::new();
        ctx.sql("CREATE TABLE a (x INT, y VARCHAR) AS VALUES (1, 'p'), (2, 'q')")
            .await
            .unwrap();
        ctx.sql("CREATE TABLE b (z BIGINT)").await.unwrap();
        let infos = [
            describe_table(&ctx, "b").await.unwrap(),
            describe_table(&ctx, "a").await.unwrap(),
        ];
        let got: Vec<(&str, u64, usize)> = infos
            .iter()
            .map(|t| (t.name.as_str(), t.rows, t.schema.fields().len()))
            .collect();
        assert_eq!(got, [("b", 0, 1), ("a", 2, 2)]);
        assert_eq!(infos[1].schema.field(1).name(), "y");
    }
}
