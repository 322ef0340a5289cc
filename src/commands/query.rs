//! `bibflow query list | show | run | explain`.

use std::io::Write;
use std::process::ExitCode;

use bibflow_engine::EngineError;
use bibflow_engine::catalog::{Catalog, SavedQuery, ViewTime};
use bibflow_engine::session::SessionBuilder;

use crate::cli::{QueriesArg, QueryCommand, QueryRunArgs};
use crate::error::Result;
use crate::memory::MemoryWatch;
use crate::output::{Notes, emit, format_of};

/// The built-in catalog plus the user's folder, if given.
pub fn catalog(arg: &QueriesArg) -> bibflow_engine::Result<Catalog> {
    let c = Catalog::builtin()?;
    match &arg.queries {
        Some(dir) => c.with_dir(dir),
        None => Ok(c),
    }
}

pub async fn run(cmd: QueryCommand, notes: &Notes) -> Result<ExitCode> {
    match cmd {
        QueryCommand::List(args) => {
            let catalog = catalog(&args.queries)?;
            let mut out = std::io::stdout().lock();
            for q in catalog.queries() {
                writeln!(out, "{}\t{}", q.name(), q.header.title).map_err(EngineError::Output)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        QueryCommand::Show(args) => {
            let catalog = catalog(&args.queries)?;
            let q = catalog.get(&args.name)?;
            let mut out = std::io::stdout().lock();
            out.write_all(describe(q).as_bytes())
                .map_err(EngineError::Output)?;
            Ok(ExitCode::SUCCESS)
        }
        QueryCommand::Run(args) => run_query(args, false, notes).await,
        QueryCommand::Explain(args) => run_query(args, true, notes).await,
    }
}

async fn run_query(args: QueryRunArgs, explain: bool, notes: &Notes) -> Result<ExitCode> {
    let catalog = catalog(&args.queries)?;
    let q = catalog.get(&args.name)?;
    // Parameters are checked before the dataset is opened: a typo fails fast.
    let bindings = q.bind(&args.params)?;
    let options = args.engine.session_options();
    let watch = MemoryWatch::start(options.memory_gauge.clone(), args.engine.trace_memory);
    let session = SessionBuilder::new(options)
        .dataset(&args.dataset)
        .catalog(catalog.clone())
        .build()
        .await?;
    let ctx = session.ctx();
    // The views the query reads are computed first, each with its own join order, as `bibflow
    // report` does: inlined into the query's plan, DataFusion's join reordering would build hash
    // tables on `works` (see queries/views/work_modality.sql).
    let computed = session.compute_views_read_by(&q.sql).await?;
    if !computed.is_empty() {
        let list: Vec<String> = computed
            .iter()
            .map(|v| {
                format!(
                    "{} {:.2} s{}",
                    v.name,
                    v.elapsed_ms as f64 / 1000.0,
                    view_note(v)
                )
            })
            .collect();
        notes.say(format!("views computed first: {}", list.join(", ")));
    }
    let df = q.dataframe(ctx, &bindings).await?;
    let df = if explain {
        df.explain(false, true)?
    } else {
        df
    };
    let params: Vec<String> = bindings
        .pairs()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    notes.say(format!("{} ({})", q.name(), params.join(" ")));
    emit(df, format_of(args.format), args.out.as_deref(), notes)
        .await
        .map_err(|e| e.with_query(&format!("saved query {}", q.name())))?;
    if args.engine.trace_memory.is_some() {
        notes.say(watch.finish());
    }
    Ok(ExitCode::SUCCESS)
}

/// What a computed view's line says of where its rows went: written to the views folder, spilled
/// to disk past the memory limit, or nothing (held in memory).
pub fn view_note(v: &ViewTime) -> String {
    if v.written_bytes > 0 {
        format!(
            " (written: {:.1} MiB of Parquet)",
            v.written_bytes as f64 / (1 << 20) as f64
        )
    } else {
        spilled_note(v.spilled_bytes)
    }
}

/// ` (spilled N MiB to disk)` for a computed view the memory limit sent to disk, else nothing.
pub fn spilled_note(bytes: u64) -> String {
    if bytes == 0 {
        String::new()
    } else {
        format!(
            " (over the memory limit: {:.1} MiB spilled to disk)",
            bytes as f64 / (1 << 20) as f64
        )
    }
}

/// The text `bibflow query show` prints.
pub fn describe(q: &SavedQuery) -> String {
    let h = &q.header;
    let mut s = format!("{}: {}\n", h.name, h.title);
    if let Some(f) = &h.finding {
        s.push_str(&format!("finding: {f}\n"));
    }
    s.push_str(&format!(
        "source: {}\n\n{}\n",
        q.origin,
        h.description.trim()
    ));
    s.push_str("\nparameters:\n");
    if h.params.is_empty() {
        s.push_str("  (none)\n");
    }
    for p in &h.params {
        s.push_str(&format!("  {}\n      {}\n", p.accepted(), p.description));
    }
    s.push_str("\ncolumns:\n");
    for c in &h.columns {
        s.push_str(&format!("  {:<22} {}\n", c.name, c.description));
    }
    s.push_str(&format!("\nSQL:\n{}\n", q.sql.trim_end()));
    s
}
