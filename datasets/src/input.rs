//! Finding input files and reading them: directory walking, the OpenAlex snapshot layout,
//! transparent gzip, and byte counting/hashing for progress and the manifest.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use crate::error::{DatasetError, Result};

/// One raw input file, in the order in which files are applied (later versions win).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    pub path: PathBuf,
    pub size: u64,
    /// The `updated_date=YYYY-MM-DD` partition the file sits in, for snapshot layouts.
    pub snapshot_date: Option<String>,
}

/// Inputs found under the paths given on the command line.
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    /// Record files, sorted by (snapshot date, path).
    pub files: Vec<InputFile>,
    /// OpenAlex `merged_ids/works/*.csv(.gz)` files found beside a snapshot.
    pub merged_ids: Vec<InputFile>,
    /// Snapshot `manifest` files found (record counts are checked against them).
    pub manifests: Vec<PathBuf>,
}

/// Walks `paths` (files or folders, recursively) and classifies what it finds.
///
/// Hidden files and folders are skipped; inside folders only files whose names look like records
/// (`.json`, `.jsonl`, `.ndjson`, `.gz`, ...) are taken, while a file named on the command line is
/// always taken.
pub fn discover(paths: &[PathBuf], record_extensions: &[&str]) -> Result<Inputs> {
    let mut inputs = Inputs::default();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| DatasetError::io(p, e))?;
        if meta.is_dir() {
            walk(p, record_extensions, &mut inputs)?;
        } else {
            classify(p, meta.len(), true, record_extensions, &mut inputs);
        }
    }
    if inputs.files.is_empty() {
        return Err(DatasetError::BadInput {
            path: paths.first().cloned().unwrap_or_default(),
            reason: format!(
                "no input files found (looked for {})",
                record_extensions.join(", ")
            ),
        });
    }
    let key = |f: &InputFile| (f.snapshot_date.clone(), f.path.clone());
    inputs.files.sort_by_key(key);
    inputs.files.dedup_by(|a, b| a.path == b.path);
    inputs.merged_ids.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(inputs)
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
            classify(&path, meta.len(), false, exts, inputs);
        }
    }
    Ok(())
}

fn classify(path: &Path, size: u64, explicit: bool, exts: &[&str], inputs: &mut Inputs) {
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
            inputs.merged_ids.push(InputFile {
                path: path.to_path_buf(),
                size,
                snapshot_date: None,
            });
        }
        return;
    }
    if name == "manifest" {
        inputs.manifests.push(path.to_path_buf());
        return;
    }
    if explicit || exts.iter().any(|e| name.ends_with(e)) {
        inputs.files.push(InputFile {
            path: path.to_path_buf(),
            size,
            snapshot_date: snapshot_date(path),
        });
    }
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
    let mut file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
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
