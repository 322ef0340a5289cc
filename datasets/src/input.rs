//! Finding input files and reading them: directory walking, the OpenAlex snapshot layouts (the
//! pre-2026 `works/updated_date=.../part_NNN.gz` with a `manifest` per entity, and the 2026
//! `jsonl|parquet/works/updated_date=.../part_NNNN.*` with one `manifest.json` per format),
//! transparent gzip, and byte counting/hashing for progress and the manifest.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::{DatasetError, Result};
use crate::schema::EntityTable;

/// One raw input file, in the order in which files are applied (later versions win).
#[derive(Clone)]
pub struct InputFile {
    /// The file's path, or for an object in a store its URL (`s3://bucket/key`), which names it
    /// in every message and in the manifest.
    pub path: PathBuf,
    pub size: u64,
    /// The `updated_date=YYYY-MM-DD` partition the file sits in, for snapshot layouts.
    pub snapshot_date: Option<String>,
    /// How to read the file when it is an object in a store (`None`: a local file).
    pub remote: Option<Remote>,
}

impl std::fmt::Debug for InputFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputFile")
            .field("path", &self.path)
            .field("size", &self.size)
            .field("snapshot_date", &self.snapshot_date)
            .field("remote", &self.remote.is_some())
            .finish()
    }
}

/// Two input files are the same file when they have the same path (or URL), size and partition.
impl PartialEq for InputFile {
    fn eq(&self, other: &Self) -> bool {
        (&self.path, self.size, &self.snapshot_date)
            == (&other.path, other.size, &other.snapshot_date)
            && self.remote.is_some() == other.remote.is_some()
    }
}

impl Eq for InputFile {}

impl InputFile {
    /// A local file.
    pub fn local(path: PathBuf, size: u64) -> Self {
        let snapshot_date = snapshot_date(&path);
        Self {
            path,
            size,
            snapshot_date,
            remote: None,
        }
    }

    /// Opens the file for reading (streamed from its store when it is remote), detecting gzip
    /// by its magic bytes, counting raw bytes into `progress`.
    pub fn open(&self, progress: Option<Arc<AtomicU64>>) -> Result<OpenedInput> {
        match &self.remote {
            None => open(&self.path, progress),
            Some(r) => {
                let raw = r
                    .open(&self.path, self.size)
                    .map_err(|e| DatasetError::io(&self.path, e))?;
                open_reader(&self.path, raw, progress)
            }
        }
    }

    /// The whole file as text (a snapshot manifest).
    pub fn read_to_string(&self) -> Result<String> {
        let mut text = String::new();
        self.open(None)?
            .reader
            .read_to_string(&mut text)
            .map_err(|e| DatasetError::io(&self.path, e))?;
        Ok(text)
    }

    /// The file on this machine, for readers that need to seek (Parquet): the file itself, or
    /// for a remote one a copy in the system's temporary folder, removed with the value.
    pub fn local_copy(&self) -> Result<LocalCopy> {
        let Some(r) = &self.remote else {
            return Ok(LocalCopy {
                path: self.path.clone(),
                _temp: None,
            });
        };
        let temp = tempfile::Builder::new()
            .prefix(".bibflow-input-")
            .tempfile()
            .map_err(|e| DatasetError::io(std::env::temp_dir(), e))?;
        let mut from = r
            .open(&self.path, self.size)
            .map_err(|e| DatasetError::io(&self.path, e))?;
        let mut to = io::BufWriter::new(temp.as_file());
        io::copy(&mut from, &mut to).map_err(|e| DatasetError::io(&self.path, e))?;
        io::Write::flush(&mut to).map_err(|e| DatasetError::io(temp.path(), e))?;
        drop(to);
        Ok(LocalCopy {
            path: temp.path().to_path_buf(),
            _temp: Some(temp),
        })
    }
}

/// A raw input on this machine ([`InputFile::local_copy`]).
#[derive(Debug)]
pub struct LocalCopy {
    /// Where to read it.
    pub path: PathBuf,
    _temp: Option<tempfile::NamedTempFile>,
}

/// Reads raw input files that are objects in a store, streamed in order without a local copy.
/// The engine provides one for each store URL given as input ([`Root::Remote`]).
pub trait RemoteReader: Send + Sync {
    /// A reader of the whole object at `url` (a URL held in a path), `size` bytes long.
    fn open(&self, url: &Path, size: u64) -> io::Result<Box<dyn Read + Send>>;
}

/// A shared [`RemoteReader`].
pub type Remote = Arc<dyn RemoteReader>;

/// A file or folder given as input: on this machine, or in a store.
#[derive(Clone)]
pub enum Root {
    Local(PathBuf),
    Remote(RemoteRoot),
}

/// An input URL in a store, as listed by the engine: a file, or a folder (a snapshot prefix) with
/// every object under it.
#[derive(Clone)]
pub struct RemoteRoot {
    /// The URL given, held in a path (`s3://bucket/prefix`, no trailing `/`).
    pub url: PathBuf,
    /// True when the URL names one object rather than a folder.
    pub is_file: bool,
    /// The objects under the folder (or the one object): URL and size.
    pub objects: Vec<(PathBuf, u64)>,
    /// For a folder named `works` (or another entity's): the format prefix's `manifest.json`
    /// beside it, when there is one, with its size.
    pub combined_manifest: Option<(PathBuf, u64)>,
    pub reader: Remote,
}

impl Root {
    /// The path or URL, as given.
    pub fn display(&self) -> String {
        match self {
            Root::Local(p) => p.display().to_string(),
            Root::Remote(r) => r.url.display().to_string(),
        }
    }
}

impl std::fmt::Debug for RemoteRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteRoot")
            .field("url", &self.url)
            .field("is_file", &self.is_file)
            .field("objects", &self.objects.len())
            .field("combined_manifest", &self.combined_manifest)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.display())
    }
}

/// A part file of another OpenAlex entity than works that bibflow reads into its own table
/// (`authors/updated_date=.../part_0000.gz` -> [`EntityTable::Authors`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityFile {
    pub entity: EntityTable,
    pub file: InputFile,
}

/// Inputs found under the paths given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Record files, sorted by (snapshot date, path).
    pub files: Vec<InputFile>,
    /// OpenAlex `merged_ids/works/*.csv(.gz)` files found beside a snapshot.
    pub merged_ids: Vec<InputFile>,
    /// Snapshot manifests found: a pre-2026 entity's `manifest`, a 2026 format prefix's combined
    /// `manifest.json` (record counts are checked against them).
    pub manifests: Vec<InputFile>,
    /// Part files of the OpenAlex entities bibflow reads besides works ([`crate::schema::ENTITY_TABLES`]), sorted
    /// by (entity, snapshot date, path).
    pub entity_files: Vec<EntityFile>,
    /// Files of other OpenAlex entities (`awards/updated_date=.../part_0000.gz`, ...) found in a
    /// snapshot and not read, counted per entity folder.
    pub skipped_entities: BTreeMap<String, u64>,
    /// Set by an incremental update to the `updated_date` partitions it reads: the snapshot
    /// manifests' entries of other partitions are then not checked (`None`: every entry is).
    pub only_partitions: Option<std::collections::BTreeSet<String>>,
}

/// The entity folders of an OpenAlex snapshot other than `works` (2026 and earlier): their part
/// files are not works. Those of [`ENTITY_TABLES`] are read into their own tables
/// ([`Inputs::entity_files`]); a snapshot walk leaves the others out (counted in
/// [`Inputs::skipped_entities`]).
pub const OTHER_OPENALEX_ENTITIES: &[&str] = &[
    "authors",
    "awards",
    "concepts",
    "continents",
    "countries",
    "domains",
    "fields",
    "funders",
    "institution-types",
    "institutions",
    "keywords",
    "languages",
    "licenses",
    "publishers",
    "sdgs",
    "source-types",
    "sources",
    "subfields",
    "topics",
    "venues",
    "work-types",
];

/// The file name of a 2026 snapshot's combined manifest, one per format prefix (`data/jsonl/`,
/// `data/parquet/`).
pub const COMBINED_MANIFEST: &str = "manifest.json";

/// Walks `paths` (files or folders, recursively) and classifies what it finds.
///
/// Hidden files and folders are skipped; inside folders only files whose names look like records
/// (`.json`, `.jsonl`, `.ndjson`, `.gz`, ...) are taken, while a file named on the command line is
/// always taken.
pub fn discover(paths: &[PathBuf], record_extensions: &[&str]) -> Result<Inputs> {
    let roots: Vec<Root> = paths.iter().cloned().map(Root::Local).collect();
    discover_roots(&roots, record_extensions)
}

/// [`discover`] for inputs on this machine and in stores: a store folder's listing is classified
/// as a local folder's walk is, and its files are read from the store when staged.
pub fn discover_roots(roots: &[Root], record_extensions: &[&str]) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    for root in roots {
        match root {
            Root::Local(p) => discover_local(p, record_extensions, &mut inputs)?,
            Root::Remote(r) => discover_remote(r, record_extensions, &mut inputs),
        }
    }
    if inputs.files.is_empty() && inputs.entity_files.is_empty() {
        let skipped: u64 = inputs.skipped_entities.values().sum();
        let others = if skipped > 0 {
            format!(
                "; {skipped} files of other OpenAlex entities ({}) are not works",
                entity_list(&inputs.skipped_entities)
            )
        } else {
            String::new()
        };
        return Err(DatasetError::BadInput {
            path: roots
                .first()
                .map(|r| PathBuf::from(r.display()))
                .unwrap_or_default(),
            reason: format!(
                "no input files found (looked for {}){others}",
                record_extensions.join(", ")
            ),
        });
    }
    let key = |f: &InputFile| (f.snapshot_date.clone(), f.path.clone());
    inputs.files.sort_by_key(key);
    inputs.files.dedup_by(|a, b| a.path == b.path);
    inputs.merged_ids.sort_by(|a, b| a.path.cmp(&b.path));
    inputs.entity_files.sort_by(|a, b| {
        (a.entity, &a.file.snapshot_date, &a.file.path).cmp(&(
            b.entity,
            &b.file.snapshot_date,
            &b.file.path,
        ))
    });
    inputs
        .entity_files
        .dedup_by(|a, b| a.file.path == b.file.path);
    Ok(inputs)
}

fn discover_local(p: &Path, exts: &[&str], inputs: &mut Inputs) -> Result<()> {
    let meta = std::fs::metadata(p).map_err(|e| DatasetError::io(p, e))?;
    if meta.is_dir() {
        walk(p, exts, inputs)?;
        // `data/jsonl/works/` (or `authors/`, ...) of a 2026 snapshot: its manifest is the
        // format prefix's.
        let combined = p.parent().map(|d| d.join(COMBINED_MANIFEST));
        if is_entity_folder(p)
            && let Some(m) = combined.filter(|m| m.is_file())
        {
            let size = std::fs::metadata(&m).map_or(0, |m| m.len());
            add_manifest(inputs, InputFile::local(m, size));
        }
    } else {
        let file = InputFile::local(p.to_path_buf(), meta.len());
        classify(file, true, exts, &has_local_works, inputs);
    }
    Ok(())
}

/// A store folder's listing, classified as [`walk`] classifies a local folder.
fn discover_remote(root: &RemoteRoot, exts: &[&str], inputs: &mut Inputs) {
    let file = |path: &Path, size: u64| InputFile {
        remote: Some(root.reader.clone()),
        ..InputFile::local(path.to_path_buf(), size)
    };
    // A `works/` folder is there when some object is under it.
    let has_works = |d: &Path| {
        let works = d.join("works");
        root.objects.iter().any(|(p, _)| p.starts_with(&works))
    };
    let mut objects: Vec<&(PathBuf, u64)> = root.objects.iter().collect();
    objects.sort();
    for (path, size) in objects {
        let hidden = path.strip_prefix(&root.url).is_ok_and(|rel| {
            rel.components()
                .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
        });
        if !hidden {
            classify(file(path, *size), root.is_file, exts, &has_works, inputs);
        }
    }
    if !root.is_file
        && let Some((m, size)) = &root.combined_manifest
    {
        add_manifest(inputs, file(m, *size));
    }
}

/// `works/` or the folder of another entity bibflow reads: pointed at one, the format prefix's
/// combined `manifest.json` beside it is read too.
pub fn is_entity_folder(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "works" || EntityTable::from_name(n).is_some())
}

/// A `works/` folder is in the local folder `dir`.
fn has_local_works(dir: &Path) -> bool {
    dir.join("works").is_dir()
}

fn add_manifest(inputs: &mut Inputs, m: InputFile) {
    if !inputs.manifests.iter().any(|f| f.path == m.path) {
        inputs.manifests.push(m);
    }
}

fn walk(dir: &Path, exts: &[&str], inputs: &mut Inputs) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| DatasetError::io(dir, e))?
        .collect::<io::Result<_>>()
        .map_err(|e| DatasetError::io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        // Hidden entries only: OpenAlex and test suites use `_`-prefixed folders for real data.
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| DatasetError::io(&path, e))?;
        if meta.is_dir() {
            walk(&path, exts, inputs)?;
        } else {
            let file = InputFile::local(path, meta.len());
            classify(file, false, exts, &has_local_works, inputs);
        }
    }
    Ok(())
}

/// Files `file` among the inputs. `has_works(dir)`: a `works/` folder is in `dir`.
fn classify(
    mut file: InputFile,
    explicit: bool,
    exts: &[&str],
    has_works: &dyn Fn(&Path) -> bool,
    inputs: &mut Inputs,
) {
    let path = file.path.clone();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let in_merged = path.components().any(|c| c.as_os_str() == "merged_ids");
    if in_merged {
        let is_works = path
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|n| n == "works");
        if is_works && (name.ends_with(".csv") || name.ends_with(".csv.gz")) {
            file.snapshot_date = None;
            inputs.merged_ids.push(file);
        }
        return;
    }
    if let Some(entity) = other_entity(&path) {
        let read = EntityTable::from_name(&entity);
        let is_part = name != "manifest";
        match read {
            Some(entity) if is_part && (explicit || exts.iter().any(|e| name.ends_with(e))) => {
                inputs.entity_files.push(EntityFile { entity, file });
                return;
            }
            Some(_) => return,
            None if !explicit => {
                *inputs.skipped_entities.entry(entity).or_default() += 1;
                return;
            }
            None => {}
        }
    }
    // A `manifest.json` is a snapshot's only beside a `works/` folder (elsewhere it may be a work).
    let combined = name == COMBINED_MANIFEST && path.parent().is_some_and(has_works);
    if name == "manifest" || combined {
        add_manifest(inputs, file);
        return;
    }
    if explicit || exts.iter().any(|e| name.ends_with(e)) {
        inputs.files.push(file);
    }
}

/// The entity folder a snapshot file belongs to when it is not `works`:
/// `.../authors/updated_date=2026-01-01/part_0000.gz` and `.../authors/manifest` -> `authors`.
fn other_entity(path: &Path) -> Option<String> {
    let parent = path.parent()?;
    let parent_name = parent.file_name()?.to_str()?;
    let folder = if parent_name.starts_with("updated_date=") {
        parent.parent()?.file_name()?.to_str()?
    } else if path.file_name().is_some_and(|n| n == "manifest") {
        parent_name
    } else {
        return None;
    };
    OTHER_OPENALEX_ENTITIES
        .contains(&folder)
        .then(|| folder.to_string())
}

/// `authors: 3, institutions: 2`.
pub fn entity_list(counts: &BTreeMap<String, u64>) -> String {
    counts
        .iter()
        .map(|(e, n)| format!("{e}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `.../updated_date=2024-01-31/part_000.gz` -> `2024-01-31`.
pub fn snapshot_date(path: &Path) -> Option<String> {
    path.components().rev().find_map(|c| {
        c.as_os_str()
            .to_str()
            .and_then(|s| s.strip_prefix("updated_date="))
            .map(str::to_owned)
    })
}

/// Counts and hashes the raw (compressed) bytes of a file as they are read; at the end of the
/// file the digest is handed to `done`, where [`OpenedInput::sha256_hex`] finds it.
struct CountingReader<R> {
    inner: R,
    hasher: Sha256,
    read: Arc<AtomicU64>,
    progress: Option<Arc<AtomicU64>>,
    done: Arc<std::sync::Mutex<Option<Sha256>>>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if let Ok(mut done) = self.done.lock() {
                *done = Some(std::mem::take(&mut self.hasher));
            }
            return Ok(0);
        }
        self.hasher.update(&buf[..n]);
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        if let Some(p) = &self.progress {
            p.fetch_add(n as u64, Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// An open input: decompressed lines, plus what is needed to report where an error happened.
pub struct OpenedInput {
    pub reader: Box<dyn BufRead + Send>,
    /// Raw bytes consumed so far: the compressed offset when a gzip stream breaks.
    pub raw_read: Arc<AtomicU64>,
    pub gzip: bool,
    hasher_slot: Arc<std::sync::Mutex<Option<Sha256>>>,
}

impl std::fmt::Debug for OpenedInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedInput")
            .field("raw_read", &self.raw_read)
            .field("gzip", &self.gzip)
            .finish_non_exhaustive()
    }
}

impl OpenedInput {
    /// The SHA-256 of the raw bytes read so far, as hex. Call after reading to the end.
    pub fn sha256_hex(&self) -> Option<String> {
        let h = self.hasher_slot.lock().ok()?.take()?;
        Some(hex(&h.finalize()))
    }
}

/// Opens a file, detecting gzip by its magic bytes, counting raw bytes into `progress`.
pub fn open(path: &Path, progress: Option<Arc<AtomicU64>>) -> Result<OpenedInput> {
    let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
    open_reader(path, Box::new(file), progress)
}

/// [`open`] for the raw bytes of the file `path` read from `file`.
fn open_reader(
    path: &Path,
    mut file: Box<dyn Read + Send>,
    progress: Option<Arc<AtomicU64>>,
) -> Result<OpenedInput> {
    let mut magic = [0u8; 2];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| DatasetError::io(path, e))?;
    let gzip = n == 2 && magic == [0x1f, 0x8b];
    let head = io::Cursor::new(magic[..n].to_vec());
    let raw_read = Arc::new(AtomicU64::new(0));
    let slot = Arc::new(std::sync::Mutex::new(None));
    let counted = CountingReader {
        inner: head.chain(file),
        hasher: Sha256::new(),
        read: raw_read.clone(),
        progress,
        done: slot.clone(),
    };
    let reader: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, counted)),
        ))
    } else {
        Box::new(BufReader::with_capacity(256 * 1024, counted))
    };
    Ok(OpenedInput {
        reader,
        raw_read,
        gzip,
        hasher_slot: slot,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_2026_snapshot_takes_works_entities_and_the_combined_manifest_and_counts_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let jsonl = dir.path().join("data/jsonl");
        let files = [
            "manifest.json",
            "works/updated_date=2026-01-01/part_0000.gz",
            "works/updated_date=2026-01-02/part_0000.gz",
            "authors/updated_date=2026-01-02/part_0000.gz",
            "authors/updated_date=2026-01-01/part_0001.gz",
            "institutions/updated_date=2026-01-01/part_0000.gz",
            "awards/updated_date=2026-01-01/part_0000.gz",
            "awards/updated_date=2026-01-01/part_0001.gz",
            "concepts/updated_date=2026-01-01/part_0000.gz",
        ];
        for f in files {
            let p = jsonl.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"{}").unwrap();
        }
        let exts = [".gz", ".json"];
        let found = discover(std::slice::from_ref(&jsonl), &exts).unwrap();
        let names: Vec<_> = found
            .files
            .iter()
            .map(|f| f.path.strip_prefix(&jsonl).unwrap().to_path_buf())
            .collect();
        assert_eq!(names, [PathBuf::from(files[1]), PathBuf::from(files[2]),]);
        assert_eq!(found.manifests[0].path, jsonl.join("manifest.json"));
        assert_eq!(found.manifests.len(), 1);
        // Entities bibflow reads, by entity, then partition date.
        let entities: Vec<_> = found
            .entity_files
            .iter()
            .map(|f| {
                (
                    f.entity,
                    f.file.path.strip_prefix(&jsonl).unwrap().to_path_buf(),
                )
            })
            .collect();
        assert_eq!(
            entities,
            [
                (EntityTable::Authors, PathBuf::from(files[4])),
                (EntityTable::Authors, PathBuf::from(files[3])),
                (EntityTable::Institutions, PathBuf::from(files[5])),
            ]
        );
        assert_eq!(
            found.entity_files[0].file.snapshot_date.as_deref(),
            Some("2026-01-01")
        );
        assert_eq!(
            entity_list(&found.skipped_entities),
            "awards: 2, concepts: 1"
        );
        // Pointed at `works/`, the format prefix's manifest is still found.
        let works = discover(&[jsonl.join("works")], &exts).unwrap();
        assert_eq!(works.files.len(), 2);
        assert_eq!(works.manifests[0].path, jsonl.join("manifest.json"));
        assert_eq!(works.manifests.len(), 1);
        assert!(works.skipped_entities.is_empty() && works.entity_files.is_empty());
        // Pointed at one entity bibflow reads: its parts and the prefix's manifest.
        let authors = discover(&[jsonl.join("authors")], &exts).unwrap();
        assert!(authors.files.is_empty());
        assert_eq!(authors.entity_files.len(), 2);
        assert_eq!(authors.manifests[0].path, jsonl.join("manifest.json"));
        assert_eq!(authors.manifests.len(), 1);
        // Pointed at an entity it does not read only: nothing to read, and the error says why.
        let err = discover(&[jsonl.join("awards")], &exts).unwrap_err();
        assert!(
            err.to_string()
                .contains("2 files of other OpenAlex entities (awards: 2)"),
            "{err}"
        );
    }

    #[test]
    fn snapshot_dates() {
        let p = Path::new("/x/works/updated_date=2024-01-31/part_000.gz");
        assert_eq!(snapshot_date(p).as_deref(), Some("2024-01-31"));
        assert_eq!(snapshot_date(Path::new("/x/a.json")), None);
    }

    /// SHA-256 of a whole file, read in one go: the reference for the streamed digest.
    fn sha256_file(path: &Path) -> Result<String> {
        let mut f = File::open(path).map_err(|e| DatasetError::io(path, e))?;
        let mut h = Sha256::new();
        io::copy(&mut f, &mut h).map_err(|e| DatasetError::io(path, e))?;
        Ok(hex(&h.finalize()))
    }

    #[test]
    fn reads_plain_and_gzip_with_the_same_hash_of_raw_bytes() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.jsonl");
        std::fs::write(&plain, b"{}\n").unwrap();
        let gz = dir.path().join("a.jsonl.gz");
        let mut enc = flate2::write::GzEncoder::new(
            File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(b"{}\n").unwrap();
        enc.finish().unwrap();
        for p in [&plain, &gz] {
            let mut o = open(p, None).unwrap();
            let mut s = String::new();
            o.reader.read_to_string(&mut s).unwrap();
            assert_eq!(s, "{}\n");
            assert_eq!(o.sha256_hex().unwrap(), sha256_file(p).unwrap());
        }
    }
}
