//! The country reference table (`udfs/data/countries.csv`), compiled in and parsed once.
//!
//! Used by `country_region`, `country_name` and `is_eu_member` (see `country_lookup`). Lookups
//! index a 26 x 26 array by the two letters of the code, so they neither hash nor allocate.

use std::sync::LazyLock;

use datafusion::common::internal_err;
use datafusion::error::Result;

/// The CSV as shipped.
const CSV: &str = include_str!("../../data/countries.csv");

/// The regions `country_region` returns, as spelled in `udfs/data/countries.csv`.
pub const REGIONS: [&str; 10] = [
    "North America",
    "Latin America and Caribbean",
    "Europe",
    "East Asia",
    "South Asia",
    "Southeast Asia",
    "Central Asia",
    "Middle East and North Africa",
    "Sub-Saharan Africa",
    "Oceania",
];

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code, upper-case.
    pub(crate) code: &'static str,
    /// English short name.
    pub(crate) name: &'static str,
    /// One of [`REGIONS`].
    pub(crate) region: &'static str,
    /// A current member of the European Union.
    pub(crate) eu_member: bool,
}

/// The parsed table.
#[derive(Debug)]
pub(crate) struct CountryTable {
    rows: Vec<Country>,
    by_code: Vec<u16>,
}

const MISSING: u16 = u16::MAX;

fn slot(code: &str) -> Option<usize> {
    match code.as_bytes() {
        [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(
            (a.to_ascii_uppercase() - b'A') as usize * 26
                + (b.to_ascii_uppercase() - b'A') as usize,
        ),
        _ => None,
    }
}

/// Splits one CSV line into fields; a field may be double-quoted (no embedded quotes).
fn split_line(line: &'static str) -> std::result::Result<Vec<&'static str>, String> {
    let mut fields = Vec::with_capacity(4);
    let mut rest = line;
    loop {
        if let Some(quoted) = rest.strip_prefix('"') {
            let Some(close) = quoted.find('"') else {
                return Err("unterminated quoted field".into());
            };
            fields.push(&quoted[..close]);
            rest = &quoted[close + 1..];
            if rest.is_empty() {
                return Ok(fields);
            }
            let Some(after) = rest.strip_prefix(',') else {
                return Err("a quoted field must be followed by a comma".into());
            };
            rest = after;
        } else {
            match rest.find(',') {
                Some(i) => {
                    fields.push(&rest[..i]);
                    rest = &rest[i + 1..];
                }
                None => {
                    fields.push(rest);
                    return Ok(fields);
                }
            }
        }
    }
}

impl CountryTable {
    /// Parses the table; the error names the line and what is wrong with it.
    pub(crate) fn parse(csv: &'static str) -> std::result::Result<Self, String> {
        let mut rows = Vec::with_capacity(256);
        let mut by_code = vec![MISSING; 26 * 26];
        let mut header_seen = false;
        for (i, line) in csv.lines().enumerate() {
            let line_no = i + 1;
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                if line != "code,name,region,eu_member" {
                    return Err(format!(
                        "countries.csv line {line_no}: expected the header code,name,region,eu_member"
                    ));
                }
                header_seen = true;
                continue;
            }
            let fields =
                split_line(line).map_err(|e| format!("countries.csv line {line_no}: {e}"))?;
            let [code, name, region, eu] = fields[..] else {
                return Err(format!(
                    "countries.csv line {line_no}: expected 4 fields, found {}",
                    fields.len()
                ));
            };
            let Some(s) = slot(code).filter(|_| code.bytes().all(|b| b.is_ascii_uppercase()))
            else {
                return Err(format!(
                    "countries.csv line {line_no}: '{code}' is not a two-letter upper-case code"
                ));
            };
            if !REGIONS.contains(&region) {
                return Err(format!(
                    "countries.csv line {line_no}: unknown region '{region}'"
                ));
            }
            let eu_member = match eu {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(format!(
                        "countries.csv line {line_no}: eu_member must be true or false, found '{eu}'"
                    ));
                }
            };
            if by_code[s] != MISSING {
                return Err(format!(
                    "countries.csv line {line_no}: '{code}' is listed twice"
                ));
            }
            by_code[s] = u16::try_from(rows.len()).map_err(|_| "too many rows".to_string())?;
            rows.push(Country {
                code,
                name,
                region,
                eu_member,
            });
        }
        Ok(Self { rows, by_code })
    }

    /// Looks a code up: surrounding space and case are ignored; anything else unknown is `None`.
    pub(crate) fn get(&self, code: &str) -> Option<&Country> {
        let i = self.by_code[slot(code.trim())?];
        (i != MISSING).then(|| &self.rows[i as usize])
    }

    /// Every row, in file order.
    #[cfg(test)]
    pub(crate) fn rows(&self) -> &[Country] {
        &self.rows
    }
}

static TABLE: LazyLock<std::result::Result<CountryTable, String>> =
    LazyLock::new(|| CountryTable::parse(CSV));

/// The compiled-in table.
pub(crate) fn table() -> Result<&'static CountryTable> {
    match &*TABLE {
        Ok(t) => Ok(t),
        Err(e) => internal_err!("the compiled-in country table is invalid: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn table_parses_with_all_iso_codes() {
        let t = table().unwrap();
        // 249 ISO 3166-1 alpha-2 codes plus XK.
        assert_eq!(t.rows().len(), 250);
        let eu: Vec<_> = t
            .rows()
            .iter()
            .filter(|c| c.eu_member)
            .map(|c| c.code)
            .collect();
        assert_eq!(
            eu,
            [
                "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
                "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"
            ]
        );
        let mut per_region: HashMap<&str, usize> = HashMap::new();
        for c in t.rows() {
            *per_region.entry(c.region).or_default() += 1;
        }
        assert_eq!(per_region.len(), REGIONS.len());
        assert_eq!(per_region["North America"], 4);
        assert_eq!(per_region["Central Asia"], 5);
    }

    #[test]
    fn lookups() {
        let t = table().unwrap();
        assert_eq!(t.get("us").unwrap().name, "United States");
        assert_eq!(
            t.get(" BQ ").unwrap().name,
            "Bonaire, Sint Eustatius and Saba"
        );
        assert_eq!(t.get("HK").unwrap().region, "East Asia");
        assert_eq!(t.get("NA").unwrap().name, "Namibia");
        assert!(t.get("ZZ").is_none());
        assert!(t.get("USA").is_none());
        assert!(t.get("").is_none());
        assert!(t.get("é1").is_none());
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = CountryTable::parse("code,name,region,eu_member\nUS,United States,Mars,false\n")
            .unwrap_err();
        assert!(err.contains("line 2") && err.contains("Mars"), "{err}");
        let err = CountryTable::parse(
            "code,name,region,eu_member\nUS,A,Europe,false\nus,B,Europe,false\n",
        )
        .unwrap_err();
        assert!(err.contains("not a two-letter upper-case"), "{err}");
        let err = CountryTable::parse("code,name\n").unwrap_err();
        assert!(err.contains("header"), "{err}");
    }
}
