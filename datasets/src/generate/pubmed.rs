//! Synthetic works -> PubMed baseline-style XML: `pubmed26nNNNN.xml.gz`, each a
//! `<PubmedArticleSet>` of [`PUBMED_FILE_RECORDS`] `<PubmedArticle>` records, that
//! `bibflow ingest pubmed` reads.
//!
//! Each record carries what the PubMed reader keeps: `MedlineCitation/PMID`, `DateRevised`
//! (the scenario's `updated_date`), `Article` (journal with ISSN and `PubDate`, `ArticleTitle`,
//! `ELocationID` doi, `Abstract`, `AuthorList` with ORCID identifiers and one `AffiliationInfo`
//! per affiliation, `Language`, `PublicationTypeList`), `MedlineJournalInfo`, `MeshHeadingList`
//! (`DescriptorName`/`QualifierName` with UI and `MajorTopicYN`), and `PubmedData` (`ArticleIdList`
//! with pubmed, doi and pmc ids, and a `ReferenceList`: the corpus works cited, by PMID, then one
//! citation-only entry per reference outside the corpus).
//!
//! Affiliations are written the way PubMed shows them, in several forms drawn per affiliation
//! from a hash (so the generator's random streams and its other outputs are unchanged): most end
//! with a country name or a common variant ("USA", "P.R. China", "Republic of Korea", "The
//! Netherlands"), some American ones with a state and ZIP code, some with an e-mail address, and a
//! few name only the city or only an e-mail address, as real ones do. bibflow's affiliation
//! resolver maps them back to the generator's country for nearly every author (measured by the
//! tests).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::Compression;
use flate2::GzBuilder;

use super::model::Model;
use super::rng::mix;
use super::work::{Affiliation, Author, PMID_BASE, SynthWork, WORK_ID_BASE, synthesize};
use super::{GenerateOptions, publish, run_blocks, staging_dir};
use crate::error::{DatasetError, Result};
use crate::outdir::Cleanup;

/// Records per file (NLM's baseline files hold up to 30,000). Changing it changes the files.
#[cfg(not(test))]
pub const PUBMED_FILE_RECORDS: u64 = 10_000;
/// Small files in unit tests, so that small corpora still span several files.
#[cfg(test)]
pub const PUBMED_FILE_RECORDS: u64 = 700;

const HEADER: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<!DOCTYPE PubmedArticleSet PUBLIC \"-//NLM//DTD PubMedArticle, 1st January 2025//EN\" \
\"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd\">\n";

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Ways of writing a country besides the scenario's name (all resolved by bibflow's resolver).
const COUNTRY_VARIANTS: &[(&str, &[&str])] = &[
    (
        "US",
        &[
            "USA",
            "USA",
            "United States",
            "U.S.A.",
            "United States of America",
        ],
    ),
    (
        "CN",
        &[
            "China",
            "China",
            "P.R. China",
            "People's Republic of China",
            "PR China",
        ],
    ),
    ("GB", &["UK", "United Kingdom", "UK"]),
    ("KR", &["Korea", "Republic of Korea", "South Korea"]),
    ("NL", &["The Netherlands", "Netherlands"]),
    ("IR", &["Iran", "Iran"]),
];

/// American cities with their state and a ZIP code, for the "Boston, MA 02115, USA" form.
const US_CITIES: &[(&str, &str, &str)] = &[
    ("Boston", "MA", "02115"),
    ("Seattle", "WA", "98109"),
    ("Houston", "TX", "77030"),
    ("Philadelphia", "PA", "19104"),
    ("Bethesda", "MD", "20892"),
    ("San Francisco", "CA", "94143"),
    ("New York", "NY", "10065"),
    ("Baltimore", "MD", "21205"),
    ("Los Angeles", "CA", "90095"),
    ("Chicago", "IL", "60611"),
    ("Nashville", "TN", "37232"),
    ("Pittsburgh", "PA", "15213"),
];

/// E-mail domain endings by country (else the lower-case country code).
const MAIL_TLDS: &[(&str, &str)] = &[
    ("US", "edu"),
    ("GB", "ac.uk"),
    ("JP", "ac.jp"),
    ("CN", "edu.cn"),
    ("KR", "ac.kr"),
    ("AU", "edu.au"),
    ("IN", "ac.in"),
    ("IR", "ac.ir"),
    ("IL", "ac.il"),
];

/// Writes the synthetic works as PubMed baseline files under `out`: `pubmed26n0001.xml.gz`, ...
/// ([`PUBMED_FILE_RECORDS`] records each) and a `SYNTHETIC.txt`. `out` must not exist or be
/// empty. The gzip headers carry no time stamp, so the files are reproducible whatever the
/// thread count.
pub fn generate_pubmed_xml(
    opts: &GenerateOptions,
    out: &Path,
    progress: &AtomicU64,
) -> Result<Vec<Cleanup>> {
    let model = opts.model()?;
    let (staging, tmp) = staging_dir(out)?;
    let files = opts.works.div_ceil(PUBMED_FILE_RECORDS);
    run_blocks(files, opts.threads, |f| {
        let path = tmp.join(file_name(f));
        let file = File::create(&path).map_err(|e| DatasetError::write(&path, e))?;
        let gz = GzBuilder::new()
            .mtime(0)
            .write(BufWriter::with_capacity(1 << 20, file), Compression::new(6));
        let mut gz = BufWriter::with_capacity(1 << 20, gz);
        let io = |e| DatasetError::write(&path, e);
        let mut buf = String::with_capacity(64 * 1024);
        buf.push_str(HEADER);
        buf.push_str(
            "<!-- SYNTHETIC DATA made by bibflow generate: no record describes a real publication. -->\n",
        );
        buf.push_str("<PubmedArticleSet>\n");
        let end = ((f + 1) * PUBMED_FILE_RECORDS).min(opts.works);
        for i in f * PUBMED_FILE_RECORDS..end {
            record(&model, &synthesize(&model, i), &mut buf);
            if buf.len() > 512 * 1024 {
                gz.write_all(buf.as_bytes()).map_err(io)?;
                buf.clear();
            }
            progress.fetch_add(1, Ordering::Relaxed);
        }
        buf.push_str("</PubmedArticleSet>\n");
        gz.write_all(buf.as_bytes()).map_err(io)?;
        let gz = gz.into_inner().map_err(|e| io(e.into_error()))?;
        gz.finish().map_err(io)?.flush().map_err(io)?;
        Ok(())
    })?;
    let readme = tmp.join("SYNTHETIC.txt");
    std::fs::write(
        &readme,
        format!(
            "SYNTHETIC DATA made by `bibflow generate --format pubmed-xml` (seed {}, {} works, \
             scenario {}).\nNo record here describes a real publication; PMIDs start at {PMID_BASE}.\n",
            opts.seed, opts.works, opts.scenario.corpus.name
        ),
    )
    .map_err(|e| DatasetError::write(&readme, e))?;
    publish(staging, &tmp)
}

/// `pubmed26n0001.xml.gz` for file 0, as NLM numbers the 2026 baseline.
pub fn file_name(file: u64) -> String {
    format!("pubmed26n{:04}.xml.gz", file + 1)
}

/// Appends `text` with `&`, `<` and `>` escaped.
fn esc(out: &mut String, text: &str) {
    if !text.contains(['&', '<', '>']) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

fn date(out: &mut String, tag: &str, d: chrono::NaiveDate, month_name: bool) {
    use chrono::Datelike;
    let _ = write!(out, "<{tag}><Year>{}</Year>", d.year());
    if month_name {
        let _ = write!(out, "<Month>{}</Month>", MONTHS[d.month0() as usize]);
    } else {
        let _ = write!(out, "<Month>{:02}</Month>", d.month());
    }
    let _ = write!(out, "<Day>{:02}</Day></{tag}>", d.day());
}

fn yn(b: bool) -> &'static str {
    if b { "Y" } else { "N" }
}

/// One `<PubmedArticle>` (and a newline).
fn record(model: &Model, w: &SynthWork<'_>, out: &mut String) {
    let s = w.scenario;
    let src = &s.sources[w.source];
    let revised =
        chrono::NaiveDate::parse_from_str(&s.corpus.updated_date, "%Y-%m-%d").unwrap_or(w.date);
    let indexed = !w.mesh.is_empty();
    let status = if indexed {
        "MEDLINE"
    } else {
        "PubMed-not-MEDLINE"
    };
    let _ = write!(
        out,
        "<PubmedArticle><MedlineCitation Status=\"{status}\" Owner=\"NLM\">\
         <PMID Version=\"1\">{}</PMID>",
        w.pmid
    );
    if indexed {
        let completed = (w.date + chrono::Days::new(30 + (w.pmid % 90) as u64)).min(revised);
        date(out, "DateCompleted", completed, false);
    }
    date(out, "DateRevised", revised, false);
    out.push_str("<Article PubModel=\"Print\"><Journal>");
    if let Some(issn) = &src.issn_l {
        let _ = write!(out, "<ISSN IssnType=\"Print\">{issn}</ISSN>");
    }
    let _ = write!(
        out,
        "<JournalIssue CitedMedium=\"Print\"><Volume>{}</Volume><Issue>{}</Issue>",
        (w.year - 1960).max(1),
        chrono::Datelike::month(&w.date)
    );
    date(out, "PubDate", w.date, true);
    out.push_str("</JournalIssue><Title>");
    esc(out, &src.name);
    out.push_str("</Title></Journal><ArticleTitle>");
    esc(out, &w.title);
    let first_page = 1 + (mix(&[w.pmid as u64]) % 2000);
    let _ = write!(
        out,
        "</ArticleTitle><Pagination><StartPage>{first_page}</StartPage><EndPage>{}</EndPage>\
         <MedlinePgn>{first_page}-{}</MedlinePgn></Pagination>\
         <ELocationID EIdType=\"doi\" ValidYN=\"Y\">",
        first_page + 9,
        first_page + 9
    );
    esc(out, &w.doi);
    out.push_str("</ELocationID><Abstract><AbstractText>");
    esc(out, &w.abstract_text);
    out.push_str("</AbstractText></Abstract>");
    if !w.authors.is_empty() {
        out.push_str("<AuthorList CompleteYN=\"Y\">");
        for (pos, a) in w.authors.iter().enumerate() {
            author(model, w, pos, a, out);
        }
        out.push_str("</AuthorList>");
    }
    out.push_str("<Language>eng</Language><PublicationTypeList>");
    for (name, ui) in &w.publication_types {
        out.push_str("<PublicationType");
        if let Some(ui) = ui {
            let _ = write!(out, " UI=\"{ui}\"");
        }
        out.push('>');
        esc(out, name);
        out.push_str("</PublicationType>");
    }
    out.push_str("</PublicationTypeList></Article><MedlineJournalInfo><Country>United States</Country><MedlineTA>");
    esc(out, &src.name);
    let _ = write!(out, "</MedlineTA><NlmUniqueID>{}</NlmUniqueID>", src.id);
    if let Some(issn) = &src.issn_l {
        let _ = write!(out, "<ISSNLinking>{issn}</ISSNLinking>");
    }
    out.push_str("</MedlineJournalInfo>");
    if indexed {
        out.push_str("<CitationSubset>IM</CitationSubset><MeshHeadingList>");
        for m in &w.mesh {
            // A major heading with qualifiers is major through them, as NLM writes it.
            let through_qualifiers = m.major && !m.qualifiers.is_empty();
            let _ = write!(
                out,
                "<MeshHeading><DescriptorName UI=\"{}\" MajorTopicYN=\"{}\">",
                m.term.ui,
                yn(m.major && !through_qualifiers)
            );
            esc(out, &m.term.name);
            out.push_str("</DescriptorName>");
            for q in &m.qualifiers {
                let _ = write!(
                    out,
                    "<QualifierName UI=\"{}\" MajorTopicYN=\"{}\">",
                    q.ui,
                    yn(m.major)
                );
                esc(out, &q.name);
                out.push_str("</QualifierName>");
            }
            out.push_str("</MeshHeading>");
        }
        out.push_str("</MeshHeadingList>");
    }
    out.push_str("</MedlineCitation><PubmedData><History>");
    let entrez = w
        .date
        .checked_sub_days(chrono::Days::new(14))
        .unwrap_or(w.date);
    out.push_str("<PubMedPubDate PubStatus=\"entrez\">");
    date_parts(out, entrez);
    out.push_str("</PubMedPubDate></History><PublicationStatus>ppublish</PublicationStatus>");
    let _ = write!(
        out,
        "<ArticleIdList><ArticleId IdType=\"pubmed\">{}</ArticleId><ArticleId IdType=\"doi\">",
        w.pmid
    );
    esc(out, &w.doi);
    out.push_str("</ArticleId>");
    if let Some(pmc) = w.pmcid {
        let _ = write!(out, "<ArticleId IdType=\"pmc\">PMC{pmc}</ArticleId>");
    }
    out.push_str("</ArticleIdList>");
    if w.referenced_works_count > 0 {
        out.push_str("<ReferenceList>");
        for &cited in &w.references {
            let pmid = cited - WORK_ID_BASE + PMID_BASE;
            let _ = write!(
                out,
                "<Reference><Citation>Synthetic corpus work, PMID {pmid}.</Citation>\
                 <ArticleIdList><ArticleId IdType=\"pubmed\">{pmid}</ArticleId></ArticleIdList>\
                 </Reference>"
            );
        }
        let external = w.referenced_works_count - w.references.len() as i64;
        for k in 1..=external {
            let _ = write!(
                out,
                "<Reference><Citation>Synthetic reference {k} outside the corpus.</Citation></Reference>"
            );
        }
        out.push_str("</ReferenceList>");
    }
    out.push_str("</PubmedData></PubmedArticle>\n");
}

fn date_parts(out: &mut String, d: chrono::NaiveDate) {
    use chrono::Datelike;
    let _ = write!(
        out,
        "<Year>{}</Year><Month>{}</Month><Day>{}</Day>",
        d.year(),
        d.month(),
        d.day()
    );
}

fn author(model: &Model, w: &SynthWork<'_>, pos: usize, a: &Author<'_>, out: &mut String) {
    out.push_str("<Author ValidYN=\"Y\"><LastName>");
    esc(out, a.surname);
    let _ = write!(
        out,
        "</LastName><ForeName>{0}</ForeName><Initials>{0}</Initials>",
        a.initial
    );
    if let Some(orcid) = &a.orcid {
        let _ = write!(out, "<Identifier Source=\"ORCID\">{orcid}</Identifier>");
    }
    for (k, af) in a.affiliations.iter().enumerate() {
        out.push_str("<AffiliationInfo><Affiliation>");
        affiliation_text(model, a, af, affiliation_hash(model, w.pmid, pos, k), out);
        out.push_str("</Affiliation></AffiliationInfo>");
    }
    out.push_str("</Author>");
}

/// What picks the form of affiliation `k` of the author at `pos` of work `pmid`.
pub(crate) fn affiliation_hash(model: &Model, pmid: i64, pos: usize, k: usize) -> u64 {
    mix(&[model.seed, pmid as u64, pos as u64, k as u64, 0x6166_6621])
}

/// One affiliation as PubMed writes it, in a form chosen by `h` (escaped).
pub(crate) fn affiliation_text(
    model: &Model,
    a: &Author<'_>,
    af: &Affiliation<'_>,
    h: u64,
    out: &mut String,
) {
    let (Some(code), Some(ci), Some(city)) = (af.country, af.country_index, af.city) else {
        // No known country: the department alone, as the generator's raw string.
        esc(out, &af.raw);
        out.push('.');
        return;
    };
    let def = &model.scenario.countries[ci as usize];
    let variants = COUNTRY_VARIANTS
        .iter()
        .find(|v| v.0 == code)
        .map_or(&[][..], |v| v.1);
    let country = if variants.is_empty() || (h >> 8).is_multiple_of(3) {
        def.name.as_str()
    } else {
        variants[((h >> 16) % variants.len() as u64) as usize]
    };
    let dept = af.department;
    let inst = af.institution_name.as_str();
    let form = h % 100;
    let mut text = String::with_capacity(96);
    match form {
        // "Department of X, Boston University, Boston, MA 02115, USA." (American ones)
        50..62 if code == "US" => match US_CITIES.iter().find(|c| c.0 == city) {
            Some((_, state, zip)) => {
                let _ = write!(
                    text,
                    "Department of {dept}, {inst}, {city}, {state} {zip}, USA."
                );
            }
            None => {
                let _ = write!(text, "Department of {dept}, {inst}, {city}, {country}.");
            }
        },
        // ... with the author's e-mail address.
        62..74 => {
            let _ = write!(
                text,
                "Department of {dept}, {inst}, {city}, {country}. Electronic address: "
            );
            mail(a, inst, code, &mut text);
            text.push('.');
        }
        // No department.
        74..82 => {
            let _ = write!(text, "{inst}, {city}, {country}.");
        }
        // No country: the city alone says where.
        82..92 => {
            let _ = write!(text, "Department of {dept}, {inst}, {city}.");
        }
        // Only the e-mail address says where.
        92..96 => {
            let _ = write!(text, "Department of {dept}, {inst}. ");
            mail(a, inst, code, &mut text);
            text.push('.');
        }
        96..100 => {
            let _ = write!(text, "Division of {dept}, {inst}, {city}, {country}.");
        }
        _ => {
            let _ = write!(text, "Department of {dept}, {inst}, {city}, {country}.");
        }
    }
    esc(out, &text);
}

/// `a.smith@bostonuniversity.edu`.
fn mail(a: &Author<'_>, inst: &str, code: &str, out: &mut String) {
    out.push(a.initial.to_ascii_lowercase());
    out.push('.');
    slug(a.surname, out);
    out.push('@');
    slug(inst, out);
    out.push('.');
    match MAIL_TLDS.iter().find(|t| t.0 == code) {
        Some((_, tld)) => out.push_str(tld),
        None => out.push_str(&code.to_ascii_lowercase()),
    }
}

/// Lower-case ASCII letters and digits of `text`, accents folded, the rest dropped.
fn slug(text: &str, out: &mut String) {
    for c in text.chars() {
        let c = match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
}
