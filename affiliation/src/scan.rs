//! Evidence: every country name, subdivision, postal abbreviation in address context, city and
//! e-mail domain found in a tokenized affiliation, with its confidence and position.

use crate::tables::{Hit, Tables};
use crate::text::{Case, Scratch};

/// Confidence of a postal abbreviation followed by a postcode of its country ("MA 02115").
const POSTAL_WITH_POSTCODE: f32 = 0.95;
/// Confidence of a postal abbreviation that is a comma-separated part of its own (", MD").
const POSTAL_ALONE: f32 = 0.85;
/// A name followed by more words in its segment ("University of California") is weaker evidence
/// than one that ends it ("Berkeley, California"): its confidence is multiplied by this.
const INSIDE_SEGMENT: f32 = 0.9;

/// How a country was found in an affiliation string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// A country name or variant ("USA", "P.R. China", "Deutschland").
    CountryName,
    /// A US state or its postal code ("MA 02115", "Maryland").
    UsState,
    /// A large city ("Tokyo").
    City,
    /// The top-level domain of an e-mail address ("@u-tokyo.ac.jp").
    EmailDomain,
    /// A state, province or region of a country other than the US, or its postal abbreviation
    /// ("Ontario", "ON N6A 5B7", "New South Wales", "Guangdong").
    Subdivision,
}

/// One piece of evidence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub country: &'static str,
    pub method: Method,
    pub confidence: f32,
    /// The `;`-separated part of the string it was found in.
    pub part: u32,
    /// How many segments of the same part follow the one it was found in.
    pub from_end: u32,
}

/// Whether tokens `i..` of a segment ending before `end` start with a postcode of `country`.
fn postcode_follows(s: &Scratch, country: &str, i: usize, end: usize) -> bool {
    if i >= end {
        return false;
    }
    let tok = s.token(i).as_bytes();
    let digits = |n: usize| tok.len() == n && tok.iter().all(u8::is_ascii_digit);
    // Letter-digit-letter, the halves of a Canadian postcode ("T6G 2E3").
    let ldl = |t: &[u8], first_letter: bool| {
        t.len() == 3
            && t.iter().enumerate().all(|(k, b)| {
                if (k % 2 == 0) == first_letter {
                    b.is_ascii_lowercase()
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    match country {
        "US" | "PR" | "GU" | "VI" => digits(5),
        "AU" => digits(4),
        "CA" => {
            (tok.len() == 6 && ldl(&tok[..3], true) && ldl(&tok[3..], false))
                || (ldl(tok, true) && i + 1 < end && ldl(s.token(i + 1).as_bytes(), false))
        }
        _ => false,
    }
}

fn subdivision_method(country: &str) -> Method {
    if country == "US" {
        Method::UsState
    } else {
        Method::Subdivision
    }
}

/// Appends the evidence found in `s` (tokenized from `text`) to `out`.
pub(crate) fn candidates(text: &str, s: &Scratch, t: &Tables, out: &mut Vec<Candidate>) {
    let mut from_end = 0;
    for (k, seg) in s.segments.iter().enumerate().rev() {
        from_end = match s.segments.get(k + 1) {
            Some(next) if next.part == seg.part => from_end + 1,
            _ => 0,
        };
        let (first, end) = (seg.first as usize, seg.end as usize);
        let first_of_part = k == 0 || s.segments[k - 1].part != seg.part;
        let mut push = |country, method, confidence| {
            out.push(Candidate {
                country,
                method,
                confidence,
                part: seg.part,
                from_end,
            });
        };
        // Longest names first, from the end of the segment backwards: "New South Wales" is read before
        // "Wales" could be, "New Mexico" before "Mexico".
        let mut pos = end;
        while pos > first {
            let last = pos - 1;
            let found = (1..=t.longest.min(pos - first))
                .rev()
                .find_map(|n| t.names.get(s.span(pos - n, last)).map(|names| (n, names)));
            if let Some((n, names)) = found {
                let ends_segment =
                    (pos..end).all(|i| s.token(i).bytes().any(|b| b.is_ascii_digit()));
                let weight = if ends_segment { 1.0 } else { INSIDE_SEGMENT };
                let readings = [
                    names.country.map(|h| (h, Method::CountryName)),
                    names
                        .subdivision
                        .map(|h| (h, subdivision_method(h.country))),
                    names.city.map(|h| (h, Method::City)),
                ];
                // One candidate per country and name: "Washington" the state and the city is one
                // piece of evidence, not two.
                let mut best: [Option<(Hit, Method)>; 3] = [None; 3];
                for (hit, method) in readings.into_iter().flatten() {
                    match best
                        .iter_mut()
                        .flatten()
                        .find(|(b, _)| b.country == hit.country)
                    {
                        Some(b) if b.0.confidence < hit.confidence => *b = (hit, method),
                        Some(_) => {}
                        None => {
                            if let Some(slot) = best.iter_mut().find(|b| b.is_none()) {
                                *slot = Some((hit, method));
                            }
                        }
                    }
                }
                for (hit, method) in best.into_iter().flatten() {
                    push(hit.country, method, hit.confidence * weight);
                }
                pos -= n;
                continue;
            }
            // A postal abbreviation counts only in address context; "IN", "OR", "ME" and "Md" are
            // words or names too.
            let tok = s.token(last);
            let cased = matches!(s.tokens[last].case, Case::Upper | Case::Title);
            if cased
                && (2..=3).contains(&tok.len())
                && let Some(countries) = t.postal.get(tok)
            {
                for &country in countries {
                    let confidence = if postcode_follows(s, country, pos, end) {
                        POSTAL_WITH_POSTCODE
                    } else if end - first == 1 && !first_of_part {
                        POSTAL_ALONE
                    } else {
                        continue;
                    };
                    push(country, subdivision_method(country), confidence);
                }
            }
            pos -= 1;
        }
    }
    for e in &s.emails {
        let tld = &text[e.tld_start as usize..e.tld_end as usize];
        let mut lower = [0u8; 8];
        let lower = &mut lower[..tld.len()];
        lower.copy_from_slice(tld.as_bytes());
        lower.make_ascii_lowercase();
        let Ok(lower) = std::str::from_utf8(lower) else {
            continue;
        };
        if let Some(hit) = t.tlds.get(lower) {
            out.push(Candidate {
                country: hit.country,
                method: Method::EmailDomain,
                confidence: hit.confidence,
                part: e.part,
                from_end: 0,
            });
        }
    }
}
