//! Structure-aware edits of XML text, on element spans found by a small tag scanner (no DOM, so
//! broken input stays editable): an element is deleted, repeated, moved into another, renamed or
//! left without its end tag; a leaf's text becomes an entity, a huge number, markup or bytes that
//! are not UTF-8; a DOCTYPE with entity declarations (billion laughs) or a CDATA section is added.

use crate::rng::Rng;

/// Tokens for byte-level edits of PubMed XML.
pub const DICT: &[&[u8]] = &[
    b"<PubmedArticle>",
    b"</PubmedArticle>",
    b"<PubmedBookArticle>",
    b"</PubmedBookArticle>",
    b"<MedlineCitation Status=\"MEDLINE\">",
    b"</MedlineCitation>",
    b"<DeleteCitation>",
    b"</DeleteCitation>",
    b"<PMID Version=\"1\">",
    b"</PMID>",
    b"<Author>",
    b"</Author>",
    b"<AffiliationInfo><Affiliation>",
    b"<ArticleTitle>",
    b"<PubDate><Year>",
    b"<MedlineDate>",
    b"<![CDATA[",
    b"]]>",
    b"<!--",
    b"-->",
    b"<?xml version=\"1.0\"?>",
    b"<!DOCTYPE PubmedArticleSet>",
    b"&amp;",
    b"&lt;",
    b"&#x0;",
    b"&#xD800;",
    b"&#1114112;",
    b"&unknown;",
    b"&lol9;",
    b"/>",
    b"=\"",
    b"\xff",
    b"\xc3",
];

/// One element found by [`spans`]: `<name ...>` at `start`, its content from `inner` to `inner_end`,
/// the end tag ending at `end`.
#[derive(Debug, Clone)]
pub struct Span {
    pub name: Vec<u8>,
    pub start: usize,
    pub inner: usize,
    pub inner_end: usize,
    pub end: usize,
}

/// The elements of `text` whose start and end tags match, in document order of their end tags.
pub fn spans(text: &[u8]) -> Vec<Span> {
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<u8>, usize, usize)> = Vec::new();
    let mut i = 0;
    while let Some(lt) = memchr(b'<', &text[i..]).map(|k| i + k) {
        let Some(gt) = memchr(b'>', &text[lt..]).map(|k| lt + k) else {
            break;
        };
        let tag = &text[lt + 1..gt];
        i = gt + 1;
        if tag.first().is_some_and(|c| *c == b'?' || *c == b'!') || tag.ends_with(b"/") {
            continue;
        }
        if let Some(name) = tag.strip_prefix(b"/") {
            if let Some(pos) = stack.iter().rposition(|(n, _, _)| n == name) {
                let (name, start, inner) = stack.swap_remove(pos);
                stack.truncate(pos);
                out.push(Span {
                    name,
                    start,
                    inner,
                    inner_end: lt,
                    end: gt + 1,
                });
            }
        } else {
            let name_end = tag
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(tag.len());
            stack.push((tag[..name_end].to_vec(), lt, gt + 1));
        }
    }
    out
}

fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// Texts put in a leaf element.
const TEXTS: &[&[u8]] = &[
    b"",
    b"0",
    b"-1",
    b"99999999999999999999999999",
    b"2147483648",
    b"1979 Jul-Sep",
    b"Spring 2000",
    b"2000-1999",
    b"13",
    b"Feb",
    b"31",
    b"&amp;&lt;&gt;&quot;&apos;",
    b"&#x0;",
    b"&#xD800;",
    b"&#1114112;",
    b"&#99999999999999;",
    b"&unknown;",
    b"&lol9;",
    b"<b>x</b><i>y</i><sup>2</sup>",
    b"<![CDATA[<svg onload=alert(1)>]]>",
    b"<svg onload=alert(1)>",
    b"\xff\xfe\x00",
    b"\xed\xa0\x80",
    b"\x1b[31m\x07",
    b"Dept. of Medicine, Boston, MA, USA.",
    b"Universit\xc3\xa9 de Paris, France",
    b" ",
];

const BILLION_LAUGHS: &[u8] = b"<!DOCTYPE PubmedArticleSet [\n<!ENTITY lol \"lol\">\n\
<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n\
<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n\
<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n\
<!ENTITY lol9 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n\
<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n";

/// Applies `1..=max_ops` element edits to `text`.
pub fn mutate(rng: &mut Rng, text: &mut Vec<u8>, max_ops: usize) {
    let ops = 1 + rng.below(max_ops.max(1));
    for _ in 0..ops {
        edit(rng, text);
    }
}

fn edit(rng: &mut Rng, text: &mut Vec<u8>) {
    let spans = spans(text);
    if spans.is_empty() {
        let at = rng.below(text.len() + 1);
        text.splice(at..at, rng.pick(DICT).iter().copied());
        return;
    }
    let s = rng.pick(&spans).clone();
    match rng.below(12) {
        // Delete the element.
        0 => {
            text.drain(s.start..s.end);
        }
        // Repeat it.
        1 => {
            let copy = text[s.start..s.end].repeat(1 + rng.below(8));
            text.splice(s.end..s.end, copy);
        }
        // Put a copy of it inside another element.
        2 => {
            let copy = text[s.start..s.end].to_vec();
            let host = rng.pick(&spans).clone();
            text.splice(host.inner..host.inner, copy);
        }
        // Replace its content with a text.
        3 | 4 => {
            text.splice(s.inner..s.inner_end, rng.pick(TEXTS).iter().copied());
        }
        // Drop its end tag.
        5 => {
            text.drain(s.inner_end..s.end);
        }
        // Drop its start tag.
        6 => {
            text.drain(s.start..s.inner);
        }
        // Rename it (both tags) to another element's name.
        7 => {
            let other = rng.pick(&spans).name.clone();
            let mut end_tag = b"</".to_vec();
            end_tag.extend_from_slice(&other);
            end_tag.push(b'>');
            text.splice(s.inner_end..s.end, end_tag);
            text.splice(s.start + 1..s.start + 1 + s.name.len(), other);
        }
        // Garbage attributes in its start tag.
        8 => {
            let at = s.start + 1 + s.name.len();
            let attrs: [&[u8]; 6] = [
                b" a=\"1\" a=\"2\"",
                b" b='&lol9;'",
                b" c=\"<\"",
                b" d",
                b" Version=\"x\"",
                b"\xff=\"\"",
            ];
            let attr = *rng.pick::<&[u8]>(&attrs);
            text.splice(at..at, attr.iter().copied());
        }
        // A DOCTYPE with entities (expansion and external) before everything.
        9 => {
            let at = if text.starts_with(b"<?xml") {
                text.iter().position(|&c| c == b'>').map_or(0, |p| p + 1)
            } else {
                0
            };
            text.splice(at..at, BILLION_LAUGHS.iter().copied());
        }
        // Wrap it in a comment or CDATA.
        10 => {
            let (open, close): (&[u8], &[u8]) = if rng.chance(1, 2) {
                (b"<!--", b"-->")
            } else {
                (b"<![CDATA[", b"]]>")
            };
            text.splice(s.end..s.end, close.iter().copied());
            text.splice(s.start..s.start, open.iter().copied());
        }
        // Swap it with another element that does not overlap it.
        _ => {
            let o = rng.pick(&spans).clone();
            if o.end <= s.start || s.end <= o.start {
                let (a, b) = if o.start < s.start { (o, s) } else { (s, o) };
                let first = text[a.start..a.end].to_vec();
                let second = text[b.start..b.end].to_vec();
                text.splice(b.start..b.end, first);
                text.splice(a.start..a.end, second);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_match_start_and_end_tags() {
        let text = b"<?xml version=\"1.0\"?><A x=\"1\"><B>t</B><C/><B>u</B></A>";
        let s = spans(text);
        let names: Vec<&[u8]> = s.iter().map(|s| s.name.as_slice()).collect();
        assert_eq!(names, [&b"B"[..], b"B", b"A"]);
        let a = &s[2];
        assert_eq!(&text[a.start..a.end], &text[21..]);
        assert_eq!(&text[s[0].inner..s[0].inner_end], b"t");
    }

    #[test]
    fn element_edits_change_the_text() {
        let seed = b"<PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>T</ArticleTitle></Article></MedlineCitation></PubmedArticle>".to_vec();
        let mut rng = Rng::new(5);
        let mut changed = 0;
        for _ in 0..300 {
            let mut t = seed.clone();
            mutate(&mut rng, &mut t, 3);
            changed += usize::from(t != seed);
        }
        assert!(changed > 250, "{changed} of 300 changed");
    }
}
