//! Bar charts: one bar per category, grouped by `series`.

use std::collections::HashMap;

use super::ChartSpec;
use super::columns::{Columns, groups};
use super::plot::Plot;
use super::svg::{self, Svg};
use crate::error::Result;

/// Longest category label shown under a bar (the full one is in the tooltip).
const MAX_LABEL: usize = 16;

pub(super) fn render(spec: &ChartSpec, cols: &Columns<'_>) -> Result<String> {
    let x_name = spec.x.as_deref().unwrap_or_default();
    let y_name = spec.y.as_deref().unwrap_or_default();
    let percent = spec.percent.unwrap_or(false);
    let ys = cols.numbers("y", y_name)?;
    let xs = cols.labels("x", x_name)?;
    let (series, series_of) = match &spec.series {
        Some(s) => groups(&cols.labels("series", s)?),
        None => (vec![y_name.to_string()], vec![0; ys.len()]),
    };

    // Categories in row order (NULL categories left out), the first `limit` kept; a (category,
    // series) pair takes its first non-NULL value.
    let mut categories: Vec<String> = Vec::new();
    let mut category_index: HashMap<&str, usize> = HashMap::new();
    let mut values: HashMap<(usize, usize), f64> = HashMap::new();
    for ((x, y), s) in xs.iter().zip(&ys).zip(&series_of) {
        let Some(x) = x else { continue };
        let c = match category_index.get(x.as_str()) {
            Some(c) => *c,
            None if spec.limit.is_some_and(|l| categories.len() >= l) => continue,
            None => {
                categories.push(x.clone());
                category_index.insert(x, categories.len() - 1);
                categories.len() - 1
            }
        };
        if let Some(y) = y {
            values.entry((c, *s)).or_insert(*y);
        }
    }
    if values.is_empty() {
        return Ok(svg::no_data(spec.title()));
    }
    // Series without any value are left out.
    let shown: Vec<usize> = (0..series.len())
        .filter(|s| values.keys().any(|(_, vs)| vs == s))
        .collect();
    let (vmin, vmax) = values
        .values()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });

    // Category labels turn when they do not fit side by side.
    let labels: Vec<String> = categories
        .iter()
        .map(|c| svg::truncate(c, MAX_LABEL))
        .collect();
    let widest = labels
        .iter()
        .map(|l| svg::text_width(l, 11.0))
        .fold(0.0, f64::max);
    let legend: Vec<String> = if spec.series.is_some() {
        shown.iter().map(|s| series[*s].clone()).collect()
    } else {
        Vec::new()
    };
    // A first layout tells the plot width; rotated labels then need more room below.
    let probe = Plot::new(vmin, vmax, percent, legend.clone(), 52.0);
    let band = probe.width / categories.len() as f64;
    let rotate = widest + 6.0 > band;
    let label_room = if rotate { widest * 0.62 + 4.0 } else { 0.0 };
    let plot = Plot::new(vmin, vmax, percent, legend, 52.0 + label_room);

    let mut doc = Svg::new(plot.svg_height, spec.title());
    let y_label = spec.y_label.as_deref().unwrap_or(y_name);
    plot.draw_frame(&mut doc, spec.title(), y_label, false);

    let band = plot.width / categories.len() as f64;
    let group = band * if shown.len() > 1 { 0.84 } else { 0.7 };
    let bar_w = group / shown.len() as f64;
    let zero = plot.y_px(0.0);
    doc.raw("<g class=\"bars\">");
    for (c, category) in categories.iter().enumerate() {
        let start = plot.left + band * c as f64 + (band - group) / 2.0;
        for (k, s) in shown.iter().enumerate() {
            let Some(v) = values.get(&(c, *s)) else {
                continue;
            };
            let py = plot.y_px(*v);
            let (top, h) = if py < zero {
                (py, zero - py)
            } else {
                (zero, py - zero)
            };
            let tip = if spec.series.is_some() {
                format!(
                    "{category}, {}: {}",
                    series[*s],
                    svg::value_label(*v, percent)
                )
            } else {
                format!("{category}: {}", svg::value_label(*v, percent))
            };
            doc.raw(&format!(
                "<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}</title></rect>",
                svg::num(start + bar_w * k as f64 + 0.5),
                svg::num(top),
                svg::num((bar_w - 1.0).max(0.5)),
                svg::num(h.max(0.5)),
                svg::colour(k),
                svg::escape_xml(&tip)
            ));
        }
    }
    doc.raw("</g>");

    let base = plot.bottom();
    doc.raw("<g class=\"x-axis\">");
    doc.line(
        plot.left,
        base,
        plot.left + plot.width,
        base,
        "stroke=\"#888\"",
    );
    for (c, label) in labels.iter().enumerate() {
        let cx = plot.left + band * (c as f64 + 0.5);
        if rotate {
            let y = base + 12.0;
            doc.text(
                cx + 3.0,
                y,
                &format!(
                    "text-anchor=\"end\" font-size=\"11\" fill=\"#444\" transform=\"rotate(-45 {} {})\"",
                    svg::num(cx + 3.0),
                    svg::num(y)
                ),
                label,
            );
        } else {
            doc.text(
                cx,
                base + 17.0,
                "text-anchor=\"middle\" font-size=\"11\" fill=\"#444\"",
                label,
            );
        }
    }
    let x_caption = spec.x_label.as_deref().unwrap_or(x_name);
    plot.draw_x_caption(&mut doc, base + label_room + 38.0, x_caption);
    doc.raw("</g>");
    Ok(doc.finish())
}
