//! Line charts: one line per `series` value over a numeric or ordered categorical x.

use std::fmt::Write as _;

use super::ChartSpec;
use super::columns::{Columns, groups};
use super::plot::Plot;
use super::svg::{self, Svg};
use crate::error::Result;

/// Markers are drawn on every point while a series has at most this many.
const MAX_MARKED_POINTS: usize = 60;

/// The x values: numbers, or labels placed at 0, 1, 2... in order of first appearance.
enum XAxis {
    Numeric { integer: bool },
    Labels(Vec<String>),
}

pub(super) fn render(spec: &ChartSpec, cols: &Columns<'_>) -> Result<String> {
    let x_name = spec.x.as_deref().unwrap_or_default();
    let y_name = spec.y.as_deref().unwrap_or_default();
    let percent = spec.percent.unwrap_or(false);
    let ys = cols.numbers("y", y_name)?;
    let (xs, axis) = if cols.is_numeric("x", x_name)? {
        let xs = cols.numbers("x", x_name)?;
        let integer = xs.iter().flatten().all(|v| v.fract() == 0.0);
        (xs, XAxis::Numeric { integer })
    } else {
        let labels = cols.labels("x", x_name)?;
        let present: Vec<Option<String>> = labels.iter().filter(|l| l.is_some()).cloned().collect();
        let (names, _) = groups(&present);
        let xs = labels
            .iter()
            .map(|l| {
                l.as_ref()
                    .and_then(|l| names.iter().position(|n| n == l).map(|p| p as f64))
            })
            .collect();
        (xs, XAxis::Labels(names))
    };
    let (names, index) = match &spec.series {
        Some(s) => groups(&cols.labels("series", s)?),
        None => (vec![y_name.to_string()], vec![0; ys.len()]),
    };
    let mut points: Vec<Vec<(f64, f64)>> = vec![Vec::new(); names.len()];
    for ((x, y), s) in xs.iter().zip(&ys).zip(&index) {
        if let (Some(x), Some(y)) = (x, y) {
            points[*s].push((*x, *y));
        }
    }
    // Series whose every value is NULL are left out, legend included.
    let (names, mut points): (Vec<String>, Vec<Vec<(f64, f64)>>) = names
        .into_iter()
        .zip(points)
        .filter(|(_, p)| !p.is_empty())
        .unzip();
    if points.is_empty() {
        return Ok(svg::no_data(spec.title()));
    }
    for p in &mut points {
        p.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    let all = points.iter().flatten();
    let (ymin, ymax) = all
        .clone()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    let (xmin, xmax) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.0), hi.max(p.0))
    });

    let legend = if spec.series.is_some() {
        names.clone()
    } else {
        Vec::new()
    };
    let plot = Plot::new(ymin, ymax, percent, legend, 52.0);
    let mut doc = Svg::new(plot.svg_height, spec.title());
    let y_label = spec.y_label.as_deref().unwrap_or(y_name);
    plot.draw_frame(&mut doc, spec.title(), y_label, true);

    // The x axis: ticks within the data's range, a little padding so end markers are not clipped.
    let pad = 8.0;
    let (x0, x1) = (plot.left + pad, plot.left + plot.width - pad);
    let (lo, hi) = match &axis {
        XAxis::Numeric { .. } if xmin == xmax => (xmin - 0.5, xmax + 0.5),
        XAxis::Numeric { .. } => (xmin, xmax),
        XAxis::Labels(l) if l.len() == 1 => (-0.5, 0.5),
        XAxis::Labels(l) => (0.0, (l.len() - 1) as f64),
    };
    let x_px = |v: f64| svg::scale(v, lo, hi, x0, x1);
    let base = plot.bottom();
    doc.raw("<g class=\"x-axis\">");
    doc.line(
        plot.left,
        base,
        plot.left + plot.width,
        base,
        "stroke=\"#888\"",
    );
    let tick_attr = "text-anchor=\"middle\" font-size=\"11\" fill=\"#444\"";
    let x_label_of = |v: f64| -> String {
        match &axis {
            XAxis::Numeric { integer: true } => format!("{}", v as i64),
            XAxis::Numeric { integer: false } => svg::significant(v, 4),
            XAxis::Labels(l) => l.get(v as usize).cloned().unwrap_or_default(),
        }
    };
    let tick_values: Vec<f64> = match &axis {
        XAxis::Numeric { integer } => {
            let target = ((plot.width / 70.0) as usize).clamp(2, 12);
            svg::ticks(xmin, xmax, target, false, *integer).values
        }
        XAxis::Labels(l) => {
            // Every k-th label so that labels do not overlap.
            let widest = l
                .iter()
                .map(|s| svg::text_width(&svg::truncate(s, 14), 11.0))
                .fold(0.0, f64::max)
                + 8.0;
            let room = (x1 - x0) / l.len().max(1) as f64;
            let every = (widest / room).ceil().max(1.0) as usize;
            (0..l.len()).step_by(every).map(|i| i as f64).collect()
        }
    };
    for v in tick_values {
        let px = x_px(v);
        doc.line(px, base, px, base + 4.0, "stroke=\"#888\"");
        doc.text(
            px,
            base + 17.0,
            tick_attr,
            &svg::truncate(&x_label_of(v), 14),
        );
    }
    let x_caption = spec.x_label.as_deref().unwrap_or(x_name);
    plot.draw_x_caption(&mut doc, base + 40.0, x_caption);
    doc.raw("</g>");

    for (i, (name, pts)) in names.iter().zip(&points).enumerate() {
        let colour = svg::colour(i);
        let dash = svg::dash(i);
        let dash_attr = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let mut d = String::new();
        for (k, (x, y)) in pts.iter().enumerate() {
            let _ = write!(
                d,
                "{}{} {}",
                if k == 0 { "M" } else { " L" },
                svg::num(x_px(*x)),
                svg::num(plot.y_px(*y))
            );
        }
        doc.raw(&format!(
            "<g class=\"line\"><path class=\"series\" d=\"{d}\" fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"2.25\" stroke-linejoin=\"round\"{dash_attr}><title>{}</title></path>",
            svg::escape_xml(name)
        ));
        if pts.len() <= MAX_MARKED_POINTS {
            for (x, y) in pts {
                doc.raw(&format!(
                    "<circle class=\"point\" cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"{colour}\" stroke=\"#fff\" \
                     stroke-width=\"1\"><title>{}, {}: {}</title></circle>",
                    svg::num(x_px(*x)),
                    svg::num(plot.y_px(*y)),
                    svg::escape_xml(name),
                    svg::escape_xml(&x_label_of(*x)),
                    svg::value_label(*y, percent)
                ));
            }
        }
        doc.raw("</g>");
    }
    Ok(doc.finish())
}
