//! The one way a module wires its functions.

/// Lists the functions of a module by type, so that this list is the single place that names them,
/// and generates from it:
///
/// - `scalar_functions()`, `aggregate_functions()` and `window_functions()`: every function of the
///   module, freshly constructed with `Default` (no captured state, so any process can rebuild a
///   function from its name);
/// - `register(ctx)`: registers them all in a session.
///
/// ```text
/// functions! {
///     scalar: [Ncs, TopShare],
///     aggregate: [TopThreshold],
///     window: [CitationPercentile],
/// }
/// ```
macro_rules! functions {
    (
        scalar: [$($scalar:ty),* $(,)?],
        aggregate: [$($aggregate:ty),* $(,)?],
        window: [$($window:ty),* $(,)?] $(,)?
    ) => {
        /// Every scalar function of this module, freshly constructed.
        pub fn scalar_functions(
        ) -> ::std::vec::Vec<::std::sync::Arc<::datafusion::logical_expr::ScalarUDF>> {
            vec![$(::std::sync::Arc::new(::datafusion::logical_expr::ScalarUDF::from(
                <$scalar>::default(),
            ))),*]
        }

        /// Every aggregate function of this module, freshly constructed.
        pub fn aggregate_functions(
        ) -> ::std::vec::Vec<::std::sync::Arc<::datafusion::logical_expr::AggregateUDF>> {
            vec![$(::std::sync::Arc::new(::datafusion::logical_expr::AggregateUDF::from(
                <$aggregate>::default(),
            ))),*]
        }

        /// Every window function of this module, freshly constructed.
        pub fn window_functions(
        ) -> ::std::vec::Vec<::std::sync::Arc<::datafusion::logical_expr::WindowUDF>> {
            vec![$(::std::sync::Arc::new(::datafusion::logical_expr::WindowUDF::from(
                <$window>::default(),
            ))),*]
        }

        /// Registers the functions of this module in `ctx`.
        pub fn register(
            ctx: &::datafusion::prelude::SessionContext,
        ) -> ::datafusion::error::Result<()> {
            for f in scalar_functions() {
                ctx.register_udf(::std::sync::Arc::unwrap_or_clone(f));
            }
            for f in aggregate_functions() {
                ctx.register_udaf(::std::sync::Arc::unwrap_or_clone(f));
            }
            for f in window_functions() {
                ctx.register_udwf(::std::sync::Arc::unwrap_or_clone(f));
            }
            Ok(())
        }
    };
}
