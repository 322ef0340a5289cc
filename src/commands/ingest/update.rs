//! `bibflow ingest openalex SNAPSHOT --update DATASET`: a newer snapshot applied to a dataset,
//! with the full ingest's progress bar and a summary whose counts add up.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use bibflow_datasets::ingest::StageOptions;
use bibflow_datasets::source::{Progress, Source};
use bibflow_engine::store::{LocalDatasets, Location, OutputDir, is_url};
use bibflow_engine::update::{UpdateOptions, UpdateReport, update};

use super::EXIT_STRICT;
use crate::cli::IngestArgs;
use crate::error::Result;
use crate::output::Notes;
use crate::progress;

pub async fn run(
    source: &dyn Source,
    args: &IngestArgs,
    dataset: &Path,
    stage: StageOptions,
    notes: &Notes,
) -> Result<ExitCode> {
    let snapshot = super::list_inputs(&args.inputs, notes).await?;
    let mut options = UpdateOptions {
        stage,
        session: args.engine.session_options(),
        out: args.out.clone(),
        overwrite: args.overwrite,
    };
    // A dataset in a store is updated on this machine: downloaded, updated into a local folder,
    // published to the store (files first, the manifest last).
    let in_store = is_url(dataset) || args.out.as_deref().is_some_and(is_url);
    let target = args.out.clone().unwrap_or_else(|| dataset.to_path_buf());
    let same = |a: &Path, b: &Path| {
        a.to_string_lossy().trim_end_matches('/') == b.to_string_lossy().trim_end_matches('/')
    };
    let in_place = args.out.as_deref().is_none_or(|o| same(o, dataset));
    let fetched;
    let mut local_dataset = dataset.to_path_buf();
    let mut store_manifest = None;
    let mut store_out = None;
    if in_store {
        fetched = LocalDatasets::fetch(&[dataset], |url| {
            notes.say(format!("downloading the dataset at {url}"))
        })
        .await?;
        local_dataset = fetched.paths()[0].clone();
        store_manifest = fetched.store_manifest(0).map(<[u8]>::to_vec);
        let out = OutputDir::new(&target)?;
        out.check_dataset_target(in_place || args.overwrite).await?;
        if out.target().url().is_some() {
            options.out = Some(out.local());
            options.overwrite = false;
        } else {
            options.out = Some(target.clone());
        }
        store_out = Some(out);
    }
    let progress = Arc::new(Progress::default());
    let started = std::time::Instant::now();
    let report = {
        let _bar = progress::PollingBar::ingest(progress.clone(), notes.quiet);
        update(source, &snapshot, &local_dataset, &options, &progress).await?
    };
    notes.cleaned(&report.cleaned);
    let shown = match &store_out {
        Some(out) => out.target().clone(),
        None => Location::Local(report.dataset.clone()),
    };
    let nothing_new = report.unchanged || (in_store && in_place && report.entry.is_none());
    if let Some(out) = store_out.as_ref().filter(|o| o.target().url().is_some())
        && !nothing_new
    {
        if let Some(read) = store_manifest.as_deref().filter(|_| in_place) {
            // Refused if another run replaced the dataset while this one worked.
            out.check_unchanged(read).await?;
        }
        super::publish(out, true, notes).await?;
    }
    summarize(
        &report,
        &shown,
        nothing_new,
        started.elapsed().as_secs_f64(),
        notes,
    );
    let damaged = report.stage.as_ref().is_some_and(|s| {
        s.files.iter().any(|f| f.error.is_some())
            || s.entities.files.iter().any(|(_, f)| f.error.is_some())
            || !s.manifest_mismatches.is_empty()
    });
    let rejected = report.entry.as_ref().is_some_and(|e| {
        e.records.rejected > 0 || e.entities.values().any(|u| u.records.rejected > 0)
    });
    if args.strict && (rejected || damaged) {
        notes.say("--strict: rejected records or damaged inputs; exiting with code 3");
        return Ok(ExitCode::from(EXIT_STRICT));
    }
    Ok(ExitCode::SUCCESS)
}

/// Says what the update read, kept, replaced and removed, and where the dataset (`target`) is.
/// `nothing_new`: nothing was read and the dataset was left as it was.
fn summarize(
    report: &UpdateReport,
    target: &Location,
    nothing_new: bool,
    secs: f64,
    notes: &Notes,
) {
    let applied = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join(", ")
        }
    };
    if !report.already_applied.is_empty() {
        notes.say(format!(
            "{} partitions the dataset already holds were not read (updated_date={} .. {})",
            report.already_applied.len(),
            report.already_applied.first().expect("not empty"),
            report.already_applied.last().expect("not empty"),
        ));
    }
    let Some(e) = &report.entry else {
        if nothing_new {
            notes.say(format!(
                "nothing new: no partition newer than updated_date={} and no merged_ids file the \
                 dataset has not applied; {} was left as it was",
                report
                    .manifest
                    .openalex_snapshot
                    .as_ref()
                    .and_then(|r| r.newest_partition())
                    .unwrap_or("(none)"),
                target
            ));
        } else {
            notes.say(format!(
                "nothing new: {target} is a copy of the dataset as it was"
            ));
        }
        return;
    };
    if let Some(stage) = &report.stage {
        let bytes: u64 = stage.files.iter().map(|f| f.size).sum();
        notes.say(format!(
            "read {} files, {:.1} MiB in {secs:.1} s",
            stage.files.len(),
            bytes as f64 / (1 << 20) as f64,
        ));
        if !stage.skipped_entities.is_empty() {
            let files: u64 = stage.skipped_entities.values().sum();
            notes.say(format!(
                "note: {files} files of other OpenAlex entities were not read ({}); bibflow \
                 ingests works, authors, institutions, sources, funders, topics, subfields, fields \
                 and domains",
                bibflow_datasets::input::entity_list(&stage.skipped_entities)
            ));
        }
        for problem in stage
            .files
            .iter()
            .filter_map(|f| f.error.as_ref())
            .chain(
                stage
                    .entities
                    .files
                    .iter()
                    .filter_map(|(_, f)| f.error.as_ref()),
            )
            .chain(&stage.manifest_mismatches)
        {
            notes.say(format!("error: {problem}"));
        }
    }
    notes.say(format!(
        "applied partitions: {}; new merged_ids files: {}",
        applied(&e.partitions),
        applied(&e.merged_ids)
    ));
    notes.say(format!(
        "{} records read = {} ingested + {} rejected ({} field warnings)",
        e.records.read, e.records.ingested, e.records.rejected, e.records.warnings
    ));
    notes.say(format!(
        "works before: {} = {} kept + {} replaced by a newer copy + {} merged away",
        e.works_before, e.kept, e.replaced, e.merged_away
    ));
    notes.say(format!(
        "works of the update: {} added ({} older copies superseded, {} merged away)",
        e.added, e.superseded, e.added_merged_away
    ));
    notes.say(format!(
        "works after: {} = {} kept + {} added",
        e.works_after, e.kept, e.added
    ));
    for (name, u) in &e.entities {
        notes.say(format!(
            "{name}: partitions {} applied, {} records read = {} ingested + {} rejected; rows {} \
             before, {} after",
            applied(&u.partitions),
            u.records.read,
            u.records.ingested,
            u.records.rejected,
            u.rows_before,
            u.rows_after
        ));
    }
    notes.tables(&report.manifest);
    if e.records.rejected > 0 || e.records.warnings > 0 {
        notes.say(format!(
            "this update's rejected records and field warnings: {} (files update-{}-*)",
            match target {
                Location::Local(p) => p.join("_rejects").display().to_string(),
                Location::Url(u) => format!("{u}/_rejects"),
            },
            report.manifest.updates.len()
        ));
    }
    notes.say(format!("dataset: {target}"));
}
