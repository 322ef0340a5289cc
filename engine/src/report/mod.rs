//! The study report: the suite runner ([`suite::write_report`]), SVG charts ([`chart`]), the
//! `index.html` page ([`html`]) and network files ([`network_export`]).

pub mod chart;
pub mod html;
pub mod network_export;
pub mod suite;

pub use suite::{ReportSummary, SuiteResult, write_report};
