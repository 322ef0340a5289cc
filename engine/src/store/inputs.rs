//! Raw inputs in a store, read where they are: [`input_roots`] lists each URL a command was given
//! (a file, or a folder such as an OpenAlex snapshot prefix) and [`StoreReader`] streams each
//! object, in ranged requests, while ingest reads it. Nothing is downloaded first, so an S3
//! snapshot needs no local disk for itself: only OpenAlex Parquet files, which the Parquet reader
//! must seek in, are copied to the temporary folder one at a time per reading thread.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use bibflow_datasets::input::{RemoteReader, RemoteRoot, Root, is_entity_folder};
use bytes::Bytes;
use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt};
use url::Url;

use super::{Location, RemoteDir, StoreRegistry, store_error};
use crate::error::{EngineError, Result};

/// Bytes asked of the store in one request.
const RANGE_BYTES: u64 = 8 << 20;
/// Ranges fetched ahead of the reader.
const PREFETCH: usize = 2;

/// The inputs named by `args`: local paths as they are, store URLs listed (every object under a
/// folder, with its size) and read from the store when ingest reads them.
pub async fn input_roots(args: &[PathBuf]) -> Result<Vec<Root>> {
    let mut roots = Vec::with_capacity(args.len());
    for arg in args {
        match Location::from_path(arg)? {
            Location::Local(p) => roots.push(Root::Local(p)),
            Location::Url(url) => roots.push(Root::Remote(list_root(&url).await?)),
        }
    }
    Ok(roots)
}

async fn list_root(url: &Url) -> Result<RemoteRoot> {
    let registry = StoreRegistry::new();
    let dir = RemoteDir::open(url, &registry)?;
    let reader = Arc::new(StoreReader {
        store: Arc::clone(&dir.store),
        handle: tokio::runtime::Handle::current(),
    });
    let text = url.as_str().trim_end_matches('/').to_string();
    let root = PathBuf::from(&text);
    let objects = dir.list_objects().await?;
    if objects.is_empty() {
        // Not a folder: one object, or nothing.
        let meta = dir.store.head(&dir.prefix).await.map_err(|e| match e {
            object_store::Error::NotFound { .. } => EngineError::Store {
                url: url.to_string(),
                reason: "not found: no such file, and no files under it as a folder".into(),
            },
            e => store_error(url, e),
        })?;
        return Ok(RemoteRoot {
            url: root.clone(),
            is_file: true,
            objects: vec![(root, meta.size)],
            combined_manifest: None,
            reader,
        });
    }
    // `data/jsonl/works/` of a 2026 snapshot: the format prefix's `manifest.json` is beside it.
    let combined_manifest = if is_entity_folder(&root) {
        let parent = root.parent().unwrap_or(&root);
        let m = parent.join(bibflow_datasets::input::COMBINED_MANIFEST);
        let key = object_key(&m)?;
        match dir.store.head(&key).await {
            Ok(meta) => Some((m, meta.size)),
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(store_error(url, e)),
        }
    } else {
        None
    };
    Ok(RemoteRoot {
        objects: objects
            .into_iter()
            .map(|(rel, size)| (PathBuf::from(format!("{text}/{rel}")), size))
            .collect(),
        url: root,
        is_file: false,
        combined_manifest,
        reader,
    })
}

/// The key of the object whose URL `url` holds.
fn object_key(url: &Path) -> Result<StorePath> {
    let text = url.to_string_lossy();
    let parsed = Url::parse(&text).map_err(|e| EngineError::Usage(format!("{text}: {e}")))?;
    StorePath::from_url_path(parsed.path()).map_err(|e| EngineError::Store {
        url: text.to_string(),
        reason: e.to_string(),
    })
}

/// Reads objects of one store for ingest: each open object is fetched in ranges of 8 MiB by a
/// thread of its own, two ranges ahead of the reader, through the store's retrying client.
#[derive(Debug)]
pub struct StoreReader {
    store: Arc<dyn ObjectStore>,
    /// The runtime the requests run on (ingest reads on threads outside it).
    handle: tokio::runtime::Handle,
}

impl RemoteReader for StoreReader {
    fn open(&self, url: &Path, size: u64) -> io::Result<Box<dyn Read + Send>> {
        let key = object_key(url).map_err(io::Error::other)?;
        let parsed = Url::parse(&url.to_string_lossy()).map_err(io::Error::other)?;
        let (tx, rx) = sync_channel(PREFETCH);
        let store = Arc::clone(&self.store);
        let handle = self.handle.clone();
        std::thread::Builder::new()
            .name("bibflow-store-read".into())
            .spawn(move || fetch_ranges(&*store, &handle, &key, &parsed, size, &tx))?;
        Ok(Box::new(ChannelReader {
            rx,
            current: Bytes::new(),
            url: url.to_string_lossy().into_owned(),
            expected: size,
            received: 0,
        }))
    }
}

/// Sends `key`'s bytes `0..size` in ranges, or the first error; stops when the reader is gone.
fn fetch_ranges(
    store: &dyn ObjectStore,
    handle: &tokio::runtime::Handle,
    key: &StorePath,
    url: &Url,
    size: u64,
    tx: &SyncSender<io::Result<Bytes>>,
) {
    let mut start = 0;
    while start < size {
        let end = (start + RANGE_BYTES).min(size);
        let got = handle
            .block_on(store.get_range(key, start..end))
            .map_err(|e| io::Error::other(store_error(url, e).to_string()));
        let failed = got.is_err();
        if tx.send(got).is_err() || failed {
            return;
        }
        start = end;
    }
}

/// The reading end of [`fetch_ranges`].
struct ChannelReader {
    rx: Receiver<io::Result<Bytes>>,
    current: Bytes,
    url: String,
    /// The object's size, as listed, and the bytes received so far.
    expected: u64,
    received: u64,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.received += self.current.len() as u64;
                }
                // The fetching thread is done: the end, unless it ended early.
                Err(_) if self.received == self.expected => return Ok(0),
                Err(_) => {
                    return Err(io::Error::other(format!(
                        "{}: reading from the store stopped after {} of {} bytes",
                        self.url, self.received, self.expected
                    )));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}
