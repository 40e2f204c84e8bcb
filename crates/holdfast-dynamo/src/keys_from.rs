//! `holdfast dynamo copy SOURCE TARGET --keys-from FILE`: copy again only the keys a
//! comparison listed (the keys file `compare` writes), e.g. the items written to a live source
//! while it was being copied.
//!
//! The whole file is checked first (every line, every key against the tables' key schemas);
//! then, 100 lines at a time, the source items are read again (strongly consistent
//! `BatchGetItem`), transformed as the copy would, and written with the copy's batch writer.
//! A key only in the target — or whose source item is gone now — is deleted from the target
//! only with `--delete-only-in-target`, else counted as kept. Puts and deletes are idempotent,
//! so a stopped run is simply run again. Ends with a full comparison unless `--no-verify`.

use holdfast_core::remedy::{NextStep, Remedy, Setting};
use std::collections::HashMap;
use std::io::BufRead as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use aws_sdk_dynamodb::Client;
use holdfast_core::exit::Outcome;
use holdfast_report::dynamo::CopyReport;
use holdfast_report::{Command, Envelope};

use crate::compare::{compare, CompareRequest};
use crate::copy::{describe_both, CopyError, TransformSpec};
use crate::item::item_from_dynamo_json;
use crate::keys::KeySpec;
use crate::rate::RateLimiter;
use crate::retry::{classify, Backoff};
use crate::sdk_item::{item_from_sdk, item_to_sdk, SdkItem};
use crate::stop::Stop;
use crate::writer::{BatchWriter, Write, WriteCounters};

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

/// One line of a keys file.
struct Line {
    only_in_target: bool,
    /// The target's key.
    key: SdkItem,
    /// The source's key (the target's key without a transform).
    source_key: Option<SdkItem>,
}

fn parse_line(
    text: &str,
    source_key: &KeySpec,
    target_key: &KeySpec,
    transformed: bool,
) -> Result<Line, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON ({e})"))?;
    let difference = value
        .get("difference")
        .and_then(serde_json::Value::as_str)
        .ok_or("no \"difference\"")?;
    let only_in_target = match difference {
        "only_in_target" => true,
        "only_in_source" | "different" => false,
        other => {
            return Err(format!(
                "\"difference\" is {other:?}; expected only_in_source, only_in_target or different"
            ))
        }
    };
    let key_of = |name: &str, spec: &KeySpec| -> Result<Option<SdkItem>, String> {
        let Some(v) = value.get(name) else {
            return Ok(None);
        };
        let item = item_to_sdk(&item_from_dynamo_json(v).map_err(|e| format!("\"{name}\": {e}"))?);
        spec.check(&item)
            .map_err(|e| format!("\"{name}\" does not fit the table's key: {e}"))?;
        Ok(Some(spec.key_of(&item)))
    };
    let key = key_of("key", target_key)?.ok_or("no \"key\"")?;
    let mut source = key_of("source_key", source_key)?;
    if source.is_none() && !only_in_target {
        if transformed {
            return Err(
                "no \"source_key\": this file comes from a comparison without the transform".into(),
            );
        }
        source = Some(source_key.key_of(&key));
    }
    Ok(Line {
        only_in_target,
        key,
        source_key: source,
    })
}

fn read_lines(path: &PathBuf) -> std::io::Result<impl Iterator<Item = (usize, String)>> {
    let file = std::fs::File::open(path)?;
    Ok(std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty()))
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
    let transformed = transform.is_some();
    let location = |n: usize| format!("{}:{n}", request.keys_from.display());
    let unreadable = |e: std::io::Error| CopyError::KeysFile {
        location: request.keys_from.display().to_string(),
        reason: format!("cannot read: {e}"),
    };
    // Every line is checked before anything is written.
    let mut lines_total = 0u64;
    for (n, text) in read_lines(&request.keys_from).map_err(unreadable)? {
        parse_line(&text, &source_key, &target_key, transformed).map_err(|reason| {
            CopyError::KeysFile {
                location: location(n),
                reason,
            }
        })?;
        lines_total += 1;
    }

    let counters = Arc::new(WriteCounters::default());
    let writer = BatchWriter::new(
        client.clone(),
        &request.target,
        target_key.clone(),
        Arc::new(RateLimiter::new(request.max_wcu)),
        Arc::clone(&counters),
    );
    let (mut read, mut deleted, mut kept, mut dropped, mut split) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut stopped = false;
    let mut chunk: Vec<(usize, Line)> = Vec::with_capacity(CHUNK);
    let mut lines = read_lines(&request.keys_from)
        .map_err(unreadable)?
        .peekable();
    while lines.peek().is_some() || !chunk.is_empty() {
        if let Some((n, text)) = lines.next() {
            let line =
                parse_line(&text, &source_key, &target_key, transformed).map_err(|reason| {
                    CopyError::KeysFile {
                        location: location(n),
                        reason,
                    }
                })?;
            chunk.push((n, line));
            if chunk.len() < CHUNK && lines.peek().is_some() {
                continue;
            }
        }
        if stop.is_stopped() {
            stopped = true;
            break;
        }
        let wanted: Vec<SdkItem> = chunk
            .iter()
            .filter_map(|(_, l)| l.source_key.clone())
            .collect();
        let found = get_all(client, &request.source, &source_key, wanted, &stop).await?;
        read += found.len() as u64;
        let mut writes = Vec::new();
        for (_, line) in chunk.drain(..) {
            let item = line
                .source_key
                .as_ref()
                .filter(|_| !line.only_in_target)
                .and_then(|k| found.get(&source_key.identity(k)));
            let Some(item) = item else {
                if request.delete_only_in_target {
                    writes.push(Write::Delete(line.key));
                    deleted += 1;
                } else {
                    kept += 1;
                }
                continue;
            };
            let outputs = match &transform {
                None => vec![item.clone()],
                Some(t) => {
                    let model = item_from_sdk(item).map_err(|e| CopyError::Failed {
                        error: format!("source item {}: {e}", source_key.render(item)),
                        resume: NextStep::new("", Remedy::RunAgain),
                    })?;
                    let out: Vec<SdkItem> = t
                        .apply(&model)
                        .map_err(|e| CopyError::Failed {
                            error: e.to_string(),
                            resume: NextStep::new(
                                "",
                                Remedy::FixAndRunAgain {
                                    file: "the transform".into(),
                                },
                            ),
                        })?
                        .iter()
                        .map(item_to_sdk)
                        .collect();
                    match out.len() {
                        0 => dropped += 1,
                        n => split += n as u64 - 1,
                    }
                    out
                }
            };
            for out in outputs {
                target_key
                    .check(&out)
                    .map_err(|problem| CopyError::Failed {
                        error: format!(
                            "transform output for source item {} {problem}",
                            source_key.render(item)
                        ),
                        resume: NextStep::new(
                            "",
                            Remedy::FixAndRunAgain {
                                file: "the transform".into(),
                            },
                        ),
                    })?;
                writes.push(Write::Put(out));
            }
        }
        writer
            .write_all(writes, &stop)
            .await
            .map_err(|e| CopyError::Failed {
                error: e.to_string(),
                resume: NextStep::new("puts and deletes are idempotent", Remedy::RunAgain),
            })?;
    }

    let verification = if request.verify && !stopped {
        Some(
            compare(
                client,
                &CompareRequest {
                    source: request.source.clone(),
                    target: request.target.clone(),
                    source_key: source_key.clone(),
                    target_key: target_key.clone(),
                    transform: transform.clone(),
                    segments: request.segments,
                    keys_file: request.keys_file.clone(),
                },
                Arc::new(Stop::new(None)),
            )
            .await?,
        )
    } else {
        None
    };
    let outcome = if stopped {
        Outcome::StoppedResumable
    } else if verification.as_ref().is_some_and(|v| !v.equal) {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    };
    let elapsed = started.elapsed();
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
    Ok(CopyReport {
        envelope: Envelope::new(Command::DynamoCopy, outcome),
        source: request.source.clone(),
        target: request.target.clone(),
        checkpoint: format!(
            "none: the keys of {} are copied again on every run",
            request.keys_from.display()
        ),
        total_segments: 0,
        segments_done: 0,
        items_read: read,
        items_written: counters
            .written
            .load(Ordering::Relaxed)
            .saturating_sub(deleted),
        items_dropped: dropped,
        items_split: split,
        items_unchanged: 0,
        items_deleted: deleted,
        keys_kept: kept,
        duplicates_merged: counters.duplicates_merged.load(Ordering::Relaxed),
        unprocessed_retried: counters.unprocessed_retried.load(Ordering::Relaxed),
        calls_retried: counters.calls_retried.load(Ordering::Relaxed),
        elapsed_ms: elapsed.as_millis() as u64,
        items_per_second: (read as f64 / elapsed.as_secs_f64().max(0.001)) as u64,
        stopped: stopped.then(|| "interrupted".to_owned()),
        resume,
        verification,
    })
}

/// Reads `keys` from `table` (strongly consistent), re-asking for unprocessed keys with
/// backoff; found items by key identity.
async fn get_all(
    client: &Client,
    table: &str,
    key: &KeySpec,
    keys: Vec<SdkItem>,
    stop: &Stop,
) -> Result<HashMap<Vec<u8>, SdkItem>, CopyError> {
    let mut found = HashMap::with_capacity(keys.len());
    if keys.is_empty() {
        return Ok(found);
    }
    let mut pending = keys;
    pending.sort_by_key(|k| key.identity(k));
    pending.dedup_by_key(|k| key.identity(k));
    let backoff = Backoff::default();
    let mut without_progress = 0;
    loop {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(pending.clone()))
            .consistent_read(true)
            .build()
            .map_err(|e| CopyError::Describe {
                table: table.into(),
                detail: e.to_string(),
            })?;
        let result = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await;
        let before = pending.len();
        let last = match result {
            Ok(mut out) => {
                for item in out
                    .responses
                    .as_mut()
                    .and_then(|r| r.remove(table))
                    .unwrap_or_default()
                {
                    found.insert(key.identity(&item), item);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if pending.is_empty() {
                    return Ok(found);
                }
                "unprocessed keys".to_owned()
            }
            Err(e) => {
                let e = classify(&e);
                if !e.retryable {
                    return Err(CopyError::Failed {
                        error: format!("table {table}: BatchGetItem refused: {e}"),
                        resume: NextStep::new("", Remedy::RunAgain),
                    });
                }
                e.to_string()
            }
        };
        without_progress = if pending.len() < before {
            0
        } else {
            without_progress + 1
        };
        if without_progress >= backoff.max_attempts {
            return Err(CopyError::Failed {
                error: format!(
                    "table {table}: BatchGetItem gave up after {without_progress} rounds without progress; last: {last}"
                ),
                resume: NextStep::new("", Remedy::RunAgain),
            });
        }
        if !stop.sleep(backoff.delay(without_progress)).await {
            return Err(CopyError::Failed {
                error: "stopped".into(),
                resume: NextStep::new("", Remedy::RunAgain),
            });
        }
    }
}
