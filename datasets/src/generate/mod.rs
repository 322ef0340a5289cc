//! The seeded generator of realistic, SYNTHETIC bibliographic corpora.
//!
//! [`generate_parquet`] writes a canonical dataset folder directly (every table, plus a
//! `manifest.json` with `synthetic: true`); [`generate_openalex_jsonl`] writes the same works as
//! an OpenAlex snapshot (`works/updated_date=YYYY-MM-DD/part_NNN.gz` and its `manifest`) that
//! `bibflow ingest openalex` reads; [`generate_pubmed_xml`] writes them as PubMed baseline files
//! (`pubmed26nNNNN.xml.gz`) that `bibflow ingest pubmed` reads. What is generated is driven by a [`Scenario`]; the default,
//! [`Scenario::cgt`], mimics the cell and gene therapy study (see `docs/scenario.md`).
//!
//! Determinism: every work draws from streams seeded by (seed, work index) alone, works are
//! written in fixed blocks of [`BLOCK_WORKS`] (one part file per block, named by block index),
//! and floating-point sums are taken in block order, so the same seed and size give
//! byte-identical Parquet and gzip files whatever the thread count. Memory is bounded by the
//! block size times the threads, whatever the corpus size.
//!
//! ```
//! use std::sync::atomic::AtomicU64;
//! use bibflow_datasets::generate::{GenerateOptions, Scenario, generate_parquet};
//! let dir = tempfile::tempdir().unwrap();
//! let out = dir.path().join("synthetic");
//! let opts = GenerateOptions { works: 200, seed: 7, threads: 2, scenario: Scenario::cgt() };
//! let (manifest, cleaned) = generate_parquet(&opts, &out, &AtomicU64::new(0)).unwrap();
//! assert!(cleaned.is_empty()); // nothing left beside `out` by killed runs
//! assert!(manifest.synthetic);
//! assert_eq!(manifest.tables["works"].rows, 200);
//! ```

mod model;
mod openalex;
mod parquet;
mod pubmed;
mod rng;
mod scenario;
mod work;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

pub use model::{Core, Model};
pub use openalex::generate_openalex_jsonl;
pub use parquet::generate_parquet;
pub use pubmed::{PUBMED_FILE_RECORDS, generate_pubmed_xml};
pub use rng::{Cumulative, Permutation, Rng, SplitMix64};
pub use scenario::{CGT_TOML, Curve, Scenario};
pub use work::{PMID_BASE, SynthWork, WORK_ID_BASE, synthesize};

use crate::error::{DatasetError, Result};
use crate::outdir::{Cleanup, Staging};

/// Works per block: the unit of work for a thread and of output (one part file per block).
/// Changing it changes the files, so it is fixed.
#[cfg(not(test))]
pub const BLOCK_WORKS: u64 = 20_000;
/// Small blocks in unit tests, so that small corpora still span several blocks.
#[cfg(test)]
pub const BLOCK_WORKS: u64 = 1_500;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Number of works.
    pub works: u64,
    /// The seed: same seed and `works` give the same corpus, byte for byte.
    pub seed: u64,
    /// Worker threads (does not change the output).
    pub threads: usize,
    /// What the corpus looks like.
    pub scenario: Scenario,
}

impl GenerateOptions {
    /// The default CGT scenario with `works` works and `seed`, on all cores.
    pub fn new(works: u64, seed: u64) -> Self {
        Self {
            works,
            seed,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            scenario: Scenario::cgt(),
        }
    }

    /// Builds the model (tables and the attractiveness pre-pass).
    pub fn model(&self) -> Result<Model> {
        Model::new(&self.scenario, self.seed, self.works, self.threads.max(1))
    }
}

/// Runs `f` over blocks `0..blocks` on `threads` threads; results come back in block order.
pub(crate) fn run_blocks<T: Send>(
    blocks: u64,
    threads: usize,
    f: impl Fn(u64) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let next = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..blocks).map(|_| None).collect());
    let first_error: Mutex<Option<DatasetError>> = Mutex::new(None);
    let threads = threads.clamp(1, blocks.max(1) as usize);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        let b = next.fetch_add(1, Ordering::Relaxed);
                        if b >= blocks {
                            break;
                        }
                        match f(b) {
                            Ok(v) => results.lock().expect("not poisoned")[b as usize] = Some(v),
                            Err(e) => {
                                stop.store(true, Ordering::Relaxed);
                                first_error.lock().expect("not poisoned").get_or_insert(e);
                            }
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            if h.join().is_err() {
                stop.store(true, Ordering::Relaxed);
                first_error
                    .lock()
                    .expect("not poisoned")
                    .get_or_insert(DatasetError::Worker("a generator thread panicked".into()));
            }
        }
    });
    if let Some(e) = first_error.into_inner().expect("not poisoned") {
        return Err(e);
    }
    Ok(results
        .into_inner()
        .expect("not poisoned")
        .into_iter()
        .map(|r| r.expect("every block ran"))
        .collect())
}

/// A staging folder beside `out` (locked, with what dead runs left beside it removed:
/// [`Staging::begin`]) and the folder inside it to build in; [`publish`] moves that to `out`.
/// `out` must not exist or be an empty folder.
pub(crate) fn staging_dir(out: &Path) -> Result<(Staging, PathBuf)> {
    let staging = Staging::begin(out)?;
    let out = staging.out();
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(DatasetError::BadInput {
                path: out.to_path_buf(),
                reason: "already exists; remove it or choose another output folder".into(),
            });
        }
        std::fs::remove_dir(out).map_err(|e| DatasetError::write(out, e))?;
    }
    let tmp = staging.path().join("out");
    std::fs::create_dir_all(&tmp).map_err(|e| DatasetError::write(&tmp, e))?;
    Ok((staging, tmp))
}

/// Moves a finished folder into place; returns what was cleaned up beside it first.
pub(crate) fn publish(staging: Staging, tmp: &Path) -> Result<Vec<Cleanup>> {
    staging.publish(tmp, false)
}
