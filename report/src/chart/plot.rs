//! The frame shared by line and bar charts: margins, the value (y) axis with its grid, captions
//! and the legend.

use super::svg::{self, Svg, Ticks, WIDTH};

/// Height of a line or bar chart when its legend fits.
const BASE_HEIGHT: f64 = 400.0;

/// The plot area of a chart and its value axis.
#[derive(Debug)]
pub(crate) struct Plot {
    /// Left edge of the plot area.
    pub left: f64,
    /// Top edge of the plot area.
    pub top: f64,
    /// Width of the plot area.
    pub width: f64,
    /// Height of the plot area.
    pub height: f64,
    /// Height of the whole SVG.
    pub svg_height: f64,
    /// The value axis.
    pub y: Ticks,
    percent: bool,
    legend: Vec<String>,
}

impl Plot {
    /// Lays out a chart whose values span `min..=max`: room for the title, the y tick labels, a
    /// legend of `legend` entries on the right (none when empty) and `bottom` pixels under the plot.
    pub(crate) fn new(min: f64, max: f64, percent: bool, legend: Vec<String>, bottom: f64) -> Self {
        let y = svg::ticks(min.min(0.0), max.max(0.0), 6, true, false);
        let decimals = svg::decimals_for(y.step);
        let label_w = y
            .values
            .iter()
            .map(|v| svg::text_width(&svg::tick_label(*v, decimals, true, percent), 11.0))
            .fold(0.0, f64::max);
        let left = 30.0 + label_w + 8.0;
        let legend_w = if legend.is_empty() {
            0.0
        } else {
            legend
                .iter()
                .map(|l| svg::text_width(&svg::truncate(l, 20), 12.0))
                .fold(0.0, f64::max)
                + 24.0
                + 20.0
        };
        let top = 48.0;
        let svg_height = BASE_HEIGHT.max(top + 10.0 + legend.len() as f64 * 18.0 + bottom);
        Self {
            left,
            top,
            width: WIDTH - left - 20.0 - legend_w,
            height: svg_height - top - bottom,
            svg_height,
            y,
            percent,
            legend,
        }
    }

    /// The pixel row of value `v`.
    pub(crate) fn y_px(&self, v: f64) -> f64 {
        svg::scale(v, self.y.lo, self.y.hi, self.top + self.height, self.top)
    }

    /// The bottom edge of the plot area.
    pub(crate) fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// Draws the title, grid lines, y tick labels, the y caption and the legend (`lines`: line
    /// swatches, else squares).
    pub(crate) fn draw_frame(&self, svg: &mut Svg, title: &str, y_label: &str, lines: bool) {
        svg.title(title);
        let decimals = svg::decimals_for(self.y.step);
        svg.raw("<g class=\"y-axis\">");
        for v in &self.y.values {
            let py = self.y_px(*v);
            let stroke = if *v == 0.0 { "#888" } else { "#e3e3e3" };
            svg.line(
                self.left,
                py,
                self.left + self.width,
                py,
                &format!("stroke=\"{stroke}\" stroke-width=\"1\""),
            );
            svg.text(
                self.left - 6.0,
                py + 4.0,
                "text-anchor=\"end\" font-size=\"11\" fill=\"#444\"",
                &svg::tick_label(*v, decimals, true, self.percent),
            );
        }
        let cy = self.top + self.height / 2.0;
        svg.text(
            14.0,
            cy,
            &format!(
                "text-anchor=\"middle\" fill=\"#222\" transform=\"rotate(-90 14 {})\"",
                svg::num(cy)
            ),
            &svg::truncate(y_label, 50),
        );
        svg.raw("</g>");
        if !self.legend.is_empty() {
            svg.raw("<g class=\"legend\">");
            svg.legend(
                self.left + self.width + 20.0,
                self.top + 10.0,
                &self.legend,
                lines,
            );
            svg.raw("</g>");
        }
    }

    /// Draws the x caption centred under the plot at row `y`.
    pub(crate) fn draw_x_caption(&self, svg: &mut Svg, y: f64, label: &str) {
        svg.text(
            self.left + self.width / 2.0,
            y,
            "text-anchor=\"middle\" fill=\"#222\"",
            &svg::truncate(label, 60),
        );
    }
}
