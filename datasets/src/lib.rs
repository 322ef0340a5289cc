//! # bibflow-datasets
//!
//! The canonical bibflow dataset and everything that produces it: raw records in, Parquet out.
//!
//! | you want to...                                   | use                                   |
//! |--------------------------------------------------|---------------------------------------|
//! | know the tables and their columns                | [`schema::TABLES`], [`schema::Table::schema`] (and `docs/schema.md`) |
//! | find the input files under some paths            | [`input::discover`]                   |
//! | read OpenAlex works into staging Parquet         | [`ingest::stage`] with [`openalex::OpenAlex`] |
//! | read PubMed/MEDLINE XML into staging Parquet     | [`ingest::stage`] with [`pubmed::PubMed`] |
//! | read another kind of raw record                  | implement [`source::Source`]          |
//! | know the staging layout (side tables, versions)  | [`staging`]                           |
//! | find the country of an affiliation string        | [`bibflow_affiliation::resolve`] (crate `bibflow-affiliation`) |
//! | read or write a dataset's `manifest.json`        | [`manifest::Manifest`]                |
//! | turn an OpenAlex URL id into a typed value       | [`openalex::ids`]                     |
//! | write a folder whole or not at all, one writer at a time | [`outdir::Staging`]           |
//!
//! Publishing a staged dataset (de-duplication across files, merged ids, the atomic rename) needs a
//! query engine and lives in `bibflow-engine`.
//!
//! This crate never prints: it reports through return values, [`source::Progress`] counters and
//! [`DatasetError`].

pub mod builders;
pub mod error;
pub mod generate;
mod handover;
pub mod ingest;
pub mod input;
pub mod manifest;
pub mod openalex;
pub mod outdir;
pub mod pubmed;
pub mod schema;
pub mod source;
mod stage_writer;
pub mod staging;
pub mod writer;

pub use error::{DatasetError, Result};

/// The bibflow version written into manifests.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
