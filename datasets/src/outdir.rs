//! Writing a folder (a dataset, a report) so that it appears whole or not at all, one writer at a
//! time, and so that what a killed run left behind is cleaned up by the next one.
//!
//! A run that writes `DIR/NAME` ([`Staging::begin`]):
//!
//! 1. locks `DIR/.NAME.bibflow-lock` (an advisory `flock`, released by the kernel however the run
//!    ends, SIGKILL included): a second writer to `DIR/NAME` fails at once with
//!    [`DatasetError::Busy`] instead of mixing its files with the first one's;
//! 2. removes the staging folders beside `DIR/NAME` that belong to runs no longer alive
//!    ([`Cleanup`], returned to the caller to report);
//! 3. builds in `DIR/.NAME.bibflow-staging-PID`, which holds a file `.bibflow-owner` locked for the
//!    life of the run: a staging folder whose owner lock can be taken belongs to a dead run, even
//!    if its PID has been reused since;
//! 4. publishes ([`Staging::publish`]): an earlier `DIR/NAME` is renamed into the staging folder,
//!    the new folder renamed to `DIR/NAME`, then the staging folder (with the earlier one) removed.
//!
//! A run killed between the two renames of step 4 leaves `DIR/NAME` missing and the earlier folder
//! in its staging folder: the next run beside it renames it back before removing the rest.
//!
//! The lock is a lock on the file `DIR/.NAME.bibflow-lock`, which the holder removes when done; a
//! run that finds the file replaced after it locked it tries again, so two runs never both hold it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{DatasetError, Result};

/// What marks a staging folder: `.NAME.bibflow-staging-PID`.
pub const STAGING_MARK: &str = ".bibflow-staging-";
/// What marks a lock file: `.NAME.bibflow-lock`.
pub const LOCK_MARK: &str = ".bibflow-lock";
/// The file in a staging folder that its run keeps locked.
pub const OWNER_FILE: &str = ".bibflow-owner";
/// Where [`Staging::publish`] puts the earlier folder while it moves the new one into place.
pub const PREVIOUS_DIR: &str = ".previous";

/// Something a run found beside its output, left by a run that is no longer alive, and dealt with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cleanup {
    /// A staging folder of a dead run, removed.
    RemovedStaging { path: PathBuf },
    /// A run died while publishing, after moving the earlier folder aside and before moving the
    /// new one into place: the earlier folder was moved back.
    Restored { from: PathBuf, to: PathBuf },
}

impl std::fmt::Display for Cleanup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::RemovedStaging { path } => write!(
                f,
                "removed {}, left by a bibflow run that was killed",
                path.display()
            ),
            Self::Restored { from, to } => write!(
                f,
                "restored {} from {} (a bibflow run was killed while replacing it)",
                to.display(),
                from.display()
            ),
        }
    }
}

/// The lock on one output path, held while it is written; released (and its file removed) on drop.
#[derive(Debug)]
struct OutputLock {
    path: PathBuf,
    file: File,
}

impl OutputLock {
    /// The lock file of `out` (an absolute path).
    fn path_of(out: &Path) -> PathBuf {
        sibling(out, LOCK_MARK)
    }

    /// Takes the lock of `out`, or fails with [`DatasetError::Busy`] when another run holds it.
    fn acquire(out: &Path) -> Result<Self> {
        let path = Self::path_of(out);
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| DatasetError::write(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    return Err(DatasetError::Busy {
                        path: out.to_path_buf(),
                        holder: holder.trim().to_string(),
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(DatasetError::write(&path, e));
                }
            }
            // Its last holder may have removed the file between our open and our lock: then the
            // lock is on a file nobody else will open, and we try again with a new one.
            let ours = file.metadata().map_err(|e| DatasetError::write(&path, e))?;
            let current = std::fs::metadata(&path).ok();
            if current.is_some_and(|m| m.ino() == ours.ino() && m.dev() == ours.dev()) {
                let mut file = file;
                file.set_len(0)
                    .and_then(|()| write!(file, "pid {}", std::process::id()))
                    .map_err(|e| DatasetError::write(&path, e))?;
                return Ok(Self { path, file });
            }
        }
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still locked; the lock goes with `self.file` just after.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// A staging folder beside an output, locked for the life of this value and removed with it
/// unless [`published`](Self::publish).
#[derive(Debug)]
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    cleaned: Vec<Cleanup>,
    // Dropped after `dir` is removed (fields drop after `Drop::drop`): the owner lock, then the
    // output lock.
    _owner: File,
    _lock: OutputLock,
}

impl Staging {
    /// Locks `out`, removes what dead runs left beside it and makes this run's staging folder.
    /// Fails with [`DatasetError::Busy`] when another run is writing `out`.
    pub fn begin(out: &Path) -> Result<Self> {
        let out = std::path::absolute(out).map_err(|e| DatasetError::write(out, e))?;
        let parent = out.parent().unwrap_or(Path::new("/")).to_path_buf();
        std::fs::create_dir_all(&parent).map_err(|e| DatasetError::write(&parent, e))?;
        let lock = OutputLock::acquire(&out)?;
        let cleaned = clean_beside(&out)?;
        let dir = sibling(&out, &format!("{STAGING_MARK}{}", std::process::id()));
        // A folder with our PID is a dead run's (we are alive and have not made ours yet).
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| DatasetError::write(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| DatasetError::write(&dir, e))?;
        let owner_path = dir.join(OWNER_FILE);
        let mut owner =
            File::create(&owner_path).map_err(|e| DatasetError::write(&owner_path, e))?;
        owner
            .try_lock()
            .map_err(|e| DatasetError::write(&owner_path, std::io::Error::other(e.to_string())))?;
        write!(owner, "pid {}", std::process::id())
            .map_err(|e| DatasetError::write(&owner_path, e))?;
        Ok(Self {
            out,
            dir,
            cleaned,
            _owner: owner,
            _lock: lock,
        })
    }

    /// The staging folder: build the output in a folder inside it.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The output, as an absolute path.
    pub fn out(&self) -> &Path {
        &self.out
    }

    /// What [`begin`](Self::begin) cleaned up beside the output.
    pub fn cleaned(&self) -> &[Cleanup] {
        &self.cleaned
    }

    /// Moves `built` (a folder inside the staging folder) to the output. An existing output is
    /// replaced only when `replace` is true, else this fails with [`DatasetError::Exists`]; it is
    /// kept until the new folder is in place. Returns what [`begin`](Self::begin) cleaned up.
    pub fn publish(mut self, built: &Path, replace: bool) -> Result<Vec<Cleanup>> {
        let out = self.out.clone();
        if std::fs::symlink_metadata(&out).is_ok() {
            if !replace {
                return Err(DatasetError::Exists { path: out });
            }
            let previous = self.dir.join(PREVIOUS_DIR);
            std::fs::rename(&out, &previous).map_err(|e| DatasetError::write(&out, e))?;
            if let Err(e) = std::fs::rename(built, &out) {
                // Put the earlier folder back before failing.
                let _ = std::fs::rename(&previous, &out);
                return Err(DatasetError::write(&out, e));
            }
        } else {
            std::fs::rename(built, &out).map_err(|e| DatasetError::write(&out, e))?;
        }
        Ok(std::mem::take(&mut self.cleaned))
        // Drop removes the staging folder, with the earlier output in it.
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `DIR/.NAME<suffix>` for `out` = `DIR/NAME`.
fn sibling(out: &Path, suffix: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    out.with_file_name(format!(".{name}{suffix}"))
}

/// Removes the staging folders of dead runs beside `out` (whose lock the caller holds): those of
/// `out` itself, and those of other outputs in the same folder whose lock is free. Also removes
/// lock files left by dead runs.
pub fn clean_beside(out: &Path) -> Result<Vec<Cleanup>> {
    let parent = out.parent().unwrap_or(Path::new("/"));
    let own_name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(parent)
        .map_err(|e| DatasetError::io(parent, e))?
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
        .filter(|(n, _)| n.starts_with('.'))
        .collect();
    entries.sort();
    let mut cleaned = Vec::new();
    for (file_name, path) in entries {
        // `.NAME.bibflow-lock` of another output: taken and released (removing it) if free.
        if let Some(name) = file_name
            .strip_suffix(LOCK_MARK)
            .and_then(|s| s.strip_prefix('.'))
        {
            if name != own_name {
                drop(OutputLock::acquire(&parent.join(name)));
            }
            continue;
        }
        let Some((name, pid)) = file_name
            .strip_prefix('.')
            .and_then(|s| s.rsplit_once(STAGING_MARK))
        else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if !path.is_dir() || pid == std::process::id() && name == own_name {
            continue;
        }
        let target = parent.join(name);
        // The output's lock, so that no run of it is between its two renames while we look.
        let _lock = if name == own_name {
            None
        } else {
            match OutputLock::acquire(&target) {
                Ok(l) => Some(l),
                Err(_) => continue,
            }
        };
        // Held while the folder is removed, so that no other run removes it at the same time.
        let Some(_owner) = dead_owner(&path, pid) else {
            continue;
        };
        let previous = path.join(PREVIOUS_DIR);
        if previous.is_dir() && std::fs::symlink_metadata(&target).is_err() {
            std::fs::rename(&previous, &target).map_err(|e| DatasetError::write(&target, e))?;
            cleaned.push(Cleanup::Restored {
                from: previous,
                to: target,
            });
        }
        std::fs::remove_dir_all(&path).map_err(|e| DatasetError::write(&path, e))?;
        cleaned.push(Cleanup::RemovedStaging { path });
    }
    Ok(cleaned)
}

/// If the run that made staging folder `dir` (named with `pid`) is dead: its owner file, locked,
/// or a placeholder when it has none. `None` when the run is alive or that cannot be told.
fn dead_owner(dir: &Path, pid: u32) -> Option<Option<File>> {
    let owner = dir.join(OWNER_FILE);
    match OpenOptions::new().read(true).write(true).open(&owner) {
        Ok(f) => match f.try_lock() {
            Ok(()) => Some(Some(f)),
            Err(_) => None,
        },
        // No owner file: made by a run that was killed before it locked one (or by a bibflow
        // older than the owner file). Dead if no process has its PID; where /proc is missing,
        // alive (never remove what may be in use).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let proc = Path::new("/proc");
            (proc.join("self").exists() && !proc.join(pid.to_string()).exists()).then_some(None)
        }
        Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn publishes_replaces_and_leaves_nothing_beside() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("ds");
        let s = Staging::begin(&out).unwrap();
        let built = s.path().join("out");
        std::fs::create_dir(&built).unwrap();
        std::fs::write(built.join("a"), "1").unwrap();
        assert!(s.publish(&built, false).unwrap().is_empty());
        assert_eq!(std::fs::read_to_string(out.join("a")).unwrap(), "1");
        assert_eq!(names(tmp.path()), ["ds"]);

        let s = Staging::begin(&out).unwrap();
        let built = s.path().join("out");
        std::fs::create_dir(&built).unwrap();
        std::fs::write(built.join("b"), "2").unwrap();
        let err = Staging::publish(s, &built, false).unwrap_err();
        assert!(matches!(err, DatasetError::Exists { .. }), "{err}");
        assert_eq!(names(tmp.path()), ["ds"], "a failed publish leaves nothing");

        let s = Staging::begin(&out).unwrap();
        let built = s.path().join("out");
        std::fs::create_dir(&built).unwrap();
        std::fs::write(built.join("b"), "2").unwrap();
        s.publish(&built, true).unwrap();
        assert_eq!(names(&out), ["b"]);
        assert_eq!(names(tmp.path()), ["ds"]);
    }

    #[test]
    fn a_second_writer_is_refused_until_the_first_is_done() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("ds");
        let first = Staging::begin(&out).unwrap();
        let err = Staging::begin(&out).unwrap_err();
        assert!(matches!(err, DatasetError::Busy { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        // The first run's staging folder is alive: not cleaned by another output's run.
        let other = Staging::begin(&tmp.path().join("other")).unwrap();
        assert!(other.cleaned().is_empty());
        assert!(first.path().is_dir());
        drop(first);
        drop(other);
        assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
        drop(Staging::begin(&out).unwrap());
    }

    #[test]
    fn dead_runs_staging_is_removed_and_a_half_publish_undone() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("ds");
        // A dead run's folder: an unlocked owner file, a PID that may well be alive (reused).
        let dead = tmp.path().join(format!(".ds{STAGING_MARK}1"));
        std::fs::create_dir_all(dead.join(PREVIOUS_DIR)).unwrap();
        std::fs::write(dead.join(OWNER_FILE), "pid 1").unwrap();
        std::fs::write(dead.join(PREVIOUS_DIR).join("old"), "x").unwrap();
        // Another output's dead run, and an unrelated hidden folder that must stay.
        let other = tmp.path().join(format!(".other{STAGING_MARK}2"));
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(OWNER_FILE), "pid 2").unwrap();
        std::fs::create_dir(tmp.path().join(".keep")).unwrap();
        std::fs::write(tmp.path().join(format!(".other{LOCK_MARK}")), "pid 2").unwrap();

        let s = Staging::begin(&out).unwrap();
        let cleaned = s.cleaned().to_vec();
        assert_eq!(
            cleaned,
            [
                Cleanup::Restored {
                    from: dead.join(PREVIOUS_DIR),
                    to: out.clone()
                },
                Cleanup::RemovedStaging { path: dead.clone() },
                Cleanup::RemovedStaging {
                    path: other.clone()
                },
            ]
        );
        assert!(cleaned[0].to_string().contains("restored"));
        assert_eq!(std::fs::read_to_string(out.join("old")).unwrap(), "x");
        drop(s);
        assert_eq!(names(tmp.path()), [".keep", "ds"]);
    }
}
