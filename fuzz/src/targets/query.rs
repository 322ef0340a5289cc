//! The saved-query catalog: a query file's header and SQL are parsed (`SavedQuery::parse`: the
//! TOML header, the parameters' defaults and allowed values, the SQL's `$name` placeholders through
//! sqlparser's tokenizer), then parameters are bound from command-line text (`bind`) and from the
//! report uses' TOML (`bind_toml`). A refusal must be a catalog or parameter error naming the file
//! or the query; a binding must give every declared parameter a value of its type that its own
//! checks accept.

use bibflow_engine::EngineError;
use bibflow_engine::catalog::header::{Header, split};
use bibflow_engine::catalog::params::{Bindings, ParamSpec, ParamType, ParamValue};
use bibflow_engine::catalog::{Origin, SavedQuery};

use super::{Reached, Violation};
use crate::rng::Rng;

/// Parses `text` as the file `fuzz/STEM.sql` (STEM: the header's name when it has one) and binds
/// parameters chosen by `rng`.
pub fn run(text: &str, rng: &mut Rng) -> Result<Reached, Violation> {
    let stem = toml::from_str::<Header>(&split(text).0)
        .map(|h| h.name)
        .unwrap_or_else(|_| "fuzz".to_owned());
    let file = format!("fuzz/{stem}.sql");
    let query = match SavedQuery::parse(text, Origin::File(file.clone().into()), &stem) {
        Ok(q) => q,
        Err(EngineError::Catalog {
            file: named,
            reason,
        }) if named == file && !reason.is_empty() => {
            return Ok(Reached::default());
        }
        Err(e) => {
            return Err(Violation(format!(
                "a bad query file gave an error that is not a catalog error naming {file}: {e:?}"
            )));
        }
    };
    for p in &query.header.params {
        // Shown by `bibflow query show` and in parameter errors: it must not fail.
        let accepted = p.accepted();
        if !accepted.starts_with(p.name.as_str()) {
            return Err(Violation(format!(
                "accepted() of {} says {accepted:?}",
                p.name
            )));
        }
    }
    let bound = bind_text(&query, rng)?;
    for (i, r) in query.header.report.iter().enumerate() {
        match query.bind_toml(&r.params) {
            Ok(b) => check_bindings(&query, &b, &[])
                .map_err(|v| Violation(format!("report use {i}: {}", v.0)))?,
            Err(e) => param_error(&query, &e)?,
        }
    }
    Ok(Reached {
        parsed: 1,
        bound: u64::from(bound),
        ..Reached::default()
    })
}

/// Binds command-line text: values for some parameters, sometimes a name twice or an unknown one.
/// True when the binding was accepted.
fn bind_text(query: &SavedQuery, rng: &mut Rng) -> Result<bool, Violation> {
    let mut given: Vec<(String, String)> = Vec::new();
    for p in &query.header.params {
        if rng.chance(2, 3) {
            given.push((p.name.clone(), raw_value(rng, p)));
        }
    }
    let twice = !given.is_empty() && rng.chance(1, 10);
    if twice {
        let again = given[rng.below(given.len())].clone();
        given.push(again);
    }
    let unknown = rng.chance(1, 10);
    if unknown {
        given.push(("no_such_parameter".into(), "1".into()));
    }
    // What the parameters' own parsers say: the binding must agree with them.
    let parsed: Vec<Result<ParamValue, String>> = query
        .header
        .params
        .iter()
        .map(|p| match given.iter().find(|(k, _)| *k == p.name) {
            Some((_, raw)) => p.parse(raw),
            None => p
                .default_value()
                .and_then(|d| d.ok_or_else(|| "is required".into())),
        })
        .collect();
    let expect_ok = !twice && !unknown && parsed.iter().all(Result::is_ok);
    match query.bind(&given) {
        Ok(b) if expect_ok => check_bindings(query, &b, &given).map(|()| true),
        Ok(b) => Err(Violation(format!(
            "bind accepted {given:?} (gave {b:?}) although a value is refused, a name given twice or unknown"
        ))),
        Err(e) if expect_ok => Err(Violation(format!(
            "bind refused {given:?}, which every parameter's parser accepts: {e}"
        ))),
        Err(e) => param_error(query, &e).map(|()| false),
    }
}

/// A refusal must be a parameter error of this query.
fn param_error(query: &SavedQuery, e: &EngineError) -> Result<(), Violation> {
    match e {
        EngineError::Param {
            query: q, message, ..
        } if *q == query.header.name && !message.is_empty() => Ok(()),
        other => Err(Violation(format!(
            "a refused binding gave an error that is not a parameter error of query {}: {other:?}",
            query.header.name
        ))),
    }
}

/// Every declared parameter bound, to a value of its type that its checks accept; a value given as
/// text is what the parameter's parser makes of it.
fn check_bindings(
    query: &SavedQuery,
    b: &Bindings,
    given: &[(String, String)],
) -> Result<(), Violation> {
    let declared: Vec<&str> = query
        .header
        .params
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let bound: Vec<&str> = b.0.keys().map(String::as_str).collect();
    let mut sorted = declared.clone();
    sorted.sort_unstable();
    if bound != sorted {
        return Err(Violation(format!("bound {bound:?}, declared {declared:?}")));
    }
    for p in &query.header.params {
        let v = &b.0[&p.name];
        if !of_type(p.ty, v) {
            return Err(Violation(format!(
                "parameter {} of type {} bound to {v:?}",
                p.name, p.ty
            )));
        }
        if let Err(e) = p.check(v) {
            return Err(Violation(format!(
                "parameter {} bound to {v:?}, which its check refuses: {e}",
                p.name
            )));
        }
        if let Some((_, raw)) = given.iter().find(|(k, _)| *k == p.name)
            && p.parse(raw).as_ref() != Ok(v)
        {
            return Err(Violation(format!(
                "parameter {} given {raw:?} bound to {v:?}",
                p.name
            )));
        }
        let _ = v.to_scalar();
    }
    Ok(())
}

fn of_type(ty: ParamType, v: &ParamValue) -> bool {
    matches!(
        (ty, v),
        (ParamType::Int, ParamValue::Int(_))
            | (ParamType::Float, ParamValue::Float(_))
            | (ParamType::Text, ParamValue::Text(_))
            | (ParamType::Bool, ParamValue::Bool(_))
    )
}

/// A command-line value: one the parameter allows, its default, or text of any kind.
fn raw_value(rng: &mut Rng, p: &ParamSpec) -> String {
    if rng.chance(1, 3)
        && let Ok(Some(allowed)) = p.allowed_values()
        && !allowed.is_empty()
    {
        return rng.pick(&allowed).to_string();
    }
    if rng.chance(1, 4)
        && let Ok(Some(d)) = p.default_value()
    {
        return d.to_string();
    }
    let n = rng.next_u64() as i64;
    let texts = [
        n.to_string(),
        (n % 3000).to_string(),
        format!("{}", (n as f64) / 1e3),
        format!(" {} ", n % 100),
        "".into(),
        "nan".into(),
        "inf".into(),
        "-inf".into(),
        "1e309".into(),
        "-0".into(),
        "0x10".into(),
        "9223372036854775808".into(),
        "true".into(),
        "YES".into(),
        "0".into(),
        "1".into(),
        "author".into(),
        "'; DROP TABLE works; --".into(),
        "\u{0}".into(),
        "é".into(),
    ];
    rng.pick(&texts).clone()
}
