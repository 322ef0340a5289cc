//! The reader on small inline records.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, Int32Type, Int64Type};

use super::append::Appender;
use super::parse::Parser;
use super::record::Record;
use super::split::Kind;
use super::*;
use crate::builders::TableBuilders;
use crate::ingest::{StageOptions, StageReport, stage};
use crate::input::{InputFile, Inputs};
use crate::source::Progress;

fn article(pmid: u32, inner: &str) -> String {
    format!(
        "<PubmedArticle><MedlineCitation Status=\"MEDLINE\"><PMID Version=\"1\">{pmid}</PMID>\
         <Article>{inner}</Article></MedlineCitation></PubmedArticle>"
    )
}

/// Parses and appends one `<PubmedArticle>`; returns the builders' batches by table name.
fn convert(xml: &str) -> (Record, [RecordBatch; crate::schema::TABLE_COUNT]) {
    let mut rec = Record::default();
    Parser::default()
        .parse(xml, Kind::Article, &mut rec)
        .expect("parses");
    let mut b = TableBuilders::default();
    Appender::default().append(&rec, &mut b);
    (rec, b.finish().unwrap())
}

fn string(batch: &RecordBatch, column: &str, row: usize) -> Option<String> {
    let c = batch.column_by_name(column).unwrap().as_string::<i32>();
    c.is_valid(row).then(|| c.value(row).to_owned())
}

#[test]
fn medline_dates_give_the_first_year_and_no_date() {
    for (text, year) in [
        ("1979 Jul-Sep", 1979),
        ("1998 Dec-1999 Jan", 1998),
        ("Spring 2000", 2000),
    ] {
        let xml = article(
            1,
            &format!(
                "<Journal><JournalIssue><PubDate><MedlineDate>{text}</MedlineDate></PubDate>\
                 </JournalIssue></Journal>"
            ),
        );
        let (_, t) = convert(&xml);
        let years = t[0]
            .column_by_name("publication_year")
            .unwrap()
            .as_primitive::<Int32Type>();
        assert_eq!(years.value(0), year, "{text}");
        assert!(t[0].column_by_name("publication_date").unwrap().is_null(0));
    }
}

#[test]
fn a_full_pub_date_with_a_month_name_is_a_date() {
    let xml = article(
        2,
        "<Journal><JournalIssue><PubDate><Year>1970</Year><Month>Jan</Month><Day>02</Day>\
         </PubDate></JournalIssue></Journal>",
    );
    let (_, t) = convert(&xml);
    let d = t[0]
        .column_by_name("publication_date")
        .unwrap()
        .as_primitive::<Date32Type>();
    assert_eq!(d.value(0), 1);
}

#[test]
fn inline_markup_is_flattened_and_entities_resolved() {
    let xml = article(
        3,
        "<ArticleTitle>The <i>BRCA1</i> gene &amp; H<sub>2</sub>O at 10<sup>-3</sup> M</ArticleTitle>\
         <Abstract><AbstractText Label=\"BACKGROUND\">A fast-acting &#946;\n\t\t<sub>2</sub>-agonist.</AbstractText>\
         <AbstractText Label=\"R &amp; D\">Second <b>bold</b> part.</AbstractText>\
         <CopyrightInformation>not abstract</CopyrightInformation></Abstract>",
    );
    let (_, t) = convert(&xml);
    assert_eq!(
        string(&t[0], "title", 0).as_deref(),
        Some("The BRCA1 gene & H2O at 10-3 M")
    );
    assert_eq!(
        string(&t[0], "abstract", 0).as_deref(),
        Some("BACKGROUND: A fast-acting β 2-agonist.\nR & D: Second bold part.")
    );
}

#[test]
fn authors_mesh_and_ids_are_kept() {
    let xml = "<PubmedArticle><MedlineCitation><PMID>77</PMID><Article>\
         <ELocationID EIdType=\"pii\">S0</ELocationID><ELocationID EIdType=\"doi\">10.1000/ABC</ELocationID>\
         <AuthorList><Author ValidYN=\"Y\"><LastName>Curie</LastName><ForeName>Marie</ForeName>\
         <Identifier Source=\"ORCID\">https://orcid.org/0000-0001-2345-6789</Identifier>\
         <AffiliationInfo><Affiliation>Institut du Radium, Paris.</Affiliation></AffiliationInfo>\
         <AffiliationInfo><Affiliation>Sorbonne.</Affiliation></AffiliationInfo></Author>\
         <Author ValidYN=\"N\"><LastName>Cury</LastName></Author>\
         <Author><CollectiveName>The X Group</CollectiveName></Author></AuthorList>\
         <Language>fre</Language></Article>\
         <MeshHeadingList><MeshHeading><DescriptorName UI=\"D1\" MajorTopicYN=\"N\">Radium</DescriptorName>\
         <QualifierName UI=\"Q1\" MajorTopicYN=\"Y\">history</QualifierName></MeshHeading>\
         <MeshHeading><DescriptorName UI=\"D2\" MajorTopicYN=\"N\">Humans</DescriptorName></MeshHeading>\
         </MeshHeadingList>\
         <CommentsCorrectionsList><CommentsCorrections RefType=\"Cites\"><PMID>5</PMID></CommentsCorrections></CommentsCorrectionsList>\
         </MedlineCitation><PubmedData><ArticleIdList><ArticleId IdType=\"pubmed\">77</ArticleId>\
         <ArticleId IdType=\"pmc\">PMC123</ArticleId></ArticleIdList>\
         <ReferenceList><Reference><Citation>x</Citation><ArticleIdList>\
         <ArticleId IdType=\"pubmed\">9</ArticleId><ArticleId IdType=\"doi\">10.9/no</ArticleId>\
         </ArticleIdList></Reference><Reference><Citation>y</Citation></Reference></ReferenceList>\
         </PubmedData></PubmedArticle>";
    let (rec, t) = convert(xml);
    assert_eq!(rec.pmid, Some(77));
    let works = &t[0];
    let id = works.column(0).as_primitive::<Int64Type>();
    assert_eq!(id.value(0), -77);
    assert_eq!(string(works, "doi", 0).as_deref(), Some("10.1000/abc"));
    assert_eq!(string(works, "language", 0).as_deref(), Some("fr"));
    assert_eq!(string(works, "source", 0).as_deref(), Some("pubmed"));
    let pmcid = works
        .column_by_name("pmcid")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(pmcid.value(0), 123);
    let refs_count = works
        .column_by_name("referenced_works_count")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(refs_count.value(0), 2);
    let authors_count = works
        .column_by_name("authors_count")
        .unwrap()
        .as_primitive::<Int32Type>();
    assert_eq!(
        authors_count.value(0),
        2,
        "the ValidYN=N entry is not an author"
    );

    let au = &t[1];
    assert_eq!(au.num_rows(), 2);
    assert_eq!(string(au, "author_name", 0).as_deref(), Some("Marie Curie"));
    assert_eq!(string(au, "author_name", 1).as_deref(), Some("The X Group"));
    assert_eq!(
        string(au, "orcid", 0).as_deref(),
        Some("0000-0001-2345-6789")
    );
    let affs = au
        .column_by_name("raw_affiliations")
        .unwrap()
        .as_list::<i32>();
    assert_eq!(affs.value(0).len(), 2);
    assert_eq!(affs.value(1).len(), 0);
    let countries = au
        .column_by_name("affiliation_countries")
        .unwrap()
        .as_list::<i32>();
    assert_eq!(countries.value(0).len(), 2, "parallel to raw_affiliations");

    let mesh = &t[3];
    assert_eq!(mesh.num_rows(), 2);
    let major = mesh.column_by_name("is_major_topic").unwrap().as_boolean();
    assert!(
        major.value(0),
        "a major qualifier makes the descriptor major"
    );
    assert!(!major.value(1));
    let quals = mesh.column_by_name("qualifiers").unwrap().as_list::<i32>();
    assert_eq!(quals.value(0).len(), 1);
    assert_eq!(quals.value(1).len(), 0);

    let refs = &t[5];
    assert_eq!(refs.num_rows(), 1, "only references with a PMID");
    assert_eq!(refs.column(1).as_primitive::<Int64Type>().value(0), -9);
}

fn stage_text(name: &str, text: &str) -> (StageReport, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let inputs = Inputs {
        files: vec![InputFile {
            path: path.clone(),
            size: text.len() as u64,
            snapshot_date: None,
            remote: None,
        }],
        ..Inputs::default()
    };
    let staging = dir.path().join("staging");
    let report = stage(
        &PubMed,
        &inputs,
        &staging,
        &StageOptions {
            threads: 1,
            chunk_bytes: None,
        },
        &Progress::default(),
    )
    .unwrap();
    let mut rejects = Vec::new();
    if let Ok(rd) = std::fs::read_dir(staging.join(crate::staging::REJECTS_DIR)) {
        for e in rd {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            rejects.extend(text.lines().map(|l| serde_json::from_str(l).unwrap()));
        }
    }
    (report, rejects)
}

#[test]
fn a_broken_tag_rejects_its_record_only() {
    let good = article(1, "<ArticleTitle>one</ArticleTitle>");
    let bad = article(2, "<ArticleTitle>two</ArticleTitl><Language>eng</Language>");
    let next = article(3, "<ArticleTitle>three</ArticleTitle>");
    let head = "<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n";
    let text = format!("{head}{good}\n{bad}\n{next}\n</PubmedArticleSet>\n");
    let (report, rejects) = stage_text("a.xml", &text);
    let c = report.totals;
    assert_eq!((c.read, c.ingested, c.rejected), (3, 2, 1));
    assert_eq!(rejects.len(), 1);
    let r = &rejects[0];
    let offset = (head.len() + good.len() + 1) as u64;
    assert_eq!(r["byte_offset"], offset);
    assert_eq!(r["line"], 4);
    assert_eq!(r["record"], bad.as_str());
    assert!(r["file"].as_str().unwrap().ends_with("a.xml"));
    let reason = r["reason"].as_str().unwrap();
    assert!(reason.contains("malformed XML"), "{reason}");
}

#[test]
fn a_missing_end_tag_rejects_the_broken_part_and_resumes_at_the_next_record() {
    let good = article(1, "");
    let cut = "<PubmedArticle><MedlineCitation><PMID>2</PMID>";
    let next = article(3, "");
    let text = format!("<PubmedArticleSet>\n{good}\n{cut}\n{next}\n</PubmedArticleSet>");
    let (report, rejects) = stage_text("b.xml", &text);
    let c = report.totals;
    assert_eq!((c.read, c.ingested, c.rejected), (3, 2, 1));
    assert_eq!(rejects[0]["line"], 3);
    assert_eq!(rejects[0]["record"], format!("{cut}\n"));
    assert!(
        rejects[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no </PubmedArticle> before the next <PubmedArticle>")
    );
}

#[test]
fn delete_citations_are_deletions_not_records() {
    let text = format!(
        "<PubmedArticleSet>{}<DeleteCitation><PMID Version=\"1\">11</PMID>\
         <PMID Version=\"1\">12</PMID></DeleteCitation></PubmedArticleSet>",
        article(10, "")
    );
    let (report, rejects) = stage_text("u.xml", &text);
    assert!(rejects.is_empty(), "{rejects:?}");
    let f = &report.files[0];
    assert_eq!((f.counts.read, f.counts.ingested), (1, 1));
    assert_eq!(f.deletions, 2);
}

#[test]
fn a_second_copy_of_a_pmid_is_rejected() {
    let one = article(5, "<ArticleTitle>first</ArticleTitle>");
    let two = article(5, "<ArticleTitle>second</ArticleTitle>");
    // Both on one line: told apart by their position in the file.
    let text = format!("<PubmedArticleSet>{one}{two}</PubmedArticleSet>");
    let (report, rejects) = stage_text("d.xml", &text);
    assert_eq!(
        (
            report.totals.read,
            report.totals.ingested,
            report.totals.rejected
        ),
        (2, 1, 1)
    );
    assert_eq!(rejects[0]["record"], two.as_str());
    assert!(
        rejects[0]["reason"]
            .as_str()
            .unwrap()
            .contains("PMID 5 appears twice")
    );
}

#[test]
fn a_record_without_pmid_is_rejected() {
    let text =
        "<PubmedArticleSet><PubmedArticle><MedlineCitation/></PubmedArticle></PubmedArticleSet>";
    let (report, rejects) = stage_text("n.xml", text);
    assert_eq!(report.totals.rejected, 1);
    assert!(rejects[0]["reason"].as_str().unwrap().contains("no PMID"));
}

/// Every file under `dir`, relative path -> bytes.
fn tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_output_does_not_depend_on_the_number_of_parser_threads() {
    // Many chunks, with a broken record, a duplicate and a deletion in different chunks.
    let mut text = String::from("<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n");
    for i in 1..=1500u32 {
        let title = format!("<ArticleTitle>title {i}</ArticleTitle><Language>eng</Language>");
        let rec = match i {
            300 => article(i, "<ArticleTitle>broken</ArticleTitl>"),
            900 => article(17, &title),
            1200 => "<DeleteCitation><PMID>5</PMID></DeleteCitation>".to_string(),
            _ => article(i, &title),
        };
        text.push_str(&rec);
        text.push('\n');
    }
    text.push_str("</PubmedArticleSet>\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.xml");
    std::fs::write(&path, &text).unwrap();
    let inputs = Inputs {
        files: vec![InputFile {
            path: path.clone(),
            size: text.len() as u64,
            snapshot_date: None,
            remote: None,
        }],
        ..Inputs::default()
    };
    let mut trees = Vec::new();
    for threads in [1, 3, 8] {
        let staging = dir.path().join(format!("staging-{threads}"));
        let report = stage(
            &PubMed,
            &inputs,
            &staging,
            &StageOptions {
                threads,
                chunk_bytes: None,
            },
            &Progress::default(),
        )
        .unwrap();
        let c = report.totals;
        assert_eq!((c.read, c.ingested, c.rejected), (1499, 1497, 2));
        assert_eq!(report.files[0].deletions, 1);
        trees.push(tree(&staging));
    }
    assert!(trees[0].len() > 3, "{:?}", trees[0].keys());
    assert_eq!(trees[0], trees[1]);
    assert_eq!(trees[0], trees[2]);
}
