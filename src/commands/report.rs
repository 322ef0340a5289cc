//! `bibflow report`: the study suite over a dataset, written as a report folder.

use std::io::Write;
use std::process::ExitCode;

use bibflow_engine::EngineError;
use bibflow_engine::catalog::Catalog;
use bibflow_engine::session::SessionOptions;
use bibflow_engine::store::OutputDir;
use bibflow_report::{ReportSummary, SuiteEvent, write_report};

use super::query::{catalog, view_note};
use crate::cli::ReportArgs;
use crate::error::Result;
use crate::memory::MemoryWatch;
use crate::output::Notes;

/// `bibflow report`: progress on stderr, the index path on stdout.
pub async fn run(args: ReportArgs, notes: &Notes) -> Result<ExitCode> {
    let catalog = catalog(&args.queries)?;
    let target = OutputDir::new(&args.out)?;
    let options = args.engine.session_options();
    let watch = MemoryWatch::start(options.memory_gauge.clone(), args.engine.trace_memory);
    let summary =
        write_report_noted(&args.dataset, &catalog, &target.local(), &options, notes).await?;
    notes.say(watch.finish());
    let index = match target.target().url() {
        Some(url) => {
            notes.say(format!("uploading the report to {url}"));
            let n = target.upload_folder().await?;
            notes.say(format!("uploaded {n} files"));
            format!("{}/index.html", url.as_str().trim_end_matches('/'))
        }
        None => summary.index.display().to_string(),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{index}").map_err(EngineError::Output)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the report, saying each result and the suite's time on stderr.
pub async fn write_report_noted(
    dataset: &std::path::Path,
    catalog: &Catalog,
    out: &std::path::Path,
    options: &SessionOptions,
    notes: &Notes,
) -> Result<ReportSummary> {
    notes.say(format!(
        "report: running the study suite over {} (shared views first)",
        dataset.display()
    ));
    let summary = write_report(dataset, catalog, out, options, |event| match event {
        SuiteEvent::View(v) => notes.say(format!(
            "  view {:<39} {:>21.3} s{}",
            v.name,
            v.elapsed_ms as f64 / 1000.0,
            view_note(v)
        )),
        SuiteEvent::Result(r) => notes.say(format!(
            "  {:<44} {:>7} rows {:>8.3} s",
            r.id,
            r.rows,
            r.elapsed_ms as f64 / 1000.0
        )),
    })
    .await?;
    notes.cleaned(&summary.cleaned);
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
