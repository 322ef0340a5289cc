//! The fuzz targets: what an input is made from (seeds of real records, mutated), and what is
//! run and checked on it.
//!
//! | target | input | run | checked |
//! |---|---|---|---|
//! | `openalex` | JSON Lines of works or API pages, an API page, a single work, an array of works | the OpenAlex reader (ingest stage one) | [`reader`]'s invariants |
//! | `pubmed` | a `PubmedArticleSet` (articles, books, deletions), a `MedlineCitationSet`, a whole file | the PubMed splitter, parser threads and appender | [`reader`]'s invariants |
//! | `gzip` | either of the above, gzipped in 1..4 members, with framing damage half the time | the decompressing reader of ingest, then the reader | [`reader`]'s invariants; undamaged: the same outcome as the payload read plain |
//! | `query` | a saved query file (TOML header + SQL) | `SavedQuery::parse`, `bind`, `bind_toml` | [`query`]'s invariants |
//! | `snapshot` | a small 2026 snapshot (the fixture's works parts) with a fuzzed control file: its combined `manifest.json` (JSON and byte edits) or a `merged_ids/works/` CSV file (byte edits; gzipped half the time) | ingest stage one over the snapshot folder | [`snapshot`]'s invariants |
//! | `parquet` | OpenAlex's Parquet copy: works (mutated half the time) written by a Parquet writer, or a real-layout fixture file with byte damage | the OpenAlex reader of `.parquet` parts | [`reader`]'s invariants |

pub mod query;
pub mod reader;
mod seeds;
pub mod snapshot;

use std::path::Path;

use crate::error::Result;
use crate::mutate::{self, MAX_INPUT, gzip, json, xml};
use crate::rng::Rng;
use reader::Reader;
pub use seeds::Seeds;

/// The repository the seeds (and the `snapshot` target's works parts) are read from: where this
/// crate was built.
pub fn repo_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the fuzz crate sits in the repository")
        .to_path_buf()
}

/// A broken promise found on one input (panics and hangs are found by the runner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

/// What inputs reached, summed over a run: shows that they take the readers' paths (records
/// kept, rejected, repaired, files damaged; queries parsed and bound), not only the first refusal.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reached {
    pub ingested: u64,
    pub rejected: u64,
    pub warnings: u64,
    /// Inputs read as damaged files (a broken gzip stream).
    pub damaged: u64,
    /// Query files parsed, and bindings accepted.
    pub parsed: u64,
    pub bound: u64,
}

impl Reached {
    /// Adds `o` to these counts.
    pub fn add(&mut self, o: Reached) {
        self.ingested += o.ingested;
        self.rejected += o.rejected;
        self.warnings += o.warnings;
        self.damaged += o.damaged;
        self.parsed += o.parsed;
        self.bound += o.bound;
    }

    fn of(o: &reader::Outcome) -> Reached {
        Reached {
            ingested: o.counts.ingested,
            rejected: o.counts.rejected,
            warnings: o.counts.warnings,
            damaged: u64::from(o.file_error.is_some()),
            ..Reached::default()
        }
    }
}

/// A fuzz target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    OpenAlex,
    PubMed,
    Gzip,
    Query,
    Parquet,
    Snapshot,
}

impl Target {
    /// Every target, in the order `scripts/fuzz all` runs them.
    pub const ALL: [Target; 6] = [
        Target::OpenAlex,
        Target::PubMed,
        Target::Gzip,
        Target::Query,
        Target::Parquet,
        Target::Snapshot,
    ];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::OpenAlex => "openalex",
            Target::PubMed => "pubmed",
            Target::Gzip => "gzip",
            Target::Query => "query",
            Target::Parquet => "parquet",
            Target::Snapshot => "snapshot",
        }
    }

    /// The target of a name.
    pub fn from_name(name: &str) -> Option<Target> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Loads this target's seeds from the repository at `root`.
    pub fn seeds(self, root: &Path) -> Result<Seeds> {
        Seeds::load(self, root)
    }
}

/// One generated input: the file name it is read as (which decides the reader's mode), its
/// bytes, and the seed of the random choices the run makes beyond the bytes.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub bytes: Vec<u8>,
    /// For `gzip`: the plain payload when the framing is undamaged (it must read the same).
    pub plain: Option<Vec<u8>>,
    /// Parameter choices of `query`.
    pub choice_seed: u64,
    /// What was done to the framing (`gzip`).
    pub note: String,
}

/// Makes the next input of `target` from `seeds`: one draw of `rng` per input.
pub fn generate(target: Target, seeds: &Seeds, rng: &mut Rng) -> Input {
    let choice_seed = rng.next_u64();
    let (name, bytes, plain, note) = match target {
        Target::OpenAlex => {
            let (name, bytes) = openalex(seeds, rng, true);
            (name, bytes, None, String::new())
        }
        Target::PubMed => (
            "input.xml".to_owned(),
            pubmed(seeds, rng, true),
            None,
            String::new(),
        ),
        Target::Gzip => {
            let mutated = rng.chance(1, 2);
            let (name, payload) = if rng.chance(1, 2) {
                openalex(seeds, rng, mutated)
            } else {
                ("input.xml".to_owned(), pubmed(seeds, rng, mutated))
            };
            let framed = gzip::frame(rng, &payload);
            let plain = (!framed.damaged).then_some(payload);
            (
                format!("{name}.gz"),
                framed.bytes,
                plain,
                framed.edits.join("; "),
            )
        }
        Target::Query => {
            let mut text = rng.pick(&seeds.queries).clone();
            if rng.chance(3, 4) {
                mutate::query::mutate(rng, &mut text, 4);
            }
            let mut bytes = text.into_bytes();
            if rng.chance(1, 3) {
                let donor = rng.pick(&seeds.queries).as_bytes();
                mutate::bytes(rng, &mut bytes, donor, mutate::query::DICT, 4);
            }
            ("input.sql".to_owned(), bytes, None, String::new())
        }
        Target::Parquet => {
            let (bytes, note) = parquet_input(seeds, rng);
            ("input.parquet".to_owned(), bytes, None, note)
        }
        Target::Snapshot => {
            let (name, bytes) = snapshot_input(seeds, rng);
            (name, bytes, None, String::new())
        }
    };
    Input {
        name,
        bytes,
        plain,
        choice_seed,
        note,
    }
}

/// Runs `input` on `target`, in the empty folder `dir`.
pub fn execute(target: Target, input: &Input, dir: &Path) -> Result<Reached, Violation> {
    match target {
        Target::OpenAlex => {
            let lenient = reader::run(Reader::OpenAlex, &input.name, &input.bytes, dir, 1)?;
            // One input in four is read strictly too: the same records, fewer kept.
            if input.choice_seed.is_multiple_of(4) {
                let strict_dir = sub_dir(dir, "strict")?;
                let strict = reader::run(
                    Reader::OpenAlexStrict,
                    &input.name,
                    &input.bytes,
                    &strict_dir,
                    1,
                )?;
                if strict.counts.read != lenient.counts.read
                    || strict.counts.ingested > lenient.counts.ingested
                {
                    return Err(Violation(format!(
                        "the strict reader counts {:?}, the lenient one {:?}: both must read the same records, the strict one keeping no more",
                        strict.counts, lenient.counts
                    )));
                }
            }
            Ok(Reached::of(&lenient))
        }
        Target::PubMed => {
            let two = reader::run(Reader::PubMed, &input.name, &input.bytes, dir, 2)?;
            // One input in four is read with one parser thread and with four: the same outcome.
            if input.choice_seed.is_multiple_of(4) {
                let one = reader::run(
                    Reader::PubMed,
                    &input.name,
                    &input.bytes,
                    &sub_dir(dir, "one")?,
                    1,
                )?;
                let four = reader::run(
                    Reader::PubMed,
                    &input.name,
                    &input.bytes,
                    &sub_dir(dir, "four")?,
                    4,
                )?;
                if one != two || one != four {
                    return Err(Violation(format!(
                        "the outcome depends on the parser threads: 1: {one:?}; 2: {two:?}; 4: {four:?}"
                    )));
                }
            }
            Ok(Reached::of(&two))
        }
        Target::Gzip => {
            let which = if input.name.ends_with(".xml.gz") {
                Reader::PubMed
            } else {
                Reader::OpenAlex
            };
            let zipped = reader::run(which, &input.name, &input.bytes, dir, 2)?;
            let Some(plain) = &input.plain else {
                return Ok(Reached::of(&zipped));
            };
            if let Some(e) = &zipped.file_error {
                return Err(Violation(format!(
                    "undamaged gzip framing was reported damaged: {e}"
                )));
            }
            let name = input.name.trim_end_matches(".gz");
            let unzipped = reader::run(which, name, plain, &sub_dir(dir, "plain")?, 2)?;
            if zipped.counts != unzipped.counts || zipped.rejects != unzipped.rejects {
                return Err(Violation(format!(
                    "the gzip file ({}) reads differently from its payload read plain: {:?} vs {:?}",
                    input.note, zipped, unzipped
                )));
            }
            Ok(Reached::of(&zipped))
        }
        Target::Query => {
            let text = String::from_utf8_lossy(&input.bytes);
            query::run(&text, &mut Rng::new(input.choice_seed))
        }
        Target::Parquet => {
            let o = reader::run(Reader::OpenAlex, &input.name, &input.bytes, dir, 1)?;
            Ok(Reached::of(&o))
        }
        Target::Snapshot => snapshot::run(&input.name, &input.bytes, dir),
    }
}

/// Tokens of merged-ids CSV files.
const MERGED_DICT: &[&[u8]] = &[
    b",",
    b"\n",
    b"\r\n",
    b"W",
    b"https://openalex.org/W",
    b"merge_date,id,merge_into_id",
    b"id",
    b"merge_into_id",
    b"2026-06-01",
    b"\"",
];

/// A control file of a snapshot: the combined manifest, or a merged-ids CSV file (its lines made
/// of the fixtures' work ids).
fn snapshot_input(seeds: &Seeds, rng: &mut Rng) -> (String, Vec<u8>) {
    if rng.chance(1, 2) {
        let mut m = rng.pick(&seeds.manifests).clone();
        if rng.chance(3, 4) {
            let donor = rng.pick(&seeds.manifests).clone();
            json::mutate(rng, &mut m, &donor, 4);
        }
        let mut bytes = serde_json::to_vec_pretty(&m).expect("a Value serializes");
        if rng.chance(1, 3) {
            let donor = bytes.clone();
            mutate::bytes(rng, &mut bytes, &donor, json::DICT, 4);
        }
        return ("manifest.json".to_owned(), bytes);
    }
    let mut text = String::from("merge_date,id,merge_into_id\n");
    for _ in 0..1 + rng.below(6) {
        let id = |rng: &mut Rng| {
            let full = rng.pick(&seeds.work_ids).clone();
            if rng.chance(1, 2) {
                full.rsplit('/').next().unwrap_or_default().to_owned()
            } else {
                full
            }
        };
        let (a, b) = (id(rng), id(rng));
        text.push_str(&format!("2026-06-01,{a},{b}\n"));
    }
    let mut bytes = text.into_bytes();
    if rng.chance(2, 3) {
        let donor = bytes.clone();
        mutate::bytes(rng, &mut bytes, &donor, MERGED_DICT, 4);
    }
    if rng.chance(1, 2) {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&bytes).expect("writing to memory");
        return (
            "merged.csv.gz".to_owned(),
            gz.finish().expect("writing to memory"),
        );
    }
    ("merged.csv".to_owned(), bytes)
}

/// OpenAlex's Parquet copy, and what was done to it: half the time works (some mutated) written
/// by Arrow's Parquet writer with a schema inferred from them, so the file is valid and its
/// values odd; otherwise a fixture file (pyarrow's, snappy, nested) with byte damage.
fn parquet_input(seeds: &Seeds, rng: &mut Rng) -> (Vec<u8>, String) {
    if rng.chance(1, 2) {
        let k = 1 + rng.below(6);
        let works: Vec<serde_json::Value> =
            (0..k).map(|_| rng.pick(&seeds.works).clone()).collect();
        let mut mutated = works.clone();
        for w in &mut mutated {
            if rng.chance(1, 2) {
                let donor = rng.pick(&seeds.works);
                json::mutate(rng, w, donor, 4);
            }
        }
        // Mutations can nest values deeply; Arrow's schema inference and writers recurse per
        // level, and this runs on the driver's thread (2 MiB of stack in a test).
        if mutated.iter().all(|w| depth(w) <= MAX_DEPTH)
            && let Some(bytes) = parquet_of(&mutated)
        {
            return (bytes, format!("{k} works, mutated, written as Parquet"));
        }
        // Mutated values Arrow cannot put in one schema (a field both a list and a number):
        // the works as they were.
        if let Some(bytes) = parquet_of(&works) {
            return (bytes, format!("{k} works written as Parquet"));
        }
    }
    let mut bytes = rng.pick(&seeds.parquet).clone();
    let donor = rng.pick(&seeds.parquet).clone();
    mutate::bytes(rng, &mut bytes, &donor, &[b"PAR1".as_slice()], 4);
    (bytes, "a fixture file with byte edits".to_owned())
}

/// The deepest nesting of works written as Parquet (the fixtures' works nest 5 deep).
const MAX_DEPTH: usize = 16;

/// How deep `v` nests arrays and objects (a scalar: 0).
fn depth(v: &serde_json::Value) -> usize {
    match v {
        serde_json::Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        serde_json::Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// `works` as one Parquet file (schema inferred from them), or `None` when Arrow cannot infer
/// one schema for them or write it.
fn parquet_of(works: &[serde_json::Value]) -> Option<Vec<u8>> {
    let schema = arrow::json::reader::infer_json_schema_from_iterator(works.iter().map(Ok)).ok()?;
    let schema = std::sync::Arc::new(schema);
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .build_decoder()
        .ok()?;
    decoder.serialize(works).ok()?;
    let batch = decoder.flush().ok()??;
    let mut out = Vec::new();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut out, schema, None).ok()?;
    writer.write(&batch).ok()?;
    writer.close().ok()?;
    Some(out)
}

/// A new folder `dir/name`.
fn sub_dir(dir: &Path, name: &str) -> Result<std::path::PathBuf, Violation> {
    let d = dir.join(name);
    std::fs::create_dir(&d)
        .map_err(|e| Violation(format!("cannot create {}: {e}", d.display())))?;
    Ok(d)
}

/// OpenAlex text in one of its shapes; `mutated`: with structural and byte edits.
fn openalex(seeds: &Seeds, rng: &mut Rng, mutated: bool) -> (String, Vec<u8>) {
    if mutated && rng.chance(1, 8) {
        // A whole small seed file, byte edits only.
        let mut bytes = rng.pick(&seeds.files).clone();
        let donor = rng.pick(&seeds.files);
        mutate::bytes(rng, &mut bytes, donor, json::DICT, 8);
        return ("input.json".to_owned(), bytes);
    }
    let k = 1 + rng.below(6);
    let mut works: Vec<serde_json::Value> =
        (0..k).map(|_| rng.pick(&seeds.works).clone()).collect();
    if mutated {
        for w in &mut works {
            if rng.chance(1, 2) {
                let donor = rng.pick(&seeds.works);
                json::mutate(rng, w, donor, 4);
            }
        }
    }
    let meta = rng.pick(&seeds.metas).clone();
    let page =
        |works: Vec<serde_json::Value>| serde_json::json!({ "meta": meta, "results": works });
    let (name, mut bytes) = match rng.below(5) {
        0 => {
            let mut text = Vec::new();
            for w in &works {
                text.extend(serde_json::to_vec(w).expect("a Value serializes"));
                text.extend_from_slice(if rng.chance(1, 8) { b"\n\n" } else { b"\n" });
            }
            let name = if rng.chance(1, 2) {
                "input.jsonl"
            } else {
                "input.json"
            };
            (name, text)
        }
        1 => {
            let mut text = Vec::new();
            let split = rng.below(works.len() + 1);
            let rest = works.split_off(split);
            for part in [works, rest] {
                text.extend(serde_json::to_vec(&page(part)).expect("a Value serializes"));
                text.push(b'\n');
            }
            ("input.jsonl", text)
        }
        2 => {
            let p = page(works);
            let text = if rng.chance(1, 2) {
                serde_json::to_vec_pretty(&p)
            } else {
                serde_json::to_vec(&p)
            };
            ("input.json", text.expect("a Value serializes"))
        }
        3 => (
            "input.json",
            serde_json::to_vec_pretty(&works[0]).expect("a Value serializes"),
        ),
        _ => (
            "input.json",
            serde_json::to_vec_pretty(&works).expect("a Value serializes"),
        ),
    };
    if mutated && rng.chance(1, 2) {
        let donor = serde_json::to_vec(rng.pick(&seeds.works)).expect("a Value serializes");
        mutate::bytes(rng, &mut bytes, &donor, json::DICT, 4);
    }
    bytes.truncate(MAX_INPUT);
    (name.to_owned(), bytes)
}

/// PubMed XML; `mutated`: with element and byte edits.
fn pubmed(seeds: &Seeds, rng: &mut Rng, mutated: bool) -> Vec<u8> {
    let mut text = match rng.below(8) {
        0 if mutated => rng.pick(&seeds.files).clone(),
        1 | 2 => {
            // One in six is long: past 256 records, the PubMed reader's chunk, so that several
            // chunks are parsed on several threads and put back in order.
            let records = if rng.chance(1, 6) {
                256 + rng.below(64)
            } else {
                1 + rng.below(6)
            };
            let mut t =
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<MedlineCitationSet>\n".to_vec();
            for _ in 0..records {
                t.extend_from_slice(rng.pick::<Vec<u8>>(&seeds.medline));
                t.push(b'\n');
            }
            t.extend_from_slice(b"</MedlineCitationSet>\n");
            t
        }
        r => {
            // One input in eight is long (up to the size cap): records cut at buffer boundaries.
            let records = if r == 3 {
                100 + rng.below(200)
            } else {
                1 + rng.below(6)
            };
            let mut t = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE PubmedArticleSet PUBLIC \"-//NLM//DTD PubMedArticle, 1st January 2025//EN\" \"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd\">\n<PubmedArticleSet>\n".to_vec();
            for _ in 0..records {
                t.extend_from_slice(rng.pick::<Vec<u8>>(&seeds.records));
                t.push(b'\n');
            }
            t.extend_from_slice(b"</PubmedArticleSet>\n");
            t
        }
    };
    if mutated {
        if rng.chance(3, 4) {
            xml::mutate(rng, &mut text, 4);
        }
        if rng.chance(1, 2) {
            let donor = rng.pick(&seeds.records);
            mutate::bytes(rng, &mut text, donor, xml::DICT, 4);
        }
    }
    text.truncate(MAX_INPUT);
    text
}
