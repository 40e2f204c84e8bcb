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

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aws_sdk_dynamodb::Client;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::dynamo::TransferReport;
use holdfast_report::{Command, Envelope};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::copy::{describe_key, CopyError, TransformSpec};
use crate::export_files::{
    self, DataFileSummary, DataFileWriter, ExportFileError, ExportSet, HoldfastExportInfo,
    KeyAttribute, KeyRole, KeyType, ManifestSummary,
};
use crate::keys::KeySpec;
use crate::rate::RateLimiter;
use crate::scanner::{Scanner, Segment};
use crate::sdk_item::{item_from_sdk, item_to_sdk};
use crate::stop::Stop;
use crate::transform::Transform;
use crate::verify::KeyAttrType;
use crate::writer::{BatchWriter, WriteCounters};

/// Items per write call of an import.
const IMPORT_CHUNK: usize = 100;

/// Why an export or import did not complete.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error(transparent)]
    Table(#[from] Box<CopyError>),
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
            TransferError::Transform(_) => Outcome::Usage,
            _ => Outcome::Usage,
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

fn key_attributes(key: &KeySpec) -> Vec<KeyAttribute> {
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
fn key_spec(attributes: &[KeyAttribute]) -> Option<KeySpec> {
    let part = |role: KeyRole| {
        attributes
            .iter()
            .find(|a| a.role == role)
            .map(|a| crate::verify::KeyPart {
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

/// Exports `table` into the new or empty folder `dir`.
///
/// # Errors
/// [`TransferError`].
pub async fn export(
    client: &Client,
    table: &str,
    dir: &Path,
    segments: u32,
    stop: Arc<Stop>,
) -> Result<TransferReport, TransferError> {
    let started = Instant::now();
    let start_time = export_files::rfc3339_utc(SystemTime::now());
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(TransferError::NotEmpty(dir.display().to_string()));
    }
    let (key, _) = describe_key(client, table).await.map_err(Box::new)?;
    let scanner = Scanner::new(client.clone(), table, Arc::new(RateLimiter::new(None)));
    let segments = segments.max(1);
    let mut tasks = JoinSet::new();
    for segment in 0..segments {
        let scanner = scanner.clone();
        let stop = Arc::clone(&stop);
        let dir: PathBuf = dir.to_owned();
        tasks.spawn(async move {
            let (tx, mut rx) = mpsc::channel::<Vec<crate::sdk_item::SdkItem>>(2);
            let name = format!("segment-{segment:05}");
            let writer =
                tokio::task::spawn_blocking(move || -> Result<DataFileSummary, TransferError> {
                    let mut file = DataFileWriter::create(&dir, &name)?;
                    while let Some(page) = rx.blocking_recv() {
                        for item in &page {
                            let item = item_from_sdk(item)
                                .map_err(|e| TransferError::Failed(format!("{name}: {e}")))?;
                            file.write_item(&item)?;
                        }
                    }
                    Ok(file.finish()?)
                });
            let seg = Segment {
                segment,
                total: segments,
            };
            let mut start = None;
            let scanned: Result<(), TransferError> = async {
                loop {
                    let page = scanner
                        .page(Some(seg), start, &stop)
                        .await
                        .map_err(|e| TransferError::Failed(e.to_string()))?;
                    if tx.send(page.items).await.is_err() {
                        return Ok(()); // the writer failed: its error is reported below
                    }
                    match page.next {
                        Some(next) => start = Some(next),
                        None => return Ok(()),
                    }
                }
            }
            .await;
            drop(tx);
            let written = writer
                .await
                .map_err(|e| TransferError::Failed(format!("export writer: {e}")))?;
            scanned?;
            written
        });
    }
    let mut files = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        files.push(joined.map_err(|e| TransferError::Failed(format!("export worker: {e}")))??);
    }
    files.sort_by(|a, b| a.key.cmp(&b.key));
    let items: u64 = files.iter().map(|f| f.item_count).sum();
    let summary = ManifestSummary::holdfast(
        HoldfastExportInfo {
            table: table.to_owned(),
            key_schema: key_attributes(&key),
            segments,
        },
        items,
        start_time,
        export_files::rfc3339_utc(SystemTime::now()),
    );
    export_files::write_manifests(dir, &summary, &files)?;
    Ok(report(
        Command::DynamoExport,
        table,
        dir,
        files.len(),
        items,
        &WriteCounters::default(),
        started,
    ))
}

fn report(
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

/// Imports the export in `dir` into `table`.
///
/// # Errors
/// [`TransferError`]; before anything is written when the export is invalid.
pub async fn import(
    client: &Client,
    dir: &Path,
    table: &str,
    workers: u32,
    allow_nonempty_target: bool,
    transform: Option<&TransformSpec>,
    stop: Arc<Stop>,
) -> Result<TransferReport, TransferError> {
    let started = Instant::now();
    let set = {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || -> Result<ExportSet, ExportFileError> {
            let set = ExportSet::open(&dir)?;
            set.validate()?;
            Ok(set)
        })
        .await
        .map_err(|e| TransferError::Failed(format!("validation: {e}")))??
    };
    let (key, _) = describe_key(client, table).await.map_err(Box::new)?;
    // The export's own key (recorded by Holdfast's exports; S3 exports do not say).
    let export_key = set
        .summary
        .holdfast
        .as_ref()
        .and_then(|info| key_spec(&info.key_schema))
        .unwrap_or_else(|| key.clone());
    let transform = match transform {
        Some(spec) => {
            let compiled = spec
                .compile(&export_key)
                .map_err(|e| TransferError::Transform(e.to_string()))?;
            sample_check(&set, &compiled, &export_key, &key)?;
            Some(compiled)
        }
        None => None,
    };
    if let Some(info) = set
        .summary
        .holdfast
        .as_ref()
        .filter(|_| transform.is_none())
    {
        if info.key_schema != key_attributes(&key) {
            let show = |k: &[KeyAttribute]| {
                k.iter()
                    .map(|a| format!("{}:{:?}", a.name, a.key_type))
                    .collect::<Vec<_>>()
                    .join(",")
            };
            return Err(TransferError::KeyMismatch {
                table: info.table.clone(),
                export_key: show(&info.key_schema),
                target: table.to_owned(),
                target_key: key.to_string(),
            });
        }
    }
    let unlimited = Arc::new(RateLimiter::new(None));
    if !allow_nonempty_target
        && !Scanner::new(client.clone(), table, Arc::clone(&unlimited))
            .is_empty(&stop)
            .await
            .map_err(|e| TransferError::Failed(e.to_string()))?
    {
        return Err(TransferError::TargetNotEmpty(table.to_owned()));
    }
    let counters = Arc::new(WriteCounters::default());
    let writer = BatchWriter::new(
        client.clone(),
        table,
        key.clone(),
        unlimited,
        Arc::clone(&counters),
    );
    let files = Arc::new(std::sync::Mutex::new(set.files.clone()));
    let shaped = Arc::new(Shaped::default());
    let items = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..workers.max(1) {
        let files = Arc::clone(&files);
        let writer = writer.clone();
        let key = key.clone();
        let stop = Arc::clone(&stop);
        let items = Arc::clone(&items);
        let transform = transform.clone();
        let shaped = Arc::clone(&shaped);
        tasks.spawn(async move {
            loop {
                let Some(file) = files
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .pop()
                else {
                    return Ok::<(), TransferError>(());
                };
                let (tx, mut rx) =
                    mpsc::channel::<Result<Vec<crate::sdk_item::SdkItem>, TransferError>>(2);
                let key = key.clone();
                let transform = transform.clone();
                let shaped = Arc::clone(&shaped);
                let reader = tokio::task::spawn_blocking(move || {
                    let send = |chunk| tx.blocking_send(chunk).is_ok();
                    let mut reader = match file.reader() {
                        Ok(r) => r,
                        Err(e) => return send(Err(e.into())),
                    };
                    let mut chunk = Vec::with_capacity(IMPORT_CHUNK);
                    while let Some(next) = reader.next() {
                        let line = reader.line_number();
                        let item = match next {
                            Ok(item) => item,
                            Err(e) => return send(Err(e.into())),
                        };
                        let outputs = match shape(&item, transform.as_deref(), &shaped) {
                            Ok(outputs) => outputs,
                            Err(reason) => {
                                return send(Err(TransferError::Item {
                                    file: file.display.clone(),
                                    line,
                                    reason,
                                }))
                            }
                        };
                        for out in outputs {
                            if let Err(e) = key.check(&out) {
                                return send(Err(TransferError::Item {
                                    file: file.display.clone(),
                                    line,
                                    reason: e.to_string(),
                                }));
                            }
                            chunk.push(out);
                        }
                        if chunk.len() >= IMPORT_CHUNK && !send(Ok(std::mem::take(&mut chunk))) {
                            return false;
                        }
                    }
                    chunk.is_empty() || send(Ok(chunk))
                });
                while let Some(chunk) = rx.recv().await {
                    let chunk = chunk?;
                    let n = chunk.len() as u64;
                    writer
                        .put_all(chunk, &stop)
                        .await
                        .map_err(|e| TransferError::Failed(e.to_string()))?;
                    items.fetch_add(n, Ordering::Relaxed);
                }
                reader
                    .await
                    .map_err(|e| TransferError::Failed(format!("import reader: {e}")))?;
            }
        });
    }
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined
            .map_err(|e| TransferError::Failed(format!("import worker: {e}")))
            .and_then(|r| r)
        {
            stop.interrupt();
            failure.get_or_insert(e);
        }
    }
    let written = items.load(Ordering::Relaxed);
    if let Some(e) = failure {
        return Err(TransferError::Failed(format!(
            "{e}; {written} items were written before it (an import is puts: fix the cause and import again into the table that now holds them)"
        )));
    }
    let mut done = report(
        Command::DynamoImport,
        table,
        dir,
        set.files.len(),
        written,
        &counters,
        started,
    );
    done.items_dropped = shaped.dropped.load(Ordering::Relaxed);
    done.items_split = shaped.split.load(Ordering::Relaxed);
    Ok(done)
}

/// Counts of a transformed import.
#[derive(Debug, Default)]
struct Shaped {
    dropped: AtomicU64,
    split: AtomicU64,
}

/// An exported item as it is written: as it is, or the transform's outputs.
fn shape(
    item: &crate::Item,
    transform: Option<&Transform>,
    shaped: &Shaped,
) -> Result<Vec<crate::sdk_item::SdkItem>, String> {
    let Some(t) = transform else {
        return Ok(vec![item_to_sdk(item)]);
    };
    let outputs = t.apply(item).map_err(|e| e.to_string())?;
    match outputs.len() {
        0 => shaped.dropped.fetch_add(1, Ordering::Relaxed),
        n => shaped.split.fetch_add(n as u64 - 1, Ordering::Relaxed),
    };
    Ok(outputs.iter().map(item_to_sdk).collect())
}

/// Runs the transform on the first items of the export and checks every output against the
/// table's key, before anything is written.
fn sample_check(
    set: &ExportSet,
    transform: &Transform,
    export_key: &KeySpec,
    key: &KeySpec,
) -> Result<(), TransferError> {
    let Some(file) = set.files.first() else {
        return Ok(());
    };
    let mut reader = file.reader()?;
    let shaped = Shaped::default();
    let mut seen = 0;
    while let Some(next) = reader.next() {
        let line = reader.line_number();
        let item = next?;
        let at = |reason: String| {
            TransferError::Transform(format!("{} line {line}: {reason}", file.display))
        };
        for (i, out) in shape(&item, Some(transform), &shaped)
            .map_err(at)?
            .iter()
            .enumerate()
        {
            key.check(out).map_err(|problem| {
                at(format!(
                    "transform {} on item {}: output {} {problem}",
                    transform.name(),
                    export_key.render(&item_to_sdk(&item)),
                    i + 1
                ))
            })?;
        }
        seen += 1;
        if seen == crate::copy::SAMPLE_ITEMS {
            break;
        }
    }
    Ok(())
}
