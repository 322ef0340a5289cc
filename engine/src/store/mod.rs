//! Datasets, inputs and outputs in object stores: `s3://`, `gs://`, `az://`, `http(s)://` and
//! `file://` URLs wherever a command takes a folder or a file.
//!
//! | what                                   | where                                           |
//! |----------------------------------------|-------------------------------------------------|
//! | a store for a URL, from the environment | [`store_for_url`]; every session's runtime has a [`StoreRegistry`] that makes them on first use |
//! | a command argument: local path or URL  | [`Location`]                                    |
//! | read a dataset in a store              | [`register_remote_dataset`] (through [`crate::session::SessionBuilder::dataset`]) |
//! | publish a dataset to a store           | [`OutputDir`]: built locally, uploaded, `manifest.json` last |
//! | upload a report or a result file        | [`OutputDir`], [`upload_file`]                 |
//! | read raw inputs (an OpenAlex snapshot) in a store | [`input_roots`], [`StoreReader`]: listed, then streamed while ingest reads |
//!
//! Credentials and endpoints come from each store's usual environment variables, never from the
//! command line (`docs/object-stores.md`): `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, `AWS_ENDPOINT`, `AWS_ALLOW_HTTP` for S3; `GOOGLE_SERVICE_ACCOUNT` for GCS;
//! `AZURE_STORAGE_ACCOUNT_NAME`, `AZURE_STORAGE_ACCOUNT_KEY` for Azure.
//!
//! A dataset in a store appears whole or not at all: its files are uploaded under new names
//! first, then `manifest.json`, which lists them, is written in one request; readers of a store
//! dataset read the files its manifest lists and nothing else. Replacing a dataset deletes the old
//! files after the new manifest is in place.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bibflow_datasets::manifest::Manifest;
use bibflow_datasets::schema::TABLES;
use datafusion::datasource::listing::{ListingTable, ListingTableConfig, ListingTableUrl};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use url::Url;

use crate::error::{EngineError, Result};
use crate::tables::{RegisteredTable, table_options};

mod inputs;
mod transfer;
pub use inputs::{StoreReader, input_roots};
pub use transfer::{LocalDatasets, OutputDir, upload_file};

/// The schemes bibflow makes stores for.
pub const SCHEMES: &[&str] = &[
    "s3", "s3a", "gs", "az", "abfs", "abfss", "http", "https", "file",
];

/// How long a store keeps retrying one request before the error reaches the user.
const RETRY_TIMEOUT: Duration = Duration::from_secs(20);

/// A command's folder or file argument: a local path, or a URL of an object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Local(PathBuf),
    Url(Url),
}

impl Location {
    /// `s3://bucket/prefix` and other `SCHEME://` strings are URLs; anything else is a path.
    pub fn parse(s: &str) -> Result<Self> {
        if !s.contains("://") {
            return Ok(Self::Local(PathBuf::from(s)));
        }
        let url = Url::parse(s).map_err(|e| EngineError::Usage(format!("{s}: not a URL: {e}")))?;
        if !SCHEMES.contains(&url.scheme()) {
            return Err(EngineError::Usage(format!(
                "{s}: bibflow reads and writes {} URLs, not {}://",
                SCHEMES.join("://, "),
                url.scheme()
            )));
        }
        if url.scheme() == "file" {
            let path = url
                .to_file_path()
                .map_err(|()| EngineError::Usage(format!("{s}: not a local file URL")))?;
            return Ok(Self::Local(path));
        }
        Ok(Self::Url(url))
    }

    /// The location a path argument names (the CLI takes paths; `s3://b/x` is kept whole).
    pub fn from_path(p: &Path) -> Result<Self> {
        match p.to_str() {
            Some(s) => Self::parse(s),
            None => Ok(Self::Local(p.to_path_buf())),
        }
    }

    /// The URL, if this is one.
    pub fn url(&self) -> Option<&Url> {
        match self {
            Self::Url(u) => Some(u),
            Self::Local(_) => None,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local(p) => write!(f, "{}", p.display()),
            Self::Url(u) => write!(f, "{u}"),
        }
    }
}

/// True when `p` is a store URL rather than a local path.
pub fn is_url(p: &Path) -> bool {
    matches!(Location::from_path(p), Ok(Location::Url(_)))
}

/// The store for `url` (its bucket, container or host), configured from the environment.
pub fn store_for_url(url: &Url) -> Result<Arc<dyn ObjectStore>> {
    store_for_url_with(url, &[])
}

/// The store for `url`, configured from the environment and then from `options`, pairs of a
/// store's configuration key and value (`aws_endpoint`, `google_service_account`,
/// `azure_storage_account_name`, ...: the names of object_store's `AmazonS3ConfigKey`,
/// `GoogleConfigKey` and `AzureConfigKey`; ignored for HTTP).
pub fn store_for_url_with(url: &Url, options: &[(String, String)]) -> Result<Arc<dyn ObjectStore>> {
    let retry = RetryConfig {
        max_retries: 3,
        retry_timeout: RETRY_TIMEOUT,
        ..Default::default()
    };
    let fail = |e: object_store::Error| store_error(url, e);
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "s3" | "s3a" => {
            let mut b = object_store::aws::AmazonS3Builder::from_env().with_url(url.as_str());
            for (k, v) in options {
                b = b.with_config(k.parse().map_err(fail)?, v);
            }
            Arc::new(b.with_retry(retry).build().map_err(fail)?)
        }
        "gs" => {
            let mut b =
                object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(url.as_str());
            for (k, v) in options {
                b = b.with_config(k.parse().map_err(fail)?, v);
            }
            Arc::new(b.with_retry(retry).build().map_err(fail)?)
        }
        "az" | "abfs" | "abfss" => {
            let mut b =
                object_store::azure::MicrosoftAzureBuilder::from_env().with_url(url.as_str());
            for (k, v) in options {
                b = b.with_config(k.parse().map_err(fail)?, v);
            }
            Arc::new(b.with_retry(retry).build().map_err(fail)?)
        }
        "http" | "https" => Arc::new(
            object_store::http::HttpBuilder::new()
                .with_url(&url[..url::Position::BeforePath])
                .with_retry(retry)
                .build()
                .map_err(fail)?,
        ),
        "file" => Arc::new(object_store::local::LocalFileSystem::new()),
        other => {
            return Err(EngineError::Usage(format!(
                "{url}: no object store for {other}:// URLs"
            )));
        }
    };
    Ok(store)
}

/// A store error, named by the URL it was about and said in the user's terms.
pub fn store_error(url: &Url, e: object_store::Error) -> EngineError {
    let text = e.to_string();
    let reason = match &e {
        object_store::Error::NotFound { .. } => "not found".to_string(),
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            format!("access denied (check the store's credentials in the environment): {text}")
        }
        _ if text.contains("NoSuchBucket") || text.contains("ContainerNotFound") => {
            "not found: the bucket (or container) does not exist".to_string()
        }
        _ if text.contains("error sending request") || text.contains("onnection refused") => {
            format!(
                "cannot reach the store (check its endpoint, e.g. AWS_ENDPOINT, and the network): \
                 {text}"
            )
        }
        _ => text,
    };
    EngineError::Store {
        url: url.to_string(),
        reason,
    }
}

/// The object-store registry of every bibflow session: DataFusion's, plus a store made from the
/// environment the first time a URL of a known scheme is read. So a query or a cluster process
/// reaches `s3://bucket/...` without anyone registering the bucket first.
#[derive(Debug)]
pub struct StoreRegistry {
    inner: DefaultObjectStoreRegistry,
}

impl StoreRegistry {
    /// DataFusion's registry (local files), plus stores made on first use.
    pub fn new() -> Self {
        Self {
            inner: DefaultObjectStoreRegistry::new(),
        }
    }
}

impl Default for StoreRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl ObjectStoreRegistry for StoreRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.inner.get_store(url) {
            return Ok(store);
        }
        if !SCHEMES.contains(&url.scheme()) {
            return self.inner.get_store(url);
        }
        let store = store_for_url(url)
            .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?;
        self.inner.register_store(url, Arc::clone(&store));
        Ok(store)
    }
}

/// A folder in a store: the store and the key prefix under it.
#[derive(Debug, Clone)]
pub struct RemoteDir {
    url: Url,
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
}

impl RemoteDir {
    /// The folder at `url`, with its store from `registry` (made from the environment if new).
    pub fn open(url: &Url, registry: &dyn ObjectStoreRegistry) -> Result<Self> {
        let store = registry.get_store(url).map_err(|e| EngineError::Store {
            url: url.to_string(),
            reason: e.strip_backtrace(),
        })?;
        let prefix = StorePath::from_url_path(url.path()).map_err(|e| EngineError::Store {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
        let mut url = url.clone();
        if !url.path().ends_with('/') {
            url.set_path(&format!("{}/", url.path()));
        }
        Ok(Self { url, store, prefix })
    }

    /// The folder's URL, ending in `/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The URL of `rel` (a `/`-separated path) inside the folder.
    pub fn child_url(&self, rel: &str) -> Url {
        let mut u = self.url.clone();
        u.set_path(&format!("{}{rel}", self.url.path()));
        u
    }

    fn key(&self, rel: &str) -> StorePath {
        let mut key = self.prefix.clone();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            key = key.clone().join(part);
        }
        key
    }

    /// The bytes of `rel`, or `None` if there is no such object.
    pub async fn get(&self, rel: &str) -> Result<Option<bytes::Bytes>> {
        match self.store.get(&self.key(rel)).await {
            Ok(r) => Ok(Some(
                r.bytes()
                    .await
                    .map_err(|e| store_error(&self.child_url(rel), e))?,
            )),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error(&self.child_url(rel), e)),
        }
    }

    /// Writes `bytes` at `rel` in one request (a reader sees all of it or nothing).
    pub async fn put(&self, rel: &str, bytes: Vec<u8>) -> Result<()> {
        self.store
            .put(&self.key(rel), PutPayload::from(bytes))
            .await
            .map_err(|e| store_error(&self.child_url(rel), e))?;
        Ok(())
    }

    /// Uploads the local file `from` to `rel`, in parts when it is large.
    pub async fn upload(&self, from: &Path, rel: &str) -> Result<()> {
        use tokio::io::AsyncReadExt;
        let key = self.key(rel);
        let url = self.child_url(rel);
        let mut file = tokio::fs::File::open(from)
            .await
            .map_err(|e| EngineError::io(from, e))?;
        let mut writer = object_store::buffered::BufWriter::new(Arc::clone(&self.store), key);
        let mut buf = vec![0u8; 8 << 20];
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| EngineError::io(from, e))?;
            if n == 0 {
                break;
            }
            writer
                .put(bytes::Bytes::copy_from_slice(&buf[..n]))
                .await
                .map_err(|e| store_error(&url, e))?;
        }
        tokio::io::AsyncWriteExt::shutdown(&mut writer)
            .await
            .map_err(|e| EngineError::Store {
                url: url.to_string(),
                reason: e.to_string(),
            })?;
        Ok(())
    }

    /// Downloads `rel` to the local file `to` (its folder is made), streaming.
    pub async fn download(&self, rel: &str, to: &Path) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        let url = self.child_url(rel);
        let got = self
            .store
            .get(&self.key(rel))
            .await
            .map_err(|e| store_error(&url, e))?;
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| EngineError::io(parent, e))?;
        }
        let mut file = tokio::fs::File::create(to)
            .await
            .map_err(|e| EngineError::io(to, e))?;
        let mut stream = got.into_stream();
        while let Some(chunk) = stream.try_next().await.map_err(|e| store_error(&url, e))? {
            file.write_all(&chunk)
                .await
                .map_err(|e| EngineError::io(to, e))?;
        }
        file.flush().await.map_err(|e| EngineError::io(to, e))?;
        Ok(())
    }

    /// Every object under the folder, as paths relative to it.
    pub async fn list_all(&self) -> Result<Vec<String>> {
        let objects = self.list_objects().await?;
        Ok(objects.into_iter().map(|(rel, _)| rel).collect())
    }

    /// Every object under the folder, as paths relative to it, with its size in bytes.
    pub async fn list_objects(&self) -> Result<Vec<(String, u64)>> {
        let metas: Vec<_> = self
            .store
            .list(Some(&self.prefix))
            .try_collect()
            .await
            .map_err(|e| store_error(&self.url, e))?;
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                m.location.prefix_match(&self.prefix).map(|parts| {
                    let rel = parts
                        .map(|p| p.as_ref().to_string())
                        .collect::<Vec<_>>()
                        .join("/");
                    (rel, m.size)
                })
            })
            .collect())
    }

    /// The immediate sub-folders of the folder, by name.
    pub async fn list_dirs(&self) -> Result<Vec<String>> {
        let listing = self
            .store
            .list_with_delimiter(Some(&self.prefix))
            .await
            .map_err(|e| store_error(&self.url, e))?;
        let mut dirs: Vec<String> = listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect();
        dirs.sort();
        Ok(dirs)
    }

    /// Deletes `rel`; a missing object is not an error.
    pub async fn delete(&self, rel: &str) -> Result<()> {
        match self.store.delete(&self.key(rel)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(store_error(&self.child_url(rel), e)),
        }
    }
}

/// Registers the tables of the dataset at `url` (see the [module documentation](self)): the files
/// its `manifest.json` lists, or, for a dataset copied into the store by another tool (whose
/// manifest lists none), every table folder.
pub async fn register_remote_dataset(
    ctx: &SessionContext,
    url: &Url,
    declare_order: bool,
) -> Result<Vec<RegisteredTable>> {
    let registry = Arc::clone(&ctx.runtime_env().object_store_registry);
    let dir = RemoteDir::open(url, registry.as_ref())?;
    let not_a_dataset = |reason: String| EngineError::NotADataset {
        path: PathBuf::from(url.as_str()),
        reason,
    };
    let Some(bytes) = dir.get(bibflow_datasets::manifest::MANIFEST_FILE).await? else {
        // A missing bucket answers "not found" like a missing file: listing tells them apart.
        dir.list_dirs().await.map_err(|e| match e {
            EngineError::Store { url, reason } if reason.starts_with("not found") => {
                EngineError::Store {
                    url,
                    reason: "not found: the bucket (or container) does not exist".into(),
                }
            }
            e => e,
        })?;
        return Err(not_a_dataset(
            "it has no manifest.json (a dataset in a store appears when its manifest is written; \
             one being written, or a folder that is not a bibflow dataset, has none)"
                .into(),
        ));
    };
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| not_a_dataset(format!("manifest.json does not parse: {e}")))?;
    let mut files: BTreeMap<String, Vec<String>> = manifest.files.clone();
    if files.is_empty() {
        for name in dir.list_dirs().await? {
            if !name.starts_with('_') && !name.starts_with('.') {
                files.insert(name, Vec::new());
            }
        }
    }
    let mut registered = Vec::new();
    for (name, list) in &files {
        if name.starts_with('_') {
            continue;
        }
        let canonical = TABLES.iter().find(|t| t.name() == name);
        let options =
            table_options(declare_order && manifest.sorted_by_work_id && canonical.is_some());
        let paths: Vec<ListingTableUrl> = if list.is_empty() {
            vec![ListingTableUrl::parse(
                dir.child_url(&format!("{name}/")).as_str(),
            )?]
        } else {
            list.iter()
                .map(|f| ListingTableUrl::parse(dir.child_url(f).as_str()))
                .collect::<datafusion::error::Result<_>>()?
        };
        let mut config =
            ListingTableConfig::new_with_multi_paths(paths).with_listing_options(options);
        let entity = bibflow_datasets::schema::EntityTable::from_name(name);
        config = match (canonical, entity) {
            (Some(t), _) => config.with_schema(t.schema()),
            (None, Some(t)) => config.with_schema(t.schema()),
            (None, None) => config.infer_schema(&ctx.state()).await?,
        };
        ctx.register_table(name.as_str(), Arc::new(ListingTable::try_new(config)?))?;
        registered.push(RegisteredTable {
            name: name.clone(),
            path: PathBuf::from(dir.child_url(name).as_str()),
            canonical: canonical.is_some() || entity.is_some(),
            sorted_by_work_id: declare_order && manifest.sorted_by_work_id && canonical.is_some(),
        });
    }
    if registered.is_empty() {
        return Err(not_a_dataset("its manifest lists no tables".into()));
    }
    Ok(registered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_urls_are_told_apart() {
        assert_eq!(
            Location::parse("data/ds").unwrap(),
            Location::Local(PathBuf::from("data/ds"))
        );
        assert_eq!(
            Location::parse("file:///tmp/ds").unwrap(),
            Location::Local(PathBuf::from("/tmp/ds"))
        );
        let s3 = Location::parse("s3://bucket/corpus/ds").unwrap();
        assert_eq!(s3.url().unwrap().host_str(), Some("bucket"));
        assert!(is_url(Path::new("gs://b/x")));
        assert!(!is_url(Path::new("/tmp/x")));
        let err = Location::parse("ftp://host/x").unwrap_err().to_string();
        assert!(
            err.contains("ftp://host/x") && err.contains("s3://"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_dataset_round_trips_through_a_file_store() {
        // The store code path over the local file system (file:// stores are real object
        // stores of the same trait); the S3 server tests are in tests/it/object_store.rs.
        let tmp = tempfile::tempdir().unwrap();
        let root = Url::from_directory_path(tmp.path()).unwrap();
        let dir = RemoteDir::open(&root.join("ds/").unwrap(), &StoreRegistry::new()).unwrap();
        dir.put("a/x.txt", b"hello".to_vec()).await.unwrap();
        assert_eq!(
            dir.get("a/x.txt").await.unwrap().unwrap().as_ref(),
            b"hello"
        );
        assert!(dir.get("a/missing").await.unwrap().is_none());
        assert_eq!(dir.list_dirs().await.unwrap(), vec!["a".to_string()]);
        assert_eq!(dir.list_all().await.unwrap(), vec!["a/x.txt".to_string()]);
        dir.delete("a/x.txt").await.unwrap();
        dir.delete("a/x.txt").await.unwrap();
        assert!(dir.get("a/x.txt").await.unwrap().is_none());
    }
}
