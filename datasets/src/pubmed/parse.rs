//! One record chunk -> a [`Record`]: a single pass over quick-xml events with a stack of element
//! tags, no DOM.
//!
//! Text of the elements bibflow keeps is captured into the record's arena with inline markup
//! (`<i>`, `<sup>`, `<sub>`, `<b>`, MathML, ...) flattened to its text, entity references resolved,
//! and runs of whitespace collapsed to one space.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use super::dates::{month_number, parse_number, year_in};
use super::record::{
    Author, Chemical, DateParts, Grant, Keyword, Mesh, PubType, Qualifier, Record, Span,
};
use super::split::Kind;

/// Why a chunk is not a usable record, and where (a byte offset inside the chunk).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: u64,
    pub reason: String,
}

/// The elements the reader looks at; everything else is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Other,
    MedlineCitation,
    BookDocument,
    PubmedData,
    DeleteCitation,
    Pmid,
    Article,
    Journal,
    Issn,
    PubDate,
    Year,
    Month,
    Day,
    MedlineDate,
    Title,
    IsoAbbreviation,
    ArticleTitle,
    Book,
    BookTitle,
    ELocationId,
    Abstract,
    AbstractText,
    AuthorList,
    Author,
    LastName,
    ForeName,
    Initials,
    CollectiveName,
    Identifier,
    AffiliationInfo,
    Affiliation,
    Language,
    PublicationTypeList,
    PublicationType,
    ArticleDate,
    MedlineJournalInfo,
    NlmUniqueId,
    IssnLinking,
    ChemicalList,
    Chemical,
    RegistryNumber,
    NameOfSubstance,
    MeshHeadingList,
    MeshHeading,
    DescriptorName,
    QualifierName,
    KeywordList,
    Keyword,
    GrantList,
    Grant,
    GrantId,
    Acronym,
    Agency,
    Country,
    DateCompleted,
    DateRevised,
    DateCreated,
    ArticleIdList,
    ArticleId,
    ReferenceList,
    Reference,
}

fn tag_of(name: &str) -> Tag {
    match name {
        "MedlineCitation" => Tag::MedlineCitation,
        "BookDocument" => Tag::BookDocument,
        "PubmedData" => Tag::PubmedData,
        "DeleteCitation" => Tag::DeleteCitation,
        "PMID" => Tag::Pmid,
        "Article" => Tag::Article,
        "Journal" => Tag::Journal,
        "ISSN" => Tag::Issn,
        "PubDate" => Tag::PubDate,
        "Year" => Tag::Year,
        "Month" => Tag::Month,
        "Day" => Tag::Day,
        "MedlineDate" => Tag::MedlineDate,
        "Title" => Tag::Title,
        "ISOAbbreviation" => Tag::IsoAbbreviation,
        "ArticleTitle" => Tag::ArticleTitle,
        "Book" => Tag::Book,
        "BookTitle" => Tag::BookTitle,
        "ELocationID" => Tag::ELocationId,
        "Abstract" => Tag::Abstract,
        "AbstractText" => Tag::AbstractText,
        "AuthorList" => Tag::AuthorList,
        "Author" => Tag::Author,
        "LastName" => Tag::LastName,
        "ForeName" => Tag::ForeName,
        "Initials" => Tag::Initials,
        "CollectiveName" => Tag::CollectiveName,
        "Identifier" => Tag::Identifier,
        "AffiliationInfo" => Tag::AffiliationInfo,
        "Affiliation" => Tag::Affiliation,
        "Language" => Tag::Language,
        "PublicationTypeList" => Tag::PublicationTypeList,
        "PublicationType" => Tag::PublicationType,
        "ArticleDate" => Tag::ArticleDate,
        "MedlineJournalInfo" => Tag::MedlineJournalInfo,
        "NlmUniqueID" => Tag::NlmUniqueId,
        "ISSNLinking" => Tag::IssnLinking,
        "ChemicalList" => Tag::ChemicalList,
        "Chemical" => Tag::Chemical,
        "RegistryNumber" => Tag::RegistryNumber,
        "NameOfSubstance" => Tag::NameOfSubstance,
        "MeshHeadingList" => Tag::MeshHeadingList,
        "MeshHeading" => Tag::MeshHeading,
        "DescriptorName" => Tag::DescriptorName,
        "QualifierName" => Tag::QualifierName,
        "KeywordList" => Tag::KeywordList,
        "Keyword" => Tag::Keyword,
        "GrantList" => Tag::GrantList,
        "Grant" => Tag::Grant,
        "GrantID" => Tag::GrantId,
        "Acronym" => Tag::Acronym,
        "Agency" => Tag::Agency,
        "Country" => Tag::Country,
        "DateCompleted" => Tag::DateCompleted,
        "DateRevised" => Tag::DateRevised,
        "DateCreated" => Tag::DateCreated,
        "ArticleIdList" => Tag::ArticleIdList,
        "ArticleId" => Tag::ArticleId,
        "ReferenceList" => Tag::ReferenceList,
        "Reference" => Tag::Reference,
        _ => Tag::Other,
    }
}

/// What a captured element's text becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Pmid,
    DeletedPmid,
    DatePart,
    MedlineDate,
    JournalTitle,
    IsoAbbrev,
    Issn,
    IssnLinking,
    NlmId,
    ArticleTitle,
    BookTitle,
    Doi,
    ArticleIdDoi,
    ArticleIdPmc,
    ReferencePmid,
    AbstractText,
    LastName,
    ForeName,
    Initials,
    CollectiveName,
    Orcid,
    Affiliation,
    ArticleAffiliation,
    Language,
    PublicationType,
    DescriptorName,
    QualifierName,
    Keyword,
    RegistryNumber,
    NameOfSubstance,
    GrantId,
    Acronym,
    Agency,
    Country,
}

/// An element whose text is being collected.
#[derive(Debug, Clone, Copy)]
struct Capture {
    field: Field,
    /// Stack depth with the element on it.
    depth: usize,
    start: u32,
    /// A kept attribute (`UI`, `Label`), in the arena.
    attr: Option<Span>,
    /// `MajorTopicYN`.
    major: Option<bool>,
}

/// The event loop's reusable state.
#[derive(Debug, Default)]
pub struct Parser {
    stack: Vec<Tag>,
    capture: Option<Capture>,
    /// Depth of the author list being read, and whether one was read already.
    author_list: Option<usize>,
    authors_done: bool,
    /// Depth of the current (valid) author.
    author: Option<usize>,
    keyword_owner: Option<Span>,
    scratch: String,
}

impl Parser {
    /// Parses one chunk of the given kind into `rec` (which is cleared first).
    pub fn parse(&mut self, chunk: &str, kind: Kind, rec: &mut Record) -> Result<(), ParseError> {
        rec.clear();
        rec.is_book = kind == Kind::Book;
        self.stack.clear();
        self.capture = None;
        self.author_list = None;
        self.authors_done = false;
        self.author = None;
        self.keyword_owner = None;

        let mut reader = Reader::from_str(chunk);
        reader.config_mut().expand_empty_elements = true;
        let fail = |reader: &Reader<&[u8]>, e: &dyn std::fmt::Display| ParseError {
            at: reader.error_position(),
            reason: format!("malformed XML: {e}"),
        };
        loop {
            let event = reader.read_event().map_err(|e| fail(&reader, &e))?;
            match event {
                Event::Start(e) => {
                    let tag = tag_of(e.name().0);
                    self.start(tag, &e, rec).map_err(|e| fail(&reader, &e))?;
                    self.stack.push(tag);
                }
                Event::End(_) => {
                    if let Some(c) = self.capture
                        && c.depth == self.stack.len()
                    {
                        self.capture = None;
                        self.finish(c, rec);
                    }
                    self.end();
                    self.stack.pop();
                }
                Event::Text(t) if self.capture.is_some() => rec.text.push_str(&t),
                Event::CData(t) if self.capture.is_some() => rec.text.push_str(&t),
                Event::GeneralRef(r) if self.capture.is_some() => {
                    push_reference(&mut rec.text, &r);
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if let Some(open) = self.stack.last() {
            return Err(ParseError {
                at: reader.buffer_position(),
                reason: format!("malformed XML: element {open:?} is not closed"),
            });
        }
        if kind != Kind::Delete && rec.pmid.is_none() {
            return Err(ParseError {
                at: 0,
                reason: "the record has no PMID".into(),
            });
        }
        Ok(())
    }

    fn parent(&self) -> Tag {
        self.stack.last().copied().unwrap_or(Tag::Other)
    }

    fn grandparent(&self) -> Tag {
        let n = self.stack.len();
        if n >= 2 {
            self.stack[n - 2]
        } else {
            Tag::Other
        }
    }

    fn start(
        &mut self,
        tag: Tag,
        e: &BytesStart<'_>,
        rec: &mut Record,
    ) -> Result<(), quick_xml::events::attributes::AttrError> {
        if self.capture.is_some() || tag == Tag::Other {
            return Ok(());
        }
        let parent = self.parent();
        let depth = self.stack.len() + 1;
        let field = match tag {
            Tag::Pmid => match parent {
                Tag::MedlineCitation | Tag::BookDocument if rec.pmid.is_none() => Field::Pmid,
                Tag::DeleteCitation => Field::DeletedPmid,
                _ => return Ok(()),
            },
            Tag::Year | Tag::Month | Tag::Day => match parent {
                Tag::PubDate
                | Tag::ArticleDate
                | Tag::DateRevised
                | Tag::DateCompleted
                | Tag::DateCreated => Field::DatePart,
                _ => return Ok(()),
            },
            Tag::MedlineDate if parent == Tag::PubDate => Field::MedlineDate,
            Tag::Title if parent == Tag::Journal => Field::JournalTitle,
            Tag::IsoAbbreviation if parent == Tag::Journal => Field::IsoAbbrev,
            Tag::Issn if parent == Tag::Journal && rec.issn.is_none() => Field::Issn,
            Tag::IssnLinking if parent == Tag::MedlineJournalInfo => Field::IssnLinking,
            Tag::NlmUniqueId if parent == Tag::MedlineJournalInfo => Field::NlmId,
            Tag::ArticleTitle if matches!(parent, Tag::Article | Tag::BookDocument) => {
                Field::ArticleTitle
            }
            Tag::BookTitle if parent == Tag::Book => Field::BookTitle,
            Tag::ELocationId if parent == Tag::Article && attr_is(e, "EIdType", "doi")? => {
                Field::Doi
            }
            Tag::AbstractText if parent == Tag::Abstract => {
                let attr = attr_span(e, "Label", rec)?;
                self.capture = Some(Capture {
                    field: Field::AbstractText,
                    depth,
                    start: rec.text.len() as u32,
                    attr,
                    major: None,
                });
                return Ok(());
            }
            Tag::AuthorList => {
                if !self.authors_done
                    && self.author_list.is_none()
                    && matches!(parent, Tag::Article | Tag::BookDocument | Tag::Book)
                    && !attr_is(e, "Type", "editors")?
                {
                    self.author_list = Some(depth);
                }
                return Ok(());
            }
            Tag::Author => {
                if self.author_list == Some(depth - 1) && !attr_is(e, "ValidYN", "N")? {
                    let n = rec.affiliations.len() as u32;
                    rec.authors.push(Author {
                        aff_start: n,
                        aff_end: n,
                        ..Author::default()
                    });
                    self.author = Some(depth);
                }
                return Ok(());
            }
            Tag::LastName | Tag::ForeName | Tag::Initials | Tag::CollectiveName
                if self.author == Some(depth - 1) =>
            {
                match tag {
                    Tag::LastName => Field::LastName,
                    Tag::ForeName => Field::ForeName,
                    Tag::Initials => Field::Initials,
                    _ => Field::CollectiveName,
                }
            }
            Tag::Identifier if self.author == Some(depth - 1) && attr_is(e, "Source", "ORCID")? => {
                Field::Orcid
            }
            Tag::Affiliation => {
                if parent == Tag::AffiliationInfo && self.author == Some(depth - 2) {
                    Field::Affiliation
                } else if parent == Tag::Article && rec.article_affiliation.is_none() {
                    Field::ArticleAffiliation
                } else {
                    return Ok(());
                }
            }
            Tag::Language
                if matches!(parent, Tag::Article | Tag::BookDocument) && rec.language.is_none() =>
            {
                Field::Language
            }
            Tag::PublicationType
                if matches!(parent, Tag::PublicationTypeList | Tag::BookDocument) =>
            {
                Field::PublicationType
            }
            Tag::MeshHeading if parent == Tag::MeshHeadingList => {
                let n = rec.qualifiers.len() as u32;
                rec.mesh.push(Mesh {
                    q_start: n,
                    q_end: n,
                    ..Mesh::default()
                });
                return Ok(());
            }
            Tag::DescriptorName if parent == Tag::MeshHeading => Field::DescriptorName,
            Tag::QualifierName if parent == Tag::MeshHeading => Field::QualifierName,
            Tag::KeywordList => {
                self.keyword_owner = attr_span(e, "Owner", rec)?;
                return Ok(());
            }
            Tag::Keyword if parent == Tag::KeywordList => Field::Keyword,
            Tag::Chemical if parent == Tag::ChemicalList => {
                rec.chemicals.push(Chemical::default());
                return Ok(());
            }
            Tag::RegistryNumber if parent == Tag::Chemical => Field::RegistryNumber,
            Tag::NameOfSubstance if parent == Tag::Chemical => Field::NameOfSubstance,
            Tag::Grant if parent == Tag::GrantList => {
                rec.grants.push(Grant::default());
                return Ok(());
            }
            Tag::GrantId | Tag::Acronym | Tag::Agency | Tag::Country if parent == Tag::Grant => {
                match tag {
                    Tag::GrantId => Field::GrantId,
                    Tag::Acronym => Field::Acronym,
                    Tag::Agency => Field::Agency,
                    _ => Field::Country,
                }
            }
            Tag::ReferenceList => {
                rec.reference_count.get_or_insert(0);
                return Ok(());
            }
            Tag::Reference if parent == Tag::ReferenceList => {
                *rec.reference_count.get_or_insert(0) += 1;
                return Ok(());
            }
            Tag::ArticleId if parent == Tag::ArticleIdList => {
                let in_reference = self.stack.contains(&Tag::Reference);
                let Some(id_type) = attr_value(e, "IdType")? else {
                    return Ok(());
                };
                match (in_reference, id_type.as_ref()) {
                    (true, "pubmed") => Field::ReferencePmid,
                    (false, "doi")
                        if matches!(self.grandparent(), Tag::PubmedData | Tag::BookDocument) =>
                    {
                        Field::ArticleIdDoi
                    }
                    (false, "pmc")
                        if matches!(self.grandparent(), Tag::PubmedData | Tag::BookDocument) =>
                    {
                        Field::ArticleIdPmc
                    }
                    _ => return Ok(()),
                }
            }
            _ => return Ok(()),
        };
        let (attr, major) = match field {
            Field::PublicationType | Field::NameOfSubstance => (attr_span(e, "UI", rec)?, None),
            Field::DescriptorName | Field::QualifierName => {
                (attr_span(e, "UI", rec)?, attr_yn(e, "MajorTopicYN")?)
            }
            Field::Keyword => (None, attr_yn(e, "MajorTopicYN")?),
            _ => (None, None),
        };
        self.capture = Some(Capture {
            field,
            depth,
            start: rec.text.len() as u32,
            attr,
            major,
        });
        Ok(())
    }

    fn end(&mut self) {
        let depth = self.stack.len();
        if self.author == Some(depth) {
            self.author = None;
        } else if self.author_list == Some(depth) {
            self.author_list = None;
            self.authors_done = true;
        }
    }

    fn finish(&mut self, c: Capture, rec: &mut Record) {
        collapse_whitespace(&mut rec.text, c.start as usize, &mut self.scratch);
        let span = Span {
            start: c.start,
            end: rec.text.len() as u32,
        };
        let text = &rec.text[c.start as usize..];
        let some = (!text.is_empty()).then_some(span);
        match c.field {
            Field::Pmid => rec.pmid = parse_pmid(text),
            Field::DeletedPmid => {
                if let Some(p) = parse_pmid(text) {
                    rec.deleted.push(p);
                }
            }
            Field::DatePart => {
                // The captured element (`Year`, `Month`, `Day`) is still on the stack.
                let parts = match self.grandparent() {
                    Tag::PubDate => &mut rec.pub_date,
                    Tag::ArticleDate => &mut rec.article_date,
                    Tag::DateRevised => &mut rec.revised,
                    Tag::DateCompleted => &mut rec.completed,
                    _ => &mut rec.created,
                };
                set_date_part(parts, self.parent(), text);
            }
            Field::MedlineDate => rec.medline_year = year_in(text),
            Field::JournalTitle => rec.journal_title = some,
            Field::IsoAbbrev => rec.iso_abbrev = some,
            Field::Issn => rec.issn = some,
            Field::IssnLinking => rec.issn_linking = some,
            Field::NlmId => rec.nlm_id = some,
            Field::ArticleTitle => rec.article_title = some,
            Field::BookTitle => rec.book_title = some,
            Field::Doi => {
                rec.doi = rec.doi.or(some);
            }
            Field::ArticleIdDoi => rec.doi_article_id = rec.doi_article_id.or(some),
            Field::ArticleIdPmc => {
                let digits = text.trim_start_matches("PMC");
                rec.pmcid = rec.pmcid.or_else(|| parse_number(digits));
            }
            Field::ReferencePmid => {
                if let Some(p) = parse_pmid(text) {
                    rec.references.push(p);
                }
            }
            Field::AbstractText => self.abstract_paragraph(c, span, rec),
            Field::LastName
            | Field::ForeName
            | Field::Initials
            | Field::CollectiveName
            | Field::Orcid => {
                if let Some(a) = rec.authors.last_mut() {
                    let slot = match c.field {
                        Field::LastName => &mut a.last,
                        Field::ForeName => &mut a.fore,
                        Field::Initials => &mut a.initials,
                        Field::CollectiveName => &mut a.collective,
                        _ => &mut a.orcid,
                    };
                    *slot = slot.or(some);
                }
            }
            Field::Affiliation => {
                if let (Some(s), Some(a)) = (some, rec.authors.last_mut()) {
                    rec.affiliations.push(s);
                    a.aff_end = rec.affiliations.len() as u32;
                }
            }
            Field::ArticleAffiliation => rec.article_affiliation = some,
            Field::Language => rec.language = some,
            Field::PublicationType => {
                if let Some(name) = some {
                    rec.pub_types.push(PubType { name, ui: c.attr });
                }
            }
            Field::DescriptorName => {
                if let Some(m) = rec.mesh.last_mut() {
                    m.ui = c.attr;
                    m.name = some;
                    m.major |= c.major.unwrap_or(false);
                }
            }
            Field::QualifierName => {
                if let Some(m) = rec.mesh.last_mut() {
                    m.major |= c.major.unwrap_or(false);
                    rec.qualifiers.push(Qualifier {
                        ui: c.attr,
                        name: span,
                        major: c.major,
                    });
                    m.q_end = rec.qualifiers.len() as u32;
                }
            }
            Field::Keyword => {
                if let Some(text) = some {
                    rec.keywords.push(Keyword {
                        text,
                        major: c.major,
                        owner: self.keyword_owner,
                    });
                }
            }
            Field::RegistryNumber | Field::NameOfSubstance => {
                if let Some(ch) = rec.chemicals.last_mut() {
                    if c.field == Field::RegistryNumber {
                        ch.registry = some;
                    } else {
                        ch.name = some;
                        ch.ui = c.attr;
                    }
                }
            }
            Field::GrantId | Field::Acronym | Field::Agency | Field::Country => {
                if let Some(g) = rec.grants.last_mut() {
                    let slot = match c.field {
                        Field::GrantId => &mut g.id,
                        Field::Acronym => &mut g.acronym,
                        Field::Agency => &mut g.agency,
                        _ => &mut g.country,
                    };
                    *slot = some;
                }
            }
        }
    }

    /// Appends one `AbstractText` as a `LABEL: text` paragraph.
    fn abstract_paragraph(&mut self, c: Capture, span: Span, rec: &mut Record) {
        let text = &rec.text[span.start as usize..span.end as usize];
        if text.is_empty() {
            return;
        }
        let out = &mut rec.abstract_text;
        if !out.is_empty() {
            out.push('\n');
        }
        if let Some(label) = c.attr {
            let label = &rec.text[label.start as usize..label.end as usize];
            if !label.is_empty() {
                out.push_str(label);
                out.push_str(": ");
            }
        }
        out.push_str(text);
    }
}

fn parse_pmid(text: &str) -> Option<i64> {
    parse_number(text).filter(|&p| p > 0)
}

fn set_date_part(parts: &mut DateParts, tag: Tag, text: &str) {
    match tag {
        Tag::Year => parts.year = year_in(text),
        Tag::Month => parts.month = month_number(text),
        _ => parts.day = parse_number(text).and_then(|d| u32::try_from(d).ok()),
    }
}

/// Resolves `&name;` / `&#N;` into `out`. Unknown named entities are kept as written.
fn push_reference(out: &mut String, r: &BytesRef<'_>) {
    match r.resolve_char_ref() {
        Ok(Some(c)) => out.push(c),
        Ok(None) => match &**r {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            other => {
                out.push('&');
                out.push_str(other);
                out.push(';');
            }
        },
        Err(_) => out.push(char::REPLACEMENT_CHARACTER),
    }
}

/// Collapses runs of XML whitespace in `text[start..]` to single spaces and trims both ends.
fn collapse_whitespace(text: &mut String, start: usize, scratch: &mut String) {
    let tail = &text.as_bytes()[start..];
    let is_ws = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let clean = tail.first().is_none_or(|&b| !is_ws(b))
        && tail.last().is_none_or(|&b| !is_ws(b))
        && !tail
            .windows(2)
            .any(|w| matches!(w[0], b'\t' | b'\n' | b'\r') || (w[0] == b' ' && is_ws(w[1])));
    if clean {
        return;
    }
    scratch.clear();
    for word in text[start..]
        .split([' ', '\t', '\n', '\r'])
        .filter(|w| !w.is_empty())
    {
        if !scratch.is_empty() {
            scratch.push(' ');
        }
        scratch.push_str(word);
    }
    text.truncate(start);
    text.push_str(scratch);
}

fn attr_value<'a>(
    e: &'a BytesStart<'_>,
    key: &str,
) -> Result<Option<std::borrow::Cow<'a, str>>, quick_xml::events::attributes::AttrError> {
    for a in e.attributes().with_checks(false) {
        let a = a?;
        if a.key.0 == key {
            return Ok(Some(a.value));
        }
    }
    Ok(None)
}

fn attr_is(
    e: &BytesStart<'_>,
    key: &str,
    value: &str,
) -> Result<bool, quick_xml::events::attributes::AttrError> {
    Ok(attr_value(e, key)?.is_some_and(|v| v == value))
}

fn attr_yn(
    e: &BytesStart<'_>,
    key: &str,
) -> Result<Option<bool>, quick_xml::events::attributes::AttrError> {
    Ok(attr_value(e, key)?.and_then(|v| match v.as_ref() {
        "Y" => Some(true),
        "N" => Some(false),
        _ => None,
    }))
}

/// Copies an attribute's value (entities resolved) into the arena.
fn attr_span(
    e: &BytesStart<'_>,
    key: &str,
    rec: &mut Record,
) -> Result<Option<Span>, quick_xml::events::attributes::AttrError> {
    let Some(v) = attr_value(e, key)? else {
        return Ok(None);
    };
    let start = rec.text.len();
    if v.contains('&') {
        let mut rest = v.as_ref();
        while let Some(amp) = rest.find('&') {
            rec.text.push_str(&rest[..amp]);
            let after = &rest[amp + 1..];
            match after.find(';') {
                Some(semi) => {
                    push_reference(&mut rec.text, &BytesRef::new(&after[..semi]));
                    rest = &after[semi + 1..];
                }
                None => {
                    rec.text.push('&');
                    rest = after;
                }
            }
        }
        rec.text.push_str(rest);
    } else {
        rec.text.push_str(&v);
    }
    let mut scratch = String::new();
    collapse_whitespace(&mut rec.text, start, &mut scratch);
    Ok(Some(Span {
        start: start as u32,
        end: rec.text.len() as u32,
    }))
}
