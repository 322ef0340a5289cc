//! The header block of a saved query file: TOML in the leading `--` comment lines.
//!
//! ```sql
//! -- name = "country_impact"
//! -- title = "Country impact per modality"
//! -- description = "MCS, MNCS and PP(top 10%) per country."
//! -- finding = "3. Country contribution by quality"
//! -- [[params]]
//! -- name = "counting"
//! -- type = "text"
//! -- default = "author"
//! -- allowed = ["author", "country", "full"]
//! -- description = "How a paper is credited to countries."
//! -- [[columns]]
//! -- name = "country"
//! -- description = "ISO 3166-1 alpha-2 code"
//! SELECT ...
//! ```
//!
//! The header ends at the first line that does not start with `--`; the rest is the SQL.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::params::ParamSpec;

/// What a saved query says about itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The query's name: the file stem, used on the command line.
    pub name: String,
    /// A one-line title.
    pub title: String,
    /// What the query computes and how (indicator choices included).
    pub description: String,
    /// The study finding or figure it serves, e.g. "2. Clinical translation".
    #[serde(default)]
    pub finding: Option<String>,
    /// Typed parameters, bound as values (`$name` in the SQL).
    #[serde(default)]
    pub params: Vec<ParamSpec>,
    /// The output columns, in order.
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// The study report's uses of this query, in order.
    #[serde(default)]
    pub report: Vec<ReportUse>,
}

/// One output column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    pub description: String,
}

/// One use of a query in `bibflow report`: parameter values and a chart.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportUse {
    /// Position in the report (the study's order); uses are sorted by it.
    pub order: u32,
    /// A heading for this use when it differs from the query title.
    #[serde(default)]
    pub title: Option<String>,
    /// Parameter values for this use (the rest keep their defaults).
    #[serde(default)]
    pub params: BTreeMap<String, toml::Value>,
    /// The chart drawn from the result (`ChartSpec` in the report crate, `report/src/chart/mod.rs`).
    #[serde(default)]
    pub chart: Option<toml::Value>,
    /// Extra files to write from the result: "graphml", "gexf", "vosviewer".
    #[serde(default)]
    pub exports: Vec<String>,
}

/// Splits a query file into its header text (comment markers removed) and its SQL.
pub fn split(text: &str) -> (String, &str) {
    let mut header = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed.strip_prefix("--") else {
            if trimmed.trim().is_empty() && header.is_empty() {
                offset += line.len();
                continue;
            }
            break;
        };
        header.push_str(rest.strip_prefix(' ').unwrap_or(rest));
        if !rest.ends_with('\n') {
            header.push('\n');
        }
        offset += line.len();
    }
    (header, &text[offset..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_header_from_sql() {
        let text =
            "-- name = \"q\"\n--title = \"T\"\n--   description = \"d\"\nSELECT 1\n-- not header\n";
        let (h, sql) = split(text);
        assert_eq!(h, "name = \"q\"\ntitle = \"T\"\n  description = \"d\"\n");
        assert_eq!(sql, "SELECT 1\n-- not header\n");
        let parsed: Header = toml::from_str(&h).unwrap();
        assert_eq!(parsed.name, "q");
        assert!(parsed.params.is_empty());
    }

    #[test]
    fn unknown_header_keys_are_refused() {
        let err = toml::from_str::<Header>(
            "name = \"q\"\ntitle = \"T\"\ndescription = \"\"\ncolour = 1\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
