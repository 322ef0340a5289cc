//! Markup and control characters in titles and author names flowing into the report (issue 22,
//! item 5): `index.html`, the SVG charts and the network files show them as text. The report is
//! opened in headless Chromium (`--dump-dom`), and no element the data tried to inject is there.

use std::path::Path;
use std::process::Command;

use crate::common::bibflow_ok;

/// Titles and author names that try to inject elements, close the table they sit in, and carry
/// control characters (NUL, BEL, an ANSI escape).
const TITLES: [&str; 2] = [
    "<svg onload=\"window.PWNED=1\"><script>window.PWNED=2</script>\u{1}\u{7}\u{1b}[31m gene therapy",
    "ok \"quoted\" & 'single'</td></tr></table><script>window.PWNED=3</script>",
];
const AUTHORS: [&str; 2] = [
    "<img src=x onerror=\"window.PWNED=4\">\u{0}Smith",
    "O'Brien <iframe src=\"javascript:window.PWNED=5\"></iframe>",
];

const QUERY: &str = r#"-- name = "hostile_names"
-- title = "Titles and authors <b>as given</b>"
-- description = "Titles and author names as the records give them."
-- [[report]]
-- order = 1
-- chart = { kind = "bar", x = "title", y = "authors", series = "author_name", title = "Authors per <i>title</i>" }
-- [[report]]
-- order = 2
-- chart = { kind = "network", source = "title", target = "author_name", weight = "authors", title = "Titles and authors" }
-- exports = ["graphml", "gexf", "vosviewer"]
SELECT w.title, a.author_name, count(*) AS authors
FROM works w JOIN authorships a USING (work_id)
GROUP BY w.title, a.author_name
ORDER BY w.title, a.author_name
"#;

/// The DOM headless Chromium builds from `page`, serialised.
fn dump_dom(page: &Path) -> String {
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
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs (CI installs it from Debian: apt-get install chromium)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The start of an element the data tried to inject, as a serialised DOM or a file would show it
/// (text is serialised with `<` escaped, so a raw `<` starts an element).
fn injected(text: &str) -> Vec<&'static str> {
    [
        "<svg onload",
        "<script",
        "<img src=\"x\"",
        "<img src=x",
        "<iframe",
    ]
    .into_iter()
    .filter(|m| text.contains(m))
    .collect()
}

/// Control characters XML 1.0 does not allow (all below 0x20 but tab, newline, return).
fn has_xml_control_chars(text: &str) -> bool {
    text.chars()
        .any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
}

#[test]
fn markup_in_titles_and_names_is_shown_as_text_in_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("hostile.jsonl");
    let mut lines = String::new();
    for (i, (title, author)) in TITLES.iter().zip(AUTHORS).enumerate() {
        let work = serde_json::json!({
            "id": format!("https://openalex.org/W{}", i + 1),
            "title": title,
            "publication_year": 2020,
            "type": "article",
            "authorships": [{
                "author_position": "first",
                "author": {"id": format!("https://openalex.org/A{}", i + 1), "display_name": author},
                "institutions": [{"id": "https://openalex.org/I1", "display_name": "<b>Univ</b>", "country_code": "US"}],
                "countries": ["US"],
                "raw_affiliation_strings": ["Harvard University, Boston, USA"]
            }]
        });
        lines.push_str(&format!("{work}\n"));
    }
    std::fs::write(&input, lines).unwrap();
    let ds = tmp.path().join("ds");
    bibflow_ok(&[
        "--quiet",
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        ds.to_str().unwrap(),
    ]);
    // The markup is kept in the dataset as the records give it.
    let titles = crate::common::sql_json(&ds, "SELECT title FROM works ORDER BY work_id");
    assert_eq!(titles[0]["title"], TITLES[0]);

    let queries = tmp.path().join("queries");
    std::fs::create_dir(&queries).unwrap();
    std::fs::write(queries.join("hostile_names.sql"), QUERY).unwrap();
    let report = tmp.path().join("report");
    bibflow_ok(&[
        "--quiet",
        "report",
        "--dataset",
        ds.to_str().unwrap(),
        "--queries",
        queries.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);

    let index = report.join("index.html");
    let dom = dump_dom(&index);
    // The data reached the page, as text.
    for shown in [
        "&lt;svg onload=\"window.PWNED=1\"&gt;&lt;script&gt;window.PWNED=2&lt;/script&gt;",
        "&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;&lt;script&gt;window.PWNED=3&lt;/script&gt;",
        "&lt;img src=x onerror=\"window.PWNED=4\"&gt;",
        "O'Brien &lt;iframe",
        "Titles and authors &lt;b&gt;as given&lt;/b&gt;",
    ] {
        assert!(dom.contains(shown), "{shown:?} is not in the page");
    }
    assert_eq!(
        injected(&dom),
        Vec::<&str>::new(),
        "elements injected into index.html"
    );
    let html = std::fs::read_to_string(&index).unwrap();
    assert!(
        !has_xml_control_chars(&html),
        "control characters in index.html"
    );

    // The charts, opened on their own (where an SVG's scripts would run): well-formed SVG,
    // nothing injected.
    for chart in ["hostile_names.svg", "hostile_names-2.svg"] {
        let path = report.join("charts").join(chart);
        let Ok(svg) = std::fs::read_to_string(&path) else {
            continue;
        };
        assert!(
            !has_xml_control_chars(&svg),
            "control characters in {chart}"
        );
        let dom = dump_dom(&path);
        assert!(
            dom.trim_start().starts_with("<svg") && !dom.contains("parsererror"),
            "{chart} does not parse as SVG: {}",
            &dom[..dom.len().min(400)]
        );
        assert_eq!(
            injected(&dom),
            Vec::<&str>::new(),
            "elements injected into {chart}"
        );
    }
    let charts: Vec<String> = std::fs::read_dir(report.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("hostile_names"))
        .collect();
    assert_eq!(charts.len(), 2, "{charts:?}");

    // The network files: XML escaped and free of control characters.
    let mut networks = 0;
    for e in std::fs::read_dir(report.join("network")).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("hostile_names") {
            continue;
        }
        networks += 1;
        let text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".graphml") || name.ends_with(".gexf") {
            assert!(
                !has_xml_control_chars(&text),
                "control characters in {name}"
            );
            assert_eq!(
                injected(&text),
                Vec::<&str>::new(),
                "markup unescaped in {name}"
            );
            assert!(
                text.contains("&lt;svg onload="),
                "{name} lacks the escaped title"
            );
        }
    }
    assert!(networks >= 3, "{networks} network files");
}
