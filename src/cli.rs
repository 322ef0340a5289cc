//! Command-line arguments, kept apart from what the commands do.

use std::path::PathBuf;

use bibflow_cluster::{Cluster, SchedulerUrl, cluster_session_options};
use bibflow_engine::session::{SessionOptions, ViewPlacement};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// bibflow: a columnar dataflow engine for bibliometrics on Apache DataFusion.
///
/// Raw bibliographic records in, a canonical Parquet dataset out, SQL over it.
/// Results go to stdout; progress, summaries and errors to stderr.
///
/// Exit codes: 0 success; 1 error; 2 bad command line; 3 `--strict` and some records were rejected.
#[derive(Debug, Parser)]
#[command(name = "bibflow", version, max_term_width = 100)]
pub struct Cli {
    /// No progress bars or summaries on stderr (errors are still shown).
    #[arg(long, short, global = true)]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert raw records into a canonical bibflow dataset.
    #[command(subcommand)]
    Ingest(IngestSource),
    /// Link an OpenAlex dataset and a PubMed dataset into one (match by PMID, then DOI).
    Link(LinkArgs),
    /// Run SQL over a dataset: every table folder is a table.
    Sql(SqlArgs),
    /// List a dataset's tables with their row counts and columns.
    Tables(TablesArgs),
    /// Saved queries: list, show, run, explain (named, documented, parameterised SQL).
    #[command(subcommand)]
    Query(QueryCommand),
    /// Run the study suite over a dataset and write the report: Parquet and CSV per result, SVG
    /// charts, network files and index.html.
    Report(ReportArgs),
    /// How the classification (modalities, clinical stage) does against hand-labelled real records.
    #[command(subcommand)]
    Classify(ClassifyCommand),
    /// Run the main job on built-in data: generate the study-size SYNTHETIC corpus, ingest the bundled
    /// real OpenAlex records, and run study queries over both.
    Demo(DemoArgs),
    /// Generate a seeded SYNTHETIC corpus (cell and gene therapy scenario by default): a Parquet
    /// dataset, or raw OpenAlex / PubMed files that `bibflow ingest` reads.
    Generate(GenerateArgs),
    /// Run a Ballista scheduler for `--engine ballista` (see docs/distributed.md): it plans each
    /// query with bibflow's session builder and hands its tasks to the executors.
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor (see docs/distributed.md): it runs a scheduler's tasks with
    /// bibflow's functions, in a bounded memory pool.
    Executor(ExecutorArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenerateFormat {
    /// A canonical bibflow dataset (Parquet tables and manifest.json).
    Parquet,
    /// An OpenAlex snapshot (`data/works/updated_date=*/part_*.gz`) for `bibflow ingest openalex`.
    OpenalexJsonl,
    /// PubMed baseline files (`pubmed26nNNNN.xml.gz`, 10,000 `PubmedArticle` records each) for
    /// `bibflow ingest pubmed`.
    PubmedXml,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of works.
    #[arg(long, default_value_t = 10_000)]
    pub works: u64,

    /// Seed: the same seed and --works give byte-identical files, whatever --threads.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Output folder (must not exist, or be empty), or a store URL such as s3://bucket/corpus
    /// (built locally, then uploaded; see docs/object-stores.md).
    #[arg(long, short)]
    pub out: PathBuf,

    /// What to write.
    #[arg(long, short, value_enum, default_value_t = GenerateFormat::Parquet)]
    pub format: GenerateFormat,

    /// Scenario TOML file (default: the built-in cell and gene therapy scenario; see
    /// docs/scenario.md).
    #[arg(long)]
    pub scenario: Option<PathBuf>,

    /// Worker threads [default: number of cores].
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum IngestSource {
    /// OpenAlex works: snapshot folders (`updated_date=*/part_*.gz`), JSON Lines (plain or gzipped),
    /// API result pages, single-work JSON files.
    Openalex(IngestArgs),
    /// PubMed/MEDLINE XML: baseline and update files (`pubmedYYnNNNN.xml.gz`), E-utilities efetch
    /// results, the older MedlineCitationSet layout. Files are applied in name order: a later
    /// version of a PMID replaces an earlier one, a DeleteCitation removes it.
    Pubmed(IngestArgs),
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Input files or folders (folders are searched recursively).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,

    /// Output dataset folder; it appears only when complete. With --update: where the updated
    /// dataset goes instead of replacing DATASET (which is then left as it is).
    #[arg(long, short, required_unless_present = "update")]
    pub out: Option<PathBuf>,

    /// Replace an existing dataset at --out (kept intact until the new one is complete).
    #[arg(long)]
    pub overwrite: bool,

    /// OpenAlex only: apply to the dataset DATASET what is new in the snapshot given as input,
    /// rather than ingesting it whole: the works/updated_date=YYYY-MM-DD partitions newer than the
    /// newest DATASET holds, and the merged_ids files it has not applied (their works are removed
    /// from every table). A work of a new partition replaces its older copy in every table. The
    /// updated dataset replaces DATASET atomically (a reader sees the old one or the new one;
    /// killed, DATASET stays as it was), unless --out names another folder. Nothing new: nothing is
    /// written and DATASET stays byte for byte as it was. A dataset made by a bibflow without this
    /// record needs one full ingest first (docs/schema.md, "Incremental update").
    #[arg(long, value_name = "DATASET")]
    pub update: Option<PathBuf>,

    /// Exit with code 3 when any record was rejected or any input was damaged; OpenAlex: a field of
    /// an unexpected type rejects its work (without --strict it is converted when nothing is lost,
    /// or set to NULL, with a warning in DATASET/_rejects/warnings/).
    #[arg(long)]
    pub strict: bool,

    /// Files read in parallel [default: number of cores].
    #[arg(long, short = 'j')]
    pub threads: Option<usize>,

    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct EngineArgs {
    /// Memory limit for what the command holds (query operators and computed views), e.g. 4GiB or
    /// 512MiB [default: 70% of the machine's memory]. Past it, sorts, aggregates and computed
    /// views spill to disk; a hash join that does not fit fails with an error.
    #[arg(long, value_parser = parse_size)]
    pub memory_limit: Option<usize>,

    /// Compute every window function by sorting on its partition keys (DataFusion's plan), also
    /// those over PARTITION BY only that bibflow computes by hashing, which does not spill.
    #[arg(long)]
    pub sort_windows: bool,

    /// Partitions each query plan runs in (DataFusion's target partitions; on a cluster, the
    /// partitions of every shuffle) [default: number of cores; 8 with --engine ballista or
    /// ballista-standalone]. Results are the same bits for any value (docs/reliability.md).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub target_partitions: Option<u16>,

    /// Where queries run (sql, query run, report; ingest and link always run here): in this
    /// process, on a Ballista cluster (`--scheduler`), or on a Ballista cluster started inside
    /// this process for the command. See docs/distributed.md.
    #[arg(long, value_enum, default_value_t = Engine::Local)]
    pub engine: Engine,

    /// The Ballista scheduler of `--engine ballista`, as df://HOST:PORT.
    #[arg(long, value_name = "URL", value_parser = SchedulerUrl::parse,
          required_if_eq("engine", "ballista"))]
    pub scheduler: Option<SchedulerUrl>,

    /// Where a cluster writes the shared views (Parquet), computed once per command and read by
    /// every query: a folder every executor can write and read, or a store URL (s3://bucket/tmp).
    /// A sub-folder of it is used and removed at the end. [default: this machine's temporary
    /// folder when the cluster runs here (standalone, or a scheduler on 127.0.0.1/localhost);
    /// otherwise none, and every query computes the views it reads again]. With the local engine
    /// the views are written there too, instead of being held in memory or the spill folder.
    #[arg(long, value_name = "DIR|URL")]
    pub views_dir: Option<String>,

    /// Print a line to stderr every SECS seconds with what the memory pool holds (bounded by
    /// --memory-limit) and the process's resident memory (RSS, Linux): how far the process is
    /// above its limit, and when; and the three operators holding the most of the pool.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub trace_memory: Option<std::time::Duration>,
}

/// `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Engine {
    /// DataFusion in this process.
    Local,
    /// A running Ballista cluster: `bibflow scheduler` and `bibflow executor` processes.
    Ballista,
    /// A Ballista scheduler and executor started inside this process.
    BallistaStandalone,
}

impl EngineArgs {
    /// The session these flags ask for.
    pub fn session_options(&self) -> SessionOptions {
        let options = SessionOptions {
            memory_limit: self.memory_limit,
            target_partitions: self.target_partitions.map(usize::from),
            sort_windows: self.sort_windows,
            views: match &self.views_dir {
                Some(dir) => ViewPlacement::Written(dir.clone()),
                None => ViewPlacement::InProcess,
            },
            ..Default::default()
        };
        let cluster = match (self.engine, &self.scheduler) {
            (Engine::Local, _) => return options,
            (Engine::Ballista, Some(url)) => Cluster::Remote(url.clone()),
            // clap requires --scheduler with --engine ballista; this is a session made in code.
            (Engine::Ballista, None) => {
                Cluster::Remote(SchedulerUrl::parse("df://127.0.0.1:50050").expect("a valid URL"))
            }
            (Engine::BallistaStandalone, _) => Cluster::Standalone,
        };
        cluster_session_options(cluster, options)
    }
}

#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// Address to listen on for clients and executors (port 0: any free port; the startup line
    /// on stderr says which).
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub bind: std::net::SocketAddr,

    /// Seconds without a poll after which an executor is taken for dead: its tasks run again on
    /// the others (executors poll at least every 5 s).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub executor_timeout: u64,

    /// Plan every window function DataFusion's way (sort by its partition keys) in the queries
    /// this scheduler plans; a client's --sort-windows does not reach the scheduler.
    #[arg(long)]
    pub sort_windows: bool,
}

#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler to register with, HOST:PORT (or df://HOST:PORT).
    #[arg(long, value_name = "HOST:PORT", value_parser = SchedulerUrl::parse_address)]
    pub scheduler: SchedulerUrl,

    /// Address to serve shuffle data and results on (Arrow Flight); other executors and clients
    /// connect to it. Port 0: a free port, said on the startup line.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub bind: std::net::SocketAddr,

    /// Memory for all of this executor's tasks together, e.g. 2GiB [default: 70% of the
    /// machine's memory]. Past it, sorts and aggregates spill to the work folder.
    #[arg(long, value_parser = parse_size)]
    pub memory_limit: Option<usize>,

    /// Folder for shuffle and spill files [default: a temporary folder, removed on exit].
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,

    /// Tasks run at once [default: number of cores].
    #[arg(long)]
    pub vcores: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Ndjson,
    Parquet,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The dataset folder.
    pub dataset: PathBuf,

    /// The SQL query.
    pub query: String,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the result to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    /// Run the query this many times in one session and print each run's time (planning and
    /// execution, results held in memory) on stderr, also with --quiet; the last run's result is
    /// written. For timing queries without process start-up and first-read costs.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,

    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    /// A dataset made by `bibflow ingest openalex` (a folder or a store URL; a dataset in a
    /// store is downloaded first).
    pub openalex: PathBuf,
    /// A dataset made by `bibflow ingest pubmed` (a folder or a store URL).
    pub pubmed: PathBuf,
    /// Output dataset folder; it appears only when complete.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Replace an existing dataset at --out.
    #[arg(long)]
    pub overwrite: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Args)]
pub struct TablesArgs {
    /// The dataset folder.
    pub dataset: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder for the demo's datasets and results.
    #[arg(long, short, default_value = "bibflow-demo")]
    pub out: PathBuf,

    /// Works in the synthetic corpus (the study has about 160,000).
    #[arg(long, default_value_t = 160_000)]
    pub works: u64,

    /// Seed of the synthetic corpus.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The dataset folder.
    #[arg(long, short)]
    pub dataset: PathBuf,

    /// Folder to write the report into: built beside it and moved into place when complete. An
    /// earlier report there is replaced; a folder holding anything else is refused.
    #[arg(long, short)]
    pub out: PathBuf,

    #[command(flatten)]
    pub queries: QueriesArg,

    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Debug, Subcommand)]
pub enum ClassifyCommand {
    /// Precision, recall and F1 (with 95% intervals) of each modality and clinical stage against
    /// the labelled set (docs/classification.md), and the records where bibflow and the labels
    /// disagree.
    Evaluate(ClassifyEvaluateArgs),
}

#[derive(Debug, Args)]
pub struct ClassifyEvaluateArgs {
    /// A modality rules file to evaluate instead of the shipped rules (format:
    /// udfs/rules/README.md).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,

    /// A labelled set of your own: a folder with records.jsonl and labels.tsv, in the formats of
    /// tests/fixtures/classification/ [default: the built-in set].
    #[arg(long, value_name = "DIR")]
    pub set: Option<PathBuf>,

    /// Classify as if no record had MeSH (as OpenAlex-only works and unindexed PubMed records are).
    #[arg(long)]
    pub without_mesh: bool,

    /// Evaluate on one part of the set's fixed split: `held-out` (a third of the records, by a
    /// hash of their id; the figures docs/classification.md reports) or `development` (the
    /// records whose disagreements rules are developed from).
    #[arg(long, value_enum)]
    pub part: Option<EvalPart>,

    /// Disagreements to list (0 for none).
    #[arg(long, default_value_t = 20)]
    pub disagreements: usize,

    /// Print the whole evaluation as JSON on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalPart {
    Development,
    HeldOut,
}

#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// One line per saved query: its name, then its title.
    List(QueryListArgs),
    /// A saved query's documentation, parameters, output columns and SQL.
    Show(QueryShowArgs),
    /// Run a saved query over a dataset.
    Run(QueryRunArgs),
    /// Run a saved query with EXPLAIN ANALYZE: the plan with each operator's rows and time.
    Explain(QueryRunArgs),
}

#[derive(Debug, Args)]
pub struct QueriesArg {
    /// A folder of your own saved queries (same format; one with a built-in's name replaces it).
    /// Its `views/` sub-folder holds views, which replace built-in views of the same name.
    #[arg(long, value_name = "DIR")]
    pub queries: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct QueryListArgs {
    #[command(flatten)]
    pub queries: QueriesArg,
}

#[derive(Debug, Args)]
pub struct QueryShowArgs {
    /// The query's name (see `bibflow query list`).
    pub name: String,
    #[command(flatten)]
    pub queries: QueriesArg,
}

#[derive(Debug, Args)]
pub struct QueryRunArgs {
    /// The query's name (see `bibflow query list`).
    pub name: String,

    /// The dataset folder.
    #[arg(long, short)]
    pub dataset: PathBuf,

    /// A parameter value, NAME=VALUE (repeatable); see `bibflow query show NAME`.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, String)>,

    /// Output format.
    #[arg(long, short, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the result to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub queries: QueriesArg,

    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `name=value` -> (name, value); the value may contain `=`.
pub fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(format!("{s:?} is not NAME=VALUE")),
    }
}

/// `4GiB`, `512MiB`, `1.5GB`, `1000000` -> bytes.
/// `--trace-memory`: seconds, at least 0.1 (e.g. `5` or `0.5`).
pub fn parse_seconds(s: &str) -> Result<std::time::Duration, String> {
    match s.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs >= 0.1 => Ok(std::time::Duration::from_secs_f64(secs)),
        _ => Err(format!(
            "{s:?} is not a number of seconds of at least 0.1, such as 5 or 0.5"
        )),
    }
}

pub fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size such as 4GiB or 512MiB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit {other:?}; use B, KiB, MiB, GiB, KB, MB or GB"
            ));
        }
    };
    Ok((value * mult) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GiB"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5GB"), Ok(1_500_000_000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3parsecs").is_err());
    }

    #[test]
    fn params() {
        assert_eq!(
            parse_param("countries=US,CN"),
            Ok(("countries".into(), "US,CN".into()))
        );
        assert_eq!(parse_param("q=a=b"), Ok(("q".into(), "a=b".into())));
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=x").is_err());
    }

    #[test]
    fn command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
