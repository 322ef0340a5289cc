//! `bibflow tables`: a dataset's tables, row counts and columns, one table a line.

use std::io::Write;
use std::process::ExitCode;

use bibflow_engine::EngineError;
use bibflow_engine::inspect::describe_table;
use bibflow_engine::session::{SessionBuilder, SessionOptions};

use crate::cli::TablesArgs;
use crate::error::Result;

pub async fn run(args: TablesArgs) -> Result<ExitCode> {
    let session = SessionBuilder::new(SessionOptions::default())
        .dataset(&args.dataset)
        .build()
        .await?;
    let mut out = std::io::stdout().lock();
    // A line as each table is counted, not all at the end.
    for t in session.tables() {
        let t = describe_table(session.ctx(), &t.name).await?;
        let cols: Vec<String> = t
            .schema
            .fields()
            .iter()
            .map(|f| format!("{} {}", f.name(), f.data_type()))
            .collect();
        writeln!(out, "{}\t{} rows\t{}", t.name, t.rows, cols.join(", "))
            .map_err(EngineError::Output)?;
    }
    Ok(ExitCode::SUCCESS)
}
