//! Parsing OpenAlex's URL-shaped identifiers into typed values.
//!
//! OpenAlex writes ids as URLs (`https://openalex.org/W2741809807`, `https://doi.org/10.7717/PEERJ.4375`,
//! `https://pubmed.ncbi.nlm.nih.gov/29456894`); bibflow stores the W-number, the lower-case DOI and the
//! integer PMID, never the URL.

/// The number of an OpenAlex entity id with the given letter prefix: `W`, `A`, `I`, `S`, `T`.
///
/// Accepts the URL form and the short form; returns `None` for anything else.
///
/// ```
/// use bibflow_datasets::openalex::ids::entity_number;
/// assert_eq!(entity_number("https://openalex.org/W2741809807", b'W'), Some(2741809807));
/// assert_eq!(entity_number("w42", b'W'), Some(42));
/// assert_eq!(entity_number("https://openalex.org/A1", b'W'), None);
/// ```
pub fn entity_number(id: &str, letter: u8) -> Option<i64> {
    let tail = id.rsplit('/').next()?;
    let bytes = tail.as_bytes();
    let first = *bytes.first()?;
    if !first.eq_ignore_ascii_case(&letter) {
        return None;
    }
    parse_positive(&tail[1..])
}

/// The number at the end of a path-shaped id: `https://openalex.org/subfields/1804` -> 1804.
pub fn trailing_number(id: &str) -> Option<i64> {
    parse_positive(id.rsplit('/').next()?)
}

/// A DOI normalised to its lower-case bare form (`10.7717/peerj.4375`), or `None` if the text is not
/// a DOI.
///
/// ```
/// use bibflow_datasets::openalex::ids::normalize_doi;
/// assert_eq!(normalize_doi("https://doi.org/10.7717/PEERJ.4375").as_deref(), Some("10.7717/peerj.4375"));
/// assert_eq!(normalize_doi("doi:10.1000/X ").as_deref(), Some("10.1000/x"));
/// assert_eq!(normalize_doi("not a doi"), None);
/// ```
pub fn normalize_doi(raw: &str) -> Option<String> {
    let s = raw.trim();
    let start = s.find("10.")?;
    let doi = &s[start..];
    if !doi.contains('/') {
        return None;
    }
    Some(doi.to_lowercase())
}

/// An integer PMID from `https://pubmed.ncbi.nlm.nih.gov/29456894` or `29456894`.
pub fn pmid(raw: &str) -> Option<i64> {
    trailing_number(raw.trim_end_matches('/'))
}

/// The number of a PMCID from `https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5815332` or `PMC5815332`.
pub fn pmcid(raw: &str) -> Option<i64> {
    let tail = raw.trim_end_matches('/').rsplit('/').next()?;
    let digits = tail
        .strip_prefix("PMC")
        .or_else(|| tail.strip_prefix("pmc"))
        .unwrap_or(tail);
    parse_positive(digits)
}

fn parse_positive(s: &str) -> Option<i64> {
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_numbers() {
        assert_eq!(
            entity_number("https://openalex.org/T10102", b'T'),
            Some(10102)
        );
        assert_eq!(
            entity_number("https://openalex.org/I4200000001", b'I'),
            Some(4200000001)
        );
        assert_eq!(entity_number("https://openalex.org/W", b'W'), None);
        assert_eq!(entity_number("https://openalex.org/Wabc", b'W'), None);
        assert_eq!(entity_number("", b'W'), None);
    }

    #[test]
    fn pubmed_ids() {
        assert_eq!(
            pmid("https://pubmed.ncbi.nlm.nih.gov/29456894"),
            Some(29456894)
        );
        assert_eq!(pmid("29456894"), Some(29456894));
        assert_eq!(
            pmcid("https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5815332"),
            Some(5815332)
        );
        assert_eq!(pmcid("PMC5815332"), Some(5815332));
        assert_eq!(pmid("https://pubmed.ncbi.nlm.nih.gov/"), None);
    }

    #[test]
    fn trailing() {
        assert_eq!(
            trailing_number("https://openalex.org/subfields/1804"),
            Some(1804)
        );
        assert_eq!(trailing_number("https://openalex.org/domains/x"), None);
    }
}
