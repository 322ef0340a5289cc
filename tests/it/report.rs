//! `bibflow report` and `bibflow query` on the default generated corpus (the demo's: 160,000
//! SYNTHETIC works, seed 42): the report shows what the scenario put in, its Parquet exports read
//! back in pyarrow, and its index.html renders in headless Chromium without console errors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::{bibflow, bibflow_ok};

struct Fixture {
    _dir: tempfile::TempDir,
    dataset: PathBuf,
    report: PathBuf,
    stderr: String,
}

/// Generated once for all tests of this module.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let dataset = dir.path().join("cgt");
        let report = dir.path().join("report");
        bibflow_ok(&[
            "--quiet",
            "generate",
            "--works",
            "160000",
            "--seed",
            "42",
            "--out",
            dataset.to_str().unwrap(),
        ]);
        let out = bibflow(&[
            "report",
            "--dataset",
            dataset.to_str().unwrap(),
            "--out",
            report.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "report failed:\n{stderr}");
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            stdout.trim(),
            report.join("index.html").display().to_string()
        );
        Fixture {
            _dir: dir,
            dataset,
            report,
            stderr,
        }
    })
}

/// A Parquet export's rows as JSON objects.
fn rows(report: &Path, id: &str) -> Vec<serde_json::Value> {
    let path = report.join("data").join(format!("{id}.parquet"));
    assert!(path.exists(), "{} missing", path.display());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let batches = rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        ctx.read_parquet(path.to_str().unwrap(), Default::default())
            .await
            .unwrap()
            .collect()
            .await
            .unwrap()
    });
    let mut w = arrow::json::ArrayWriter::new(Vec::new());
    for b in &batches {
        w.write(b).unwrap();
    }
    w.finish().unwrap();
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return vec![];
    }
    serde_json::from_slice(&bytes).unwrap()
}

fn f(v: &serde_json::Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {v}"))
}

fn find(
    rows: &[serde_json::Value],
    pred: impl Fn(&serde_json::Value) -> bool,
) -> Vec<&serde_json::Value> {
    rows.iter().filter(|r| pred(r)).collect()
}

#[test]
fn report_shows_what_the_scenario_put_in() {
    let fx = fixture();
    assert!(
        fx.stderr.contains("the dataset is SYNTHETIC"),
        "{}",
        fx.stderr
    );

    // HSCT moves into the clinic; MSC stays flat (5-year periods, first vs last).
    let clinical = rows(&fx.report, "clinical_translation");
    let share = |m: &str, start: i64| {
        let r = find(&clinical, |r| {
            r["modality"] == m && r["period_start"] == start
        });
        assert_eq!(r.len(), 1, "{m} {start}");
        f(r[0], "clinical_share")
    };
    let (hsct0, hsct1) = (share("HSCT", 1989), share("HSCT", 2019));
    let (msc0, msc1) = (share("MSC", 1989), share("MSC", 2019));
    assert!(
        hsct1 > hsct0 + 0.05,
        "HSCT clinical share {hsct0} -> {hsct1} should rise"
    );
    assert!(
        (msc1 - msc0).abs() < 0.05,
        "MSC clinical share {msc0} -> {msc1} should stay flat"
    );
    assert!(hsct1 - hsct0 > 3.0 * (msc1 - msc0).abs());

    // China passes the USA in MSC and stays ahead.
    let overtake = rows(&fx.report, "country_overtake");
    assert_eq!(overtake.len(), 1);
    let o = &overtake[0];
    assert_eq!(o["modality"], "MSC");
    let since = o["ahead_since"].as_i64().expect("China ahead at the end");
    assert!((2005..=2023).contains(&since), "{o}");
    assert!(
        f(o, "challenger_last_year") > f(o, "leader_last_year"),
        "{o}"
    );

    // International papers have a higher MNCS (and PP top 10%) than single-country ones.
    let collab = rows(&fx.report, "collaboration_impact");
    let all = |c: &str| {
        let r = find(&collab, |r| r["unit"] == "all" && r["collaboration"] == c);
        assert_eq!(r.len(), 1, "{c}");
        r[0].clone()
    };
    let (intl, single) = (all("international"), all("single-country"));
    assert!(
        f(&intl, "mncs") > 1.1 * f(&single, "mncs"),
        "{intl} vs {single}"
    );
    assert!(f(&intl, "pp_top10") > f(&single, "pp_top10"));

    // Japan: impact share below volume share, over all papers and in every modality it has.
    let jp = rows(&fx.report, "country_profile");
    let jp_all = find(&jp, |r| r["modality"] == "all");
    assert_eq!(jp_all.len(), 1);
    assert!(
        f(jp_all[0], "impact_share") < f(jp_all[0], "volume_share"),
        "{}",
        jp_all[0]
    );
    assert!(f(jp_all[0], "mncs") < 1.0);
    // Japan co-authors internationally less than the USA and European countries.
    let intl = rows(&fx.report, "international_collaboration");
    let rate = |c: &str| f(find(&intl, |r| r["unit"] == c)[0], "international_share");
    assert!(rate("JP") < rate("US") && rate("JP") < rate("DE") && rate("JP") < rate("GB"));

    // The USA leads the output over the whole window.
    let output = rows(&fx.report, "country_output");
    assert_eq!(output[0]["country"], "US", "{}", output[0]);
}

#[test]
fn report_writes_every_file_it_links() {
    let fx = fixture();
    let index = std::fs::read_to_string(fx.report.join("index.html")).unwrap();
    assert!(index.contains("SYNTHETIC DATA"), "no synthetic banner");
    let mut links = 0;
    for attr in ["src=\"", "href=\""] {
        for part in index.split(attr).skip(1) {
            let target = &part[..part.find('"').unwrap()];
            if target.starts_with('#') || target.contains("://") {
                continue;
            }
            let decoded = target.replace("%20", " ");
            assert!(
                fx.report.join(&decoded).exists(),
                "index.html links missing {target}"
            );
            links += 1;
        }
    }
    assert!(links > 40, "only {links} local links");
    for ext in ["graphml", "gexf"] {
        let p = fx
            .report
            .join(format!("network/collaboration_network.{ext}"));
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(
            text.contains("US") || text.contains("United States"),
            "{}",
            p.display()
        );
    }
    let map = std::fs::read_to_string(
        fx.report
            .join("network/collaboration_network_vosviewer_map.txt"),
    )
    .unwrap();
    assert!(map.starts_with("id\tlabel\t"));
    assert!(map.lines().any(|l| l.split('\t').nth(1) == Some("US")));
}

#[test]
fn every_parquet_export_reads_back_in_pyarrow() {
    let fx = fixture();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/report/check_exports.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&fx.report)
        .output()
        .expect("python3 runs (CI installs pyarrow and pandas: .ci/run)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "check_exports.py failed (needs `pip install pyarrow pandas`):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let exports = std::fs::read_dir(fx.report.join("data"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "parquet")
        })
        .count();
    assert_eq!(checked.len(), exports);
    assert!(exports >= 19, "{exports} exports");
    // pyarrow sees the schema the query documents.
    let ci = checked
        .iter()
        .find(|c| c["file"] == "country_impact.parquet")
        .unwrap();
    assert_eq!(
        ci["columns"],
        serde_json::json!(["modality", "country", "papers", "mcs", "mncs", "pp_top10"])
    );
    assert_eq!(ci["types"][4], "double");
    assert!(ci["rows"].as_u64().unwrap() > 5);
}

#[test]
fn csv_and_json_exports_of_a_query_agree() {
    let fx = fixture();
    let ds = fx.dataset.to_str().unwrap();
    let run = |format: &str| {
        bibflow_ok(&[
            "--quiet",
            "query",
            "run",
            "country_impact",
            "--dataset",
            ds,
            "-p",
            "counting=full",
            "--format",
            format,
        ])
    };
    let csv = run("csv");
    let json: Vec<serde_json::Value> = serde_json::from_str(&run("json")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let body: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(body.len(), json.len());
    assert!(json.len() > 5);
    for (row, obj) in body.iter().zip(&json) {
        for (k, v) in header.iter().zip(row) {
            match obj[*k].as_f64() {
                Some(x) => {
                    let y: f64 = v.parse().unwrap();
                    assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{k}: {x} vs {y}");
                }
                None => assert_eq!(obj[*k].as_str().unwrap(), *v),
            }
        }
    }
}

/// Runs headless Chromium on `page`, writing a screenshot; returns its console messages.
fn chromium(page: &Path, png: &Path) -> Vec<String> {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (CI installs it from Debian: apt-get install chromium)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn index_html_renders_in_headless_chromium_without_console_errors() {
    let fx = fixture();
    let shots = fx.report.join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    // The detector itself: a page that logs an error is caught.
    let bad = shots.join("bad.html");
    std::fs::write(
        &bad,
        "<html><body><script>console.error('boom')</script></body></html>",
    )
    .unwrap();
    let caught = chromium(&bad, &shots.join("bad.png"));
    assert!(caught.iter().any(|l| l.contains("boom")), "{caught:?}");

    let png = shots.join("index.png");
    let console = chromium(&fx.report.join("index.html"), &png);
    assert!(console.is_empty(), "console messages: {console:?}");
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[1..4], b"PNG");
    assert!(
        bytes.len() > 50_000,
        "screenshot of {} bytes looks empty",
        bytes.len()
    );
}

#[test]
fn query_cli_lists_shows_runs_and_rejects() {
    let list = bibflow_ok(&["query", "list"]);
    let names: Vec<&str> = list
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    for q in [
        "modality_growth",
        "clinical_translation",
        "country_impact",
        "collaboration_network",
        "country_profile",
    ] {
        assert!(names.contains(&q), "{q} not in {names:?}");
    }
    let show = bibflow_ok(&["query", "show", "country_impact"]);
    assert!(
        show.contains("counting (text: author|country|full; default author)"),
        "{show}"
    );
    assert!(show.contains("SELECT"));

    let fx = fixture();
    let ds = fx.dataset.to_str().unwrap();
    for (args, expect) in [
        (
            vec!["-p", "counting=frac"],
            "must be one of: author, country, full",
        ),
        (vec!["-p", "min_papers=many"], "expects a number"),
        (vec!["-p", "colour=red"], "unknown parameter \"colour\""),
        (vec!["-p", "nonsense"], "is not NAME=VALUE"),
    ] {
        let mut a = vec!["query", "run", "country_impact", "--dataset", ds];
        a.extend(args);
        let out = bibflow(&a);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{a:?}: {err}");
    }
    let out = bibflow(&["query", "run", "no_such_query", "--dataset", ds]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("known: clinical_translation"));

    // A value is bound, not spliced: quotes in a text parameter are just characters.
    let csv = bibflow_ok(&[
        "--quiet",
        "query",
        "run",
        "country_profile",
        "--dataset",
        ds,
        "-p",
        "country=JP' OR '1'='1",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.lines().count(), 1, "only the header: {csv}");

    let explain = bibflow_ok(&[
        "--quiet",
        "query",
        "explain",
        "modality_growth",
        "--dataset",
        ds,
    ]);
    assert!(explain.contains("output_rows"), "{explain}");

    // A user's own query folder: a query with a parameter, run by name.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("works_in_year.sql"),
        "-- name = \"works_in_year\"\n-- title = \"Works of one year\"\n-- description = \"count\"\n\
         -- finding = \"none\"\n-- [[params]]\n-- name = \"year\"\n-- type = \"int\"\n-- default = 2000\n\
         -- description = \"the year\"\n-- [[columns]]\n-- name = \"works\"\n-- description = \"works\"\n\
         SELECT count(*) AS works FROM works WHERE publication_year = $year\n",
    )
    .unwrap();
    let q = dir.path().to_str().unwrap();
    let csv = bibflow_ok(&[
        "--quiet",
        "query",
        "run",
        "works_in_year",
        "--queries",
        q,
        "--dataset",
        ds,
        "-p",
        "year=1989",
        "--format",
        "csv",
    ]);
    let n: u64 = csv.lines().nth(1).unwrap().parse().unwrap();
    let direct = crate::common::sql_value(
        &fx.dataset,
        "SELECT count(*) FROM works WHERE publication_year = 1989",
    );
    assert_eq!(n.to_string(), direct);
    assert!(
        bibflow_ok(&["query", "list", "--queries", q]).contains("works_in_year\tWorks of one year")
    );
}

#[test]
fn example_notebook_runs_on_the_report() {
    let fx = fixture();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("tests/report/run_notebook.py"))
        .arg(root.join("examples/study_report.ipynb"))
        .env("BIBFLOW_REPORT", &fx.report)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the notebook failed (needs pandas and pyarrow):\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ran 6 code cells"), "{stdout}");
    assert!(
        stdout.contains("international / single-country MNCS"),
        "{stdout}"
    );
}

#[test]
fn query_run_computes_the_views_it_reads_first_and_agrees_with_the_report() {
    // `query run` materialises the views a query reads (each planned with its own join order),
    // as the report does; only those views, and the same rows as the report's export.
    let fx = fixture();
    let ds = fx.dataset.to_str().unwrap();
    let out = bibflow(&[
        "query",
        "run",
        "clinical_translation",
        "--dataset",
        ds,
        "--format",
        "csv",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.contains("views computed first:"))
        .unwrap_or_else(|| panic!("no views line in:\n{stderr}"));
    assert!(
        line.contains("work_modality") && line.contains("work_ham"),
        "{line}"
    );
    assert!(
        !line.contains("work_country") && !line.contains("work_impact"),
        "{line}"
    );
    let rows = String::from_utf8(out.stdout).unwrap().lines().count() - 1;
    assert!(rows > 3, "{rows} rows");
    let exported =
        std::fs::read_to_string(fx.report.join("data/clinical_translation.csv")).unwrap();
    assert_eq!(
        exported.lines().count() - 1,
        rows,
        "rows of the report's export"
    );
}
