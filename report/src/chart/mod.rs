//! SVG charts of query results: lines for trends, bars for countries, a network for collaboration.
//!
//! A chart is described by a [`ChartSpec`] (deserialised from a saved query's header, e.g. TOML or
//! JSON) naming the result columns to draw, and rendered by [`render_svg`] into a self-contained SVG
//! document: hand-written, deterministic (the same result gives the same bytes), 720 units wide with
//! a `viewBox` so it scales, coloured with the colour-blind-safe Okabe–Ito palette, every text
//! escaped, every mark carrying a `<title>` tooltip.
//!
//! | kind      | needs                  | optional                                                 |
//! |-----------|------------------------|----------------------------------------------------------|
//! | `line`    | `x`, `y`               | `series`, `x_label`, `y_label`, `percent`                |
//! | `bar`     | `x`, `y`               | `series`, `x_label`, `y_label`, `percent`, `limit`       |
//! | `network` | `source`, `target`     | `weight`, `node_size`, `target_size`, `limit`            |
//!
//! ```
//! use bibflow_report::chart::{render_svg, ChartKind, ChartSpec};
//! let spec = ChartSpec::new(ChartKind::Line, "year", "works");
//! let svg = render_svg(&spec, &[]).unwrap(); // no batch at all: a "no data" chart
//! assert!(svg.contains("no data"));
//! ```

mod bar;
pub(crate) mod columns;
mod line;
mod network;
mod plot;
mod svg;

pub use svg::escape_xml;
pub(crate) use svg::{fixed, significant};

use arrow::record_batch::RecordBatch;
use serde::Deserialize;

use crate::error::{ReportError, Result};
use columns::Columns;

/// What a chart draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChartKind {
    /// One line per `series` value over a numeric (or ordered categorical) `x`: trends per year.
    Line,
    /// One bar per `x` category, grouped by `series`: countries.
    Bar,
    /// Nodes and weighted edges from a `source`/`target` edge list: collaboration.
    Network,
}

impl ChartKind {
    fn name(self) -> &'static str {
        match self {
            ChartKind::Line => "line",
            ChartKind::Bar => "bar",
            ChartKind::Network => "network",
        }
    }
}

/// How to draw a query result; every column is named by its result column name.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    /// `"line"`, `"bar"` or `"network"`.
    pub kind: ChartKind,
    /// The chart's heading.
    pub title: Option<String>,
    /// Line: the x column, numeric (e.g. `publication_year`) or labels kept in row order (e.g. a
    /// period). Bar: the category column (strings or integers).
    pub x: Option<String>,
    /// Line and bar: the numeric value column.
    pub y: Option<String>,
    /// Line and bar: a column splitting the rows into lines or grouped bars (e.g. `modality`).
    pub series: Option<String>,
    /// The x axis caption (default: the `x` column's name).
    pub x_label: Option<String>,
    /// The y axis caption (default: the `y` column's name).
    pub y_label: Option<String>,
    /// The values are shares in 0..1, shown as percentages.
    pub percent: Option<bool>,
    /// Bar: keep the first N categories in row order. Network: keep the N largest nodes.
    pub limit: Option<usize>,
    /// Network: the column of an edge's first node.
    pub source: Option<String>,
    /// Network: the column of an edge's second node.
    pub target: Option<String>,
    /// Network: the edge weight column (default: every row weighs 1). Rows for the same pair, in
    /// either direction, add up; rows with a NULL or non-positive weight are left out.
    pub weight: Option<String>,
    /// Network: a column giving the size of the row's `source` node (e.g. `works_a`); with
    /// `target_size`, of its `target` node too. A node's size is the largest value given for it.
    /// Without it a node's size is its weighted degree.
    pub node_size: Option<String>,
    /// Network: a column giving the size of the row's `target` node (e.g. `works_b`).
    pub target_size: Option<String>,
}

impl ChartSpec {
    /// A spec of `kind` drawing `y` over `x` (for a network: `target` over `source`), nothing else set.
    pub fn new(kind: ChartKind, x: &str, y: &str) -> Self {
        let (x, y, source, target) = match kind {
            ChartKind::Network => (None, None, Some(x.to_string()), Some(y.to_string())),
            _ => (Some(x.to_string()), Some(y.to_string()), None, None),
        };
        Self {
            kind,
            title: None,
            x,
            y,
            series: None,
            x_label: None,
            y_label: None,
            percent: None,
            limit: None,
            source,
            target,
            weight: None,
            node_size: None,
            target_size: None,
        }
    }

    /// The title, or `""`.
    fn title(&self) -> &str {
        self.title.as_deref().unwrap_or("")
    }

    /// `"line chart \"Title\""`, for messages.
    fn what(&self) -> String {
        match &self.title {
            Some(t) => format!("{} chart {t:?}", self.kind.name()),
            None => format!("{} chart", self.kind.name()),
        }
    }

    /// A field this kind needs.
    fn need<'s>(&self, value: &'s Option<String>, field: &str, meaning: &str) -> Result<&'s str> {
        value.as_deref().ok_or_else(|| {
            ReportError::Usage(format!("{} needs `{field}` ({meaning})", self.what()))
        })
    }

    /// Rejects fields that do not apply to this kind, so a typo'd spec fails loudly.
    fn check_fields(&self) -> Result<()> {
        let set = |v: &Option<String>| v.is_some();
        let misplaced: Vec<&str> = match self.kind {
            ChartKind::Line | ChartKind::Bar => [
                ("source", set(&self.source)),
                ("target", set(&self.target)),
                ("weight", set(&self.weight)),
                ("node_size", set(&self.node_size)),
                ("target_size", set(&self.target_size)),
                (
                    "limit",
                    self.kind == ChartKind::Line && self.limit.is_some(),
                ),
            ]
            .into_iter()
            .filter_map(|(f, s)| s.then_some(f))
            .collect(),
            ChartKind::Network => [
                ("x", set(&self.x)),
                ("y", set(&self.y)),
                ("series", set(&self.series)),
                ("x_label", set(&self.x_label)),
                ("y_label", set(&self.y_label)),
                ("percent", self.percent.is_some()),
            ]
            .into_iter()
            .filter_map(|(f, s)| s.then_some(f))
            .collect(),
        };
        if misplaced.is_empty() {
            Ok(())
        } else {
            Err(ReportError::Usage(format!(
                "{}: {} do not apply to a {} chart",
                self.what(),
                misplaced
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.kind.name()
            )))
        }
    }
}

/// Draws `batches` (one query result) as `spec` says and returns the SVG document.
///
/// Errors ([`ReportError::Usage`]) name the spec field and the column at fault and list the result's
/// columns. An empty result, or one whose every value is NULL, gives a chart saying "no data".
pub fn render_svg(spec: &ChartSpec, batches: &[RecordBatch]) -> Result<String> {
    spec.check_fields()?;
    match spec.kind {
        ChartKind::Line => {
            spec.need(&spec.x, "x", "the x column")?;
            spec.need(&spec.y, "y", "the numeric value column")?;
        }
        ChartKind::Bar => {
            spec.need(&spec.x, "x", "the category column")?;
            spec.need(&spec.y, "y", "the numeric value column")?;
        }
        ChartKind::Network => {
            spec.need(&spec.source, "source", "the first node column")?;
            spec.need(&spec.target, "target", "the second node column")?;
        }
    }
    let Some(cols) = Columns::new(batches, spec.what()) else {
        return Ok(svg::no_data(spec.title()));
    };
    match spec.kind {
        ChartKind::Line => line::render(spec, &cols),
        ChartKind::Bar => bar::render(spec, &cols),
        ChartKind::Network => network::render(spec, &cols),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, Float64Array, Int32Array, Int64Array, StringArray, StringViewArray,
    };
    use arrow::datatypes::{Field, Schema};

    use super::*;

    /// Checks that `s` is one well-formed XML element (a `<!DOCTYPE>` and comments allowed around
    /// it): tags balanced and properly nested, attributes quoted and unique, entities known, no
    /// stray `<` or `&`. Returns the number of elements.
    pub(crate) fn check_xml(s: &str) -> std::result::Result<usize, String> {
        fn check_entities(t: &str, at: usize) -> std::result::Result<(), String> {
            let mut rest = t;
            while let Some(p) = rest.find('&') {
                let after = &rest[p + 1..];
                let end = after
                    .find(';')
                    .ok_or_else(|| format!("unterminated entity near byte {at}"))?;
                let name = &after[..end];
                let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                    || name
                        .strip_prefix("#x")
                        .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
                    || name
                        .strip_prefix('#')
                        .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
                if !ok {
                    return Err(format!("unknown entity &{name}; near byte {at}"));
                }
                rest = &after[end + 1..];
            }
            Ok(())
        }
        let valid_name = |n: &str| {
            !n.is_empty()
                && n.chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
        };
        let mut stack: Vec<&str> = Vec::new();
        let mut roots = 0;
        let mut elements = 0;
        let mut i = 0;
        while i < s.len() {
            let rest = &s[i..];
            if let Some(body) = rest.strip_prefix("<!--") {
                let end = body.find("-->").ok_or("unterminated comment")?;
                i += 4 + end + 3;
                continue;
            }
            if rest.starts_with("<?") {
                i += rest
                    .find("?>")
                    .ok_or("unterminated processing instruction")?
                    + 2;
                continue;
            }
            if rest
                .as_bytes()
                .get(..9)
                .is_some_and(|b| b.eq_ignore_ascii_case(b"<!DOCTYPE"))
            {
                if roots > 0 || !stack.is_empty() {
                    return Err("DOCTYPE after the root element".into());
                }
                i += rest.find('>').ok_or("unterminated DOCTYPE")? + 1;
                continue;
            }
            if rest.starts_with('<') {
                // Find the closing '>' outside quotes.
                let mut quote = None;
                let mut end = None;
                for (k, c) in rest.char_indices().skip(1) {
                    match (quote, c) {
                        (None, '"' | '\'') => quote = Some(c),
                        (Some(q), c) if c == q => quote = None,
                        (None, '<') => return Err(format!("'<' inside a tag at byte {}", i + k)),
                        (None, '>') => {
                            end = Some(k);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| format!("unterminated tag at byte {i}"))?;
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    let name = name.trim();
                    match stack.pop() {
                        Some(open) if open == name => {}
                        Some(open) => {
                            return Err(format!("</{name}> closes <{open}> at byte {i}"));
                        }
                        None => return Err(format!("</{name}> without an open tag at byte {i}")),
                    }
                } else {
                    let self_closing = tag.ends_with('/');
                    let body = tag.trim_end_matches('/');
                    let name_end = body.find(char::is_whitespace).unwrap_or(body.len());
                    let name = &body[..name_end];
                    if !valid_name(name) {
                        return Err(format!("bad element name {name:?} at byte {i}"));
                    }
                    // Attributes: name="value" or name='value', unique.
                    let mut attrs = body[name_end..].trim_start();
                    let mut seen = Vec::new();
                    while !attrs.is_empty() {
                        let eq = attrs
                            .find('=')
                            .ok_or_else(|| format!("attribute without value in <{name}>"))?;
                        let an = attrs[..eq].trim();
                        if !valid_name(an) {
                            return Err(format!("bad attribute name {an:?} in <{name}>"));
                        }
                        if seen.contains(&an) {
                            return Err(format!("duplicate attribute {an} in <{name}>"));
                        }
                        seen.push(an);
                        let v = attrs[eq + 1..].trim_start();
                        let q = v.chars().next().filter(|c| *c == '"' || *c == '\'');
                        let q = q.ok_or_else(|| format!("unquoted attribute {an} in <{name}>"))?;
                        let close = v[1..]
                            .find(q)
                            .ok_or_else(|| format!("unterminated attribute {an} in <{name}>"))?;
                        let value = &v[1..1 + close];
                        if value.contains('<') {
                            return Err(format!("'<' in attribute {an} of <{name}>"));
                        }
                        check_entities(value, i)?;
                        let after = &v[close + 2..];
                        if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                            return Err(format!("no space after attribute {an} in <{name}>"));
                        }
                        attrs = after.trim_start();
                    }
                    if stack.is_empty() {
                        roots += 1;
                        if roots > 1 {
                            return Err(format!("a second root element <{name}> at byte {i}"));
                        }
                    }
                    elements += 1;
                    if !self_closing {
                        stack.push(name);
                    }
                }
                i += end + 1;
                continue;
            }
            let next = rest.find('<').unwrap_or(rest.len());
            let text = &rest[..next];
            if stack.is_empty() && !text.trim().is_empty() {
                return Err(format!("text outside the root element at byte {i}"));
            }
            check_entities(text, i)?;
            i += next;
        }
        if let Some(open) = stack.last() {
            return Err(format!("<{open}> is never closed"));
        }
        if roots != 1 {
            return Err("no root element".into());
        }
        Ok(elements)
    }

    /// Number of elements carrying `class="{class}"`.
    pub(crate) fn count_class(svg: &str, class: &str) -> usize {
        svg.matches(&format!("class=\"{class}\"")).count()
    }

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap()
    }

    /// Works per year and modality; the `MSC` row of 2021 has a NULL count.
    pub(crate) fn growth() -> Vec<RecordBatch> {
        let years = [2019, 2019, 2019, 2020, 2020, 2020, 2021, 2021, 2021];
        let modality = [
            "HSCT",
            "MSC",
            "iPSC & <ESC>",
            "HSCT",
            "MSC",
            "iPSC & <ESC>",
            "HSCT",
            "MSC",
            "iPSC & <ESC>",
        ];
        let works = [
            Some(120.0),
            Some(80.0),
            Some(10.0),
            Some(130.0),
            Some(95.0),
            Some(18.0),
            Some(150.0),
            None,
            Some(31.0),
        ];
        // Two batches, to check values are read across batches.
        let b = batch(vec![
            (
                "publication_year",
                Arc::new(Int32Array::from(years.to_vec())) as ArrayRef,
            ),
            (
                "modality",
                Arc::new(StringViewArray::from(modality.to_vec())),
            ),
            ("works", Arc::new(Float64Array::from(works.to_vec()))),
        ]);
        vec![b.slice(0, 4), b.slice(4, 5)]
    }

    /// Works per country and period.
    pub(crate) fn countries() -> Vec<RecordBatch> {
        let country = ["US", "US", "CN", "CN", "JP", "JP", "DE", "DE"];
        let period = [
            "2000-2009",
            "2010-2019",
            "2000-2009",
            "2010-2019",
            "2000-2009",
            "2010-2019",
            "2000-2009",
            "2010-2019",
        ];
        let works = [500_i64, 700, 200, 900, 150, 160, 120, 140];
        vec![batch(vec![
            (
                "country",
                Arc::new(StringArray::from(country.to_vec())) as ArrayRef,
            ),
            ("period", Arc::new(StringArray::from(period.to_vec()))),
            ("works", Arc::new(Int64Array::from(works.to_vec()))),
        ])]
    }

    /// Collaboration edges between countries, with both countries' output.
    pub(crate) fn edges() -> Vec<RecordBatch> {
        let a = ["US", "US", "CN", "DE", "JP", "GB"];
        let b = ["CN", "DE", "JP", "GB", "US", "GB"]; // GB-GB is a self-loop: no edge
        let w = [40.0, 12.0, 9.0, 7.5, 15.0, 3.0];
        let size_a = [1200_i64, 1200, 1100, 260, 310, 240];
        let size_b = [1100_i64, 260, 310, 240, 1200, 240];
        vec![batch(vec![
            (
                "country_a",
                Arc::new(StringArray::from(a.to_vec())) as ArrayRef,
            ),
            ("country_b", Arc::new(StringArray::from(b.to_vec()))),
            ("works", Arc::new(Float64Array::from(w.to_vec()))),
            ("works_a", Arc::new(Int64Array::from(size_a.to_vec()))),
            ("works_b", Arc::new(Int64Array::from(size_b.to_vec()))),
        ])]
    }

    fn line_spec() -> ChartSpec {
        ChartSpec {
            title: Some("Works per year & modality".into()),
            series: Some("modality".into()),
            ..ChartSpec::new(ChartKind::Line, "publication_year", "works")
        }
    }

    #[test]
    fn xml_checker_rejects_broken_documents() {
        assert_eq!(check_xml("<a><b x=\"1\"/>t &amp; u</a>"), Ok(2));
        assert!(check_xml("<a><b></a></b>").is_err());
        assert!(check_xml("<a>").is_err());
        assert!(check_xml("<a x=1/>").is_err());
        assert!(check_xml("<a x=\"1\" x=\"2\"/>").is_err());
        assert!(check_xml("<a>&nbsp;</a>").is_err());
        assert!(check_xml("<a>a & b</a>").is_err());
        assert!(check_xml("<a/><b/>").is_err());
        assert!(check_xml("<a x=\"<\"/>").is_err());
    }

    #[test]
    fn line_chart_has_one_path_per_series() {
        let svg = render_svg(&line_spec(), &growth()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "series"), 3);
        assert_eq!(count_class(&svg, "legend-entry"), 3);
        // 9 rows, one NULL count skipped.
        assert_eq!(count_class(&svg, "point"), 8);
        // Series names are escaped, the title too.
        assert!(svg.contains("iPSC &amp; &lt;ESC&gt;"));
        assert!(svg.contains("Works per year &amp; modality"));
        assert!(svg.contains("viewBox=\"0 0 720 "));
        // Year ticks are plain integers.
        assert!(svg.contains(">2020</text>"));
        assert!(!svg.contains("2,020"));
        // Deterministic.
        assert_eq!(svg, render_svg(&line_spec(), &growth()).unwrap());
    }

    #[test]
    fn line_chart_without_series_and_with_percent() {
        let spec = ChartSpec {
            percent: Some(true),
            y_label: Some("clinical share".into()),
            ..ChartSpec::new(ChartKind::Line, "year", "share")
        };
        let b = batch(vec![
            (
                "year",
                Arc::new(Int64Array::from(vec![2001, 2002, 2003])) as ArrayRef,
            ),
            ("share", Arc::new(Float64Array::from(vec![0.1, 0.15, 0.32]))),
        ]);
        let svg = render_svg(&spec, &[b]).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "series"), 1);
        assert_eq!(count_class(&svg, "legend-entry"), 0);
        assert!(svg.contains(">30%</text>"), "{svg}");
        assert!(svg.contains("clinical share"));
    }

    #[test]
    fn line_chart_over_labels_keeps_row_order() {
        let spec = ChartSpec {
            series: Some("country".into()),
            ..ChartSpec::new(ChartKind::Line, "period", "works")
        };
        let svg = render_svg(&spec, &countries()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "series"), 4);
        let (a, b) = (
            svg.find(">2000-2009<").unwrap(),
            svg.find(">2010-2019<").unwrap(),
        );
        assert!(a < b);
    }

    #[test]
    fn bar_chart_groups_and_limits() {
        let spec = ChartSpec {
            series: Some("period".into()),
            ..ChartSpec::new(ChartKind::Bar, "country", "works")
        };
        let svg = render_svg(&spec, &countries()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "bar"), 8);
        assert_eq!(count_class(&svg, "legend-entry"), 2);
        let limited = ChartSpec {
            limit: Some(3),
            ..spec.clone()
        };
        let svg = render_svg(&limited, &countries()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "bar"), 6);
        assert!(!svg.contains(">DE<"));
        // Without series: one bar per row of the first category occurrence.
        let plain = ChartSpec::new(ChartKind::Bar, "country", "works");
        let svg = render_svg(&plain, &countries()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "bar"), 4);
    }

    #[test]
    fn bar_chart_over_integer_categories() {
        let spec = ChartSpec::new(ChartKind::Bar, "publication_year", "works");
        let svg = render_svg(&spec, &growth()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "bar"), 3);
        assert!(svg.contains(">2019</text>"));
    }

    #[test]
    fn bars_below_zero_and_null_categories() {
        let b = batch(vec![
            (
                "region",
                Arc::new(StringArray::from(vec![Some("EU"), None, Some("Asia")])) as ArrayRef,
            ),
            ("change", Arc::new(Float64Array::from(vec![-0.2, 0.9, 0.3]))),
        ]);
        let spec = ChartSpec {
            percent: Some(true),
            ..ChartSpec::new(ChartKind::Bar, "region", "change")
        };
        let svg = render_svg(&spec, &[b]).unwrap();
        check_xml(&svg).unwrap();
        // The NULL region is left out.
        assert_eq!(count_class(&svg, "bar"), 2);
        assert!(svg.contains("EU: -20%"), "{svg}");
        assert!(
            svg.contains(">-20%</text>") || svg.contains(">-10%</text>"),
            "{svg}"
        );
    }

    #[test]
    fn series_beyond_the_palette_are_dashed() {
        let n = 10;
        let b = batch(vec![
            (
                "year",
                Arc::new(Int32Array::from(vec![2000; n])) as ArrayRef,
            ),
            (
                "country",
                Arc::new(StringArray::from(
                    (0..n).map(|i| format!("C{i}")).collect::<Vec<_>>(),
                )),
            ),
            (
                "works",
                Arc::new(Float64Array::from(
                    (0..n).map(|i| i as f64).collect::<Vec<_>>(),
                )),
            ),
        ]);
        let spec = ChartSpec {
            series: Some("country".into()),
            ..ChartSpec::new(ChartKind::Line, "year", "works")
        };
        let svg = render_svg(&spec, &[b]).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "series"), n);
        // Series 9 and 10 reuse colours 1 and 2, dashed (in the plot and the legend).
        assert_eq!(svg.matches("stroke-dasharray=\"6 3\"").count(), 4);
    }

    #[test]
    fn network_has_distinct_nodes_and_merged_edges() {
        let spec = ChartSpec {
            weight: Some("works".into()),
            ..ChartSpec::new(ChartKind::Network, "country_a", "country_b")
        };
        let svg = render_svg(&spec, &edges()).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "node"), 5);
        assert_eq!(count_class(&svg, "node-label"), 5);
        assert_eq!(count_class(&svg, "edge"), 5);
        let sized = ChartSpec {
            node_size: Some("works_a".into()),
            target_size: Some("works_b".into()),
            limit: Some(3),
            ..spec
        };
        let svg = render_svg(&sized, &edges()).unwrap();
        check_xml(&svg).unwrap();
        // The three largest: US 1200, CN 1100, JP 310; edges US-CN, CN-JP, JP-US.
        assert_eq!(count_class(&svg, "node"), 3);
        assert_eq!(count_class(&svg, "edge"), 3);
        assert!(!svg.contains(">DE<"));
        assert_eq!(svg, render_svg(&sized, &edges()).unwrap());
    }

    #[test]
    fn missing_column_is_named_with_the_available_ones() {
        let spec = ChartSpec::new(ChartKind::Line, "year", "works");
        let err = render_svg(&spec, &growth()).unwrap_err().to_string();
        assert!(err.contains("\"year\""), "{err}");
        assert!(err.contains("publication_year, modality, works"), "{err}");
        let spec = ChartSpec {
            weight: Some("weight".into()),
            ..ChartSpec::new(ChartKind::Network, "country_a", "country_b")
        };
        let err = render_svg(&spec, &edges()).unwrap_err().to_string();
        assert!(
            err.contains("\"weight\"") && err.contains("`weight`"),
            "{err}"
        );
    }

    #[test]
    fn bad_specs_are_usage_errors() {
        let spec = ChartSpec::new(ChartKind::Line, "publication_year", "modality");
        let err = render_svg(&spec, &growth()).unwrap_err().to_string();
        assert!(
            err.contains("\"modality\"") && err.contains("not a number"),
            "{err}"
        );
        let spec = ChartSpec {
            x: None,
            ..ChartSpec::new(ChartKind::Bar, "country", "works")
        };
        let err = render_svg(&spec, &countries()).unwrap_err().to_string();
        assert!(err.contains("needs `x`"), "{err}");
        let spec = ChartSpec {
            weight: Some("works".into()),
            ..ChartSpec::new(ChartKind::Line, "publication_year", "works")
        };
        let err = render_svg(&spec, &growth()).unwrap_err().to_string();
        assert!(err.contains("`weight`"), "{err}");
    }

    #[test]
    fn empty_results_say_no_data() {
        for spec in [
            line_spec(),
            ChartSpec::new(ChartKind::Bar, "country", "works"),
            ChartSpec::new(ChartKind::Network, "country_a", "country_b"),
        ] {
            let svg = render_svg(&spec, &[]).unwrap();
            check_xml(&svg).unwrap();
            assert_eq!(count_class(&svg, "no-data"), 1);
        }
        // Zero rows: columns are still checked, then "no data".
        let empty: Vec<RecordBatch> = growth().iter().map(|b| b.slice(0, 0)).collect();
        let svg = render_svg(&line_spec(), &empty).unwrap();
        check_xml(&svg).unwrap();
        assert_eq!(count_class(&svg, "no-data"), 1);
        let spec = ChartSpec::new(ChartKind::Line, "year", "works");
        assert!(render_svg(&spec, &empty).is_err());
        // Only NULL values.
        let b = batch(vec![
            (
                "year",
                Arc::new(Int32Array::from(vec![Some(2001), None])) as ArrayRef,
            ),
            ("works", Arc::new(Float64Array::from(vec![None, Some(3.0)]))),
        ]);
        let svg = render_svg(&ChartSpec::new(ChartKind::Line, "year", "works"), &[b]).unwrap();
        assert_eq!(count_class(&svg, "no-data"), 1);
    }

    #[test]
    fn spec_deserialises_strictly() {
        let spec: ChartSpec = serde_json::from_str(
            r#"{"kind": "bar", "x": "country", "y": "works", "limit": 20, "percent": false}"#,
        )
        .unwrap();
        assert_eq!(spec.kind, ChartKind::Bar);
        assert_eq!(spec.limit, Some(20));
        assert!(serde_json::from_str::<ChartSpec>(r#"{"kind": "pie"}"#).is_err());
        assert!(serde_json::from_str::<ChartSpec>(r#"{"kind": "line", "colour": "red"}"#).is_err());
    }
}
