//! `holdfast dynamo export TABLE DIR` and `holdfast dynamo import DIR TABLE`: a table to and from
//! the DynamoDB-JSON lines format of S3 exports ([`crate::export_files`]).
//!
//! Export: one worker per scan segment, each streaming its pages over a bounded channel (two
//! pages) to a thread that gzips them into the segment's data file, so memory does not grow
//! with the table; the manifests are written last (a folder without `manifest-summary.json` is
//! not a complete export). Import: the whole export is validated first (checksums, gzip, every
//! line, counts; and the key schema when the export records it), so a corrupt or unreadable
//! export writes nothing; then the data files are read in parallel, streaming, and written with
//! the copy's [`BatchWriter`]. Both are idempotent to re-run (an import is puts).

mod export;
mod import;

pub use export::export;
pub use import::import;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::dynamo::TransferReport;
use holdfast_report::{Command, Envelope};

use crate::copy::{TransformSpec, DEFAULT_TOTAL_SEGMENTS};
use crate::describe::TableError;
use crate::export_files::{ExportFileError, KeyAttribute, KeyRole, KeyType};
use crate::key_schema::KeyAttrType;
use crate::keys::KeySpec;
use crate::writer::WriteCounters;

/// Why an export or import did not complete.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    File(#[from] ExportFileError),
    #[error("export folder {0} is not empty: export into a new folder")]
    NotEmpty(String),
    #[error(
        "the export holds table {table} with key {export_key}; table {target} has key {target_key}"
    )]
    KeyMismatch {
        table: String,
        export_key: String,
        target: String,
        target_key: String,
    },
    #[error("target table {0} is not empty")]
    TargetNotEmpty(String),
    #[error("{file} item {line}: {reason}")]
    Item {
        file: String,
        line: u64,
        reason: String,
    },
    #[error("{0}; nothing was written")]
    Transform(String),
    #[error("{0}")]
    Failed(String),
}

impl Classify for TransferError {
    fn outcome(&self) -> Outcome {
        match self {
            TransferError::Table(e) => e.outcome(),
            TransferError::File(e) => e.outcome(),
            TransferError::Failed(_) | TransferError::Item { .. } => Outcome::Failed,
            TransferError::NotEmpty(_)
            | TransferError::KeyMismatch { .. }
            | TransferError::TargetNotEmpty(_)
            | TransferError::Transform(_) => Outcome::Usage,
        }
    }

    fn remedy(&self) -> Option<holdfast_core::remedy::Remedy> {
        match self {
            TransferError::TargetNotEmpty(_) => {
                Some(holdfast_core::remedy::Remedy::AllowNonemptyTarget)
            }
            TransferError::Table(e) => e.remedy(),
            _ => None,
        }
    }
}

pub(crate) fn key_attributes(key: &KeySpec) -> Vec<KeyAttribute> {
    let kind = |t: KeyAttrType| match t {
        KeyAttrType::S => KeyType::S,
        KeyAttrType::N => KeyType::N,
        KeyAttrType::B => KeyType::B,
    };
    let mut out = vec![KeyAttribute {
        name: key.partition.name.clone(),
        key_type: kind(key.partition.attr_type),
        role: KeyRole::Hash,
    }];
    if let Some(s) = &key.sort {
        out.push(KeyAttribute {
            name: s.name.clone(),
            key_type: kind(s.attr_type),
            role: KeyRole::Range,
        });
    }
    out
}

/// The key an export records (the inverse of [`key_attributes`]).
pub(crate) fn key_spec(attributes: &[KeyAttribute]) -> Option<KeySpec> {
    let part = |role: KeyRole| {
        attributes
            .iter()
            .find(|a| a.role == role)
            .map(|a| crate::key_schema::KeyPart {
                name: a.name.clone(),
                attr_type: match a.key_type {
                    KeyType::S => KeyAttrType::S,
                    KeyType::N => KeyAttrType::N,
                    KeyType::B => KeyAttrType::B,
                },
            })
    };
    Some(KeySpec {
        partition: part(KeyRole::Hash)?,
        sort: part(KeyRole::Range),
    })
}

/// What to export (the CLI builds this).
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub table: String,
    /// A new or empty folder.
    pub dir: PathBuf,
    /// Scan segments, one data file each.
    pub segments: u32,
}

impl ExportRequest {
    /// Defaults for everything but the table and the folder.
    #[must_use]
    pub fn new(table: &str, dir: PathBuf) -> ExportRequest {
        ExportRequest {
            table: table.to_owned(),
            dir,
            segments: DEFAULT_TOTAL_SEGMENTS,
        }
    }
}

/// Data files an import reads and writes at once by default.
pub const DEFAULT_IMPORT_WORKERS: u32 = 8;

/// What to import (the CLI builds this).
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// The export folder (Holdfast's, or a downloaded S3 export).
    pub dir: PathBuf,
    pub table: String,
    /// Data files read and written in parallel.
    pub workers: u32,
    pub allow_nonempty_target: bool,
    /// A jq filter applied to each exported item before it is written.
    pub transform: Option<TransformSpec>,
}

impl ImportRequest {
    /// Defaults for everything but the folder and the table.
    #[must_use]
    pub fn new(dir: PathBuf, table: &str) -> ImportRequest {
        ImportRequest {
            dir,
            table: table.to_owned(),
            workers: DEFAULT_IMPORT_WORKERS,
            allow_nonempty_target: false,
            transform: None,
        }
    }
}

pub(crate) fn report(
    command: Command,
    table: &str,
    dir: &Path,
    files: usize,
    items: u64,
    counters: &WriteCounters,
    started: Instant,
) -> TransferReport {
    TransferReport {
        envelope: Envelope::new(command, Outcome::Success),
        table: table.to_owned(),
        dir: dir.display().to_string(),
        files,
        items,
        items_dropped: 0,
        items_split: 0,
        unprocessed_retried: counters.unprocessed_retried.load(Ordering::Relaxed),
        calls_retried: counters.calls_retried.load(Ordering::Relaxed),
        elapsed_ms: started.elapsed().as_millis() as u64,
    }
}
