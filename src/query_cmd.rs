//! `bibflow query list | show | run | explain`.

use std::io::Write;
use std::process::ExitCode;

use bibflow_engine::catalog::{Catalog, SavedQuery};
use bibflow_engine::report::suite::materialize_views_read_by;
use bibflow_engine::session::open_dataset;
use bibflow_engine::{EngineError, Result};

use crate::cli::{QueriesArg, QueryCommand, QueryRunArgs, ReportArgs};
use crate::{Notes, emit, format_of, session_options};

/// The built-in catalog plus the user's folder, if given.
pub fn catalog(arg: &QueriesArg) -> Result<Catalog> {
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
    let (ctx, _) = open_dataset(&args.dataset, &session_options(&args.engine)).await?;
    catalog.register_views(&ctx).await?;
    // The views the query reads are computed first, each with its own join order, as `bibflow
    // report` does: inlined into the query's plan, DataFusion's join reordering would build hash
    // tables on `works` (see queries/views/work_modality.sql).
    let computed = materialize_views_read_by(&ctx, &catalog, &q.sql).await?;
    if !computed.is_empty() {
        let list: Vec<String> = computed
            .iter()
            .map(|(name, ms)| format!("{name} {:.2} s", *ms as f64 / 1000.0))
            .collect();
        notes.say(format!("views computed first: {}", list.join(", ")));
    }
    let df = q.dataframe(&ctx, &bindings).await?;
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
    emit(df, format_of(args.format), args.out.as_deref(), notes).await?;
    Ok(ExitCode::SUCCESS)
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

/// `bibflow report`: progress on stderr, the index path on stdout.
pub async fn report(args: ReportArgs, notes: &Notes) -> Result<ExitCode> {
    let catalog = catalog(&args.queries)?;
    let summary = write_report_noted(
        &args.dataset,
        &catalog,
        &args.out,
        &session_options(&args.engine),
        notes,
    )
    .await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", summary.index.display()).map_err(EngineError::Output)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the report, saying each result and the suite's time on stderr.
pub async fn write_report_noted(
    dataset: &std::path::Path,
    catalog: &Catalog,
    out: &std::path::Path,
    options: &bibflow_engine::session::SessionOptions,
    notes: &Notes,
) -> Result<bibflow_engine::report::ReportSummary> {
    notes.say(format!(
        "report: running the study suite over {} (shared views first)",
        dataset.display()
    ));
    let summary = bibflow_engine::report::write_report(dataset, catalog, out, options, |r| {
        notes.say(format!(
            "  {:<44} {:>7} rows {:>8.3} s",
            r.id,
            r.rows,
            r.elapsed_ms as f64 / 1000.0
        ))
    })
    .await?;
    for (view, ms) in &summary.view_times {
        notes.say(format!(
            "  view {:<39} {:>21.3} s",
            view,
            *ms as f64 / 1000.0
        ));
    }
    notes.say(format!(
        "suite: {:.3} s (shared views {:.3} s, {} results){}",
        summary.suite_ms as f64 / 1000.0,
        summary.views_ms as f64 / 1000.0,
        summary.results.len(),
        if summary.synthetic {
            "; the dataset is SYNTHETIC"
        } else {
            ""
        }
    ));
    notes.say(format!("report: {}", summary.index.display()));
    Ok(summary)
}
