//! The local checkpoint file: JSON, replaced atomically (write `PATH.tmp`, fsync, rename), held by
//! one process at a time through an OS lock on `PATH.lock` (the OS releases it when the process
//! dies, so a `kill -9` never leaves a stale lock). Progress is written at most every 250 ms
//! and at once when a segment ends or the run stops; a crash loses at most that much progress,
//! which a resume re-copies.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{progress_line, CheckpointError, Claim, CopyIdentity, SegmentRange, SegmentState};

/// The file's format version.
pub const FILE_FORMAT_VERSION: u32 = 1;
const KIND: &str = "holdfast-dynamo-copy-checkpoint";
const WRITE_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Debug, Serialize, Deserialize)]
struct Document {
    kind: String,
    format_version: u32,
    identity: CopyIdentity,
    segments: Vec<SegmentState>,
}

#[derive(Debug)]
struct Inner {
    doc: Document,
    claimed: HashSet<u32>,
    written_at: Instant,
    dirty: bool,
}

/// A checkpoint file held by this process.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    range: SegmentRange,
    inner: Mutex<Inner>,
    _lock: File,
}

impl FileStore {
    /// Opens (with `resume`) or creates the checkpoint at `path` for `identity`.
    ///
    /// # Errors
    /// [`CheckpointError`]: in use, exists without `resume`, missing with `resume`, foreign,
    /// unreadable.
    pub fn open(
        path: &Path,
        identity: &CopyIdentity,
        resume: bool,
        range: SegmentRange,
    ) -> Result<FileStore, CheckpointError> {
        let location = format!("checkpoint file {}", path.display());
        // Refused before anything (a folder, a lock file) is created.
        if resume && !path.exists() {
            return Err(CheckpointError::NothingToResume { location });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(|e| io(parent, &e))?;
        }
        let lock_path = with_suffix(path, ".lock");
        let mut lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| io(&lock_path, &e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = lock.read_to_string(&mut holder);
                return Err(CheckpointError::Busy {
                    location,
                    holder: if holder.trim().is_empty() {
                        "unknown process".into()
                    } else {
                        holder.trim().to_owned()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(&lock_path, &e)),
        }
        let _ = lock.set_len(0);
        let _ = write!(lock, "pid {}", std::process::id());

        let doc = match fs::read(path) {
            Ok(bytes) => {
                let doc: Document = serde_json::from_slice(&bytes).map_err(|e| {
                    CheckpointError::Corrupt(format!(
                        "{}: line {} column {}: not a holdfast copy checkpoint",
                        path.display(),
                        e.line(),
                        e.column()
                    ))
                })?;
                if doc.kind != KIND || doc.format_version != FILE_FORMAT_VERSION {
                    return Err(CheckpointError::Corrupt(format!(
                        "{}: not a holdfast copy checkpoint of format {FILE_FORMAT_VERSION}",
                        path.display()
                    )));
                }
                if let Some(why) = doc.identity.mismatch(identity) {
                    return Err(CheckpointError::Foreign { location, why });
                }
                if !resume {
                    return Err(CheckpointError::Exists {
                        location,
                        progress: progress_line(&doc.segments),
                    });
                }
                doc
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if resume {
                    return Err(CheckpointError::NothingToResume { location });
                }
                Document {
                    kind: KIND.into(),
                    format_version: FILE_FORMAT_VERSION,
                    identity: identity.clone(),
                    segments: (0..identity.total_segments)
                        .map(|segment| SegmentState {
                            segment,
                            ..SegmentState::default()
                        })
                        .collect(),
                }
            }
            Err(e) => return Err(io(path, &e)),
        };
        let store = FileStore {
            path: path.to_owned(),
            range,
            inner: Mutex::new(Inner {
                doc,
                claimed: HashSet::new(),
                written_at: Instant::now(),
                dirty: true,
            }),
            _lock: lock,
        };
        store.flush()?;
        Ok(store)
    }

    /// The file's path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(super) fn claim(&self) -> Option<Claim> {
        let mut inner = self.inner();
        let state = inner
            .doc
            .segments
            .iter()
            .find(|s| {
                !s.done && self.range.contains(s.segment) && !inner.claimed.contains(&s.segment)
            })?
            .clone();
        inner.claimed.insert(state.segment);
        Some(Claim { state, fence: 0 })
    }

    pub(super) fn save(&self, state: &SegmentState) -> Result<(), CheckpointError> {
        let mut inner = self.inner();
        if let Some(slot) = inner.doc.segments.get_mut(state.segment as usize) {
            *slot = state.clone();
        }
        inner.dirty = true;
        if state.done || inner.written_at.elapsed() >= WRITE_INTERVAL {
            self.write(&mut inner)?;
        }
        Ok(())
    }

    pub(super) fn flush(&self) -> Result<(), CheckpointError> {
        let mut inner = self.inner();
        if inner.dirty {
            self.write(&mut inner)?;
        }
        Ok(())
    }

    pub(super) fn states(&self) -> Vec<SegmentState> {
        self.inner().doc.segments.clone()
    }

    fn write(&self, inner: &mut Inner) -> Result<(), CheckpointError> {
        let tmp = with_suffix(&self.path, ".tmp");
        let bytes = serde_json::to_vec_pretty(&inner.doc)
            .map_err(|e| CheckpointError::Io(e.to_string()))?;
        let mut file = File::create(&tmp).map_err(|e| io(&tmp, &e))?;
        file.write_all(&bytes).map_err(|e| io(&tmp, &e))?;
        file.sync_all().map_err(|e| io(&tmp, &e))?;
        fs::rename(&tmp, &self.path).map_err(|e| io(&self.path, &e))?;
        inner.written_at = Instant::now();
        inner.dirty = false;
        Ok(())
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn io(path: &Path, e: &std::io::Error) -> CheckpointError {
    CheckpointError::Io(format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> CopyIdentity {
        CopyIdentity {
            source: "a".into(),
            target: "b".into(),
            transform_digest: None,
            total_segments: 3,
        }
    }

    #[test]
    fn create_resume_refuse_and_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/ckpt.json");
        let all = SegmentRange(0..3);
        let store = FileStore::open(&path, &identity(), false, all.clone()).unwrap();
        // A second holder is refused while the first holds it.
        let busy = FileStore::open(&path, &identity(), true, all.clone()).unwrap_err();
        assert!(matches!(busy, CheckpointError::Busy { .. }), "{busy}");
        let mut claim = store.claim().unwrap();
        assert_eq!(claim.state.segment, 0);
        claim.state.advance(None, 5, 5);
        store.save(&claim.state).unwrap();
        drop(store);

        let exists = FileStore::open(&path, &identity(), false, all.clone()).unwrap_err();
        assert!(
            exists
                .to_string()
                .contains("1 of 3 segments done, 5 items written"),
            "{exists}"
        );
        let mut other = identity();
        other.target = "c".into();
        let foreign = FileStore::open(&path, &other, true, all.clone()).unwrap_err();
        assert!(
            foreign.to_string().contains("a → b, this run copies a → c"),
            "{foreign}"
        );

        let store = FileStore::open(&path, &identity(), true, all).unwrap();
        let ids: Vec<u32> = std::iter::from_fn(|| store.claim())
            .map(|c| c.state.segment)
            .collect();
        assert_eq!(ids, vec![1, 2]);

        let missing = FileStore::open(
            &dir.path().join("none.json"),
            &identity(),
            true,
            SegmentRange(0..3),
        )
        .unwrap_err();
        assert!(matches!(missing, CheckpointError::NothingToResume { .. }));
    }

    #[test]
    fn a_range_limits_the_claims() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::open(
            &dir.path().join("c.json"),
            &identity(),
            false,
            SegmentRange(1..2),
        )
        .unwrap();
        assert_eq!(store.claim().map(|c| c.state.segment), Some(1));
        assert!(store.claim().is_none());
    }
}
