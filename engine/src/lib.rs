//! # bibflow-engine
//!
//! Queries over bibflow datasets with Apache DataFusion.
//!
//! | you want to...                                         | use                              |
//! |--------------------------------------------------------|----------------------------------|
//! | ingest raw records and publish a dataset atomically    | [`publish::ingest`]              |
//! | apply a newer OpenAlex snapshot to a dataset (`--update`) | [`update::update`]          |
//! | open a dataset as a DataFusion session                 | [`session::SessionBuilder`]      |
//! | add a dataset's tables to a session you already have   | [`session::register_dataset`]    |
//! | write a query result as table, CSV, JSON or Parquet    | [`output::write_result`]         |
//! | link an OpenAlex and a PubMed dataset into one         | [`link::link`]                   |
//! | run a saved, parameterised query by name               | [`catalog::Catalog`]             |
//! | a table's row count and columns (`bibflow tables`)     | [`inspect::describe_table`]      |
//! | time repeated runs of a query (median, min, max)       | [`timing::timed_runs`]           |
//! | datasets, inputs and outputs in S3, GCS, Azure, HTTP   | [`store`]                        |
//! | classification against hand-labelled real records      | [`classify_eval::evaluate`]      |
//!
//! A session gets every bibflow function (`bibflow-udfs`) registered. Every sub-folder of a dataset
//! that holds Parquet files is a table, so a user's own tables dropped beside the canonical ones are
//! queryable too.
//!
//! ```no_run
//! # async fn run() -> bibflow_engine::Result<()> {
//! use bibflow_engine::session::{SessionBuilder, SessionOptions};
//! let session = SessionBuilder::new(SessionOptions::default()).dataset("my-dataset").build().await?;
//! let df = session.ctx().sql("SELECT publication_year, count(*) FROM works GROUP BY 1").await?;
//! df.show().await?;
//! # Ok(()) }
//! ```
//!
//! This crate never prints: results, [`Progress`](bibflow_datasets::source::Progress)
//! counters and [`EngineError`] are for the caller to show.

pub mod catalog;
pub mod classify_eval;
mod dataset_dir;
mod dataset_guard;
mod entities;
pub mod error;
pub mod inspect;
pub mod link;
pub mod output;
pub mod plan;
pub mod pool;
pub mod publish;
pub mod session;
pub mod store;
pub mod tables;
pub mod timing;
pub mod update;

/// Output folders written whole or not at all, one writer at a time (for `bibflow-report`, which
/// stages its report folder the same way datasets are staged).
pub use bibflow_datasets::outdir;
pub use error::{EngineError, Result};
