//! Splitting a decompressed PubMed XML byte stream into record chunks, without parsing it.
//!
//! Only the current record is held in memory. A record is the text from its start tag
//! (`<PubmedArticle>`, `<PubmedBookArticle>`, `<DeleteCitation>`, or `<MedlineCitation>` when the
//! root is `<MedlineCitationSet>`) to its end tag. Working at the byte level keeps the raw text of a
//! bad record for `_rejects/` and lets reading resume after it: a record whose end tag is missing
//! runs into the next record's start tag, where the next record begins.

use std::io::{self, BufRead};
use std::sync::LazyLock;

use memchr::memmem;

/// The kinds of top-level element the splitter cuts out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    // The order is the index of the kind's finders (`Kind as usize`).
    /// `<PubmedArticle>`: `MedlineCitation` + `PubmedData`.
    Article,
    /// `<PubmedBookArticle>`: `BookDocument` + `PubmedBookData`.
    Book,
    /// A bare `<MedlineCitation>` in a `<MedlineCitationSet>` (the MEDLINE layout before 2017).
    Medline,
    /// `<DeleteCitation>`: a list of PMIDs that an update file deletes.
    Delete,
}

impl Kind {
    /// The element name.
    pub fn tag(self) -> &'static str {
        match self {
            Kind::Article => "PubmedArticle",
            Kind::Book => "PubmedBookArticle",
            Kind::Medline => "MedlineCitation",
            Kind::Delete => "DeleteCitation",
        }
    }

    fn of(name: &[u8], bare_medline: bool) -> Option<Kind> {
        match name {
            b"PubmedArticle" => Some(Kind::Article),
            b"PubmedBookArticle" => Some(Kind::Book),
            b"DeleteCitation" => Some(Kind::Delete),
            b"MedlineCitation" if bare_medline => Some(Kind::Medline),
            _ => None,
        }
    }
}

/// One record cut from the stream.
#[derive(Debug)]
pub struct Item<'a> {
    pub kind: Kind,
    /// The raw text, from the start tag to the end tag (or to where the record broke off).
    pub raw: &'a [u8],
    /// Decompressed byte offset of the start tag.
    pub offset: u64,
    /// 1-based line of the start tag.
    pub line: u64,
    /// Why the record is incomplete, when its end tag was not found.
    pub broken: Option<String>,
}

/// A read error in the middle of the stream (a truncated gzip file), with the partial record.
#[derive(Debug)]
pub struct ReadFailure<'a> {
    pub err: io::Error,
    /// The partial record read before the error; empty between records.
    pub partial: &'a [u8],
    pub offset: u64,
    pub line: u64,
}

#[derive(Debug, Clone, Copy)]
struct Open {
    kind: Kind,
    start: usize,
    line: u64,
}

enum Found {
    Complete(Open, usize),
    Broken(Open, usize, String),
}

/// What [`Splitter::scan_open`] found first inside an open record.
enum Scan {
    /// Its end tag: where `</` is and where the name ends.
    End(usize, usize),
    /// The start tag of a record: where `<` is, its kind and where the name ends.
    Start(usize, Kind, usize),
    /// Neither: more input is needed.
    More,
}

/// Substring searchers for record tags, indexed by `Kind as usize`.
struct Finders {
    start: [memmem::Finder<'static>; 4],
    end: [memmem::Finder<'static>; 4],
    /// `<Pubmed`: the common prefix of the article and book start tags.
    pubmed: memmem::Finder<'static>,
}

fn finders() -> &'static Finders {
    static FINDERS: LazyLock<Finders> = LazyLock::new(|| {
        let start = [Kind::Article, Kind::Book, Kind::Medline, Kind::Delete]
            .map(|k| memmem::Finder::new(format!("<{}", k.tag()).as_bytes()).into_owned());
        let end = [Kind::Article, Kind::Book, Kind::Medline, Kind::Delete]
            .map(|k| memmem::Finder::new(format!("</{}", k.tag()).as_bytes()).into_owned());
        Finders {
            start,
            end,
            pubmed: memmem::Finder::new(b"<Pubmed"),
        }
    });
    &FINDERS
}

/// Whether `c` ends a tag name, as the splitter reads names.
fn ends_name(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>')
}

/// Tag names longer than this are never record tags: the splitter stops looking at them.
const MAX_NAME: usize = 32;
/// Bytes asked of the reader at a time (it hands over what its buffer holds).
const COMPACT_AT: usize = 1 << 20;

/// Cuts records out of a byte stream; reuse one per file.
#[derive(Debug, Default)]
pub struct Splitter {
    buf: Vec<u8>,
    /// Decompressed offset of `buf[0]`.
    base: u64,
    /// Where scanning resumes.
    pos: usize,
    /// `line` is the 1-based line number at `buf[line_at]`.
    line: u64,
    line_at: usize,
    eof: bool,
    open: Option<Open>,
    /// The root element was seen; `bare_medline` says whether it is a `MedlineCitationSet`.
    root_seen: bool,
    bare_medline: bool,
    /// The longest record kept whole ([`MAX_RECORD_BYTES`] unless a test sets it).
    limit: usize,
    /// The open record is the rest of one longer than `limit`, already handed out as broken with
    /// its first bytes: its bytes are dropped as they are scanned, and its end is not a record.
    discarding: bool,
}

/// The longest record the splitter holds: a longer one is handed out as broken with its first
/// [`KEPT_OF_OVERSIZED`] bytes, and the rest of it is skipped without being held, so memory stays
/// bounded whatever the input (a start tag whose end tag never comes, say). Parsing a record
/// takes a few times its size again.
pub const MAX_RECORD_BYTES: usize = 256 << 20;
/// How much of a record longer than the limit is handed out (for `_rejects/`).
pub const KEPT_OF_OVERSIZED: usize = 64 << 10;

impl Splitter {
    /// A splitter at the start of a stream.
    pub fn new() -> Self {
        Self::with_limit(MAX_RECORD_BYTES)
    }

    /// A splitter holding records of at most `limit` bytes (see [`MAX_RECORD_BYTES`]).
    pub fn with_limit(limit: usize) -> Self {
        Self {
            line: 1,
            limit: limit.max(1),
            ..Self::default()
        }
    }

    /// The next record, `None` at the end of the stream, or the read error that stopped it.
    pub fn next_item<'a>(
        &'a mut self,
        reader: &mut dyn BufRead,
    ) -> Result<Option<Item<'a>>, ReadFailure<'a>> {
        match self.advance(reader) {
            Ok(None) => Ok(None),
            Ok(Some(Found::Complete(o, end))) => Ok(Some(self.item(o, end, None))),
            Ok(Some(Found::Broken(o, end, reason))) => Ok(Some(self.item(o, end, Some(reason)))),
            Err(err) => {
                let (partial, offset, line) = match self.open.take() {
                    Some(o) => (&self.buf[o.start..], self.base + o.start as u64, o.line),
                    None => (&[][..], self.base + self.buf.len() as u64, self.line),
                };
                Err(ReadFailure {
                    err,
                    partial,
                    offset,
                    line,
                })
            }
        }
    }

    /// The longest record kept whole (a splitter made by `default()` has the usual limit).
    fn limit(&self) -> usize {
        if self.limit == 0 {
            MAX_RECORD_BYTES
        } else {
            self.limit
        }
    }

    fn item(&self, o: Open, end: usize, broken: Option<String>) -> Item<'_> {
        Item {
            kind: o.kind,
            raw: &self.buf[o.start..end],
            offset: self.base + o.start as u64,
            line: o.line,
            broken,
        }
    }

    /// The end tag of record `o` starts at `lt` and its name ends at `name_end`: the complete
    /// record when the tag's `>` is in the buffer; otherwise `None`, after reading more input (or,
    /// at the end of the input, after skipping the rest) so that the caller scans again.
    fn close_record(
        &mut self,
        o: Open,
        lt: usize,
        name_end: usize,
        reader: &mut dyn BufRead,
    ) -> io::Result<Option<Found>> {
        if let Some(gt) = memchr::memchr(b'>', &self.buf[name_end..]) {
            let end = name_end + gt + 1;
            self.pos = end;
            self.open = None;
            return Ok(Some(Found::Complete(o, end)));
        }
        if self.eof {
            self.pos = self.buf.len();
        } else {
            self.pos = lt;
            self.fill(reader)?;
        }
        Ok(None)
    }

    fn advance(&mut self, reader: &mut dyn BufRead) -> io::Result<Option<Found>> {
        loop {
            let was_discarding = self.discarding;
            let found = self.advance_one(reader)?;
            if !was_discarding {
                return Ok(found);
            }
            // The end of an oversized record's skipped rest (its end tag, the next record's start
            // tag, which is open now, or the end of the input) is not a record of its own.
            self.discarding = false;
            if found.is_none() {
                return Ok(None);
            }
        }
    }

    fn advance_one(&mut self, reader: &mut dyn BufRead) -> io::Result<Option<Found>> {
        loop {
            if self.root_seen
                && let Some(o) = self.open
            {
                // Inside a record: jump to its end tag, or to the next record's start tag if one
                // comes first, by substring search.
                match self.scan_open(o) {
                    Scan::End(lt, name_end) => {
                        if let Some(found) = self.close_record(o, lt, name_end, reader)? {
                            return Ok(Some(found));
                        }
                        continue;
                    }
                    Scan::Start(lt, kind, name_end) => {
                        self.pos = name_end;
                        if let Some(broken) = self.open_next(kind, lt) {
                            return Ok(Some(broken));
                        }
                    }
                    Scan::More => {
                        self.pos = self.pos.max(self.buf.len().saturating_sub(MAX_NAME + 2));
                        if self.discarding {
                            // Nothing before the scan position is kept.
                            if let Some(open) = &mut self.open {
                                open.start = self.pos;
                            }
                        } else if self.buf.len() - o.start > self.limit() {
                            let kept = o.start + KEPT_OF_OVERSIZED.min(self.limit());
                            let reason = format!(
                                "it is longer than the longest record bibflow reads ({}): not \
                                 read; its first {} bytes are kept here",
                                if self.limit() >= 1 << 20 {
                                    format!("{} MiB", self.limit() >> 20)
                                } else {
                                    format!("{} bytes", self.limit())
                                },
                                kept - o.start
                            );
                            self.discarding = true;
                            self.open = Some(Open {
                                start: self.pos,
                                ..o
                            });
                            return Ok(Some(Found::Broken(o, kept, reason)));
                        }
                        if self.fill(reader)? {
                            continue;
                        }
                        // `fill` may have compacted the buffer: the open record as it is now.
                        let Some(o) = self.open.take() else { continue };
                        self.pos = self.buf.len();
                        let reason = format!("the input ends before </{}>", o.kind.tag());
                        return Ok(Some(Found::Broken(o, self.buf.len(), reason)));
                    }
                }
            }
            let Some(i) = find_lt(&self.buf[self.pos..]) else {
                self.pos = self.buf.len();
                if self.fill(reader)? {
                    continue;
                }
                return Ok(self.open.take().map(|o| {
                    let reason = format!("the input ends before </{}>", o.kind.tag());
                    Found::Broken(o, self.buf.len(), reason)
                }));
            };
            let lt = self.pos + i;
            let closing = self.buf.get(lt + 1) == Some(&b'/');
            let name_start = lt + 1 + usize::from(closing);
            // Every record tag starts with `D`, `M` or `P`: most tags are passed over right here.
            if self.root_seen
                && let Some(first) = self.buf.get(name_start)
                && !matches!(first, b'D' | b'M' | b'P')
            {
                self.pos = name_start;
                continue;
            }
            let window = &self.buf[name_start..self.buf.len().min(name_start + MAX_NAME + 1)];
            let name_len = window
                .iter()
                .position(|&b| matches!(b, b' ' | b'\t' | b'\r' | b'\n' | b'/' | b'>'));
            let Some(name_len) = name_len else {
                if window.len() <= MAX_NAME && !self.eof {
                    // The tag name may continue in the next block.
                    self.pos = lt;
                    self.fill(reader)?;
                    continue;
                }
                self.pos = lt + 1;
                continue;
            };
            let name_end = name_start + name_len;
            let name = &self.buf[name_start..name_end];

            if !self.root_seen {
                if !closing && name.first().is_some_and(u8::is_ascii_alphabetic) {
                    self.root_seen = true;
                    self.bare_medline = matches!(name, b"MedlineCitationSet" | b"MedlineCitation");
                } else {
                    self.pos = lt + 1;
                    continue;
                }
            }

            if closing {
                if let Some(o) = self.open
                    && name == o.kind.tag().as_bytes()
                {
                    if let Some(found) = self.close_record(o, lt, name_end, reader)? {
                        return Ok(Some(found));
                    }
                    continue;
                }
                self.pos = name_end;
                continue;
            }

            let kind = Kind::of(name, self.bare_medline);
            self.pos = name_end;
            let Some(kind) = kind else { continue };
            if let Some(broken) = self.open_next(kind, lt) {
                return Ok(Some(broken));
            }
        }
    }

    /// Opens the record whose start tag is at `lt`; the one open before, if any, is broken.
    fn open_next(&mut self, kind: Kind, lt: usize) -> Option<Found> {
        let line = self.line_of(lt);
        let next = Open {
            kind,
            start: lt,
            line,
        };
        match self.open.replace(next) {
            None => None,
            Some(prev) => {
                let reason = format!(
                    "no </{}> before the next <{}> (line {line}, byte {})",
                    prev.kind.tag(),
                    kind.tag(),
                    self.base + lt as u64
                );
                Some(Found::Broken(prev, lt, reason))
            }
        }
    }

    /// Inside record `o`, from `pos`: the first `</TAG` of its kind followed by the end of the
    /// name, unless a record start tag (`<TAG` followed by the end of the name, of any kind)
    /// comes before it. `More` when neither is in the buffer whole.
    fn scan_open(&self, o: Open) -> Scan {
        let f = finders();
        let buf = &self.buf[..];
        let complete = |lt: usize, len: usize| buf.get(lt + len).map(|&c| ends_name(c));
        let end_finder = &f.end[o.kind as usize];
        let mut end = None;
        let mut from = self.pos;
        while let Some(i) = end_finder.find(&buf[from..]) {
            let lt = from + i;
            match complete(lt, end_finder.needle().len()) {
                Some(true) => {
                    end = Some(lt);
                    break;
                }
                Some(false) => from = lt + 1,
                None => break,
            }
        }
        let limit = end.unwrap_or(buf.len());
        // `<Pubmed` finds both `<PubmedArticle` and `<PubmedBookArticle`: one pass for the two.
        let mut first: Option<(usize, Kind, usize)> = None;
        let medline = self
            .bare_medline
            .then_some(&f.start[Kind::Medline as usize]);
        for finder in [
            Some(&f.pubmed),
            Some(&f.start[Kind::Delete as usize]),
            medline,
        ]
        .into_iter()
        .flatten()
        {
            let mut from = self.pos;
            let stop = first.map_or(limit, |(lt, _, _)| lt);
            while from < stop
                && let Some(i) = finder.find(&buf[from..stop])
            {
                let lt = from + i;
                let kinds = [Kind::Article, Kind::Book, Kind::Delete, Kind::Medline];
                let name = &buf[lt + 1..];
                let Some(kind) = kinds
                    .into_iter()
                    .find(|&k| name.starts_with(k.tag().as_bytes()))
                else {
                    // Cut off at the end of the buffer: more input decides.
                    if kinds.iter().any(|k| k.tag().as_bytes().starts_with(name)) {
                        break;
                    }
                    // `<PubmedData` and the like.
                    from = lt + 1;
                    continue;
                };
                let len = kind.tag().len() + 1;
                match complete(lt, len) {
                    Some(true) => {
                        first = Some((lt, kind, lt + len));
                        break;
                    }
                    Some(false) => from = lt + 1,
                    None => break,
                }
            }
        }
        match (first, end) {
            (Some((lt, kind, name_end)), _) => Scan::Start(lt, kind, name_end),
            (None, Some(lt)) => Scan::End(lt, lt + end_finder.needle().len()),
            (None, None) => Scan::More,
        }
    }

    /// The 1-based line of `buf[idx]`; `idx` never goes backwards.
    fn line_of(&mut self, idx: usize) -> u64 {
        if idx > self.line_at {
            self.line += count_newlines(&self.buf[self.line_at..idx]);
            self.line_at = idx;
        }
        self.line
    }

    /// Appends the reader's next block; `false` at the end of the stream.
    fn fill(&mut self, reader: &mut dyn BufRead) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        self.compact();
        loop {
            match reader.fill_buf() {
                Ok([]) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(data) => {
                    let n = data.len();
                    self.buf.extend_from_slice(data);
                    reader.consume(n);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Drops the bytes before the open record (or before the scan position between records).
    fn compact(&mut self) {
        let keep = self.open.map_or(self.pos, |o| o.start).min(self.pos);
        if keep == 0 || (keep * 2 < self.buf.len() && keep < COMPACT_AT) {
            return;
        }
        self.line_of(keep);
        self.buf.drain(..keep);
        self.base += keep as u64;
        self.pos -= keep;
        self.line_at -= keep;
        if let Some(o) = &mut self.open {
            o.start -= keep;
        }
    }
}

/// The number of `\n` in `b`, counted in blocks of 64 bytes (byte-wide sums the compiler turns into
/// vector compares).
fn count_newlines(b: &[u8]) -> u64 {
    let mut blocks = b.chunks_exact(64);
    let mut n = 0;
    for block in &mut blocks {
        n += u64::from(block.iter().fold(0u8, |a, &c| a + u8::from(c == b'\n')));
    }
    n + blocks.remainder().iter().filter(|&&c| c == b'\n').count() as u64
}

/// The index of the first `<`, eight bytes at a time.
fn find_lt(hay: &[u8]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    const PATTERN: u64 = LO * b'<' as u64;
    let mut chunks = hay.chunks_exact(8);
    let mut at = 0;
    for c in &mut chunks {
        let x = u64::from_le_bytes(c.try_into().expect("8 bytes")) ^ PATTERN;
        // A zero byte of `x` is a `<`; the lowest flagged byte is always a true match.
        let zero = x.wrapping_sub(LO) & !x & HI;
        if zero != 0 {
            return Some(at + (zero.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&b| b == b'<')
        .map(|p| at + p)
}

#[cfg(test)]
mod tests {
    #[test]
    fn find_lt_finds_the_first() {
        for text in [
            "",
            "abc",
            "<",
            "abcdefgh<",
            "abcdefg<<",
            "a\u{e9}\u{e9}\u{e9}\u{e9}<b<",
        ] {
            assert_eq!(
                super::find_lt(text.as_bytes()),
                text.bytes().position(|b| b == b'<'),
                "{text:?}"
            );
        }
    }

    use super::*;

    /// Splits `text`, read through a reader that hands over `block` bytes at a time.
    fn split(text: &str, block: usize) -> Vec<(Kind, String, u64, u64, bool)> {
        let mut r = io::BufReader::with_capacity(block, text.as_bytes());
        let mut s = Splitter::new();
        let mut out = Vec::new();
        while let Some(item) = s.next_item(&mut r).unwrap() {
            out.push((
                item.kind,
                String::from_utf8(item.raw.to_vec()).unwrap(),
                item.offset,
                item.line,
                item.broken.is_some(),
            ));
        }
        out
    }

    #[test]
    fn records_are_cut_at_their_tags_whatever_the_block_size() {
        let text = "<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n<PubmedArticle><a/></PubmedArticle>\n\
                    <PubmedBookArticle x=\"1\">b</PubmedBookArticle >\n\
                    <DeleteCitation><PMID>1</PMID></DeleteCitation></PubmedArticleSet>\n";
        for block in [1, 2, 3, 7, 64, 4096] {
            let items = split(text, block);
            assert_eq!(items.len(), 3, "block {block}");
            assert_eq!(items[0].0, Kind::Article);
            assert_eq!(items[0].1, "<PubmedArticle><a/></PubmedArticle>");
            assert_eq!(items[0].2, 41);
            assert_eq!(items[0].3, 3);
            assert_eq!(items[1].0, Kind::Book);
            assert_eq!(
                items[1].1,
                "<PubmedBookArticle x=\"1\">b</PubmedBookArticle >"
            );
            assert_eq!(items[1].3, 4);
            assert_eq!(items[2].0, Kind::Delete);
        }
    }

    #[test]
    fn medline_citations_are_records_only_under_a_medline_citation_set() {
        let old = "<MedlineCitationSet>\n<MedlineCitation><PMID>1</PMID></MedlineCitation>\n</MedlineCitationSet>";
        let items = split(old, 5);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, Kind::Medline);
        let new = "<PubmedArticleSet><PubmedArticle><MedlineCitation></MedlineCitation></PubmedArticle></PubmedArticleSet>";
        let items = split(new, 5);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, Kind::Article);
    }

    #[test]
    fn a_missing_end_tag_breaks_one_record_and_the_next_one_is_kept() {
        let text = "<PubmedArticleSet>\n<PubmedArticle>a\n<PubmedArticle>b</PubmedArticle>\n<PubmedArticle>c";
        let items = split(text, 3);
        assert_eq!(items.len(), 3);
        assert!(items[0].4);
        assert_eq!(items[0].1, "<PubmedArticle>a\n");
        assert!(!items[1].4);
        assert_eq!(items[1].1, "<PubmedArticle>b</PubmedArticle>");
        assert_eq!(items[1].3, 3);
        assert!(items[2].4, "the input ends inside the last record");
    }

    /// One item as the comparison sees it: kind, raw text, offset, line, why broken.
    type Cut = (Kind, Vec<u8>, u64, u64, Option<String>);

    /// Everything the splitter says about a stream: the items and how it ended.
    fn outcome(text: &[u8], block: usize, reference: bool) -> Vec<Cut> {
        let mut r = io::BufReader::with_capacity(block, text);
        let mut out = Vec::new();
        let mut new = Splitter::new();
        let mut old = super::super::split_reference::ReferenceSplitter::new();
        loop {
            let next = if reference {
                old.next_item(&mut r)
            } else {
                new.next_item(&mut r)
            };
            match next.unwrap() {
                Some(i) => out.push((i.kind, i.raw.to_vec(), i.offset, i.line, i.broken)),
                None => return out,
            }
        }
    }

    #[test]
    fn substring_search_cuts_like_the_tag_by_tag_splitter() {
        let pieces = [
            "<PubmedArticle>",
            "</PubmedArticle>",
            "</PubmedArticle >",
            "</PubmedArticle\n x>",
            "<PubmedArticle Foo=\"1\">",
            "<PubmedBookArticle>",
            "</PubmedBookArticle>",
            "<DeleteCitation>",
            "</DeleteCitation>",
            "<MedlineCitation Owner=\"NLM\">",
            "</MedlineCitation>",
            "<PubmedArticleSet>",
            "</PubmedArticleSet>",
            "<MedlineCitationSet>",
            "<PubmedArticleX>",
            "</PubmedArticleX>",
            "<PubmedData>",
            "<PMID>1</PMID>",
            "<p/>",
            "</",
            "<",
            ">",
            "text ",
            "\n",
            "<!-- <PubmedArticle> -->",
            "<?xml version=\"1.0\"?>",
            "<PubmedBookArticle/>",
        ];
        // Not among the pieces: a `<` right after a record tag's name (`</PubmedArticle<x>`),
        // where the old splitter took `PubmedArticle<x` for one name and did not see `<x>`;
        // such names are not XML, and the substring search sees the tag after them. At the end
        // of the input, an unfinished tag is cut the same way by both.
        let endings = ["", "</PubmedArticle", "<PubmedArticle", "</Pub"];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for case in 0..3000 {
            let len = 1 + next(40);
            let mut text = String::new();
            if case % 3 == 0 {
                text.push_str("<PubmedArticleSet>\n");
            } else if case % 3 == 1 {
                text.push_str("<MedlineCitationSet>");
            }
            for _ in 0..len {
                text.push_str(pieces[next(pieces.len())]);
            }
            text.push_str(endings[next(endings.len())]);
            for block in [1, 3, 16, 4096] {
                let got = outcome(text.as_bytes(), block, false);
                let want = outcome(text.as_bytes(), block, true);
                assert_eq!(got, want, "{text:?} in blocks of {block}");
            }
        }
    }

    #[test]
    fn a_record_past_the_limit_is_cut_to_its_first_bytes_and_the_rest_skipped_unheld() {
        let big = format!(
            "<PubmedArticle><t>{}</t></PubmedArticle>\n",
            "x".repeat(5000)
        );
        let unended = format!("<PubmedArticle><t>{}\n", "y".repeat(5000));
        let small = |n: u32| format!("<PubmedArticle>{n}</PubmedArticle>\n");
        let head = "<PubmedArticleSet>\n";
        // Ended, cut off by the next record's start, and cut off by the end of the input.
        for (text, want) in [
            (format!("{head}{}{big}{}", small(1), small(2)), 3),
            (format!("{head}{}{unended}{}", small(1), small(2)), 3),
            (format!("{head}{}{unended}", small(1)), 2),
        ] {
            for block in [7, 64, 4096] {
                let mut r = io::BufReader::with_capacity(block, text.as_bytes());
                let mut s = Splitter::with_limit(1000);
                let mut items = Vec::new();
                let mut held = 0;
                while let Some(item) = s.next_item(&mut r).unwrap() {
                    items.push((item.raw.to_vec(), item.offset, item.line, item.broken));
                    held = held.max(s.buf.len());
                }
                assert_eq!(items.len(), want, "{block}");
                assert_eq!(items[0].0, small(1).trim_end().as_bytes());
                let (raw, offset, line, broken) = &items[1];
                assert_eq!((raw.len(), *offset, *line), (1000, 19 + 33, 3), "{block}");
                assert!(raw.starts_with(b"<PubmedArticle><t>"));
                let reason = broken.as_deref().unwrap();
                assert!(
                    reason.starts_with(
                        "it is longer than the longest record bibflow reads (1000 bytes)"
                    ),
                    "{reason}"
                );
                if want == 3 {
                    assert_eq!(items[2].0, small(2).trim_end().as_bytes(), "{block}");
                    assert_eq!(items[2].3, None);
                    assert_eq!(items[2].2, 4, "{block}");
                }
                assert!(
                    held < 1000 + 2 * block + 100,
                    "held {held} bytes in blocks of {block}"
                );
            }
        }
    }
}
