//! One OpenAlex work -> rows of the canonical tables.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::details;
use super::ids::{entity_number, normalize_doi, pmcid, pmid, trailing_number};
use super::model::{Topic, WordIndex, Work};
use crate::builders::TableBuilders;
use crate::writer::FieldNote;

/// Positions beyond this in `abstract_inverted_index` are treated as corrupt and the abstract dropped.
const MAX_ABSTRACT_WORDS: usize = 100_000;

/// Why a syntactically valid work cannot be ingested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

/// What the converter learned about one work, used for de-duplication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    pub work_id: i64,
    /// `updated_date` in microseconds since the epoch, when present.
    pub updated_micros: Option<i64>,
}

/// The work's key (its W-number), or why it has none.
pub fn work_id_of(w: &Work<'_>) -> Result<i64, Invalid> {
    let id_text =
        w.id.as_deref()
            .or_else(|| w.ids.as_ref().and_then(|i| i.openalex.as_deref()))
            .ok_or_else(|| Invalid("the work has no `id`".into()))?;
    entity_number(id_text, b'W')
        .ok_or_else(|| Invalid(format!("`id` {id_text:?} is not an OpenAlex work id")))
}

/// Appends one work to the builders. Nothing is appended when the work is rejected.
pub fn append_work(w: &Work<'_>, out: &mut TableBuilders) -> Result<Converted, Invalid> {
    append_work_noting(w, out, &mut Vec::new())
}

/// [`append_work`], noting in `notes` the fields read as NULL because their value was unusable.
pub fn append_work_noting(
    w: &Work<'_>,
    out: &mut TableBuilders,
    notes: &mut Vec<FieldNote>,
) -> Result<Converted, Invalid> {
    let work_id = work_id_of(w)?;

    let ids = w.ids.as_ref();
    let updated_micros = w.updated_date.as_deref().and_then(parse_timestamp_micros);

    let t = &mut out.works;
    t.work_id.append_value(work_id);
    t.openalex_id.append_value(work_id);
    let doi = w
        .doi
        .as_deref()
        .or_else(|| ids.and_then(|i| i.doi.as_deref()))
        .and_then(normalize_doi);
    t.doi.append_option(doi);
    t.pmid
        .append_option(ids.and_then(|i| i.pmid.as_deref()).and_then(pmid));
    t.pmcid
        .append_option(ids.and_then(|i| i.pmcid.as_deref()).and_then(pmcid));
    t.mag_id
        .append_option(ids.and_then(|i| i.mag.as_ref()).and_then(json_int));
    t.title
        .append_option(w.title.as_deref().or(w.display_name.as_deref()));
    match &w.abstract_inverted_index {
        Some(WordIndex::Map(index)) => t.r#abstract.append_option(rebuild_abstract(index)),
        Some(WordIndex::Json(text)) => {
            match serde_json::from_str::<HashMap<Cow<'_, str>, Vec<u32>>>(text) {
                Ok(index) => t.r#abstract.append_option(rebuild_abstract(&index)),
                Err(e) => {
                    notes.push(FieldNote {
                        field: "abstract_inverted_index".into(),
                        reason: format!("text that is not a word index ({e}); set to NULL"),
                    });
                    t.r#abstract.append_null();
                }
            }
        }
        None => t.r#abstract.append_null(),
    }
    let date = w.publication_date.as_deref().and_then(parse_date);
    t.publication_year.append_option(
        w.publication_year
            .or_else(|| date.map(|d| chrono::Datelike::year(&d))),
    );
    t.publication_date.append_option(date.map(date32));
    t.r#type.append_option(w.work_type.as_deref());
    t.type_crossref.append_option(w.type_crossref.as_deref());
    t.language.append_option(w.language.as_deref());
    let source = w.primary_location.as_ref().and_then(|l| l.source.as_ref());
    t.source_id.append_option(
        source
            .and_then(|s| s.id.as_deref())
            .and_then(|s| entity_number(s, b'S')),
    );
    t.source_name
        .append_option(source.and_then(|s| s.display_name.as_deref()));
    t.source_issn_l
        .append_option(source.and_then(|s| s.issn_l.as_deref()));
    t.source_type
        .append_option(source.and_then(|s| s.source_type.as_deref()));
    t.journal_iso_abbrev.append_null();
    t.journal_nlm_id.append_null();
    let oa = w.open_access.as_ref();
    t.is_oa.append_option(oa.and_then(|o| o.is_oa));
    t.oa_status
        .append_option(oa.and_then(|o| o.oa_status.as_deref()));
    t.cited_by_count.append_option(w.cited_by_count);
    t.referenced_works_count.append_option(
        w.referenced_works_count
            .or_else(|| w.referenced_works.as_ref().map(|r| r.len() as i64)),
    );
    t.fwci.append_option(w.fwci);
    let pct = w.citation_normalized_percentile.as_ref();
    t.citation_percentile
        .append_option(pct.and_then(|p| p.value));
    t.is_top_1_percent
        .append_option(pct.and_then(|p| p.is_in_top_1_percent));
    t.is_top_10_percent
        .append_option(pct.and_then(|p| p.is_in_top_10_percent));
    let primary = w
        .primary_topic
        .as_ref()
        .or_else(|| w.topics.as_ref().and_then(|ts| ts.first()));
    let pt = primary.map(TopicIds::of);
    t.primary_topic_id.append_option(pt.and_then(|p| p.topic));
    t.primary_topic_name
        .append_option(primary.and_then(|p| p.display_name.as_deref()));
    t.subfield_id.append_option(pt.and_then(|p| p.subfield));
    t.subfield_name.append_option(
        primary
            .and_then(|p| p.subfield.as_ref())
            .and_then(|n| n.display_name.as_deref()),
    );
    t.field_id.append_option(pt.and_then(|p| p.field));
    t.field_name.append_option(
        primary
            .and_then(|p| p.field.as_ref())
            .and_then(|n| n.display_name.as_deref()),
    );
    t.domain_id.append_option(pt.and_then(|p| p.domain));
    t.domain_name.append_option(
        primary
            .and_then(|p| p.domain.as_ref())
            .and_then(|n| n.display_name.as_deref()),
    );
    let authorships = w.authorships.as_deref().unwrap_or_default();
    t.authors_count.append_value(authorships.len() as i32);
    let mut distinct: Vec<&str> = authorships
        .iter()
        .flat_map(|a| a.countries.as_deref().unwrap_or_default())
        .map(|c| c.as_ref())
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    t.countries_count.append_value(distinct.len() as i32);
    t.is_retracted.append_option(w.is_retracted);
    t.is_paratext.append_option(w.is_paratext);
    t.updated_date.append_option(updated_micros);
    t.source.append_value("openalex");
    details::append_work_columns(w, t);

    let a = &mut out.authorships;
    for (pos, au) in authorships.iter().enumerate() {
        a.work_id.append_value(work_id);
        a.author_position.append_value(pos as i32);
        a.author_position_tag
            .append_option(au.author_position.as_deref());
        let author = au.author.as_ref();
        a.author_id.append_option(
            author
                .and_then(|x| x.id.as_deref())
                .and_then(|id| entity_number(id, b'A')),
        );
        a.author_name.append_option(
            author
                .and_then(|x| x.display_name.as_deref())
                .or(au.raw_author_name.as_deref()),
        );
        a.orcid.append_option(
            author
                .and_then(|x| x.orcid.as_deref())
                .map(|o| o.rsplit('/').next().unwrap_or(o)),
        );
        a.is_corresponding.append_option(au.is_corresponding);
        match (&au.raw_affiliation_strings, &au.raw_affiliation_string) {
            (Some(list), _) => {
                for s in list {
                    a.raw_affiliations.values().append_value(s);
                }
            }
            (None, Some(one)) if !one.is_empty() => a.raw_affiliations.values().append_value(one),
            _ => {}
        }
        a.raw_affiliations.append(true);
        // Resolved by bibflow's affiliation resolver for sources without institution countries;
        // OpenAlex gives countries itself.
        a.affiliation_countries.append(true);
        for inst in au.institutions.as_deref().unwrap_or_default() {
            a.institution_ids
                .values()
                .append_option(inst.id.as_deref().and_then(|id| entity_number(id, b'I')));
            a.institution_countries
                .values()
                .append_option(inst.country_code.as_deref());
        }
        a.institution_ids.append(true);
        a.institution_countries.append(true);
        for c in au.countries.as_deref().unwrap_or_default() {
            a.countries.values().append_value(c);
        }
        a.countries.append(true);
    }

    let topics = &mut out.work_topics;
    for (rank, topic) in w.topics.as_deref().unwrap_or_default().iter().enumerate() {
        let ids = TopicIds::of(topic);
        let Some(topic_id) = ids.topic else { continue };
        topics.work_id.append_value(work_id);
        topics.rank.append_value(rank as i32);
        topics.topic_id.append_value(topic_id);
        topics
            .topic_name
            .append_option(topic.display_name.as_deref());
        topics.score.append_option(topic.score);
        topics.subfield_id.append_option(ids.subfield);
        topics.subfield_name.append_option(
            topic
                .subfield
                .as_ref()
                .and_then(|n| n.display_name.as_deref()),
        );
        topics.field_id.append_option(ids.field);
        topics
            .field_name
            .append_option(topic.field.as_ref().and_then(|n| n.display_name.as_deref()));
        topics.domain_id.append_option(ids.domain);
        topics.domain_name.append_option(
            topic
                .domain
                .as_ref()
                .and_then(|n| n.display_name.as_deref()),
        );
    }

    append_mesh(w, work_id, out);
    append_funding(w, work_id, out);
    details::append_tables(w, work_id, out);

    let refs = &mut out.work_references;
    for r in w.referenced_works.as_deref().unwrap_or_default() {
        if let Some(cited) = entity_number(r, b'W') {
            refs.work_id.append_value(work_id);
            refs.referenced_work_id.append_value(cited);
        }
    }

    let cby = &mut out.work_citations_by_year;
    for c in w.counts_by_year.as_deref().unwrap_or_default() {
        if let (Some(year), Some(n)) = (c.year, c.cited_by_count) {
            cby.work_id.append_value(work_id);
            cby.year.append_value(year);
            cby.cited_by_count.append_value(n);
        }
    }

    Ok(Converted {
        work_id,
        updated_micros,
    })
}

/// `funders[]` -> `work_funders`, `awards[]` -> `work_awards`. A work in the pre-2025 shape (no
/// `funders` or `awards`, but `grants`) gives an award row per grant (its `award_id` as
/// `funder_award_id`, no OpenAlex award id) and a funder row per distinct grant funder.
fn append_funding(w: &Work<'_>, work_id: i64, out: &mut TableBuilders) {
    let fid = |id: Option<&str>| id.and_then(|i| entity_number(i, b'F'));
    let f = &mut out.work_funders;
    let a = &mut out.work_awards;
    let grants = w.grants.as_deref().unwrap_or_default();
    match &w.funders {
        Some(funders) => {
            for x in funders {
                f.work_id.append_value(work_id);
                f.funder_id.append_option(fid(x.id.as_deref()));
                f.funder_name.append_option(x.display_name.as_deref());
                f.ror.append_option(x.ror.as_deref().map(details::bare_ror));
            }
        }
        None if w.awards.is_none() => {
            let mut seen: Vec<(Option<i64>, Option<&str>)> = Vec::new();
            for g in grants {
                let key = (fid(g.funder.as_deref()), g.funder_display_name.as_deref());
                if key == (None, None) || seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                f.work_id.append_value(work_id);
                f.funder_id.append_option(key.0);
                f.funder_name.append_option(key.1);
                f.ror.append_null();
            }
        }
        None => {}
    }
    match &w.awards {
        Some(awards) => {
            for x in awards {
                a.work_id.append_value(work_id);
                a.award_id
                    .append_option(x.id.as_deref().and_then(|i| entity_number(i, b'G')));
                a.award_name.append_option(x.display_name.as_deref());
                a.funder_award_id
                    .append_option(x.funder_award_id.as_deref());
                a.funder_id.append_option(fid(x.funder_id.as_deref()));
                a.funder_name
                    .append_option(x.funder_display_name.as_deref());
            }
        }
        None if w.funders.is_none() => {
            for g in grants {
                a.work_id.append_value(work_id);
                a.award_id.append_null();
                a.award_name.append_null();
                a.funder_award_id.append_option(g.award_id.as_deref());
                a.funder_id.append_option(fid(g.funder.as_deref()));
                a.funder_name
                    .append_option(g.funder_display_name.as_deref());
            }
        }
        None => {}
    }
}

/// OpenAlex lists MeSH as one entry per descriptor x qualifier; bibflow keeps one row per descriptor
/// with its qualifiers as a list, in the order first seen. A descriptor is a major topic when any of
/// its entries is.
fn append_mesh(w: &Work<'_>, work_id: i64, out: &mut TableBuilders) {
    let mesh = w.mesh.as_deref().unwrap_or_default();
    let mut seen: Vec<&str> = Vec::new();
    let m = &mut out.work_mesh;
    for entry in mesh {
        let Some(ui) = entry.descriptor_ui.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        if seen.contains(&ui) {
            continue;
        }
        seen.push(ui);
        let same = mesh
            .iter()
            .filter(|e| e.descriptor_ui.as_deref() == Some(ui));
        let mut major = false;
        let mut name: Option<&str> = None;
        for e in same {
            major |= e.is_major_topic.unwrap_or(false);
            name = name.or(e.descriptor_name.as_deref());
            if let Some(q) = e.qualifier_ui.as_deref().filter(|q| !q.is_empty()) {
                m.qualifiers
                    .push(Some(q), e.qualifier_name.as_deref(), e.is_major_topic);
            }
        }
        m.work_id.append_value(work_id);
        m.descriptor_ui.append_value(ui);
        m.descriptor_name.append_option(name);
        m.is_major_topic.append_value(major);
        m.qualifiers.end_row();
    }
}

#[derive(Debug, Clone, Copy)]
struct TopicIds {
    topic: Option<i64>,
    subfield: Option<i32>,
    field: Option<i32>,
    domain: Option<i32>,
}

impl TopicIds {
    fn of(t: &Topic<'_>) -> Self {
        let small = |n: &Option<super::model::Named<'_>>| {
            n.as_ref()
                .and_then(|n| n.id.as_deref())
                .and_then(trailing_number)
                .and_then(|v| i32::try_from(v).ok())
        };
        TopicIds {
            topic: t.id.as_deref().and_then(|id| entity_number(id, b'T')),
            subfield: small(&t.subfield),
            field: small(&t.field),
            domain: small(&t.domain),
        }
    }
}

/// Turns OpenAlex's `abstract_inverted_index` (word -> positions) back into text.
///
/// ```
/// use std::collections::HashMap;
/// use std::borrow::Cow;
/// use bibflow_datasets::openalex::convert::rebuild_abstract;
/// let mut idx = HashMap::new();
/// idx.insert(Cow::Borrowed("world"), vec![1]);
/// idx.insert(Cow::Borrowed("hello"), vec![0, 2]);
/// assert_eq!(rebuild_abstract(&idx).as_deref(), Some("hello world hello"));
/// ```
pub fn rebuild_abstract(
    index: &std::collections::HashMap<Cow<'_, str>, Vec<u32>>,
) -> Option<String> {
    let max = index.values().flatten().copied().max()? as usize;
    if max >= MAX_ABSTRACT_WORDS {
        return None;
    }
    let mut slots: Vec<Option<&str>> = vec![None; max + 1];
    let mut len = 0;
    for (word, positions) in index {
        for &p in positions {
            slots[p as usize] = Some(word);
            len += word.len() + 1;
        }
    }
    let mut text = String::with_capacity(len);
    for word in slots.into_iter().flatten() {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(word);
    }
    Some(text)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn date32(d: NaiveDate) -> i32 {
    const EPOCH_DAYS_FROM_CE: i32 = 719_163;
    chrono::Datelike::num_days_from_ce(&d) - EPOCH_DAYS_FROM_CE
}

/// An `updated_date` as microseconds since the epoch, UTC: `2026-03-18T14:38:29.013473`,
/// `2026-03-18T14:38:29Z`, `2026-03-18T16:38:29.5+02:00`, `2026-03-18 14:38:29` (no zone: UTC) or a
/// bare date `2024-12-01` (midnight UTC). The time of day is kept, to the microsecond.
pub fn parse_timestamp_micros(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() > 10 {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(t.timestamp_micros());
        }
        for zoned in ["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z"] {
            if let Ok(t) = DateTime::parse_from_str(s, zoned) {
                return Some(t.timestamp_micros());
            }
        }
        let naive = s.strip_suffix(['Z', 'z']).unwrap_or(s);
        for plain in [
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(t) = NaiveDateTime::parse_from_str(naive, plain) {
                return Some(t.and_utc().timestamp_micros());
            }
        }
    }
    parse_date(s).map(|d| {
        d.and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp_micros()
    })
}

fn json_int(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-02").map(date32), Some(1));
        assert_eq!(
            parse_timestamp_micros("1970-01-01T00:00:01.5"),
            Some(1_500_000)
        );
        assert_eq!(parse_timestamp_micros("1970-01-02"), Some(86_400_000_000));
        assert_eq!(parse_timestamp_micros("yesterday"), None);
    }

    #[test]
    fn zoned_and_fractional_timestamps_keep_their_time_of_day() {
        // 2026-03-18T14:38:29Z, computed independently: 20530 days and 52709 s after the epoch.
        let at = (20_530 * 86_400 + 52_709) * 1_000_000;
        for s in [
            "2026-03-18T14:38:29Z",
            "2026-03-18T14:38:29+00:00",
            "2026-03-18T16:38:29+02:00",
            "2026-03-18T14:38:29.000000",
            "2026-03-18 14:38:29",
            "2026-03-18T14:38:29.000Z",
            "2026-03-18T14:38:29+0000",
        ] {
            assert_eq!(parse_timestamp_micros(s), Some(at), "{s}");
        }
        assert_eq!(
            parse_timestamp_micros("2026-03-18T14:38:29.013473Z"),
            Some(at + 13_473)
        );
        assert_eq!(
            parse_timestamp_micros("2026-03-18"),
            Some(20_530 * 86_400 * 1_000_000)
        );
    }

    #[test]
    fn work_without_id_is_invalid() {
        let w: Work<'_> = serde_json::from_str(r#"{"title": "x"}"#).unwrap();
        let mut b = TableBuilders::default();
        assert!(append_work(&w, &mut b).is_err());
        assert_eq!(b.works.len(), 0);
    }

    #[test]
    fn funders_and_awards_and_legacy_grants() {
        let w: Work<'_> = serde_json::from_str(
            r#"{"id": "https://openalex.org/W1",
              "funders": [{"id": "https://openalex.org/F4320306076", "display_name": "NSF", "ror": "https://ror.org/021nxhr62"}],
              "awards": [{"id": "https://openalex.org/G5453342221", "display_name": null, "funder_award_id": "1734573",
                          "funder_id": "https://openalex.org/F4320306076", "funder_display_name": "NSF"}],
              "grants": [{"funder": "https://openalex.org/F9", "award_id": "ignored when awards are given"}]}"#,
        )
        .unwrap();
        let old: Work<'_> = serde_json::from_str(
            r#"{"id": "https://openalex.org/W2", "grants": [
              {"funder": "https://openalex.org/F7", "funder_display_name": "X", "award_id": "A-1"},
              {"funder": "https://openalex.org/F7", "funder_display_name": "X", "award_id": "A-2"}]}"#,
        )
        .unwrap();
        let mut b = TableBuilders::default();
        append_work(&w, &mut b).unwrap();
        append_work(&old, &mut b).unwrap();
        let funders = b.work_funders.finish().unwrap();
        let awards = b.work_awards.finish().unwrap();
        let show = |batch: &arrow::record_batch::RecordBatch| {
            arrow::util::pretty::pretty_format_batches(std::slice::from_ref(batch))
                .unwrap()
                .to_string()
        };
        assert_eq!(funders.num_rows(), 2, "{}", show(&funders));
        assert_eq!(awards.num_rows(), 3, "{}", show(&awards));
        let text = show(&funders);
        assert!(
            text.contains("| 1       | 4320306076 | NSF         | 021nxhr62 |"),
            "{text}"
        );
        assert!(
            text.contains("| 2       | 7          | X           |           |"),
            "{text}"
        );
        let text = show(&awards);
        assert!(
            text.contains(
                "| 1       | 5453342221 |            | 1734573         | 4320306076 | NSF         |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| 2       |            |            | A-2             | 7          | X           |"
            ),
            "{text}"
        );
    }

    #[test]
    fn mesh_rows_group_qualifiers() {
        let w: Work<'_> = serde_json::from_str(
            r#"{"id": "https://openalex.org/W1", "mesh": [
              {"descriptor_ui": "D1", "descriptor_name": "A", "qualifier_ui": "", "qualifier_name": null, "is_major_topic": false},
              {"descriptor_ui": "D1", "descriptor_name": "A", "qualifier_ui": "Q1", "qualifier_name": "methods", "is_major_topic": true},
              {"descriptor_ui": "D2", "descriptor_name": "B", "qualifier_ui": "", "qualifier_name": null, "is_major_topic": false}]}"#,
        )
        .unwrap();
        let mut b = TableBuilders::default();
        append_work(&w, &mut b).unwrap();
        let batch = b.work_mesh.finish().unwrap();
        assert_eq!(batch.num_rows(), 2);
        let major = batch
            .column(3)
            .as_any()
            .downcast_ref::<arrow::array::BooleanArray>()
            .unwrap();
        assert!(major.value(0));
        assert!(!major.value(1));
    }
}
