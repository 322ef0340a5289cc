//! The OpenAlex of 2026 (issue 19): the `data/jsonl/` and `data/parquet/` snapshot layouts with
//! their combined `manifest.json`, other entity folders left out with a note, funders and awards,
//! zoned `updated_date` timestamps, lenient typing with warnings, truncated author lists.
//!
//! The fixtures (`tests/fixtures/openalex2026/`, made by its `make_fixtures.py`) are works written
//! from OpenAlex's documented 2026 work schema; expected values are read here from the raw parts
//! with serde_json, not written down.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::common::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openalex2026/data")
}

/// The works parts of the JSON Lines copy, in path order, each with its works.
fn jsonl_parts() -> Vec<(PathBuf, Vec<serde_json::Value>)> {
    let mut parts = Vec::new();
    let works = fixtures().join("jsonl/works");
    let mut dirs: Vec<_> = std::fs::read_dir(&works)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    for d in dirs {
        let mut files: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for f in files {
            let mut text = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&f).unwrap())
                .read_to_string(&mut text)
                .unwrap();
            let records = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            parts.push((f, records));
        }
    }
    parts
}

/// Every copy of every work, keyed by W-number.
fn copies() -> BTreeMap<i64, Vec<serde_json::Value>> {
    let mut out: BTreeMap<i64, Vec<serde_json::Value>> = BTreeMap::new();
    for (_, works) in jsonl_parts() {
        for w in works {
            out.entry(w_number(&w["id"])).or_default().push(w);
        }
    }
    out
}

fn w_number(id: &serde_json::Value) -> i64 {
    let s = id.as_str().unwrap();
    s.rsplit('/').next().unwrap()[1..].parse().unwrap()
}

/// Seconds since the epoch of an ISO date-time, computed with the civil-from-days formula (not
/// bibflow's parser): `2026-06-01T16:40:00.000000Z`, `...+02:00`, a bare date.
pub(crate) fn epoch_micros(s: &str) -> i64 {
    let (y, m, d) = (
        s[0..4].parse::<i64>().unwrap(),
        s[5..7].parse::<i64>().unwrap(),
        s[8..10].parse::<i64>().unwrap(),
    );
    let (y2, m2) = if m <= 2 { (y - 1, m + 9) } else { (y, m - 3) };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * m2 + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let mut micros = days * 86_400_000_000;
    if s.len() > 10 {
        let (h, mi, se) = (
            s[11..13].parse::<i64>().unwrap(),
            s[14..16].parse::<i64>().unwrap(),
            s[17..19].parse::<i64>().unwrap(),
        );
        micros += ((h * 60 + mi) * 60 + se) * 1_000_000;
        let rest = &s[19..];
        let (frac, zone) = match rest.find(['Z', '+', '-']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if let Some(f) = frac.strip_prefix('.') {
            micros += format!("{f:0<6}")[..6].parse::<i64>().unwrap();
        }
        if zone.len() == 6 {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let off = zone[1..3].parse::<i64>().unwrap() * 60 + zone[4..6].parse::<i64>().unwrap();
            micros -= sign * off * 60_000_000;
        }
    }
    micros
}

/// The copy of each work the ingest must keep: the latest `updated_date` (as an instant).
fn newest() -> BTreeMap<i64, serde_json::Value> {
    copies()
        .into_iter()
        .map(|(id, cs)| {
            let w = cs
                .into_iter()
                .max_by_key(|w| epoch_micros(w["updated_date"].as_str().unwrap()))
                .unwrap();
            (id, w)
        })
        .collect()
}

/// `bibflow ingest openalex` (not quiet): the manifest and stderr.
fn ingest_loud(inputs: &[&Path], out: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let mut args = vec!["ingest", "openalex"];
    let inputs: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
    args.extend(inputs.iter().map(String::as_str));
    let out_s = out.display().to_string();
    args.extend(["--out", out_s.as_str()]);
    args.extend(extra);
    let o = bibflow(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "bibflow {args:?}: {stderr}");
    (manifest(out), stderr)
}

const TABLES: [&str; 17] = [
    "works",
    "authorships",
    "work_topics",
    "work_mesh",
    "work_publication_types",
    "work_references",
    "work_citations_by_year",
    "work_keywords",
    "work_chemicals",
    "work_grants",
    "work_funders",
    "work_awards",
    "authorship_affiliations",
    "work_institutions",
    "work_locations",
    "work_tags",
    "work_related_works",
];

/// A whole table as sorted JSON rows.
fn table(ds: &Path, t: &str) -> Vec<String> {
    let mut rows: Vec<String> = sql_json(ds, &format!("SELECT * FROM {t}"))
        .iter()
        .map(|r| r.to_string())
        .collect();
    rows.sort();
    rows
}

#[test]
fn jsonl_and_parquet_snapshots_give_the_same_dataset_with_every_work_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let (jl, pq) = (tmp.path().join("jl"), tmp.path().join("pq"));
    let (mj, err_j) = ingest_loud(&[&fixtures().join("jsonl")], &jl, &[]);
    let (mp, err_p) = ingest_loud(&[&fixtures().join("parquet")], &pq, &[]);

    let parts = jsonl_parts();
    let records: u64 = parts.iter().map(|(_, w)| w.len() as u64).sum();
    let newest = newest();
    for m in [&mj, &mp] {
        // The works parts are read (other entities go to their own tables: see
        // ingest_openalex_entities.rs), every record of them is kept, the manifest agrees.
        let works_inputs = m["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["source"] == "openalex")
            .count();
        assert_eq!(works_inputs, parts.len(), "{m}");
        assert_eq!(m["records"]["read"], records);
        assert_eq!(m["records"]["ingested"], records);
        assert_eq!(m["records"]["rejected"], 0);
        assert_eq!(m["records"]["warnings"], 0);
        assert_eq!(m["superseded"], records - newest.len() as u64);
        assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");
    }
    for (ds, err) in [(&jl, &err_j), (&pq, &err_p)] {
        assert!(!ds.join("_rejects").exists());
        // One note for the entities bibflow does not read, which are neither read nor rejected.
        let notes: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("other OpenAlex"))
            .collect();
        assert_eq!(notes.len(), 1, "{err}");
        assert!(
            notes[0].contains("awards: 1") && !notes[0].contains("authors:"),
            "{err}"
        );
    }
    // The same dataset from either copy, table by table.
    for t in TABLES {
        assert_eq!(table(&jl, t), table(&pq, t), "table {t}");
    }

    // Every kept work against the newest copy in the raw parts.
    let works = sql_json(
        &jl,
        "SELECT work_id, cited_by_count, authors_count, \
         CAST(CAST(updated_date AS BIGINT) AS VARCHAR) AS updated_us, is_authors_truncated \
         FROM works ORDER BY work_id",
    );
    assert_eq!(works.len(), newest.len());
    for (row, (id, w)) in works.iter().zip(&newest) {
        assert_eq!(row["work_id"], *id);
        assert_eq!(row["cited_by_count"], w["cited_by_count"], "W{id}");
        assert_eq!(
            row["authors_count"],
            w["authorships"].as_array().map_or(0, |a| a.len()),
            "W{id}"
        );
        // The full timestamp (UTC), not midnight.
        let expected = epoch_micros(w["updated_date"].as_str().unwrap());
        assert_eq!(row["updated_us"], expected.to_string(), "W{id}");
        assert!(row.get("is_authors_truncated").is_none_or(|v| v.is_null()));
    }
    // The two copies of W100001 were updated the same day; the later one (in the earlier file) won.
    let w1 = &copies()[&100001];
    assert_eq!(w1.len(), 2);
    assert_ne!(w1[0]["cited_by_count"], w1[1]["cited_by_count"]);
    assert_eq!(
        &w1[0]["updated_date"].as_str().unwrap()[..10],
        &w1[1]["updated_date"].as_str().unwrap()[..10]
    );
    assert_eq!(
        works[0]["cited_by_count"], newest[&100001]["cited_by_count"],
        "the later copy of the day"
    );
    // 500 authors, all kept.
    assert_eq!(
        sql_value(
            &jl,
            "SELECT count(*) FROM authorships WHERE work_id = 100003"
        ),
        "500"
    );

    // Funders and awards of every kept work, against the JSON (legacy `grants` mapped too).
    let f_num = |v: &serde_json::Value| {
        v.as_str()
            .map(|s| s.rsplit('/').next().unwrap()[1..].to_string())
    };
    let mut want_funders = Vec::new();
    let mut want_awards = Vec::new();
    for (id, w) in &newest {
        for f in w["funders"].as_array().into_iter().flatten() {
            let ror = f["ror"]
                .as_str()
                .map(|r| r.rsplit('/').next().unwrap().to_string());
            want_funders.push(format!(
                "{id}|{}|{}|{}",
                f_num(&f["id"]).unwrap_or_default(),
                f["display_name"].as_str().unwrap_or(""),
                ror.unwrap_or_default()
            ));
        }
        for a in w["awards"].as_array().into_iter().flatten() {
            want_awards.push(format!(
                "{id}|{}|{}|{}|{}|{}",
                f_num(&a["id"]).unwrap_or_default(),
                a["display_name"].as_str().unwrap_or(""),
                a["funder_award_id"].as_str().unwrap_or(""),
                f_num(&a["funder_id"]).unwrap_or_default(),
                a["funder_display_name"].as_str().unwrap_or("")
            ));
        }
        if w.get("funders").is_none() && w.get("awards").is_none() {
            for g in w["grants"].as_array().into_iter().flatten() {
                want_funders.push(format!(
                    "{id}|{}|{}|",
                    f_num(&g["funder"]).unwrap_or_default(),
                    g["funder_display_name"].as_str().unwrap_or("")
                ));
                want_awards.push(format!(
                    "{id}|||{}|{}|{}",
                    g["award_id"].as_str().unwrap_or(""),
                    f_num(&g["funder"]).unwrap_or_default(),
                    g["funder_display_name"].as_str().unwrap_or("")
                ));
            }
        }
    }
    want_funders.sort();
    want_awards.sort();
    assert!(want_funders.len() >= 5 && want_awards.len() >= 5);
    let cell = |v: &serde_json::Value| match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    // ndjson rows: keys sorted, NULLs left out; read them back in the column order.
    let got = |t: &str, cols: &[&str]| {
        let q = format!("SELECT {} FROM {t}", cols.join(", "));
        let mut rows: Vec<String> = sql_json(&jl, &q)
            .iter()
            .map(|r| {
                cols.iter()
                    .map(|c| cell(r.get(*c).unwrap_or(&serde_json::Value::Null)))
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        got(
            "work_funders",
            &["work_id", "funder_id", "funder_name", "ror"]
        ),
        want_funders
    );
    let award_cols = [
        "work_id",
        "award_id",
        "award_name",
        "funder_award_id",
        "funder_id",
        "funder_name",
    ];
    assert_eq!(got("work_awards", &award_cols), want_awards);
    // The detail tables: rows per work as the JSON lists them.
    let per_work = |q: &str| -> BTreeMap<i64, u64> {
        sql_json(&jl, q)
            .iter()
            .map(|r| (r["work_id"].as_i64().unwrap(), r["n"].as_u64().unwrap()))
            .collect()
    };
    let len = |v: &serde_json::Value| v.as_array().map_or(0, |a| a.len() as u64);
    let expect = |f: &dyn Fn(&serde_json::Value) -> u64| -> BTreeMap<i64, u64> {
        newest
            .iter()
            .map(|(id, w)| (*id, f(w)))
            .filter(|(_, n)| *n > 0)
            .collect()
    };
    let count_q = |t: &str| format!("SELECT work_id, count(*) AS n FROM {t} GROUP BY work_id");
    assert_eq!(
        per_work(&count_q("authorship_affiliations")),
        expect(&|w| w["authorships"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| len(&a["affiliations"]))
            .sum())
    );
    assert_eq!(
        per_work(&count_q("work_locations")),
        expect(&|w| len(&w["locations"]))
    );
    assert_eq!(
        per_work(&count_q("work_tags")),
        expect(&|w| len(&w["keywords"])
            + len(&w["concepts"])
            + len(&w["sustainable_development_goals"]))
    );
    assert_eq!(
        per_work(&count_q("work_related_works")),
        expect(&|w| len(&w["related_works"]))
    );
    let distinct_institutions = |w: &serde_json::Value| {
        let mut ids: Vec<&str> = w["authorships"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["institutions"].as_array().into_iter().flatten())
            .filter_map(|i| i["id"].as_str())
            .collect();
        ids.sort();
        ids.dedup();
        ids.len() as u64
    };
    assert_eq!(
        per_work(&count_q("work_institutions")),
        expect(&distinct_institutions)
    );
    // One work's detail values, against its JSON.
    let w = &newest[&100001];
    let loc0 = &w["locations"][0];
    let row = &sql_json(
        &jl,
        "SELECT landing_page_url, license, version, is_primary FROM work_locations \
         WHERE work_id = 100001 AND location_index = 0",
    )[0];
    assert_eq!(row["landing_page_url"], loc0["landing_page_url"]);
    assert_eq!(row["license"], loc0["license"]);
    assert_eq!(row["version"], loc0["version"]);
    let sdg = &w["sustainable_development_goals"][0];
    let row = &sql_json(
        &jl,
        "SELECT tag_id, name, score FROM work_tags WHERE work_id = 100001 AND scheme = 'sdg'",
    )[0];
    assert_eq!(
        row["tag_id"].as_str(),
        sdg["id"].as_str().unwrap().rsplit('/').next()
    );
    assert_eq!(row["name"], sdg["display_name"]);
    assert_eq!(row["score"], sdg["score"]);
    let row = &sql_json(
        &jl,
        "SELECT biblio_volume, biblio_first_page, apc_list_usd, is_xpac, \
         CAST(created_date AS VARCHAR) AS created, array_to_string(indexed_in, ',') AS idx \
         FROM works WHERE work_id = 100001",
    )[0];
    assert_eq!(row["biblio_volume"], w["biblio"]["volume"]);
    assert_eq!(row["biblio_first_page"], w["biblio"]["first_page"]);
    assert_eq!(row["apc_list_usd"], w["apc_list"]["value_usd"]);
    assert_eq!(row["is_xpac"], w["is_xpac"]);
    assert_eq!(
        row["created"].as_str(),
        w["created_date"].as_str().map(|d| &d[..10])
    );
    let idx: Vec<&str> = w["indexed_in"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(row["idx"].as_str(), Some(idx.join(",").as_str()));

    // The new works columns of every kept work, against its JSON.
    let cols = "work_id, CAST(created_date AS VARCHAR) AS created_date, is_xpac, \
         array_to_string(indexed_in, ',') AS indexed_in, biblio_volume, biblio_issue, \
         biblio_first_page, biblio_last_page, apc_list_value, apc_list_currency, apc_list_usd, \
         apc_paid_value, apc_paid_currency, apc_paid_usd, citation_percentile_year_min, \
         citation_percentile_year_max, array_to_string(corresponding_author_ids, ',') AS cai, \
         array_to_string(corresponding_institution_ids, ',') AS cii";
    let rows = sql_json(&jl, &format!("SELECT {cols} FROM works ORDER BY work_id"));
    let null = serde_json::Value::Null;
    let at = |r: &serde_json::Value, k: &str| r.get(k).cloned().unwrap_or(null.clone());
    let numbers = |v: &serde_json::Value| {
        v.as_array().map(|ids| {
            ids.iter()
                .map(|i| i.as_str().unwrap().rsplit('/').next().unwrap()[1..].to_string())
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    for (row, (id, w)) in rows.iter().zip(&newest) {
        let g = |path: &str| w.pointer(path).cloned().unwrap_or(null.clone());
        let created = w["created_date"].as_str().map(|d| d[..10].to_string());
        assert_eq!(
            at(row, "created_date").as_str(),
            created.as_deref(),
            "W{id}"
        );
        assert_eq!(at(row, "is_xpac"), g("/is_xpac"), "W{id}");
        let idx = w["indexed_in"].as_array().map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(",")
        });
        assert_eq!(at(row, "indexed_in").as_str(), idx.as_deref(), "W{id}");
        for (col, path) in [
            ("biblio_volume", "/biblio/volume"),
            ("biblio_issue", "/biblio/issue"),
            ("biblio_first_page", "/biblio/first_page"),
            ("biblio_last_page", "/biblio/last_page"),
            ("apc_list_value", "/apc_list/value"),
            ("apc_list_currency", "/apc_list/currency"),
            ("apc_list_usd", "/apc_list/value_usd"),
            ("apc_paid_value", "/apc_paid/value"),
            ("apc_paid_currency", "/apc_paid/currency"),
            ("apc_paid_usd", "/apc_paid/value_usd"),
            (
                "citation_percentile_year_min",
                "/cited_by_percentile_year/min",
            ),
            (
                "citation_percentile_year_max",
                "/cited_by_percentile_year/max",
            ),
        ] {
            assert_eq!(at(row, col), g(path), "W{id} {col}");
        }
        let cai = numbers(&w["corresponding_author_ids"]);
        assert_eq!(at(row, "cai").as_str(), cai.as_deref(), "W{id}");
        let cii = numbers(&w["corresponding_institution_ids"]);
        assert_eq!(at(row, "cii").as_str(), cii.as_deref(), "W{id}");
    }

    // PubMed's table stays PubMed's.
    assert_eq!(sql_value(&jl, "SELECT count(*) FROM work_grants"), "0");
}

/// Copies the JSON Lines snapshot to `dir` and returns its `data/jsonl`.
pub(crate) fn copy_jsonl(dir: &Path) -> PathBuf {
    let src = fixtures().join("jsonl");
    let dst = dir.join("data/jsonl");
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let to = dst.join(p.strip_prefix(&src).unwrap());
            if p.is_dir() {
                stack.push(p);
            } else {
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(&p, &to).unwrap();
            }
        }
    }
    dst
}

#[test]
fn a_combined_manifest_count_mismatch_names_the_part_from_either_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let jsonl = copy_jsonl(tmp.path());
    let path = jsonl.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // One more record than the part holds, for one works part; and 99 for an authors part, which
    // is checked when the authors are read (the prefix), not when only `works/` is.
    let entries = m["entries"].as_array_mut().unwrap();
    let works_i = entries
        .iter()
        .position(|e| e["url"].as_str().unwrap().contains("/works/"))
        .unwrap();
    let url = entries[works_i]["url"].as_str().unwrap().to_string();
    let n = entries[works_i]["meta"]["record_count"].as_u64().unwrap();
    entries[works_i]["meta"]["record_count"] = (n + 1).into();
    let authors_i = entries
        .iter()
        .position(|e| e["url"].as_str().unwrap().contains("/authors/"))
        .unwrap();
    entries[authors_i]["meta"]["record_count"] = 99.into();
    std::fs::write(&path, m.to_string()).unwrap();
    let part = url.split("data/jsonl/").nth(1).unwrap();

    for (name, input) in [("prefix", jsonl.clone()), ("works", jsonl.join("works"))] {
        let ds = tmp.path().join(name);
        let m = ingest(&[&input], &ds, &[]);
        let errors: Vec<&str> = m["input_errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        let authors_checked = name == "prefix";
        assert_eq!(
            errors.len(),
            1 + usize::from(authors_checked),
            "{name}: {errors:?}"
        );
        assert_eq!(
            errors
                .iter()
                .any(|e| e.contains("/authors/") && e.contains("manifest says 99 records")),
            authors_checked,
            "{name}: {errors:?}"
        );
        assert!(
            errors[0].contains(part)
                && errors[0].contains(&format!("manifest says {} records, {n} were read", n + 1)),
            "{name}: {}",
            errors[0]
        );
        // --strict turns it into exit code 3.
        let strict = bibflow(&[
            "--quiet",
            "ingest",
            "openalex",
            input.to_str().unwrap(),
            "--out",
            tmp.path().join(format!("{name}-strict")).to_str().unwrap(),
            "--strict",
        ]);
        assert_eq!(strict.status.code(), Some(3), "{name}");
    }
    // A listed works part that is missing is reported too.
    std::fs::remove_file(jsonl.join(part)).unwrap();
    let m = ingest(&[&jsonl], &tmp.path().join("missing"), &[]);
    let errors = m["input_errors"].to_string();
    assert!(
        errors.contains("but not found") && errors.contains(part),
        "{errors}"
    );
}

#[test]
fn the_parquet_copy_is_read_when_mixed_with_json_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    // `data/`: both formats; every work is read twice and kept once.
    let m = ingest(&[&fixtures()], &ds, &[]);
    let records: u64 = jsonl_parts().iter().map(|(_, w)| w.len() as u64).sum();
    assert_eq!(m["records"]["read"], 2 * records);
    assert_eq!(m["records"]["ingested"], 2 * records);
    let parquet_inputs = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["source"] == "openalex" && i["path"].as_str().unwrap().ends_with(".parquet"))
        .count();
    assert_eq!(parquet_inputs, jsonl_parts().len());
    assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM works"),
        newest().len().to_string()
    );
}

/// A work in the 2026 shape with one odd field each, as JSON Lines.
fn odd_works() -> Vec<(serde_json::Value, &'static str)> {
    use serde_json::json;
    let base = |n: i64| {
        json!({"id": format!("https://openalex.org/W{n}"), "title": format!("odd {n}"),
               "publication_year": 2020, "cited_by_count": 3, "ids": {"pmid": "https://pubmed.ncbi.nlm.nih.gov/1"},
               "authorships": [{"author_position": "first", "countries": ["US"], "institutions": []}],
               "referenced_works": ["https://openalex.org/W9"], "updated_date": "2026-01-01T00:00:00"})
    };
    let with = |n: i64, key: &str, v: serde_json::Value| {
        let mut w = base(n);
        w[key] = v;
        w
    };
    vec![
        (
            with(201, "publication_year", json!("2021")),
            "publication_year",
        ),
        (with(202, "ids", json!({"pmid": 29456894})), "ids.pmid"),
        (with(203, "cited_by_count", json!(12.5)), "cited_by_count"),
        (
            with(
                204,
                "referenced_works",
                json!([null, "https://openalex.org/W9"]),
            ),
            "referenced_works[0]",
        ),
        (
            with(
                205,
                "authorships",
                json!([null, {"author_position": "first", "countries": [null, "FR"]}]),
            ),
            "authorships[0]",
        ),
        (
            with(206, "open_access", json!({"is_oa": "yes"})),
            "open_access.is_oa",
        ),
    ]
}

#[test]
fn a_field_of_the_wrong_type_keeps_its_work_with_a_warning_unless_strict() {
    let tmp = tempfile::tempdir().unwrap();
    let odd = odd_works();
    let mut lines: Vec<String> = odd.iter().map(|(w, _)| w.to_string()).collect();
    // No usable id: the only reason left to reject.
    lines.push(r#"{"id": 7, "title": "an integer id"}"#.into());
    lines.push(r#"{"title": "no id", "publication_year": "x"}"#.into());
    let input = tmp.path().join("odd.jsonl");
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();

    let ds = tmp.path().join("ds");
    let (m, stderr) = ingest_loud(&[&input], &ds, &[]);
    assert_eq!(m["records"]["read"], lines.len());
    assert_eq!(m["records"]["ingested"], odd.len());
    assert_eq!(m["records"]["rejected"], 2);
    assert!(stderr.contains("field warnings"), "{stderr}");

    // One warning per odd field (204 and 205 have one each too), naming file, line and field.
    let dir = ds.join("_rejects/warnings");
    let mut warnings: Vec<serde_json::Value> = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        warnings.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
    }
    let extra_205 = 1; // its second authorship's null country
    assert_eq!(warnings.len(), odd.len() + extra_205, "{warnings:?}");
    assert_eq!(m["records"]["warnings"], warnings.len());
    for (i, (w, field)) in odd.iter().enumerate() {
        let id = w_number(&w["id"]);
        let mine: Vec<_> = warnings.iter().filter(|x| x["work_id"] == id).collect();
        assert!(mine.iter().any(|x| x["field"] == *field), "W{id}: {mine:?}");
        for x in mine {
            assert_eq!(x["line"], i as u64 + 1);
            assert!(x["file"].as_str().unwrap().ends_with("odd.jsonl"));
        }
    }
    // The values: converted when lossless, NULL otherwise, lists without their null items.
    let row = |id: i64, col: &str| {
        let r = sql_json(
            &ds,
            &format!("SELECT {col} AS v FROM works WHERE work_id = {id}"),
        );
        r[0].get("v").cloned().unwrap_or(serde_json::Value::Null)
    };
    assert_eq!(row(201, "publication_year"), 2021);
    assert_eq!(row(202, "pmid"), 29456894);
    assert!(row(203, "cited_by_count").is_null());
    assert!(row(206, "is_oa").is_null());
    assert_eq!(row(204, "referenced_works_count"), 1);
    assert_eq!(row(205, "authors_count"), 1);
    assert_eq!(
        sql_value(
            &ds,
            "SELECT array_to_string(countries, ';') FROM authorships WHERE work_id = 205"
        ),
        "FR"
    );
    let rejects = std::fs::read_dir(ds.join("_rejects"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().is_file())
        .count();
    assert_eq!(rejects, 1, "one rejects file, beside warnings/");

    // --strict: the old rule, each odd work rejected whole.
    let strict = tmp.path().join("strict");
    let out = bibflow(&[
        "--quiet",
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        strict.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(3));
    let m = manifest(&strict);
    assert_eq!(m["records"]["read"], lines.len());
    assert_eq!(m["records"]["ingested"], 0);
    assert_eq!(m["records"]["rejected"], lines.len());
    assert_eq!(m["records"]["warnings"], 0);
    assert!(!strict.join("_rejects/warnings").exists());
}

#[test]
fn truncated_author_lists_are_flagged_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let real: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(openalex_fixtures().join("pyopenalex/work.json")).unwrap(),
    )
    .unwrap();
    // An API page: one work cut at 100 authors, one complete.
    let mut cut = real.clone();
    cut["id"] = "https://openalex.org/W301".into();
    let author = cut["authorships"][0].clone();
    cut["authorships"] = serde_json::Value::Array(vec![author; 100]);
    cut["is_authors_truncated"] = true.into();
    let mut whole = real;
    whole["id"] = "https://openalex.org/W302".into();
    whole["is_authors_truncated"] = false.into();
    let page = serde_json::json!({"meta": {"count": 2}, "results": [cut, whole]});
    let input = tmp.path().join("page.json");
    std::fs::write(&input, serde_json::to_string_pretty(&page).unwrap()).unwrap();

    let ds = tmp.path().join("ds");
    let (m, stderr) = ingest_loud(&[&input], &ds, &[]);
    assert_eq!(m["records"]["ingested"], 2);
    assert_eq!(m["records"]["authors_truncated"], 1);
    assert!(
        stderr.contains("1 works have a truncated author list"),
        "{stderr}"
    );
    let rows = sql_rows(
        &ds,
        "SELECT work_id, is_authors_truncated, authors_count FROM works ORDER BY work_id",
    );
    let whole_authors = page["results"][1]["authorships"].as_array().unwrap().len();
    assert_eq!(
        rows,
        [
            ["301".to_string(), "true".into(), "100".into()],
            ["302".to_string(), "false".into(), whole_authors.to_string()],
        ]
    );
}

#[test]
fn legacy_merged_ids_beside_the_2026_snapshot_are_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let bucket = tmp.path().join("openalex");
    let jsonl = copy_jsonl(&bucket);
    // OpenAlex merged W100002 into W100005 (the merged ids live under legacy-data/ since 2026).
    let merged = bucket.join("legacy-data/merged_ids");
    write_gz(
        &merged.join("works/2026-06-02.csv.gz"),
        "merge_date,id,merge_into_id\n2026-06-02,W100002,W100005\n",
    );
    let kept: Vec<String> = newest()
        .keys()
        .filter(|&&id| id != 100002)
        .map(|id| id.to_string())
        .collect();
    // Given beside the works, or found under the bucket root.
    for (name, inputs) in [
        ("beside", vec![jsonl.clone(), merged.clone()]),
        ("root", vec![bucket.clone()]),
    ] {
        let ds = tmp.path().join(name);
        let refs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
        let m = ingest(&refs, &ds, &[]);
        assert_eq!(m["merged_away"], 1, "{name}: {m}");
        assert_eq!(
            m["input_errors"].as_array().unwrap().len(),
            0,
            "{name}: {m}"
        );
        let ids: Vec<String> = sql_rows(&ds, "SELECT work_id FROM works ORDER BY work_id")
            .into_iter()
            .map(|r| r[0].clone())
            .collect();
        assert_eq!(ids, kept, "{name}");
        assert!(
            m["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["source"] == "openalex-merged-ids"),
            "{name}"
        );
    }
}

#[test]
fn a_damaged_parquet_part_is_an_input_error_and_the_other_parts_are_read() {
    let tmp = tempfile::tempdir().unwrap();
    let src = fixtures().join("parquet/works");
    let works = tmp.path().join("works");
    let mut parts = Vec::new();
    for day in std::fs::read_dir(&src).unwrap() {
        let day = day.unwrap().path();
        for f in std::fs::read_dir(&day).unwrap() {
            let f = f.unwrap().path();
            let to = works
                .join(day.file_name().unwrap())
                .join(f.file_name().unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&f, &to).unwrap();
            parts.push(to);
        }
    }
    parts.sort();
    // Cut the last part in half: its footer (the Parquet metadata) is gone.
    let cut = parts.last().unwrap();
    let bytes = std::fs::read(cut).unwrap();
    std::fs::write(cut, &bytes[..bytes.len() / 2]).unwrap();
    let whole: u64 = jsonl_parts()[..parts.len() - 1]
        .iter()
        .map(|(_, w)| w.len() as u64)
        .sum();

    let ds = tmp.path().join("ds");
    let m = ingest(&[&works], &ds, &[]);
    assert_eq!(m["records"]["read"], whole);
    assert_eq!(m["records"]["ingested"], whole);
    let errors = m["input_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{m}");
    let e = errors[0].as_str().unwrap();
    assert!(
        e.contains(cut.to_str().unwrap()) && e.contains("Parquet"),
        "{e}"
    );
}

/// Every top-level key of a real 2026 work is either stored (a column or table documented in
/// docs/schema.md) or listed there as not stored: docs/schema.md names each one.
#[test]
fn every_field_of_a_current_work_is_documented_as_stored_or_not() {
    let doc = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema.md"))
        .unwrap();
    let work: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(openalex_fixtures().join("pyopenalex/work.json")).unwrap(),
    )
    .unwrap();
    let keys: Vec<&String> = work.as_object().unwrap().keys().collect();
    assert!(keys.len() > 40, "{}", keys.len());
    let missing: Vec<&&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}")) && !doc.contains(&format!("| {k} |")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/schema.md does not name: {missing:?}"
    );
}
