//! The manifests of an export: `manifest-files.json` (one line per data file) and
//! `manifest-summary.json` (written last: its presence means the export is complete), each
//! written atomically; times in RFC 3339 UTC as DynamoDB writes them.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::write::DataFileSummary;
use super::{
    write_err, ExportFileError, EXPORT_VERSION, FULL_EXPORT, MANIFEST_FILES, MANIFEST_SUMMARY,
    OUTPUT_FORMAT, PARTIAL_SUFFIX,
};

/// One line of `manifest-files.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ManifestFileLine {
    pub(super) item_count: u64,
    pub(super) md5_checksum: String,
    /// Not checked: S3 multipart ETags (`…-3`) are not an MD5.
    #[serde(default)]
    pub(super) etag: String,
    pub(super) data_file_s3_key: String,
}

/// `manifest-summary.json`: DynamoDB's fields (all optional when reading but `outputFormat`),
/// plus Holdfast's own `holdfast` object. Unknown fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestSummary {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_bucket: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_prefix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_sse_algorithm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_files_s3_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billed_size_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
    pub output_format: String,
    /// Absent in exports made before incremental exports existed (they are full exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdfast: Option<HoldfastExportInfo>,
}

/// What Holdfast records about the exported table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoldfastExportInfo {
    pub table: String,
    pub key_schema: Vec<KeyAttribute>,
    pub segments: u32,
}

/// One key attribute of the exported table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    pub name: String,
    #[serde(rename = "type")]
    pub key_type: KeyType,
    pub role: KeyRole,
}

/// A key attribute's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    S,
    N,
    B,
}

/// A key attribute's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum KeyRole {
    Hash,
    Range,
}

impl ManifestSummary {
    /// The summary Holdfast writes: a full `DYNAMODB_JSON` export of `item_count` items;
    /// times in RFC 3339 UTC (see [`rfc3339_utc`]).
    pub fn holdfast(
        info: HoldfastExportInfo,
        item_count: u64,
        start_time: String,
        end_time: String,
    ) -> Self {
        ManifestSummary {
            version: Some(EXPORT_VERSION.to_owned()),
            start_time: Some(start_time),
            end_time: Some(end_time),
            manifest_files_s3_key: Some(MANIFEST_FILES.to_owned()),
            item_count: Some(item_count),
            output_format: OUTPUT_FORMAT.to_owned(),
            export_type: Some(FULL_EXPORT.to_owned()),
            holdfast: Some(info),
            ..ManifestSummary::default()
        }
    }
}

/// `2020-11-04T07:28:34.028Z`, as DynamoDB writes times (times before 1970 print as 1970).
#[must_use]
pub fn rfc3339_utc(time: SystemTime) -> String {
    humantime::format_rfc3339_millis(time.max(UNIX_EPOCH)).to_string()
}

/// Write `manifest-files.json`, then `manifest-summary.json` (last: its presence means the
/// export is complete), each atomically. Refuses a summary whose `itemCount` is not the sum of
/// the data files' counts.
pub fn write_manifests(
    dir: &Path,
    summary: &ManifestSummary,
    files: &[DataFileSummary],
) -> Result<(), ExportFileError> {
    let total: u64 = files.iter().map(|f| f.item_count).sum();
    if let Some(expected) = summary.item_count.filter(|&n| n != total) {
        return Err(ExportFileError::CountMismatch {
            file: MANIFEST_SUMMARY.to_owned(),
            source_name: "the summary",
            expected,
            actual: total,
        });
    }
    let mut lines = String::new();
    for f in files {
        let line = ManifestFileLine {
            item_count: f.item_count,
            md5_checksum: f.md5_base64.clone(),
            etag: f.etag.clone(),
            data_file_s3_key: f.key.clone(),
        };
        lines.push_str(&to_json(&line, MANIFEST_FILES)?);
        lines.push('\n');
    }
    write_atomically(dir, MANIFEST_FILES, lines.as_bytes())?;
    let mut text = to_json(summary, MANIFEST_SUMMARY)?;
    text.push('\n');
    write_atomically(dir, MANIFEST_SUMMARY, text.as_bytes())
}

fn to_json<T: Serialize>(value: &T, file: &str) -> Result<String, ExportFileError> {
    serde_json::to_string(value).map_err(|e| ExportFileError::Write {
        file: file.to_owned(),
        action: "serialize",
        reason: e.to_string(),
    })
}

/// `dir/name.partial` → fsync → rename to `dir/name` → fsync the folder.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ExportFileError> {
    let partial = format!("{name}{PARTIAL_SUFFIX}");
    let tmp = dir.join(&partial);
    let mut file = File::create(&tmp).map_err(|e| write_err(&partial, "create", &e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| write_err(&partial, "write", &e))?;
    drop(file);
    fs::rename(&tmp, dir.join(name)).map_err(|e| write_err(name, "rename into place", &e))?;
    sync_dir(dir).map_err(|e| write_err(".", "sync folder", &e))
}

/// Make a rename durable. Folders cannot be opened for syncing on every platform.
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        match File::open(dir).and_then(|d| d.sync_all()) {
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
