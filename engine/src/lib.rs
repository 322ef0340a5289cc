//! # bibflow-engine
//!
//! Queries over bibflow datasets with Apache DataFusion.
//!
//! | you want to...                                         | use                              |
//! |--------------------------------------------------------|----------------------------------|
//! | ingest raw records and publish a dataset atomically    | [`publish::ingest`]              |
//! | open a dataset as a DataFusion session                 | [`session::open_dataset`]        |
//! | add a dataset's tables to a session you already have   | [`session::register_dataset`]    |
//! | write a query result as table, CSV, JSON or Parquet    | [`output::write_result`]         |
//! | link an OpenAlex and a PubMed dataset into one         | [`link::link`]                   |
//! | run a saved, parameterised query by name               | [`catalog::Catalog`]             |
//! | draw a result as an SVG chart                          | [`report::chart::render_svg`]    |
//! | lay out the study report's `index.html`                | [`report::html::render_index`]   |
//!
//! A session gets every bibflow function (`bibflow-udfs`) registered. Every sub-folder of a dataset
//! that holds Parquet files is a table, so a user's own tables dropped beside the canonical ones are
//! queryable too.
//!
//! ```no_run
//! # async fn run() -> bibflow_engine::Result<()> {
//! use bibflow_engine::session::{open_dataset, SessionOptions};
//! let (ctx, _tables) = open_dataset("my-dataset".as_ref(), &SessionOptions::default()).await?;
//! let df = ctx.sql("SELECT publication_year, count(*) FROM works GROUP BY 1").await?;
//! df.show().await?;
//! # Ok(()) }
//! ```
//!
//! This crate never prints: results, [`ingest::Progress`](bibflow_datasets::ingest::Progress)
//! counters and [`EngineError`] are for the caller to show.

pub mod catalog;
pub mod error;
pub mod link;
pub mod output;
pub mod plan;
pub mod publish;
pub mod report;
pub mod session;

pub use error::{EngineError, Result};
