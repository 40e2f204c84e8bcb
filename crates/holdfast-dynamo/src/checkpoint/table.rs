//! The shared checkpoint table: several processes or Lambdas work on one copy.
//!
//! Layout (created on first use, on-demand billing): partition key `copy` (S) = `SOURCE→TARGET`,
//! sort key `part` (S): one `meta` row holding the [`CopyIdentity`], and one `segment#NNNNN` row
//! per segment holding its [`SegmentState`] plus `owner`, `lease_until` (epoch milliseconds) and
//! `fence`. Every change is a conditional write:
//!
//! - **claim**: `fence = fence + 1`, `owner = me`, `lease_until = now + lease`, only if the
//!   segment is not done and its lease is free or expired. The new fence is the worker's token.
//! - **save** (renews the lease; persisted at most every second, or every third of the lease if
//!   that is shorter): only if `owner = me AND fence = my token`. A worker that was
//!   too slow and whose segment was claimed by another fails here and stops working on it; it
//!   can no longer move the checkpoint.
//! - **release** (on stop or at the end): the same condition, `lease_until = 0`.
//!
//! A crashed worker's segments become claimable when its lease expires.
//!
//! Every call is retried like the copy's reads and writes (the data client has no SDK retries):
//! throttling, 5xx and calls without an answer are sent again with [`crate::retry::Backoff`], up to its budget.
//! A call that got no answer may have been applied, so a retried conditional write that then
//! fails its condition is checked against the row: a claim whose row now holds this process's
//! owner and lease expiry was this process's, and a meta row created by this process is this
//! process's copy.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

use super::{progress_line, CheckpointError, Claim, CopyIdentity, SegmentRange, SegmentState};
use crate::retry::{classify, send_retrying};

const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// A checkpoint table, as one process sees it.
#[derive(Debug)]
pub struct TableStore {
    client: Client,
    table: String,
    copy: String,
    owner: String,
    lease: Duration,
    range: SegmentRange,
    total: u32,
    /// Last save per segment (to persist at most every second, or every third of the lease if
    /// that is shorter: a save renews the lease, which must not lapse between two saves).
    saved_at: Mutex<HashMap<u32, Instant>>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
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
            client,
            table: table.to_owned(),
            copy: copy.to_owned(),
            owner: super::owner_id(),
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
        &self.owner
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

    async fn ensure_table(&self) -> Result<(), CheckpointError> {
        ensure_table(&self.client, &self.table).await
    }

    /// A row of this copy, read consistently.
    async fn row(
        &self,
        part: &str,
    ) -> Result<Option<HashMap<String, AttributeValue>>, CheckpointError> {
        let get = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("copy", s(&self.copy))
            .key("part", s(part))
            .consistent_read(true);
        let out = self
            .send(|| get.clone().send())
            .await
            .0
            .map_err(|e| self.aws("GetItem", &e))?;
        Ok(out.item)
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
            .item("created_by", s(&self.owner))
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
                        .is_some_and(|row| str_of(&row, "created_by") == Some(&self.owner))
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

    async fn rows(&self) -> Result<Vec<HashMap<String, AttributeValue>>, CheckpointError> {
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
        for segment in candidates {
            // This claim's expiry: with the owner, it tells this claim's row apart.
            let until = now_ms() + self.lease.as_millis() as u64;
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("copy", s(&self.copy))
                .key("part", s(segment_part(segment)))
                .update_expression("SET #o = :me, lease_until = :until, fence = fence + :one")
                .condition_expression(
                    "attribute_exists(#c) AND done = :false AND lease_until < :now",
                )
                .expression_attribute_names("#o", "owner")
                .expression_attribute_names("#c", "copy")
                .expression_attribute_values(":me", s(&self.owner))
                .expression_attribute_values(":until", n(until))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":false", AttributeValue::Bool(false))
                .expression_attribute_values(":now", n(now_ms()))
                .return_values(ReturnValue::AllNew);
            let (out, retried) = self.send(|| update.clone().send()).await;
            let row = match out {
                Ok(out) => Some(out.attributes.unwrap_or_default()),
                Err(SdkError::ServiceError(e))
                    if e.err().is_conditional_check_failed_exception() =>
                {
                    // Taken by another worker, or by an attempt of this claim that went
                    // unanswered: then the row holds this claim's owner and expiry.
                    if retried {
                        self.row(&segment_part(segment)).await?.filter(|row| {
                            str_of(row, "owner") == Some(&self.owner)
                                && num(row, "lease_until") == until
                                && !bool_of(row, "done")
                        })
                    } else {
                        None
                    }
                }
                Err(e) => return Err(self.aws("UpdateItem", &e)),
            };
            match row {
                Some(row) => {
                    self.saved_at
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(segment, Instant::now());
                    return Ok(Some(Claim {
                        state: row_state(&row),
                        fence: num(&row, "fence"),
                    }));
                }
                None => continue,
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
        // A retry of a save that was applied unanswered meets the same condition (owner and
        // token unchanged) and writes the same values again.
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("copy", s(&self.copy))
            .key("part", s(segment_part(state.segment)))
            .update_expression(
                "SET next_key = :next, done = :done, items_read = :read, items_written = :written, pages = :pages, lease_until = :until, in_flight = :in_flight",
            )
            .condition_expression("#o = :me AND fence = :fence")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":next", next_key)
            .expression_attribute_values(":done", AttributeValue::Bool(state.done))
            .expression_attribute_values(":read", n(state.items_read))
            .expression_attribute_values(":written", n(state.items_written))
            .expression_attribute_values(":pages", n(state.pages))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":in_flight", s(state.in_flight.join(",")))
            .expression_attribute_values(":me", s(&self.owner))
            .expression_attribute_values(":fence", n(claim.fence));
        match self.send(|| update.clone().send()).await.0 {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(CheckpointError::LeaseLost {
                    segment: state.segment,
                })
            }
            Err(e) => Err(self.aws("UpdateItem", &e)),
        }
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

/// Creates a table with this store's layout (`copy` S hash key, `part` S range key, on-demand
/// billing) unless it exists, and waits until it is ACTIVE. Data migrations keep their history
/// and lock in a table of the same layout.
///
/// # Errors
/// [`CheckpointError::Aws`].
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), CheckpointError> {
    let describe = client.describe_table().table_name(table);
    match send_retrying(table, || describe.clone().send()).await.0 {
        Ok(_) => return Ok(()),
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {}
        Err(e) => return Err(aws_error(table, "DescribeTable", &e)),
    }
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("complete")
    };
    let key = |name: &str, kind: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("complete")
    };
    let create = client
        .create_table()
        .table_name(table)
        .attribute_definitions(attr("copy"))
        .attribute_definitions(attr("part"))
        .key_schema(key("copy", KeyType::Hash))
        .key_schema(key("part", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest);
    // A retry of a create that was applied meets ResourceInUse: the table exists.
    match send_retrying(table, || create.clone().send()).await.0 {
        Ok(_) => {}
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
        Err(e) => return Err(aws_error(table, "CreateTable", &e)),
    }
    // Wait until ACTIVE (another process may be creating it too).
    for _ in 0..600 {
        let out = client.describe_table().table_name(table).send().await;
        if let Ok(out) = out {
            if out
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| s.as_str() == "ACTIVE")
            {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(CheckpointError::Aws(format!(
        "checkpoint table {}: not ACTIVE after 60 s",
        table
    )))
}

fn aws_error<E>(
    table: &str,
    operation: &str,
    e: &SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> CheckpointError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    CheckpointError::Aws(format!("table {table}: {operation}: {}", classify(e)))
}

fn num(row: &HashMap<String, AttributeValue>, name: &str) -> u64 {
    match row.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

fn bool_of(row: &HashMap<String, AttributeValue>, name: &str) -> bool {
    matches!(row.get(name), Some(AttributeValue::Bool(true)))
}

fn str_of<'a>(row: &'a HashMap<String, AttributeValue>, name: &str) -> Option<&'a str> {
    match row.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

fn row_state(row: &HashMap<String, AttributeValue>) -> SegmentState {
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
