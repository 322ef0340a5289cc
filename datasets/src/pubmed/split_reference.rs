//! The splitter as it was before it searched for record tags by substring (commit bb7fa07): the
//! reference that the tests compare [`super::split::Splitter`] with on generated streams.

use std::io::{self, BufRead};

use super::split::{Item, Kind, ReadFailure};

fn kind_of(name: &[u8], bare_medline: bool) -> Option<Kind> {
    match name {
        b"PubmedArticle" => Some(Kind::Article),
        b"PubmedBookArticle" => Some(Kind::Book),
        b"DeleteCitation" => Some(Kind::Delete),
        b"MedlineCitation" if bare_medline => Some(Kind::Medline),
        _ => None,
    }
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

/// Tag names longer than this are never record tags: the splitter stops looking at them.
const MAX_NAME: usize = 32;
/// Bytes asked of the reader at a time (it hands over what its buffer holds).
const COMPACT_AT: usize = 1 << 20;

/// Cuts records out of a byte stream; reuse one per file.
#[derive(Debug, Default)]
pub struct ReferenceSplitter {
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
}

impl ReferenceSplitter {
    /// A splitter at the start of a stream.
    pub fn new() -> Self {
        Self {
            line: 1,
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

    fn item(&self, o: Open, end: usize, broken: Option<String>) -> Item<'_> {
        Item {
            kind: o.kind,
            raw: &self.buf[o.start..end],
            offset: self.base + o.start as u64,
            line: o.line,
            broken,
        }
    }

    fn advance(&mut self, reader: &mut dyn BufRead) -> io::Result<Option<Found>> {
        loop {
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
                    let Some(gt) = self.buf[name_end..].iter().position(|&b| b == b'>') else {
                        if self.eof {
                            self.pos = self.buf.len();
                            continue;
                        }
                        self.pos = lt;
                        self.fill(reader)?;
                        continue;
                    };
                    let end = name_end + gt + 1;
                    self.pos = end;
                    self.open = None;
                    return Ok(Some(Found::Complete(o, end)));
                }
                self.pos = name_end;
                continue;
            }

            let kind = kind_of(name, self.bare_medline);
            self.pos = name_end;
            let Some(kind) = kind else { continue };
            let line = self.line_of(lt);
            let next = Open {
                kind,
                start: lt,
                line,
            };
            match self.open.replace(next) {
                None => {}
                Some(prev) => {
                    let reason = format!(
                        "no </{}> before the next <{}> (line {line}, byte {})",
                        prev.kind.tag(),
                        kind.tag(),
                        self.base + lt as u64
                    );
                    return Ok(Some(Found::Broken(prev, lt, reason)));
                }
            }
        }
    }

    /// The 1-based line of `buf[idx]`; `idx` never goes backwards.
    fn line_of(&mut self, idx: usize) -> u64 {
        if idx > self.line_at {
            self.line += self.buf[self.line_at..idx]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
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
