//! `bibflow report`: runs the study suite (every saved query's report uses, in the study's order)
//! over a dataset and writes each result as Parquet and CSV, a chart per finding, network files for
//! the collaboration network, and an `index.html` that presents them.
//!
//! The views the queries share (modalities, country credits, impact) are computed once by the
//! catalog ([`Catalog::compute_views`]) and held for the whole suite, instead of once per query.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};

use arrow::record_batch::RecordBatch;
use bibflow_engine::EngineError;
use bibflow_engine::catalog::header::ReportUse;
use bibflow_engine::catalog::{Catalog, SavedQuery, ViewTime};
use bibflow_engine::outdir::{Cleanup, Staging};
use bibflow_engine::output::{Format, write_result};
use bibflow_engine::session::{SessionBuilder, SessionOptions};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use crate::chart::{ChartKind, ChartSpec, render_svg};
use crate::error::{ReportError, Result};
use crate::html::{ReportPage, Section, render_index};
use crate::network_export::{EdgeColumns, Network};

/// Rows of each result shown in `index.html` (the files hold all of them).
pub const TABLE_ROWS: usize = 15;

/// One result of the suite.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// File stem of this result: the query name, plus its parameters when it is not the first use.
    pub id: String,
    pub query: String,
    pub title: String,
    pub params: Vec<(String, String)>,
    pub rows: usize,
    /// From the query's start to its last batch; the suite runs a few queries at a time, so
    /// these overlap and their sum exceeds the suite's time.
    pub elapsed_ms: u128,
}

/// What [`write_report`] has done, told as it happens: a report over 10^8 works runs for half an
/// hour.
#[derive(Debug, Clone, Copy)]
pub enum SuiteEvent<'a> {
    /// A shared view is computed (views that do not read each other are computed at the same
    /// time, and told as each group ends).
    View(&'a ViewTime),
    /// A saved query has its result; the report's files are written after the last one.
    Result(&'a SuiteResult),
}

/// What `write_report` did.
#[derive(Debug, Clone)]
pub struct ReportSummary {
    pub index: PathBuf,
    pub results: Vec<SuiteResult>,
    /// Time to compute the shared views (wall time; views that do not read each other run at the
    /// same time).
    pub views_ms: u128,
    /// Each view's own time, in dependency order.
    pub view_times: Vec<ViewTime>,
    /// Time to compute the views and run every query (excluding file writing).
    pub suite_ms: u128,
    pub synthetic: bool,
    /// What killed runs had left beside the report folder, cleaned up before this one wrote.
    pub cleaned: Vec<Cleanup>,
}

/// The report's uses in order: (query, use, id).
pub fn suite(catalog: &Catalog) -> Vec<(&SavedQuery, &ReportUse, String)> {
    let mut uses: Vec<(&SavedQuery, &ReportUse, String)> = Vec::new();
    for q in catalog.queries() {
        for (i, u) in q.header.report.iter().enumerate() {
            let id = if i == 0 {
                q.name().to_owned()
            } else {
                let mut id = q.name().to_owned();
                for (k, v) in &u.params {
                    let v = match v {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(i) => i.to_string(),
                        toml::Value::Float(f) => f.to_string(),
                        toml::Value::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    };
                    id.push('-');
                    id.push_str(&slug(&format!("{k}-{v}")));
                }
                if u.params.is_empty() {
                    id.push_str(&format!("-{i}"));
                }
                id
            };
            uses.push((q, u, id));
        }
    }
    uses.sort_by_key(|(_, u, id)| (u.order, id.clone()));
    uses
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_owned()
}

/// Runs the study suite over `dataset` and writes the report into `out`: built in a staging folder
/// beside it and moved into place when complete ([`bibflow_engine::outdir`]), so that `out` holds
/// the earlier report or the new one, never a part. An earlier `out` is replaced when it is an
/// empty folder or a bibflow report (`index.html` and `data/`); any other existing `out` is an
/// error, before the suite runs. `on_event` hears of each view and result as it is computed.
pub async fn write_report(
    dataset: &Path,
    catalog: &Catalog,
    out: &Path,
    options: &SessionOptions,
    on_event: impl Fn(SuiteEvent<'_>) + Send + Sync,
) -> Result<ReportSummary> {
    let started = Instant::now();
    let staging = Staging::begin(out).map_err(EngineError::from)?;
    check_replaceable(out)?;
    let built = staging.path().join("report");
    let final_out = out;
    let out = built.as_path();
    let session = SessionBuilder::new(options.clone())
        .dataset(dataset)
        .catalog(catalog.clone())
        .build()
        .await?;
    let ctx = session.ctx();
    let manifest_path = dataset.join("manifest.json");
    let manifest_json = std::fs::read_to_string(&manifest_path).ok();
    let synthetic = manifest_json
        .as_deref()
        .and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok())
        .and_then(|v| v.get("synthetic").and_then(|s| s.as_bool()))
        .unwrap_or(false);

    let on_event = &on_event;
    let view_times = session
        .compute_all_views(&|v| on_event(SuiteEvent::View(v)))
        .await?;
    let views_ms = started.elapsed().as_millis();

    for sub in ["data", "charts", "network"] {
        let p = out.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| ReportError::io(&p, e))?;
    }

    let mut sections = Vec::new();
    let mut results = Vec::new();
    // The queries run a few at a time (a query alone rarely keeps every core busy); `buffered`
    // keeps their results in suite order. The files are written afterwards.
    let uses = suite(catalog);
    let mut bound = Vec::with_capacity(uses.len());
    for (q, u, _) in &uses {
        bound.push(q.bind_toml(&u.params)?);
    }
    let at_once = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let queries_started = Instant::now();
    let computed: Vec<(Arc<arrow::datatypes::Schema>, Vec<RecordBatch>, SuiteResult)> =
        futures::stream::iter(uses.iter().zip(&bound).map(|((q, u, id), bindings)| {
            async move {
                let t = Instant::now();
                let named = |e: EngineError| e.with_query(&format!("saved query {}", q.name()));
                let df = q.dataframe(ctx, bindings).await.map_err(named)?;
                // The planned schema, so an empty result still gets its columns in the files.
                let schema = Arc::new(df.schema().as_arrow().clone());
                let batches = df
                    .collect()
                    .await
                    .map_err(|e| named(EngineError::from(e)))?;
                let result = SuiteResult {
                    id: id.clone(),
                    query: q.name().to_owned(),
                    title: u.title.clone().unwrap_or_else(|| q.header.title.clone()),
                    params: bindings.pairs(),
                    rows: batches.iter().map(RecordBatch::num_rows).sum(),
                    elapsed_ms: t.elapsed().as_millis(),
                };
                on_event(SuiteEvent::Result(&result));
                Ok::<_, ReportError>((schema, batches, result))
            }
        }))
        .buffered(at_once)
        .try_collect()
        .await?;
    let query_ms = queries_started.elapsed().as_millis();

    for ((q, u, id), (schema, batches, result)) in uses.into_iter().zip(computed) {
        let (rows, elapsed_ms) = (result.rows, result.elapsed_ms);

        let mut files = Vec::new();
        for (label, format, ext) in [
            ("Parquet", Format::Parquet, "parquet"),
            ("CSV", Format::Csv, "csv"),
        ] {
            let rel = format!("data/{id}.{ext}");
            write_batches(ctx, schema.clone(), &batches, format, &out.join(&rel)).await?;
            files.push((label.to_owned(), rel));
        }

        let mut chart_file = None;
        if let Some(chart) = &u.chart {
            let spec: ChartSpec = chart.clone().try_into().map_err(|e| ReportError::Catalog {
                file: q.origin.to_string(),
                reason: format!("report chart: {e}"),
            })?;
            let svg = render_svg(&spec, &batches).map_err(|e| ReportError::Catalog {
                file: q.origin.to_string(),
                reason: format!("report chart: {e}"),
            })?;
            let rel = format!("charts/{id}.svg");
            write_file(&out.join(&rel), svg.as_bytes())?;
            chart_file = Some(rel);
            if spec.kind == ChartKind::Network && !u.exports.is_empty() {
                files.extend(export_network(&spec, &batches, &u.exports, out, &id)?);
            }
        }

        sections.push(Section {
            id,
            finding: q.header.finding.clone().unwrap_or_default(),
            title: result.title.clone(),
            description: q.header.description.trim().to_owned(),
            params: result.params.clone(),
            columns: q
                .header
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.description.clone()))
                .collect(),
            table: head(&batches, TABLE_ROWS),
            total_rows: rows,
            chart_file,
            files,
            elapsed_ms,
        });
        results.push(result);
    }

    let suite_ms = views_ms + query_ms;
    let page = ReportPage {
        title: "Cell and gene therapy research, 1989-2023: the study report".into(),
        dataset: dataset.display().to_string(),
        synthetic,
        manifest_json,
        generated_at: chrono::Utc::now()
            .format("%Y-%m-%d %H:%M:%S UTC")
            .to_string(),
        sections,
        notes: vec![
            format!(
                "Computed by bibflow {} in {:.2} s: shared views {:.2} s, {} queries {:.2} s.",
                env!("CARGO_PKG_VERSION"),
                suite_ms as f64 / 1000.0,
                views_ms as f64 / 1000.0,
                results.len(),
                query_ms as f64 / 1000.0
            ),
            "Indicator definitions: docs/indicators.md; each query's header states its choices \
             (counting mode, reference sets, citation window). Re-run any table with \
             `bibflow query run NAME --dataset D --param k=v`."
                .into(),
        ],
    };
    write_file(&out.join("index.html"), render_index(&page).as_bytes())?;
    check_replaceable(final_out)?;
    let cleaned = staging.publish(out, true).map_err(EngineError::from)?;
    Ok(ReportSummary {
        index: final_out.join("index.html"),
        cleaned,
        results,
        views_ms,
        view_times,
        suite_ms,
        synthetic,
    })
}

/// Fails unless `out` is missing, an empty folder or an earlier report, which the new report may
/// replace.
fn check_replaceable(out: &Path) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    let empty = meta.is_dir()
        && std::fs::read_dir(out)
            .map_err(|e| ReportError::io(out, e))?
            .next()
            .is_none();
    let report = meta.is_dir() && out.join("index.html").is_file() && out.join("data").is_dir();
    if empty || report {
        return Ok(());
    }
    Err(ReportError::Usage(format!(
        "{} exists and is not a bibflow report (no index.html and data/); the report replaces \
         its folder whole: choose a new or empty folder",
        out.display()
    )))
}

/// The first `n` rows of a result.
fn head(batches: &[RecordBatch], n: usize) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let mut left = n;
    for b in batches {
        if left == 0 {
            break;
        }
        let take = left.min(b.num_rows());
        out.push(b.slice(0, take));
        left -= take;
    }
    out
}

async fn write_batches(
    ctx: &SessionContext,
    schema: arrow::datatypes::SchemaRef,
    batches: &[RecordBatch],
    format: Format,
    path: &Path,
) -> Result<()> {
    // One batch: the Parquet writer's pages and row groups then depend on the rows alone, not on
    // how the query's partitions happened to cut them into batches (byte-identical exports).
    let one = arrow::compute::concat_batches(&schema, batches)?;
    let table = MemTable::try_new(schema, vec![vec![one]])?;
    let df = ctx.read_table(Arc::new(table))?;
    let mut f =
        std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| ReportError::io(path, e))?);
    write_result(df, format, &mut f).await?;
    std::io::Write::flush(&mut f).map_err(|e| ReportError::io(path, e))?;
    Ok(())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| ReportError::io(path, e))
}

fn export_network(
    spec: &ChartSpec,
    batches: &[RecordBatch],
    exports: &[String],
    out: &Path,
    id: &str,
) -> Result<Vec<(String, String)>> {
    let has = |c: &str| {
        batches
            .first()
            .is_some_and(|b| b.column_by_name(c).is_some())
    };
    let cols = EdgeColumns {
        source: spec.source.as_deref().unwrap_or("a"),
        target: spec.target.as_deref().unwrap_or("b"),
        weight: spec.weight.as_deref().unwrap_or("links"),
        source_size: has("papers_a").then_some("papers_a"),
        target_size: has("papers_b").then_some("papers_b"),
        strength: has("association_strength").then_some("association_strength"),
    };
    let net = Network::from_batches(batches, &cols)?;
    let mut files = Vec::new();
    for e in exports {
        match e.as_str() {
            "graphml" => {
                let rel = format!("network/{id}.graphml");
                write_file(&out.join(&rel), net.to_graphml().as_bytes())?;
                files.push(("GraphML".to_owned(), rel));
            }
            "gexf" => {
                let rel = format!("network/{id}.gexf");
                write_file(&out.join(&rel), net.to_gexf().as_bytes())?;
                files.push(("GEXF".to_owned(), rel));
            }
            "vosviewer" => {
                let (map, network) = net.to_vosviewer();
                let m = format!("network/{id}_vosviewer_map.txt");
                let n = format!("network/{id}_vosviewer_network.txt");
                write_file(&out.join(&m), map.as_bytes())?;
                write_file(&out.join(&n), network.as_bytes())?;
                files.push(("VOSviewer map".to_owned(), m));
                files.push(("VOSviewer network".to_owned(), n));
            }
            other => {
                return Err(ReportError::Usage(format!(
                    "unknown network export {other:?}; accepted: graphml, gexf, vosviewer"
                )));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_is_ordered_and_ids_are_unique() {
        let c = Catalog::builtin().unwrap();
        let s = suite(&c);
        assert!(s.len() >= 12, "{}", s.len());
        let orders: Vec<u32> = s.iter().map(|(_, u, _)| u.order).collect();
        assert!(orders.windows(2).all(|w| w[0] <= w[1]));
        let mut ids: Vec<&str> = s.iter().map(|(_, _, id)| id.as_str()).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate ids: {ids:?}");
        assert!(ids.contains(&"country_output-modality_msc"), "{ids:?}");
        // Every chart of the suite is a valid chart spec, and every report use binds.
        for (q, u, id) in &s {
            q.bind_toml(&u.params).unwrap();
            if let Some(chart) = &u.chart {
                let _: ChartSpec = chart
                    .clone()
                    .try_into()
                    .unwrap_or_else(|e| panic!("{id}: {e}"));
            }
        }
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("modality-ex vivo GT"), "modality_ex_vivo_gt");
    }
}
