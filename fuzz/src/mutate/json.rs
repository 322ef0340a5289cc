//! Structure-aware edits of JSON values: a random node of a work is replaced by a value of another
//! type or an extreme one, a key is dropped or taken from another work, an array is emptied,
//! repeated or shuffled, a string gets markup, control characters or a broken OpenAlex id.

use serde_json::{Map, Value, json};

use crate::rng::Rng;

/// Tokens for byte-level edits of JSON text.
pub const DICT: &[&[u8]] = &[
    b"null",
    b"true",
    b"false",
    b"-0",
    b"1e999",
    b"-1e-999",
    b"18446744073709551616",
    b"-9223372036854775809",
    b"\"\"",
    b"{}",
    b"[]",
    b"\"\\ud800\"",
    b"\"\\u0000\"",
    b"\\",
    b"\"id\":",
    b"\"https://openalex.org/W",
    b"\"results\":",
    b"\"authorships\":",
    b"\"updated_date\":",
    b"\"publication_year\":",
    b"\"meta\":{\"count\":1}",
    b"\n",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"[[[[[[[[[[[[[[[[",
    b"]]]]]]]]]]]]]]]]",
];

/// Applies `1..=max_ops` structural edits to `value`, taking donor parts from `donor`.
pub fn mutate(rng: &mut Rng, value: &mut Value, donor: &Value, max_ops: usize) {
    let ops = 1 + rng.below(max_ops.max(1));
    for _ in 0..ops {
        let node = random_node(rng, value);
        edit(rng, node, donor);
    }
}

/// Walks down from `v` to a random node: each step stops with probability 1/3.
fn random_node<'a>(rng: &mut Rng, v: &'a mut Value) -> &'a mut Value {
    let children = match v {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    };
    if children == 0 || rng.chance(1, 3) {
        return v;
    }
    let i = rng.below(children);
    match v {
        Value::Array(a) => random_node(rng, &mut a[i]),
        Value::Object(o) => {
            let (_, child) = o.iter_mut().nth(i).expect("i < len");
            random_node(rng, child)
        }
        _ => unreachable!("a node with children is an array or an object"),
    }
}

/// A random node of `v`, read only (for donors).
fn random_part<'a>(rng: &mut Rng, v: &'a Value) -> &'a Value {
    let children: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        Value::Object(o) => o.values().collect(),
        _ => Vec::new(),
    };
    if children.is_empty() || rng.chance(1, 3) {
        return v;
    }
    let i = rng.below(children.len());
    random_part(rng, children[i])
}

fn edit(rng: &mut Rng, node: &mut Value, donor: &Value) {
    match rng.below(6) {
        0 | 1 => *node = extreme(rng),
        2 => *node = random_part(rng, donor).clone(),
        3 => retype(rng, node),
        _ => match node {
            Value::Object(o) => edit_object(rng, o, donor),
            Value::Array(a) => edit_array(rng, a),
            Value::String(s) => edit_string(rng, s),
            _ => *node = extreme(rng),
        },
    }
}

fn edit_object(rng: &mut Rng, o: &mut Map<String, Value>, donor: &Value) {
    match rng.below(3) {
        0 if !o.is_empty() => {
            let key = o
                .keys()
                .nth(rng.below(o.len()))
                .cloned()
                .expect("non-empty");
            o.remove(&key);
        }
        1 => {
            if let Value::Object(d) = random_part(rng, donor)
                && !d.is_empty()
            {
                let (k, v) = d.iter().nth(rng.below(d.len())).expect("non-empty");
                o.insert(k.clone(), v.clone());
            }
        }
        _ => {
            let key = rng.pick(KEYS).to_string();
            o.insert(key, extreme(rng));
        }
    }
}

fn edit_array(rng: &mut Rng, a: &mut Vec<Value>) {
    match rng.below(5) {
        0 => a.clear(),
        1 if !a.is_empty() => {
            a.remove(rng.below(a.len()));
        }
        2 if !a.is_empty() => {
            let v = a[rng.below(a.len())].clone();
            let times = 1 + rng.below(200);
            a.extend(std::iter::repeat_n(v, times));
        }
        3 if a.len() > 1 => {
            for i in (1..a.len()).rev() {
                let j = rng.below(i + 1);
                a.swap(i, j);
            }
        }
        _ => a.push(extreme(rng)),
    }
}

fn edit_string(rng: &mut Rng, s: &mut String) {
    let cut = (0..=s.len())
        .filter(|&i| s.is_char_boundary(i))
        .nth(rng.below(s.chars().count() + 1))
        .unwrap_or(s.len());
    match rng.below(3) {
        0 => s.truncate(cut),
        1 => s.insert_str(cut, rng.pick::<&str>(STRINGS)),
        _ => *s = rng.pick(STRINGS).repeat(1 + rng.below(64)),
    }
}

/// Changes a value's type keeping what it says: `2020` <-> `"2020"`, `x` -> `[x]`, `[x]` -> `{"0": x}`.
fn retype(rng: &mut Rng, node: &mut Value) {
    let old = node.take();
    *node = match old {
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Array(vec![Value::String(s)]), Value::Number),
        Value::Array(a) => Value::Object(
            a.into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect(),
        ),
        Value::Object(o) if rng.chance(1, 2) => {
            Value::Array(o.into_iter().map(|(_, v)| v).collect())
        }
        Value::Bool(b) => Value::String(b.to_string()),
        other => Value::Array(vec![other]),
    };
}

/// Keys of OpenAlex works that the reader reads.
const KEYS: &[&str] = &[
    "id",
    "doi",
    "ids",
    "title",
    "display_name",
    "publication_year",
    "publication_date",
    "updated_date",
    "created_date",
    "type",
    "authorships",
    "institutions",
    "countries",
    "referenced_works",
    "counts_by_year",
    "cited_by_count",
    "topics",
    "primary_location",
    "locations",
    "open_access",
    "grants",
    "funders",
    "awards",
    "keywords",
    "mesh",
    "concepts",
    "is_authors_truncated",
    "abstract_inverted_index",
    "results",
    "meta",
];

/// Strings that break careless readers.
const STRINGS: &[&str] = &[
    "",
    "W",
    "https://openalex.org/W",
    "https://openalex.org/W0",
    "https://openalex.org/W-5",
    "https://openalex.org/W99999999999999999999999",
    "https://openalex.org/A1",
    "https://doi.org/",
    "W9223372036854775807",
    "W9223372036854775808",
    "0000-00-00",
    "2020-02-30",
    "2020-13-01T25:61:61",
    "99999-01-01",
    "-1",
    "1e400",
    "NaN",
    "<svg onload=alert(1)>",
    "<script>x</script>",
    "\u{0}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{feff}",
    "\u{10ffff}",
    "\u{202e}",
    "é́́",
    "🧬",
    "\r\n",
    "\"",
    "\\",
    "US",
    "us",
    "XX",
];

/// A value of any type, often extreme.
pub fn extreme(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(1, 2)),
        2 => json!(*rng.pick(&[0i64, -1, 1, i64::MIN, i64::MAX, 2020, 1800, 3000, -2020])),
        3 => json!(u64::MAX),
        4 => json!(*rng.pick(&[-0.0f64, 0.5, 1e308, -1e308, 5e-324, 2020.5, 1e19])),
        5..=8 => Value::String(rng.pick(STRINGS).to_string()),
        9 => Value::String(rng.pick(STRINGS).repeat(1 + rng.below(4096))),
        10 => Value::Array(Vec::new()),
        11 => Value::Object(Map::new()),
        12 => {
            // Deep nesting, sometimes past serde_json's recursion limit (128).
            let depth = 1 + rng.below(200);
            let mut v = Value::Null;
            for _ in 0..depth {
                v = if rng.chance(1, 2) {
                    Value::Array(vec![v])
                } else {
                    json!({ "a": v })
                };
            }
            v
        }
        13 => Value::Array((0..rng.below(300)).map(|i| json!(i)).collect()),
        14 => json!({ "id": rng.pick(STRINGS), "display_name": rng.pick(STRINGS) }),
        _ => {
            json!([{ "author": { "id": rng.pick(STRINGS) }, "institutions": [{ "country_code": rng.pick(STRINGS) }] }])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_edits_keep_valid_json_and_change_it() {
        let work = json!({
            "id": "https://openalex.org/W1",
            "title": "a",
            "authorships": [{"author": {"id": "https://openalex.org/A1"}}],
            "publication_year": 2020
        });
        let mut rng = Rng::new(11);
        let mut changed = 0;
        for _ in 0..300 {
            let mut w = work.clone();
            mutate(&mut rng, &mut w, &work, 3);
            // The edit works on values: the text is always valid JSON (depth aside).
            let text = serde_json::to_string(&w).unwrap();
            assert!(!text.is_empty());
            changed += usize::from(w != work);
        }
        assert!(changed > 250, "{changed} of 300 changed");
    }
}
