//! Lenient typing: a work whose fields do not all have the types of [`super::model::Work`] (a year
//! as a string, an integer PMID, a float citation count, a null inside a list) is repaired field by
//! field rather than rejected whole.
//!
//! A work that parses as it is never comes here. One that does not is read as a JSON value and
//! walked along [`WORK`], the expected type of every field bibflow reads: a value converted without
//! loss (`"2021"` -> 2021, `12.0` -> 12, 29456894 -> `"29456894"`) is kept, anything else becomes
//! NULL, a null or unusable item of a list is dropped, and each change is a [`FieldNote`] naming
//! the field's path (`authorships[3].author.id`). Fields bibflow does not read are left alone.

use serde_json::{Map, Number, Value};

pub use crate::writer::FieldNote;

/// The type bibflow reads a field as.
#[derive(Debug)]
pub(crate) enum Ty {
    Str,
    /// A 32-bit integer (years).
    Int32,
    Int,
    /// A non-negative 32-bit integer (abstract word positions).
    Pos,
    Float,
    Bool,
    /// Anything: read by bibflow's own code (`ids.mag`).
    Any,
    Obj(&'static [(&'static str, Ty)]),
    List(&'static Ty),
    /// `abstract_inverted_index`: an object of word -> positions, or its JSON text.
    WordIndex,
}

use Ty::*;

/// Gives the JSON object `value` the shape `ty` (as [`repair`] does for a work: converted without
/// loss, or NULL, list items dropped) and returns the notes of what was changed. The OpenAlex
/// entity readers (`super::entities`) read their records through this.
pub(crate) fn repair_value(value: &mut Value, ty: &Ty) -> Vec<FieldNote> {
    let mut notes = Vec::new();
    fix(value, ty, "", &mut notes);
    notes
}

const NAMED: Ty = Obj(&[("id", Str), ("display_name", Str)]);
const TOPIC: Ty = Obj(&[
    ("id", Str),
    ("display_name", Str),
    ("score", Float),
    ("subfield", NAMED),
    ("field", NAMED),
    ("domain", NAMED),
]);
const LOCATION: Ty = Obj(&[
    (
        "source",
        Obj(&[
            ("id", Str),
            ("display_name", Str),
            ("issn_l", Str),
            ("type", Str),
        ]),
    ),
    ("landing_page_url", Str),
    ("pdf_url", Str),
    ("is_oa", Bool),
    ("license", Str),
    ("version", Str),
    ("is_accepted", Bool),
    ("is_published", Bool),
]);
const TAG: Ty = Obj(&[
    ("id", Str),
    ("display_name", Str),
    ("score", Float),
    ("level", Int32),
]);
const APC: Ty = Obj(&[("value", Int), ("currency", Str), ("value_usd", Int)]);
const AUTHORSHIP: Ty = Obj(&[
    ("author_position", Str),
    (
        "author",
        Obj(&[("id", Str), ("display_name", Str), ("orcid", Str)]),
    ),
    (
        "institutions",
        List(&Obj(&[
            ("id", Str),
            ("country_code", Str),
            ("display_name", Str),
            ("ror", Str),
            ("type", Str),
            ("lineage", List(&Str)),
        ])),
    ),
    ("countries", List(&Str)),
    ("is_corresponding", Bool),
    ("raw_author_name", Str),
    ("raw_affiliation_strings", List(&Str)),
    ("raw_affiliation_string", Str),
    (
        "affiliations",
        List(&Obj(&[
            ("raw_affiliation_string", Str),
            ("institution_ids", List(&Str)),
        ])),
    ),
]);

/// Every field of a work bibflow reads, with its type (kept in step with `model::Work` by the
/// tests below).
const WORK: Ty = Obj(&[
    ("id", Str),
    ("doi", Str),
    ("title", Str),
    ("display_name", Str),
    ("publication_year", Int32),
    ("publication_date", Str),
    (
        "ids",
        Obj(&[
            ("openalex", Str),
            ("doi", Str),
            ("mag", Any),
            ("pmid", Str),
            ("pmcid", Str),
        ]),
    ),
    ("language", Str),
    ("primary_location", LOCATION),
    ("type", Str),
    ("type_crossref", Str),
    ("open_access", Obj(&[("is_oa", Bool), ("oa_status", Str)])),
    ("authorships", List(&AUTHORSHIP)),
    ("cited_by_count", Int),
    ("referenced_works_count", Int),
    ("fwci", Float),
    (
        "citation_normalized_percentile",
        Obj(&[
            ("value", Float),
            ("is_in_top_1_percent", Bool),
            ("is_in_top_10_percent", Bool),
        ]),
    ),
    ("is_retracted", Bool),
    ("is_paratext", Bool),
    ("primary_topic", TOPIC),
    ("topics", List(&TOPIC)),
    (
        "mesh",
        List(&Obj(&[
            ("descriptor_ui", Str),
            ("descriptor_name", Str),
            ("qualifier_ui", Str),
            ("qualifier_name", Str),
            ("is_major_topic", Bool),
        ])),
    ),
    ("referenced_works", List(&Str)),
    (
        "counts_by_year",
        List(&Obj(&[("year", Int32), ("cited_by_count", Int)])),
    ),
    ("abstract_inverted_index", WordIndex),
    ("updated_date", Str),
    (
        "funders",
        List(&Obj(&[("id", Str), ("display_name", Str), ("ror", Str)])),
    ),
    (
        "awards",
        List(&Obj(&[
            ("id", Str),
            ("display_name", Str),
            ("funder_award_id", Str),
            ("funder_id", Str),
            ("funder_display_name", Str),
        ])),
    ),
    (
        "grants",
        List(&Obj(&[
            ("funder", Str),
            ("funder_display_name", Str),
            ("award_id", Str),
        ])),
    ),
    ("is_authors_truncated", Bool),
    ("created_date", Str),
    ("is_xpac", Bool),
    ("indexed_in", List(&Str)),
    (
        "biblio",
        Obj(&[
            ("volume", Str),
            ("issue", Str),
            ("first_page", Str),
            ("last_page", Str),
        ]),
    ),
    ("apc_list", APC),
    ("apc_paid", APC),
    (
        "cited_by_percentile_year",
        Obj(&[("min", Int32), ("max", Int32)]),
    ),
    ("corresponding_author_ids", List(&Str)),
    ("corresponding_institution_ids", List(&Str)),
    ("related_works", List(&Str)),
    ("locations", List(&LOCATION)),
    ("best_oa_location", LOCATION),
    ("keywords", List(&TAG)),
    ("concepts", List(&TAG)),
    ("sustainable_development_goals", List(&TAG)),
]);

/// The work in `raw` with every field bibflow reads given its expected type, as JSON text, and the
/// notes of what was changed; `None` when `raw` is not a JSON object at all.
pub fn repair(raw: &str) -> Option<(String, Vec<FieldNote>)> {
    let mut value: Value = serde_json::from_str(raw).ok()?;
    if !value.is_object() {
        return None;
    }
    let mut notes = Vec::new();
    fix(&mut value, &WORK, "", &mut notes);
    Some((value.to_string(), notes))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a float",
        Value::Number(_) => "an integer",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Gives `v` the type `ty` (converted without loss, or NULL), noting each change.
fn fix(v: &mut Value, ty: &Ty, path: &str, notes: &mut Vec<FieldNote>) {
    if v.is_null() {
        return;
    }
    let converted: Option<Value> = match (ty, &*v) {
        (Any, _) => return,
        (Str, Value::String(_)) => return,
        (Str, Value::Number(n)) => Some(Value::String(n.to_string())),
        (Int | Int32 | Pos, Value::Number(n)) if n.as_i64().is_some_and(|i| fits(ty, i)) => {
            return;
        }
        (Int | Int32 | Pos, Value::Number(n)) => n
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
            .filter(|&i| fits(ty, i))
            .map(Value::from),
        (Int | Int32 | Pos, Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|&i| fits(ty, i))
            .map(Value::from),
        (Float, Value::Number(_)) => return,
        (Float, Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(Number::from_f64)
            .map(Value::Number),
        (Bool, Value::Bool(_)) => return,
        (Bool, Value::String(s)) => match s.trim() {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        (Obj(fields), Value::Object(_)) => {
            let Value::Object(map) = v else { return };
            fix_object(map, fields, path, notes);
            return;
        }
        (List(item), Value::Array(_)) => {
            let Value::Array(items) = v else { return };
            fix_list(items, item, path, notes);
            return;
        }
        (WordIndex, Value::String(_)) => return,
        (WordIndex, Value::Object(map)) => {
            let ok = map.values().all(|p| {
                p.as_array()
                    .is_some_and(|ps| ps.iter().all(|x| x.as_i64().is_some_and(|i| fits(&Pos, i))))
            });
            if ok {
                return;
            }
            None
        }
        _ => None,
    };
    let found = kind(v);
    let reason = match &converted {
        Some(new) => format!("{found} {v} converted to {new}"),
        None => format!("expected {}, found {found} {v}; set to NULL", expected(ty)),
    };
    notes.push(FieldNote {
        field: path.to_string(),
        reason: shorten(reason),
    });
    *v = converted.unwrap_or(Value::Null);
}

fn fix_object(
    map: &mut Map<String, Value>,
    fields: &[(&str, Ty)],
    path: &str,
    notes: &mut Vec<FieldNote>,
) {
    for (key, ty) in fields {
        if let Some(child) = map.get_mut(*key) {
            fix(child, ty, &join(path, key), notes);
        }
    }
}

fn fix_list(items: &mut Vec<Value>, item: &Ty, path: &str, notes: &mut Vec<FieldNote>) {
    let mut i = 0;
    let mut index = 0;
    while i < items.len() {
        let here = format!("{path}[{index}]");
        let was_null = items[i].is_null();
        fix(&mut items[i], item, &here, notes);
        if items[i].is_null() {
            if was_null {
                notes.push(FieldNote {
                    field: here,
                    reason: "null item dropped from the list".into(),
                });
            } else if let Some(last) = notes.last_mut() {
                last.reason.push_str(" (item dropped from the list)");
            }
            items.remove(i);
        } else {
            i += 1;
        }
        index += 1;
    }
}

fn fits(ty: &Ty, i: i64) -> bool {
    match ty {
        Int32 => i32::try_from(i).is_ok(),
        Pos => u32::try_from(i).is_ok(),
        _ => true,
    }
}

fn expected(ty: &Ty) -> &'static str {
    match ty {
        Str => "text",
        Int32 | Int | Pos => "an integer",
        Float => "a number",
        Bool => "a boolean",
        Any => "anything",
        Obj(_) => "an object",
        List(_) => "a list",
        WordIndex => "an object of word -> integer positions",
    }
}

/// Notes quote the value found; a long one (a whole object) is cut.
fn shorten(mut s: String) -> String {
    const MAX: usize = 300;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::model::Work;
    use super::*;

    fn repaired(raw: &str) -> (Value, Vec<FieldNote>) {
        let (text, notes) = repair(raw).expect("an object");
        // The repaired work parses with the strict model.
        serde_json::from_str::<Work<'_>>(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (serde_json::from_str(&text).unwrap(), notes)
    }

    #[test]
    fn lossless_conversions_are_kept_and_noted() {
        let (w, notes) = repaired(
            r#"{"id": "https://openalex.org/W1", "publication_year": "2021", "cited_by_count": 12.0,
                "ids": {"pmid": 29456894}, "fwci": "1.5", "is_retracted": "false"}"#,
        );
        assert_eq!(w["publication_year"], 2021);
        assert_eq!(w["cited_by_count"], 12);
        assert_eq!(w["ids"]["pmid"], "29456894");
        assert_eq!(w["fwci"], 1.5);
        assert_eq!(w["is_retracted"], false);
        let fields: Vec<&str> = notes.iter().map(|n| n.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "publication_year",
                "ids.pmid",
                "cited_by_count",
                "fwci",
                "is_retracted"
            ]
        );
        assert!(notes[0].reason.contains("converted"), "{:?}", notes[0]);
    }

    #[test]
    fn lossy_values_become_null_and_null_items_are_dropped() {
        let (w, notes) = repaired(
            r#"{"id": "https://openalex.org/W1", "cited_by_count": 12.5, "publication_year": 1e12,
                "open_access": {"is_oa": "yes"}, "referenced_works": ["https://openalex.org/W2", null, 7],
                "authorships": [null, {"countries": [null, "US"], "author": "not an object"}],
                "abstract_inverted_index": {"a": [0, -1]}, "topics": "none"}"#,
        );
        assert!(w["cited_by_count"].is_null());
        assert!(w["publication_year"].is_null());
        assert!(w["open_access"]["is_oa"].is_null());
        assert_eq!(
            w["referenced_works"],
            serde_json::json!(["https://openalex.org/W2", "7"])
        );
        assert_eq!(w["authorships"].as_array().unwrap().len(), 1);
        assert_eq!(w["authorships"][0]["countries"], serde_json::json!(["US"]));
        assert!(w["authorships"][0]["author"].is_null());
        assert!(w["abstract_inverted_index"].is_null());
        assert!(w["topics"].is_null());
        let fields: Vec<&str> = notes.iter().map(|n| n.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "publication_year",
                "open_access.is_oa",
                "authorships[0]",
                "authorships[1].author",
                "authorships[1].countries[0]",
                "cited_by_count",
                "topics",
                "referenced_works[1]",
                "referenced_works[2]",
                "abstract_inverted_index",
            ]
        );
    }

    /// Every field of [`WORK`] is one the strict model reads (a wrong type there fails it), and a
    /// wrong type in any of them is repaired into a work the model parses, with a note.
    #[test]
    fn every_typed_field_is_read_by_the_model_and_repaired() {
        fn leaves(ty: &Ty, path: String, out: &mut Vec<(String, &'static str)>) {
            match ty {
                Obj(fields) => {
                    for (k, t) in fields.iter() {
                        leaves(t, join(&path, k), out);
                    }
                }
                List(item) => leaves(item, format!("{path}[0]"), out),
                Str => out.push((path, "{\"x\": 1}")),
                WordIndex => out.push((path, "{\"a\": \"x\"}")),
                Any => {}
                _ => out.push((path, "\"not a number\"")),
            }
        }
        let mut all = Vec::new();
        leaves(&WORK, String::new(), &mut all);
        assert!(all.len() > 60, "{}", all.len());
        for (path, bad) in all {
            // Build {"a": {"b": [ {"c": BAD} ]}} for a.b[0].c.
            let mut json = bad.to_string();
            for part in path.rsplit('.') {
                let (key, list) = match part.strip_suffix("[0]") {
                    Some(k) => (k, true),
                    None => (part, false),
                };
                if list {
                    json = format!("[{json}]");
                }
                json = format!("{{\"{key}\": {json}}}");
            }
            let (_, notes) = repaired(&json);
            assert!(
                notes
                    .iter()
                    .any(|n| n.field.starts_with(path.split('[').next().unwrap())),
                "{path}: {notes:?}"
            );
            let strict = serde_json::from_str::<Work<'_>>(&json);
            assert!(strict.is_err(), "{path} is not read by the model: {json}");
        }
    }
}
