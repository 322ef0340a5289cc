//! Moving folders and files between this machine and a store: [`OutputDir`] (a dataset or a
//! report built locally, then uploaded with `manifest.json` last), [`LocalDatasets`] (datasets in a
//! store, downloaded to a local folder first, for commands that read them with local-only code)
//! and [`upload_file`].

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bibflow_datasets::manifest::Manifest;

use url::Url;

use super::{Location, RemoteDir, StoreRegistry};
use crate::error::{EngineError, Result};

/// Uploads the local file `from` to the store URL `to`.
pub async fn upload_file(from: &Path, to: &Url) -> Result<()> {
    let (parent, name) = split_url(to)?;
    let registry = StoreRegistry::new();
    RemoteDir::open(&parent, &registry)?
        .upload(from, &name)
        .await
}

/// The folder URL and the file name of a file URL.
fn split_url(url: &Url) -> Result<(Url, String)> {
    let path = url.path();
    let Some((dir, name)) = path.rsplit_once('/').filter(|(_, n)| !n.is_empty()) else {
        return Err(EngineError::Usage(format!(
            "{url}: names a folder, not a file"
        )));
    };
    let mut parent = url.clone();
    parent.set_path(&format!("{dir}/"));
    Ok((parent, name.to_string()))
}

/// Where a command writes a folder (a dataset or a report): the local folder itself, or, for a
/// store URL, a local folder to build in that [`OutputDir::finish`] uploads.
#[derive(Debug)]
pub struct OutputDir {
    target: Location,
    /// The folder to build in, removed with this value.
    staging: Option<tempfile::TempDir>,
}

impl OutputDir {
    /// An output at `target`. For a URL, the folder to build in is made in `BIBFLOW_STAGING_DIR`
    /// if set, else the system's temporary folder: it must hold the whole output.
    pub fn new(target: &Path) -> Result<Self> {
        let target = Location::from_path(target)?;
        let staging = match &target {
            Location::Local(_) => None,
            Location::Url(_) => Some(staging_folder(".bibflow-upload-")?),
        };
        Ok(Self { target, staging })
    }

    /// The local folder the command writes: the output itself, or the one to upload. For a URL
    /// this names a folder inside the staging folder that does not exist yet.
    pub fn local(&self) -> PathBuf {
        match (&self.target, &self.staging) {
            (Location::Local(p), _) => p.clone(),
            (Location::Url(_), Some(t)) => t.path().join("out"),
            (Location::Url(_), None) => unreachable!("a URL output always has a staging folder"),
        }
    }

    /// Where the output goes.
    pub fn target(&self) -> &Location {
        &self.target
    }

    /// Fails early, before any work, when the output is a store dataset that exists and
    /// `overwrite` is false, or when the store cannot be reached.
    pub async fn check_dataset_target(&self, overwrite: bool) -> Result<()> {
        let Location::Url(url) = &self.target else {
            return Ok(());
        };
        let dir = RemoteDir::open(url, &StoreRegistry::new())?;
        let exists = dir
            .get(bibflow_datasets::manifest::MANIFEST_FILE)
            .await?
            .is_some();
        if exists && !overwrite {
            return Err(EngineError::AlreadyExists {
                path: PathBuf::from(url.as_str()),
            });
        }
        Ok(())
    }

    /// Fails when the store dataset's `manifest.json` is no longer `manifest` (the bytes read
    /// when the command started): another run replaced the dataset meanwhile. Nothing for a
    /// local output.
    pub async fn check_unchanged(&self, manifest: &[u8]) -> Result<()> {
        let Location::Url(url) = &self.target else {
            return Ok(());
        };
        let dir = RemoteDir::open(url, &StoreRegistry::new())?;
        let now = dir.get(bibflow_datasets::manifest::MANIFEST_FILE).await?;
        if now.as_deref() != Some(manifest) {
            return Err(EngineError::Usage(format!(
                "{url} was replaced by another run while this one worked; nothing was written, \
                 run it again"
            )));
        }
        Ok(())
    }

    /// Publishes the dataset built in [`local`](Self::local) to the store: every file under a
    /// new name, then the manifest listing them, then the old dataset's files are deleted.
    /// Nothing for a local output. Returns the number of files uploaded.
    pub async fn publish_dataset(&self, overwrite: bool) -> Result<usize> {
        let Location::Url(url) = &self.target else {
            return Ok(0);
        };
        self.check_dataset_target(overwrite).await?;
        let dir = RemoteDir::open(url, &StoreRegistry::new())?;
        let old: Option<Manifest> = match dir.get(bibflow_datasets::manifest::MANIFEST_FILE).await?
        {
            Some(b) => serde_json::from_slice(&b).ok(),
            None => None,
        };
        let local = self.local();
        let mut manifest = Manifest::read(&local)?;
        let run = format!(
            "{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%3f"),
            std::process::id()
        );
        let mut uploaded = 0;
        let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for rel in local_files(&local)? {
            if rel == bibflow_datasets::manifest::MANIFEST_FILE {
                continue;
            }
            // `table/part-00000.parquet` -> `table/RUN-part-00000.parquet`: new names, so the
            // old dataset's files stay readable until the new manifest replaces the old one.
            let folder = rel.split_once('/').map_or("", |(f, _)| f);
            let key = match rel.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/{run}-{name}"),
                None => format!("{run}-{rel}"),
            };
            dir.upload(&local.join(&rel), &key).await?;
            uploaded += 1;
            files.entry(folder.to_string()).or_default().push(key);
        }
        manifest.files = files.into_iter().filter(|(t, _)| !t.is_empty()).collect();
        let text = serde_json::to_string_pretty(&manifest)
            .map_err(|e| EngineError::Usage(e.to_string()))?;
        dir.put(
            bibflow_datasets::manifest::MANIFEST_FILE,
            (text + "\n").into_bytes(),
        )
        .await?;
        if let Some(old) = old {
            let keep: BTreeSet<&String> = manifest.files.values().flatten().collect();
            for f in old.files.values().flatten() {
                if !keep.contains(f) {
                    dir.delete(f).await?;
                }
            }
        }
        Ok(uploaded)
    }

    /// Uploads the folder built in [`local`](Self::local) (a report) to the store, `index.html`
    /// last, so that a reader who finds the index finds what it links to. Nothing for a local
    /// output. Returns the number of files uploaded.
    pub async fn upload_folder(&self) -> Result<usize> {
        let Location::Url(url) = &self.target else {
            return Ok(0);
        };
        let dir = RemoteDir::open(url, &StoreRegistry::new())?;
        let local = self.local();
        let mut rels = local_files(&local)?;
        rels.sort_by_key(|r| (r == "index.html", r.clone()));
        for rel in &rels {
            dir.upload(&local.join(rel), rel).await?;
        }
        Ok(rels.len())
    }
}

/// Datasets a command was given, as local folders: a local dataset as it is, a dataset in a
/// store downloaded into a folder in `BIBFLOW_STAGING_DIR` (else the system's temporary folder)
/// that is removed with this value. Raw inputs in a store are not downloaded: they are streamed
/// ([`super::input_roots`]).
#[derive(Debug)]
pub struct LocalDatasets {
    paths: Vec<PathBuf>,
    /// For each dataset in a store, its `manifest.json` as it was read (`None`: a local one).
    store_manifests: Vec<Option<Vec<u8>>>,
    _staging: Option<tempfile::TempDir>,
}

impl LocalDatasets {
    /// Datasets named by `args` (local folders or store URLs) as local folders: a dataset in a
    /// store is downloaded first, its manifest and the files the manifest lists (every file of
    /// its table folders when the manifest lists none), into a folder removed with this value.
    /// The copy is a local dataset: its files keep the names they had before upload, and its
    /// manifest lists none. For commands that read or rewrite whole datasets with local-only
    /// code (`link`, `ingest --update`).
    pub async fn fetch(args: &[&Path], mut on_download: impl FnMut(&Url)) -> Result<Self> {
        let mut paths = Vec::with_capacity(args.len());
        let mut store_manifests = Vec::with_capacity(args.len());
        let mut staging: Option<tempfile::TempDir> = None;
        for (i, arg) in args.iter().enumerate() {
            let url = match Location::from_path(arg)? {
                Location::Local(p) => {
                    paths.push(p);
                    store_manifests.push(None);
                    continue;
                }
                Location::Url(url) => url,
            };
            on_download(&url);
            if staging.is_none() {
                staging = Some(staging_folder(".bibflow-inputs-")?);
            }
            let root = staging
                .as_ref()
                .map(|t| t.path().join(format!("dataset-{i}")))
                .unwrap_or_default();
            let registry = StoreRegistry::new();
            let dir = RemoteDir::open(&url, &registry)?;
            let manifest_file = bibflow_datasets::manifest::MANIFEST_FILE;
            let Some(bytes) = dir.get(manifest_file).await? else {
                return Err(EngineError::NotADataset {
                    path: PathBuf::from(url.as_str()),
                    reason: "it has no manifest.json".into(),
                });
            };
            let mut manifest: Manifest =
                serde_json::from_slice(&bytes).map_err(|e| EngineError::NotADataset {
                    path: PathBuf::from(url.as_str()),
                    reason: format!("manifest.json does not parse: {e}"),
                })?;
            let files: Vec<String> = if manifest.files.is_empty() {
                dir.list_all().await?
            } else {
                manifest.files.values().flatten().cloned().collect()
            };
            for rel in files.iter().filter(|f| f.as_str() != manifest_file) {
                dir.download(rel, &root.join(local_name(rel))).await?;
            }
            std::fs::create_dir_all(&root).map_err(|e| EngineError::io(&root, e))?;
            manifest.files.clear();
            manifest.write(&root)?;
            paths.push(root);
            store_manifests.push(Some(bytes.to_vec()));
        }
        Ok(Self {
            paths,
            store_manifests,
            _staging: staging,
        })
    }

    /// The `manifest.json` of the `i`-th dataset as read from its store (`None`: a local one).
    pub fn store_manifest(&self, i: usize) -> Option<&[u8]> {
        self.store_manifests.get(i)?.as_deref()
    }

    /// The local paths to read, in the order given.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }
}

/// The path a dataset file uploaded as `rel` had before upload: the `RUN-` prefix
/// [`OutputDir::publish_dataset`] gives file names (`YYYYMMDDTHHMMSSmmm-PID-`) taken off.
fn local_name(rel: &str) -> String {
    let (dir, name) = rel.rsplit_once('/').map_or(("", rel), |(d, n)| (d, n));
    let mut parts = name.splitn(3, '-');
    let (Some(time), Some(pid), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return rel.to_string();
    };
    let is_time = time.len() == 18
        && time
            .char_indices()
            .all(|(i, c)| if i == 8 { c == 'T' } else { c.is_ascii_digit() });
    let is_pid = !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit());
    match (is_time && is_pid && !rest.is_empty(), dir.is_empty()) {
        (false, _) => rel.to_string(),
        (true, true) => rest.to_string(),
        (true, false) => format!("{dir}/{rest}"),
    }
}

/// A new folder in `BIBFLOW_STAGING_DIR`, else in the system's temporary folder.
fn staging_folder(prefix: &str) -> Result<tempfile::TempDir> {
    let base = std::env::var_os("BIBFLOW_STAGING_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&base).map_err(|e| EngineError::io(&base, e))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(&base)
        .map_err(|e| EngineError::io(&base, e))
}

/// Every file under `root`, as `/`-separated paths relative to it, sorted.
fn local_files(root: &Path) -> Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in std::fs::read_dir(dir).map_err(|e| EngineError::io(dir, e))? {
            let path = entry.map_err(|e| EngineError::io(dir, e))?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(root, root, &mut out)?;
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_names_lose_their_run_prefix_only() {
        assert_eq!(
            local_name("works/20261208T022746123-4242-part-00000.parquet"),
            "works/part-00000.parquet"
        );
        assert_eq!(
            local_name("_rejects/warnings/20261208T022746123-7-file-a.jsonl"),
            "_rejects/warnings/file-a.jsonl"
        );
        // Not a run prefix: kept as it is.
        for rel in [
            "works/part-00000.parquet",
            "works/2026-01-01-x.parquet",
            "20261208T022746123-x-y",
            "20261208T022746123-12-",
        ] {
            assert_eq!(local_name(rel), rel);
        }
    }

    #[test]
    fn a_file_url_splits_into_folder_and_name() {
        let (dir, name) = split_url(&Url::parse("s3://b/out/result.parquet").unwrap()).unwrap();
        assert_eq!(dir.as_str(), "s3://b/out/");
        assert_eq!(name, "result.parquet");
        assert!(split_url(&Url::parse("s3://b/out/").unwrap()).is_err());
    }
}
