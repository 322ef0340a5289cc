//! `--memory-limit` bounds what a command holds: at 10^5 SYNTHETIC works, the study report under a
//! limit small enough that computed views spill to disk gives the same exports as without one,
//! and Ctrl-C stops it and removes its spill files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::common::bibflow_ok;

/// A limit under which the views of the suite at 10^5 works do not all fit in their half of the
/// pool (measured: work_ham alone holds about 20 MB in memory), while the queries still run.
const SMALL_LIMIT: &str = "64MiB";

struct Corpus {
    dir: tempfile::TempDir,
    dataset: PathBuf,
}

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let dataset = dir.path().join("g5");
        bibflow_ok(&[
            "--quiet",
            "generate",
            "--works",
            "100000",
            "--seed",
            "7",
            "--out",
            dataset.to_str().unwrap(),
        ]);
        Corpus { dir, dataset }
    })
}

fn report(out: &Path, limit: Option<&str>, tmp: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bibflow"));
    cmd.args(["report", "--dataset"])
        .arg(&corpus().dataset)
        .arg("--out")
        .arg(out)
        // DataFusion's spill folder goes under TMPDIR: a folder of the test's own, to look into.
        .env("TMPDIR", tmp);
    if let Some(l) = limit {
        cmd.args(["--memory-limit", l]);
    }
    cmd
}

#[test]
fn report_under_a_small_limit_spills_views_and_gives_the_same_exports() {
    let c = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let free = c.dir.path().join("report-free");
    let bounded = c.dir.path().join("report-bounded");
    let out = report(&free, None, tmp.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = report(&bounded, Some(SMALL_LIMIT), tmp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("spilled to disk"),
        "no view spilled under {SMALL_LIMIT}:\n{stderr}"
    );
    // Spill files are gone once the command is.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/compare_reports.py");
    let cmp = Command::new("python3")
        .arg(&script)
        .arg(free.join("data"))
        .arg(bounded.join("data"))
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
fn ctrl_c_stops_a_report_and_removes_its_spill_files() {
    let c = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let out = c.dir.path().join("report-interrupted");
    let mut child = report(&out, Some(SMALL_LIMIT), tmp.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first spill file: the report is then computing views, with files to remove.
    let started = Instant::now();
    let spilling = loop {
        if std::fs::read_dir(tmp.path()).unwrap().next().is_some() {
            break true;
        }
        if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(60) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    assert!(
        spilling,
        "the report finished or stalled before it spilled anything"
    );
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted (Ctrl-C)"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "left in TMPDIR after Ctrl-C: {left:?}");
}

/// The saved queries that join views by `work_id` (at 10^5 SYNTHETIC works, sorted by `work_id`
/// as `bibflow generate` writes them), with their views computed in memory and, under the small
/// limit, spilled to disk.
const JOINING_QUERIES: [&str; 4] = [
    "country_impact",
    "country_profile",
    "collaboration_impact",
    "international_collaboration",
];

/// The computed views are held sorted by `work_id` and say so, so every partitioned join of the
/// queries on `work_id` is a sort-merge join that needs no sort: no hash table of a view, whose memory would
/// grow with the corpus (at 10^7 works such hash joins failed under 2 GiB; docs/benchmarks.md).
#[test]
fn queries_join_the_computed_views_by_sort_merge_without_sorting_them() {
    let c = corpus();
    let dataset = c.dataset.to_str().unwrap();
    for limit in [None, Some(SMALL_LIMIT)] {
        for query in JOINING_QUERIES {
            let mut args = vec!["--quiet", "query", "explain", "--dataset", dataset, query];
            if let Some(l) = limit {
                args.extend(["--memory-limit", l]);
            }
            // As on a large corpus: no join's build side small enough to be collected into one
            // hash table shared by all partitions (which DataFusion picks at 10^5 works).
            let out = Command::new(env!("CARGO_BIN_EXE_bibflow"))
                .args(&args)
                .env(
                    "DATAFUSION_OPTIMIZER_HASH_JOIN_SINGLE_PARTITION_THRESHOLD",
                    "0",
                )
                .env(
                    "DATAFUSION_OPTIMIZER_HASH_JOIN_SINGLE_PARTITION_THRESHOLD_ROWS",
                    "0",
                )
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let plan = String::from_utf8_lossy(&out.stdout);
            // "SortMergeJoin: join_type=Inner, on=[(work_id@0, work_id@0)]", "Sort: expr=[..]".
            let operators: Vec<String> = plan
                .lines()
                .filter_map(|line| {
                    let (op, rest) = line.split_once("Exec: ")?;
                    let op = op.trim_start_matches(|c: char| c == '|' || c.is_whitespace());
                    let args = rest.split(", metrics=").next().unwrap_or(rest);
                    (op.ends_with("Join") || op == "Sort").then(|| format!("{op}: {args}"))
                })
                .collect();
            let label = format!("{query} (limit {limit:?})");
            assert!(
                operators.iter().any(|o| o.starts_with("SortMergeJoin")),
                "{label}: no sort-merge join:\n{plan}"
            );
            for o in &operators {
                assert!(
                    !(o.starts_with("HashJoin") && o.contains("work_id@")),
                    "{label}: a hash join on work_id: {o}\n{plan}"
                );
                assert!(
                    !(o.starts_with("Sort:") && o.contains("expr=[work_id@")),
                    "{label}: a sort by work_id: {o}\n{plan}"
                );
            }
        }
    }
}
