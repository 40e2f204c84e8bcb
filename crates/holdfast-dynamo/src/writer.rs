//! The batch writer shared by copy, import and data migrations: puts (and deletes) items with
//! `BatchWriteItem` and returns only when DynamoDB has acknowledged every one of them.
//!
//! - Batches hold at most 25 requests and 16 MB; an item over DynamoDB's 400 KB limit is an
//!   error naming its key, before anything of its page is sent.
//! - Two items with the same key in one call are merged last-wins (DynamoDB rejects a batch
//!   holding a key twice) and counted.
//! - `UnprocessedItems` (returned inside a *successful* response, so the SDK never retries
//!   them) are sent again after an exponential backoff with full jitter. The retry budget
//!   ([`Backoff::max_attempts`]) counts only rounds without progress: a round that got some
//!   items through resets it, so a slow, throttled table is written to the end.
//! - Any error — throttling, 5xx, a dropped connection, a timeout — means "not acknowledged":
//!   the whole batch is sent again (puts and deletes are idempotent). Errors that no retry can
//!   fix (validation, access denied, missing table) end the write at once.
//! - Consumed write capacity feeds the `--max-wcu` limiter.

use holdfast_core::exit::{Classify, Outcome};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, ReturnConsumedCapacity, WriteRequest};
use aws_sdk_dynamodb::Client;
use futures_util::future::try_join_all;

use crate::keys::KeySpec;
use crate::rate::RateLimiter;
use crate::retry::{classify, Backoff, CallError};
use crate::sdk_item::{item_size, SdkItem};
use crate::stop::Stop;

/// Requests per `BatchWriteItem` call.
pub const MAX_BATCH_ITEMS: usize = 25;
/// Bytes per `BatchWriteItem` call.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Bytes per item.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// Counters of what the writer did (shared by all workers of a run).
#[derive(Debug, Default)]
pub struct WriteCounters {
    /// Items acknowledged (puts and deletes).
    pub written: AtomicU64,
    /// Items merged away because a later item in the same call had the same key.
    pub duplicates_merged: AtomicU64,
    /// Items DynamoDB returned as unprocessed (and that were sent again).
    pub unprocessed_retried: AtomicU64,
    /// Calls that failed with a retryable error (and were sent again).
    pub calls_retried: AtomicU64,
    /// `BatchWriteItem` calls made.
    pub calls: AtomicU64,
}

/// Why a write did not complete.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    #[error("table {table}: item {key} is {bytes} bytes, over DynamoDB's 400 KB item limit")]
    ItemTooLarge {
        table: String,
        key: String,
        bytes: usize,
    },
    #[error("table {table}: BatchWriteItem refused: {error}")]
    Refused { table: String, error: CallError },
    #[error("table {table}: gave up after {attempts} rounds without progress ({pending} items not acknowledged); last error: {last}")]
    GaveUp {
        table: String,
        attempts: u32,
        pending: usize,
        last: String,
    },
    #[error("stopped before the write was acknowledged")]
    Stopped,
}

impl Classify for WriteError {
    fn outcome(&self) -> Outcome {
        match self {
            WriteError::ItemTooLarge { .. } => Outcome::Usage,
            WriteError::Refused { error, .. } => crate::retry::outcome_of(error),
            WriteError::GaveUp { .. } => Outcome::Failed,
            WriteError::Stopped => Outcome::StoppedResumable,
        }
    }
}

/// One write: put an item, or delete the item with this key.
#[derive(Debug, Clone)]
pub enum Write {
    Put(SdkItem),
    Delete(SdkItem),
}

/// A writer for one table.
#[derive(Debug, Clone)]
pub struct BatchWriter {
    client: Client,
    table: String,
    key: KeySpec,
    backoff: Backoff,
    limiter: Arc<RateLimiter>,
    counters: Arc<WriteCounters>,
}

impl BatchWriter {
    #[must_use]
    pub fn new(
        client: Client,
        table: &str,
        key: KeySpec,
        limiter: Arc<RateLimiter>,
        counters: Arc<WriteCounters>,
    ) -> BatchWriter {
        BatchWriter {
            client,
            table: table.to_owned(),
            key,
            backoff: Backoff::default(),
            limiter,
            counters,
        }
    }

    /// Replaces the retry policy.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Backoff) -> BatchWriter {
        self.backoff = backoff;
        self
    }

    /// The counters this writer adds to.
    #[must_use]
    pub fn counters(&self) -> &Arc<WriteCounters> {
        &self.counters
    }

    /// Puts every item; returns when all are acknowledged. See the module docs.
    ///
    /// # Errors
    /// [`WriteError`]; nothing is known about which batches landed (they are idempotent: write
    /// the same items again).
    pub async fn put_all(&self, items: Vec<SdkItem>, stop: &Stop) -> Result<(), WriteError> {
        self.write_all(items.into_iter().map(Write::Put).collect(), stop)
            .await
    }

    /// Puts and deletes; same guarantees as [`BatchWriter::put_all`].
    ///
    /// # Errors
    /// See [`BatchWriter::put_all`].
    pub async fn write_all(&self, writes: Vec<Write>, stop: &Stop) -> Result<(), WriteError> {
        let writes = self.dedupe(writes);
        let mut batches: Vec<Vec<(WriteRequest, usize)>> = Vec::new();
        let mut current: Vec<(WriteRequest, usize)> = Vec::new();
        let mut current_bytes = 0;
        for write in writes {
            let (request, bytes) = self.request(write)?;
            if current.len() == MAX_BATCH_ITEMS || current_bytes + bytes > MAX_BATCH_BYTES {
                batches.push(std::mem::take(&mut current));
                current_bytes = 0;
            }
            current_bytes += bytes;
            current.push((request, bytes));
        }
        if !current.is_empty() {
            batches.push(current);
        }
        try_join_all(batches.into_iter().map(|b| self.write_batch(b, stop))).await?;
        Ok(())
    }

    /// Last-wins by key.
    fn dedupe(&self, writes: Vec<Write>) -> Vec<Write> {
        let mut last: HashMap<Vec<u8>, usize> = HashMap::with_capacity(writes.len());
        for (i, w) in writes.iter().enumerate() {
            let (Write::Put(item) | Write::Delete(item)) = w;
            last.insert(self.key.identity(item), i);
        }
        if last.len() == writes.len() {
            return writes;
        }
        let merged = writes.len() - last.len();
        self.counters
            .duplicates_merged
            .fetch_add(merged as u64, Ordering::Relaxed);
        let keep: std::collections::HashSet<usize> = last.into_values().collect();
        writes
            .into_iter()
            .enumerate()
            .filter(|(i, _)| keep.contains(i))
            .map(|(_, w)| w)
            .collect()
    }

    fn request(&self, write: Write) -> Result<(WriteRequest, usize), WriteError> {
        Ok(match write {
            Write::Put(item) => {
                let bytes = item_size(&item);
                if bytes > MAX_ITEM_BYTES {
                    return Err(WriteError::ItemTooLarge {
                        table: self.table.clone(),
                        key: self.key.render(&item),
                        bytes,
                    });
                }
                let put = PutRequest::builder()
                    .set_item(Some(item))
                    .build()
                    .expect("item is set");
                (WriteRequest::builder().put_request(put).build(), bytes)
            }
            Write::Delete(item) => {
                let key = self.key.key_of(&item);
                let bytes = item_size(&key);
                let delete = DeleteRequest::builder()
                    .set_key(Some(key))
                    .build()
                    .expect("key is set");
                (
                    WriteRequest::builder().delete_request(delete).build(),
                    bytes,
                )
            }
        })
    }

    /// Writes one batch until every request is acknowledged.
    async fn write_batch(
        &self,
        batch: Vec<(WriteRequest, usize)>,
        stop: &Stop,
    ) -> Result<(), WriteError> {
        let mut pending: Vec<WriteRequest> = Vec::with_capacity(batch.len());
        let mut estimate = 0.0;
        for (request, bytes) in batch {
            estimate += (bytes.max(1) as f64 / 1024.0).ceil();
            pending.push(request);
        }
        let mut rounds_without_progress = 0u32;
        loop {
            self.limiter.acquire(estimate).await;
            self.counters.calls.fetch_add(1, Ordering::Relaxed);
            let result = self
                .client
                .batch_write_item()
                .request_items(&self.table, pending.clone())
                .return_consumed_capacity(if self.limiter.is_limited() {
                    ReturnConsumedCapacity::Total
                } else {
                    ReturnConsumedCapacity::None
                })
                .send()
                .await;
            let last_error = match result {
                Ok(mut out) => {
                    // Settled only when reported (an endpoint may not report it).
                    let reported: Vec<f64> = out
                        .consumed_capacity()
                        .iter()
                        .filter_map(|c| c.capacity_units())
                        .collect();
                    if !reported.is_empty() {
                        self.limiter.settle(estimate, reported.iter().sum());
                    }
                    let unprocessed = out
                        .unprocessed_items
                        .as_mut()
                        .and_then(|m| m.remove(&self.table))
                        .unwrap_or_default();
                    if unprocessed.is_empty() {
                        self.counters
                            .written
                            .fetch_add(pending.len() as u64, Ordering::Relaxed);
                        return Ok(());
                    }
                    let done = pending.len() - unprocessed.len().min(pending.len());
                    self.counters
                        .written
                        .fetch_add(done as u64, Ordering::Relaxed);
                    self.counters
                        .unprocessed_retried
                        .fetch_add(unprocessed.len() as u64, Ordering::Relaxed);
                    estimate *= unprocessed.len() as f64 / pending.len() as f64;
                    if done > 0 {
                        rounds_without_progress = 0;
                    } else {
                        rounds_without_progress += 1;
                    }
                    pending = unprocessed;
                    format!("{} items unprocessed", pending.len())
                }
                Err(e) => {
                    self.limiter.settle(estimate, 0.0);
                    let error = classify(&e);
                    if !error.retryable {
                        return Err(WriteError::Refused {
                            table: self.table.clone(),
                            error,
                        });
                    }
                    self.counters.calls_retried.fetch_add(1, Ordering::Relaxed);
                    rounds_without_progress += 1;
                    error.to_string()
                }
            };
            if rounds_without_progress > self.backoff.max_attempts {
                return Err(WriteError::GaveUp {
                    table: self.table.clone(),
                    attempts: rounds_without_progress,
                    pending: pending.len(),
                    last: last_error,
                });
            }
            // After progress, a short wait; after rounds without, a growing one.
            if !stop
                .sleep(self.backoff.delay(rounds_without_progress))
                .await
            {
                return Err(WriteError::Stopped);
            }
        }
    }
}
