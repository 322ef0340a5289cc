//! Failures reported as errors (issue 22): a panic inside DataFusion or on bibflow's main thread,
//! a read-only output folder, a full disk and a missing input. Each fails with exit code 1 and an
//! error that says what happened (and names the path), leaves nothing partial behind, and prints
//! no Rust panic report or backtrace unless `RUST_BACKTRACE` asks for one.
//!
//! Read-only and full places are tmpfs mounts made by the test when it runs as root (permission
//! bits do not stop root); as another user, a folder without write permission stands in for the
//! read-only one. Where the machine refuses the mount (root without CAP_SYS_ADMIN, or a user for
//! the full disk), those two tests print SKIPPED with the reason (as issue 22 allows) and pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::bibflow_ok;

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs bibflow with `envs` set and RUST_BACKTRACE unset unless given.
fn bibflow_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bibflow"));
    cmd.args(args).env_remove("RUST_BACKTRACE");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("bibflow runs")
}

/// Asserts a failure with exit code 1, no Rust panic report and no backtrace; returns stderr.
fn failed_cleanly(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.lines().any(|l| l.starts_with("error: ")), "{stderr}");
    assert!(!stderr.contains("stack backtrace"), "{stderr}");
    assert!(
        !stderr.contains("panicked at"),
        "a Rust panic report: {stderr}"
    );
    assert!(
        !stderr.contains("RUST_BACKTRACE=1` environment"),
        "{stderr}"
    );
    stderr
}

fn small_dataset(dir: &Path) -> PathBuf {
    let ds = dir.join("ds");
    bibflow_ok(&["--quiet", "generate", "--works", "300", "--out", &s(&ds)]);
    ds
}

/// A window top-N that DataFusion 55.2 plans with `k = 0` when `enable_window_topn` is on, and
/// then panics on ("PartitionedTopK requires k > 0") in a task of its own.
const TOPN_ZERO: &str = "SELECT * FROM (SELECT work_id, publication_year, row_number() OVER \
    (PARTITION BY publication_year ORDER BY work_id) AS rn FROM works) WHERE rn < 1";

#[test]
fn a_panic_inside_datafusion_is_an_internal_error_with_the_query() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = small_dataset(tmp.path());
    let topn = [("DATAFUSION_OPTIMIZER_ENABLE_WINDOW_TOPN", "true")];
    for extra in [&[][..], &["--sort-windows"][..]] {
        let mut args = vec!["sql", ds.to_str().unwrap(), TOPN_ZERO];
        args.extend(extra);
        let out = bibflow_env(&args, &topn);
        let stderr = failed_cleanly(&out);
        assert!(
            stderr.contains("internal DataFusion failure"),
            "{extra:?}: {stderr}"
        );
        assert!(
            stderr.contains("PartitionedTopK requires k > 0"),
            "{stderr}"
        );
        assert!(stderr.contains(&format!("query: {TOPN_ZERO}")), "{stderr}");
        // Where it panicked, in one line, from the crate's folder on (the registry's
        // `datafusion-physical-plan-55.2.0/`, or `vendor/datafusion-physical-plan/` while bibflow
        // builds that crate with a patch of its own: vendor/README.md).
        assert!(
            stderr.contains("panicked: thread '")
                && stderr.contains("datafusion-physical-plan")
                && stderr.contains("src/topk/"),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    // Without the setting the same query runs (the optimisation is off by default).
    let out = bibflow_env(&["sql", ds.to_str().unwrap(), TOPN_ZERO], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // RUST_BACKTRACE=1 asks for Rust's own report with the backtrace, and still gets the error.
    let out = bibflow_env(
        &["sql", ds.to_str().unwrap(), TOPN_ZERO],
        &[topn[0], ("RUST_BACKTRACE", "1")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stack backtrace"), "{stderr}");
    assert!(stderr.contains("internal DataFusion failure"), "{stderr}");
}

#[test]
fn a_panic_on_the_main_thread_is_one_error_and_exit_code_1() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = small_dataset(tmp.path());
    let out = bibflow_env(
        &["tables", ds.to_str().unwrap()],
        &[("BIBFLOW_TEST_PANIC", "1")],
    );
    let stderr = failed_cleanly(&out);
    assert!(
        stderr.contains("internal error: bibflow panicked") && stderr.contains("a bug"),
        "{stderr}"
    );
    assert!(stderr.contains("BIBFLOW_TEST_PANIC is set"), "{stderr}");
    assert!(
        stderr.contains("panicked: thread 'main' at src/"),
        "{stderr}"
    );
}

/// A tmpfs mounted at `dir` for the life of this value.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, options: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs -o {options} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Self(dir.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

/// Says on the process's stderr (not cargo test's captured output, so CI's log shows it) that a
/// test did not run, and why.
fn skipped(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{reason}");
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The names in `dir`, hidden ones too.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn raw_input(dir: &Path) -> PathBuf {
    let raw = dir.join("raw");
    bibflow_ok(&[
        "--quiet",
        "generate",
        "--format",
        "openalex-jsonl",
        "--works",
        "2000",
        "--out",
        &s(&raw),
    ]);
    raw
}

#[test]
fn a_read_only_output_folder_fails_naming_it_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = raw_input(tmp.path());
    let ds = small_dataset(tmp.path());
    let ro = tmp.path().join("ro");
    // Root ignores permission bits: a read-only mount instead.
    let _mount = if is_root() {
        match Tmpfs::mount(&ro, "ro,size=1m") {
            Ok(m) => Some(m),
            Err(e) => {
                // As the issue allows: skipped with the reason printed, past cargo test's capture.
                skipped(&format!(
                    "SKIPPED a_read_only_output_folder...: running as root, a read-only place \
                     needs a tmpfs mount, and this machine refused it: {e}"
                ));
                return;
            }
        }
    } else {
        std::fs::create_dir(&ro).unwrap();
        std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o555)).unwrap();
        None
    };
    for args in [
        vec!["ingest", "openalex", raw.to_str().unwrap(), "--out"],
        vec!["report", "--dataset", ds.to_str().unwrap(), "--out"],
        vec!["generate", "--works", "100", "--out"],
    ] {
        let out_path = ro.join("out");
        let mut args = args.clone();
        let out_s = s(&out_path);
        args.push(&out_s);
        let out = bibflow_env(&args, &[]);
        let stderr = failed_cleanly(&out);
        assert!(stderr.contains(&s(&ro)), "{args:?}: {stderr}");
        assert!(
            stderr.contains("Read-only file system") || stderr.contains("Permission denied"),
            "{args:?}: {stderr}"
        );
        assert!(entries(&ro).is_empty(), "{args:?}: {:?}", entries(&ro));
    }
    if !is_root() {
        std::fs::set_permissions(&ro, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
}

#[test]
fn a_full_disk_fails_naming_the_file_and_leaves_no_partial_output() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = raw_input(tmp.path());
    let ds = small_dataset(tmp.path());
    let full = tmp.path().join("full");
    // 64 KiB: room for the lock and staging folders, not for a dataset or a report.
    let _mount = match Tmpfs::mount(&full, "size=64k") {
        Ok(m) => m,
        Err(e) => {
            // As the issue allows: skipped with the reason printed, past cargo test's capture.
            skipped(&format!(
                "SKIPPED a_full_disk...: a small filesystem for this test needs a tmpfs mount \
                 (root with CAP_SYS_ADMIN), and this machine refused it: {e}"
            ));
            return;
        }
    };
    // An earlier dataset there (small enough to fit) must survive a failed --overwrite.
    let earlier = full.join("out");
    std::fs::create_dir(&earlier).unwrap();
    std::fs::write(earlier.join("manifest.json"), "{}").unwrap();
    for (args, overwrite) in [
        (
            vec!["ingest", "openalex", raw.to_str().unwrap(), "--out"],
            true,
        ),
        (vec!["generate", "--works", "2000", "--out"], false),
        (
            vec!["report", "--dataset", ds.to_str().unwrap(), "--out"],
            false,
        ),
    ] {
        let target = if overwrite {
            earlier.clone()
        } else {
            full.join("new")
        };
        let mut args = args.clone();
        let target_s = s(&target);
        args.push(&target_s);
        if overwrite {
            args.push("--overwrite");
        }
        let out = bibflow_env(&args, &[]);
        let stderr = failed_cleanly(&out);
        assert!(
            stderr.contains("No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(stderr.contains(&s(&full)), "{args:?}: {stderr}");
        assert_eq!(entries(&full), ["out"], "{args:?}: {stderr}");
        assert_eq!(entries(&earlier), ["manifest.json"]);
        assert_eq!(
            std::fs::read_to_string(earlier.join("manifest.json")).unwrap(),
            "{}"
        );
    }
}

#[test]
fn a_missing_input_fails_naming_it_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-input");
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let out_s = s(&work.join("out"));
    let missing_s = s(&missing);
    for args in [
        vec!["ingest", "openalex", &missing_s, "--out", &out_s],
        vec!["ingest", "pubmed", &missing_s, "--out", &out_s],
        vec!["report", "--dataset", &missing_s, "--out", &out_s],
        vec!["link", &missing_s, &missing_s, "--out", &out_s],
    ] {
        let out = bibflow_env(&args, &[]);
        let stderr = failed_cleanly(&out);
        assert!(stderr.contains(&missing_s), "{args:?}: {stderr}");
        assert!(entries(&work).is_empty(), "{args:?}: {:?}", entries(&work));
    }
}

#[test]
fn a_report_never_replaces_a_folder_that_is_not_a_report() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = small_dataset(tmp.path());
    let mine = tmp.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    let out = bibflow_env(&["report", "--dataset", &s(&ds), "--out", &s(&mine)], &[]);
    let stderr = failed_cleanly(&out);
    assert!(stderr.contains("is not a bibflow report"), "{stderr}");
    assert_eq!(entries(&mine), ["notes.txt"]);
    assert_eq!(entries(tmp.path()), ["ds", "mine"]);
    // An earlier report is replaced, whole.
    let report = tmp.path().join("report");
    bibflow_ok(&[
        "--quiet",
        "report",
        "--dataset",
        &s(&ds),
        "--out",
        &s(&report),
    ]);
    std::fs::write(report.join("data").join("stale.csv"), "old").unwrap();
    bibflow_ok(&[
        "--quiet",
        "report",
        "--dataset",
        &s(&ds),
        "--out",
        &s(&report),
    ]);
    assert!(!report.join("data").join("stale.csv").exists());
    assert!(report.join("index.html").is_file());
    assert_eq!(entries(tmp.path()), ["ds", "mine", "report"]);
}

#[test]
fn sigterm_stops_an_ingest_and_removes_its_staging_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = raw_input(tmp.path());
    let work = tmp.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let out = work.join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bibflow"))
        .args(["--quiet", "ingest", "openalex", &s(&raw), "--out", &s(&out)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let staging = work.join(format!(".out.bibflow-staging-{}", child.id()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !staging.exists() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest ended before its staging folder was seen"
        );
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let done = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(done.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted (SIGTERM)"), "{stderr}");
    assert!(entries(&work).is_empty(), "{:?}", entries(&work));
}
