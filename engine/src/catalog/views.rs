//! Computing the catalog's views: each view is planned on its own, run once, and its result
//! registered in place of the view, so that every later view and query reads the computed rows.
//! `bibflow query run` computes the views a query reads; the report computes all of them.

use std::sync::Arc;
use std::time::Instant;

use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionContext};

use super::{Catalog, SavedQuery};
use crate::error::{EngineError, Result};

/// How long a view took to compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewTime {
    /// The view's name.
    pub name: String,
    /// Wall time from planning to its last batch, in milliseconds.
    pub elapsed_ms: u128,
}

impl Catalog {
    /// Computes every view of the catalog once and registers it as an in-memory table, so each
    /// later view and query reads the materialised result. Views that do not read each other are
    /// computed at the same time (see [`Catalog::views_in_waves`]). Returns each view's time, in
    /// dependency order.
    pub async fn compute_views(&self, ctx: &SessionContext) -> Result<Vec<ViewTime>> {
        compute_waves(ctx, self.views_in_waves()?).await
    }

    /// Computes the views `sql` reads (directly or through other views), as
    /// [`compute_views`](Self::compute_views) does for all of them: `bibflow query run` does this
    /// before the query, so that each view is planned with its own join order rather than inlined
    /// into the query's plan.
    pub async fn compute_views_read_by(
        &self,
        ctx: &SessionContext,
        sql: &str,
    ) -> Result<Vec<ViewTime>> {
        compute_waves(ctx, self.views_read_by(sql)?).await
    }
}

async fn compute_waves(
    ctx: &SessionContext,
    waves: Vec<Vec<&SavedQuery>>,
) -> Result<Vec<ViewTime>> {
    let mut times = Vec::new();
    for wave in waves {
        let computed =
            futures::future::try_join_all(wave.into_iter().map(|view| async move {
                let t = Instant::now();
                // Join reordering off: each view's SQL puts its hash joins' build side on the left
                // (see queries/views/work_modality.sql). DataFusion's reordering goes by row-count
                // estimates, and it overestimates aggregates (input rows), so it would build the
                // hash table on `works` with every title and abstract.
                let mut state = ctx.state();
                state.config_mut().options_mut().optimizer.join_reordering = false;
                let plan = state.create_logical_plan(&view.sql).await.map_err(|e| {
                    EngineError::Catalog {
                        file: view.origin.to_string(),
                        reason: format!("the view does not plan over this dataset: {e}"),
                    }
                })?;
                let df = DataFrame::new(state, plan);
                let schema = Arc::new(df.schema().as_arrow().clone());
                let parts = df.collect_partitioned().await?;
                Ok::<_, EngineError>((view, schema, parts, t.elapsed().as_millis()))
            }))
            .await?;
        for (view, schema, parts, elapsed_ms) in computed {
            let table = MemTable::try_new(schema, parts)?;
            ctx.deregister_table(view.name())?;
            ctx.register_table(view.name(), Arc::new(table))?;
            times.push(ViewTime {
                name: view.name().to_owned(),
                elapsed_ms,
            });
        }
    }
    Ok(times)
}
