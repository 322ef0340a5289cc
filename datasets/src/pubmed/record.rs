//! What the reader keeps of one PubMed record, in buffers reused from record to record.
//!
//! All text lives in one arena string per record; fields are spans into it, so parsing a record
//! allocates nothing once the buffers have grown to the size of the largest record.

/// A range of [`Record::text`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// Year, month and day of a PubMed date element, each when given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateParts {
    pub year: Option<i32>,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

/// One author of the record.
#[derive(Debug, Clone, Copy, Default)]
pub struct Author {
    pub last: Option<Span>,
    pub fore: Option<Span>,
    pub initials: Option<Span>,
    pub collective: Option<Span>,
    pub orcid: Option<Span>,
    /// Range of [`Record::affiliations`].
    pub aff_start: u32,
    pub aff_end: u32,
}

/// One MeSH heading; its qualifiers are a range of [`Record::qualifiers`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Mesh {
    pub ui: Option<Span>,
    pub name: Option<Span>,
    pub major: bool,
    pub q_start: u32,
    pub q_end: u32,
}

/// One MeSH qualifier (subheading).
#[derive(Debug, Clone, Copy, Default)]
pub struct Qualifier {
    pub ui: Option<Span>,
    pub name: Span,
    pub major: Option<bool>,
}

/// One keyword with its list's owner.
#[derive(Debug, Clone, Copy, Default)]
pub struct Keyword {
    pub text: Span,
    pub major: Option<bool>,
    pub owner: Option<Span>,
}

/// One chemical substance.
#[derive(Debug, Clone, Copy, Default)]
pub struct Chemical {
    pub ui: Option<Span>,
    pub name: Option<Span>,
    pub registry: Option<Span>,
}

/// One grant.
#[derive(Debug, Clone, Copy, Default)]
pub struct Grant {
    pub id: Option<Span>,
    pub acronym: Option<Span>,
    pub agency: Option<Span>,
    pub country: Option<Span>,
}

/// One publication type with its MeSH UI.
#[derive(Debug, Clone, Copy, Default)]
pub struct PubType {
    pub name: Span,
    pub ui: Option<Span>,
}

/// The parsed content of one record.
#[derive(Debug, Default)]
pub struct Record {
    /// The text arena every [`Span`] points into.
    pub text: String,
    pub pmid: Option<i64>,
    /// PMIDs listed by a `DeleteCitation`.
    pub deleted: Vec<i64>,
    pub is_book: bool,
    /// `ELocationID EIdType="doi"`.
    pub doi: Option<Span>,
    /// `ArticleId IdType="doi"`.
    pub doi_article_id: Option<Span>,
    pub pmcid: Option<i64>,
    pub article_title: Option<Span>,
    pub book_title: Option<Span>,
    /// Abstract paragraphs, `LABEL: text`, joined with `\n`; empty when there is no abstract.
    pub abstract_text: String,
    pub journal_title: Option<Span>,
    pub iso_abbrev: Option<Span>,
    pub issn: Option<Span>,
    pub issn_linking: Option<Span>,
    pub nlm_id: Option<Span>,
    pub language: Option<Span>,
    pub pub_date: DateParts,
    /// The first year in a free-text `MedlineDate`.
    pub medline_year: Option<i32>,
    pub article_date: DateParts,
    pub revised: DateParts,
    pub completed: DateParts,
    pub created: DateParts,
    pub authors: Vec<Author>,
    pub affiliations: Vec<Span>,
    /// `Article/Affiliation` of the DTDs before 2014: the first author's affiliation.
    pub article_affiliation: Option<Span>,
    pub pub_types: Vec<PubType>,
    pub mesh: Vec<Mesh>,
    pub qualifiers: Vec<Qualifier>,
    pub keywords: Vec<Keyword>,
    pub chemicals: Vec<Chemical>,
    pub grants: Vec<Grant>,
    /// PMIDs of the cited works (`ReferenceList/Reference/ArticleIdList/ArticleId IdType="pubmed"`).
    pub references: Vec<i64>,
    /// `Reference` elements, when the record has a `ReferenceList`.
    pub reference_count: Option<u32>,
}

impl Record {
    /// Empties the record, keeping its buffers.
    pub fn clear(&mut self) {
        let mut abstract_text = std::mem::take(&mut self.abstract_text);
        abstract_text.clear();
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let mut deleted = std::mem::take(&mut self.deleted);
        deleted.clear();
        let mut authors = std::mem::take(&mut self.authors);
        authors.clear();
        let mut affiliations = std::mem::take(&mut self.affiliations);
        affiliations.clear();
        let mut pub_types = std::mem::take(&mut self.pub_types);
        pub_types.clear();
        let mut mesh = std::mem::take(&mut self.mesh);
        mesh.clear();
        let mut qualifiers = std::mem::take(&mut self.qualifiers);
        qualifiers.clear();
        let mut keywords = std::mem::take(&mut self.keywords);
        keywords.clear();
        let mut chemicals = std::mem::take(&mut self.chemicals);
        chemicals.clear();
        let mut grants = std::mem::take(&mut self.grants);
        grants.clear();
        let mut references = std::mem::take(&mut self.references);
        references.clear();
        *self = Record {
            text,
            abstract_text,
            deleted,
            authors,
            affiliations,
            pub_types,
            mesh,
            qualifiers,
            keywords,
            chemicals,
            grants,
            references,
            ..Record::default()
        };
    }

    /// The text of a span.
    pub fn get(&self, s: Span) -> &str {
        &self.text[s.start as usize..s.end as usize]
    }

    /// The text of an optional span.
    pub fn opt(&self, s: Option<Span>) -> Option<&str> {
        s.map(|s| self.get(s))
    }
}
