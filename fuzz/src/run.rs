//! The driver: makes inputs one after another, runs each on a worker thread under a watchdog, and
//! turns what goes wrong into findings saved to a folder with what reproduces them.
//!
//! Checked on every input, besides the target's own invariants ([`crate::targets`]):
//! - **no panic**: the run is wrapped in `catch_unwind` (a panic in a reader's own threads comes
//!   back through `std::thread::scope`, or as a `Worker` error, which the reader checks refuse);
//! - **no hang**: the driver waits at most [`Options::timeout`] for an input; past it the input
//!   is saved as a hang and the run stops (a stuck thread cannot be stopped, the process exits);
//! - **bounded memory**: inputs are cut to [`MAX_INPUT`](crate::mutate::MAX_INPUT) bytes, and the
//!   process's peak resident memory (`VmHWM`) is read after each input and must stay below
//!   [`Options::max_rss_mib`].

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use crate::error::{FuzzError, Result};
use crate::rng::Rng;
use crate::targets::{self, Input, Reached, Target, Violation};

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// Input `i` of a run is made by a generator seeded with `(seed, i)`: a finding is reproduced
    /// by its seed and index alone.
    pub seed: u64,
    /// Stop making inputs after this long.
    pub budget: Duration,
    /// Stop after this many inputs.
    pub max_inputs: Option<u64>,
    /// The first input's index (to replay one: `first = i`, `max_inputs = 1`).
    pub first: u64,
    /// Longest time one input may take.
    pub timeout: Duration,
    /// Largest peak resident memory of the process, MiB.
    pub max_rss_mib: u64,
    /// Where failing inputs are saved (`DIR/TARGET/KIND-sSEED-iINDEX/`).
    pub findings: PathBuf,
    /// Stop at the first finding.
    pub stop_at_first: bool,
    /// Inputs slower than this are saved (as `slow-...` folders) for a look, without failing.
    pub save_slow: Option<Duration>,
    /// Called with the summary so far about once a minute (a long run's progress).
    pub progress: Option<fn(&Summary)>,
}

/// What went wrong on one input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Panic,
    Hang,
    Memory,
    Violation,
    /// Not a failure: an input slower than [`Options::save_slow`].
    Slow,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Hang => "hang",
            Kind::Memory => "memory",
            Kind::Violation => "violation",
            Kind::Slow => "slow",
        }
    }
}

/// One finding, with the folder its input was saved to.
#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    pub message: String,
    pub index: u64,
    pub saved: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub target: Target,
    pub seed: u64,
    pub inputs: u64,
    pub input_bytes: u64,
    pub elapsed: Duration,
    /// The slowest input's time, and its index.
    pub slowest: Duration,
    pub slowest_index: u64,
    pub peak_rss_mib: u64,
    pub findings: Vec<Finding>,
    /// Folders of inputs saved as slow.
    pub slow: Vec<PathBuf>,
    /// The process's resident memory now, MiB (`VmRSS`): with the peak, shows a leak.
    pub rss_mib: u64,
    /// What the inputs reached, summed.
    pub reached: Reached,
}

type Job = (Input, PathBuf);
type Done = std::result::Result<std::result::Result<Reached, Violation>, String>;

/// Runs `options.target` until the budget or the input count is used up (or a hang).
pub fn run(options: &Options) -> Result<Summary> {
    let root = repo_root();
    let seeds = options.target.seeds(&root)?;
    install_panic_hook();
    let scratch = std::env::temp_dir().join(format!(
        "bibflow-fuzz-{}-{}-{}",
        std::process::id(),
        options.target.name(),
        options.seed
    ));
    std::fs::create_dir_all(&scratch).map_err(|e| FuzzError::io(&scratch, e))?;
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    let target = options.target;
    std::thread::Builder::new()
        .name(format!("fuzz-{}", target.name()))
        .spawn(move || {
            for (input, dir) in job_rx {
                IN_TARGET.with(|t| t.set(true));
                let outcome =
                    catch_unwind(AssertUnwindSafe(|| targets::execute(target, &input, &dir)))
                        .map_err(|payload| panic_message(payload.as_ref()));
                IN_TARGET.with(|t| t.set(false));
                if done_tx.send(outcome).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| FuzzError::io(&scratch, e))?;

    let start = Instant::now();
    let mut summary = Summary {
        target,
        seed: options.seed,
        inputs: 0,
        input_bytes: 0,
        elapsed: Duration::ZERO,
        slowest: Duration::ZERO,
        slowest_index: 0,
        peak_rss_mib: 0,
        findings: Vec::new(),
        slow: Vec::new(),
        rss_mib: 0,
        reached: Reached::default(),
    };
    let mut last_progress = Instant::now();
    let mut index = options.first;
    loop {
        let done = options.max_inputs.is_some_and(|m| summary.inputs >= m);
        if done || start.elapsed() >= options.budget {
            break;
        }
        let input = targets::generate(
            target,
            &seeds,
            &mut Rng::new(input_seed(options.seed, index)),
        );
        let dir = scratch.join(index.to_string());
        std::fs::create_dir_all(&dir).map_err(|e| FuzzError::io(&dir, e))?;
        summary.input_bytes += input.bytes.len() as u64;
        let began = Instant::now();
        job_tx.send((input.clone(), dir.clone())).map_err(|_| {
            FuzzError::io(&scratch, std::io::Error::other("the fuzz worker stopped"))
        })?;
        let outcome = done_rx.recv_timeout(options.timeout);
        let took = began.elapsed();
        if options.save_slow.is_some_and(|s| took > s) && matches!(outcome, Ok(Ok(Ok(_)))) {
            let message = format!("took {:.2} s", took.as_secs_f64());
            summary
                .slow
                .push(save(options, index, &input, Kind::Slow, &message)?);
        }
        if took > summary.slowest {
            summary.slowest = took;
            summary.slowest_index = index;
        }
        summary.inputs += 1;
        let found = match &outcome {
            Ok(Ok(Ok(reached))) => {
                summary.reached.add(*reached);
                None
            }
            Ok(Ok(Err(Violation(m)))) => Some((Kind::Violation, m.clone())),
            Ok(Err(panic)) => Some((Kind::Panic, panic.clone())),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(FuzzError::io(
                    &scratch,
                    std::io::Error::other("the fuzz worker thread stopped"),
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Some((
                Kind::Hang,
                format!("no result after {} s", options.timeout.as_secs_f64()),
            )),
        };
        let rss = peak_rss_mib();
        summary.peak_rss_mib = summary.peak_rss_mib.max(rss);
        if let Some(progress) = options.progress
            && last_progress.elapsed() >= Duration::from_secs(60)
        {
            last_progress = Instant::now();
            summary.elapsed = start.elapsed();
            summary.rss_mib = status_mib("VmRSS:");
            progress(&summary);
        }
        let found = found.or_else(|| {
            (rss > options.max_rss_mib).then(|| {
                (
                    Kind::Memory,
                    format!(
                        "peak resident memory {rss} MiB > {} MiB",
                        options.max_rss_mib
                    ),
                )
            })
        });
        if let Some((kind, message)) = found {
            let saved = save(options, index, &input, kind, &message)?;
            summary.findings.push(Finding {
                kind,
                message,
                index,
                saved: Some(saved),
            });
            if kind == Kind::Hang || kind == Kind::Memory || options.stop_at_first {
                break;
            }
        }
        // The folder of a hanging input may still be in use: it is left.
        let _ = std::fs::remove_dir_all(&dir);
        index += 1;
    }
    summary.elapsed = start.elapsed();
    summary.rss_mib = status_mib("VmRSS:");
    if summary.findings.iter().all(|f| f.kind != Kind::Hang) {
        let _ = std::fs::remove_dir_all(&scratch);
    }
    Ok(summary)
}

/// Replays a saved input (a finding's folder, or a regression input): runs it once under the
/// same checks. `Ok(None)`: it passes now.
pub fn replay(dir: &Path, timeout: Duration) -> Result<Option<(Kind, String)>> {
    let bad = |reason: String| FuzzError::Replay {
        path: dir.to_path_buf(),
        reason,
    };
    let meta_path = dir.join("finding.json");
    let meta: serde_json::Value = serde_json::from_slice(
        &std::fs::read(&meta_path).map_err(|e| FuzzError::io(&meta_path, e))?,
    )
    .map_err(|e| bad(format!("finding.json is not JSON: {e}")))?;
    let field = |k: &str| {
        meta[k]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("finding.json has no {k:?}")))
    };
    let target_name = field("target")?;
    let target = Target::from_name(&target_name)
        .ok_or_else(|| bad(format!("unknown target {target_name:?}")))?;
    let name = field("name")?;
    let input_path = dir.join(&name);
    let bytes = std::fs::read(&input_path).map_err(|e| FuzzError::io(&input_path, e))?;
    let plain_path = dir.join("plain");
    let plain = plain_path
        .is_file()
        .then(|| std::fs::read(&plain_path))
        .transpose()
        .map_err(|e| FuzzError::io(&plain_path, e))?;
    let input = Input {
        name,
        bytes,
        plain,
        choice_seed: meta["choice_seed"].as_u64().unwrap_or(0),
        note: field("note").unwrap_or_default(),
    };
    install_panic_hook();
    let scratch = tempfile_dir()?;
    let (tx, rx) = mpsc::channel::<Done>();
    let work = scratch.clone();
    std::thread::spawn(move || {
        IN_TARGET.with(|t| t.set(true));
        let outcome = catch_unwind(AssertUnwindSafe(|| targets::execute(target, &input, &work)))
            .map_err(|payload| panic_message(payload.as_ref()));
        let _ = tx.send(outcome);
    });
    let found = match rx.recv_timeout(timeout) {
        Ok(Ok(Ok(_))) => None,
        Ok(Ok(Err(Violation(m)))) => Some((Kind::Violation, m)),
        Ok(Err(p)) => Some((Kind::Panic, p)),
        Err(_) => Some((
            Kind::Hang,
            format!("no result after {} s", timeout.as_secs_f64()),
        )),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(found)
}

/// A fresh scratch folder for one replay.
fn tempfile_dir() -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "bibflow-fuzz-replay-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&d).map_err(|e| FuzzError::io(&d, e))?;
    Ok(d)
}

/// Saves a finding's input with `finding.json`; returns its folder.
fn save(
    options: &Options,
    index: u64,
    input: &Input,
    kind: Kind,
    message: &str,
) -> Result<PathBuf> {
    let dir = options.findings.join(options.target.name()).join(format!(
        "{}-s{}-i{index}",
        kind.name(),
        options.seed
    ));
    std::fs::create_dir_all(&dir).map_err(|e| FuzzError::io(&dir, e))?;
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).map_err(|e| FuzzError::io(&p, e))
    };
    write(&input.name, &input.bytes)?;
    if let Some(plain) = &input.plain {
        write("plain", plain)?;
    }
    let meta = serde_json::json!({
        "target": options.target.name(),
        "kind": kind.name(),
        "seed": options.seed,
        "index": index,
        "name": input.name,
        "choice_seed": input.choice_seed,
        "note": input.note,
        "message": message,
    });
    write(
        "finding.json",
        &serde_json::to_vec_pretty(&meta).expect("a Value serializes"),
    )?;
    Ok(dir)
}

/// The seed of input `index` of a run seeded with `seed`.
pub fn input_seed(seed: u64, index: u64) -> u64 {
    let mut r = Rng::new(seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    r.next_u64()
}

pub use crate::targets::repo_root;

/// The process's peak resident memory in MiB (`VmHWM` of /proc/self/status; 0 where there is none).
pub fn peak_rss_mib() -> u64 {
    status_mib("VmHWM:")
}

/// A memory figure of /proc/self/status in MiB (0 where there is none).
fn status_mib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

thread_local! {
    /// Set on a fuzz worker thread while it runs an input: its panics are findings, not noise.
    static IN_TARGET: Cell<bool> = const { Cell::new(false) };
}

/// The last panic seen on any thread: message and place (a reader thread's panic reaches the
/// worker as "a scoped thread panicked"; this keeps the original).
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Records every panic's message and place; panics of fuzz workers are not printed (the run
/// reports them), others go to the hook that was there before.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let place = info
                .location()
                .map(|l| format!(" at {}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let text = format!("{}{place}", payload_text(info.payload()));
            if let Ok(mut last) = LAST_PANIC.lock() {
                *last = Some(text);
            }
            if !IN_TARGET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// A caught panic's message, with the place of the last panic when that was this one (or the
/// original panic of a reader thread, when this one only passes it on).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let own = payload_text(payload);
    let last = LAST_PANIC.lock().ok().and_then(|l| l.clone());
    match last {
        Some(l) if l.starts_with(&own) => l,
        Some(l) => format!("{own} (last panic: {l})"),
        None => own,
    }
}
