//! Datasets and raw inputs in Azure Blob Storage, against a real emulator on 127.0.0.1:10000
//! (Azurite, started by `scripts/azure-server` once per test run and stopped, by its PID, when the
//! test process ends): the same `object_store` code path as S3 (`engine/src/store/`), reached with
//! `az://` URLs and Azure's own environment variables.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use crate::common::manifest;

/// The emulator of this test run.
struct Azure {
    _dir: tempfile::TempDir,
    _pid: u32,
}

const CONTAINER: &str = "bibflow";

fn azure() -> &'static Azure {
    static SERVER: OnceLock<Azure> = OnceLock::new();
    SERVER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/azure-server");
        let out = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .arg(std::process::id().to_string())
            .env("AZURE_CONTAINER", CONTAINER)
            .output()
            .expect("scripts/azure-server runs");
        assert!(
            out.status.success(),
            "the Azure emulator did not start (scripts/test installs azurite and \
             azure-storage-blob):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        Azure {
            _dir: dir,
            _pid: pid,
        }
    })
}

/// A `bibflow` command that reaches the emulator (object_store's emulator settings: the
/// account devstoreaccount1 with its published key, at http://127.0.0.1:10000).
fn bibflow_az(args: &[&str]) -> Command {
    azure();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bibflow"));
    cmd.args(args).env("AZURE_STORAGE_USE_EMULATOR", "true");
    cmd
}

fn ok(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn prefix(test: &str) -> String {
    format!(
        "az://{CONTAINER}/{test}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis()
    )
}

const COUNTS: &str = "SELECT (SELECT count(*) FROM works) AS works, \
    (SELECT count(*) FROM authorships) AS authorships, \
    (SELECT round(sum(cited_by_count), 0) FROM works) AS citations";

#[test]
fn a_dataset_and_raw_inputs_in_azure_read_like_local_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let base = prefix("azure");
    let gen_args = ["--quiet", "generate", "--works", "2000", "--seed", "7"];
    // A generated dataset written to Azure queries as the same dataset written locally.
    let local = tmp.path().join("corpus");
    let remote = format!("{base}/corpus");
    ok(bibflow_az(
        &[&gen_args[..], &["--out", local.to_str().unwrap()]].concat(),
    ));
    ok(bibflow_az(&[&gen_args[..], &["--out", &remote]].concat()));
    let csv = |ds: &str| ok(bibflow_az(&["sql", ds, COUNTS, "--format", "csv"]));
    let expected = csv(local.to_str().unwrap());
    assert!(expected.contains("2000,"), "{expected}");
    assert_eq!(csv(&remote), expected);

    // Raw OpenAlex records in Azure, streamed by ingest: the dataset of the local copy.
    let raw_local = tmp.path().join("raw");
    let raw_remote = format!("{base}/raw");
    let raw = [&gen_args[..], &["--format", "openalex-jsonl"]].concat();
    ok(bibflow_az(
        &[&raw[..], &["--out", raw_local.to_str().unwrap()]].concat(),
    ));
    ok(bibflow_az(&[&raw[..], &["--out", &raw_remote]].concat()));
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for (input, out) in [(raw_local.to_str().unwrap(), &a), (raw_remote.as_str(), &b)] {
        ok(bibflow_az(&[
            "--quiet",
            "ingest",
            "openalex",
            input,
            "--out",
            out.to_str().unwrap(),
        ]));
    }
    let (ma, mb) = (manifest(&a), manifest(&b));
    assert_eq!(ma["records"], mb["records"]);
    assert_eq!(ma["tables"], mb["tables"]);
    let urls: Vec<&str> = mb["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        !urls.is_empty() && urls.iter().all(|u| u.starts_with(&raw_remote)),
        "{urls:?}"
    );
    assert_eq!(
        csv(b.to_str().unwrap()),
        csv(a.to_str().unwrap()),
        "the ingested datasets"
    );
}

#[test]
fn azure_errors_name_the_url_and_come_quickly() {
    let base = prefix("azure-errors");
    let check = crate::object_store::assert_store_error;
    let missing = format!("{base}/nothing");
    check(
        bibflow_az(&["sql", &missing, "SELECT 1"]),
        &missing,
        "no manifest.json",
    );
    let no_container = "az://no-such-container-bibflow/ds";
    check(
        bibflow_az(&["sql", no_container, "SELECT 1"]),
        no_container,
        "container) does not exist",
    );
    // Another key for the emulator's account.
    let mut wrong = bibflow_az(&["sql", &missing, "SELECT 1"]);
    wrong
        .env("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")
        .env("AZURE_STORAGE_ACCOUNT_KEY", "d3Jvbmd3cm9uZ3dyb25n");
    check(wrong, &missing, "access denied");
}
