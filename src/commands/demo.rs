//! `bibflow demo`: the main job on built-in data.
//!
//! A SYNTHETIC corpus of the study's size (160,000 cell and gene therapy papers, 1989-2023, from the
//! default scenario and a fixed seed) is generated as a canonical dataset, the real OpenAlex records
//! bundled with bibflow (tests/fixtures/openalex, CC0) are ingested beside it, and study-style
//! queries run over both. Every printed table says which data it shows.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bibflow_datasets::generate::{GenerateOptions, generate_parquet};
use bibflow_datasets::input::Root;
use bibflow_datasets::openalex::OpenAlex;
use bibflow_engine::EngineError;
use bibflow_engine::output::{Format, write_result};
use bibflow_engine::publish::IngestOptions;
use bibflow_engine::session::{SessionBuilder, SessionOptions};

use super::ingest::{ingest_with_bar, summarize};
use super::report::write_report_noted;
use crate::cli::DemoArgs;
use crate::error::Result;
use crate::output::Notes;

pub async fn run(args: &DemoArgs, notes: &Notes) -> Result<ExitCode> {
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
    let (_, cleaned) =
        tokio::task::block_in_place(|| generate_parquet(&opts, &synthetic, &progress))?;
    notes.cleaned(&cleaned);
    notes.say(format!(
        "generated in {:.1} s",
        started.elapsed().as_secs_f64()
    ));

    // 2. The real sample records.
    let raw = write_fixtures(out).map_err(|e| EngineError::io(out, e))?;
    let sample = out.join("openalex-sample");
    notes.say(format!(
        "demo: ingesting the bundled real OpenAlex records ({})",
        raw.display()
    ));
    let options = IngestOptions {
        overwrite: true,
        ..IngestOptions::default()
    };
    let report = ingest_with_bar(&OpenAlex, &[Root::Local(raw)], &sample, &options, notes).await?;
    summarize(
        &report,
        &bibflow_engine::store::Location::Local(sample.clone()),
        notes,
    );

    // 3. The study report over the synthetic corpus.
    let report_dir = out.join("report");
    let catalog = bibflow_engine::catalog::Catalog::builtin()?;
    let summary = write_report_noted(
        &synthetic,
        &catalog,
        &report_dir,
        &SessionOptions::default(),
        notes,
    )
    .await?;
    let mut stdout = std::io::BufWriter::new(std::io::stdout());
    let ctx = SessionBuilder::new(SessionOptions::default()).context()?;
    for r in &summary.results {
        let path = report_dir.join("data").join(format!("{}.parquet", r.id));
        writeln!(
            stdout,
            "\n## {} (SYNTHETIC data; {} of {} rows, all in {})",
            r.title,
            r.rows.min(ROWS_SHOWN),
            r.rows,
            path.display()
        )
        .map_err(EngineError::Output)?;
        let df = ctx
            .read_parquet(path.to_string_lossy().as_ref(), Default::default())
            .await?
            .limit(0, Some(ROWS_SHOWN))?;
        write_result(df, Format::Table, &mut stdout).await?;
    }

    // 4. A query over the real sample records.
    let session = SessionBuilder::new(SessionOptions::default())
        .dataset(&sample)
        .build()
        .await?;
    let ctx = session.ctx();
    for (stem, title, sql) in REAL_QUERIES {
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

/// The bundled records: (relative path, contents).
const FIXTURES: &[(&str, &[u8])] = &[
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_1_results_page_1.json",
        include_bytes!(
            "../../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_1_results_page_1.json"
        ),
    ),
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_2_results_page_1.json",
        include_bytes!(
            "../../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_2_results_page_1.json"
        ),
    ),
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_3_results_page_1.json",
        include_bytes!(
            "../../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_3_results_page_1.json"
        ),
    ),
    (
        "openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_4_results_page_1.json",
        include_bytes!(
            "../../tests/fixtures/openalex/openalexPro/_snaps_008-pro_pipeline_parallel/json_chunk_4_results_page_1.json"
        ),
    ),
    (
        "openalexPro/keypaper_json/results_page_1.json",
        include_bytes!(
            "../../tests/fixtures/openalex/openalexPro/keypaper_json/results_page_1.json"
        ),
    ),
    (
        "pyopenalex/work.json",
        include_bytes!("../../tests/fixtures/openalex/pyopenalex/work.json"),
    ),
    (
        "pyopenalex/works_list.json",
        include_bytes!("../../tests/fixtures/openalex/pyopenalex/works_list.json"),
    ),
    (
        "openalex-python/W2741809807.json",
        include_bytes!("../../tests/fixtures/openalex/openalex-python/W2741809807.json"),
    ),
    (
        "openalex-python/W-api-response.json",
        include_bytes!("../../tests/fixtures/openalex/openalex-python/W-api-response.json"),
    ),
    (
        "SOURCES.md",
        include_bytes!("../../tests/fixtures/openalex/SOURCES.md"),
    ),
];

/// Rows of each study result printed on stdout (the report's files hold all of them).
const ROWS_SHOWN: usize = 8;

/// A query over the real sample records: (file stem, title, SQL).
const REAL_QUERIES: &[(&str, &str, &str)] = &[(
    "sample_countries",
    "Countries by works (full counting) and mean citations",
    "WITH wc AS ( \
       SELECT DISTINCT work_id, country FROM ( \
         SELECT work_id, unnest(countries) AS country FROM authorships)) \
     SELECT wc.country, count(*) AS works, round(avg(w.cited_by_count), 1) AS mean_citations \
     FROM wc JOIN works w ON w.work_id = wc.work_id \
     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
)];

/// Writes the bundled records under `dir/raw/openalex` and returns that folder.
fn write_fixtures(dir: &Path) -> std::io::Result<PathBuf> {
    let raw = dir.join("raw").join("openalex");
    for (rel, bytes) in FIXTURES {
        let path = raw.join(rel);
        std::fs::create_dir_all(path.parent().expect("has parent"))?;
        std::fs::write(&path, bytes)?;
    }
    Ok(raw)
}
