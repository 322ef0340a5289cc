//! bibflow's integration tests: one binary (one link) for all of them.

mod architecture;
mod classification;
mod cluster;
mod common;
mod cpu_check;
mod cross_check;
mod generate;
mod hash_window;
mod hostile_data;
mod hostile_queries;
mod ingest_corrupt;
mod ingest_fixtures;
mod ingest_openalex2026;
mod ingest_openalex_update;
mod ingest_pubmed;
mod ingest_snapshot;
mod link;
mod memory;
mod object_store;
mod reliability;
mod reliability_kill;
mod reliability_reader;
mod report;
mod reproducible;
mod slt;
mod sql_cli;
