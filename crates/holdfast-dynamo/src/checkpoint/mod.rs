//! Copy checkpoints: per scan segment, where the next page starts, saved only after every item
//! of the pages before it was acknowledged — so a checkpoint is never ahead of the target, and
//! resuming re-writes at most the pages after it (puts are idempotent).
//!
//! Two stores, one interface ([`Store`]):
//! - [`file`]: a local JSON file, replaced atomically (temp file, fsync, rename) and held by
//!   one process at a time (an OS lock on `PATH.lock`, released if the process dies).
//! - [`table`]: a DynamoDB table shared by several processes or Lambdas: one row per segment
//!   under a lease with a fencing token ([`crate::lease`]), so a worker whose lease was taken
//!   over can no longer record progress.
//!
//! A checkpoint records what it belongs to ([`CopyIdentity`]); a run of another copy, or of the
//! same copy without `--resume`, is refused with the reason.

pub mod file;
pub mod table;

use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::remedy::{Remedy, Setting};
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::item::{item_from_dynamo_json, item_to_dynamo_json};
use crate::sdk_item::{item_from_sdk, item_to_sdk, SdkItem};

pub use crate::lease::owner_id;

/// What a checkpoint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyIdentity {
    pub source: String,
    pub target: String,
    /// SHA-256 of the transform's text, if any.
    pub transform_digest: Option<String>,
    pub total_segments: u32,
}

impl CopyIdentity {
    /// Why `self` (the checkpoint's) is not `other` (the run's), if it is not.
    #[must_use]
    pub fn mismatch(&self, run: &CopyIdentity) -> Option<String> {
        let mut why = Vec::new();
        if self.source != run.source || self.target != run.target {
            why.push(format!(
                "it belongs to a copy of {} → {}, this run copies {} → {}",
                self.source, self.target, run.source, run.target
            ));
        }
        if self.transform_digest != run.transform_digest {
            why.push(match (&self.transform_digest, &run.transform_digest) {
                (None, Some(_)) => "it was made without a transform, this run has one".to_owned(),
                (Some(_), None) => "it was made with a transform, this run has none".to_owned(),
                _ => "it was made with a different transform (its text changed)".to_owned(),
            });
        }
        if self.total_segments != run.total_segments {
            why.push(format!(
                "it was made with {} segments, this run has {} (segments must not change on resume)",
                self.total_segments, run.total_segments
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

/// One segment's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentState {
    pub segment: u32,
    pub done: bool,
    /// Where the next page starts (DynamoDB-JSON of the `LastEvaluatedKey`); `None` before the
    /// first page or when done.
    pub next_key: Option<serde_json::Value>,
    pub items_read: u64,
    pub items_written: u64,
    pub pages: u64,
    /// In-place runs only: hashes ([`crate::digest::short_hash`]) of the outputs of the page
    /// being written from `next_key` on. A resumed run skips items whose current content has
    /// one of these hashes — they were written already — so no item is transformed twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_flight: Vec<String>,
}

impl SegmentState {
    /// The SDK form of [`SegmentState::next_key`].
    ///
    /// # Errors
    /// A key the checkpoint cannot have written (a hand-edited file).
    pub fn start_key(&self) -> Result<Option<SdkItem>, CheckpointError> {
        self.next_key
            .as_ref()
            .map(|v| {
                item_from_dynamo_json(v)
                    .map(|i| item_to_sdk(&i))
                    .map_err(|e| {
                        CheckpointError::Corrupt(format!("segment {}: next key: {e}", self.segment))
                    })
            })
            .transpose()
    }

    /// Records the page that ended at `next` (`None`: the segment is done).
    pub fn advance(&mut self, next: Option<&SdkItem>, read: u64, written: u64) {
        self.next_key = next
            .and_then(|k| item_from_sdk(k).ok())
            .map(|i| item_to_dynamo_json(&i));
        self.done = next.is_none();
        self.in_flight.clear();
        self.items_read += read;
        self.items_written += written;
        self.pages += 1;
    }
}

/// A segment this worker holds.
#[derive(Debug, Clone)]
pub struct Claim {
    pub state: SegmentState,
    /// The fencing token of the lease (table store; 0 for the file store).
    pub fence: u64,
}

/// Where a copy's checkpoint lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(std::path::PathBuf),
    Table(String),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(p) => write!(f, "checkpoint file {}", p.display()),
            Location::Table(t) => write!(f, "checkpoint table {t}"),
        }
    }
}

/// Why a checkpoint could not be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CheckpointError {
    #[error("{location} exists ({progress})")]
    Exists { location: String, progress: String },
    #[error("there is no {location} to resume from")]
    NothingToResume { location: String },
    #[error("{location} does not belong to this copy: {why}")]
    Foreign { location: String, why: String },
    #[error("{location} is in use by another holdfast process ({holder}); wait for it")]
    Busy { location: String, holder: String },
    #[error("checkpoint is unreadable: {0}")]
    Corrupt(String),
    #[error("cannot write the checkpoint: {0}")]
    Io(String),
    #[error("{0}")]
    Aws(String),
    #[error("segment {segment}: lease lost to another worker (its fencing token moved on); this worker stops working on it")]
    LeaseLost { segment: u32 },
}

impl Classify for CheckpointError {
    fn outcome(&self) -> Outcome {
        match self {
            CheckpointError::Busy { .. } => Outcome::Busy,
            CheckpointError::Io(_)
            | CheckpointError::Aws(_)
            | CheckpointError::LeaseLost { .. } => Outcome::Failed,
            CheckpointError::Exists { .. }
            | CheckpointError::NothingToResume { .. }
            | CheckpointError::Foreign { .. }
            | CheckpointError::Corrupt(_) => Outcome::Usage,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            CheckpointError::Exists { location, .. } => {
                Some(Remedy::resume_or_start_over(location.clone()))
            }
            CheckpointError::NothingToResume { .. } => Some(Remedy::StartWithoutResume),
            CheckpointError::Busy { .. } => Some(Remedy::using(Setting::CheckpointTable)),
            _ => None,
        }
    }
}

/// The segments a run works on: all, or `--segment-range a..b`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRange(pub Range<u32>);

impl SegmentRange {
    #[must_use]
    pub fn contains(&self, segment: u32) -> bool {
        self.0.contains(&segment)
    }
}

/// Parses a segment range `A..B` (or `A..=B`) of `total` segments, as `--segment-range` and the
/// Lambda's `SegmentRange` take it. The error says what is wrong and what is expected.
///
/// # Errors
/// Not `A..B` with `0 <= A < B <= total`.
pub fn parse_segment_range(text: &str, total: u32) -> Result<Range<u32>, String> {
    let bad = |why: &str| {
        format!("{why} (expected A..B with 0 <= A < B <= the total segments, e.g. 0..4)")
    };
    let (a, b) = text.split_once("..").ok_or_else(|| bad("no `..`"))?;
    let a: u32 = a.trim().parse().map_err(|_| bad("A is not a number"))?;
    let b: u32 = match b.trim().strip_prefix('=') {
        Some(inclusive) => inclusive
            .trim()
            .parse::<u32>()
            .ok()
            .and_then(|b| b.checked_add(1))
            .ok_or_else(|| bad("B is not a number"))?,
        None => b.trim().parse().map_err(|_| bad("B is not a number"))?,
    };
    if a >= b {
        return Err(bad("the range is empty"));
    }
    if b > total {
        return Err(bad(&format!("B is beyond the {total} segments")));
    }
    Ok(a..b)
}

/// A summary of a checkpoint's segments, for messages.
#[must_use]
pub fn progress_line(states: &[SegmentState]) -> String {
    let done = states.iter().filter(|s| s.done).count();
    let written: u64 = states.iter().map(|s| s.items_written).sum();
    format!(
        "{done} of {} segments done, {written} items written",
        states.len()
    )
}

/// A checkpoint store.
#[derive(Debug)]
pub enum Store {
    File(file::FileStore),
    Table(table::TableStore),
}

impl Store {
    /// Takes the next segment to work on (in range, not done, not held by another worker).
    /// `Ok(None)`: nothing to claim now; [`Store::waiting`] says whether others still hold some.
    ///
    /// # Errors
    /// The store could not be read or written.
    pub async fn claim(&self) -> Result<Option<Claim>, CheckpointError> {
        match self {
            Store::File(s) => Ok(s.claim()),
            Store::Table(s) => s.claim().await,
        }
    }

    /// Records a claim's progress (after a page was acknowledged). Stores may persist lazily
    /// (the file at most every 250 ms, the table at most every second per segment, or every
    /// third of the lease if that is shorter, so the lease never lapses between saves) but never
    /// ahead of what was acknowledged; the end of a segment is persisted at once.
    ///
    /// # Errors
    /// [`CheckpointError::LeaseLost`]: another worker took the segment over.
    pub async fn save(&self, claim: &Claim) -> Result<(), CheckpointError> {
        match self {
            Store::File(s) => s.save(&claim.state),
            Store::Table(s) => s.save(claim, false).await,
        }
    }

    /// Records a claim's state and persists it before returning (an in-place run records the
    /// page it is about to write).
    ///
    /// # Errors
    /// As [`Store::save`].
    pub async fn save_now(&self, claim: &Claim) -> Result<(), CheckpointError> {
        match self {
            Store::File(s) => {
                s.save(&claim.state)?;
                s.flush()
            }
            Store::Table(s) => s.save_now(claim).await,
        }
    }

    /// Persists everything and releases this process's claims (on stop or at the end).
    ///
    /// # Errors
    /// The store could not be written.
    pub async fn release(&self, claims: &[Claim]) -> Result<(), CheckpointError> {
        match self {
            Store::File(s) => s.flush(),
            Store::Table(s) => {
                for claim in claims {
                    s.save(claim, true).await?;
                }
                Ok(())
            }
        }
    }

    /// Segments in range that are not done but held by other workers (table store), with the
    /// time until the earliest lease expires.
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn waiting(&self) -> Result<Option<std::time::Duration>, CheckpointError> {
        match self {
            Store::File(_) => Ok(None),
            Store::Table(s) => s.waiting().await,
        }
    }

    /// Every segment's state (for reports).
    ///
    /// # Errors
    /// The store could not be read.
    pub async fn states(&self) -> Result<Vec<SegmentState>, CheckpointError> {
        match self {
            Store::File(s) => Ok(s.states()),
            Store::Table(s) => s.states().await,
        }
    }

    /// Where it lives.
    #[must_use]
    pub fn location(&self) -> Location {
        match self {
            Store::File(s) => Location::File(s.path().to_owned()),
            Store::Table(s) => Location::Table(s.table().to_owned()),
        }
    }
}
