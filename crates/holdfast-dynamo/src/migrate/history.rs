//! The data migrations' history table (default `holdfast_data_migrations`): the history rows,
//! the lock, and each migration's copy checkpoint, in one table of the checkpoint table's layout
//! (`copy` S hash key, `part` S range key):
//!
//! | `copy` | `part` | holds |
//! | --- | --- | --- |
//! | `holdfast#history` | the version (`1.2`) | file, checksum, state, tables, counts, times, error |
//! | `holdfast#lock` | `lock` | `owner`, `lease_until` (epoch ms), `fence` |
//! | `migration V<version>` | `meta`, `segment#NNNNN` | the copy's checkpoint ([`crate::checkpoint::table`]) |
//!
//! The lock is a lease of [`crate::lease`] on the lock row: taken when free or expired, renewed
//! while the migrations run, released at the end; every history change is a transaction with
//! the lease's fenced check, so a runner whose lease was taken over changes nothing more and
//! stops.

use holdfast_core::exit::{Classify, Outcome as ExitOutcome};
use std::time::{Duration, UNIX_EPOCH};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;

use crate::lease::{now_ms, LeaseError, Leases, RowKey};
use crate::retry::classify;
use crate::retry::send_retrying;
use crate::state_table::{n, s, str_of, Row};

const HISTORY: &str = "holdfast#history";
/// The lock row's key.
const LOCK: RowKey<'static> = RowKey {
    copy: "holdfast#lock",
    part: "lock",
};

/// The state of a history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// Started; the process may still be running, or died (then the next run resumes it).
    Running,
    /// Stopped at a deadline or by an interruption, with its checkpoint.
    Stopped,
    /// Failed; the error is recorded. The next run resumes from the checkpoint.
    Failed,
    /// Done.
    Applied,
}

impl RunState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Stopped => "stopped",
            RunState::Failed => "failed",
            RunState::Applied => "applied",
        }
    }

    fn parse(s: &str) -> Option<RunState> {
        Some(match s {
            "running" => RunState::Running,
            "stopped" => RunState::Stopped,
            "failed" => RunState::Failed,
            "applied" => RunState::Applied,
            _ => return None,
        })
    }
}

/// One history row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// [`super::files::version_key`] of the version.
    pub key: String,
    pub version: String,
    pub file: String,
    pub checksum: String,
    pub state: RunState,
    pub error: Option<String>,
    pub applied_at: Option<String>,
}

/// What a finished (or stopped) run records.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub error: Option<String>,
    pub items_read: u64,
    pub items_written: u64,
    pub items_unchanged: u64,
    pub execution_ms: u64,
}

/// The lock could not be taken, or was lost.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HistoryError {
    #[error("the data migration lock in {table} is held by {holder} (lease until {until}); waited {waited:?}")]
    Busy {
        table: String,
        holder: String,
        until: String,
        waited: Duration,
    },
    #[error("the data migration lock in {table} was taken over by another runner (this runner's lease ran out); it stops")]
    LockLost { table: String },
    #[error("history table {table}: {detail}")]
    Aws { table: String, detail: String },
    #[error("history table {table}: row {key} is unreadable ({what})")]
    Corrupt {
        table: String,
        key: String,
        what: String,
    },
}

impl Classify for HistoryError {
    fn outcome(&self) -> ExitOutcome {
        match self {
            HistoryError::Busy { .. } => ExitOutcome::Busy,
            HistoryError::LockLost { .. }
            | HistoryError::Aws { .. }
            | HistoryError::Corrupt { .. } => ExitOutcome::Failed,
        }
    }
}

fn rfc3339(ms: u64) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

fn text(row: &Row, name: &str) -> Option<String> {
    str_of(row, name).map(str::to_owned)
}

/// The history table, as one runner sees it.
#[derive(Debug, Clone)]
pub struct History {
    client: Client,
    table: String,
    leases: Leases,
}

impl History {
    #[must_use]
    pub fn new(client: Client, table: &str) -> History {
        History {
            leases: Leases::new(client.clone(), table, crate::lease::owner_id()),
            client,
            table: table.to_owned(),
        }
    }

    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    #[must_use]
    pub fn owner(&self) -> &str {
        self.leases.owner()
    }

    /// A lease call's failure as the history's.
    fn lease_error(&self, e: LeaseError) -> HistoryError {
        match e {
            LeaseError::Lost => HistoryError::LockLost {
                table: self.table.clone(),
            },
            LeaseError::Call { operation, error } => HistoryError::Aws {
                table: self.table.clone(),
                detail: format!("{operation}: {error}"),
            },
        }
    }

    fn aws<E>(
        &self,
        operation: &str,
        e: &SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> HistoryError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        HistoryError::Aws {
            table: self.table.clone(),
            detail: format!("{operation}: {}", classify(e)),
        }
    }

    /// Whether the table exists (a dry run does not create it).
    ///
    /// # Errors
    /// [`HistoryError::Aws`].
    pub async fn exists(&self) -> Result<bool, HistoryError> {
        let describe = self.client.describe_table().table_name(&self.table);
        match send_retrying(&self.table, || describe.clone().send())
            .await
            .0
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
                Ok(false)
            }
            Err(e) => Err(self.aws("DescribeTable", &e)),
        }
    }

    /// Creates the table unless it exists.
    ///
    /// # Errors
    /// [`HistoryError::Aws`].
    pub async fn ensure(&self) -> Result<(), HistoryError> {
        crate::state_table::ensure_table(&self.client, &self.table)
            .await
            .map_err(|detail| HistoryError::Aws {
                table: self.table.clone(),
                detail,
            })
    }

    /// Every history row (strongly consistent).
    ///
    /// # Errors
    /// [`HistoryError`].
    pub async fn rows(&self) -> Result<Vec<HistoryRow>, HistoryError> {
        let mut rows = Vec::new();
        let mut start = None;
        loop {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#c = :c")
                .expression_attribute_names("#c", "copy")
                .expression_attribute_values(":c", s(HISTORY))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            let out = send_retrying(&self.table, || query.clone().send())
                .await
                .0
                .map_err(|e| self.aws("Query", &e))?;
            for row in out.items.unwrap_or_default() {
                rows.push(self.row(&row)?);
            }
            match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => start = Some(k),
                None => return Ok(rows),
            }
        }
    }

    fn row(&self, row: &Row) -> Result<HistoryRow, HistoryError> {
        let key = text(row, "part").unwrap_or_default();
        let corrupt = |what: &str| HistoryError::Corrupt {
            table: self.table.clone(),
            key: key.clone(),
            what: what.to_owned(),
        };
        let state = text(row, "state")
            .and_then(|t| RunState::parse(&t))
            .ok_or_else(|| corrupt("state"))?;
        Ok(HistoryRow {
            key: key.clone(),
            version: text(row, "version").ok_or_else(|| corrupt("version"))?,
            file: text(row, "file").unwrap_or_default(),
            checksum: text(row, "checksum").ok_or_else(|| corrupt("checksum"))?,
            state,
            error: text(row, "error"),
            applied_at: text(row, "applied_at"),
        })
    }

    /// Records that a migration starts (or resumes), unless it is applied already. Written in
    /// one transaction with a check that this runner still holds the lock (`fence`).
    ///
    /// # Errors
    /// [`HistoryError::LockLost`], [`HistoryError::Aws`].
    pub async fn start(
        &self,
        migration: &super::files::DataMigration,
        fence: u64,
    ) -> Result<(), HistoryError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("copy", s(HISTORY))
            .key("part", s(super::files::version_key(&migration.version)))
            .update_expression(
                "SET version = :v, description = :d, #f = :f, checksum = :c, #s = :running, source_table = :src, target_table = :dst, started_at = if_not_exists(started_at, :now), runs = if_not_exists(runs, :zero) + :one, ran_by = :me REMOVE #e",
            )
            .condition_expression("attribute_not_exists(#s) OR #s <> :applied")
            .expression_attribute_names("#f", "file")
            .expression_attribute_names("#s", "state")
            .expression_attribute_names("#e", "error")
            .expression_attribute_values(":v", s(migration.version.as_str()))
            .expression_attribute_values(":d", s(&migration.description))
            .expression_attribute_values(":f", s(&migration.file))
            .expression_attribute_values(":c", s(&migration.checksum))
            .expression_attribute_values(":running", s(RunState::Running.as_str()))
            .expression_attribute_values(":applied", s(RunState::Applied.as_str()))
            .expression_attribute_values(":src", s(&migration.source))
            .expression_attribute_values(":dst", s(&migration.target))
            .expression_attribute_values(":now", s(rfc3339(now_ms())))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":me", s(self.owner()));
        self.fenced(update, fence).await
    }

    /// Records how a run ended, in one transaction with the lock check.
    ///
    /// # Errors
    /// [`HistoryError::LockLost`], [`HistoryError::Aws`].
    pub async fn finish(
        &self,
        migration: &super::files::DataMigration,
        state: RunState,
        outcome: &Outcome,
        fence: u64,
    ) -> Result<(), HistoryError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("copy", s(HISTORY))
            .key("part", s(super::files::version_key(&migration.version)))
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":state", s(state.as_str()))
            .expression_attribute_values(":read", n(outcome.items_read))
            .expression_attribute_values(":written", n(outcome.items_written))
            .expression_attribute_values(":unchanged", n(outcome.items_unchanged))
            .expression_attribute_values(":ms", n(outcome.execution_ms))
            .expression_attribute_values(":zero", n(0));
        let counts = "items_read = if_not_exists(items_read, :zero) + :read, items_written = if_not_exists(items_written, :zero) + :written, items_unchanged = if_not_exists(items_unchanged, :zero) + :unchanged, execution_ms = if_not_exists(execution_ms, :zero) + :ms";
        update = match (&outcome.error, state) {
            (Some(error), _) => update
                .update_expression(format!("SET #s = :state, #e = :error, {counts}"))
                .expression_attribute_names("#e", "error")
                .expression_attribute_values(":error", s(error)),
            (None, RunState::Applied) => update
                .update_expression(format!("SET #s = :state, applied_at = :now, {counts}"))
                .expression_attribute_values(":now", s(rfc3339(now_ms()))),
            (None, _) => update.update_expression(format!("SET #s = :state, {counts}")),
        };
        self.fenced(update, fence).await
    }

    /// Writes `update` only if this runner still holds the lock with token `fence`.
    async fn fenced(
        &self,
        update: aws_sdk_dynamodb::types::builders::UpdateBuilder,
        fence: u64,
    ) -> Result<(), HistoryError> {
        let built = |what: &str, e: aws_sdk_dynamodb::error::BuildError| HistoryError::Aws {
            table: self.table.clone(),
            detail: format!("{what}: {e}"),
        };
        let check = self
            .leases
            .check(LOCK, fence)
            .map_err(|detail| HistoryError::Aws {
                table: self.table.clone(),
                detail,
            })?;
        let update = update.build().map_err(|e| built("Update", e))?;
        // One token for every attempt: a retry of a transaction that was applied is a no-op.
        let transaction = self
            .client
            .transact_write_items()
            .client_request_token(format!(
                "{:016x}{:016x}",
                fastrand::u64(..),
                fastrand::u64(..)
            ))
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .transact_items(TransactWriteItem::builder().update(update).build());
        let out = send_retrying(&self.table, || transaction.clone().send())
            .await
            .0;
        match out {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c)
                        if c.cancellation_reasons().first().is_some_and(|r| r.code() == Some("ConditionalCheckFailed"))
                ) =>
            {
                Err(HistoryError::LockLost {
                    table: self.table.clone(),
                })
            }
            Err(e) => Err(self.aws("TransactWriteItems", &e)),
        }
    }

    /// Takes the lock, waiting up to `wait` for a holder to release it or for its lease to
    /// run out. Returns the lock's fencing token.
    ///
    /// # Errors
    /// [`HistoryError::Busy`] when the wait runs out.
    pub async fn lock(
        &self,
        lease: Duration,
        wait: Duration,
        stop: &crate::stop::Stop,
    ) -> Result<u64, HistoryError> {
        let started = std::time::Instant::now();
        loop {
            let taken = self
                .leases
                .take(LOCK, lease, None)
                .await
                .map_err(|e| self.lease_error(e))?;
            if let Some(row) = taken {
                return Ok(crate::state_table::num(&row, "fence"));
            }
            let waited = started.elapsed();
            if waited >= wait || stop.is_stopped() {
                let holder = self
                    .leases
                    .holder(LOCK)
                    .await
                    .map_err(|e| self.lease_error(e))?;
                return Err(HistoryError::Busy {
                    table: self.table.clone(),
                    holder: holder.owner.unwrap_or_else(|| "nobody".into()),
                    until: rfc3339(holder.lease_until),
                    waited,
                });
            }
            let pause = Duration::from_millis(250 + fastrand::u64(..250));
            stop.sleep(
                pause
                    .min(wait.saturating_sub(waited))
                    .max(Duration::from_millis(10)),
            )
            .await;
        }
    }

    /// Renews the lock's lease.
    ///
    /// # Errors
    /// [`HistoryError::LockLost`] when another runner holds it now.
    pub async fn renew(&self, fence: u64, lease: Duration) -> Result<(), HistoryError> {
        self.lock_update(fence, now_ms() + lease.as_millis() as u64)
            .await
    }

    /// Releases the lock (its lease ends now).
    ///
    /// # Errors
    /// [`HistoryError::LockLost`] when another runner holds it now.
    pub async fn unlock(&self, fence: u64) -> Result<(), HistoryError> {
        self.lock_update(fence, 0).await
    }

    async fn lock_update(&self, fence: u64, until: u64) -> Result<(), HistoryError> {
        self.leases
            .renew(LOCK, fence, until, None)
            .await
            .map_err(|e| self.lease_error(e))
    }
}
