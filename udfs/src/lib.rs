//! # bibflow-udfs
//!
//! bibflow's bibliometric functions for DataFusion (field-normalised impact, country fractional
//! counting, collaboration, classification). The function library itself is the subject of its
//! own issue and is not written yet: [`register_all`] is where every function will be registered,
//! and the engine already calls it for every session it builds.

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// Registers every bibflow function in `ctx`. (No function exists yet.)
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    let _ = ctx;
    Ok(())
}
