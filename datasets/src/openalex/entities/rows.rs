//! One OpenAlex entity record -> one row of its table ([`crate::schema::ENTITY_TABLES`]).
//!
//! Each entity has a shape ([`shape`]): the type of every field bibflow reads, which lenient typing
//! ([`crate::openalex::lenient`]) gives the record before its cells are taken ([`cells`]). Ids are
//! stored as the work tables store them: numbers without the URL (`A5023888391` -> 5023888391,
//! `https://openalex.org/subfields/1702` -> 1702), ORCID and ROR ids without the URL.

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    ListBuilder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, SchemaRef};
use serde_json::Value;
use std::sync::Arc;

use super::super::convert::parse_timestamp_micros;
use super::super::ids::{entity_number, trailing_number};
use super::super::lenient::Ty::{self, *};
use crate::schema::EntityTable;

const ID: Ty = Obj(&[("id", Str)]);
const NAMED: Ty = Obj(&[("id", Any), ("display_name", Str)]);
const STATS: Ty = Obj(&[
    ("h_index", Int),
    ("i10_index", Int),
    ("2yr_mean_citedness", Float),
]);

/// The fields of `entity` that bibflow reads, with their types.
pub(super) fn shape(entity: EntityTable) -> &'static Ty {
    /// The fields every entity has, then its own.
    macro_rules! entity {
        ($($own:expr),* $(,)?) => {
            Obj(&[
                ("id", Any),
                ("display_name", Str),
                ("works_count", Int),
                ("cited_by_count", Int),
                ("updated_date", Str),
                ("created_date", Str),
                $($own),*
            ])
        };
    }
    const AUTHOR: Ty = entity!(
        ("orcid", Str),
        ("ids", Obj(&[("orcid", Str)])),
        ("summary_stats", STATS),
        ("last_known_institutions", List(&ID)),
        ("affiliations", List(&Obj(&[("institution", ID)]))),
    );
    const INSTITUTION: Ty = entity!(
        ("ror", Str),
        ("type", Str),
        ("country_code", Str),
        ("lineage", List(&Str)),
        ("geo", Obj(&[("city", Str), ("country_code", Str)])),
        ("summary_stats", STATS),
    );
    const SOURCE: Ty = entity!(
        ("issn_l", Str),
        ("issn", List(&Str)),
        ("type", Str),
        ("host_organization", Str),
        ("host_organization_name", Str),
        ("is_oa", Bool),
        ("is_in_doaj", Bool),
        ("is_core", Bool),
        ("country_code", Str),
        ("apc_usd", Int),
        ("summary_stats", STATS),
    );
    const FUNDER: Ty = entity!(
        ("ror", Str),
        ("ids", Obj(&[("ror", Str), ("crossref", Str)])),
        ("country_code", Str),
        ("awards_count", Int),
        ("grants_count", Int),
    );
    const TOPIC: Ty = entity!(
        ("subfield", NAMED),
        ("field", NAMED),
        ("domain", NAMED),
        ("keywords", List(&Str)),
    );
    const LEVEL: Ty = entity!(("field", NAMED), ("domain", NAMED),);
    match entity {
        EntityTable::Authors => &AUTHOR,
        EntityTable::Institutions => &INSTITUTION,
        EntityTable::Sources => &SOURCE,
        EntityTable::Funders => &FUNDER,
        EntityTable::Topics => &TOPIC,
        EntityTable::Subfields | EntityTable::Fields | EntityTable::Domains => &LEVEL,
    }
}

/// The number of an entity id: `https://openalex.org/A5023888391` for the lettered entities; for
/// subfields, fields and domains `https://openalex.org/subfields/1702`, `"1702"` or `1702` (their
/// own records give a URL, a topic's nested levels an integer).
pub(super) fn id_number(entity: EntityTable, id: &Value) -> Option<i64> {
    let letter = match entity {
        EntityTable::Authors => b'A',
        EntityTable::Institutions => b'I',
        EntityTable::Sources => b'S',
        EntityTable::Funders => b'F',
        EntityTable::Topics => b'T',
        EntityTable::Subfields | EntityTable::Fields | EntityTable::Domains => {
            return level_number(id);
        }
    };
    entity_number(id.as_str()?, letter)
}

fn level_number(id: &Value) -> Option<i64> {
    match id {
        Value::Number(n) => n.as_i64().filter(|&i| i > 0),
        Value::String(s) => trailing_number(s.trim_end_matches('/')),
        _ => None,
    }
}

/// One cell of a row, typed as its column.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell {
    I64(Option<i64>),
    I32(Option<i32>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Str(Option<String>),
    I64s(Option<Vec<i64>>),
    Strs(Option<Vec<String>>),
    /// Microseconds since the epoch, UTC.
    Time(Option<i64>),
    /// Days since the epoch.
    Date(Option<i32>),
}

fn text(v: &Value) -> Cell {
    Cell::Str(v.as_str().map(str::to_owned))
}

fn int(v: &Value) -> Cell {
    Cell::I64(v.as_i64())
}

fn boolean(v: &Value) -> Cell {
    Cell::Bool(v.as_bool())
}

fn bare(v: &Value) -> Cell {
    Cell::Str(
        v.as_str()
            .map(|s| s.trim_end_matches('/').rsplit('/').next().unwrap_or(s))
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
    )
}

fn level(v: &Value) -> Cell {
    Cell::I32(level_number(v).and_then(|n| i32::try_from(n).ok()))
}

/// The numbers of a list's ids (or of its objects' `id`, or of `key.id`), unusable ones left out.
fn id_list(v: &Value, key: Option<&str>, letter: u8) -> Cell {
    Cell::I64s(v.as_array().map(|items| {
        items
            .iter()
            .map(|i| key.map_or(i, |k| &i[k]))
            .filter_map(|i| i.as_str().or_else(|| i["id"].as_str()))
            .filter_map(|s| entity_number(s, letter))
            .collect()
    }))
}

fn texts(v: &Value) -> Cell {
    Cell::Strs(v.as_array().map(|items| {
        items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect()
    }))
}

fn date(v: &Value) -> Cell {
    Cell::Date(
        v.as_str()
            .and_then(|s| chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok())
            .map(|d| (d - chrono::NaiveDate::default()).num_days() as i32),
    )
}

/// The microseconds of an `updated_date`, or `None`.
pub(super) fn updated_micros(r: &Value) -> Option<i64> {
    r["updated_date"].as_str().and_then(parse_timestamp_micros)
}

/// The row of record `r` (already given its [`shape`]) whose id number is `id`, in the column order
/// of `entity`'s schema.
pub(super) fn cells(entity: EntityTable, id: i64, r: &Value) -> Vec<Cell> {
    let key = match entity {
        EntityTable::Subfields | EntityTable::Fields | EntityTable::Domains => {
            Cell::I32(i32::try_from(id).ok())
        }
        _ => Cell::I64(Some(id)),
    };
    let mut row = vec![key];
    let stats = &r["summary_stats"];
    match entity {
        EntityTable::Authors => row.extend([
            bare(if r["orcid"].is_string() {
                &r["orcid"]
            } else {
                &r["ids"]["orcid"]
            }),
            text(&r["display_name"]),
            int(&stats["h_index"]),
            int(&stats["i10_index"]),
            Cell::F64(stats["2yr_mean_citedness"].as_f64()),
            id_list(&r["last_known_institutions"], None, b'I'),
            id_list(&r["affiliations"], Some("institution"), b'I'),
        ]),
        EntityTable::Institutions => row.extend([
            bare(&r["ror"]),
            text(&r["display_name"]),
            text(&r["type"]),
            text(if r["country_code"].is_string() {
                &r["country_code"]
            } else {
                &r["geo"]["country_code"]
            }),
            id_list(&r["lineage"], None, b'I'),
            text(&r["geo"]["city"]),
            int(&stats["h_index"]),
        ]),
        EntityTable::Sources => {
            let host = r["host_organization"].as_str();
            let host_as = |letter| Cell::I64(host.and_then(|h| entity_number(h, letter)));
            row.extend([
                text(&r["issn_l"]),
                texts(&r["issn"]),
                text(&r["display_name"]),
                text(&r["type"]),
                host_as(b'P'),
                host_as(b'I'),
                text(&r["host_organization_name"]),
                boolean(&r["is_oa"]),
                boolean(&r["is_in_doaj"]),
                boolean(&r["is_core"]),
                text(&r["country_code"]),
                int(&r["apc_usd"]),
                int(&stats["h_index"]),
            ]);
        }
        EntityTable::Funders => row.extend([
            text(&r["display_name"]),
            bare(if r["ror"].is_string() {
                &r["ror"]
            } else {
                &r["ids"]["ror"]
            }),
            text(&r["country_code"]),
            int(if r["awards_count"].is_i64() {
                &r["awards_count"]
            } else {
                &r["grants_count"]
            }),
            bare(&r["ids"]["crossref"]),
        ]),
        EntityTable::Topics => row.extend([
            text(&r["display_name"]),
            level(&r["subfield"]["id"]),
            text(&r["subfield"]["display_name"]),
            level(&r["field"]["id"]),
            text(&r["field"]["display_name"]),
            level(&r["domain"]["id"]),
            text(&r["domain"]["display_name"]),
            texts(&r["keywords"]),
        ]),
        EntityTable::Subfields => row.extend([
            text(&r["display_name"]),
            level(&r["field"]["id"]),
            text(&r["field"]["display_name"]),
            level(&r["domain"]["id"]),
            text(&r["domain"]["display_name"]),
        ]),
        EntityTable::Fields => row.extend([
            text(&r["display_name"]),
            level(&r["domain"]["id"]),
            text(&r["domain"]["display_name"]),
        ]),
        EntityTable::Domains => row.push(text(&r["display_name"])),
    }
    row.extend([
        int(&r["works_count"]),
        int(&r["cited_by_count"]),
        Cell::Time(updated_micros(r)),
        date(&r["created_date"]),
    ]);
    row
}

/// The columns of `rows`, typed as `schema`'s first `rows[i].len()` fields.
///
/// A cell of another type than its column is a bug in [`cells`]; it is written as NULL (the
/// tests of every entity check every value, so it cannot go unseen).
pub(super) fn columns(schema: &SchemaRef, rows: &[Vec<Cell>]) -> Vec<ArrayRef> {
    let width = rows.first().map_or(schema.fields().len(), Vec::len);
    (0..width)
        .map(|j| column(schema.field(j).data_type(), rows.iter().map(|r| &r[j])))
        .collect()
}

fn column<'a>(dt: &DataType, cells: impl Iterator<Item = &'a Cell>) -> ArrayRef {
    macro_rules! build {
        ($builder:expr, $variant:ident) => {{
            let mut b = $builder;
            for c in cells {
                match c {
                    Cell::$variant(v) => b.append_option(v.clone()),
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    match dt {
        DataType::Int64 => build!(Int64Builder::new(), I64),
        DataType::Int32 => build!(Int32Builder::new(), I32),
        DataType::Float64 => build!(Float64Builder::new(), F64),
        DataType::Boolean => build!(BooleanBuilder::new(), Bool),
        DataType::Utf8 => build!(StringBuilder::new(), Str),
        DataType::Timestamp(..) => build!(TimestampMicrosecondBuilder::new(), Time),
        DataType::Date32 => build!(Date32Builder::new(), Date),
        DataType::List(item) if item.data_type() == &DataType::Int64 => {
            let mut b = ListBuilder::new(Int64Builder::new());
            for c in cells {
                match c {
                    Cell::I64s(Some(v)) => {
                        b.values().append_slice(v);
                        b.append(true);
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
        _ => {
            let mut b = ListBuilder::new(StringBuilder::new());
            for c in cells {
                match c {
                    Cell::Strs(Some(v)) => {
                        for s in v {
                            b.values().append_value(s);
                        }
                        b.append(true);
                    }
                    _ => b.append_null(),
                }
            }
            Arc::new(b.finish())
        }
    }
}
