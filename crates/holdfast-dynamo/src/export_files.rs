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

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;
use holdfast_core::exit::{Classify, Outcome};
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::item::{item_from_dynamo_json, item_to_export_line, DynamoJsonError, Item};

/// The folder of data files inside an export.
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
const DATA_SUFFIX: &str = ".json.gz";
const PARTIAL_SUFFIX: &str = ".partial";
/// Longest line accepted (a DynamoDB item is at most 400 KB; its JSON is larger but not this).
const MAX_LINE: u64 = 16 << 20;

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

fn read_err(file: &str, action: &'static str, e: &io::Error) -> ExportFileError {
    ExportFileError::Read {
        file: file.to_owned(),
        action,
        reason: io_reason(e),
    }
}

fn write_err(file: &str, action: &'static str, e: &io::Error) -> ExportFileError {
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

// ---------------------------------------------------------------------------------------------
// Manifests

/// One line of `manifest-files.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestFileLine {
    item_count: u64,
    md5_checksum: String,
    /// Not checked: S3 multipart ETags (`…-3`) are not an MD5.
    #[serde(default)]
    etag: String,
    data_file_s3_key: String,
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
pub fn rfc3339_utc(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        since.subsec_millis()
    )
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
fn sync_dir(dir: &Path) -> io::Result<()> {
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

// ---------------------------------------------------------------------------------------------
// Writing data files

/// What [`DataFileWriter::finish`] reports: one line of `manifest-files.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFileSummary {
    pub item_count: u64,
    /// Base64 of the MD5 of the `.gz` bytes (`md5Checksum`).
    pub md5_base64: String,
    /// Hex of the same MD5 (`etag`).
    pub etag: String,
    /// `data/NAME.json.gz`, relative to the export folder (`dataFileS3Key`).
    pub key: String,
    /// Size of the `.gz` file.
    pub bytes: u64,
}

/// A `Write` that hashes (MD5) and counts the bytes it passes on.
struct HashingWriter<W> {
    inner: W,
    md5: Md5,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.md5.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Streams items into `data/NAME.json.gz.partial`; [`finish`](Self::finish) renames it to
/// `data/NAME.json.gz`. Dropped unfinished, it leaves the `.partial` file behind.
pub struct DataFileWriter {
    data_dir: PathBuf,
    name: String,
    gz: GzEncoder<HashingWriter<BufWriter<File>>>,
    item_count: u64,
    line: Vec<u8>,
}

impl DataFileWriter {
    /// Create `dir/data/` if needed and start `dir/data/NAME.json.gz.partial` (replacing a
    /// stale one). `name` is a plain file name without the `.json.gz` suffix.
    pub fn create(dir: &Path, name: &str) -> Result<Self, ExportFileError> {
        let key = format!("{DATA_DIR}/{name}{DATA_SUFFIX}");
        if !is_plain_name(name) {
            return Err(ExportFileError::BadName { file: key });
        }
        let data_dir = dir.join(DATA_DIR);
        fs::create_dir_all(&data_dir).map_err(|e| write_err(DATA_DIR, "create folder", &e))?;
        let partial = format!("{key}{PARTIAL_SUFFIX}");
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(dir.join(&partial))
            .map_err(|e| write_err(&partial, "create", &e))?;
        let sink = HashingWriter {
            inner: BufWriter::with_capacity(256 << 10, file),
            md5: Md5::new(),
            bytes: 0,
        };
        Ok(DataFileWriter {
            data_dir,
            name: name.to_owned(),
            gz: GzEncoder::new(sink, Compression::default()),
            item_count: 0,
            line: Vec::new(),
        })
    }

    fn key(&self) -> String {
        format!("{DATA_DIR}/{}{DATA_SUFFIX}", self.name)
    }

    fn partial_key(&self) -> String {
        format!("{}{PARTIAL_SUFFIX}", self.key())
    }

    /// Append one item as a `{"Item": …}` line.
    pub fn write_item(&mut self, item: &Item) -> Result<(), ExportFileError> {
        self.line.clear();
        self.line
            .extend_from_slice(item_to_export_line(item).as_bytes());
        self.line.push(b'\n');
        self.gz
            .write_all(&self.line)
            .map_err(|e| write_err(&self.partial_key(), "write", &e))?;
        self.item_count += 1;
        Ok(())
    }

    /// Items written so far.
    pub fn item_count(&self) -> u64 {
        self.item_count
    }

    /// Finish the gzip stream, fsync, rename to `data/NAME.json.gz` and fsync the folder.
    pub fn finish(self) -> Result<DataFileSummary, ExportFileError> {
        let (key, partial) = (self.key(), self.partial_key());
        let sink = self
            .gz
            .finish()
            .map_err(|e| write_err(&partial, "write", &e))?;
        let file = sink
            .inner
            .into_inner()
            .map_err(|e| write_err(&partial, "write", e.error()))?;
        file.sync_all()
            .map_err(|e| write_err(&partial, "sync", &e))?;
        drop(file);
        let final_name = format!("{}{DATA_SUFFIX}", self.name);
        fs::rename(
            self.data_dir.join(format!("{final_name}{PARTIAL_SUFFIX}")),
            self.data_dir.join(&final_name),
        )
        .map_err(|e| write_err(&key, "rename into place", &e))?;
        sync_dir(&self.data_dir).map_err(|e| write_err(DATA_DIR, "sync folder", &e))?;
        let md5: [u8; 16] = sink.md5.finalize().into();
        Ok(DataFileSummary {
            item_count: self.item_count,
            md5_base64: BASE64.encode(md5),
            etag: hex(&md5),
            key,
            bytes: sink.bytes,
        })
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---------------------------------------------------------------------------------------------
// Reading data files

/// A `Read` that hashes (MD5) and counts the bytes it passes on.
struct HashingReader<R> {
    inner: R,
    md5: Md5,
    bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.md5.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The items of one data file, streaming: an iterator of `Result<Item, _>`. A content error in
/// one line (bad JSON, bad attribute) is reported and reading goes on with the next line; a
/// gzip or I/O error ends the iteration. A blank last line is tolerated.
pub struct DataFileReader {
    file: String,
    lines: BufReader<MultiGzDecoder<HashingReader<File>>>,
    line_no: u64,
    blank_line: Option<u64>,
    buf: Vec<u8>,
    done: bool,
}

impl DataFileReader {
    /// Open one `.json.gz` data file; errors name it as given.
    pub fn open(path: &Path) -> Result<Self, ExportFileError> {
        Self::open_as(path, path.display().to_string())
    }

    fn open_as(path: &Path, file: String) -> Result<Self, ExportFileError> {
        let f = File::open(path).map_err(|e| read_err(&file, "open", &e))?;
        let hashing = HashingReader {
            inner: f,
            md5: Md5::new(),
            bytes: 0,
        };
        Ok(DataFileReader {
            file,
            lines: BufReader::with_capacity(256 << 10, MultiGzDecoder::new(hashing)),
            line_no: 0,
            blank_line: None,
            buf: Vec::new(),
            done: false,
        })
    }

    /// Lines read so far.
    pub fn line_number(&self) -> u64 {
        self.line_no
    }

    /// Read the rest of the raw file (without decoding) and return its MD5 and size.
    fn drain_md5(mut self) -> io::Result<([u8; 16], u64)> {
        let hashing = self.lines.get_mut().get_mut();
        io::copy(hashing, &mut io::sink())?;
        let bytes = hashing.bytes;
        let md5 = std::mem::take(&mut hashing.md5);
        Ok((md5.finalize().into(), bytes))
    }

    fn gzip_error(&self, e: &io::Error) -> ExportFileError {
        let file = self.file.clone();
        match e.kind() {
            io::ErrorKind::UnexpectedEof => ExportFileError::Truncated { file },
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => ExportFileError::BadGzip {
                file,
                reason: e.to_string(),
            },
            _ => read_err(&self.file, "read", e),
        }
    }

    fn bad_line(&self, line: u64, reason: String) -> ExportFileError {
        ExportFileError::BadLine {
            file: self.file.clone(),
            line,
            reason,
        }
    }
}

impl Iterator for DataFileReader {
    type Item = Result<Item, ExportFileError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            self.buf.clear();
            let read = (&mut self.lines)
                .take(MAX_LINE + 1)
                .read_until(b'\n', &mut self.buf);
            match read {
                Err(e) => {
                    self.done = true;
                    return Some(Err(self.gzip_error(&e)));
                }
                Ok(0) => {
                    self.done = true;
                    return None;
                }
                Ok(_) => {}
            }
            self.line_no += 1;
            if self.buf.len() as u64 > MAX_LINE {
                self.done = true;
                return Some(Err(self.bad_line(
                    self.line_no,
                    format!("line longer than {} MiB", MAX_LINE >> 20),
                )));
            }
            if self.buf.iter().all(u8::is_ascii_whitespace) {
                self.blank_line.get_or_insert(self.line_no);
                continue;
            }
            if let Some(blank) = self.blank_line.take() {
                return Some(Err(self.bad_line(blank, "blank line".to_owned())));
            }
            return Some(
                parse_line(&self.buf).map_err(|reason| self.bad_line(self.line_no, reason)),
            );
        }
    }
}

/// One `{"Item": {...}}` line; the error text never holds input text.
fn parse_line(line: &[u8]) -> Result<Item, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof => "incomplete JSON".to_owned(),
        _ => format!("not valid JSON (column {})", e.column()),
    })?;
    match value {
        Value::Object(obj) if obj.len() == 1 && obj.contains_key("Item") => {
            item_from_dynamo_json(&obj["Item"]).map_err(|e| describe(&e))
        }
        _ => Err("expected an object with the single key \"Item\"".to_owned()),
    }
}

/// A [`DynamoJsonError`] as text (it names the attribute path, never the value).
fn describe(e: &DynamoJsonError) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// Opening and validating an export

/// One data file of an export, as listed in `manifest-files.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub path: PathBuf,
    /// The path relative to the folder given to [`ExportSet::open`], for messages.
    pub display: String,
    pub item_count: u64,
    pub md5: [u8; 16],
}

impl DataFile {
    /// Open this file for reading.
    pub fn reader(&self) -> Result<DataFileReader, ExportFileError> {
        DataFileReader::open_as(&self.path, self.display.clone())
    }
}

/// A complete export found on disk: the summary and the listed data files (all present).
#[derive(Debug, Clone)]
pub struct ExportSet {
    /// The folder holding the manifests (the given folder, or `AWSDynamoDB/<id>/` in it).
    pub root: PathBuf,
    pub summary: ManifestSummary,
    pub files: Vec<DataFile>,
}

/// What [`ExportSet::validate`] found: every file checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validation {
    pub files: usize,
    pub items: u64,
    pub bytes: u64,
}

impl ExportSet {
    /// Find the manifests in `dir` or in the single `dir/AWSDynamoDB/<id>/` of a downloaded S3
    /// export; read them and check that every data file is there.
    pub fn open(dir: &Path) -> Result<Self, ExportFileError> {
        let root = find_root(dir)?;
        let rel = |p: &Path| relative(dir, p);
        let summary_path = root.join(MANIFEST_SUMMARY);
        let summary_name = rel(&summary_path);
        let text =
            fs::read_to_string(&summary_path).map_err(|e| read_err(&summary_name, "read", &e))?;
        let summary: ManifestSummary =
            serde_json::from_str(&text).map_err(|e| ExportFileError::BadManifest {
                file: summary_name.clone(),
                reason: e.to_string(),
            })?;
        if summary.output_format != OUTPUT_FORMAT {
            return Err(ExportFileError::UnsupportedFormat {
                file: summary_name,
                format: summary.output_format,
            });
        }
        if let Some(t) = summary.export_type.as_ref().filter(|t| *t != FULL_EXPORT) {
            return Err(ExportFileError::UnsupportedExportType {
                file: summary_name,
                export_type: t.clone(),
            });
        }

        let files_path = root.join(MANIFEST_FILES);
        let files_name = rel(&files_path);
        let text = fs::read_to_string(&files_path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ExportFileError::BadManifest {
                file: files_name.clone(),
                reason: format!("missing (listed by {MANIFEST_SUMMARY})"),
            },
            _ => read_err(&files_name, "read", &e),
        })?;
        let mut files = Vec::new();
        let mut seen = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason: String| ExportFileError::BadManifest {
                file: format!("{files_name} line {}", i + 1),
                reason,
            };
            let entry: ManifestFileLine =
                serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
            let md5: [u8; 16] = BASE64
                .decode(&entry.md5_checksum)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| bad("md5Checksum is not the base64 of 16 bytes".to_owned()))?;
            let name = data_file_name(&entry.data_file_s3_key)
                .ok_or_else(|| bad("dataFileS3Key does not end in data/NAME".to_owned()))?;
            if !seen.insert(name.to_owned()) {
                return Err(bad(format!("data/{name} is listed twice")));
            }
            let path = root.join(DATA_DIR).join(name);
            let display = rel(&path);
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => {}
                Ok(_) => return Err(read_err(&display, "read", &io::Error::other("not a file"))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(ExportFileError::MissingDataFile { file: display })
                }
                Err(e) => return Err(read_err(&display, "read", &e)),
            }
            files.push(DataFile {
                path,
                display,
                item_count: entry.item_count,
                md5,
            });
        }
        let listed: u64 = files.iter().map(|f| f.item_count).sum();
        if let Some(expected) = summary.item_count.filter(|&n| n != listed) {
            return Err(ExportFileError::CountMismatch {
                file: summary_name,
                source_name: "itemCount",
                expected,
                actual: listed,
            });
        }
        Ok(ExportSet {
            root,
            summary,
            files,
        })
    }

    /// Items the manifests announce.
    pub fn item_count(&self) -> u64 {
        self.files.iter().map(|f| f.item_count).sum()
    }

    /// Read every data file once (in parallel): MD5 against the manifest, gunzip, parse every
    /// line, count items against the manifest. The first failing file (in manifest order) is
    /// reported. Run before importing anything.
    pub fn validate(&self) -> Result<Validation, ExportFileError> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(self.files.len())
            .max(1);
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Mutex<Vec<Option<Result<u64, ExportFileError>>>> =
            Mutex::new(vec![None; self.files.len()]);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= self.files.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let result = validate_file(&self.files[i]);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(result);
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_else(|p| p.into_inner());
        let mut total = Validation {
            files: 0,
            items: 0,
            bytes: 0,
        };
        for (file, result) in self.files.iter().zip(&results) {
            if let Some(Err(e)) = result {
                return Err(e.clone());
            }
            if let Some(Ok(bytes)) = result {
                total.files += 1;
                total.items += file.item_count;
                total.bytes += bytes;
            }
        }
        Ok(total)
    }
}

/// Check one file; its compressed size on success.
fn validate_file(file: &DataFile) -> Result<u64, ExportFileError> {
    let mut reader = file.reader()?;
    let mut items = 0u64;
    let mut first_error = None;
    for item in reader.by_ref() {
        match item {
            Ok(_) => items += 1,
            Err(e) => {
                first_error = Some(e);
                break;
            }
        }
    }
    let name = reader.file.clone();
    let drained = reader.drain_md5();
    let (md5, bytes) = match (drained, first_error) {
        // A truncated file always fails its checksum: "truncated" says more.
        (_, Some(e @ ExportFileError::Truncated { .. })) => return Err(e),
        (Err(_), Some(e)) => return Err(e),
        (Err(e), None) => return Err(read_err(&name, "read", &e)),
        (Ok(d), Some(e)) if d.0 == file.md5 => return Err(e),
        (Ok(d), _) => d,
    };
    if md5 != file.md5 {
        return Err(ExportFileError::ChecksumMismatch {
            file: name,
            expected: BASE64.encode(file.md5),
            actual: BASE64.encode(md5),
        });
    }
    if items != file.item_count {
        return Err(ExportFileError::CountMismatch {
            file: name,
            source_name: MANIFEST_FILES,
            expected: file.item_count,
            actual: items,
        });
    }
    Ok(bytes)
}

/// `dir` if it holds a summary, else the single `dir/AWSDynamoDB/<id>/` that does.
fn find_root(dir: &Path) -> Result<PathBuf, ExportFileError> {
    let name = dir.display().to_string();
    match fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(read_err(&name, "open", &io::Error::other("not a folder"))),
        Err(e) => return Err(read_err(&name, "open", &e)),
    }
    if dir.join(MANIFEST_SUMMARY).exists() {
        return Ok(dir.to_owned());
    }
    let s3 = dir.join(S3_EXPORTS_DIR);
    let not_complete = || ExportFileError::NotComplete { dir: name.clone() };
    let entries = match fs::read_dir(&s3) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(not_complete()),
        Err(e) => return Err(read_err(S3_EXPORTS_DIR, "list", &e)),
    };
    let mut found = Vec::new();
    let mut incomplete = None;
    for entry in entries {
        let path = entry
            .map_err(|e| read_err(S3_EXPORTS_DIR, "list", &e))?
            .path();
        if path.join(MANIFEST_SUMMARY).is_file() {
            found.push(path);
        } else if path.is_dir() {
            incomplete.get_or_insert(path);
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(ExportFileError::NotComplete {
            dir: incomplete.map_or(name, |p| relative(dir, &p)),
        }),
        count => {
            found.sort();
            let names: Vec<String> = found.iter().map(|p| relative(dir, p)).collect();
            Err(ExportFileError::SeveralExports {
                dir: name,
                count,
                names: names.join(", "),
            })
        }
    }
}

/// The `NAME` of a key ending in `data/NAME`.
fn data_file_name(key: &str) -> Option<&str> {
    let mut parts = key.rsplit('/');
    let name = parts.next()?;
    (parts.next()? == DATA_DIR && is_plain_name(name)).then_some(name)
}

/// `path` relative to `base` (with `/`), or as it is.
fn relative(base: &Path, path: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{item_from_export_line, Attr, Number};
    use std::collections::BTreeMap;
    use std::time::Duration;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    /// Items with every attribute type.
    fn sample_items(count: usize) -> Vec<Item> {
        (0..count)
            .map(|i| {
                let mut m = BTreeMap::new();
                m.insert("city".to_owned(), Attr::S("Zürich \"quoted\"\n".to_owned()));
                m.insert(
                    "lines".to_owned(),
                    Attr::L(vec![Attr::Null, Attr::Bool(i % 2 == 0)]),
                );
                Item::from([
                    ("pk".to_owned(), Attr::S(format!("user#{i}"))),
                    ("sk".to_owned(), Attr::N(n(&format!("{i}.5")))),
                    ("blob".to_owned(), Attr::B(vec![0, 1, 2, 255])),
                    ("tags".to_owned(), Attr::Ss(vec!["a".into(), "b".into()])),
                    ("scores".to_owned(), Attr::Ns(vec![n("1"), n("-2.5E+10")])),
                    ("blobs".to_owned(), Attr::Bs(vec![vec![1], vec![2, 3]])),
                    ("address".to_owned(), Attr::M(m)),
                    ("active".to_owned(), Attr::Bool(true)),
                    ("gone".to_owned(), Attr::Null),
                ])
            })
            .collect()
    }

    fn info() -> HoldfastExportInfo {
        HoldfastExportInfo {
            table: "users".to_owned(),
            key_schema: vec![
                KeyAttribute {
                    name: "pk".to_owned(),
                    key_type: KeyType::S,
                    role: KeyRole::Hash,
                },
                KeyAttribute {
                    name: "sk".to_owned(),
                    key_type: KeyType::N,
                    role: KeyRole::Range,
                },
            ],
            segments: 2,
        }
    }

    /// A Holdfast export of `files` (name → items) in `dir`.
    fn export(dir: &Path, files: &[(&str, &[Item])]) -> Vec<DataFileSummary> {
        let summaries: Vec<DataFileSummary> = files
            .iter()
            .map(|(name, items)| {
                let mut w = DataFileWriter::create(dir, name).unwrap();
                items.iter().for_each(|item| w.write_item(item).unwrap());
                w.finish().unwrap()
            })
            .collect();
        let total = summaries.iter().map(|s| s.item_count).sum();
        let t = rfc3339_utc(SystemTime::now());
        let summary = ManifestSummary::holdfast(info(), total, t.clone(), t);
        write_manifests(dir, &summary, &summaries).unwrap();
        summaries
    }

    /// An export with one data file `data/bad.json.gz` of these raw lines, with a correct MD5
    /// and the given count in the manifests.
    fn raw_export(dir: &Path, text: &str, count: u64) {
        fs::create_dir_all(dir.join("data")).unwrap();
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        fs::write(dir.join("data/bad.json.gz"), &bytes).unwrap();
        let md5: [u8; 16] = Md5::digest(&bytes).into();
        let file = DataFileSummary {
            item_count: count,
            md5_base64: BASE64.encode(md5),
            etag: hex(&md5),
            key: "data/bad.json.gz".to_owned(),
            bytes: bytes.len() as u64,
        };
        let summary = ManifestSummary::holdfast(info(), count, "t".into(), "t".into());
        write_manifests(dir, &summary, &[file]).unwrap();
    }

    fn validate_err(dir: &Path) -> String {
        let err = ExportSet::open(dir)
            .and_then(|set| set.validate())
            .unwrap_err();
        let text = err.to_string();
        assert!(!text.contains('\n'), "one line: {text}");
        text
    }

    #[test]
    fn round_trip_every_attribute_type() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (sample_items(3), sample_items(2));
        let written = export(
            tmp.path(),
            &[("seg-0000", &a), ("seg-0001", &b), ("empty", &[])],
        );
        assert_eq!(written[0].key, "data/seg-0000.json.gz");
        assert_eq!(written[0].item_count, 3);
        let gz = fs::read(tmp.path().join("data/seg-0000.json.gz")).unwrap();
        let md5: [u8; 16] = Md5::digest(&gz).into();
        assert_eq!(written[0].md5_base64, BASE64.encode(md5));
        assert_eq!(written[0].etag, hex(&md5));
        assert_eq!(written[0].bytes, gz.len() as u64);
        assert!(!tmp.path().join("data/seg-0000.json.gz.partial").exists());

        let files = fs::read_to_string(tmp.path().join(MANIFEST_FILES)).unwrap();
        let first: Value = serde_json::from_str(files.lines().next().unwrap()).unwrap();
        assert_eq!(first["itemCount"], 3);
        assert_eq!(first["dataFileS3Key"], "data/seg-0000.json.gz");
        assert_eq!(first["md5Checksum"], written[0].md5_base64.as_str());
        let summary: Value =
            serde_json::from_str(&fs::read_to_string(tmp.path().join(MANIFEST_SUMMARY)).unwrap())
                .unwrap();
        assert_eq!(summary["version"], "2020-06-30");
        assert_eq!(summary["outputFormat"], "DYNAMODB_JSON");
        assert_eq!(summary["exportType"], "FULL_EXPORT");
        assert_eq!(summary["itemCount"], 5);
        assert_eq!(summary["manifestFilesS3Key"], "manifest-files.json");
        assert_eq!(summary["holdfast"]["keySchema"][1]["type"], "N");
        assert_eq!(summary["holdfast"]["keySchema"][1]["role"], "RANGE");

        let set = ExportSet::open(tmp.path()).unwrap();
        assert_eq!(set.summary.holdfast, Some(info()));
        assert_eq!(set.files.len(), 3);
        assert_eq!(set.files[1].display, "data/seg-0001.json.gz");
        assert_eq!(set.item_count(), 5);
        let v = set.validate().unwrap();
        assert_eq!((v.files, v.items), (3, 5));
        let read: Vec<Item> = set.files[0].reader().unwrap().map(Result::unwrap).collect();
        assert_eq!(read, a);
        let read: Vec<Item> = DataFileReader::open(&set.files[1].path)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(read, b);
        assert_eq!(set.files[2].reader().unwrap().count(), 0);
    }

    #[test]
    fn reads_a_downloaded_s3_export() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("AWSDynamoDB/0123-abcd");
        fs::create_dir_all(&root).unwrap();
        fs::write(root.join("_started"), "").unwrap();
        let items = sample_items(4);
        let mut w = DataFileWriter::create(&root, "x").unwrap();
        items.iter().for_each(|i| w.write_item(i).unwrap());
        let f = w.finish().unwrap();
        let line = format!(
            "{{\"itemCount\":4,\"md5Checksum\":\"{}\",\"etag\":\"{}-1\",\"dataFileS3Key\":\"AWSDynamoDB/0123-abcd/data/x.json.gz\"}}\n",
            f.md5_base64, f.etag
        );
        fs::write(root.join(MANIFEST_FILES), line).unwrap();
        fs::write(
            root.join(MANIFEST_SUMMARY),
            r#"{"version":"2020-06-30","exportArn":"arn:aws:dynamodb:us-east-1:123456789012:table/T/export/0123-abcd","startTime":"2020-11-04T07:28:34.028Z","endTime":"2020-11-04T07:33:43.897Z","tableId":"12345a12","tableArn":"arn:aws:dynamodb:us-east-1:123456789012:table/T","exportTime":"2020-11-04T07:28:34.028Z","s3Bucket":"b","s3Prefix":null,"s3SseAlgorithm":"AES256","s3SseKmsKeyId":null,"manifestFilesS3Key":"AWSDynamoDB/0123-abcd/manifest-files.json","billedSizeBytes":0,"itemCount":4,"outputFormat":"DYNAMODB_JSON","exportType":"FULL_EXPORT","someFutureField":{"x":1}}"#,
        )
        .unwrap();
        let set = ExportSet::open(tmp.path()).unwrap();
        assert_eq!(set.root, root);
        assert_eq!(set.files[0].display, "AWSDynamoDB/0123-abcd/data/x.json.gz");
        assert_eq!(set.summary.s3_prefix, None);
        assert_eq!(
            set.summary.export_time.as_deref(),
            Some("2020-11-04T07:28:34.028Z")
        );
        assert_eq!(set.validate().unwrap().items, 4);
        let read: Vec<Item> = set.files[0].reader().unwrap().map(Result::unwrap).collect();
        assert_eq!(read, items);
        // The export folder itself opens too.
        assert_eq!(
            ExportSet::open(&root).unwrap().files[0].display,
            "data/x.json.gz"
        );
    }

    #[test]
    fn refuses_incomplete_and_ambiguous_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
        assert!(
            text.ends_with(": not a complete export: no manifest-summary.json"),
            "{text}"
        );

        export(tmp.path(), &[("a", &sample_items(1))]);
        fs::remove_file(tmp.path().join(MANIFEST_SUMMARY)).unwrap();
        let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
        assert!(
            text.contains("not a complete export: no manifest-summary.json"),
            "{text}"
        );

        let s3 = tmp.path().join("AWSDynamoDB");
        fs::create_dir_all(s3.join("1111")).unwrap();
        let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
        assert_eq!(
            text,
            "AWSDynamoDB/1111: not a complete export: no manifest-summary.json"
        );
        export(&s3.join("1111"), &[("a", &sample_items(1))]);
        export(&s3.join("2222"), &[("a", &sample_items(1))]);
        let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
        assert!(
            text.ends_with("2 exports under AWSDynamoDB/ (AWSDynamoDB/1111, AWSDynamoDB/2222); give the folder of one"),
            "{text}"
        );
    }

    #[test]
    fn refuses_a_missing_data_file() {
        let tmp = tempfile::tempdir().unwrap();
        export(
            tmp.path(),
            &[("a", &sample_items(1)), ("b", &sample_items(1))],
        );
        fs::remove_file(tmp.path().join("data/b.json.gz")).unwrap();
        let text = ExportSet::open(tmp.path()).unwrap_err().to_string();
        assert_eq!(
            text,
            "data/b.json.gz: listed in manifest-files.json but missing"
        );
        let path = tmp.path().join("data/b.json.gz");
        let Err(err) = DataFileReader::open(&path) else {
            panic!("opened a missing file")
        };
        assert!(err
            .to_string()
            .ends_with("b.json.gz: cannot open: No such file or directory"));
    }

    #[test]
    fn refuses_ion_and_incremental_exports() {
        let tmp = tempfile::tempdir().unwrap();
        export(tmp.path(), &[("a", &sample_items(1))]);
        let path = tmp.path().join(MANIFEST_SUMMARY);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("DYNAMODB_JSON", "ION")).unwrap();
        let err = ExportSet::open(tmp.path()).unwrap_err();
        assert!(matches!(err, ExportFileError::UnsupportedFormat { .. }));
        let msg = err.to_string();
        assert!(
            msg.starts_with("manifest-summary.json: output format ION is not supported"),
            "{msg}"
        );
        assert!(msg.contains("Ion"), "{msg}");
        fs::write(&path, text.replace("FULL_EXPORT", "INCREMENTAL_EXPORT")).unwrap();
        let msg = ExportSet::open(tmp.path()).unwrap_err().to_string();
        assert!(
            msg.contains("export type INCREMENTAL_EXPORT is not supported"),
            "{msg}"
        );
    }

    #[test]
    fn detects_truncation_and_corruption() {
        let tmp = tempfile::tempdir().unwrap();
        export(
            tmp.path(),
            &[("a", &sample_items(50)), ("b", &sample_items(50))],
        );
        let path = tmp.path().join("data/b.json.gz");
        let bytes = fs::read(&path).unwrap();

        fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(
            validate_err(tmp.path()),
            "data/b.json.gz: truncated: the gzip data ends early (incomplete copy or download?)"
        );
        // Without its 8-byte trailer.
        fs::write(&path, &bytes[..bytes.len() - 8]).unwrap();
        assert!(validate_err(tmp.path()).contains("truncated"));

        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        fs::write(&path, &flipped).unwrap();
        let text = validate_err(tmp.path());
        assert!(
            text.starts_with("data/b.json.gz: MD5 checksum mismatch: the manifest says "),
            "{text}"
        );

        let mut header = bytes.clone();
        header[0] = b'{';
        fs::write(&path, &header).unwrap();
        assert!(matches!(
            ExportSet::open(tmp.path()).unwrap().files[1]
                .reader()
                .unwrap()
                .next(),
            Some(Err(ExportFileError::BadGzip { .. }))
        ));
        assert!(validate_err(tmp.path()).contains("MD5 checksum mismatch"));
    }

    #[test]
    fn bad_lines_name_file_line_and_path_but_no_value() {
        let tmp = tempfile::tempdir().unwrap();
        let lines = [
            r#"{"Item":{"pk":{"S":"ok"}}}"#,
            r#"{"Item":{"address":{"M":{"lines":{"L":[{"S":"a"},{"S":"b"},{"B":"secret!!"}]}}}}}"#,
            r#"{"Item":{"email":{"S":"secret@example.com"}"#,
            r#"{"Item":{"email":{"S":"secret@example.com"}}, secret}"#,
            r#"{"Item":{"amount":{"N":"12345secret"}}}"#,
            r#"{"Item":{"amount":{"N":"123456789012345678901234567890123456789"}}}"#,
            r#"{"Thing":{}}"#,
        ];
        raw_export(tmp.path(), &(lines.join("\n") + "\n"), 1);
        let set = ExportSet::open(tmp.path()).unwrap();
        let errors: Vec<String> = set.files[0]
            .reader()
            .unwrap()
            .filter_map(|r| r.err().map(|e| e.to_string()))
            .collect();
        assert_eq!(
            errors,
            [
                "data/bad.json.gz line 2: attribute `address.lines[2]`: invalid base64 (standard alphabet, padded)",
                "data/bad.json.gz line 3: incomplete JSON",
                "data/bad.json.gz line 4: not valid JSON (column 47)",
                "data/bad.json.gz line 5: attribute `amount`: not a decimal number",
                "data/bad.json.gz line 6: attribute `amount`: 39 significant digits; DynamoDB keeps at most 38",
                "data/bad.json.gz line 7: expected an object with the single key \"Item\"",
            ]
        );
        for e in &errors {
            assert!(!e.contains("secret") && !e.contains("12345678"), "{e}");
        }
        assert_eq!(
            validate_err(tmp.path()),
            "data/bad.json.gz line 2: attribute `address.lines[2]`: invalid base64 (standard alphabet, padded)"
        );
    }

    #[test]
    fn blank_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let line = item_to_export_line(&sample_items(1)[0]);
        raw_export(tmp.path(), &format!("{line}\n{line}\n\n"), 2);
        assert_eq!(
            ExportSet::open(tmp.path())
                .unwrap()
                .validate()
                .unwrap()
                .items,
            2
        );
        raw_export(tmp.path(), &format!("{line}\n\n{line}"), 2);
        assert_eq!(
            validate_err(tmp.path()),
            "data/bad.json.gz line 2: blank line"
        );
    }

    #[test]
    fn count_mismatch() {
        let tmp = tempfile::tempdir().unwrap();
        let line = item_to_export_line(&sample_items(1)[0]);
        raw_export(tmp.path(), &format!("{line}\n{line}\n"), 3);
        assert_eq!(
            validate_err(tmp.path()),
            "data/bad.json.gz: item count mismatch: manifest-files.json says 3, found 2"
        );
        // The summary and the file list disagree.
        let path = tmp.path().join(MANIFEST_SUMMARY);
        let text = fs::read_to_string(&path).unwrap();
        fs::write(&path, text.replace("\"itemCount\":3", "\"itemCount\":7")).unwrap();
        assert_eq!(
            validate_err(tmp.path()),
            "manifest-summary.json: item count mismatch: itemCount says 7, found 3"
        );
    }

    #[test]
    fn writer_refuses_bad_names_and_bad_totals() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["", "..", "a/b", "a\\b"] {
            assert!(matches!(
                DataFileWriter::create(tmp.path(), name),
                Err(ExportFileError::BadName { .. })
            ));
        }
        let summary = ManifestSummary::holdfast(info(), 9, "t".into(), "t".into());
        let err = write_manifests(tmp.path(), &summary, &[]).unwrap_err();
        assert!(matches!(err, ExportFileError::CountMismatch { .. }));
        assert!(!tmp.path().join(MANIFEST_SUMMARY).exists());
    }

    #[test]
    fn a_large_file_streams() {
        let tmp = tempfile::tempdir().unwrap();
        // 100k items (~1.5 MB of gzip): ~2 s unoptimized; the reader and writer hold one line.
        let count = 100_000u64;
        let mut w = DataFileWriter::create(tmp.path(), "big").unwrap();
        for i in 0..count {
            let item = Item::from([
                ("pk".to_owned(), Attr::S(format!("k{i}"))),
                ("v".to_owned(), Attr::N(n("7"))),
            ]);
            w.write_item(&item).unwrap();
        }
        let f = w.finish().unwrap();
        let summary = ManifestSummary::holdfast(info(), count, "t".into(), "t".into());
        write_manifests(tmp.path(), &summary, &[f]).unwrap();
        let set = ExportSet::open(tmp.path()).unwrap();
        assert_eq!(set.validate().unwrap().items, count);
    }

    #[test]
    fn formats_times_as_rfc3339_utc() {
        let at = |ms: u64| rfc3339_utc(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(1_604_474_914_028), "2020-11-04T07:28:34.028Z");
        assert_eq!(at(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn lines_match_item_module() {
        let item = &sample_items(1)[0];
        assert_eq!(
            parse_line(item_to_export_line(item).as_bytes()).unwrap(),
            item_from_export_line(&item_to_export_line(item)).unwrap()
        );
    }
}
