//! Linking an OpenAlex dataset and a PubMed dataset into one.
//!
//! The study selects its corpus in PubMed (MeSH, publication types) and takes countries, citations
//! and topics from OpenAlex. `link` matches works by PMID, then by normalised DOI, and writes one
//! dataset in which every table takes its rows from the source that knows best:
//!
//! | table                                      | rows of a matched work come from |
//! |--------------------------------------------|----------------------------------|
//! | works                                      | OpenAlex, PubMed filling columns OpenAlex leaves empty |
//! | authorships, work_topics, work_references, work_citations_by_year | OpenAlex |
//! | work_mesh, work_publication_types, work_keywords, work_chemicals, work_grants | PubMed (OpenAlex's MeSH only when PubMed has none) |
//!
//! Unmatched works of either source are kept with their own rows. A matched work keeps its
//! OpenAlex `work_id`; PubMed references to a matched work are re-keyed to it. Each work matches
//! at most one work of the other source (the smallest id wins a tie); the losers stay unmatched.
//! The `work_sources` table says, per work, which sources it is in and how it was matched.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use bibflow_datasets::manifest::{Manifest, TableEntry};
use bibflow_datasets::outdir::Cleanup;
use bibflow_datasets::schema::{ENTITY_TABLES, SCHEMA_VERSION, TABLES, Table};
use bibflow_datasets::source::RecordCounts;

use crate::dataset_dir::{
    count_table, publish_dir, read_dir_sorted, register_parquet_table, scalar_i64, staging_dir,
    write_query,
};
use crate::error::{EngineError, Result};
use crate::session::{SessionBuilder, SessionOptions};

/// The provenance table written by `link`.
pub const WORK_SOURCES: &str = "work_sources";

/// Schema of `work_sources`.
pub fn work_sources_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("work_id", DataType::Int64, false),
        Field::new("in_openalex", DataType::Boolean, false),
        Field::new("in_pubmed", DataType::Boolean, false),
        Field::new("matched_by", DataType::Utf8, true),
        Field::new("pubmed_work_id", DataType::Int64, true),
    ]))
}

/// What `link` did.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkReport {
    pub dataset: PathBuf,
    pub matched_by_pmid: u64,
    pub matched_by_doi: u64,
    pub openalex_only: u64,
    pub pubmed_only: u64,
    pub manifest: Manifest,
    /// What killed runs had left beside the output, cleaned up before this one wrote.
    pub cleaned: Vec<Cleanup>,
}

/// Tables where PubMed is the authority for a matched work.
fn pubmed_first(t: Table) -> bool {
    matches!(
        t,
        Table::WorkMesh
            | Table::WorkPublicationTypes
            | Table::WorkKeywords
            | Table::WorkChemicals
            | Table::WorkGrants
    )
}

/// Links `openalex` and `pubmed` (two bibflow datasets) into `out`.
pub async fn link(
    openalex: &Path,
    pubmed: &Path,
    out: &Path,
    overwrite: bool,
    options: &SessionOptions,
) -> Result<LinkReport> {
    if out.exists() && !overwrite {
        return Err(EngineError::AlreadyExists {
            path: out.to_path_buf(),
        });
    }
    let oa_manifest = Manifest::read(openalex)?;
    let pm_manifest = Manifest::read(pubmed)?;
    let staging = staging_dir(out)?;
    // On an error the staging folder is removed when `staging` is dropped.
    let mut report = build(
        openalex,
        pubmed,
        staging.path(),
        options,
        &oa_manifest,
        &pm_manifest,
    )
    .await?;
    let built = staging.path().join("dataset");
    report.cleaned = publish_dir(staging, &built, overwrite)?;
    report.dataset = out.to_path_buf();
    Ok(report)
}

async fn build(
    openalex: &Path,
    pubmed: &Path,
    staging: &Path,
    options: &SessionOptions,
    oa_manifest: &Manifest,
    pm_manifest: &Manifest,
) -> Result<LinkReport> {
    let ctx = SessionBuilder::new(options.clone()).context()?;
    for t in TABLES {
        for (prefix, input) in [("oa", openalex), ("pm", pubmed)] {
            let name = format!("{prefix}_{}", t.name());
            let dir = input.join(t.name());
            if t.added_later() && !dir.is_dir() {
                // A dataset written before the table existed: it has none of its rows.
                let empty = datafusion::datasource::MemTable::try_new(t.schema(), vec![vec![]])?;
                ctx.register_table(name.as_str(), Arc::new(empty))?;
            } else {
                register_parquet_table(&ctx, &name, &dir, t).await?;
            }
        }
    }
    let dataset = staging.join("dataset");

    // One PubMed work per OpenAlex work and vice versa: PMID first, then DOI for the rest.
    let map_sql = "
        WITH by_pmid AS (
            SELECT p.work_id AS pm_work, min(o.work_id) AS oa_work
            FROM pm_works p JOIN oa_works o ON o.pmid = p.pmid GROUP BY p.work_id),
        by_pmid1 AS (
            SELECT min(pm_work) AS pm_work, oa_work FROM by_pmid GROUP BY oa_work),
        by_doi AS (
            SELECT p.work_id AS pm_work, min(o.work_id) AS oa_work
            FROM pm_works p JOIN oa_works o ON o.doi = p.doi
            WHERE p.work_id NOT IN (SELECT pm_work FROM by_pmid1)
              AND o.work_id NOT IN (SELECT oa_work FROM by_pmid1)
            GROUP BY p.work_id),
        by_doi1 AS (
            SELECT min(pm_work) AS pm_work, oa_work FROM by_doi GROUP BY oa_work)
        SELECT pm_work, oa_work, 'pmid' AS matched_by FROM by_pmid1
        UNION ALL
        SELECT pm_work, oa_work, 'doi' AS matched_by FROM by_doi1";
    let map_dir = staging.join("_link_map");
    write_query(&ctx, map_sql, &map_dir, None).await?;
    let map_schema = Arc::new(Schema::new(vec![
        Field::new("pm_work", DataType::Int64, true),
        Field::new("oa_work", DataType::Int64, true),
        Field::new("matched_by", DataType::Utf8, true),
    ]));
    crate::session::register_parquet_folder(&ctx, "_map", &map_dir, Some(map_schema)).await?;
    // Every PubMed key -> its key in the linked dataset.
    ctx.sql(
        "CREATE VIEW _pm_key AS SELECT p.work_id AS pm_work, COALESCE(m.oa_work, p.work_id) AS work_id \
         FROM pm_works p LEFT JOIN _map m ON p.work_id = m.pm_work",
    )
    .await?;

    for t in TABLES {
        let sql = table_sql(t);
        write_query(&ctx, &sql, &dataset.join(t.name()), Some(t.schema())).await?;
    }
    let sources_sql = "
        SELECT o.work_id, true AS in_openalex, m.pm_work IS NOT NULL AS in_pubmed,
               m.matched_by, m.pm_work AS pubmed_work_id
        FROM oa_works o LEFT JOIN _map m ON o.work_id = m.oa_work
        UNION ALL
        SELECT p.work_id AS work_id, false AS in_openalex, true AS in_pubmed,
               CAST(NULL AS VARCHAR) AS matched_by, p.work_id AS pubmed_work_id
        FROM pm_works p WHERE p.work_id NOT IN (SELECT pm_work FROM _map)
        ORDER BY work_id";
    write_query(&ctx, sources_sql, &dataset.join(WORK_SOURCES), None).await?;

    let count = |sql: &'static str| {
        let ctx = &ctx;
        async move { scalar_i64(ctx, sql).await.map(|v| v as u64) }
    };
    let matched_by_pmid = count("SELECT count(*) FROM _map WHERE matched_by = 'pmid'").await?;
    let matched_by_doi = count("SELECT count(*) FROM _map WHERE matched_by = 'doi'").await?;
    let openalex_only =
        count("SELECT count(*) FROM oa_works WHERE work_id NOT IN (SELECT oa_work FROM _map)")
            .await?;
    let pubmed_only =
        count("SELECT count(*) FROM pm_works WHERE work_id NOT IN (SELECT pm_work FROM _map)")
            .await?;

    let mut tables = BTreeMap::new();
    for t in TABLES {
        let (rows, files) = count_table(&dataset.join(t.name()), t.schema())?;
        tables.insert(t.name().to_string(), TableEntry { rows, files });
    }
    // The OpenAlex dataset's entity tables (authors, institutions, ...), as they are: their keys
    // are the entities' own, which linking does not change.
    for t in ENTITY_TABLES {
        let src = openalex.join(t.name());
        if src.is_dir() {
            let dst = dataset.join(t.name());
            crate::dataset_dir::link_tree(&src, &dst)?;
            let (rows, files) = count_table(&dst, t.schema())?;
            tables.insert(t.name().to_string(), TableEntry { rows, files });
        }
    }
    let sources_files = read_dir_sorted(&dataset.join(WORK_SOURCES))?;
    tables.insert(
        WORK_SOURCES.to_string(),
        TableEntry {
            rows: openalex_only + pubmed_only + matched_by_pmid + matched_by_doi,
            files: sources_files.len() as u64,
        },
    );
    let add = |a: RecordCounts, b: RecordCounts| RecordCounts {
        read: a.read + b.read,
        ingested: a.ingested + b.ingested,
        rejected: a.rejected + b.rejected,
        warnings: a.warnings + b.warnings,
        authors_truncated: a.authors_truncated + b.authors_truncated,
    };
    let manifest = Manifest {
        bibflow_version: bibflow_datasets::VERSION.to_string(),
        schema_version: SCHEMA_VERSION,
        created: Manifest::now(),
        synthetic: oa_manifest.synthetic || pm_manifest.synthetic,
        inputs: oa_manifest
            .inputs
            .iter()
            .chain(pm_manifest.inputs.iter())
            .cloned()
            .collect(),
        records: add(oa_manifest.records, pm_manifest.records),
        superseded: oa_manifest.superseded + pm_manifest.superseded,
        merged_away: oa_manifest.merged_away + pm_manifest.merged_away,
        deleted: oa_manifest.deleted + pm_manifest.deleted,
        tables,
        rejected_records: oa_manifest.rejected_records + pm_manifest.rejected_records,
        input_errors: oa_manifest
            .input_errors
            .iter()
            .chain(pm_manifest.input_errors.iter())
            .cloned()
            .collect(),
        files: Default::default(),
        // Every table is written with ORDER BY work_id.
        sorted_by_work_id: true,
        openalex_snapshot: None,
        updates: Vec::new(),
        entities: oa_manifest.entities.clone(),
    };
    manifest.write(&dataset)?;
    Ok(LinkReport {
        dataset: dataset.clone(),
        matched_by_pmid,
        matched_by_doi,
        openalex_only,
        pubmed_only,
        manifest,
        cleaned: Vec::new(),
    })
}

/// The SQL that builds one linked table.
fn table_sql(t: Table) -> String {
    let schema = t.schema();
    let cols: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let q = |c: &str| format!("\"{c}\"");
    let name = t.name();
    // PubMed rows, re-keyed to the linked work id.
    let pm_cols: Vec<String> = cols
        .iter()
        .map(|c| match *c {
            "work_id" => "k.work_id AS work_id".to_string(),
            "referenced_work_id" => {
                "COALESCE(rk.work_id, p.referenced_work_id) AS referenced_work_id".to_string()
            }
            c => format!("p.{}", q(c)),
        })
        .collect();
    let ref_join = if t == Table::WorkReferences {
        "LEFT JOIN _pm_key rk ON p.referenced_work_id = rk.pm_work"
    } else {
        ""
    };
    let pm_rows = |filter: &str| {
        format!(
            "SELECT {} FROM pm_{name} p JOIN _pm_key k ON p.work_id = k.pm_work {ref_join} {filter}",
            pm_cols.join(", ")
        )
    };
    let oa_cols: Vec<String> = cols.iter().map(|c| format!("o.{}", q(c))).collect();
    let order = "ORDER BY work_id";
    match t {
        Table::Works => {
            // OpenAlex row, PubMed filling what OpenAlex leaves empty.
            let merged: Vec<String> = cols
                .iter()
                .map(|c| match *c {
                    "work_id" => "o.work_id AS work_id".to_string(),
                    "source" => {
                        "CASE WHEN p.work_id IS NULL THEN o.source ELSE o.source || '+' || p.source END AS source"
                            .to_string()
                    }
                    c => format!("COALESCE(o.{0}, p.{0}) AS {0}", q(c)),
                })
                .collect();
            format!(
                "SELECT * FROM (
                   SELECT {} FROM oa_works o
                   LEFT JOIN _map m ON o.work_id = m.oa_work
                   LEFT JOIN pm_works p ON p.work_id = m.pm_work
                   UNION ALL
                   SELECT {} FROM pm_works p WHERE p.work_id NOT IN (SELECT pm_work FROM _map)
                 ) {order}",
                merged.join(", "),
                cols.iter()
                    .map(|c| format!("p.{}", q(c)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        t if pubmed_first(t) => format!(
            // PubMed's rows for every PubMed work; OpenAlex's only where PubMed has none.
            "SELECT * FROM (
               {}
               UNION ALL
               SELECT {} FROM oa_{name} o
               WHERE o.work_id NOT IN (SELECT k.work_id FROM pm_{name} p JOIN _pm_key k ON p.work_id = k.pm_work)
             ) {order}",
            pm_rows(""),
            oa_cols.join(", ")
        ),
        _ => format!(
            // OpenAlex's rows; PubMed's only for works OpenAlex does not have.
            "SELECT * FROM (
               SELECT {} FROM oa_{name} o
               UNION ALL
               {}
             ) {order}",
            oa_cols.join(", "),
            pm_rows("WHERE p.work_id NOT IN (SELECT pm_work FROM _map)")
        ),
    }
}
