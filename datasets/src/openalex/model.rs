//! The subset of an OpenAlex Work that bibflow keeps, as borrowed serde structs.
//!
//! Unknown keys are ignored, every key may be missing or `null` (OpenAlex's schema drifts: the
//! fixtures hold the same work in its 2025 and 2026 shapes), strings borrow from the input line
//! unless they contain escapes.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};

type Str<'a> = Option<Cow<'a, str>>;

#[derive(Debug, Default, Deserialize)]
pub struct Work<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub doi: Str<'a>,
    #[serde(borrow)]
    pub title: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    pub publication_year: Option<i32>,
    #[serde(borrow)]
    pub publication_date: Str<'a>,
    #[serde(borrow, default)]
    pub ids: Option<Ids<'a>>,
    #[serde(borrow)]
    pub language: Str<'a>,
    #[serde(borrow, default)]
    pub primary_location: Option<Location<'a>>,
    #[serde(borrow, rename = "type")]
    pub work_type: Str<'a>,
    #[serde(borrow)]
    pub type_crossref: Str<'a>,
    #[serde(borrow, default)]
    pub open_access: Option<OpenAccess<'a>>,
    #[serde(borrow, default)]
    pub authorships: Option<Vec<Authorship<'a>>>,
    pub cited_by_count: Option<i64>,
    pub referenced_works_count: Option<i64>,
    pub fwci: Option<f64>,
    #[serde(default)]
    pub citation_normalized_percentile: Option<Percentile>,
    pub is_retracted: Option<bool>,
    pub is_paratext: Option<bool>,
    #[serde(borrow, default)]
    pub primary_topic: Option<Topic<'a>>,
    #[serde(borrow, default)]
    pub topics: Option<Vec<Topic<'a>>>,
    #[serde(borrow, default)]
    pub mesh: Option<Vec<Mesh<'a>>>,
    #[serde(borrow, default)]
    pub referenced_works: Option<Vec<Cow<'a, str>>>,
    #[serde(default)]
    pub counts_by_year: Option<Vec<CountByYear>>,
    #[serde(borrow, default)]
    pub abstract_inverted_index: Option<WordIndex<'a>>,
    #[serde(borrow)]
    pub updated_date: Str<'a>,
    /// Funders (2025-): `{id, display_name, ror}`.
    #[serde(borrow, default)]
    pub funders: Option<Vec<Funder<'a>>>,
    /// Awards (2025-): `{id, display_name, funder_award_id, funder_id, funder_display_name}`.
    #[serde(borrow, default)]
    pub awards: Option<Vec<Award<'a>>>,
    /// Grants (before 2025, replaced by `funders` and `awards`): `{funder, funder_display_name,
    /// award_id}`.
    #[serde(borrow, default)]
    pub grants: Option<Vec<Grant<'a>>>,
    /// API list pages stop `authorships` at 100 authors and say so here.
    pub is_authors_truncated: Option<bool>,
    #[serde(borrow)]
    pub created_date: Str<'a>,
    pub is_xpac: Option<bool>,
    #[serde(borrow, default)]
    pub indexed_in: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub biblio: Option<Biblio<'a>>,
    #[serde(borrow, default)]
    pub apc_list: Option<Apc<'a>>,
    #[serde(borrow, default)]
    pub apc_paid: Option<Apc<'a>>,
    #[serde(default)]
    pub cited_by_percentile_year: Option<MinMax>,
    #[serde(borrow, default)]
    pub corresponding_author_ids: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub corresponding_institution_ids: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub related_works: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow, default)]
    pub locations: Option<Vec<Location<'a>>>,
    #[serde(borrow, default)]
    pub best_oa_location: Option<Location<'a>>,
    #[serde(borrow, default)]
    pub keywords: Option<Vec<Tag<'a>>>,
    #[serde(borrow, default)]
    pub concepts: Option<Vec<Tag<'a>>>,
    #[serde(borrow, default)]
    pub sustainable_development_goals: Option<Vec<Tag<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Biblio<'a> {
    #[serde(borrow)]
    pub volume: Str<'a>,
    #[serde(borrow)]
    pub issue: Str<'a>,
    #[serde(borrow)]
    pub first_page: Str<'a>,
    #[serde(borrow)]
    pub last_page: Str<'a>,
}

/// `apc_list` / `apc_paid`: `{value, currency, value_usd}`.
#[derive(Debug, Default, Deserialize)]
pub struct Apc<'a> {
    pub value: Option<i64>,
    #[serde(borrow)]
    pub currency: Str<'a>,
    pub value_usd: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct MinMax {
    pub min: Option<i32>,
    pub max: Option<i32>,
}

/// A keyword, concept or SDG: `{id, display_name, score}` (concepts also `level`).
#[derive(Debug, Default, Deserialize)]
pub struct Tag<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    pub score: Option<f64>,
    pub level: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Funder<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    #[serde(borrow)]
    pub ror: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Award<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    #[serde(borrow)]
    pub funder_award_id: Str<'a>,
    #[serde(borrow)]
    pub funder_id: Str<'a>,
    #[serde(borrow)]
    pub funder_display_name: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Grant<'a> {
    #[serde(borrow)]
    pub funder: Str<'a>,
    #[serde(borrow)]
    pub funder_display_name: Str<'a>,
    #[serde(borrow)]
    pub award_id: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Ids<'a> {
    #[serde(borrow)]
    pub openalex: Str<'a>,
    #[serde(borrow)]
    pub doi: Str<'a>,
    /// MAG ids are strings in the API but numbers in some older dumps.
    #[serde(default)]
    pub mag: Option<serde_json::Value>,
    #[serde(borrow)]
    pub pmid: Str<'a>,
    #[serde(borrow)]
    pub pmcid: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Location<'a> {
    #[serde(borrow, default)]
    pub source: Option<Source<'a>>,
    #[serde(borrow)]
    pub landing_page_url: Str<'a>,
    #[serde(borrow)]
    pub pdf_url: Str<'a>,
    pub is_oa: Option<bool>,
    #[serde(borrow)]
    pub license: Str<'a>,
    #[serde(borrow)]
    pub version: Str<'a>,
    pub is_accepted: Option<bool>,
    pub is_published: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Source<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    #[serde(borrow)]
    pub issn_l: Str<'a>,
    #[serde(borrow, rename = "type")]
    pub source_type: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct OpenAccess<'a> {
    pub is_oa: Option<bool>,
    #[serde(borrow)]
    pub oa_status: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Percentile {
    pub value: Option<f64>,
    pub is_in_top_1_percent: Option<bool>,
    pub is_in_top_10_percent: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Authorship<'a> {
    #[serde(borrow)]
    pub author_position: Str<'a>,
    #[serde(borrow, default)]
    pub author: Option<Author<'a>>,
    #[serde(borrow, default)]
    pub institutions: Option<Vec<Institution<'a>>>,
    #[serde(borrow, default)]
    pub countries: Option<Vec<Cow<'a, str>>>,
    pub is_corresponding: Option<bool>,
    #[serde(borrow)]
    pub raw_author_name: Str<'a>,
    #[serde(borrow, default)]
    pub raw_affiliation_strings: Option<Vec<Cow<'a, str>>>,
    /// The older single-string form, still found in early snapshots.
    #[serde(borrow)]
    pub raw_affiliation_string: Str<'a>,
    /// Which raw affiliation string matched which institutions.
    #[serde(borrow, default)]
    pub affiliations: Option<Vec<Affiliation<'a>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Affiliation<'a> {
    #[serde(borrow)]
    pub raw_affiliation_string: Str<'a>,
    #[serde(borrow, default)]
    pub institution_ids: Option<Vec<Cow<'a, str>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Author<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    #[serde(borrow)]
    pub orcid: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Institution<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub country_code: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    #[serde(borrow)]
    pub ror: Str<'a>,
    #[serde(borrow, rename = "type")]
    pub institution_type: Str<'a>,
    #[serde(borrow, default)]
    pub lineage: Option<Vec<Cow<'a, str>>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Topic<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
    pub score: Option<f64>,
    #[serde(borrow, default)]
    pub subfield: Option<Named<'a>>,
    #[serde(borrow, default)]
    pub field: Option<Named<'a>>,
    #[serde(borrow, default)]
    pub domain: Option<Named<'a>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Named<'a> {
    #[serde(borrow)]
    pub id: Str<'a>,
    #[serde(borrow)]
    pub display_name: Str<'a>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Mesh<'a> {
    #[serde(borrow)]
    pub descriptor_ui: Str<'a>,
    #[serde(borrow)]
    pub descriptor_name: Str<'a>,
    #[serde(borrow)]
    pub qualifier_ui: Str<'a>,
    #[serde(borrow)]
    pub qualifier_name: Str<'a>,
    pub is_major_topic: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CountByYear {
    pub year: Option<i32>,
    pub cited_by_count: Option<i64>,
}

/// `abstract_inverted_index`: word -> positions, as an object (JSON) or as its JSON text (a text
/// column of a Parquet copy).
#[derive(Debug)]
pub enum WordIndex<'a> {
    Map(HashMap<Cow<'a, str>, Vec<u32>>),
    Json(String),
}

impl<'de: 'a, 'a> Deserialize<'de> for WordIndex<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = WordIndex<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of word -> positions, or its JSON text")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out = HashMap::with_capacity(m.size_hint().unwrap_or(0));
                while let Some((k, v)) = m.next_entry::<Cow<'de, str>, Vec<u32>>()? {
                    out.insert(k, v);
                }
                Ok(WordIndex::Map(out))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(WordIndex::Json(s.to_owned()))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}
