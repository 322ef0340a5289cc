//! The `bibflow` command line: arguments -> validated configuration -> calls into the crates.
//! Results go to stdout; progress, summaries and errors go to stderr.

mod cli;
mod cpu;
mod demo;
mod progress;
mod query_cmd;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use bibflow_datasets::ingest::{Progress, Source, StageOptions};
use bibflow_datasets::openalex::OpenAlex;
use bibflow_datasets::pubmed::PubMed;
use bibflow_engine::output::{Format, write_result};
use bibflow_engine::publish::{IngestOptions, IngestReport, ingest};
use bibflow_engine::session::{SessionOptions, open_dataset};
use bibflow_engine::{EngineError, Result};
use clap::Parser;

use crate::cli::{
    Cli, Command, EngineArgs, GenerateArgs, GenerateFormat, IngestArgs, IngestSource, OutputFormat,
};

/// Exit code when `--strict` finds rejected records or damaged inputs.
const EXIT_STRICT: u8 = 3;

fn main() -> ExitCode {
    // Before anything else: a build for newer CPUs stops here with an error, not later with
    // "illegal instruction" (src/cpu.rs).
    let missing = cpu::missing();
    if missing != 0 {
        cpu::exit_unsupported(missing);
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            return fail(&EngineError::Usage(format!(
                "cannot start the runtime: {e}"
            )));
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(EngineError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Prints an error with its whole cause chain.
#[allow(clippy::print_stderr)]
fn fail(e: &dyn std::error::Error) -> ExitCode {
    let mut msg = format!("error: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(&format!("\n  caused by: {text}"));
        }
        source = s.source();
    }
    eprintln!("{msg}");
    ExitCode::FAILURE
}

/// Progress and summaries: stderr, unless `--quiet`.
struct Notes {
    quiet: bool,
}

impl Notes {
    #[allow(clippy::print_stderr)]
    fn say(&self, text: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", text.as_ref());
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let notes = Notes { quiet: cli.quiet };
    match cli.command {
        Command::Ingest(IngestSource::Openalex(args)) => run_ingest(&OpenAlex, args, &notes).await,
        Command::Ingest(IngestSource::Pubmed(args)) => run_ingest(&PubMed, args, &notes).await,
        Command::Link(args) => {
            let r = bibflow_engine::link::link(
                &args.openalex,
                &args.pubmed,
                &args.out,
                args.overwrite,
                &session_options(&args.engine),
            )
            .await?;
            notes.say(format!(
                "linked: {} works matched by PMID, {} by DOI; {} OpenAlex-only and {} PubMed-only works kept",
                r.matched_by_pmid, r.matched_by_doi, r.openalex_only, r.pubmed_only
            ));
            notes.say(format!("dataset: {}", r.dataset.display()));
            Ok(ExitCode::SUCCESS)
        }
        Command::Sql(args) => {
            let (ctx, _) = open_dataset(&args.dataset, &session_options(&args.engine)).await?;
            // The saved queries' views (work_modality, work_country, ...) are there too.
            bibflow_engine::catalog::Catalog::builtin()?
                .register_views(&ctx)
                .await?;
            let df = if args.repeat > 1 {
                let (schema, batches) = timed_runs(&ctx, &args.query, args.repeat).await?;
                let table = datafusion::datasource::MemTable::try_new(schema, vec![batches])?;
                ctx.read_table(Arc::new(table))?
            } else {
                ctx.sql(&args.query).await?
            };
            emit(df, format_of(args.format), args.out.as_deref(), &notes).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Query(cmd) => query_cmd::run(cmd, &notes).await,
        Command::Report(args) => query_cmd::report(args, &notes).await,
        Command::Tables(args) => {
            let (ctx, tables) = open_dataset(&args.dataset, &SessionOptions::default()).await?;
            let mut out = std::io::stdout().lock();
            for t in tables {
                let df = ctx
                    .sql(&format!("SELECT count(*) FROM \"{}\"", t.name))
                    .await?;
                let batches = df.collect().await?;
                let rows = arrow::util::display::array_value_to_string(batches[0].column(0), 0)?;
                let schema = ctx
                    .table(t.name.as_str())
                    .await?
                    .schema()
                    .as_arrow()
                    .clone();
                let cols: Vec<String> = schema
                    .fields()
                    .iter()
                    .map(|f| format!("{} {}", f.name(), f.data_type()))
                    .collect();
                writeln!(out, "{}\t{rows} rows\t{}", t.name, cols.join(", "))
                    .map_err(EngineError::Output)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => run_demo(&args, &notes).await,
        Command::Generate(args) => run_generate(args, &notes),
    }
}

/// `bibflow sql --repeat n`: runs `query` `n` times, prints each run's time (and the part of it
/// spent planning) and their medians on stderr, and returns the last run's schema and batches.
#[allow(clippy::print_stderr)]
async fn timed_runs(
    ctx: &datafusion::prelude::SessionContext,
    query: &str,
    n: u32,
) -> Result<(arrow::datatypes::SchemaRef, Vec<arrow::array::RecordBatch>)> {
    let (mut times, mut planning) = (Vec::new(), Vec::new());
    let mut last = Vec::new();
    let mut schema = None;
    for i in 1..=n {
        let t = std::time::Instant::now();
        let df = ctx.sql(query).await?;
        schema = Some(Arc::new(df.schema().as_arrow().clone()));
        let plan = df.create_physical_plan().await?;
        let p = t.elapsed().as_secs_f64();
        last = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
        let s = t.elapsed().as_secs_f64();
        eprintln!("run {i}/{n}: {s:.4} s (planning {p:.4} s)");
        times.push(s);
        planning.push(p);
    }
    let (median, min, max) = spread(&mut times);
    let (planning, _, _) = spread(&mut planning);
    eprintln!(
        "median of {n} runs: {median:.4} s (min {min:.4} s, max {max:.4} s; planning {planning:.4} s)"
    );
    // The batches' own schema where there are any (it can differ from the plan's in
    // nullability); the plan's for an empty result, so its columns are still named.
    let schema = match last.first() {
        Some(b) => b.schema(),
        None => schema.expect("n >= 1 runs"),
    };
    Ok((schema, last))
}

/// Median, min and max of a non-empty list of times.
fn spread(times: &mut [f64]) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    let mid = times.len() / 2;
    let median = if times.len().is_multiple_of(2) {
        (times[mid - 1] + times[mid]) / 2.0
    } else {
        times[mid]
    };
    (median, times[0], times[times.len() - 1])
}

/// Writes a query result to `out` (or stdout) in `format`; returns the rows written.
async fn emit(
    df: datafusion::dataframe::DataFrame,
    format: Format,
    out: Option<&Path>,
    notes: &Notes,
) -> Result<u64> {
    let rows = match out {
        Some(path) => {
            let mut f = std::io::BufWriter::new(
                std::fs::File::create(path).map_err(|e| EngineError::io(path, e))?,
            );
            let rows = write_result(df, format, &mut f).await?;
            f.flush().map_err(|e| EngineError::io(path, e))?;
            notes.say(format!("wrote {rows} rows to {}", path.display()));
            rows
        }
        None => {
            if format == Format::Parquet && std::io::stdout().is_terminal() {
                return Err(EngineError::Usage(
                    "Parquet is binary: pass --out FILE (or redirect stdout)".into(),
                ));
            }
            let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
            let rows = write_result(df, format, &mut out).await?;
            out.flush().map_err(EngineError::Output)?;
            if format == Format::Table {
                notes.say(format!("{rows} rows"));
            }
            rows
        }
    };
    Ok(rows)
}

fn session_options(e: &EngineArgs) -> SessionOptions {
    SessionOptions {
        memory_limit: e.memory_limit,
        target_partitions: None,
        sort_windows: e.sort_windows,
    }
}

fn format_of(f: OutputFormat) -> Format {
    match f {
        OutputFormat::Table => Format::Table,
        OutputFormat::Csv => Format::Csv,
        OutputFormat::Json => Format::Json,
        OutputFormat::Ndjson => Format::Ndjson,
        OutputFormat::Parquet => Format::Parquet,
    }
}

async fn run_ingest(source: &dyn Source, args: IngestArgs, notes: &Notes) -> Result<ExitCode> {
    let mut stage = StageOptions::default();
    if let Some(t) = args.threads {
        stage.threads = t.max(1);
    }
    let options = IngestOptions {
        stage,
        session: session_options(&args.engine),
        overwrite: args.overwrite,
    };
    let report = ingest_with_bar(source, &args.inputs, &args.out, &options, notes).await?;
    summarize(&report, notes);
    let damaged = !report.manifest.input_errors.is_empty();
    if args.strict && (report.manifest.rejected_records > 0 || damaged) {
        notes.say("--strict: rejected records or damaged inputs; exiting with code 3");
        return Ok(ExitCode::from(EXIT_STRICT));
    }
    Ok(ExitCode::SUCCESS)
}

async fn ingest_with_bar(
    source: &dyn Source,
    inputs: &[std::path::PathBuf],
    out: &Path,
    options: &IngestOptions,
    notes: &Notes,
) -> Result<IngestReport> {
    let progress = Arc::new(Progress::default());
    let started = std::time::Instant::now();
    let report = {
        let _bar = progress::PollingBar::ingest(progress.clone(), notes.quiet);
        ingest(source, inputs, out, options, &progress).await?
    };
    let secs = started.elapsed().as_secs_f64();
    let bytes: u64 = report.stage.files.iter().map(|f| f.size).sum();
    notes.say(format!(
        "read {} files, {:.1} MiB in {secs:.1} s ({:.1} MiB/s)",
        report.stage.files.len(),
        bytes as f64 / (1 << 20) as f64,
        bytes as f64 / (1 << 20) as f64 / secs.max(1e-9),
    ));
    Ok(report)
}

fn summarize(report: &IngestReport, notes: &Notes) {
    let m = &report.manifest;
    notes.say(format!(
        "{} records read = {} ingested + {} rejected",
        m.records.read, m.records.ingested, m.records.rejected
    ));
    if m.superseded > 0 || m.merged_away > 0 || m.deleted > 0 {
        notes.say(format!(
            "of the ingested: {} older copies superseded by a newer version, {} works merged away by \
             OpenAlex, {} deleted by a later input",
            m.superseded, m.merged_away, m.deleted
        ));
    }
    let tables: Vec<String> = m
        .tables
        .iter()
        .map(|(name, t)| format!("{name} {}", t.rows))
        .collect();
    notes.say(format!("tables: {}", tables.join(", ")));
    if m.rejected_records > 0 {
        notes.say(format!(
            "rejected records with their location and reason: {}",
            report.dataset.join("_rejects").display()
        ));
    }
    for e in &m.input_errors {
        notes.say(format!("error: {e}"));
    }
    notes.say(format!("dataset: {}", report.dataset.display()));
}

async fn run_demo(args: &crate::cli::DemoArgs, notes: &Notes) -> Result<ExitCode> {
    use bibflow_datasets::generate::{GenerateOptions, generate_parquet};

    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|e| EngineError::io(out, e))?;
    let results = out.join("results");
    std::fs::create_dir_all(&results).map_err(|e| EngineError::io(&results, e))?;

    // 1. The synthetic study-size corpus (regenerated each run: it is deterministic).
    let synthetic = out.join("synthetic-cgt");
    if synthetic.exists() {
        std::fs::remove_dir_all(&synthetic).map_err(|e| EngineError::io(&synthetic, e))?;
    }
    notes.say(format!(
        "demo: generating {} SYNTHETIC works (seed {}) into {}",
        args.works,
        args.seed,
        synthetic.display()
    ));
    let started = std::time::Instant::now();
    let opts = GenerateOptions::new(args.works, args.seed);
    let progress = std::sync::atomic::AtomicU64::new(0);
    tokio::task::block_in_place(|| generate_parquet(&opts, &synthetic, &progress))?;
    notes.say(format!(
        "generated in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    // 2. The real sample records.
    let raw = demo::write_fixtures(out).map_err(|e| EngineError::io(out, e))?;
    let sample = out.join("openalex-sample");
    notes.say(format!(
        "demo: ingesting the bundled real OpenAlex records ({})",
        raw.display()
    ));
    let options = IngestOptions {
        overwrite: true,
        ..IngestOptions::default()
    };
    let report = ingest_with_bar(&OpenAlex, &[raw], &sample, &options, notes).await?;
    summarize(&report, notes);

    // 3. The study report over the synthetic corpus.
    let report_dir = out.join("report");
    let catalog = bibflow_engine::catalog::Catalog::builtin()?;
    let summary = query_cmd::write_report_noted(
        &synthetic,
        &catalog,
        &report_dir,
        &SessionOptions::default(),
        notes,
    )
    .await?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    let ctx = bibflow_engine::session::new_session(&SessionOptions::default())?;
    for r in &summary.results {
        let path = report_dir.join("data").join(format!("{}.parquet", r.id));
        writeln!(
            stdout,
            "\n## {} (SYNTHETIC data; {} of {} rows, all in {})",
            r.title,
            r.rows.min(demo::ROWS_SHOWN),
            r.rows,
            path.display()
        )
        .map_err(EngineError::Output)?;
        let df = ctx
            .read_parquet(path.to_string_lossy().as_ref(), Default::default())
            .await?
            .limit(0, Some(demo::ROWS_SHOWN))?;
        write_result(df, Format::Table, &mut stdout).await?;
    }

    // 4. A query over the real sample records.
    let (ctx, _) = open_dataset(&sample, &SessionOptions::default()).await?;
    for (stem, title, sql) in demo::REAL_QUERIES {
        writeln!(stdout, "\n## {title} (real OpenAlex sample records)")
            .map_err(EngineError::Output)?;
        let batches = ctx.sql(sql).await?.collect().await?;
        write_result(
            ctx.read_batches(batches.clone())?,
            Format::Table,
            &mut stdout,
        )
        .await?;
        let path = results.join(format!("{stem}.csv"));
        let mut f = std::fs::File::create(&path).map_err(|e| EngineError::io(&path, e))?;
        write_result(ctx.read_batches(batches)?, Format::Csv, &mut f).await?;
    }
    stdout.flush().map_err(EngineError::Output)?;
    notes.say(format!(
        "\ndemo finished in {:.1} s: SYNTHETIC corpus in {}, real sample in {}, \
         the study report in {} (open it in a browser)",
        started.elapsed().as_secs_f64(),
        synthetic.display(),
        sample.display(),
        summary.index.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn run_generate(args: GenerateArgs, notes: &Notes) -> Result<ExitCode> {
    use bibflow_datasets::generate::{
        GenerateOptions, Scenario, generate_openalex_jsonl, generate_parquet, generate_pubmed_xml,
    };
    use std::sync::atomic::{AtomicU64, Ordering};

    let mut opts = GenerateOptions::new(args.works, args.seed);
    if let Some(t) = args.threads {
        opts.threads = t.max(1);
    }
    if let Some(path) = &args.scenario {
        opts.scenario = Scenario::from_file(path)?;
    }
    let progress = Arc::new(AtomicU64::new(0));
    let started = std::time::Instant::now();
    let result = {
        let (counter, total) = (progress.clone(), args.works);
        let _bar = progress::PollingBar::start(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} SYNTHETIC works ({per_sec})",
            notes.quiet,
            move |bar| {
                bar.set_length(total);
                bar.set_position(counter.load(Ordering::Relaxed));
            },
        );
        match args.format {
            GenerateFormat::Parquet => generate_parquet(&opts, &args.out, &progress).map(Some),
            GenerateFormat::OpenalexJsonl => {
                generate_openalex_jsonl(&opts, &args.out, &progress).map(|()| None)
            }
            GenerateFormat::PubmedXml => {
                generate_pubmed_xml(&opts, &args.out, &progress).map(|()| None)
            }
        }
    };
    let manifest = result?;
    let secs = started.elapsed().as_secs_f64();
    notes.say(format!(
        "generated {} SYNTHETIC works (seed {}, scenario {}) in {secs:.1} s ({:.0} works/s)",
        args.works,
        args.seed,
        opts.scenario.corpus.name,
        args.works as f64 / secs.max(1e-9)
    ));
    if let Some(m) = manifest {
        let tables: Vec<String> = m
            .tables
            .iter()
            .map(|(name, t)| format!("{name} {}", t.rows))
            .collect();
        notes.say(format!("tables: {}", tables.join(", ")));
    }
    notes.say(format!(
        "SYNTHETIC data (no record describes a real publication): {}",
        args.out.display()
    ));
    Ok(ExitCode::SUCCESS)
}
