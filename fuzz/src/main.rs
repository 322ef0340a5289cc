//! `bibflow-fuzz`: runs a fuzz target for a while, or replays saved inputs. `scripts/fuzz` builds
//! and runs it; docs/reliability.md says how to use it.
//!
//! ```text
//! bibflow-fuzz TARGET|all [--minutes N | --seconds N] [--seed S] [--inputs N] [--first I]
//!              [--timeout-secs N] [--max-rss-mib N] [--findings DIR] [--stop-at-first]
//!              [--save-slow SECS]
//! bibflow-fuzz replay DIR...
//! ```
//!
//! Exit codes: 0 nothing found, 1 a finding (or a replayed input that still fails), 2 a usage or
//! set-up error. The summary goes to stdout, progress and findings to stderr.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bibflow_fuzz::run::{self, Options, Summary};
use bibflow_fuzz::targets::Target;

const USAGE: &str = "usage: bibflow-fuzz TARGET|all [--minutes N | --seconds N] [--seed S] [--inputs N] \
[--first I] [--timeout-secs N] [--max-rss-mib N] [--findings DIR] [--stop-at-first] [--save-slow SECS]\n       \
bibflow-fuzz replay DIR...\ntargets: openalex, pubmed, gzip, query, parquet, snapshot";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match main_args(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn main_args(args: &[String]) -> Result<ExitCode, String> {
    let Some(first) = args.first() else {
        return Err("no target given".into());
    };
    if first == "replay" {
        return replay(&args[1..]);
    }
    let targets: Vec<Target> = if first == "all" {
        Target::ALL.to_vec()
    } else {
        vec![Target::from_name(first).ok_or_else(|| format!("unknown target {first:?}"))?]
    };
    let mut seconds = 60.0;
    let mut seed = None;
    let mut max_inputs = None;
    let mut start = 0;
    let mut timeout = 10;
    let mut max_rss_mib = 4096;
    let mut findings = PathBuf::from("fuzz/findings");
    let mut stop_at_first = false;
    let mut save_slow = None;
    let mut it = args[1..].iter();
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: not a number: {v:?}"))
        };
        let whole = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: not a whole number: {v:?}"))
        };
        match flag.as_str() {
            "--minutes" => seconds = number(value()?)? * 60.0,
            "--seconds" => seconds = number(value()?)?,
            "--seed" => seed = Some(whole(value()?)?),
            "--inputs" => max_inputs = Some(whole(value()?)?),
            "--first" => start = whole(value()?)?,
            "--timeout-secs" => timeout = whole(value()?)?,
            "--max-rss-mib" => max_rss_mib = whole(value()?)?,
            "--findings" => findings = PathBuf::from(value()?),
            "--stop-at-first" => stop_at_first = true,
            "--save-slow" => save_slow = Some(Duration::from_secs_f64(number(value()?)?)),
            other => return Err(format!("unknown flag {other:?}")),
        }
    }
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err("the time budget must be a positive number".into());
    }
    let seed = seed.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
    });
    let mut found = false;
    for target in targets {
        let options = Options {
            target,
            seed,
            budget: Duration::from_secs_f64(seconds),
            max_inputs,
            first: start,
            timeout: Duration::from_secs(timeout),
            max_rss_mib,
            findings: findings.clone(),
            stop_at_first,
            save_slow,
            progress: Some(progress),
        };
        eprintln!(
            "fuzzing {} for {seconds} s, seed {seed} (inputs {start}..); findings go to {}",
            target.name(),
            findings.display()
        );
        let summary = run::run(&options).map_err(|e| e.to_string())?;
        report(&summary);
        found |= !summary.findings.is_empty();
    }
    Ok(if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress(s: &Summary) {
    eprintln!(
        "{}: {} inputs in {:.0} s, {} findings, RSS {} MiB (peak {} MiB)",
        s.target.name(),
        s.inputs,
        s.elapsed.as_secs_f64(),
        s.findings.len(),
        s.rss_mib,
        s.peak_rss_mib
    );
}

fn report(s: &Summary) {
    println!(
        "{}: {} inputs ({:.1} MiB) in {:.0} s, {:.0} inputs/s; slowest input {:.2} s (input {}); peak RSS {} MiB; {} findings (seed {})",
        s.target.name(),
        s.inputs,
        s.input_bytes as f64 / (1 << 20) as f64,
        s.elapsed.as_secs_f64(),
        s.inputs as f64 / s.elapsed.as_secs_f64().max(1e-9),
        s.slowest.as_secs_f64(),
        s.slowest_index,
        s.peak_rss_mib,
        s.findings.len(),
        s.seed,
    );
    let r = s.reached;
    println!(
        "  reached: {} records ingested, {} rejected, {} field warnings, {} damaged files; {} query files parsed, {} bindings accepted",
        r.ingested, r.rejected, r.warnings, r.damaged, r.parsed, r.bound
    );
    for p in &s.slow {
        eprintln!("slow input saved in {}", p.display());
    }
    for f in &s.findings {
        let saved = f
            .saved
            .as_ref()
            .map_or(String::new(), |p| p.display().to_string());
        eprintln!("finding ({:?}) at input {}: {}", f.kind, f.index, f.message);
        eprintln!(
            "  saved in {saved}\n  reproduce: scripts/fuzz replay {saved}\n         or: scripts/fuzz {} --seed {} --first {} --inputs 1",
            s.target.name(),
            s.seed,
            f.index
        );
    }
}

fn replay(dirs: &[String]) -> Result<ExitCode, String> {
    if dirs.is_empty() {
        return Err("replay needs a finding's folder".into());
    }
    let mut failed = false;
    for d in dirs {
        match run::replay(&PathBuf::from(d), Duration::from_secs(60)).map_err(|e| e.to_string())? {
            None => println!("{d}: passes"),
            Some((kind, message)) => {
                failed = true;
                println!("{d}: fails ({kind:?}): {message}");
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
