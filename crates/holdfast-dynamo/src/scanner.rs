//! Reading a table page by page: `Scan` with a page `Limit` (always: DynamoDB Local's cost per
//! page grows with the segment without one, and a bounded page bounds memory), optionally one
//! segment of a parallel scan, retried like the writer's calls, and counted against the
//! `--max-rcu` limiter.

use holdfast_core::exit::{Classify, Outcome};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use aws_sdk_dynamodb::Client;

use crate::rate::RateLimiter;
use crate::retry::{classify, Backoff, CallError};
use crate::sdk_item::SdkItem;
use crate::stop::Stop;

/// Items per page unless told otherwise.
pub const DEFAULT_PAGE_LIMIT: i32 = 100;

/// One page of a scan.
#[derive(Debug, Default)]
pub struct Page {
    pub items: Vec<SdkItem>,
    /// Where the next page starts; `None` at the end of the segment.
    pub next: Option<SdkItem>,
}

/// Why a page could not be read.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScanError {
    #[error("table {table}: Scan refused: {error}")]
    Refused { table: String, error: CallError },
    #[error("table {table}: Scan gave up after {attempts} failed attempts; last error: {last}")]
    GaveUp {
        table: String,
        attempts: u32,
        last: CallError,
    },
    #[error("stopped before the page was read")]
    Stopped,
}

impl Classify for ScanError {
    fn outcome(&self) -> Outcome {
        match self {
            ScanError::Refused { error, .. } | ScanError::GaveUp { last: error, .. } => {
                crate::retry::outcome_of(error)
            }
            ScanError::Stopped => Outcome::StoppedResumable,
        }
    }
}

/// Which part of the table to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub segment: u32,
    pub total: u32,
}

/// A scanner of one table.
#[derive(Debug, Clone)]
pub struct Scanner {
    client: Client,
    table: String,
    limit: i32,
    consistent: bool,
    backoff: Backoff,
    limiter: Arc<RateLimiter>,
    /// Items read, over all pages of all clones.
    pub read: Arc<AtomicU64>,
}

impl Scanner {
    #[must_use]
    pub fn new(client: Client, table: &str, limiter: Arc<RateLimiter>) -> Scanner {
        Scanner {
            client,
            table: table.to_owned(),
            limit: DEFAULT_PAGE_LIMIT,
            consistent: false,
            backoff: Backoff::default(),
            limiter,
            read: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Items per page (at least 1).
    #[must_use]
    pub fn page_limit(mut self, limit: i32) -> Scanner {
        self.limit = limit.max(1);
        self
    }

    /// Strongly consistent reads (twice the read capacity; compare uses them so that writes
    /// just made are seen).
    #[must_use]
    pub fn consistent(mut self, consistent: bool) -> Scanner {
        self.consistent = consistent;
        self
    }

    /// The table read.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Reads the page that starts at `start` (the beginning if `None`).
    ///
    /// # Errors
    /// [`ScanError`].
    pub async fn page(
        &self,
        segment: Option<Segment>,
        start: Option<SdkItem>,
        stop: &Stop,
    ) -> Result<Page, ScanError> {
        let mut failures = 0u32;
        // A first guess of one unit per call; settled with what DynamoDB reports.
        let estimate = 1.0;
        loop {
            self.limiter.acquire(estimate).await;
            let result = self
                .client
                .scan()
                .table_name(&self.table)
                .limit(self.limit)
                .consistent_read(self.consistent)
                .set_segment(segment.map(|s| s.segment as i32))
                .set_total_segments(segment.map(|s| s.total as i32))
                .set_exclusive_start_key(start.clone())
                .return_consumed_capacity(if self.limiter.is_limited() {
                    ReturnConsumedCapacity::Total
                } else {
                    ReturnConsumedCapacity::None
                })
                .send()
                .await;
            match result {
                Ok(out) => {
                    if let Some(consumed) = out.consumed_capacity().and_then(|c| c.capacity_units())
                    {
                        self.limiter.settle(estimate, consumed);
                    }
                    let items = out.items.unwrap_or_default();
                    self.read.fetch_add(items.len() as u64, Ordering::Relaxed);
                    return Ok(Page {
                        items,
                        next: out.last_evaluated_key.filter(|k| !k.is_empty()),
                    });
                }
                Err(e) => {
                    self.limiter.settle(estimate, 0.0);
                    let error = classify(&e);
                    if !error.retryable {
                        return Err(ScanError::Refused {
                            table: self.table.clone(),
                            error,
                        });
                    }
                    failures += 1;
                    if failures > self.backoff.max_attempts {
                        return Err(ScanError::GaveUp {
                            table: self.table.clone(),
                            attempts: failures,
                            last: error,
                        });
                    }
                    if !stop.sleep(self.backoff.delay(failures)).await {
                        return Err(ScanError::Stopped);
                    }
                }
            }
        }
    }

    /// Does the table hold no item at all? (A page of `Limit 1`.)
    ///
    /// # Errors
    /// [`ScanError`].
    pub async fn is_empty(&self, stop: &Stop) -> Result<bool, ScanError> {
        let mut probe = self.clone().page_limit(1);
        probe.read = Arc::new(AtomicU64::new(0));
        let mut start = None;
        loop {
            let page = probe.page(None, start, stop).await?;
            if !page.items.is_empty() {
                return Ok(false);
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok(true),
            }
        }
    }
}
