//! `holdfast dynamo import DIR TABLE`: the whole export is validated first (checksums, gzip,
//! every line, counts; and the key schema when the export records it, unless a transform
//! changes the key), so a corrupt or unreadable export writes nothing; then the data files are
//! read in parallel, streaming, and written with the copy's [`BatchWriter`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use holdfast_report::dynamo::TransferReport;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use super::{key_attributes, key_spec, report, ImportRequest, TransferError};
use crate::copy::SAMPLE_ITEMS;
use crate::describe::describe_key;
use crate::export_files::{DataFile, ExportFileError, ExportSet, KeyAttribute};
use crate::keys::KeySpec;
use crate::rate::RateLimiter;
use crate::scanner::Scanner;
use crate::sdk_item::{item_to_sdk, SdkItem};
use crate::stop::Stop;
use crate::transform::Transform;
use crate::writer::{BatchWriter, WriteCounters};

/// Items per write call of an import.
const IMPORT_CHUNK: usize = 100;

/// Imports the export in `request.dir` into `request.table`.
///
/// # Errors
/// [`TransferError`]; before anything is written when the export is invalid.
pub async fn import(
    client: &Client,
    request: &ImportRequest,
    stop: Arc<Stop>,
) -> Result<TransferReport, TransferError> {
    let started = Instant::now();
    let set = open_validated(&request.dir).await?;
    let (key, transform) = check_target(client, request, &set, &stop).await?;
    let counters = Arc::new(WriteCounters::default());
    let writer = BatchWriter::new(
        client.clone(),
        &request.table,
        key.clone(),
        Arc::new(RateLimiter::new(None)),
        Arc::clone(&counters),
    );
    let job = Arc::new(Job {
        files: Mutex::new(set.files.clone()),
        writer,
        key,
        transform,
        stop,
        shaped: Shaped::default(),
        items: AtomicU64::new(0),
    });
    let failure = job.run(request.workers).await;
    let written = job.items.load(Ordering::Relaxed);
    if let Some(e) = failure {
        return Err(TransferError::Failed(format!(
            "{e}; {written} items were written before it (an import is puts: fix the cause and import again into the table that now holds them)"
        )));
    }
    let mut done = report(
        holdfast_report::Command::DynamoImport,
        &request.table,
        &request.dir,
        set.files.len(),
        written,
        &counters,
        started,
    );
    done.items_dropped = job.shaped.dropped.load(Ordering::Relaxed);
    done.items_split = job.shaped.split.load(Ordering::Relaxed);
    Ok(done)
}

/// Opens the export and validates every data file (on a blocking thread).
async fn open_validated(dir: &Path) -> Result<ExportSet, TransferError> {
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || -> Result<ExportSet, ExportFileError> {
        let set = ExportSet::open(&dir)?;
        set.validate()?;
        Ok(set)
    })
    .await
    .map_err(|e| TransferError::Failed(format!("validation: {e}")))?
    .map_err(TransferError::from)
}

/// The table's key and the compiled transform, after the checks against the table: the
/// transform's sample, the export's recorded key schema (without a transform), an empty table
/// (unless allowed).
async fn check_target(
    client: &Client,
    request: &ImportRequest,
    set: &ExportSet,
    stop: &Stop,
) -> Result<(KeySpec, Option<Arc<Transform>>), TransferError> {
    let table = request.table.as_str();
    let (key, _) = describe_key(client, table).await?;
    // The export's own key (recorded by Holdfast's exports; S3 exports do not say).
    let export_key = set
        .summary
        .holdfast
        .as_ref()
        .and_then(|info| key_spec(&info.key_schema))
        .unwrap_or_else(|| key.clone());
    let transform = match &request.transform {
        Some(spec) => {
            let compiled = spec
                .compile(&export_key)
                .map_err(|e| TransferError::Transform(e.to_string()))?;
            sample_check(set, &compiled, &export_key, &key)?;
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
    if !request.allow_nonempty_target
        && !Scanner::new(client.clone(), table, Arc::new(RateLimiter::new(None)))
            .is_empty(stop)
            .await
            .map_err(|e| TransferError::Failed(e.to_string()))?
    {
        return Err(TransferError::TargetNotEmpty(table.to_owned()));
    }
    Ok((key, transform))
}

/// What the import's workers share.
struct Job {
    /// Data files not yet taken by a worker.
    files: Mutex<Vec<DataFile>>,
    writer: BatchWriter,
    key: KeySpec,
    transform: Option<Arc<Transform>>,
    stop: Arc<Stop>,
    shaped: Shaped,
    items: AtomicU64,
}

impl Job {
    /// Runs `workers` workers until every file is imported; the first failure stops the others.
    async fn run(self: &Arc<Self>, workers: u32) -> Option<TransferError> {
        let mut tasks = JoinSet::new();
        for _ in 0..workers.max(1) {
            let job = Arc::clone(self);
            tasks.spawn(async move {
                loop {
                    let Some(file) = job
                        .files
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .pop()
                    else {
                        return Ok::<(), TransferError>(());
                    };
                    Arc::clone(&job).import_file(file).await?;
                }
            });
        }
        let mut failure = None;
        while let Some(joined) = tasks.join_next().await {
            if let Err(e) = joined
                .map_err(|e| TransferError::Failed(format!("import worker: {e}")))
                .and_then(|r| r)
            {
                self.stop.interrupt();
                failure.get_or_insert(e);
            }
        }
        failure
    }

    /// One data file: read, shaped and key-checked on a blocking thread, written in chunks.
    async fn import_file(self: Arc<Self>, file: DataFile) -> Result<(), TransferError> {
        let (tx, mut rx) = mpsc::channel::<Result<Vec<SdkItem>, TransferError>>(2);
        let job = Arc::clone(&self);
        let reader = tokio::task::spawn_blocking(move || job.read_file(&file, &tx));
        while let Some(chunk) = rx.recv().await {
            let chunk = chunk?;
            let n = chunk.len() as u64;
            self.writer
                .put_all(chunk, &self.stop)
                .await
                .map_err(|e| TransferError::Failed(e.to_string()))?;
            self.items.fetch_add(n, Ordering::Relaxed);
        }
        reader
            .await
            .map_err(|e| TransferError::Failed(format!("import reader: {e}")))?;
        Ok(())
    }

    /// Sends `file`'s items, as they are written, in chunks; `false` when the receiver is gone.
    fn read_file(
        &self,
        file: &DataFile,
        tx: &mpsc::Sender<Result<Vec<SdkItem>, TransferError>>,
    ) -> bool {
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
            let at = |reason: String| TransferError::Item {
                file: file.display.clone(),
                line,
                reason,
            };
            let outputs = match shape(&item, self.transform.as_deref(), &self.shaped) {
                Ok(outputs) => outputs,
                Err(reason) => return send(Err(at(reason))),
            };
            for out in outputs {
                if let Err(e) = self.key.check(&out) {
                    return send(Err(at(e.to_string())));
                }
                chunk.push(out);
            }
            if chunk.len() >= IMPORT_CHUNK && !send(Ok(std::mem::take(&mut chunk))) {
                return false;
            }
        }
        chunk.is_empty() || send(Ok(chunk))
    }
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
) -> Result<Vec<SdkItem>, String> {
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
        if seen == SAMPLE_ITEMS {
            break;
        }
    }
    Ok(())
}
