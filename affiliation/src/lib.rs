//! # bibflow-affiliation
//!
//! Affiliation text -> ISO 3166-1 alpha-2 country.
//!
//! [`resolve`] reads one free-text affiliation ("Dept. of X, Harvard Medical School, Boston, MA 02115,
//! USA. Electronic address: x@y.edu") and returns the country it names, how it found it and how sure
//! it is. It looks things up in tables shipped as TSV files under `affiliation/data/`:
//!
//! | file | rows | what |
//! |---|---|---|
//! | `countries.tsv` | every ISO 3166-1 code and XK | English names, local names, abbreviations ("USA", "P.R. China", "Deutschland") |
//! | `subdivisions.tsv` | US states, Canadian provinces, Australian states, regions of other countries | names, and postal abbreviations ("MA", "ON", "NSW") |
//! | `cities.tsv` | cities of over about a million people and university towns | names |
//! | `email-tlds.tsv` | country-code and American top-level domains | `.jp`, `.uk` -> GB, `.edu` -> US |
//!
//! # How a string is read
//!
//! The text is lower-cased, accents are folded ("Umeå" -> "umea") and it is split into tokens,
//! *segments* (between commas, brackets and sentence ends) and *parts* (between semicolons). E-mail
//! addresses are cut out and only their top-level domain is kept. Each segment is scanned from its
//! end, longest names first ("New South Wales" before "Wales"). Every match is a candidate with a
//! confidence: a country name (0.95 for most) > a postal abbreviation with a postcode ("MA 02115",
//! 0.95) > a state or province name (0.9) > an abbreviation standing alone in address context
//! (", MD", 0.85) > a city (0.85, 0.7 to 0.8 for names shared with other places) > an e-mail domain
//! (0.65, `.edu` 0.5). A name inside a longer segment ("University of California") counts 10% less
//! than one that ends it, and each later segment of the same part lowers a candidate by 0.03, because
//! countries are written last. Candidates for one country add up a little (+0.05 each, at most +0.1),
//! so "Atlanta, Georgia" is the US state and "Tbilisi, Georgia" the country, and "London, Ontario"
//! is in Canada.
//!
//! # One country per string
//!
//! A string that names several institutions ("Karolinska Institutet, Stockholm, Sweden; and Dept. of
//! X, Oslo, Norway") resolves to the country of the *first* part that has any evidence besides an
//! e-mail address: the first institution is usually the author's main one, and its country is
//! written at the end of its own part. E-mail domains decide only when nothing else is found.
//! Hong Kong, Macao and Taiwan win over China when both are named in the same part ("Kowloon, Hong
//! Kong, China"), and Puerto Rico, Guam and the US Virgin Islands over the United States.
//!
//! Accuracy on real OpenAlex records is measured by the `fixture_accuracy` test and reported in
//! `docs/affiliation-countries.md`.
//!
//! The crate does no I/O and depends on `std` only: the tables are compiled in, so the ingest and
//! the SQL function `affiliation_country` (bibflow-udfs) share one resolver without pulling in
//! each other's dependencies.
//!
//! ```
//! use bibflow_affiliation::{resolve, Method};
//!
//! let r = resolve("Dept. of Medicine, Boston, MA 02115, USA. Electronic address: x@y.edu").unwrap();
//! assert_eq!((r.country, r.method), ("US", Method::CountryName));
//! assert_eq!(resolve("Seoul 03080, Republic of Korea").unwrap().country, "KR");
//! assert_eq!(resolve("London, Ontario, Canada").unwrap().country, "CA");
//! assert!(resolve("Department of Economics").is_none());
//! ```

mod scan;
mod tables;
mod text;

#[cfg(test)]
mod accuracy;
#[cfg(test)]
mod tests;

use std::cell::RefCell;

use scan::Candidate;
pub use scan::Method;
use tables::TABLES;
use text::Scratch;

/// A resolved country.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolution {
    /// ISO 3166-1 alpha-2 code, upper case.
    pub country: &'static str,
    /// The kind of evidence that decided.
    pub method: Method,
    /// 0..1: how sure the resolver is.
    pub confidence: f32,
}

/// Each later segment of a part lowers a candidate's confidence by this much.
const POSITION_PENALTY: f32 = 0.03;
/// Each further candidate for the same country adds this much, up to [`MAX_SUPPORT`].
const SUPPORT: f32 = 0.05;
const MAX_SUPPORT: f32 = 0.1;
/// Territories with their own ISO code that are often followed by the country that claims or
/// contains them: when both are found in one part, the territory wins.
const TERRITORIES: &[(&str, &str)] = &[
    ("CN", "HK"),
    ("CN", "MO"),
    ("CN", "TW"),
    ("US", "PR"),
    ("US", "GU"),
    ("US", "VI"),
];

/// The evidence for one country within the candidates considered.
#[derive(Debug, Clone, Copy)]
struct Tally {
    country: &'static str,
    best: f32,
    method: Method,
    count: u32,
    /// Whether any candidate is something other than an e-mail domain.
    substantive: bool,
}

impl Tally {
    fn score(&self) -> f32 {
        self.best + (SUPPORT * (self.count - 1) as f32).min(MAX_SUPPORT)
    }
}

/// Per-thread buffers, reused from call to call.
#[derive(Debug, Default)]
struct Work {
    scratch: Scratch,
    candidates: Vec<Candidate>,
    tallies: Vec<Tally>,
}

thread_local! {
    static WORK: RefCell<Work> = RefCell::new(Work::default());
}

/// Resolves the country of one affiliation string, or `None` when it names none that the tables
/// know (see the [crate documentation](crate) for how).
///
/// ```
/// use bibflow_affiliation::{resolve, Method};
///
/// let r = resolve("Universität Heidelberg, Deutschland").unwrap();
/// assert_eq!((r.country, r.method), ("DE", Method::CountryName));
/// assert_eq!(resolve("Department of X, Md").unwrap().country, "US");
/// assert_eq!(resolve("x@u-tokyo.ac.jp").unwrap().method, Method::EmailDomain);
/// ```
pub fn resolve(text: &str) -> Option<Resolution> {
    if text.trim().is_empty() {
        return None;
    }
    let tables = &*TABLES;
    WORK.with_borrow_mut(|w| {
        let Work {
            scratch,
            candidates,
            tallies,
        } = w;
        text::tokenize(text, scratch);
        candidates.clear();
        scan::candidates(text, scratch, tables, candidates);
        let last_part = candidates.iter().map(|c| c.part).max()?;
        (0..=last_part)
            .find_map(|part| {
                let in_part = candidates.iter().filter(|c| c.part == part);
                choose(in_part, tallies, true)
            })
            .or_else(|| choose(candidates.iter(), tallies, false))
    })
}

/// The best-supported country among `candidates`; with `substantive`, only a country with evidence
/// other than an e-mail domain.
fn choose<'a>(
    candidates: impl Iterator<Item = &'a Candidate>,
    tallies: &mut Vec<Tally>,
    substantive: bool,
) -> Option<Resolution> {
    tallies.clear();
    for c in candidates {
        let score = (c.confidence - POSITION_PENALTY * c.from_end as f32).max(0.05);
        let is_substantive = c.method != Method::EmailDomain;
        match tallies.iter_mut().find(|t| t.country == c.country) {
            Some(t) => {
                t.count += 1;
                t.substantive |= is_substantive;
                if score > t.best {
                    t.best = score;
                    t.method = c.method;
                }
            }
            None => tallies.push(Tally {
                country: c.country,
                best: score,
                method: c.method,
                count: 1,
                substantive: is_substantive,
            }),
        }
    }
    let eligible = |t: &&Tally| t.substantive || !substantive;
    // Ties go to the first tally, i.e. the evidence nearest the end of the string.
    let mut winner = *tallies
        .iter()
        .filter(eligible)
        .reduce(|a, b| if b.score() > a.score() { b } else { a })?;
    if let Some(territory) = TERRITORIES
        .iter()
        .filter(|(claimant, _)| *claimant == winner.country)
        .find_map(|(_, t)| tallies.iter().filter(eligible).find(|x| x.country == *t))
    {
        winner = *territory;
    }
    Some(Resolution {
        country: winner.country,
        method: winner.method,
        confidence: winner.score().min(0.99),
    })
}
