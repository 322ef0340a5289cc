//! A small SVG writer, the palette, axis ticks and number formatting shared by the charts.
//!
//! Output is deterministic: coordinates are written with one decimal, no clock, no randomness,
//! no font measurement (text widths are estimated from the character count).

use std::fmt::Write as _;

/// Width of every chart, in SVG user units (pixels at 100%).
pub(crate) const WIDTH: f64 = 720.0;

/// Okabe–Ito colour-blind-safe palette, ordered so that neighbours contrast on white
/// (the yellow and black come last).
pub(crate) const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000",
];

/// Dash patterns for lines beyond the palette's length, so the 9th series differs from the 1st.
const DASHES: [&str; 3] = ["", "6 3", "2 2"];

const FONT: &str = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif";

/// The colour of series `i`.
pub(crate) fn colour(i: usize) -> &'static str {
    PALETTE[i % PALETTE.len()]
}

/// The dash pattern (`""` for solid) of series `i`.
pub(crate) fn dash(i: usize) -> &'static str {
    DASHES[(i / PALETTE.len()) % DASHES.len()]
}

/// Escapes text for XML character data and attribute values.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab/newline are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && c != '\t' && c != '\n' && c != '\r' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Shortens `s` to at most `max` characters, ending with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Estimated width of `s` in pixels at font size `size` (no font machinery: ~0.58 em a character).
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

/// A coordinate with one decimal, without a trailing `.0`.
pub(crate) fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// An SVG document being written.
#[derive(Debug)]
pub(crate) struct Svg {
    buf: String,
}

impl Svg {
    /// Opens a document `height` tall; `title` becomes its accessible name.
    pub(crate) fn new(height: f64, title: &str) -> Self {
        let mut buf = String::with_capacity(16 * 1024);
        let _ = write!(
            buf,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
             font-family=\"{FONT}\" font-size=\"12\" role=\"img\">\n{t}\
             <rect class=\"background\" x=\"0\" y=\"0\" width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n",
            w = num(WIDTH),
            h = num(height),
            t = if title.is_empty() {
                String::new()
            } else {
                format!("<title>{}</title>\n", escape_xml(title))
            },
        );
        Self { buf }
    }

    /// Appends raw markup; callers escape any text they put in it.
    pub(crate) fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
        self.buf.push('\n');
    }

    /// A text element; `attrs` are extra raw attributes (e.g. `text-anchor="end"`).
    pub(crate) fn text(&mut self, x: f64, y: f64, attrs: &str, text: &str) {
        let _ = writeln!(
            self.buf,
            "<text x=\"{}\" y=\"{}\" {attrs}>{}</text>",
            num(x),
            num(y),
            escape_xml(text)
        );
    }

    /// A line segment.
    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, attrs: &str) {
        let _ = writeln!(
            self.buf,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {attrs}/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    /// The chart title, centred at the top.
    pub(crate) fn title(&mut self, title: &str) {
        if title.is_empty() {
            return;
        }
        self.text(
            WIDTH / 2.0,
            24.0,
            "text-anchor=\"middle\" font-size=\"16\" font-weight=\"600\" fill=\"#222\"",
            &truncate(title, 90),
        );
    }

    /// A legend at (`x`, `y`): one swatch and label per entry, one entry a line.
    pub(crate) fn legend(&mut self, x: f64, y: f64, entries: &[String], lines: bool) {
        for (i, label) in entries.iter().enumerate() {
            let yy = y + i as f64 * 18.0;
            let _ = write!(self.buf, "<g class=\"legend-entry\">");
            if lines {
                let d = dash(i);
                let dash_attr = if d.is_empty() {
                    String::new()
                } else {
                    format!(" stroke-dasharray=\"{d}\"")
                };
                let _ = write!(
                    self.buf,
                    "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2.5\"{dash_attr}/>",
                    num(x),
                    num(yy - 4.0),
                    num(x + 18.0),
                    num(yy - 4.0),
                    colour(i)
                );
            } else {
                let _ = write!(
                    self.buf,
                    "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>",
                    num(x + 3.0),
                    num(yy - 10.0),
                    colour(i)
                );
            }
            let _ = writeln!(
                self.buf,
                "<text x=\"{}\" y=\"{}\" fill=\"#222\">{}<title>{}</title></text></g>",
                num(x + 24.0),
                num(yy),
                escape_xml(&truncate(label, 20)),
                escape_xml(label)
            );
        }
    }

    /// Closes the document and returns its text.
    pub(crate) fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }
}

/// The "no data" chart for an empty result.
pub(crate) fn no_data(title: &str) -> String {
    let mut svg = Svg::new(200.0, title);
    svg.title(title);
    svg.text(
        WIDTH / 2.0,
        110.0,
        "class=\"no-data\" text-anchor=\"middle\" font-size=\"14\" fill=\"#666\"",
        "no data",
    );
    svg.finish()
}

/// Ticks for an axis: the (possibly widened) domain and the tick values within it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub step: f64,
    pub values: Vec<f64>,
}

/// A "nice" number near `x` (1, 2, 2.5, 5 or 10 times a power of ten), after Heckbert.
fn nice(x: f64, round: bool) -> f64 {
    let exp = x.log10().floor();
    let f = x / 10f64.powf(exp);
    let nf = if round {
        if f < 1.5 {
            1.0
        } else if f < 2.25 {
            2.0
        } else if f < 3.0 {
            2.5
        } else if f < 7.0 {
            5.0
        } else {
            10.0
        }
    } else if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nf * 10f64.powf(exp)
}

/// About `target` nice ticks covering `min..=max`; with `widen` the domain grows to whole steps
/// (value axes), without it the domain stays `min..=max` (a year axis); `integer` forces a step of
/// at least 1.
pub(crate) fn ticks(min: f64, max: f64, target: usize, widen: bool, integer: bool) -> Ticks {
    let (mut min, mut max) = (min, max);
    if !(min.is_finite() && max.is_finite()) {
        (min, max) = (0.0, 1.0);
    }
    if min == max {
        let pad = if min == 0.0 { 1.0 } else { min.abs() * 0.1 };
        if widen {
            (min, max) = (min - pad, max + pad);
            if min < 0.0 && max - pad >= 0.0 {
                min = 0.0;
            }
        } else {
            return Ticks {
                lo: min - 0.5,
                hi: max + 0.5,
                step: 1.0,
                values: vec![min],
            };
        }
    }
    let range = nice(max - min, false);
    let mut step = nice(range / (target.max(2) - 1) as f64, true);
    if integer && step < 1.0 {
        step = 1.0;
    }
    let (lo, hi) = if widen {
        ((min / step).floor() * step, (max / step).ceil() * step)
    } else {
        (min, max)
    };
    let mut values = Vec::new();
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    for k in first..=last {
        // k * step, not repeated additions, so 0.1 steps do not drift.
        let v = k as f64 * step;
        values.push(if v.abs() < step * 1e-9 { 0.0 } else { v });
    }
    Ticks {
        lo,
        hi,
        step,
        values,
    }
}

/// Decimals needed to show multiples of `step` exactly (at most 6).
pub(crate) fn decimals_for(step: f64) -> usize {
    (0..=6)
        .find(|d| {
            let scaled = step * 10f64.powi(*d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

/// A tick label: `decimals` places; thousands separated by commas when `group`; as a percentage
/// (value × 100 and `%`) when `percent`.
pub(crate) fn tick_label(v: f64, decimals: usize, group: bool, percent: bool) -> String {
    if percent {
        let d = decimals.saturating_sub(2);
        return format!("{}%", fixed(v * 100.0, d, group));
    }
    fixed(v, decimals, group)
}

/// `v` with `decimals` places, optionally with thousands separators.
pub(crate) fn fixed(v: f64, decimals: usize, group: bool) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    };
    if !group {
        return s;
    }
    let (sign, rest) = s.strip_prefix('-').map_or(("", s.as_str()), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// A value for a tooltip: up to 4 significant digits, or a percentage.
pub(crate) fn value_label(v: f64, percent: bool) -> String {
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if percent {
        return format!("{}%", trim(significant(v * 100.0, 3)));
    }
    trim(significant(v, 4))
}

/// `v` with `digits` significant digits (integers of more digits are shown whole).
pub(crate) fn significant(v: f64, digits: i32) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_string();
    }
    let mag = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - mag).max(0) as usize;
    fixed(v, decimals, false)
}

/// Maps `v` from `d0..d1` to `r0..r1`.
pub(crate) fn scale(v: f64, d0: f64, d1: f64, r0: f64, r1: f64) -> f64 {
    if d1 == d0 {
        return (r0 + r1) / 2.0;
    }
    r0 + (v - d0) / (d1 - d0) * (r1 - r0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape_xml("a<b> & \"c\" 'd'"),
            "a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(escape_xml("bell\u{7}"), "bell\u{FFFD}");
        assert_eq!(escape_xml("Côte d’Ivoire"), "Côte d’Ivoire");
    }

    #[test]
    fn nice_ticks_cover_the_data() {
        let t = ticks(0.0, 873.0, 5, true, false);
        assert_eq!((t.lo, t.hi, t.step), (0.0, 1000.0, 250.0));
        assert_eq!(t.values, vec![0.0, 250.0, 500.0, 750.0, 1000.0]);
        let t = ticks(0.0, 873.0, 6, true, false);
        assert_eq!((t.lo, t.hi, t.step), (0.0, 1000.0, 200.0));

        let t = ticks(0.0, 0.37, 5, true, false);
        assert_eq!(t.step, 0.1);
        assert_eq!(t.values.len(), 5);
        assert!((t.values[3] - 0.3).abs() < 1e-12);
        assert!((t.hi - 0.4).abs() < 1e-12);

        // A year axis keeps its range and integer steps.
        let t = ticks(2000.0, 2023.0, 6, false, true);
        assert_eq!((t.lo, t.hi), (2000.0, 2023.0));
        assert_eq!(t.values, vec![2000.0, 2005.0, 2010.0, 2015.0, 2020.0]);
        let t = ticks(2020.0, 2022.0, 6, false, true);
        assert_eq!(t.values, vec![2020.0, 2021.0, 2022.0]);

        // One value only.
        let t = ticks(5.0, 5.0, 5, true, false);
        assert!(t.lo < 5.0 && t.hi > 5.0);
        let t = ticks(2010.0, 2010.0, 5, false, true);
        assert_eq!(t.values, vec![2010.0]);
    }

    #[test]
    fn labels() {
        assert_eq!(decimals_for(200.0), 0);
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(0.1), 1);
        assert_eq!(tick_label(12000.0, 0, true, false), "12,000");
        assert_eq!(tick_label(-1234567.5, 1, true, false), "-1,234,567.5");
        assert_eq!(tick_label(2010.0, 0, false, false), "2010");
        assert_eq!(tick_label(0.25, 2, false, true), "25%");
        assert_eq!(tick_label(0.125, 3, false, true), "12.5%");
        assert_eq!(significant(1.234567, 4), "1.235");
        assert_eq!(significant(0.00123456, 4), "0.001235");
        assert_eq!(significant(123456.7, 4), "123457");
        assert_eq!(value_label(-0.2, true), "-20%");
        assert_eq!(value_label(0.1234, true), "12.3%");
        assert_eq!(value_label(100.0, false), "100");
        assert_eq!(value_label(85.714, false), "85.71");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(3.25), "3.3");
        assert_eq!(num(-0.04), "0");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }
}
