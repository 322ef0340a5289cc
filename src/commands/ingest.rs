//! `bibflow ingest openalex | pubmed`: raw records -> a published dataset, with a progress bar;
//! `--update` (OpenAlex) applies a newer snapshot to a dataset instead ([`update`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use bibflow_datasets::ingest::StageOptions;
use bibflow_datasets::input::Root;
use bibflow_datasets::source::{Progress, Source};
use bibflow_engine::publish::{IngestOptions, IngestReport, ingest};
use bibflow_engine::store::{Location, OutputDir, input_roots};

use crate::cli::IngestArgs;
use crate::error::Result;
use crate::output::Notes;
use crate::progress;

mod update;

/// Exit code when `--strict` finds rejected records or damaged inputs.
const EXIT_STRICT: u8 = 3;

pub async fn run(source: &dyn Source, args: IngestArgs, notes: &Notes) -> Result<ExitCode> {
    let mut stage = StageOptions::default();
    if let Some(t) = args.threads {
        stage.threads = t.max(1);
    }
    if let Some(dataset) = &args.update {
        return update::run(source, &args, dataset, stage, notes).await;
    }
    let options = IngestOptions {
        stage,
        session: args.engine.session_options(),
        overwrite: args.overwrite,
    };
    let out = OutputDir::new(
        args.out
            .as_ref()
            .expect("clap requires --out without --update"),
    )?;
    out.check_dataset_target(args.overwrite).await?;
    let inputs = list_inputs(&args.inputs, notes).await?;
    let report = ingest_with_bar(source, &inputs, &out.local(), &options, notes).await?;
    notes.cleaned(&report.cleaned);
    publish(&out, args.overwrite, notes).await?;
    summarize(&report, out.target(), notes);
    let damaged = !report.manifest.input_errors.is_empty();
    // Records of the other OpenAlex entities (authors, ...) count as rejected records too.
    let entity_rejects = (report.manifest.entities.values()).any(|e| e.records.rejected > 0);
    if args.strict && (report.manifest.rejected_records > 0 || entity_rejects || damaged) {
        notes.say("--strict: rejected records or damaged inputs; exiting with code 3");
        return Ok(ExitCode::from(EXIT_STRICT));
    }
    Ok(ExitCode::SUCCESS)
}

/// The inputs named on the command line; those in a store are listed (and later streamed),
/// saying so.
pub async fn list_inputs(args: &[PathBuf], notes: &Notes) -> Result<Vec<Root>> {
    let roots = input_roots(args).await?;
    for root in &roots {
        if let Root::Remote(r) = root {
            let bytes: u64 = r.objects.iter().map(|(_, size)| size).sum();
            notes.say(format!(
                "{}: {} objects, {:.1} MiB, read from the store as ingest goes",
                r.url.display(),
                r.objects.len(),
                bytes as f64 / (1 << 20) as f64
            ));
        }
    }
    Ok(roots)
}

/// Ingests with a progress bar on stderr, then says how much was read how fast.
pub async fn ingest_with_bar(
    source: &dyn Source,
    inputs: &[Root],
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

/// Uploads a dataset built for a store URL (nothing for a local one), saying so.
pub async fn publish(out: &OutputDir, overwrite: bool, notes: &Notes) -> Result<()> {
    if let Some(url) = out.target().url() {
        notes.say(format!("uploading the dataset to {url}"));
        let n = out.publish_dataset(overwrite).await?;
        notes.say(format!("uploaded {n} files and the manifest"));
    }
    Ok(())
}

/// Says what an ingest read, kept and rejected, and where the dataset is.
pub fn summarize(report: &IngestReport, target: &Location, notes: &Notes) {
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
    for (name, e) in &m.entities {
        notes.say(format!(
            "{name}: {} records read = {} ingested + {} rejected; {} older copies superseded; {} \
             rows",
            e.records.read,
            e.records.ingested,
            e.records.rejected,
            e.superseded,
            m.tables.get(name).map_or(0, |t| t.rows)
        ));
    }
    if !report.stage.skipped_entities.is_empty() {
        let files: u64 = report.stage.skipped_entities.values().sum();
        notes.say(format!(
            "note: {files} files of other OpenAlex entities were not read ({}); bibflow ingests \
             works, authors, institutions, sources, funders, topics, subfields, fields and domains",
            bibflow_datasets::input::entity_list(&report.stage.skipped_entities)
        ));
    }
    if m.records.authors_truncated > 0 {
        notes.say(format!(
            "{} works have a truncated author list (is_authors_truncated: API pages stop at 100 \
             authors): their author and country counts are of the authors listed",
            m.records.authors_truncated
        ));
    }
    notes.tables(m);
    if m.records.warnings > 0 {
        notes.say(format!(
            "{} field warnings (a field of an unexpected type converted or set to NULL, its work \
             kept): {}",
            m.records.warnings,
            match target {
                Location::Local(p) => p.join("_rejects/warnings").display().to_string(),
                Location::Url(u) => format!("{u}/_rejects/warnings"),
            }
        ));
    }
    if m.rejected_records > 0 {
        notes.say(format!(
            "rejected records with their location and reason: {}",
            match target {
                Location::Local(p) => p.join("_rejects").display().to_string(),
                Location::Url(u) => format!("{u}/_rejects"),
            }
        ));
    }
    for e in &m.input_errors {
        notes.say(format!("error: {e}"));
    }
    notes.say(format!("dataset: {target}"));
}
