//! Field-normalised citation impact functions.

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// Registers the functions of this module.
pub fn register(ctx: &SessionContext) -> Result<()> {
    let _ = ctx;
    Ok(())
}
