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

use arrow::datatypes::SchemaRef;

use crate::dataset_dir::{count_table, write_query};
use crate::error::Result;
use crate::session::folder_url;

/// What [`publish`] wrote, by table name: the manifest's `tables` and `entities` entries (the
/// records and superseded copies of this run), and each table's rows before (in the old dataset of
/// an update) and after.
#[derive(Debug, Clone, Default)]
pub(crate) struct Published {
    pub tables: BTreeMap<String, TableEntry>,
    pub entities: BTreeMap<String, EntityEntry>,
    pub rows_before: BTreeMap<String, u64>,
}

/// Writes every entity table into `dataset`: one row per entity id, its newest copy (the latest
/// `updated_date`, then the later file and record), sorted by the id, from the rows staged in `raw`
/// (by [`bibflow_datasets::openalex::entities`]) and, for an update, the table of the `old`
/// dataset (whose rows any staged copy replaces). A table neither staged nor in `old` is not
/// written; one in `old` alone is carried over as it is.
pub(crate) async fn publish(
    ctx: &SessionContext,
    raw: &Path,
    dataset: &Path,
    stage: &EntityStage,
    old: Option<&Path>,
) -> Result<Published> {
    let counts = stage.counts();
    let mut out = Published::default();
    for t in ENTITY_TABLES {
        let staged = raw.join(ENTITIES_DIR).join(t.name());
        let dir = dataset.join(t.name());
        let old_dir = old.map(|o| o.join(t.name())).filter(|d| d.is_dir());
        let records = counts.get(&t);
        if records.is_none() && old_dir.is_none() {
            continue;
        }
        let rows_before = match &old_dir {
            Some(d) => count_table(d, t.schema())?.0,
            None => 0,
        };
        let mut superseded = 0;
        if staged.is_dir() {
            let name = format!("_staged_entity_{}", t.name());
            register(ctx, &name, &staged, entity_staged_schema(t)).await?;
            let mut from = format!("SELECT * FROM {name}");
            if let Some(d) = &old_dir {
                let old_name = format!("_old_entity_{}", t.name());
                register(ctx, &old_name, d, t.schema()).await?;
                // The old rows are older than any copy of the update.
                from = format!(
                    "SELECT *, CAST(-1 AS BIGINT) AS {ENTITY_VERSION} FROM {old_name} \
                     UNION ALL {from}"
                );
            }
            write_query(ctx, &newest_sql(t, &from), &dir, Some(t.schema())).await?;
        } else if let Some(d) = &old_dir {
            crate::dataset_dir::link_tree(d, &dir)?;
        }
        // Every record of the entity rejected, none before: the table is there, empty.
        let (rows, files) = count_table(&dir, t.schema())?;
        if let Some(records) = records {
            let staged_rows = records.ingested;
            superseded = (staged_rows + rows_before).saturating_sub(rows);
            out.entities.insert(
                t.name().to_string(),
                EntityEntry {
                    records: *records,
                    superseded,
                },
            );
        }
        debug_assert!(records.is_some() || superseded == 0);
        out.tables
            .insert(t.name().to_string(), TableEntry { rows, files });
        out.rows_before.insert(t.name().to_string(), rows_before);
    }
    Ok(out)
}

async fn register(ctx: &SessionContext, name: &str, dir: &Path, schema: SchemaRef) -> Result<()> {
    let options =
        ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
    ctx.register_listing_table(name, folder_url(dir)?, options, Some(schema), None)
        .await?;
    Ok(())
}

/// Each entity's newest copy among the rows of the query `from` (the table's columns and
/// [`ENTITY_VERSION`]), sorted by its id.
fn newest_sql(t: EntityTable, from: &str) -> String {
    let schema = t.schema();
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect();
    let key = t.key();
    format!(
        "SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {key} ORDER BY \
         {ENTITY_VERSION} DESC) AS _rank FROM ({from})) WHERE _rank = 1 ORDER BY {key}",
        cols = columns.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_copy_query_names_every_column_and_the_key() {
        for t in ENTITY_TABLES {
            let sql = newest_sql(t, "SELECT * FROM s");
            for f in t.schema().fields() {
                assert!(sql.contains(&format!("\"{}\"", f.name())), "{sql}");
            }
            assert!(sql.contains(&format!("PARTITION BY {}", t.key())), "{sql}");
            assert!(sql.ends_with(&format!("ORDER BY {}", t.key())), "{sql}");
        }
    }
}
