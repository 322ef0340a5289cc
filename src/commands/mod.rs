//! One module per subcommand; [`run`] hands the parsed command line to the one it names.

mod classify;
mod demo;
mod executor;
mod generate;
mod ingest;
mod link;
mod query;
mod report;
mod scheduler;
mod sql;
mod tables;

use std::process::ExitCode;

use crate::cli::{ClassifyCommand, Cli, Command, IngestSource};
use crate::error::Result;
use crate::output::Notes;
use bibflow_datasets::openalex::{OpenAlex, OpenAlexStrict};
use bibflow_datasets::pubmed::PubMed;

/// Runs the command; `Ok` carries the exit code of a command that ran (3 for `--strict`).
pub async fn run(cli: Cli) -> Result<ExitCode> {
    let notes = Notes { quiet: cli.quiet };
    match cli.command {
        // `--strict`: a field of an unexpected type rejects its work rather than being NULL.
        Command::Ingest(IngestSource::Openalex(args)) if args.strict => {
            ingest::run(&OpenAlexStrict, args, &notes).await
        }
        Command::Ingest(IngestSource::Openalex(args)) => ingest::run(&OpenAlex, args, &notes).await,
        Command::Ingest(IngestSource::Pubmed(args)) => ingest::run(&PubMed, args, &notes).await,
        Command::Link(args) => link::run(args, &notes).await,
        Command::Sql(args) => sql::run(args, &notes).await,
        Command::Query(cmd) => query::run(cmd, &notes).await,
        Command::Report(args) => report::run(args, &notes).await,
        Command::Classify(ClassifyCommand::Evaluate(args)) => classify::evaluate(args).await,
        Command::Tables(args) => tables::run(args).await,
        Command::Scheduler(args) => scheduler::run(args).await,
        Command::Executor(args) => executor::run(args).await,
        Command::Demo(args) => demo::run(&args, &notes).await,
        Command::Generate(args) => generate::run(args, &notes).await,
    }
}
