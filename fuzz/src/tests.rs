//! The short runs of every target that the test suite (`scripts/test`, CI) makes, and the
//! regression inputs of fixed findings.
//!
//! Each target runs for `BIBFLOW_FUZZ_SECONDS` (default 40) from the seed `BIBFLOW_FUZZ_SEED`
//! (default: the target's fixed seed below, so that a CI run is repeatable), with a generous
//! per-input watchdog (`BIBFLOW_FUZZ_TIMEOUT_SECS`, default 60: a real hang never ends, and a
//! loaded machine must not look like one).

use std::time::Duration;

use crate::run::{self, Options, replay, repo_root};
use crate::targets::Target;

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a whole number")),
        Err(_) => default,
    }
}

fn short_run(target: Target, default_seed: u64) {
    let findings = std::env::temp_dir().join("bibflow-fuzz-findings");
    let options = Options {
        target,
        seed: env_u64("BIBFLOW_FUZZ_SEED", default_seed),
        budget: Duration::from_secs(env_u64("BIBFLOW_FUZZ_SECONDS", 40)),
        max_inputs: None,
        first: 0,
        timeout: Duration::from_secs(env_u64("BIBFLOW_FUZZ_TIMEOUT_SECS", 60)),
        max_rss_mib: env_u64("BIBFLOW_FUZZ_MAX_RSS_MIB", 4096),
        findings: findings.clone(),
        stop_at_first: false,
        save_slow: None,
        progress: None,
    };
    let s = run::run(&options).expect("the fuzz run starts");
    let listed: Vec<String> = s
        .findings
        .iter()
        .map(|f| {
            format!(
                "{:?} at input {}: {} (saved in {}; replay with scripts/fuzz replay DIR)",
                f.kind,
                f.index,
                f.message,
                f.saved
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            )
        })
        .collect();
    assert!(
        listed.is_empty(),
        "{} findings:\n{}",
        listed.len(),
        listed.join("\n")
    );
    // A run that made almost nothing tested nothing.
    assert!(
        s.inputs >= 20,
        "only {} inputs in {:?}",
        s.inputs,
        s.elapsed
    );
}

#[test]
fn fuzz_openalex_short_run() {
    short_run(Target::OpenAlex, 1);
}

#[test]
fn fuzz_pubmed_short_run() {
    short_run(Target::PubMed, 2);
}

#[test]
fn fuzz_gzip_short_run() {
    short_run(Target::Gzip, 3);
}

#[test]
fn fuzz_query_short_run() {
    short_run(Target::Query, 4);
}

#[test]
fn fuzz_parquet_short_run() {
    short_run(Target::Parquet, 5);
}

#[test]
fn fuzz_snapshot_short_run() {
    short_run(Target::Snapshot, 6);
}

/// Every input of `fuzz/regressions/` (a finding, fixed) passes now.
#[test]
fn regression_inputs_pass() {
    let dir = repo_root().join("fuzz/regressions");
    let mut ran = 0;
    for target in std::fs::read_dir(&dir).expect("fuzz/regressions exists") {
        let target = target.unwrap().path();
        if !target.is_dir() {
            continue;
        }
        for case in std::fs::read_dir(&target).unwrap() {
            let case = case.unwrap().path();
            let outcome =
                replay(&case, Duration::from_secs(120)).expect("the regression input replays");
            assert!(outcome.is_none(), "{}: {outcome:?}", case.display());
            ran += 1;
        }
    }
    assert!(ran > 0, "no regression inputs under {}", dir.display());
}

/// The generators make inputs the readers accept as well as inputs they reject: a generator whose
/// every input is broken would test only the reject path.
#[test]
fn generated_inputs_are_both_kept_and_rejected() {
    use crate::rng::Rng;
    use crate::targets::{generate, reader};
    for target in [Target::OpenAlex, Target::PubMed] {
        let seeds = target.seeds(&repo_root()).unwrap();
        let (mut ingested, mut rejected) = (0, 0);
        for i in 0..40 {
            let input = generate(target, &seeds, &mut Rng::new(run::input_seed(99, i)));
            let dir = tempfile_dir(i);
            let which = if target == Target::PubMed {
                reader::Reader::PubMed
            } else {
                reader::Reader::OpenAlex
            };
            let out = reader::run(which, &input.name, &input.bytes, &dir, 2).unwrap();
            ingested += out.counts.ingested;
            rejected += out.counts.rejected;
            std::fs::remove_dir_all(&dir).unwrap();
        }
        assert!(
            ingested > 20 && rejected > 5,
            "{target:?}: {ingested} ingested, {rejected} rejected"
        );
    }
}

/// The same for `parquet`: files read whole, and files with damage or rejected records.
#[test]
fn generated_parquet_is_both_read_and_refused() {
    use crate::rng::Rng;
    use crate::targets::{generate, reader};
    let seeds = Target::Parquet.seeds(&repo_root()).unwrap();
    let (mut ingested, mut refused) = (0, 0);
    for i in 0..40 {
        let input = generate(
            Target::Parquet,
            &seeds,
            &mut Rng::new(run::input_seed(98, i)),
        );
        let dir = tempfile_dir(1000 + i);
        let out = reader::run(reader::Reader::OpenAlex, &input.name, &input.bytes, &dir, 1)
            .unwrap_or_else(|v| panic!("input {i} ({}): {v:?}", input.note));
        ingested += out.counts.ingested;
        refused += out.counts.rejected + u64::from(out.file_error.is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
    assert!(
        ingested > 20 && refused > 5,
        "{ingested} ingested, {refused} rejected records or damaged files"
    );
}

fn tempfile_dir(i: u64) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("bibflow-fuzz-gen-{}-{i}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
