//! Typed query parameters: declared in a query's header, given as `name=value` on the command line,
//! checked against their type and allowed values, and bound to the query's `$name` placeholders as
//! DataFusion scalar values (never spliced into the SQL text).

use std::collections::BTreeMap;
use std::fmt;

use datafusion::scalar::ScalarValue;
use serde::Deserialize;

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A 64-bit integer (`Int64`).
    Int,
    /// A 64-bit float (`Float64`).
    Float,
    /// A string (`Utf8`).
    Text,
    /// `true` or `false`.
    Bool,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Text => "text",
            ParamType::Bool => "bool",
        })
    }
}

/// A parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Text(v) => f.write_str(v),
            ParamValue::Bool(v) => write!(f, "{v}"),
        }
    }
}

impl ParamValue {
    /// The value as a DataFusion scalar.
    pub fn to_scalar(&self) -> ScalarValue {
        match self {
            ParamValue::Int(v) => ScalarValue::Int64(Some(*v)),
            ParamValue::Float(v) => ScalarValue::Float64(Some(*v)),
            ParamValue::Text(v) => ScalarValue::Utf8(Some(v.clone())),
            ParamValue::Bool(v) => ScalarValue::Boolean(Some(*v)),
        }
    }

    fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Int(v) => Some(*v as f64),
            ParamValue::Float(v) => Some(*v),
            _ => None,
        }
    }
}

/// A declared parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// The value used when none is given; a parameter without one must be given.
    #[serde(default)]
    pub default: Option<toml::Value>,
    /// The only values accepted, when the set is closed.
    #[serde(default)]
    pub allowed: Option<Vec<toml::Value>>,
    /// Smallest accepted value (numbers).
    #[serde(default)]
    pub min: Option<f64>,
    /// Largest accepted value (numbers).
    #[serde(default)]
    pub max: Option<f64>,
    pub description: String,
}

impl ParamSpec {
    /// Parses a command-line value.
    pub fn parse(&self, raw: &str) -> Result<ParamValue, String> {
        let value = match self.ty {
            ParamType::Int => raw
                .trim()
                .parse::<i64>()
                .map(ParamValue::Int)
                .map_err(|_| format!("expects an integer, got {raw:?}"))?,
            ParamType::Float => raw
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(ParamValue::Float)
                .ok_or_else(|| format!("expects a number, got {raw:?}"))?,
            ParamType::Text => ParamValue::Text(raw.to_owned()),
            ParamType::Bool => match raw.trim().to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => ParamValue::Bool(true),
                "false" | "no" | "0" => ParamValue::Bool(false),
                _ => return Err(format!("expects true or false, got {raw:?}")),
            },
        };
        self.check(&value)?;
        Ok(value)
    }

    /// Converts a TOML value (a default, an allowed value, a report setting).
    pub fn from_toml(&self, v: &toml::Value) -> Result<ParamValue, String> {
        let value = match (self.ty, v) {
            (ParamType::Int, toml::Value::Integer(i)) => ParamValue::Int(*i),
            (ParamType::Float, toml::Value::Float(f)) => ParamValue::Float(*f),
            (ParamType::Float, toml::Value::Integer(i)) => ParamValue::Float(*i as f64),
            (ParamType::Text, toml::Value::String(s)) => ParamValue::Text(s.clone()),
            (ParamType::Bool, toml::Value::Boolean(b)) => ParamValue::Bool(*b),
            (ty, other) => return Err(format!("expects a {ty} value, got {other:?}")),
        };
        Ok(value)
    }

    /// The allowed values, converted.
    pub fn allowed_values(&self) -> Result<Option<Vec<ParamValue>>, String> {
        self.allowed
            .as_ref()
            .map(|vs| vs.iter().map(|v| self.from_toml(v)).collect())
            .transpose()
    }

    /// The default, converted and checked.
    pub fn default_value(&self) -> Result<Option<ParamValue>, String> {
        let Some(d) = &self.default else {
            return Ok(None);
        };
        let v = self.from_toml(d)?;
        self.check(&v)?;
        Ok(Some(v))
    }

    /// Checks a value against the allowed set and the bounds.
    pub fn check(&self, value: &ParamValue) -> Result<(), String> {
        if let Some(allowed) = self.allowed_values()?
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(ToString::to_string).collect();
            return Err(format!(
                "must be one of: {}; got {:?}",
                list.join(", "),
                value.to_string()
            ));
        }
        if let Some(x) = value.as_f64() {
            if let Some(min) = self.min
                && x < min
            {
                return Err(format!("must be at least {min}; got {value}"));
            }
            if let Some(max) = self.max
                && x > max
            {
                return Err(format!("must be at most {max}; got {value}"));
            }
        }
        Ok(())
    }

    /// One line saying what is accepted: `counting (text: author|country|full; default author)`.
    pub fn accepted(&self) -> String {
        let mut parts = vec![self.ty.to_string()];
        if let Ok(Some(allowed)) = self.allowed_values() {
            let list: Vec<String> = allowed.iter().map(ToString::to_string).collect();
            parts[0] = format!("{}: {}", self.ty, list.join("|"));
        }
        match (self.min, self.max) {
            (Some(a), Some(b)) => parts.push(format!("{a}..={b}")),
            (Some(a), None) => parts.push(format!(">= {a}")),
            (None, Some(b)) => parts.push(format!("<= {b}")),
            (None, None) => {}
        }
        match self.default_value() {
            Ok(Some(d)) => parts.push(format!("default {d}")),
            _ => parts.push("required".into()),
        }
        format!("{} ({})", self.name, parts.join("; "))
    }
}

/// The values bound to a query's parameters, by name, in declaration order of the query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bindings(pub BTreeMap<String, ParamValue>);

impl Bindings {
    /// As `name=value` pairs, for display.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ParamSpec {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn parses_and_checks_by_type() {
        let p = spec(
            "name = \"n\"\ntype = \"int\"\ndefault = 5\nmin = 1\nmax = 35\ndescription = \"\"",
        );
        assert_eq!(p.parse(" 7 "), Ok(ParamValue::Int(7)));
        assert!(p.parse("seven").unwrap_err().contains("integer"));
        assert!(p.parse("0").unwrap_err().contains("at least 1"));
        assert!(p.parse("36").unwrap_err().contains("at most 35"));
        assert_eq!(p.accepted(), "n (int; 1..=35; default 5)");

        let p = spec(
            "name = \"counting\"\ntype = \"text\"\ndefault = \"author\"\n\
             allowed = [\"author\", \"country\", \"full\"]\ndescription = \"\"",
        );
        assert_eq!(p.parse("full"), Ok(ParamValue::Text("full".into())));
        let err = p.parse("fractional").unwrap_err();
        assert!(err.contains("author, country, full"), "{err}");
        assert_eq!(
            p.accepted(),
            "counting (text: author|country|full; default author)"
        );

        let p = spec("name = \"x\"\ntype = \"float\"\ndescription = \"\"");
        assert_eq!(p.parse("0.5"), Ok(ParamValue::Float(0.5)));
        assert!(p.parse("NaN").is_err());
        assert_eq!(p.accepted(), "x (float; required)");

        let p = spec("name = \"b\"\ntype = \"bool\"\ndefault = false\ndescription = \"\"");
        assert_eq!(p.parse("yes"), Ok(ParamValue::Bool(true)));
        assert!(p.parse("maybe").is_err());
    }

    #[test]
    fn toml_values_must_match_the_type() {
        let p = spec("name = \"n\"\ntype = \"int\"\ndefault = \"5\"\ndescription = \"\"");
        assert!(p.default_value().unwrap_err().contains("int"));
        let p = spec("name = \"f\"\ntype = \"float\"\ndefault = 5\ndescription = \"\"");
        assert_eq!(p.default_value(), Ok(Some(ParamValue::Float(5.0))));
        assert_eq!(
            ParamValue::Text("a".into()).to_scalar(),
            ScalarValue::Utf8(Some("a".into()))
        );
    }
}
