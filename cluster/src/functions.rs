//! bibflow's functions as lists, for the registries Ballista keeps apart from a
//! [`SessionContext`](datafusion::prelude::SessionContext): a scheduler's session state and an
//! executor's function registry. Functions travel by name, so every process registers them all.

use std::sync::Arc;

use datafusion::error::Result;
use datafusion::execution::{FunctionRegistry, SessionState};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, WindowUDF};

/// Every bibflow scalar function (each module of `bibflow_udfs`).
pub fn scalar_functions() -> Vec<Arc<ScalarUDF>> {
    let mut all = bibflow_udfs::counting::scalar_functions();
    all.extend(bibflow_udfs::impact::scalar_functions());
    all.extend(bibflow_udfs::classify::scalar_functions());
    all.extend(bibflow_udfs::exact::scalar_functions());
    all
}

/// Every bibflow aggregate function.
pub fn aggregate_functions() -> Vec<Arc<AggregateUDF>> {
    let mut all = bibflow_udfs::counting::aggregate_functions();
    all.extend(bibflow_udfs::impact::aggregate_functions());
    all.extend(bibflow_udfs::classify::aggregate_functions());
    all.extend(bibflow_udfs::exact::aggregate_functions());
    all
}

/// Every bibflow window function.
pub fn window_functions() -> Vec<Arc<WindowUDF>> {
    let mut all = bibflow_udfs::counting::window_functions();
    all.extend(bibflow_udfs::impact::window_functions());
    all.extend(bibflow_udfs::classify::window_functions());
    all.extend(bibflow_udfs::exact::window_functions());
    all
}

/// Registers every bibflow function in `state` (what `bibflow_udfs::register_all` does for a
/// context).
pub fn register(state: &mut SessionState) -> Result<()> {
    for f in scalar_functions() {
        state.register_udf(f)?;
    }
    for f in aggregate_functions() {
        state.register_udaf(f)?;
    }
    for f in window_functions() {
        state.register_udwf(f)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use datafusion::prelude::SessionContext;

    use super::*;

    /// The lists hold exactly what `register_all` registers: a module added to bibflow_udfs and
    /// not listed here fails this test, not a query on a cluster.
    #[test]
    fn the_lists_hold_every_function_register_all_registers() {
        let plain = SessionContext::new().state();
        let ours = SessionContext::new();
        bibflow_udfs::register_all(&ours).unwrap();
        let ours = ours.state();
        let mut listed = SessionContext::new().state();
        register(&mut listed).unwrap();
        let added = |s: &SessionState| -> HashSet<String> {
            let names = s
                .udfs()
                .into_iter()
                .chain(s.udafs())
                .chain(s.udwfs())
                .collect::<HashSet<_>>();
            let before = plain
                .udfs()
                .into_iter()
                .chain(plain.udafs())
                .chain(plain.udwfs())
                .collect::<HashSet<_>>();
            names.difference(&before).cloned().collect()
        };
        let expected = added(&ours);
        assert!(expected.len() > 5, "{expected:?}");
        assert_eq!(added(&listed), expected);
    }
}
