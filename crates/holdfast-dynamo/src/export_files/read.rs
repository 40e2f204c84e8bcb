//! Reading one data file, streaming: line by line, hashed as read, every line parsed (errors
//! name the file, line and attribute path, never a value).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;
use md5::{Digest, Md5};
use serde_json::Value;

use super::{read_err, ExportFileError, MAX_LINE};
use crate::item::{item_from_dynamo_json, DynamoJsonError, Item};

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
    pub(super) file: String,
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

    pub(super) fn open_as(path: &Path, file: String) -> Result<Self, ExportFileError> {
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
    pub(super) fn drain_md5(mut self) -> io::Result<([u8; 16], u64)> {
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
pub(super) fn parse_line(line: &[u8]) -> Result<Item, String> {
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
