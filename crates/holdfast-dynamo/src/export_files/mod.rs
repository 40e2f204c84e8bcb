//! The on-disk format of DynamoDB exports: the file layer of `holdfast dynamo export` and
//! `holdfast dynamo import` (synchronous; scanning and writing the table happen elsewhere).
//!
//! The format is the one DynamoDB's own export to S3 uses (`DYNAMODB_JSON`, full export), so a
//! downloaded S3 export can be imported and a Holdfast export looks like one:
//!
//! ```text
//! DIR/data/NAME.json.gz        gzip; one `{"Item": {...DynamoDB-JSON...}}` per line
//! DIR/manifest-files.json      JSON lines, one per data file:
//!                              {"itemCount":N,"md5Checksum":"<base64 MD5 of the .gz bytes>",
//!                               "etag":"<hex MD5>","dataFileS3Key":"data/NAME.json.gz"}
//! DIR/manifest-summary.json    one JSON object: version, outputFormat, exportType, itemCount,
//!                              startTime, endTime, manifestFilesS3Key (+ DynamoDB's own fields,
//!                              + a `holdfast` object: table, key schema, segments)
//! ```
//!
//! A downloaded S3 export keeps its S3 layout, `DIR/AWSDynamoDB/<export id>/…`, and its
//! `dataFileS3Key`s are full S3 keys (`AWSDynamoDB/<id>/data/x.json.gz`): [`ExportSet::open`]
//! finds the single export folder and resolves each key by its final `data/NAME` part, relative
//! to the manifests' folder.
//!
//! Guarantees:
//! - **Atomic data files.** [`DataFileWriter`] writes `data/NAME.json.gz.partial` and only
//!   [`DataFileWriter::finish`] (gzip trailer, fsync, rename, fsync of the folder) makes
//!   `data/NAME.json.gz` appear; it streams in constant memory and hashes the bytes as written.
//! - **Summary last.** [`write_manifests`] writes `manifest-files.json`, then
//!   `manifest-summary.json`, each atomically (temporary file, fsync, rename). The summary is the
//!   last file of an export, so its presence means the export is complete; a folder without it
//!   is refused as "not a complete export". (An export command must therefore start from a
//!   folder without a summary.)
//! - **Validate before import.** [`ExportSet::validate`] reads every data file once (in
//!   parallel, streaming): MD5 against the manifest, gunzip, every line parsed, item counts per
//!   file and in total. An import runs it before writing anything, so a corrupt, truncated or
//!   unreadable export changes nothing.
//! - **No values in errors.** Every [`ExportFileError`] is one line naming the file (relative
//!   to the export folder) and, for content errors, the line number and attribute path; it never
//!   quotes an item's values (they may be personal data).
//!
//! Not supported (refused with a clear error): `ION` exports and incremental exports.
//!
//! By job: [`manifest`] (the two manifests and their times), [`write`] (data files, atomic
//! and hashed), [`read`] (data files, streaming), [`set`] (finding, opening and validating an
//! export).

mod manifest;
mod read;
mod set;
mod write;

pub use manifest::{
    rfc3339_utc, write_manifests, HoldfastExportInfo, KeyAttribute, KeyRole, KeyType,
    ManifestSummary,
};
pub use read::DataFileReader;
pub use set::{DataFile, ExportSet, Validation};
pub use write::{DataFileSummary, DataFileWriter};

use std::io;

use holdfast_core::exit::{Classify, Outcome};

pub const DATA_DIR: &str = "data";
/// The JSON-lines list of data files.
pub const MANIFEST_FILES: &str = "manifest-files.json";
/// The summary, written last.
pub const MANIFEST_SUMMARY: &str = "manifest-summary.json";
/// The folder an S3 export puts its exports in (`AWSDynamoDB/<export id>/`).
pub const S3_EXPORTS_DIR: &str = "AWSDynamoDB";
/// The export format version DynamoDB writes.
pub const EXPORT_VERSION: &str = "2020-06-30";
/// The only supported output format.
pub const OUTPUT_FORMAT: &str = "DYNAMODB_JSON";
/// The only supported export type.
pub const FULL_EXPORT: &str = "FULL_EXPORT";
pub(crate) const DATA_SUFFIX: &str = ".json.gz";
pub(crate) const PARTIAL_SUFFIX: &str = ".partial";
/// Longest line accepted (a DynamoDB item is at most 400 KB; its JSON is larger but not this).
pub(crate) const MAX_LINE: u64 = 16 << 20;

/// An error reading or writing export files: one line, naming the file, never an item's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportFileError {
    #[error("{file}: cannot {action}: {reason}")]
    Read {
        file: String,
        action: &'static str,
        reason: String,
    },
    #[error("{file}: cannot {action}: {reason}")]
    Write {
        file: String,
        action: &'static str,
        reason: String,
    },
    #[error("{dir}: not a complete export: no {MANIFEST_SUMMARY}")]
    NotComplete { dir: String },
    #[error("{dir}: {count} exports under {S3_EXPORTS_DIR}/ ({names}); give the folder of one")]
    SeveralExports {
        dir: String,
        count: usize,
        names: String,
    },
    #[error("{file}: {reason}")]
    BadManifest { file: String, reason: String },
    #[error("{file}: output format {format} is not supported: only DYNAMODB_JSON exports can be imported (export the table again with DynamoDB JSON, not Amazon Ion)")]
    UnsupportedFormat { file: String, format: String },
    #[error(
        "{file}: export type {export_type} is not supported: only full exports can be imported"
    )]
    UnsupportedExportType { file: String, export_type: String },
    #[error("{file}: invalid data file name (a plain name without `/`, `\\`, `.` or `..`)")]
    BadName { file: String },
    #[error("{file}: listed in {MANIFEST_FILES} but missing")]
    MissingDataFile { file: String },
    #[error("{file}: truncated: the gzip data ends early (incomplete copy or download?)")]
    Truncated { file: String },
    #[error("{file}: not valid gzip: {reason}")]
    BadGzip { file: String, reason: String },
    #[error("{file}: MD5 checksum mismatch: the manifest says {expected}, the file has {actual} (corrupt or changed file)")]
    ChecksumMismatch {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{file}: item count mismatch: {source_name} says {expected}, found {actual}")]
    CountMismatch {
        file: String,
        source_name: &'static str,
        expected: u64,
        actual: u64,
    },
    #[error("{file} line {line}: {reason}")]
    BadLine {
        file: String,
        line: u64,
        reason: String,
    },
}

impl Classify for ExportFileError {
    fn outcome(&self) -> Outcome {
        match self {
            ExportFileError::Write { .. } => Outcome::Failed,
            _ => Outcome::Usage,
        }
    }
}

pub(crate) fn read_err(file: &str, action: &'static str, e: &io::Error) -> ExportFileError {
    ExportFileError::Read {
        file: file.to_owned(),
        action,
        reason: io_reason(e),
    }
}

pub(crate) fn write_err(file: &str, action: &'static str, e: &io::Error) -> ExportFileError {
    ExportFileError::Write {
        file: file.to_owned(),
        action,
        reason: io_reason(e),
    }
}

/// The OS reason without Rust's ` (os error N)` suffix.
fn io_reason(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests;
