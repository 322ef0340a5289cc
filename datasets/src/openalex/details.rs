//! A work's details beyond the core rows: its `works` columns from `is_authors_truncated` on, and
//! the tables `authorship_affiliations`, `work_institutions`, `work_locations`, `work_tags` and
//! `work_related_works`.

use super::convert::parse_timestamp_micros;
use super::ids::entity_number;
use super::model::{Apc, Location, Tag, Work};
use crate::builders::{TableBuilders, WorksBuilder};

/// The `works` columns after `source`, in schema order.
pub(super) fn append_work_columns(w: &Work<'_>, t: &mut WorksBuilder) {
    t.is_authors_truncated.append_option(w.is_authors_truncated);
    t.created_date.append_option(
        w.created_date
            .as_deref()
            .and_then(parse_timestamp_micros)
            .map(|m| m.div_euclid(86_400_000_000) as i32),
    );
    t.is_xpac.append_option(w.is_xpac);
    match &w.indexed_in {
        Some(list) => {
            for x in list {
                t.indexed_in.values().append_value(x);
            }
            t.indexed_in.append(true);
        }
        None => t.indexed_in.append(false),
    }
    let b = w.biblio.as_ref();
    t.biblio_volume
        .append_option(b.and_then(|b| b.volume.as_deref()));
    t.biblio_issue
        .append_option(b.and_then(|b| b.issue.as_deref()));
    t.biblio_first_page
        .append_option(b.and_then(|b| b.first_page.as_deref()));
    t.biblio_last_page
        .append_option(b.and_then(|b| b.last_page.as_deref()));
    let apc = |a: &Option<Apc<'_>>| {
        let a = a.as_ref();
        (
            a.and_then(|a| a.value),
            a.and_then(|a| a.currency.as_deref().map(str::to_owned)),
            a.and_then(|a| a.value_usd),
        )
    };
    let (value, currency, usd) = apc(&w.apc_list);
    t.apc_list_value.append_option(value);
    t.apc_list_currency.append_option(currency);
    t.apc_list_usd.append_option(usd);
    let (value, currency, usd) = apc(&w.apc_paid);
    t.apc_paid_value.append_option(value);
    t.apc_paid_currency.append_option(currency);
    t.apc_paid_usd.append_option(usd);
    let pct = w.cited_by_percentile_year.as_ref();
    t.citation_percentile_year_min
        .append_option(pct.and_then(|p| p.min));
    t.citation_percentile_year_max
        .append_option(pct.and_then(|p| p.max));
    for (ids, letter, col) in [
        (
            &w.corresponding_author_ids,
            b'A',
            &mut t.corresponding_author_ids,
        ),
        (
            &w.corresponding_institution_ids,
            b'I',
            &mut t.corresponding_institution_ids,
        ),
    ] {
        match ids {
            Some(list) => {
                for id in list {
                    col.values().append_option(entity_number(id, letter));
                }
                col.append(true);
            }
            None => col.append(false),
        }
    }
}

/// The detail tables of one work.
pub(super) fn append_tables(w: &Work<'_>, work_id: i64, out: &mut TableBuilders) {
    let authorships = w.authorships.as_deref().unwrap_or_default();

    let aff = &mut out.authorship_affiliations;
    for (pos, au) in authorships.iter().enumerate() {
        for a in au.affiliations.as_deref().unwrap_or_default() {
            aff.work_id.append_value(work_id);
            aff.author_position.append_value(pos as i32);
            aff.raw_affiliation
                .append_option(a.raw_affiliation_string.as_deref());
            for id in a.institution_ids.as_deref().unwrap_or_default() {
                aff.institution_ids
                    .values()
                    .append_option(entity_number(id, b'I'));
            }
            aff.institution_ids.append(true);
        }
    }

    // Each institution once per work, as first listed.
    let inst = &mut out.work_institutions;
    let mut seen: Vec<(Option<i64>, Option<&str>)> = Vec::new();
    for i in authorships
        .iter()
        .flat_map(|a| a.institutions.as_deref().unwrap_or_default())
    {
        let id = i.id.as_deref().and_then(|x| entity_number(x, b'I'));
        let key = (id, i.display_name.as_deref());
        if key == (None, None) || seen.contains(&key) {
            continue;
        }
        seen.push(key);
        inst.work_id.append_value(work_id);
        inst.institution_id.append_option(id);
        inst.institution_name
            .append_option(i.display_name.as_deref());
        inst.ror.append_option(i.ror.as_deref().map(bare_ror));
        inst.institution_type
            .append_option(i.institution_type.as_deref());
        inst.country_code.append_option(i.country_code.as_deref());
        for l in i.lineage.as_deref().unwrap_or_default() {
            inst.lineage.values().append_option(entity_number(l, b'I'));
        }
        inst.lineage.append(true);
    }

    append_locations(w, work_id, out);

    let tags = &mut out.work_tags;
    for (scheme, list) in [
        ("keyword", &w.keywords),
        ("sdg", &w.sustainable_development_goals),
        ("concept", &w.concepts),
    ] {
        for tag in list.as_deref().unwrap_or_default() {
            append_tag(tags, work_id, scheme, tag);
        }
    }

    let rel = &mut out.work_related_works;
    for r in w.related_works.as_deref().unwrap_or_default() {
        if let Some(id) = entity_number(r, b'W') {
            rel.work_id.append_value(work_id);
            rel.related_work_id.append_value(id);
        }
    }
}

fn append_tag(t: &mut crate::builders::WorkTagsBuilder, work_id: i64, scheme: &str, tag: &Tag<'_>) {
    if tag.id.is_none() && tag.display_name.is_none() {
        return;
    }
    t.work_id.append_value(work_id);
    t.scheme.append_value(scheme);
    // `https://openalex.org/keywords/citation` -> `citation`, `.../C41008148` -> `C41008148`,
    // `https://metadata.un.org/sdg/3` -> `3`.
    t.tag_id.append_option(
        tag.id
            .as_deref()
            .map(|id| id.trim_end_matches('/').rsplit('/').next().unwrap_or(id)),
    );
    t.name.append_option(tag.display_name.as_deref());
    t.score.append_option(tag.score);
    t.level.append_option(tag.level);
}

/// `locations[]`, each flagged primary and best-OA when it is the same as `primary_location` /
/// `best_oa_location`; a work without `locations` gets rows for those two (no index).
fn append_locations(w: &Work<'_>, work_id: i64, out: &mut TableBuilders) {
    let same = |a: &Location<'_>, b: Option<&Location<'_>>| {
        b.is_some_and(|b| {
            a.landing_page_url == b.landing_page_url
                && a.pdf_url == b.pdf_url
                && a.version == b.version
                && a.source.as_ref().and_then(|s| s.id.as_deref())
                    == b.source.as_ref().and_then(|s| s.id.as_deref())
        })
    };
    let primary = w.primary_location.as_ref();
    let best = w.best_oa_location.as_ref();
    let mut rows: Vec<(Option<i32>, &Location<'_>, bool, bool)> = Vec::new();
    match w.locations.as_deref() {
        Some(list) if !list.is_empty() => {
            for (i, l) in list.iter().enumerate() {
                rows.push((Some(i as i32), l, same(l, primary), same(l, best)));
            }
        }
        _ => {
            if let Some(p) = primary {
                rows.push((None, p, true, same(p, best)));
            }
            if let Some(b) = best.filter(|b| !same(b, primary)) {
                rows.push((None, b, false, true));
            }
        }
    }
    let t = &mut out.work_locations;
    for (index, l, is_primary, is_best) in rows {
        let source = l.source.as_ref();
        t.work_id.append_value(work_id);
        t.location_index.append_option(index);
        t.is_primary.append_value(is_primary);
        t.is_best_oa.append_value(is_best);
        t.source_id.append_option(
            source
                .and_then(|s| s.id.as_deref())
                .and_then(|s| entity_number(s, b'S')),
        );
        t.source_name
            .append_option(source.and_then(|s| s.display_name.as_deref()));
        t.source_type
            .append_option(source.and_then(|s| s.source_type.as_deref()));
        t.landing_page_url
            .append_option(l.landing_page_url.as_deref());
        t.pdf_url.append_option(l.pdf_url.as_deref());
        t.is_oa.append_option(l.is_oa);
        t.license.append_option(l.license.as_deref());
        t.version.append_option(l.version.as_deref());
        t.is_accepted.append_option(l.is_accepted);
        t.is_published.append_option(l.is_published);
    }
}

/// `https://ror.org/021nxhr62` -> `021nxhr62` (a bare ROR id is kept as it is).
pub(super) fn bare_ror(s: &str) -> &str {
    s.trim_end_matches('/').rsplit('/').next().unwrap_or(s)
}
