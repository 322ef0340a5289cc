//! Views computed once by the session's engine into Parquet files that every process of the
//! engine reads ([`crate::session::ViewPlacement::Written`]): what a cluster needs, whose
//! executors cannot read views held in the client's memory. Each view is written with
//! `DataFrame::write_parquet` (on a Ballista session the executors write the files, in parallel)
//! into `<folder>/<view>/`, and that folder is registered in place of the view, so every later
//! view and query reads the computed rows instead of computing the view again.
//!
//! The files go to a sub-folder of the folder the user gave, named for this process and moment
//! (`bibflow-views-<pid>-<nanoseconds>`), removed when the [`WrittenViews`] is dropped: at the
//! end of the command, on an error, and on Ctrl-C (the command is dropped, see the CLI). A
//! killed process (SIGKILL) leaves its sub-folder; any `bibflow-views-*` sub-folder of a process
//! that is not running can be removed.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arrow::array::{Array, UInt64Array};
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{DataFrame, SessionContext};
use futures::TryStreamExt;
use url::Url;

use super::{SavedQuery, ViewTime};
use crate::error::{EngineError, Result};
use crate::store::{Location, RemoteDir, StoreRegistry};

/// The sub-folder a session writes its computed views to; removed on drop.
#[derive(Debug)]
pub struct WrittenViews {
    folder: Location,
}

impl WrittenViews {
    /// A new, empty sub-folder of `dir` (a local folder, created if missing, or a store URL).
    pub fn create(dir: &str) -> Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!("bibflow-views-{}-{nanos}", std::process::id());
        let folder = match Location::parse(dir)? {
            Location::Local(path) => {
                let path = path.join(name);
                std::fs::create_dir_all(&path).map_err(|e| EngineError::io(&path, e))?;
                // Absolute: executors in other working folders read the same path.
                let path = std::path::absolute(&path).map_err(|e| EngineError::io(&path, e))?;
                Location::Local(path)
            }
            Location::Url(url) => {
                let mut url = url;
                let base = url.path().trim_end_matches('/').to_owned();
                url.set_path(&format!("{base}/{name}"));
                Location::Url(url)
            }
        };
        Ok(Self { folder })
    }

    /// Where the views go (the sub-folder).
    pub fn folder(&self) -> &Location {
        &self.folder
    }

    /// The folder of view `name`, as a URL ending in `/` (a folder to DataFusion).
    fn view_url(&self, name: &str) -> String {
        match &self.folder {
            Location::Local(p) => format!("{}/", p.join(name).display()),
            Location::Url(u) => format!("{}/{name}/", u.as_str().trim_end_matches('/')),
        }
    }

    /// Computes the views of `waves` (each view after the views it reads) into Parquet files and
    /// registers each one's files in its place. Views of one wave are computed at the same time.
    /// Returns each view's time, in dependency order, also given to `on_view` as each view is
    /// registered.
    pub async fn compute(
        &self,
        ctx: &SessionContext,
        waves: Vec<Vec<&SavedQuery>>,
        on_view: super::OnView<'_>,
    ) -> Result<Vec<ViewTime>> {
        let mut times = Vec::new();
        for wave in waves {
            let written = futures::future::try_join_all(
                wave.into_iter().map(|view| self.write_view(ctx, view)),
            )
            .await?;
            for (view, table, time) in written {
                ctx.deregister_table(view.name())?;
                ctx.register_table(view.name(), table)?;
                on_view(&time);
                times.push(time);
            }
        }
        Ok(times)
    }

    async fn write_view<'a>(
        &self,
        ctx: &SessionContext,
        view: &'a SavedQuery,
    ) -> Result<(
        &'a SavedQuery,
        Arc<dyn datafusion::catalog::TableProvider>,
        ViewTime,
    )> {
        let t = Instant::now();
        // Join reordering off, as for views computed in this process (see views.rs).
        let mut state = ctx.state();
        state.config_mut().options_mut().optimizer.join_reordering = false;
        let plan =
            state
                .create_logical_plan(&view.sql)
                .await
                .map_err(|e| EngineError::Catalog {
                    file: view.origin.to_string(),
                    reason: format!("the view does not plan over this dataset: {e}"),
                })?;
        let df = DataFrame::new(state, plan);
        let schema = Arc::new(df.schema().as_arrow().clone());
        let url = self.view_url(view.name());
        if let Location::Local(p) = &self.folder {
            let dir = p.join(view.name());
            std::fs::create_dir_all(&dir).map_err(|e| EngineError::io(&dir, e))?;
        }
        let counts = df
            .write_parquet(&url, DataFrameWriteOptions::new(), None)
            .await
            .map_err(|e| {
                EngineError::from(e).with_query(&format!("view {} written to {url}", view.name()))
            })?;
        let rows = counts
            .iter()
            .filter_map(|b| b.column(0).as_any().downcast_ref::<UInt64Array>())
            .flat_map(|a| (0..a.len()).map(move |i| a.value(i)))
            .sum();
        let table_url = ListingTableUrl::parse(&url)?;
        let store = ctx.runtime_env().object_store(&table_url)?;
        let written_bytes = store
            .list(Some(table_url.prefix()))
            .try_fold(0u64, |n, m| async move { Ok(n + m.size) })
            .await
            .map_err(|e| EngineError::Usage(format!("listing {url}: {e}")))?;
        let options =
            ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new(table_url)
            .with_listing_options(options)
            .with_schema(schema);
        let table = Arc::new(ListingTable::try_new(config)?);
        let time = ViewTime {
            name: view.name().to_owned(),
            elapsed_ms: t.elapsed().as_millis(),
            rows,
            spilled_bytes: 0,
            written_bytes,
        };
        Ok((view, table, time))
    }
}

impl Drop for WrittenViews {
    fn drop(&mut self) {
        match &self.folder {
            Location::Local(path) => {
                let _ = std::fs::remove_dir_all(path);
            }
            Location::Url(url) => {
                // Drop cannot await, and may run inside a runtime: the objects are deleted on a
                // thread with a runtime of its own, waited for.
                let url = url.clone();
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    if let Ok(rt) = rt {
                        let _ = rt.block_on(delete_prefix(&url));
                    }
                })
                .join();
            }
        }
    }
}

/// Deletes every object under `url`.
async fn delete_prefix(url: &Url) -> Result<()> {
    let dir = RemoteDir::open(url, &StoreRegistry::new())?;
    for rel in dir.list_all().await? {
        dir.delete(&rel).await?;
    }
    Ok(())
}
