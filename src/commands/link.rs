//! `bibflow link`: an OpenAlex dataset and a PubMed dataset into one.

use std::process::ExitCode;

use bibflow_engine::store::{LocalDatasets, OutputDir};

use super::ingest::publish;
use crate::cli::LinkArgs;
use crate::error::Result;
use crate::output::Notes;

pub async fn run(args: LinkArgs, notes: &Notes) -> Result<ExitCode> {
    let out = OutputDir::new(&args.out)?;
    out.check_dataset_target(args.overwrite).await?;
    // Datasets in a store are downloaded first (link reads local folders).
    let inputs = LocalDatasets::fetch(&[&args.openalex, &args.pubmed], |url| {
        notes.say(format!("downloading the dataset {url}"))
    })
    .await?;
    let r = bibflow_engine::link::link(
        &inputs.paths()[0],
        &inputs.paths()[1],
        &out.local(),
        args.overwrite,
        &args.engine.session_options(),
    )
    .await?;
    notes.cleaned(&r.cleaned);
    publish(&out, args.overwrite, notes).await?;
    notes.say(format!(
        "linked: {} works matched by PMID, {} by DOI; {} OpenAlex-only and {} PubMed-only works kept",
        r.matched_by_pmid, r.matched_by_doi, r.openalex_only, r.pubmed_only
    ));
    notes.say(format!("dataset: {}", out.target()));
    Ok(ExitCode::SUCCESS)
}
