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
//! | sums and means of Float64 that do not depend on row order   | [`exact`]     |
//!
//! [`register_all`] registers every function in a session; the engine calls it for every session it
//! builds. Every function can be rebuilt by name from its configuration alone (no captured state), so
//! distributed executors can register the same set.
//!
//! One function per file, with its signature, documentation and tests; each module lists its
//! functions once (`scalar_functions()`, `aggregate_functions()`, `window_functions()`,
//! `register()`), and the arguments of all of them are coerced and read by the same helpers.
//!
//! This crate does no I/O: reference data (the region table, the modality rules in `udfs/rules/`,
//! the affiliation tables of `bibflow-affiliation`) is compiled in.

#[macro_use]
mod macros;

mod args;
mod doc_sections;
#[cfg(test)]
mod test_util;

pub mod classify;
pub mod counting;
pub mod docs;
pub mod exact;
pub mod impact;

use datafusion::error::Result;
use datafusion::prelude::SessionContext;

/// Registers every bibflow function in `ctx`.
pub fn register_all(ctx: &SessionContext) -> Result<()> {
    counting::register(ctx)?;
    impact::register(ctx)?;
    classify::register(ctx)?;
    exact::register(ctx)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use datafusion::prelude::SessionContext;

    use crate::docs::bibflow_functions;

    #[test]
    fn no_two_functions_share_a_name() {
        let plain = SessionContext::new().state();
        let mut names: Vec<String> = Vec::new();
        for (scalar, aggregate, window) in [
            (
                crate::counting::scalar_functions(),
                crate::counting::aggregate_functions(),
                crate::counting::window_functions(),
            ),
            (
                crate::impact::scalar_functions(),
                crate::impact::aggregate_functions(),
                crate::impact::window_functions(),
            ),
            (
                crate::classify::scalar_functions(),
                crate::classify::aggregate_functions(),
                crate::classify::window_functions(),
            ),
            (
                crate::exact::scalar_functions(),
                crate::exact::aggregate_functions(),
                crate::exact::window_functions(),
            ),
        ] {
            names.extend(scalar.iter().map(|f| f.name().to_string()));
            names.extend(aggregate.iter().map(|f| f.name().to_string()));
            names.extend(window.iter().map(|f| f.name().to_string()));
        }
        let mut seen = HashSet::new();
        for n in &names {
            assert!(
                seen.insert(n.as_str()),
                "two bibflow functions are named {n}"
            );
            assert!(
                !plain.scalar_functions().contains_key(n)
                    && !plain.aggregate_functions().contains_key(n)
                    && !plain.window_functions().contains_key(n),
                "{n} shadows a DataFusion function"
            );
        }
        // Every registered function is in one of the module lists above, and the other way round.
        let registered: HashSet<String> = bibflow_functions()
            .unwrap()
            .into_iter()
            .map(|f| f.name)
            .collect();
        let listed: HashSet<String> = names.into_iter().collect();
        assert_eq!(registered, listed);
    }
}
