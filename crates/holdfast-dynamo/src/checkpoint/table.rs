//! The shared checkpoint table: several processes or Lambdas work on one copy.
//!
//! Layout (created on first use, on-demand billing): partition key `copy` (S) = `SOURCE→TARGET`,
//! sort key `part` (S) ([`crate::state_table`]): one `meta` row holding the [`CopyIdentity`],
//! and one `segment#NNNNN` row per segment holding its [`SegmentState`] plus the lease of
//! [`crate::lease`] (`owner`, `lease_until`, `fence`). A segment is worked on under its lease:
//!
//! - **claim**: a lease take, only if the segment is not done. The new fence is the worker's
//!   token.
//! - **save** (renews the lease; persisted at most every second, or every third of the lease if
//!   that is shorter): a lease renewal carrying the segment's progress. A worker that was too
//!   slow and whose segment was claimed by another fails here and stops working on it; it can
//!   no longer move the checkpoint.
//! - **release** (on stop or at the end): the same, with the lease ended.
//!
//! A crashed worker's segments become claimable when its lease expires.
//!
//! Every call is retried like the copy's reads and writes (the data client has no SDK retries):
//! throttling, 5xx and calls without an answer are sent again with [`crate::retry::Backoff`],
//! up to its budget. A call that got no answer may have been applied: a retried claim is
//! recognised by [`crate::lease`], and a meta row created by this process is this process's
//! copy.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::Client;

use super::{progress_line, CheckpointError, Claim, CopyIdentity, SegmentRange, SegmentState};
use crate::lease::{now_ms, Clause, LeaseError, Leases, RowKey};
use crate::retry::{classify, send_retrying};
use crate::state_table::{bool_of, n, num, s, str_of, Row};

const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// A checkpoint table, as one process sees it.
#[derive(Debug)]
pub struct TableStore {
    client: Client,
    table: String,
    copy: String,
    leases: Leases,
    lease: Duration,
    range: SegmentRange,
    total: u32,
    /// Last save per segment (to persist at most every second, or every third of the lease if
    /// that is shorter: a save renews the lease, which must not lapse between two saves).
    saved_at: Mutex<HashMap<u32, Instant>>,
}

fn segment_part(segment: u32) -> String {
    format!("segment#{segment:05}")
}

impl TableStore {
    /// Opens the copy's checkpoint in `table` (creating the table if it does not exist), or
    /// creates the copy's rows when not resuming.
    ///
    /// # Errors
    /// [`CheckpointError`].
    pub async fn open(
        client: Client,
        table: &str,
        identity: &CopyIdentity,
        resume: bool,
        range: SegmentRange,
        lease: Duration,
    ) -> Result<TableStore, CheckpointError> {
        let copy = format!("{}→{}", identity.source, identity.target);
        TableStore::open_as(client, table, &copy, identity, resume, range, lease).await
    }

    /// As [`TableStore::open`], with the rows' partition key value `copy` chosen by the caller
    /// (data migrations keep each migration's checkpoint under its own name).
    ///
    /// # Errors
    /// [`CheckpointError`].
    pub async fn open_as(
        client: Client,
        table: &str,
        copy: &str,
        identity: &CopyIdentity,
        resume: bool,
        range: SegmentRange,
        lease: Duration,
    ) -> Result<TableStore, CheckpointError> {
        let store = TableStore {
            client: client.clone(),
            table: table.to_owned(),
            copy: copy.to_owned(),
            leases: Leases::new(client.clone(), table, crate::lease::owner_id()),
            lease,
            range,
            total: identity.total_segments,
            saved_at: Mutex::new(HashMap::new()),
        };
        store.ensure_table().await?;
        let location = format!("checkpoint table {table} (copy {})", store.copy);
        match store.meta().await? {
            Some(found) => {
                if let Some(why) = found.mismatch(identity) {
                    return Err(CheckpointError::Foreign { location, why });
                }
                if !resume {
                    let progress = progress_line(&store.states().await?);
                    return Err(CheckpointError::Exists { location, progress });
                }
            }
            None if resume => return Err(CheckpointError::NothingToResume { location }),
            None => store.create(identity, &location).await?,
        }
        Ok(store)
    }

    /// The table's name.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// This process's owner id.
    #[must_use]
    pub fn owner(&self) -> &str {
        self.leases.owner()
    }

    /// Sends a call until it is answered or fails for good: retryable failures are sent again
    /// after [`crate::retry::Backoff`]'s wait, up to its budget. The flag: an earlier attempt failed, so it
    /// may have been applied (a 5xx, a dropped connection).
    async fn send<T, E, F, Fut>(&self, attempt: F) -> (Result<T, SdkError<E, HttpResponse>>, bool)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        send_retrying(&self.table, attempt).await
    }

    fn aws<E>(&self, operation: &str, e: &SdkError<E, HttpResponse>) -> CheckpointError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        CheckpointError::Aws(format!(
            "checkpoint table {}: {operation}: {}",
            self.table,
            classify(e)
        ))
    }

    /// A lease call's failure as the checkpoint's (`Lost`: of `segment`).
    fn lease_error(&self, e: LeaseError, segment: u32) -> CheckpointError {
        match e {
            LeaseError::Lost => CheckpointError::LeaseLost { segment },
            LeaseError::Call { operation, error } => CheckpointError::Aws(format!(
                "checkpoint table {}: {operation}: {error}",
                self.table
            )),
        }
    }

    async fn ensure_table(&self) -> Result<(), CheckpointError> {
        crate::state_table::ensure_table(&self.client, &self.table)
            .await
            .map_err(CheckpointError::Aws)
    }

    fn key<'a>(&'a self, part: &'a str) -> RowKey<'a> {
        RowKey {
            copy: &self.copy,
            part,
        }
    }

    /// A row of this copy, read consistently.
    async fn row(&self, part: &str) -> Result<Option<Row>, CheckpointError> {
        self.leases
            .row(self.key(part))
            .await
            .map_err(|e| self.lease_error(e, 0))
    }

    async fn meta(&self) -> Result<Option<CopyIdentity>, CheckpointError> {
        let Some(item) = self.row("meta").await? else {
            return Ok(None);
        };
        let Some(AttributeValue::S(json)) = item.get("identity") else {
            return Err(CheckpointError::Corrupt(format!(
                "checkpoint table {}: meta row without identity",
                self.table
            )));
        };
        serde_json::from_str(json).map(Some).map_err(|_| {
            CheckpointError::Corrupt(format!(
                "checkpoint table {}: meta row identity unreadable",
                self.table
            ))
        })
    }

    async fn create(&self, identity: &CopyIdentity, location: &str) -> Result<(), CheckpointError> {
        // Segment rows first, then the meta row: a copy is visible only once complete.
        for segment in 0..identity.total_segments {
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("copy", s(&self.copy))
                .item("part", s(segment_part(segment)))
                .item("segment", n(u64::from(segment)))
                .item("done", AttributeValue::Bool(false))
                .item("fence", n(0))
                .item("lease_until", n(0))
                .item("items_read", n(0))
                .item("items_written", n(0))
                .item("pages", n(0));
            self.send(|| put.clone().send())
                .await
                .0
                .map_err(|e| self.aws("PutItem", &e))?;
        }
        let json =
            serde_json::to_string(identity).map_err(|e| CheckpointError::Io(e.to_string()))?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("copy", s(&self.copy))
            .item("part", s("meta"))
            .item("identity", s(json))
            .item("created_by", s(self.owner()))
            .condition_expression("attribute_not_exists(#c)")
            .expression_attribute_names("#c", "copy");
        let (put, retried) = self.send(|| put.clone().send()).await;
        match put {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                // An attempt that went unanswered may have created it: then it is ours.
                if retried
                    && self
                        .row("meta")
                        .await?
                        .is_some_and(|row| str_of(&row, "created_by") == Some(self.owner()))
                {
                    return Ok(());
                }
                Err(CheckpointError::Exists {
                    location: location.to_owned(),
                    progress: "created by another process just now".into(),
                })
            }
            Err(e) => Err(self.aws("PutItem", &e)),
        }
    }

    async fn rows(&self) -> Result<Vec<Row>, CheckpointError> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#c = :c AND begins_with(#p, :seg)")
                .expression_attribute_names("#c", "copy")
                .expression_attribute_names("#p", "part")
                .expression_attribute_values(":c", s(&self.copy))
                .expression_attribute_values(":seg", s("segment#"))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            let out = self
                .send(|| query.clone().send())
                .await
                .0
                .map_err(|e| self.aws("Query", &e))?;
            rows.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => start = Some(k),
                None => return Ok(rows),
            }
        }
    }

    pub(super) async fn states(&self) -> Result<Vec<SegmentState>, CheckpointError> {
        let mut states: Vec<SegmentState> = self.rows().await?.iter().map(row_state).collect();
        states.sort_by_key(|s| s.segment);
        Ok(states)
    }

    pub(super) async fn claim(&self) -> Result<Option<Claim>, CheckpointError> {
        let now = now_ms();
        let mut candidates: Vec<u32> = self
            .rows()
            .await?
            .iter()
            .filter(|r| !bool_of(r, "done"))
            .filter(|r| num(r, "lease_until") < now)
            .map(|r| num(r, "segment") as u32)
            .filter(|s| self.range.contains(*s) && *s < self.total)
            .collect();
        // Workers of several processes start at different places, to collide less.
        if !candidates.is_empty() {
            let offset = fastrand::usize(..candidates.len());
            candidates.rotate_left(offset);
        }
        let not_done = Clause {
            text: "attribute_exists(#c) AND done = :false".to_owned(),
            names: vec![("#c", "copy")],
            values: vec![(":false", AttributeValue::Bool(false))],
        };
        for segment in candidates {
            let part = segment_part(segment);
            let taken = self
                .leases
                .take(self.key(&part), self.lease, Some(&not_done))
                .await
                .map_err(|e| self.lease_error(e, segment))?;
            if let Some(row) = taken.filter(|row| !bool_of(row, "done")) {
                self.saved_at
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(segment, Instant::now());
                return Ok(Some(Claim {
                    state: row_state(&row),
                    fence: num(&row, "fence"),
                }));
            }
        }
        Ok(None)
    }

    pub(super) async fn save_now(&self, claim: &Claim) -> Result<(), CheckpointError> {
        self.saved_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&claim.state.segment);
        self.save(claim, false).await
    }

    pub(super) async fn save(&self, claim: &Claim, release: bool) -> Result<(), CheckpointError> {
        let state = &claim.state;
        {
            let mut saved = self
                .saved_at
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = saved
                .get(&state.segment)
                .is_none_or(|t| t.elapsed() >= SAVE_INTERVAL.min(self.lease / 3));
            if !(release || state.done || due) {
                return Ok(());
            }
            saved.insert(state.segment, Instant::now());
        }
        let until = if release || state.done {
            0
        } else {
            now_ms() + self.lease.as_millis() as u64
        };
        let next_key = state
            .next_key
            .as_ref()
            .map_or_else(|| AttributeValue::Null(true), |k| s(k.to_string()));
        let progress = Clause {
            text: "next_key = :next, done = :done, items_read = :read, items_written = :written, pages = :pages, in_flight = :in_flight".to_owned(),
            names: Vec::new(),
            values: vec![
                (":next", next_key),
                (":done", AttributeValue::Bool(state.done)),
                (":read", n(state.items_read)),
                (":written", n(state.items_written)),
                (":pages", n(state.pages)),
                (":in_flight", s(state.in_flight.join(","))),
            ],
        };
        let part = segment_part(state.segment);
        self.leases
            .renew(self.key(&part), claim.fence, until, Some(&progress))
            .await
            .map_err(|e| self.lease_error(e, state.segment))
    }

    pub(super) async fn waiting(&self) -> Result<Option<Duration>, CheckpointError> {
        let now = now_ms();
        Ok(self
            .rows()
            .await?
            .iter()
            .filter(|r| !bool_of(r, "done") && self.range.contains(num(r, "segment") as u32))
            .map(|r| Duration::from_millis(num(r, "lease_until").saturating_sub(now)))
            .min())
    }
}

fn row_state(row: &Row) -> SegmentState {
    SegmentState {
        segment: num(row, "segment") as u32,
        done: bool_of(row, "done"),
        next_key: str_of(row, "next_key").and_then(|t| serde_json::from_str(t).ok()),
        items_read: num(row, "items_read"),
        items_written: num(row, "items_written"),
        pages: num(row, "pages"),
        in_flight: str_of(row, "in_flight")
            .filter(|t| !t.is_empty())
            .map(|t| t.split(',').map(str::to_owned).collect())
            .unwrap_or_default(),
    }
}
