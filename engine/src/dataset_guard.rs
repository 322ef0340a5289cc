//! A local dataset read while a bibflow run republishes it: old or new, never a mix.
//!
//! A publish ([`bibflow_datasets::outdir::Staging::publish`]) renames the earlier `DIR/NAME` aside,
//! renames the new folder into place and removes the earlier one. DataFusion opens a table's files
//! by path when a query reaches them, so one query could read `works` of the earlier dataset and
//! `work_references` of the new one, or an empty `work_references` when it listed the folder in
//! the moment between the two renames (issue 22: `(1500, 11052, 0)`).
//!
//! So a session notes which dataset it registered ([`DatasetVersion`]: the folder's and
//! `manifest.json`'s device, inode, size and change times) and reads the dataset's files through
//! [`GuardedStore`], which after every listing, `head` and read under the dataset's folder checks
//! that `DIR/NAME` is still that dataset. Every byte a query gets was then read while `DIR/NAME` was
//! the registered dataset (a file is opened by path, and its contents stay those of the file opened,
//! even if it is removed afterwards); when it is not, the query fails with
//! [`EngineError::DatasetReplaced`] ("the dataset DIR was replaced while it was read; run the query
//! again") instead of returning a mix. The checks cost two `stat` calls per read.
//!
//! A dataset replaced twice could, in principle, come back with the same identity: the folder's
//! inode number can be reused, but its change time (nanoseconds) is that of the new folder.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use datafusion::datasource::listing::ListingTableUrl;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path as StorePath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use crate::error::{EngineError, Result};

/// How long a reader waits for a dataset that is missing while a bibflow run holds its lock: the
/// moment between a publish's two renames is far shorter; a first publish still being built is
/// far longer, and is reported as missing.
const WAIT_FOR_PUBLISH: Duration = Duration::from_secs(2);

/// Which dataset `DIR/NAME` is: its folder and its `manifest.json` (when it has one), each by
/// device, inode, size, modification and change time. Another publish makes another folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DatasetVersion {
    folder: FileId,
    manifest: Option<FileId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

impl DatasetVersion {
    /// The version of the dataset at `dir` now.
    pub(crate) fn read(dir: &Path) -> std::io::Result<Self> {
        let folder = FileId::of(&std::fs::metadata(dir)?);
        let manifest = std::fs::metadata(dir.join(bibflow_datasets::manifest::MANIFEST_FILE))
            .ok()
            .map(|m| FileId::of(&m));
        Ok(Self { folder, manifest })
    }

    /// The version of the dataset at `dir`, waiting up to [`WAIT_FOR_PUBLISH`] while it is missing
    /// and a bibflow run holds its lock (a publish between its two renames).
    pub(crate) fn wait_for(dir: &Path) -> Result<Self> {
        let start = std::time::Instant::now();
        loop {
            let err = match Self::read(dir) {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let holder = writer_of(dir);
            if err.kind() != std::io::ErrorKind::NotFound || holder.is_none() {
                return Err(EngineError::NotADataset {
                    path: dir.to_path_buf(),
                    reason: err.to_string(),
                });
            }
            if start.elapsed() >= WAIT_FOR_PUBLISH {
                return Err(EngineError::NotADataset {
                    path: dir.to_path_buf(),
                    reason: format!(
                        "it does not exist, and a bibflow run ({}) is writing it; if that run \
                         replaces an earlier dataset, run the query again when it has finished",
                        holder.unwrap_or_default()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// What the bibflow run writing `dir` wrote in its lock file (`pid N`), if one is writing it.
fn writer_of(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let lock = dir.with_file_name(format!(".{name}{}", bibflow_datasets::outdir::LOCK_MARK));
    std::fs::read_to_string(lock)
        .ok()
        .map(|s| s.trim().to_string())
}

/// The dataset a session registered and its version then; checked by [`GuardedStore`].
#[derive(Debug)]
pub(crate) struct DatasetGuard {
    dir: PathBuf,
    /// The dataset's folder as the object store names it (as DataFusion's listing tables do).
    prefix: StorePath,
    version: Mutex<DatasetVersion>,
}

impl DatasetGuard {
    /// Notes the version of the local dataset `dir` (waiting for a publish between its renames)
    /// and puts a [`GuardedStore`] in front of `ctx`'s local file store, so that every read under
    /// `dir` checks it. `url` is `dir` as a folder URL (`folder_url` in `tables.rs`).
    pub(crate) fn install(ctx: &SessionContext, dir: &Path, url: &str) -> Result<Arc<Self>> {
        let version = DatasetVersion::wait_for(dir)?;
        let prefix = ListingTableUrl::parse(url)?.prefix().clone();
        let guard = Arc::new(Self {
            dir: dir.to_path_buf(),
            prefix,
            version: Mutex::new(version),
        });
        let local = ObjectStoreUrl::local_filesystem();
        let inner = ctx.runtime_env().object_store(&local)?;
        ctx.register_object_store(
            local.as_ref(),
            Arc::new(GuardedStore {
                inner,
                guard: Arc::clone(&guard),
            }),
        );
        Ok(guard)
    }

    /// True when `dir` is still the dataset noted.
    pub(crate) fn is_current(&self) -> bool {
        let noted = *self.version.lock().expect("not poisoned");
        DatasetVersion::read(&self.dir).is_ok_and(|now| now == noted)
    }

    /// Notes the dataset at `dir` now (for a registration that saw it replaced and starts again).
    pub(crate) fn renew(&self) -> Result<()> {
        let now = DatasetVersion::wait_for(&self.dir)?;
        *self.version.lock().expect("not poisoned") = now;
        Ok(())
    }

    /// The error of a query that read the dataset after it was replaced.
    pub(crate) fn replaced(&self) -> EngineError {
        EngineError::DatasetReplaced {
            path: self.dir.clone(),
        }
    }

    fn guards(&self, location: &StorePath) -> bool {
        location.prefix_matches(&self.prefix)
    }

    /// `result` of a read at `location`, or the error saying the dataset was replaced when
    /// `location` is in the dataset and `dir` is no longer the dataset noted: what was read may
    /// belong to another dataset, and a failed read (a file removed) is explained.
    fn checked<T>(
        &self,
        location: &StorePath,
        result: object_store::Result<T>,
    ) -> object_store::Result<T> {
        if !self.guards(location) || self.is_current() {
            return result;
        }
        Err(object_store::Error::Generic {
            store: "bibflow dataset",
            source: Box::new(self.replaced()),
        })
    }
}

/// The local file store of a session with a dataset: reads under the dataset's folder are checked
/// against its [`DatasetGuard`]; everything else (other files, writes) passes through unchanged.
#[derive(Debug)]
pub(crate) struct GuardedStore {
    inner: Arc<dyn ObjectStore>,
    guard: Arc<DatasetGuard>,
}

impl std::fmt::Display for GuardedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (reads of {} checked)",
            self.inner,
            self.guard.dir.display()
        )
    }
}

#[async_trait]
impl ObjectStore for GuardedStore {
    async fn put_opts(
        &self,
        location: &StorePath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &StorePath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    // A local file is opened here; what is read from it later is that file's, even if removed.
    async fn get_opts(
        &self,
        location: &StorePath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        let result = self.inner.get_opts(location, options).await;
        self.guard.checked(location, result)
    }

    async fn get_ranges(
        &self,
        location: &StorePath,
        ranges: &[std::ops::Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let result = self.inner.get_ranges(location, ranges).await;
        self.guard.checked(location, result)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<StorePath>>,
    ) -> BoxStream<'static, object_store::Result<StorePath>> {
        self.inner.delete_stream(locations)
    }

    // A listing is checked once it is complete (a table folder's entries; a few hundred at most).
    fn list(
        &self,
        prefix: Option<&StorePath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        let inner = self.inner.list(prefix);
        let Some(prefix) = prefix.filter(|p| self.guard.guards(p)).cloned() else {
            return inner;
        };
        let guard = Arc::clone(&self.guard);
        futures::stream::once(async move {
            let entries: Vec<_> = inner.collect().await;
            match guard.checked(&prefix, Ok(())) {
                Ok(()) => futures::stream::iter(entries),
                Err(e) => futures::stream::iter(vec![Err(e)]),
            }
        })
        .flatten()
        .boxed()
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&StorePath>,
    ) -> object_store::Result<ListResult> {
        let result = self.inner.list_with_delimiter(prefix).await;
        match prefix {
            Some(p) => self.guard.checked(p, result),
            None => result,
        }
    }

    async fn copy_opts(
        &self,
        from: &StorePath,
        to: &StorePath,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
