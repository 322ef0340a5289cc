//! # bibflow-udfs
//!
//! bibflow's bibliometric functions for DataFusion, exact to `docs/indicators.md`.
//!
//! | you want to...                                              | module        |
//! |-------------------------------------------------------------|---------------|
//! | credit papers to countries (full / fractional counting)     | [`counting`]  |
//! | classify collaboration, build country-pair networks, regions| [`counting`]  |
//! | an h-index over citation counts                             | [`counting`]  |
//! | field-normalised impact: NCS, top-x% with ties, percentiles | [`impact`]    |
//! | clinical translation: modalities, clinical stage, HAM       | [`classify`]  |
//!
//! [`register_all`] registers every function in a session; the engine calls it for every session it
//! builds. Every function can be rebuilt by name from its configuration alone (no captured state), so
//! distributed executors can register the same set.
//!
//! This crate does no I/O: reference data (the region table) is compiled in.

pub mod classify;
pub mod counting;
pub mod docs;
pub mod impact;

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// Registers every bibflow function in `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    counting::register(ctx)?;
    impact::register(ctx)?;
    classify::register(ctx)?;
    Ok(())
}
