//! `bibflow generate`: a seeded SYNTHETIC corpus as Parquet, an OpenAlex snapshot or PubMed XML.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bibflow_engine::store::OutputDir;

use crate::cli::{GenerateArgs, GenerateFormat};
use crate::error::Result;
use crate::output::Notes;
use crate::progress;
use bibflow_datasets::generate::{
    GenerateOptions, Scenario, generate_openalex_jsonl, generate_parquet, generate_pubmed_xml,
};

pub async fn run(args: GenerateArgs, notes: &Notes) -> Result<ExitCode> {
    let out = OutputDir::new(&args.out)?;
    if args.format == GenerateFormat::Parquet {
        out.check_dataset_target(false).await?;
    }
    let local = out.local();
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
            GenerateFormat::Parquet => {
                generate_parquet(&opts, &local, &progress).map(|(m, c)| (Some(m), c))
            }
            GenerateFormat::OpenalexJsonl => {
                generate_openalex_jsonl(&opts, &local, &progress).map(|c| (None, c))
            }
            GenerateFormat::PubmedXml => {
                generate_pubmed_xml(&opts, &local, &progress).map(|c| (None, c))
            }
        }
    };
    let (manifest, cleaned) = result?;
    notes.cleaned(&cleaned);
    if let Some(url) = out.target().url() {
        notes.say(format!("uploading to {url}"));
        let n = match args.format {
            GenerateFormat::Parquet => out.publish_dataset(false).await?,
            _ => out.upload_folder().await?,
        };
        notes.say(format!("uploaded {n} files"));
    }
    let secs = started.elapsed().as_secs_f64();
    notes.say(format!(
        "generated {} SYNTHETIC works (seed {}, scenario {}) in {secs:.1} s ({:.0} works/s)",
        args.works,
        args.seed,
        opts.scenario.corpus.name,
        args.works as f64 / secs.max(1e-9)
    ));
    if let Some(m) = manifest {
        notes.tables(&m);
    }
    notes.say(format!(
        "SYNTHETIC data (no record describes a real publication): {}",
        out.target()
    ));
    Ok(ExitCode::SUCCESS)
}
