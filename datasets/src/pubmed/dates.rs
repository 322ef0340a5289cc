//! PubMed's small value formats: dates (`Jul` or `07`, free-text `MedlineDate`), numbers, and
//! language codes.

use chrono::NaiveDate;

use super::record::DateParts;

/// A non-negative decimal integer, surrounding whitespace allowed.
pub fn parse_number(text: &str) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() || t.len() > 18 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// The first plausible year (four digits, 1000-2999, standing alone) in a text.
///
/// ```
/// use bibflow_datasets::pubmed::dates::year_in;
/// assert_eq!(year_in("1979 Jul-Sep"), Some(1979));
/// assert_eq!(year_in("1998 Dec-1999 Jan"), Some(1998));
/// assert_eq!(year_in("Spring 2000"), Some(2000));
/// assert_eq!(year_in("Winter"), None);
/// ```
pub fn year_in(text: &str) -> Option<i32> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 4 && matches!(b[start], b'1' | b'2') {
            return text[start..i].parse().ok();
        }
    }
    None
}

/// A month as a number 1-12, from `07`, `7`, `Jul` or `July` (any case).
///
/// ```
/// use bibflow_datasets::pubmed::dates::month_number;
/// assert_eq!(month_number("Jul"), Some(7));
/// assert_eq!(month_number("07"), Some(7));
/// assert_eq!(month_number("december"), Some(12));
/// assert_eq!(month_number("13"), None);
/// ```
pub fn month_number(text: &str) -> Option<u32> {
    let t = text.trim();
    if let Some(n) = parse_number(t) {
        return (1..=12).contains(&n).then_some(n as u32);
    }
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let head = t.get(..3)?;
    NAMES
        .iter()
        .position(|m| m.eq_ignore_ascii_case(head))
        .map(|i| i as u32 + 1)
}

/// The date of complete parts, as days since the Unix epoch.
pub fn date32(p: &DateParts) -> Option<i32> {
    const EPOCH_DAYS_FROM_CE: i32 = 719_163;
    let d = NaiveDate::from_ymd_opt(p.year?, p.month?, p.day?)?;
    Some(chrono::Datelike::num_days_from_ce(&d) - EPOCH_DAYS_FROM_CE)
}

/// Midnight UTC of a date given at least as a year, in microseconds since the epoch.
pub fn micros(p: &DateParts) -> Option<i64> {
    let d = NaiveDate::from_ymd_opt(p.year?, p.month.unwrap_or(1), p.day.unwrap_or(1))?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_micros())
}

/// PubMed's ISO 639-2 language code as the ISO 639-1 code the canonical `language` column holds;
/// codes without a two-letter form are kept as given, `und` (undetermined) is dropped.
///
/// ```
/// use bibflow_datasets::pubmed::dates::language_code;
/// assert_eq!(language_code("eng"), Some("en"));
/// assert_eq!(language_code("GER"), Some("de"));
/// assert_eq!(language_code("und"), None);
/// assert_eq!(language_code("haw"), Some("haw"));
/// ```
pub fn language_code(code: &str) -> Option<&str> {
    const MAP: &[(&str, &str)] = &[
        ("afr", "af"),
        ("alb", "sq"),
        ("ara", "ar"),
        ("arm", "hy"),
        ("aze", "az"),
        ("bel", "be"),
        ("ben", "bn"),
        ("bos", "bs"),
        ("bul", "bg"),
        ("cat", "ca"),
        ("chi", "zh"),
        ("cze", "cs"),
        ("dan", "da"),
        ("dut", "nl"),
        ("eng", "en"),
        ("epo", "eo"),
        ("est", "et"),
        ("fin", "fi"),
        ("fre", "fr"),
        ("geo", "ka"),
        ("ger", "de"),
        ("gla", "gd"),
        ("gle", "ga"),
        ("glg", "gl"),
        ("gre", "el"),
        ("heb", "he"),
        ("hin", "hi"),
        ("hrv", "hr"),
        ("hun", "hu"),
        ("ice", "is"),
        ("ind", "id"),
        ("ita", "it"),
        ("jpn", "ja"),
        ("kor", "ko"),
        ("lat", "la"),
        ("lav", "lv"),
        ("lit", "lt"),
        ("mac", "mk"),
        ("mal", "ml"),
        ("may", "ms"),
        ("mol", "ro"),
        ("mon", "mn"),
        ("nep", "ne"),
        ("nor", "no"),
        ("per", "fa"),
        ("pol", "pl"),
        ("por", "pt"),
        ("pus", "ps"),
        ("rum", "ro"),
        ("rus", "ru"),
        ("san", "sa"),
        ("scc", "sr"),
        ("scr", "hr"),
        ("slo", "sk"),
        ("slv", "sl"),
        ("spa", "es"),
        ("srp", "sr"),
        ("swe", "sv"),
        ("tha", "th"),
        ("tur", "tr"),
        ("ukr", "uk"),
        ("urd", "ur"),
        ("vie", "vi"),
        ("wel", "cy"),
    ];
    if code.eq_ignore_ascii_case("und") || code.is_empty() {
        return None;
    }
    let found = MAP
        .binary_search_by(|(k, _)| {
            k.bytes()
                .map(|b| b.to_ascii_lowercase())
                .cmp(code.bytes().map(|b| b.to_ascii_lowercase()))
        })
        .ok()
        .map(|i| MAP[i].1);
    Some(found.unwrap_or(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medline_dates_give_their_first_year() {
        assert_eq!(year_in("1979 Jul-Sep"), Some(1979));
        assert_eq!(year_in("1998 Dec-1999 Jan"), Some(1998));
        assert_eq!(year_in("Spring 2000"), Some(2000));
        assert_eq!(year_in("2000-2001"), Some(2000));
        assert_eq!(year_in("Fall 19999"), None);
        assert_eq!(year_in(""), None);
    }

    #[test]
    fn dates_need_all_three_parts() {
        let full = DateParts {
            year: Some(1970),
            month: Some(1),
            day: Some(2),
        };
        assert_eq!(date32(&full), Some(1));
        assert_eq!(date32(&DateParts { day: None, ..full }), None);
        assert_eq!(
            date32(&DateParts {
                month: Some(2),
                day: Some(30),
                ..full
            }),
            None
        );
        assert_eq!(micros(&DateParts { day: None, ..full }), Some(0));
    }

    #[test]
    fn the_language_table_is_sorted() {
        assert_eq!(language_code("zul"), Some("zul"));
        assert_eq!(language_code("wel"), Some("cy"));
        assert_eq!(language_code("afr"), Some("af"));
        assert_eq!(language_code("Fre"), Some("fr"));
    }
}
