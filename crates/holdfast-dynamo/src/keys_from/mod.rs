//! `holdfast dynamo copy SOURCE TARGET --keys-from FILE`: copy again only the keys a
//! comparison listed (the keys file `compare` writes), e.g. the items written to a live source
//! while it was being copied.
//!
//! The whole file is checked first (every line, every key against the tables' key schemas,
//! [`file`]); then, 100 lines at a time, the source items are read again (strongly consistent
//! `BatchGetItem`, [`fetch`]), transformed as the copy would, and written with the copy's batch
//! writer. A key only in the target — or whose source item is gone now — is deleted from the
//! target only with `delete_only_in_target`, else counted as kept. Puts and deletes are
//! idempotent, so a stopped run is simply run again. Ends with a full comparison unless
//! verification is off.

mod fetch;
mod file;

use holdfast_core::remedy::{NextStep, Remedy, Setting};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use holdfast_core::exit::Outcome;
use holdfast_report::dynamo::{CompareReport, CopyReport};
use holdfast_report::{Command, Envelope};

use crate::compare::{compare, Comparison};
use crate::copy::{describe_both, CopyError, CopyRequest, TransformSpec};
use crate::keys::KeySpec;
use crate::rate::RateLimiter;
use crate::sdk_item::{item_from_sdk, item_to_sdk, SdkItem};
use crate::stop::Stop;
use crate::transform::Transform;
use crate::writer::{BatchWriter, Write, WriteCounters};
use file::{Line, Lines};

/// Lines handled together (`BatchGetItem` takes at most 100 keys).
const CHUNK: usize = 100;

/// What to re-copy.
#[derive(Debug, Clone)]
pub struct KeysCopyRequest {
    pub source: String,
    pub target: String,
    pub transform: Option<TransformSpec>,
    /// The keys file of a comparison of the same two tables (and transform).
    pub keys_from: PathBuf,
    pub delete_only_in_target: bool,
    pub verify: bool,
    /// Scan segments of the verification.
    pub segments: u32,
    /// Where the verification writes the keys that still differ.
    pub keys_file: Option<PathBuf>,
    pub max_wcu: Option<u32>,
}

impl KeysCopyRequest {
    /// The keys of `keys_from` copied with `copy`'s tables, transform, verification and rate.
    #[must_use]
    pub fn from_copy(copy: &CopyRequest, keys_from: PathBuf, delete_only_in_target: bool) -> Self {
        KeysCopyRequest {
            source: copy.source.clone(),
            target: copy.target.clone(),
            transform: copy.transform.clone(),
            keys_from,
            delete_only_in_target,
            verify: copy.verify,
            segments: copy.segments,
            keys_file: copy.keys_file.clone(),
            max_wcu: copy.max_wcu,
        }
    }
}

/// What a run did, item by item.
#[derive(Debug, Default)]
struct Counts {
    read: u64,
    deleted: u64,
    kept: u64,
    dropped: u64,
    split: u64,
}

/// The tables' keys, the compiled transform and the writer of a run.
struct Run<'a> {
    client: &'a Client,
    request: &'a KeysCopyRequest,
    source_key: KeySpec,
    target_key: KeySpec,
    transform: Option<Arc<Transform>>,
    writer: BatchWriter,
    counters: Arc<WriteCounters>,
}

/// Re-copies the listed keys. See the module docs.
///
/// # Errors
/// [`CopyError`]: a bad keys file or missing table (exit 2, nothing written), or a failure
/// while writing (exit 1; run again).
pub async fn copy_keys(
    client: &Client,
    request: KeysCopyRequest,
    stop: Arc<Stop>,
) -> Result<CopyReport, CopyError> {
    let started = Instant::now();
    let run = Run::prepare(client, &request).await?;
    let lines = Lines::new(
        &request.keys_from,
        &run.source_key,
        &run.target_key,
        run.transform.is_some(),
    );
    // Every line is checked before anything is written.
    let lines_total = lines.check().map_err(CopyError::from)?;
    let mut counts = Counts::default();
    let mut stopped = false;
    let mut chunk: Vec<Line> = Vec::with_capacity(CHUNK);
    let mut all = lines.read().map_err(CopyError::from)?.peekable();
    while all.peek().is_some() || !chunk.is_empty() {
        if let Some(line) = all.next() {
            chunk.push(line.map_err(CopyError::from)?);
            if chunk.len() < CHUNK && all.peek().is_some() {
                continue;
            }
        }
        if stop.is_stopped() {
            stopped = true;
            break;
        }
        run.copy_chunk(std::mem::take(&mut chunk), &mut counts, &stop)
            .await?;
    }
    let verification = if request.verify && !stopped {
        Some(run.verify().await?)
    } else {
        None
    };
    Ok(run.report(&counts, lines_total, stopped, verification, started))
}

impl<'a> Run<'a> {
    async fn prepare(client: &'a Client, request: &'a KeysCopyRequest) -> Result<Self, CopyError> {
        let (source_key, target_key, _) = describe_both(
            client,
            &request.source,
            &request.target,
            request.transform.is_some(),
        )
        .await?;
        let transform = match &request.transform {
            Some(spec) => Some(spec.compile(&source_key).map_err(|e| CopyError::KeysFile {
                location: spec.name.clone(),
                reason: e.to_string(),
            })?),
            None => None,
        };
        let counters = Arc::new(WriteCounters::default());
        let writer = BatchWriter::new(
            client.clone(),
            &request.target,
            target_key.clone(),
            Arc::new(RateLimiter::new(request.max_wcu)),
            Arc::clone(&counters),
        );
        Ok(Run {
            client,
            request,
            source_key,
            target_key,
            transform,
            writer,
            counters,
        })
    }

    /// Reads the chunk's source items again and writes their outputs (or deletes).
    async fn copy_chunk(
        &self,
        chunk: Vec<Line>,
        counts: &mut Counts,
        stop: &Stop,
    ) -> Result<(), CopyError> {
        let wanted: Vec<SdkItem> = chunk.iter().filter_map(|l| l.source_key.clone()).collect();
        let found = fetch::get_all(
            self.client,
            &self.request.source,
            &self.source_key,
            wanted,
            stop,
        )
        .await?;
        counts.read += found.len() as u64;
        let mut writes = Vec::new();
        for line in chunk {
            let item = line
                .source_key
                .as_ref()
                .filter(|_| !line.only_in_target)
                .and_then(|k| found.get(&self.source_key.identity(k)));
            let Some(item) = item else {
                if self.request.delete_only_in_target {
                    writes.push(Write::Delete(line.key));
                    counts.deleted += 1;
                } else {
                    counts.kept += 1;
                }
                continue;
            };
            let outputs =
                self.outputs(item, counts)
                    .map_err(|(error, remedy)| CopyError::Failed {
                        error,
                        resume: NextStep::new("", remedy),
                    })?;
            for out in outputs {
                writes.push(Write::Put(out));
            }
        }
        self.writer
            .write_all(writes, stop)
            .await
            .map_err(|e| CopyError::Failed {
                error: e.to_string(),
                resume: NextStep::new("puts and deletes are idempotent", Remedy::RunAgain),
            })
    }

    /// One source item's outputs, transformed and checked against the target's key; or the
    /// error and what to do about it.
    fn outputs(
        &self,
        item: &SdkItem,
        counts: &mut Counts,
    ) -> Result<Vec<SdkItem>, (String, Remedy)> {
        let fix_transform = || Remedy::FixAndRunAgain {
            file: "the transform".into(),
        };
        let outputs = match &self.transform {
            None => vec![item.clone()],
            Some(t) => {
                let model = item_from_sdk(item).map_err(|e| {
                    (
                        format!("source item {}: {e}", self.source_key.render(item)),
                        Remedy::RunAgain,
                    )
                })?;
                let out: Vec<SdkItem> = t
                    .apply(&model)
                    .map_err(|e| (e.to_string(), fix_transform()))?
                    .iter()
                    .map(item_to_sdk)
                    .collect();
                match out.len() {
                    0 => counts.dropped += 1,
                    n => counts.split += n as u64 - 1,
                }
                out
            }
        };
        for out in &outputs {
            self.target_key.check(out).map_err(|problem| {
                (
                    format!(
                        "transform output for source item {} {problem}",
                        self.source_key.render(item)
                    ),
                    fix_transform(),
                )
            })?;
        }
        Ok(outputs)
    }

    /// The comparison after the keys were copied.
    async fn verify(&self) -> Result<CompareReport, CopyError> {
        Ok(compare(
            self.client,
            &Comparison::after_copy(
                (&self.request.source, &self.source_key),
                (&self.request.target, &self.target_key),
                self.transform.clone(),
                self.request.segments,
                self.request.keys_file.clone(),
            ),
            Arc::new(Stop::new(None)),
        )
        .await?)
    }

    fn report(
        &self,
        counts: &Counts,
        lines_total: u64,
        stopped: bool,
        verification: Option<CompareReport>,
        started: Instant,
    ) -> CopyReport {
        let request = self.request;
        let outcome = if stopped {
            Outcome::StoppedResumable
        } else if verification.as_ref().is_some_and(|v| !v.equal) {
            Outcome::CheckFailed
        } else {
            Outcome::Success
        };
        let elapsed = started.elapsed();
        let kept = counts.kept;
        let mut resume = None;
        if stopped {
            resume = Some(NextStep::new(
                "stopped (puts and deletes are idempotent)",
                Remedy::RunAgain,
            ));
        } else if kept > 0 {
            resume = Some(NextStep::new(
                format!("{kept} keys of {lines_total} are in the target only (or their source item is gone) and were kept"),
                Remedy::using(Setting::DeleteOnlyInTarget),
            ));
        }
        let counters = &self.counters;
        CopyReport {
            envelope: Envelope::new(Command::DynamoCopy, outcome),
            source: request.source.clone(),
            target: request.target.clone(),
            checkpoint: format!(
                "none: the keys of {} are copied again on every run",
                request.keys_from.display()
            ),
            total_segments: 0,
            segments_done: 0,
            items_read: counts.read,
            items_written: counters
                .written
                .load(Ordering::Relaxed)
                .saturating_sub(counts.deleted),
            items_dropped: counts.dropped,
            items_split: counts.split,
            items_unchanged: 0,
            items_deleted: counts.deleted,
            keys_kept: kept,
            duplicates_merged: counters.duplicates_merged.load(Ordering::Relaxed),
            unprocessed_retried: counters.unprocessed_retried.load(Ordering::Relaxed),
            calls_retried: counters.calls_retried.load(Ordering::Relaxed),
            elapsed_ms: elapsed.as_millis() as u64,
            items_per_second: (counts.read as f64 / elapsed.as_secs_f64().max(0.001)) as u64,
            stopped: stopped.then(|| "interrupted".to_owned()),
            resume,
            verification,
        }
    }
}
