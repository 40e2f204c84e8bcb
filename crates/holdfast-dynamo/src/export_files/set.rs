//! An export on disk: finding its folder (a Holdfast export, or the one export of a downloaded
//! S3 export), reading its manifests, checking that every data file is there, and validating
//! every file before an import writes anything.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::manifest::{ManifestFileLine, ManifestSummary};
use super::read::DataFileReader;
use super::write::is_plain_name;
use super::{
    read_err, ExportFileError, DATA_DIR, FULL_EXPORT, MANIFEST_FILES, MANIFEST_SUMMARY,
    OUTPUT_FORMAT, S3_EXPORTS_DIR,
};

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
