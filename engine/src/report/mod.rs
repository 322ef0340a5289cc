//! The study report's rendering: SVG charts ([`chart`]) and the `index.html` page ([`html`]).

pub mod chart;
pub mod html;
