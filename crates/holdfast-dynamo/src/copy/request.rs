//! What a copy is asked to do ([`CopyRequest`]), with every setting's default as a public
//! constant: the CLI and the Lambda function only map their flags or properties onto it.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use holdfast_core::Resume;

use crate::checkpoint::Location;
use crate::keys::KeySpec;
use crate::transform::{Transform, TransformError};

/// Scan segments (one worker each) by default; also the default of compare and export.
pub const DEFAULT_TOTAL_SEGMENTS: u32 = 8;
/// Items per scan page by default.
pub const DEFAULT_PAGE_SIZE: i32 = crate::scanner::DEFAULT_PAGE_LIMIT;
/// Pages of a segment written at once by default: enough that a segment's writes do not drain
/// to zero at every page boundary.
pub const DEFAULT_PAGES_IN_FLIGHT: usize = 3;
/// A segment's lease in a checkpoint table by default (the data migrations' lock too).
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);
/// The checkpoint table a shared copy uses when none is named.
pub const DEFAULT_CHECKPOINT_TABLE: &str = "holdfast_copy_checkpoints";
/// The folder of a run's local files (checkpoint files, keys files) by default.
pub const LOCAL_DIR: &str = ".holdfast";
/// Items of the source the transform is tried on before anything is written.
pub const SAMPLE_ITEMS: i32 = 100;

/// A transform's text, checked to compile, and the digest of its text (part of the
/// checkpoint's identity). Compiled again with the source's key names once they are known.
#[derive(Debug, Clone)]
pub struct TransformSpec {
    pub name: String,
    pub text: String,
    pub digest: String,
}

impl TransformSpec {
    /// Checks that `text` compiles.
    ///
    /// # Errors
    /// [`TransformError::Compile`] with the line and column.
    pub fn new(name: &str, text: &str) -> Result<TransformSpec, TransformError> {
        Transform::compile(text, name)?;
        Ok(TransformSpec {
            name: name.to_owned(),
            text: text.to_owned(),
            digest: crate::digest::sha256_hex(text.as_bytes()),
        })
    }

    /// The filter, naming items by `key` in errors.
    ///
    /// # Errors
    /// As [`TransformSpec::new`].
    pub fn compile(&self, key: &KeySpec) -> Result<Arc<Transform>, TransformError> {
        Ok(Arc::new(
            Transform::compile(&self.text, &self.name)?.with_key(key.names().map(str::to_owned)),
        ))
    }
}

/// What to copy (the CLI and the Lambda build this).
#[derive(Debug, Clone)]
pub struct CopyRequest {
    pub source: String,
    pub target: String,
    pub transform: Option<TransformSpec>,
    /// Scan segments; with `segment_range`, the total.
    pub segments: u32,
    pub page_limit: i32,
    pub max_wcu: Option<u32>,
    pub max_rcu: Option<u32>,
    pub checkpoint: Location,
    /// Continue the checkpoint: never (a fresh copy; an existing checkpoint is refused), if
    /// present (else a fresh copy), or required (none is an error).
    pub resume: Resume,
    pub deadline: Option<Duration>,
    /// The segments this run works on (of `segments`).
    pub segment_range: Option<Range<u32>>,
    pub allow_nonempty_target: bool,
    pub verify: bool,
    /// Lease of a segment in a checkpoint table.
    pub lease: Duration,
    /// Where the verification writes differing keys.
    pub keys_file: Option<PathBuf>,
    /// The name of this copy's rows in a checkpoint table [default: `SOURCE→TARGET`].
    pub checkpoint_id: Option<String>,
    /// Check everything and create the checkpoint, then stop: workers (processes, Lambdas)
    /// join the prepared copy with `resume`.
    pub prepare_only: bool,
    /// Pages of a segment written at once (the checkpoint still moves page by page, in order).
    pub pages_in_flight: usize,
}

impl CopyRequest {
    /// Defaults for everything but the tables and the checkpoint.
    #[must_use]
    pub fn new(source: &str, target: &str, checkpoint: Location) -> CopyRequest {
        CopyRequest {
            source: source.to_owned(),
            target: target.to_owned(),
            transform: None,
            segments: DEFAULT_TOTAL_SEGMENTS,
            page_limit: DEFAULT_PAGE_SIZE,
            max_wcu: None,
            max_rcu: None,
            checkpoint,
            resume: Resume::Never,
            deadline: None,
            segment_range: None,
            allow_nonempty_target: false,
            verify: true,
            lease: DEFAULT_LEASE,
            keys_file: None,
            checkpoint_id: None,
            prepare_only: false,
            pages_in_flight: DEFAULT_PAGES_IN_FLIGHT,
        }
    }

    /// Whether the copy rewrites its own source.
    #[must_use]
    pub fn in_place(&self) -> bool {
        self.source == self.target
    }

    /// The same request with `resume`.
    #[must_use]
    pub fn with_resume(&self, resume: Resume) -> CopyRequest {
        CopyRequest {
            resume,
            ..self.clone()
        }
    }
}

/// A table name fit for a file name (ARNs hold `:` and `/`).
#[must_use]
pub fn file_safe(table: &str) -> String {
    let name = table.rsplit('/').next().unwrap_or(table);
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The default checkpoint file of a copy: `.holdfast/copy-SOURCE-TARGET.checkpoint.json`.
#[must_use]
pub fn default_checkpoint_file(source: &str, target: &str) -> PathBuf {
    Path::new(LOCAL_DIR).join(format!(
        "copy-{}-{}.checkpoint.json",
        file_safe(source),
        file_safe(target)
    ))
}

/// The default keys file of a comparison: `.holdfast/compare-SOURCE-TARGET.keys.jsonl`.
#[must_use]
pub fn default_keys_file(source: &str, target: &str) -> PathBuf {
    Path::new(LOCAL_DIR).join(format!(
        "compare-{}-{}.keys.jsonl",
        file_safe(source),
        file_safe(target)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let r = CopyRequest::new("a", "b", Location::Table(DEFAULT_CHECKPOINT_TABLE.into()));
        assert_eq!(
            (r.segments, r.page_limit, r.pages_in_flight, r.lease),
            (8, 100, 3, Duration::from_secs(120))
        );
        assert_eq!(r.resume, Resume::Never);
        assert!(r.verify && !r.prepare_only && !r.allow_nonempty_target);
        assert_eq!(DEFAULT_CHECKPOINT_TABLE, "holdfast_copy_checkpoints");
    }

    #[test]
    fn local_files_are_named_after_both_tables() {
        assert_eq!(
            default_checkpoint_file("arn:aws:dynamodb:eu-west-1:1:table/users", "users v2"),
            Path::new(".holdfast/copy-users-users_v2.checkpoint.json")
        );
        assert_eq!(
            default_keys_file("a", "b"),
            Path::new(".holdfast/compare-a-b.keys.jsonl")
        );
    }
}
