//! Country counting, collaboration and h-index functions.

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// Registers the functions of this module.
pub fn register(ctx: &SessionContext) -> Result<()> {
    let _ = ctx;
    Ok(())
}
