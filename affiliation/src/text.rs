//! Normalisation of affiliation text: lower case, accents folded, split into tokens, segments
//! (between commas, semicolons, brackets, sentence ends) and parts (between semicolons), with e-mail
//! addresses cut out.
//!
//! The tokens of one segment are written into one buffer separated by single spaces, so that any run
//! of consecutive tokens is a `&str` slice of the buffer and can be looked up in a hash map without
//! building a key.

/// Abbreviations whose full stop does not end a segment ("St. Louis", "Co. Kildare", "Univ. of").
const NO_BREAK_ABBREVIATIONS: &[&str] = &[
    "st", "ste", "mt", "ft", "co", "dept", "depts", "univ", "inst", "dr", "prof", "no", "nr", "av",
    "ave", "rd", "str", "bldg", "rep", "sr", "jr",
];

/// How the letters of a token were written in the original text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// "MA", "USA".
    Upper,
    /// "Md", "Boston".
    Title,
    /// "in", "or".
    Lower,
    /// Anything else, including tokens without letters.
    Other,
}

/// One normalised token: a byte range of [`Scratch::buf`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub start: u32,
    pub end: u32,
    pub case: Case,
}

/// A run of tokens between segment separators, in the part (`;`-separated piece) `part`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    /// First token index.
    pub first: u32,
    /// One past the last token index.
    pub end: u32,
    pub part: u32,
}

/// An e-mail address seen in the text: the byte range of its top-level domain in the original text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Email {
    pub tld_start: u32,
    pub tld_end: u32,
    pub part: u32,
}

/// Reusable buffers for one resolution: cleared, never shrunk, so that a thread resolving many
/// strings allocates only while its buffers grow.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub buf: String,
    pub tokens: Vec<Token>,
    pub segments: Vec<Segment>,
    pub emails: Vec<Email>,
    /// Byte ranges of e-mail addresses in the original text, skipped by the tokenizer.
    skips: Vec<(usize, usize)>,
}

impl Scratch {
    /// The text of token `i`.
    pub fn token(&self, i: usize) -> &str {
        let t = self.tokens[i];
        &self.buf[t.start as usize..t.end as usize]
    }

    /// The text of tokens `first..=last`, separated by single spaces.
    pub fn span(&self, first: usize, last: usize) -> &str {
        &self.buf[self.tokens[first].start as usize..self.tokens[last].end as usize]
    }
}

/// Appends the lower-case, accent-folded form of `c` to `out`.
fn fold_into(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    let folded = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å'
        | 'Ā' | 'Ă' | 'Ą' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' | 'Ç' | 'Ć' | 'Č' => "c",
        'ď' | 'đ' | 'ð' | 'Ď' | 'Đ' | 'Ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'È' | 'É' | 'Ê' | 'Ë' | 'Ē' | 'Ė' | 'Ę'
        | 'Ě' => "e",
        'ğ' | 'ģ' | 'Ğ' | 'Ģ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'į' | 'ı' | 'Ì' | 'Í' | 'Î' | 'Ï' | 'Ī' | 'Į' | 'İ' => {
            "i"
        }
        'ķ' | 'Ķ' => "k",
        'ł' | 'ľ' | 'ļ' | 'ĺ' | 'Ł' | 'Ľ' | 'Ļ' | 'Ĺ' => "l",
        'ñ' | 'ń' | 'ň' | 'ņ' | 'Ñ' | 'Ń' | 'Ň' | 'Ņ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' | 'Ō'
        | 'Ő' => "o",
        'œ' | 'Œ' => "oe",
        'ŕ' | 'ř' | 'Ŕ' | 'Ř' => "r",
        'ś' | 'š' | 'ş' | 'ș' | 'Ś' | 'Š' | 'Ş' | 'Ș' => "s",
        'ß' => "ss",
        'ť' | 'ţ' | 'ț' | 'Ť' | 'Ţ' | 'Ț' => "t",
        'þ' | 'Þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ų' | 'Ù' | 'Ú' | 'Û' | 'Ü' | 'Ū' | 'Ů' | 'Ű'
        | 'Ų' => "u",
        'ý' | 'ÿ' | 'Ý' | 'Ÿ' => "y",
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => "z",
        // Vietnamese and other stacked diacritics the table does not list: keep the letter.
        _ => {
            out.extend(c.to_lowercase());
            return;
        }
    };
    out.push_str(folded);
}

fn is_email_local(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_email_domain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// Finds the e-mail addresses of `text`: their byte ranges go to `s.skips`, their top-level domains
/// (as byte ranges of `text`) to `s.emails` once the tokenizer knows their segment.
fn find_emails(text: &str, skips: &mut Vec<(usize, usize)>) {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find('@').map(|i| i + from) {
        let mut start = at;
        while start > 0 && is_email_local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_email_domain(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        skips.push((start, end));
        from = end.max(at + 1);
    }
}

/// The top-level domain of the address at `skip` in `text`, as a byte range, if it looks like one.
fn tld_of(text: &str, (start, end): (usize, usize)) -> Option<(usize, usize)> {
    let address = &text[start..end];
    let at = address.find('@')?;
    let domain = &address[at + 1..];
    let dot = domain.rfind('.')?;
    let tld = &domain[dot + 1..];
    let plausible = (2..=6).contains(&tld.len()) && tld.bytes().all(|b| b.is_ascii_alphabetic());
    plausible.then(|| {
        let s = start + at + 1 + dot + 1;
        (s, s + tld.len())
    })
}

/// Builds the token being read.
#[derive(Debug, Default)]
struct Open {
    /// Start of the token in the buffer, if one is open.
    start: Option<usize>,
    upper: u32,
    lower: u32,
    first_upper: bool,
    /// Characters since the token started or since the last joined full stop ("U.S.A.").
    run: u32,
    digits: u32,
    /// Whether the last character was a lower-case letter.
    last_lower: bool,
    /// Whether a full stop was joined ("P.R" of "P.R. China"): an acronym, not a sentence end.
    acronym: bool,
}

/// Splits `text` into `s` (cleared first).
pub(crate) fn tokenize(text: &str, s: &mut Scratch) {
    s.buf.clear();
    s.tokens.clear();
    s.segments.clear();
    s.emails.clear();
    s.skips.clear();
    find_emails(text, &mut s.skips);

    let mut t = Tokenizer {
        s,
        open: Open::default(),
        segment_first: 0,
        part: 0,
    };
    let mut skip = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if let Some(&(start, end)) = t.s.skips.get(skip)
            && i >= start
        {
            if i == start {
                t.close_token();
                if let Some((a, b)) = tld_of(text, (start, end)) {
                    let email = Email {
                        tld_start: a as u32,
                        tld_end: b as u32,
                        part: t.part,
                    };
                    t.s.emails.push(email);
                }
            }
            if i + c.len_utf8() >= end {
                skip += 1;
            }
            continue;
        }
        let next = chars.peek().map(|&(_, n)| n);
        if c.is_alphanumeric() {
            // "UniversitySingapore" (a separator lost in OpenAlex raw strings) is two words.
            if c.is_uppercase() && t.open.last_lower && next.is_some_and(char::is_lowercase) {
                t.close_token();
            }
            t.push_char(c);
            continue;
        }
        match c {
            // "People's", "d'Ivoire", "Xi'an": the apostrophe joins.
            '\'' | '’' | '`' | '´'
                if t.open.start.is_some() && next.is_some_and(char::is_alphabetic) => {}
            '.' => t.full_stop(next, text[i + 1..].chars().nth(1)),
            ';' => {
                t.close_segment();
                t.part += 1;
            }
            ',' | ':' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '/' | '\\' | '\n' | '\r'
            | '•' => {
                t.close_segment();
            }
            _ => t.close_token(),
        }
    }
    t.close_segment();
}

struct Tokenizer<'a> {
    s: &'a mut Scratch,
    open: Open,
    /// Index of the first token of the segment being read.
    segment_first: usize,
    part: u32,
}

impl Tokenizer<'_> {
    fn push_char(&mut self, c: char) {
        let o = &mut self.open;
        if o.start.is_none() {
            if !self.s.buf.is_empty() {
                self.s.buf.push(' ');
            }
            *o = Open {
                start: Some(self.s.buf.len()),
                first_upper: c.is_uppercase(),
                ..Open::default()
            };
        }
        if c.is_uppercase() {
            o.upper += 1;
        } else if c.is_lowercase() {
            o.lower += 1;
        } else if c.is_ascii_digit() {
            o.digits += 1;
        }
        o.run += 1;
        o.last_lower = c.is_lowercase();
        fold_into(c, &mut self.s.buf);
    }

    fn close_token(&mut self) {
        let Some(start) = self.open.start.take() else {
            return;
        };
        let o = &self.open;
        let case = match (o.upper, o.lower) {
            _ if o.digits > 0 => Case::Other,
            (u, 0) if u > 0 => Case::Upper,
            (1, l) if l > 0 && o.first_upper => Case::Title,
            (0, l) if l > 0 => Case::Lower,
            _ => Case::Other,
        };
        self.s.tokens.push(Token {
            start: start as u32,
            end: self.s.buf.len() as u32,
            case,
        });
    }

    fn close_segment(&mut self) {
        self.close_token();
        let end = self.s.tokens.len();
        if end > self.segment_first {
            self.s.segments.push(Segment {
                first: self.segment_first as u32,
                end: end as u32,
                part: self.part,
            });
            self.segment_first = end;
        }
    }

    /// A full stop: joins single letters ("U.S.A." -> "usa"), otherwise ends the token, and ends the
    /// segment too when it ends a sentence ("USA. Electronic address") but not after an initial
    /// ("P. R. China") or a common abbreviation ("St. Louis").
    fn full_stop(&mut self, next: Option<char>, after_next: Option<char>) {
        let o = &self.open;
        let joins = o.start.is_some()
            && o.run == 1
            && o.digits == 0
            && next.is_some_and(|c| c.is_alphabetic())
            && !after_next.is_some_and(char::is_alphabetic);
        if joins {
            self.open.run = 0;
            self.open.acronym = true;
            return;
        }
        let Some(start) = self.open.start else {
            return;
        };
        let word = &self.s.buf[start..];
        let initial = word.chars().count() == 1 || self.open.acronym;
        let abbreviation = NO_BREAK_ABBREVIATIONS.contains(&word);
        self.close_token();
        if next.is_none_or(char::is_whitespace) && !initial && !abbreviation {
            self.close_segment();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(text: &str) -> Vec<String> {
        let mut s = Scratch::default();
        tokenize(text, &mut s);
        s.segments
            .iter()
            .map(|g| s.span(g.first as usize, g.end as usize - 1).to_string())
            .collect()
    }

    #[test]
    fn folds_splits_and_joins() {
        assert_eq!(
            segments("Universität Heidelberg, Deutschland"),
            ["universitat heidelberg", "deutschland"]
        );
        assert_eq!(
            segments("Boston, MA 02115, U.S.A."),
            ["boston", "ma 02115", "usa"]
        );
        assert_eq!(
            segments("Beijing 100871, P. R. China"),
            ["beijing 100871", "p r china"]
        );
        assert_eq!(
            segments("People's Republic of China"),
            ["peoples republic of china"]
        );
        assert_eq!(segments("St. Louis, Mo."), ["st louis", "mo"]);
        assert_eq!(segments("Ume\u{e5},  Sweden"), ["umea", "sweden"]);
        assert_eq!(
            segments("National University of SingaporeSingapore"),
            ["national university of singapore singapore"]
        );
        assert_eq!(segments("McGill"), ["mc gill"]);
    }

    #[test]
    fn sentence_ends_split_segments() {
        assert_eq!(
            segments("Boston, USA. Electronic address"),
            ["boston", "usa", "electronic address"]
        );
        assert_eq!(segments("Department of X, Md."), ["department of x", "md"]);
    }

    #[test]
    fn emails_are_cut_out_and_parts_counted() {
        let mut s = Scratch::default();
        let text = "Tokyo; x.y@u-tokyo.ac.jp, Japan";
        tokenize(text, &mut s);
        assert_eq!(s.buf, "tokyo japan");
        assert_eq!(s.emails.len(), 1);
        let e = s.emails[0];
        assert_eq!(&text[e.tld_start as usize..e.tld_end as usize], "jp");
        assert_eq!(e.part, 1);
        assert_eq!(s.segments[1].part, 1);
    }

    #[test]
    fn case_is_kept() {
        let mut s = Scratch::default();
        tokenize("MA Md in x2", &mut s);
        let cases: Vec<Case> = s.tokens.iter().map(|t| t.case).collect();
        assert_eq!(cases, [Case::Upper, Case::Title, Case::Lower, Case::Other]);
    }
}
