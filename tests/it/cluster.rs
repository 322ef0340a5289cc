//! bibflow on Apache DataFusion Ballista (docs/distributed.md): a real `bibflow scheduler` and two
//! `bibflow executor` processes on free 127.0.0.1 ports give the study report the local engine
//! gives (floats to 1e-9), as does the standalone engine; an executor killed in the middle of a
//! report neither hangs it nor the next query; a missing or unreachable scheduler is a clear error;
//! SIGTERM stops the processes and removes an executor's temporary work folder.
//!
//! Every test starts its own processes (killing an executor must not disturb another test) and
//! kills them by PID when it ends, whatever happened ([`Process`]'s Drop).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::common::{bibflow, bibflow_ok};

/// An executor silent this long is taken for dead by the test schedulers.
const EXECUTOR_TIMEOUT_SECS: &str = "6";

/// Memory of each test executor: the cluster stays within a few GiB.
const EXECUTOR_MEMORY: &str = "768MiB";

/// The corpus every test reads, generated once.
struct Corpus {
    dir: tempfile::TempDir,
    dataset: PathBuf,
    /// The local engine's report of it.
    local_report: PathBuf,
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let dataset = dir.path().join("corpus");
        bibflow_ok(&[
            "--quiet",
            "generate",
            "--works",
            "20000",
            "--seed",
            "11",
            "--out",
            dataset.to_str().unwrap(),
        ]);
        let local_report = dir.path().join("report-local");
        bibflow_ok(&[
            "--quiet",
            "report",
            "--dataset",
            dataset.to_str().unwrap(),
            "--out",
            local_report.to_str().unwrap(),
        ]);
        Corpus {
            dir,
            dataset,
            local_report,
        }
    })
}

/// A `bibflow` process of the test: its stderr collected (and its lines passed on until the
/// test stops listening), killed by PID when dropped.
struct Process {
    name: String,
    child: Child,
    lines: Receiver<String>,
    log: Arc<Mutex<String>>,
}

impl Process {
    fn spawn(name: &str, args: &[&str]) -> Self {
        Self::spawn_with_env(name, args, &[])
    }

    fn spawn_with_env(name: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bibflow"))
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{name} starts: {e}"));
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        let log = Arc::new(Mutex::new(String::new()));
        let log_w = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = log_w.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
                drop(l);
                let _ = tx.send(line);
            }
        });
        Self {
            name: name.to_owned(),
            child,
            lines,
            log,
        }
    }

    /// The first stderr line starting with `prefix`, within `timeout`; panics with the log
    /// otherwise (or when the process exits first).
    fn wait_for_line(&mut self, prefix: &str, timeout: Duration) -> String {
        self.wait_for(|l| l.starts_with(prefix), prefix, timeout)
    }

    /// The first stderr line `matches`, within `timeout`; panics with the log otherwise (or when
    /// the process exits first).
    fn wait_for(
        &mut self,
        matches: impl Fn(&str) -> bool,
        prefix: &str,
        timeout: Duration,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if matches(&line) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{}: no line {prefix:?} within {timeout:?}; stderr:\n{}",
                    self.name,
                    self.log()
                ),
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "{} exited ({:?}) before saying {prefix:?}; stderr:\n{}",
                    self.name,
                    self.child.try_wait(),
                    self.log()
                ),
            }
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (e.g. "-TERM") to the process by PID.
    fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.pid().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} {} ({})", self.pid(), self.name);
    }

    /// Waits up to `timeout` for the process to exit; its exit code (`None`: killed by a
    /// signal), or a panic with its log.
    fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                Instant::now() < deadline,
                "{} did not exit within {timeout:?}; stderr:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGKILL to the PID; then reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A scheduler and its executors, each on a free 127.0.0.1 port.
struct TestCluster {
    scheduler: Process,
    /// Host and port of the scheduler.
    addr: String,
    executors: Vec<Process>,
}

impl TestCluster {
    fn start(executors: usize, work: &Path) -> Self {
        Self::start_with_env(executors, work, &[])
    }

    /// A cluster whose processes get `env` (object-store credentials, say) too.
    fn start_with_env(executors: usize, work: &Path, env: &[(&str, &str)]) -> Self {
        let mut scheduler = Process::spawn_with_env(
            "scheduler",
            &[
                "scheduler",
                "--bind",
                "127.0.0.1:0",
                "--executor-timeout",
                EXECUTOR_TIMEOUT_SECS,
            ],
            env,
        );
        let line = scheduler.wait_for_line("scheduler: listening on ", Duration::from_secs(60));
        let addr = line["scheduler: listening on ".len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        assert!(addr.starts_with("127.0.0.1:"), "{line}");
        assert!(!addr.ends_with(":0"), "the chosen port is said: {line}");
        let mut cluster = Self {
            scheduler,
            addr,
            executors: Vec::new(),
        };
        for i in 0..executors {
            cluster.add_executor_with_env(&work.join(format!("executor-{i}")), env);
        }
        cluster
    }

    fn add_executor_with_env(&mut self, work_dir: &Path, env: &[(&str, &str)]) {
        let name = format!("executor {}", self.executors.len());
        // Ballista's log lines (BIBFLOW_LOG) say which tasks an executor ran.
        let mut executor = Process::spawn_with_env(
            &name,
            &[
                "executor",
                "--scheduler",
                &self.addr,
                "--memory-limit",
                EXECUTOR_MEMORY,
                "--vcores",
                "2",
                "--work-dir",
                work_dir.to_str().unwrap(),
            ],
            &[&[("BIBFLOW_LOG", "info")], env].concat(),
        );
        let line = executor.wait_for_line("executor ", Duration::from_secs(60));
        assert!(line.contains("serving on 127.0.0.1:"), "{line}");
        assert!(line.contains("memory pool 768.0 MiB"), "{line}");
        self.executors.push(executor);
    }

    fn url(&self) -> String {
        format!("df://{}", self.addr)
    }

    /// Every process's stderr, for failure messages.
    fn logs(&self) -> String {
        let mut s = format!("--- scheduler:\n{}", self.scheduler.log());
        for e in &self.executors {
            s.push_str(&format!("--- {}:\n{}", e.name, e.log()));
        }
        s
    }
}

/// `bibflow report` over the corpus with `engine_args`, into `out`; the command's output.
fn report(out: &Path, engine_args: &[&str]) -> std::process::Output {
    let c = corpus();
    let mut args = vec![
        "report",
        "--dataset",
        c.dataset.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(engine_args);
    bibflow(&args)
}

/// Compares two reports' Parquet exports as a notebook reads them (floats to 1e-9).
fn assert_same_exports(a: &Path, b: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/compare_reports.py");
    let cmp = Command::new("python3")
        .arg(&script)
        .arg(a.join("data"))
        .arg(b.join("data"))
        .output()
        .expect("python3 runs (scripts/test installs pyarrow)");
    assert!(
        cmp.status.success(),
        "exports differ:\n{}{}",
        String::from_utf8_lossy(&cmp.stdout),
        String::from_utf8_lossy(&cmp.stderr)
    );
}

/// Ballista's log line of an executor that finished a task.
const FINISHED_TASK: &str = "] Finished task";

#[test]
fn report_on_a_scheduler_and_two_executors_equals_the_local_report() {
    let c = corpus();
    let work = tempfile::tempdir().unwrap();
    let cluster = TestCluster::start(2, work.path());
    let out = c.dir.path().join("report-ballista");
    let started = Instant::now();
    let run = report(
        &out,
        &["--engine", "ballista", "--scheduler", &cluster.url()],
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "report on the cluster failed:\n{stderr}\n{}",
        cluster.logs()
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        out.join("index.html").display().to_string(),
        "stdout holds the index path only"
    );
    // Both executors ran tasks.
    for e in &cluster.executors {
        let tasks = e.log().matches(FINISHED_TASK).count();
        assert!(
            tasks > 0,
            "{} ran no task (report took {:?}):\n{}",
            e.name,
            started.elapsed(),
            cluster.logs()
        );
    }
    assert_same_exports(&c.local_report, &out);
    // The scheduler is on this machine: the views were computed once, into the temporary folder.
    assert_views_written(&stderr);
}

#[test]
fn report_on_a_cluster_over_a_dataset_in_s3_equals_the_local_report() {
    // The corpus of `corpus()` (same size and seed), generated into the loopback S3 server; the
    // scheduler and both executors read it from there with the credentials of their environment,
    // and write and read the views in a views folder there (`--views-dir s3://...`).
    let c = corpus();
    let env = crate::object_store::s3_env();
    let remote = format!("{}/corpus", crate::object_store::prefix("cluster"));
    crate::object_store::ok(crate::object_store::bibflow_s3(&[
        "--quiet", "generate", "--works", "20000", "--seed", "11", "--out", &remote,
    ]));
    let work = tempfile::tempdir().unwrap();
    let cluster = TestCluster::start_with_env(2, work.path(), &env);
    let out = c.dir.path().join("report-ballista-s3");
    // The views folder in the store too: the executors write each view there once, and every
    // query reads it back from there.
    let views = format!("{}/views", crate::object_store::prefix("cluster-views"));
    let run = crate::object_store::bibflow_s3(&[
        "report",
        "--dataset",
        &remote,
        "--out",
        out.to_str().unwrap(),
        "--engine",
        "ballista",
        "--scheduler",
        &cluster.url(),
        "--views-dir",
        &views,
    ])
    .output()
    .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "report on the cluster over S3 failed:\n{stderr}\n{}",
        cluster.logs()
    );
    assert_views_written(&stderr);
    let views_left = crate::object_store::list(&views);
    assert!(
        views_left.is_empty(),
        "the client removes its views from {views}: {views_left:?}"
    );
    for e in &cluster.executors {
        assert!(
            e.log().matches(FINISHED_TASK).count() > 0,
            "{} ran no task:\n{}",
            e.name,
            cluster.logs()
        );
    }
    assert_same_exports(&c.local_report, &out);

    // The same with the standalone engine (a scheduler and an executor in the client process).
    let out = c.dir.path().join("report-standalone-s3");
    crate::object_store::ok(crate::object_store::bibflow_s3(&[
        "--quiet",
        "report",
        "--dataset",
        &remote,
        "--out",
        out.to_str().unwrap(),
        "--engine",
        "ballista-standalone",
    ]));
    assert_same_exports(&c.local_report, &out);
}

#[test]
fn report_on_the_standalone_engine_equals_the_local_report() {
    // With a temporary folder of its own: the views are written there once (each view's line
    // says so) and read by every query, and nothing is left there when the command ends (neither
    // the views nor the standalone executor's shuffle files).
    let c = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let out = c.dir.path().join("report-standalone");
    let run = Command::new(env!("CARGO_BIN_EXE_bibflow"))
        .args(["report", "--dataset", c.dataset.to_str().unwrap(), "--out"])
        .arg(&out)
        .args(["--engine", "ballista-standalone"])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_same_exports(&c.local_report, &out);
    assert_views_written(&stderr);
    assert_empty(tmp.path());
}

#[test]
fn views_written_to_a_views_folder_give_the_local_report_and_are_removed() {
    // --views-dir with the local engine: every view written there as Parquet, read back, and
    // removed at the end.
    let c = corpus();
    let views = tempfile::tempdir().unwrap();
    let out = c.dir.path().join("report-views-dir");
    let run = report(&out, &["--views-dir", views.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert_same_exports(&c.local_report, &out);
    assert_views_written(&stderr);
    assert_empty(views.path());
}

/// Every shared view of the report's stderr was written to Parquet, none held in memory.
fn assert_views_written(stderr: &str) {
    let views: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with("view "))
        .collect();
    assert!(
        views.len() >= 5,
        "the five shared views are listed:\n{stderr}"
    );
    for line in views {
        assert!(line.contains("(written: "), "not written: {line}\n{stderr}");
    }
}

/// `dir` exists and holds nothing.
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left in {}: {left:?}", dir.display());
}

#[test]
fn an_executor_killed_during_a_report_neither_hangs_it_nor_the_next_query() {
    let c = corpus();
    let work = tempfile::tempdir().unwrap();
    let mut cluster = TestCluster::start(2, work.path());
    let out = c.dir.path().join("report-killed");
    let mut client = Process::spawn(
        "report",
        &[
            "report",
            "--dataset",
            c.dataset.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--engine",
            "ballista",
            "--scheduler",
            &cluster.url(),
        ],
    );
    // Kill executor 1 once it has finished a task (its shuffle files are then what later stages
    // read) while the report is under way.
    cluster.executors[1].wait_for(
        |l| l.contains(FINISHED_TASK),
        FINISHED_TASK,
        Duration::from_secs(120),
    );
    assert!(
        client.child.try_wait().unwrap().is_none(),
        "the report ended before executor 1 was killed:\n{}",
        client.log()
    );
    cluster.executors[1].signal("-KILL");
    assert_eq!(
        cluster.executors[1].wait_exit(Duration::from_secs(10)),
        None
    );
    let killed_at = Instant::now();

    // The report completes on executor 0, or fails with an error that says so; within a bound.
    let code = client.wait_exit(Duration::from_secs(300));
    let log = client.log();
    match code {
        Some(0) => assert_same_exports(&c.local_report, &out),
        _ => assert!(
            log.contains("error: "),
            "the report failed {:?} after the kill without an error message ({code:?}):\n{log}",
            killed_at.elapsed()
        ),
    }

    // The next query runs on what is left and gives the local engine's answer.
    let query = "SELECT count(*) AS n, sum(cited_by_count) AS c FROM works";
    let local = bibflow_ok(&["sql", c.dataset.to_str().unwrap(), query, "--format", "csv"]);
    let next = bibflow(&[
        "sql",
        c.dataset.to_str().unwrap(),
        query,
        "--format",
        "csv",
        "--engine",
        "ballista",
        "--scheduler",
        &cluster.url(),
    ]);
    assert!(
        next.status.success(),
        "the query after the kill failed:\n{}\n{}",
        String::from_utf8_lossy(&next.stderr),
        cluster.logs()
    );
    assert_eq!(String::from_utf8_lossy(&next.stdout), local);
}

#[test]
fn a_missing_or_unreachable_scheduler_is_a_clear_error() {
    let c = corpus();
    let ds = c.dataset.to_str().unwrap();
    let out = bibflow(&["sql", ds, "SELECT 1", "--engine", "ballista"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--scheduler"), "{stderr}");

    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("df://127.0.0.1:{port}");
    let started = Instant::now();
    let out = bibflow(&[
        "sql",
        ds,
        "SELECT 1",
        "--engine",
        "ballista",
        "--scheduler",
        &url,
    ]);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot reach the Ballista scheduler at {url}")),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    let out = bibflow(&[
        "sql",
        ds,
        "SELECT 1",
        "--engine",
        "ballista",
        "--scheduler",
        "h:1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("df://HOST:PORT"));
}

#[test]
fn sigterm_stops_the_scheduler_and_an_executor_which_removes_its_work_folder() {
    let work = tempfile::tempdir().unwrap();
    let mut cluster = TestCluster::start(0, work.path());
    let mut executor = Process::spawn(
        "executor",
        &[
            "executor",
            "--scheduler",
            &cluster.addr,
            "--memory-limit",
            "64MiB",
        ],
    );
    let line = executor.wait_for_line("executor ", Duration::from_secs(60));
    let folder = PathBuf::from(
        line.split("work folder ")
            .nth(1)
            .and_then(|s| s.split(';').next())
            .unwrap_or_else(|| panic!("no work folder in {line:?}")),
    );
    assert!(folder.is_dir(), "{line}");

    executor.signal("-TERM");
    assert_eq!(executor.wait_exit(Duration::from_secs(20)), Some(130));
    assert!(
        executor.log().contains("interrupted (SIGTERM)"),
        "{}",
        executor.log()
    );
    assert!(!folder.exists(), "{} left behind", folder.display());

    cluster.scheduler.signal("-TERM");
    assert_eq!(
        cluster.scheduler.wait_exit(Duration::from_secs(20)),
        Some(130)
    );
}
