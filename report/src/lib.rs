//! # bibflow-report
//!
//! The study report: every saved query's report uses over a dataset, written as Parquet and CSV,
//! an SVG chart per finding, network files for the collaboration network, and an `index.html`
//! that presents them. It builds on `bibflow-engine` (sessions, the catalog and its views,
//! exports) and adds no query logic of its own.
//!
//! | you want to...                                  | use                          |
//! |-------------------------------------------------|------------------------------|
//! | run the study suite and write the whole report  | [`write_report`]             |
//! | the suite's results in order, with their ids    | [`suite::suite`]             |
//! | draw a result as an SVG chart                   | [`chart::render_svg`]        |
//! | lay out the report's `index.html`               | [`html::render_index`]       |
//! | write a network as GraphML, GEXF or VOSviewer   | [`network_export::Network`]  |
//!
//! This crate never prints: progress comes back through a callback and errors as [`ReportError`].

pub mod chart;
pub mod error;
pub mod html;
pub mod network_export;
pub mod suite;

pub use error::{ReportError, Result};
pub use suite::{ReportSummary, SuiteEvent, SuiteResult, write_report};
