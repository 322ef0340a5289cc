//! A parsed [`Record`] -> rows of the canonical tables (`work_id = -PMID`, `source = 'pubmed'`).
//!
//! Every column of every row started is appended, nulls included, so that the builders stay
//! aligned.

use crate::builders::TableBuilders;
use crate::openalex::ids::normalize_doi;

use super::dates::{date32, language_code, micros};
use super::record::Record;

/// Distinct affiliation texts resolved per record before the resolver is simply called again.
const RESOLVED_CACHE: usize = 32;

/// Reusable buffers of the appender.
#[derive(Debug, Default)]
pub struct Appender {
    name: String,
    orcid: String,
    /// Resolved countries of the affiliations of the current record, parallel to its affiliations.
    aff_countries: Vec<Option<&'static str>>,
    author_countries: Vec<&'static str>,
    work_countries: Vec<&'static str>,
    references: Vec<i64>,
}

/// What the appender learned about the work, for version keeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub work_id: i64,
    /// `DateRevised` (else `DateCompleted`, else `DateCreated`) in microseconds since the epoch.
    pub updated_micros: Option<i64>,
}

impl Appender {
    /// Appends one record (whose PMID is known) to the builders.
    pub fn append(&mut self, rec: &Record, out: &mut TableBuilders) -> Appended {
        let pmid = rec
            .pmid
            .expect("records are checked for a PMID when parsed");
        let work_id = -pmid;
        self.resolve_affiliations(rec);
        let updated_micros = [&rec.revised, &rec.completed, &rec.created]
            .into_iter()
            .find_map(micros);

        self.append_authorships(rec, work_id, out);

        let t = &mut out.works;
        t.work_id.append_value(work_id);
        t.openalex_id.append_null();
        let doi = rec
            .opt(rec.doi)
            .and_then(normalize_doi)
            .or_else(|| rec.opt(rec.doi_article_id).and_then(normalize_doi));
        t.doi.append_option(doi);
        t.pmid.append_value(pmid);
        t.pmcid.append_option(rec.pmcid);
        t.mag_id.append_null();
        t.title
            .append_option(rec.opt(rec.article_title.or(rec.book_title)));
        t.r#abstract
            .append_option((!rec.abstract_text.is_empty()).then_some(rec.abstract_text.as_str()));
        let (year, date) = match rec.pub_date.year.or(rec.medline_year) {
            Some(y) => (Some(y), date32(&rec.pub_date)),
            None => (rec.article_date.year, date32(&rec.article_date)),
        };
        t.publication_year.append_option(year);
        t.publication_date.append_option(date);
        t.r#type.append_null();
        t.type_crossref.append_null();
        t.language
            .append_option(rec.opt(rec.language).and_then(language_code));
        t.source_id.append_null();
        if rec.is_book {
            t.source_name.append_option(rec.opt(rec.book_title));
            t.source_issn_l.append_null();
            t.source_type.append_value("book");
        } else {
            t.source_name.append_option(rec.opt(rec.journal_title));
            t.source_issn_l
                .append_option(rec.opt(rec.issn_linking.or(rec.issn)));
            t.source_type.append_value("journal");
        }
        t.journal_iso_abbrev.append_option(rec.opt(rec.iso_abbrev));
        t.journal_nlm_id.append_option(rec.opt(rec.nlm_id));
        t.is_oa.append_null();
        t.oa_status.append_null();
        t.cited_by_count.append_null();
        t.referenced_works_count
            .append_option(rec.reference_count.map(i64::from));
        t.fwci.append_null();
        t.citation_percentile.append_null();
        t.is_top_1_percent.append_null();
        t.is_top_10_percent.append_null();
        t.primary_topic_id.append_null();
        t.primary_topic_name.append_null();
        t.subfield_id.append_null();
        t.subfield_name.append_null();
        t.field_id.append_null();
        t.field_name.append_null();
        t.domain_id.append_null();
        t.domain_name.append_null();
        t.authors_count.append_value(rec.authors.len() as i32);
        t.countries_count
            .append_value(self.work_countries.len() as i32);
        // NLM marks retracted articles with this publication type.
        let retracted = rec
            .pub_types
            .iter()
            .any(|p| rec.get(p.name) == "Retracted Publication");
        t.is_retracted.append_value(retracted);
        t.is_paratext.append_null();
        t.updated_date.append_option(updated_micros);
        t.source.append_value("pubmed");
        t.append_no_openalex_details();

        let p = &mut out.work_publication_types;
        for pt in &rec.pub_types {
            p.work_id.append_value(work_id);
            p.publication_type.append_value(rec.get(pt.name));
            p.ui.append_option(rec.opt(pt.ui));
        }

        let m = &mut out.work_mesh;
        for h in &rec.mesh {
            let Some(ui) = rec.opt(h.ui).filter(|u| !u.is_empty()) else {
                continue;
            };
            m.work_id.append_value(work_id);
            m.descriptor_ui.append_value(ui);
            m.descriptor_name.append_option(rec.opt(h.name));
            m.is_major_topic.append_value(h.major);
            for q in &rec.qualifiers[h.q_start as usize..h.q_end as usize] {
                m.qualifiers
                    .push(rec.opt(q.ui), Some(rec.get(q.name)), q.major);
            }
            m.qualifiers.end_row();
        }

        let k = &mut out.work_keywords;
        for kw in &rec.keywords {
            k.work_id.append_value(work_id);
            k.keyword.append_value(rec.get(kw.text));
            k.is_major_topic.append_option(kw.major);
            k.owner.append_option(rec.opt(kw.owner));
        }

        let c = &mut out.work_chemicals;
        for ch in &rec.chemicals {
            let Some(name) = rec.opt(ch.name) else {
                continue;
            };
            c.work_id.append_value(work_id);
            c.substance_ui.append_option(rec.opt(ch.ui));
            c.substance_name.append_value(name);
            c.registry_number.append_option(rec.opt(ch.registry));
        }

        let g = &mut out.work_grants;
        for gr in &rec.grants {
            g.work_id.append_value(work_id);
            g.grant_id.append_option(rec.opt(gr.id));
            g.acronym.append_option(rec.opt(gr.acronym));
            g.agency.append_option(rec.opt(gr.agency));
            g.country.append_option(rec.opt(gr.country));
        }

        self.references.clear();
        self.references.extend_from_slice(&rec.references);
        self.references.sort_unstable();
        self.references.dedup();
        let r = &mut out.work_references;
        for &cited in &self.references {
            r.work_id.append_value(work_id);
            r.referenced_work_id.append_value(-cited);
        }

        Appended {
            work_id,
            updated_micros,
        }
    }

    /// Resolves each affiliation once per distinct text (consortium papers repeat one text often).
    fn resolve_affiliations(&mut self, rec: &Record) {
        self.aff_countries.clear();
        for (i, &span) in rec.affiliations.iter().enumerate() {
            let text = rec.get(span);
            let earlier = rec.affiliations[..i]
                .iter()
                .take(RESOLVED_CACHE)
                .position(|&s| rec.get(s) == text);
            let country = match earlier {
                Some(j) => self.aff_countries[j],
                None => bibflow_affiliation::resolve(text).map(|r| r.country),
            };
            self.aff_countries.push(country);
        }
    }

    fn append_authorships(&mut self, rec: &Record, work_id: i64, out: &mut TableBuilders) {
        self.work_countries.clear();
        let a = &mut out.authorships;
        for (pos, au) in rec.authors.iter().enumerate() {
            a.work_id.append_value(work_id);
            a.author_position.append_value(pos as i32);
            a.author_position_tag.append_null();
            a.author_id.append_null();
            self.name.clear();
            if let Some(c) = rec.opt(au.collective) {
                self.name.push_str(c);
            } else {
                for part in [rec.opt(au.fore.or(au.initials)), rec.opt(au.last)]
                    .into_iter()
                    .flatten()
                {
                    if !self.name.is_empty() {
                        self.name.push(' ');
                    }
                    self.name.push_str(part);
                }
            }
            a.author_name
                .append_option((!self.name.is_empty()).then_some(self.name.as_str()));
            a.orcid.append_option(
                rec.opt(au.orcid)
                    .and_then(|o| normalize_orcid(o, &mut self.orcid)),
            );
            a.is_corresponding.append_null();

            let range = au.aff_start as usize..au.aff_end as usize;
            // Before 2014 MEDLINE gave one affiliation, the first author's, on the article.
            let article_aff = pos == 0 && range.is_empty() && rec.article_affiliation.is_some();
            self.author_countries.clear();
            for i in range {
                a.raw_affiliations
                    .values()
                    .append_value(rec.get(rec.affiliations[i]));
                a.affiliation_countries
                    .values()
                    .append_option(self.aff_countries[i]);
                if let Some(c) = self.aff_countries[i] {
                    self.author_countries.push(c);
                }
            }
            if article_aff && let Some(text) = rec.opt(rec.article_affiliation) {
                let country = bibflow_affiliation::resolve(text).map(|r| r.country);
                a.raw_affiliations.values().append_value(text);
                a.affiliation_countries.values().append_option(country);
                self.author_countries.extend(country);
            }
            a.raw_affiliations.append(true);
            a.affiliation_countries.append(true);
            a.institution_ids.append(true);
            a.institution_countries.append(true);
            self.author_countries.sort_unstable();
            self.author_countries.dedup();
            for c in &self.author_countries {
                a.countries.values().append_value(c);
            }
            a.countries.append(true);
            self.work_countries
                .extend_from_slice(&self.author_countries);
        }
        self.work_countries.sort_unstable();
        self.work_countries.dedup();
    }
}

/// An ORCID iD without its URL, hyphenated: `https://orcid.org/0000000218250097` ->
/// `0000-0002-1825-0097`; `None` when it does not look like one.
fn normalize_orcid<'a>(raw: &'a str, buf: &'a mut String) -> Option<&'a str> {
    let id = raw.trim().trim_end_matches('/').rsplit('/').next()?.trim();
    let compact = id.bytes().filter(|&b| b != b'-' && b != b' ').count();
    if compact != 16 {
        return (!id.is_empty()).then_some(id);
    }
    buf.clear();
    for (i, ch) in id.chars().filter(|&c| c != '-' && c != ' ').enumerate() {
        if i > 0 && i % 4 == 0 {
            buf.push('-');
        }
        buf.push(ch.to_ascii_uppercase());
    }
    Some(buf.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orcids_lose_their_url_and_gain_hyphens() {
        let mut b = String::new();
        assert_eq!(
            normalize_orcid("https://orcid.org/0000-0002-1825-009X", &mut b),
            Some("0000-0002-1825-009X")
        );
        assert_eq!(
            normalize_orcid("http://orcid.org/000000021825009x", &mut b),
            Some("0000-0002-1825-009X")
        );
        assert_eq!(normalize_orcid("  ", &mut b), None);
    }
}
