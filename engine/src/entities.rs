//! A dataset's OpenAlex entity tables (`authors`, `institutions`, `sources`, `funders`, `topics`,
//! `subfields`, `fields`, `domains`: [`ENTITY_TABLES`]): published from what ingest staged, keeping
//! each entity's newest copy ([`publish`]), and taken as empty by sessions over datasets without
//! them ([`crate::tables::register_missing_tables`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bibflow_datasets::manifest::{EntityEntry, TableEntry};
use bibflow_datasets::openalex::entities::EntityStage;
use bibflow_datasets::schema::{ENTITY_TABLES, EntityTable};
use bibflow_datasets::staging::{ENTITIES_DIR, ENTITY_VERSION, entity_staged_schema};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::ListingOptions;
use datafusion::prelude::SessionContext;

use crate::dataset_dir::{count_table, scalar_i64, write_query};
use crate::error::Result;
use crate::session::folder_url;

/// What [`publish`] wrote, by table name: the manifest's `tables` and `entities` entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct Published {
    pub tables: BTreeMap<String, TableEntry>,
    pub entities: BTreeMap<String, EntityEntry>,
}

/// Writes every entity table staged in `raw` (by [`bibflow_datasets::openalex::entities`]) into
/// `dataset`, one row per entity id (its newest copy: the latest `updated_date`, then the later
/// file and record), sorted by the id. A table no entity file was read for is not written.
pub(crate) async fn publish(
    ctx: &SessionContext,
    raw: &Path,
    dataset: &Path,
    stage: &EntityStage,
) -> Result<Published> {
    let counts = stage.counts();
    let mut out = Published::default();
    for t in ENTITY_TABLES {
        let Some(records) = counts.get(&t) else {
            continue;
        };
        let staged = raw.join(ENTITIES_DIR).join(t.name());
        let dir = dataset.join(t.name());
        let superseded = if staged.is_dir() {
            let name = format!("_staged_entity_{}", t.name());
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet");
            ctx.register_listing_table(
                &name,
                folder_url(&staged)?,
                options,
                Some(entity_staged_schema(t)),
                None,
            )
            .await?;
            write_query(ctx, &newest_sql(t, &name), &dir, Some(t.schema())).await?;
            let sql = format!("SELECT count(*) - count(DISTINCT {}) FROM {name}", t.key());
            scalar_i64(ctx, &sql).await? as u64
        } else {
            0
        };
        // Every record of the entity rejected: the table is there, empty.
        let (rows, files) = count_table(&dir, t.schema())?;
        out.tables
            .insert(t.name().to_string(), TableEntry { rows, files });
        out.entities.insert(
            t.name().to_string(),
            EntityEntry {
                records: *records,
                superseded,
            },
        );
    }
    Ok(out)
}

/// Each entity's newest staged copy, sorted by its id.
fn newest_sql(t: EntityTable, staged: &str) -> String {
    let schema = t.schema();
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let key = t.key();
    format!(
        "SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY \
         {ENTITY_VERSION} DESC) AS _rank FROM {staged}) WHERE _rank = 1 ORDER BY {key}",
        cols = columns.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_copy_query_names_every_column_and_the_key() {
        for t in ENTITY_TABLES {
            let sql = newest_sql(t, "s");
            for f in t.schema().fields() {
                assert!(sql.contains(&format!("\"{}\"", f.name())), "{sql}");
            }
            assert!(sql.contains(&format!("PARTITION BY {}", t.key())), "{sql}");
            assert!(sql.ends_with(&format!("ORDER BY {}", t.key())), "{sql}");
        }
    }
}
