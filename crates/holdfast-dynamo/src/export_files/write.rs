//! Writing one data file: gzip DynamoDB-JSON lines into `NAME.json.gz.partial`, hashed as
//! written, renamed into place only when finished.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use md5::{Digest, Md5};

use super::manifest::sync_dir;
use super::{write_err, ExportFileError, DATA_DIR, DATA_SUFFIX, PARTIAL_SUFFIX};
use crate::item::{item_to_export_line, Item};

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

pub(super) fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
