//! The lookup tables of the resolver, parsed once from the TSV files under `affiliation/data/`.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use crate::text::{Scratch, tokenize};

/// The data files, embedded at compile time: (file name, content).
const COUNTRIES: (&str, &str) = ("countries.tsv", include_str!("../data/countries.tsv"));
const SUBDIVISIONS: (&str, &str) = ("subdivisions.tsv", include_str!("../data/subdivisions.tsv"));
const CITIES: (&str, &str) = ("cities.tsv", include_str!("../data/cities.tsv"));
const EMAIL_TLDS: (&str, &str) = ("email-tlds.tsv", include_str!("../data/email-tlds.tsv"));

/// A country with the confidence one kind of evidence gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub country: &'static str,
    pub confidence: f32,
}

/// What a normalised name ("new york", "georgia") can be: at most one reading of each kind.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Names {
    pub country: Option<Hit>,
    pub subdivision: Option<Hit>,
    pub city: Option<Hit>,
}

/// All lookup structures.
#[derive(Debug)]
pub(crate) struct Tables {
    /// Normalised names of countries, subdivisions and cities (tokens joined by single spaces).
    pub names: HashMap<String, Names>,
    /// Lower-case postal abbreviations of subdivisions ("ma", "on", "nsw") -> the country or countries
    /// that use them.
    pub postal: HashMap<String, Vec<&'static str>>,
    /// Lower-case e-mail top-level domains.
    pub tlds: HashMap<&'static str, Hit>,
    /// The most tokens in any name: the longest n-gram worth looking up.
    pub longest: usize,
}

/// The tables, parsed on first use. The files are part of the source, so a malformed line is a bug
/// that `tables_parse` (below) catches before any release.
pub(crate) static TABLES: LazyLock<Tables> =
    LazyLock::new(|| Tables::parse().unwrap_or_else(|e| panic!("{e}")));

/// A malformed line in one of the embedded data files.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableError {
    file: &'static str,
    line: usize,
    message: String,
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "affiliation/data/{} line {}: {}",
            self.file, self.line, self.message
        )
    }
}

/// Which reading of a name a table provides.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Country,
    Subdivision,
    City,
}

/// The data lines of a file: (1-based line number, tab-separated fields).
fn rows(
    (file, content): (&'static str, &'static str),
) -> impl Iterator<Item = (&'static str, usize, Vec<&'static str>)> {
    content
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .map(move |(i, l)| (file, i + 1, l.split('\t').collect()))
}

fn error(file: &'static str, line: usize, message: impl Into<String>) -> TableError {
    TableError {
        file,
        line,
        message: message.into(),
    }
}

fn country_code(
    file: &'static str,
    line: usize,
    s: &'static str,
) -> Result<&'static str, TableError> {
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s)
    } else {
        Err(error(
            file,
            line,
            format!("{s:?} is not an ISO 3166-1 alpha-2 code"),
        ))
    }
}

fn confidence(file: &'static str, line: usize, s: &str) -> Result<f32, TableError> {
    match s.parse::<f32>() {
        Ok(c) if (0.0..=1.0).contains(&c) => Ok(c),
        _ => Err(error(
            file,
            line,
            format!("confidence {s:?} is not a number in 0..1"),
        )),
    }
}

impl Tables {
    pub(crate) fn parse() -> Result<Tables, TableError> {
        let mut t = Tables {
            names: HashMap::new(),
            postal: HashMap::new(),
            tlds: HashMap::new(),
            longest: 1,
        };
        let mut scratch = Scratch::default();

        for (file, line, f) in rows(COUNTRIES) {
            let [code, conf, names] = f[..] else {
                return Err(error(file, line, "expected 3 tab-separated fields"));
            };
            let hit = Hit {
                country: country_code(file, line, code)?,
                confidence: confidence(file, line, conf)?,
            };
            t.add_names(&mut scratch, (file, line), names, Kind::Country, hit)?;
        }
        for (file, line, f) in rows(SUBDIVISIONS) {
            let [code, postal, conf, names] = f[..] else {
                return Err(error(file, line, "expected 4 tab-separated fields"));
            };
            let hit = Hit {
                country: country_code(file, line, code)?,
                confidence: confidence(file, line, conf)?,
            };
            if !postal.is_empty() {
                if !(2..=3).contains(&postal.len())
                    || !postal.bytes().all(|b| b.is_ascii_uppercase())
                {
                    return Err(error(
                        file,
                        line,
                        format!("postal code {postal:?} is not 2-3 capitals"),
                    ));
                }
                let countries = t.postal.entry(postal.to_ascii_lowercase()).or_default();
                if !countries.contains(&hit.country) {
                    countries.push(hit.country);
                }
            }
            t.add_names(&mut scratch, (file, line), names, Kind::Subdivision, hit)?;
        }
        for (file, line, f) in rows(CITIES) {
            let [code, conf, names] = f[..] else {
                return Err(error(file, line, "expected 3 tab-separated fields"));
            };
            let hit = Hit {
                country: country_code(file, line, code)?,
                confidence: confidence(file, line, conf)?,
            };
            t.add_names(&mut scratch, (file, line), names, Kind::City, hit)?;
        }
        for (file, line, f) in rows(EMAIL_TLDS) {
            let [tld, code, conf] = f[..] else {
                return Err(error(file, line, "expected 3 tab-separated fields"));
            };
            if tld.is_empty() || !tld.bytes().all(|b| b.is_ascii_lowercase()) {
                return Err(error(
                    file,
                    line,
                    format!("domain {tld:?} is not lower-case letters"),
                ));
            }
            let hit = Hit {
                country: country_code(file, line, code)?,
                confidence: confidence(file, line, conf)?,
            };
            if t.tlds.insert(tld, hit).is_some() {
                return Err(error(file, line, format!("domain {tld:?} is listed twice")));
            }
        }
        Ok(t)
    }

    /// Adds the `|`-separated `names` of one line as readings of `kind`.
    fn add_names(
        &mut self,
        scratch: &mut Scratch,
        (file, line): (&'static str, usize),
        names: &str,
        kind: Kind,
        hit: Hit,
    ) -> Result<(), TableError> {
        for name in names.split('|') {
            tokenize(name, scratch);
            let [segment] = scratch.segments[..] else {
                return Err(error(
                    file,
                    line,
                    format!(
                        "{name:?} must be one run of words (no commas, brackets or sentence ends)"
                    ),
                ));
            };
            let (first, end) = (segment.first as usize, segment.end as usize);
            self.longest = self.longest.max(end - first);
            let key = scratch.span(first, end - 1);
            let entry = self.names.entry(key.to_string()).or_default();
            let slot = match kind {
                Kind::Country => &mut entry.country,
                Kind::Subdivision => &mut entry.subdivision,
                Kind::City => &mut entry.city,
            };
            match slot {
                Some(old) if old.country != hit.country => {
                    return Err(error(
                        file,
                        line,
                        format!(
                            "{name:?} is already listed for {} in the same table",
                            old.country
                        ),
                    ));
                }
                Some(old) => old.confidence = old.confidence.max(hit.confidence),
                None => *slot = Some(hit),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse() {
        let t = Tables::parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(t.longest >= 5, "longest name has {} tokens", t.longest);
        assert_eq!(t.names["usa"].country.map(|h| h.country), Some("US"));
        assert_eq!(t.names["p r china"].country.map(|h| h.country), Some("CN"));
        assert_eq!(
            t.names["new south wales"].subdivision.map(|h| h.country),
            Some("AU")
        );
        assert_eq!(t.postal["md"], ["US"]);
        assert_eq!(t.tlds["uk"].country, "GB");
        assert!(!t.tlds.contains_key("com"));
    }

    #[test]
    fn every_iso_code_has_a_name() {
        let t = Tables::parse().unwrap_or_else(|e| panic!("{e}"));
        let mut codes: Vec<&str> = t
            .names
            .values()
            .filter_map(|n| n.country)
            .map(|h| h.country)
            .collect();
        codes.sort_unstable();
        codes.dedup();
        // 249 officially assigned codes plus XK (Kosovo).
        assert_eq!(codes.len(), 250);
    }
}
