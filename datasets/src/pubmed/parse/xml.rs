//! XML at the byte level, shared by the parser's fast path and its quick-xml path: where a tag
//! ends, attribute values, entity references and whitespace.

use quick_xml::events::{BytesRef, BytesStart};

use crate::pubmed::record::{Record, Span};

/// The index of the `>` that ends the tag starting at `b[lt]`: the first one outside single or
/// double quotes, as quick-xml's `ElementParser` finds it. Also right from any position in the
/// tag before which there is no quote.
pub(super) fn tag_end(b: &[u8], lt: usize) -> Option<usize> {
    let mut quote = None;
    for i in memchr::memchr3_iter(b'>', b'\'', b'"', &b[lt..]) {
        let c = b[lt + i];
        match quote {
            None if c == b'>' => return Some(lt + i),
            None => quote = Some(c),
            Some(q) if q == c => quote = None,
            Some(_) => {}
        }
    }
    None
}

/// [`tag_end`] for a start tag, with a byte loop over the name first: most tags have no
/// attributes, and the name has no quotes to track.
pub(super) fn start_tag_end(b: &[u8], lt: usize) -> Option<usize> {
    let mut j = lt + 1;
    while let Some(&c) = b.get(j) {
        match c {
            b'>' => return Some(j),
            b'"' | b'\'' | b' ' | b'\t' | b'\r' | b'\n' => return tag_end(b, j),
            _ => j += 1,
        }
    }
    None
}

/// Length of the name at the start of a tag's content: up to the first XML whitespace.
pub(super) fn name_len(content: &[u8]) -> usize {
    content
        .iter()
        .position(|&b| is_xml_space(b))
        .unwrap_or(content.len())
}

pub(super) fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Resolves `&name;` / `&#N;` into `out`. Unknown named entities are kept as written.
pub(super) fn push_reference(out: &mut String, r: &BytesRef<'_>) {
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
pub(super) fn collapse_whitespace(text: &mut String, start: usize, scratch: &mut String) {
    let tail = &text.as_bytes()[start..];
    // Clean: no whitespace at either end, no tab or line break, no two spaces in a row (so no
    // space is followed by whitespace).
    let clean = if tail.len() < 64 {
        // Short texts (names, dates, ids): one pass.
        let mut after_space = true;
        let mut clean = true;
        for &b in tail {
            if b == b' ' {
                clean &= !after_space;
                after_space = true;
            } else {
                clean &= !matches!(b, b'\t' | b'\n' | b'\r');
                after_space = false;
            }
        }
        // A trailing space is the last byte after a space (or an empty text, which is clean).
        clean && (!after_space || tail.is_empty())
    } else {
        tail.first().is_none_or(|&b| !is_xml_space(b))
            && tail.last().is_none_or(|&b| !is_xml_space(b))
            && memchr::memchr3(b'\t', b'\n', b'\r', tail).is_none()
            && memchr::memmem::find(tail, b"  ").is_none()
    };
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

pub(super) fn attr_value<'a>(
    e: &'a BytesStart<'_>,
    key: &str,
) -> Result<Option<std::borrow::Cow<'a, str>>, quick_xml::events::attributes::AttrError> {
    if let Some(found) = simple_attr_value(e, key) {
        return Ok(found.map(std::borrow::Cow::Borrowed));
    }
    for a in e.attributes().with_checks(false) {
        let a = a?;
        if a.key.0 == key {
            return Ok(Some(a.value));
        }
    }
    Ok(None)
}

/// [`attr_value`] for the usual attribute lists, ` key="value"` (or `'value'`) after one XML
/// whitespace each, read without quick-xml: `Some(answer)` when every attribute up to the answer has
/// that form (quick-xml reads them the same), `None` when quick-xml must decide.
fn simple_attr_value<'a>(e: &'a BytesStart<'_>, key: &str) -> Option<Option<&'a str>> {
    let content: &'a str = e;
    let b = content.as_bytes();
    let mut pos = e.name().0.len();
    loop {
        if pos == b.len() {
            return Some(None);
        }
        if !is_xml_space(b[pos]) {
            return None;
        }
        let key_start = pos + 1;
        let eq = key_start + b[key_start..].iter().position(|&c| c == b'=')?;
        let k = &b[key_start..eq];
        if k.is_empty()
            || k.iter()
                .any(|&c| is_xml_space(c) || matches!(c, b'"' | b'\'' | b'<' | b'>' | b'/' | b'&'))
        {
            return None;
        }
        let quote = *b.get(eq + 1)?;
        if quote != b'"' && quote != b'\'' {
            return None;
        }
        let value_start = eq + 2;
        let value_end = value_start + memchr::memchr(quote, &b[value_start..])?;
        if k == key.as_bytes() {
            return Some(Some(&content[value_start..value_end]));
        }
        pos = value_end + 1;
    }
}

pub(super) fn attr_is(
    e: &BytesStart<'_>,
    key: &str,
    value: &str,
) -> Result<bool, quick_xml::events::attributes::AttrError> {
    Ok(attr_value(e, key)?.is_some_and(|v| v == value))
}

pub(super) fn attr_yn(
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
pub(super) fn attr_span(
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
