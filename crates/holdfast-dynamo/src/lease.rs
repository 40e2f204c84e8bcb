//! Leases with fencing tokens on rows of Holdfast's own tables ([`crate::state_table`]): the
//! one protocol behind a copy checkpoint's segment claims ([`crate::checkpoint::table`]) and
//! the data migrations' lock ([`crate::migrate::history`]).
//!
//! A leased row carries `owner` (the holder's [`owner_id`]), `lease_until` (epoch
//! milliseconds) and `fence` (a counter). Every change is one conditional write:
//!
//! - **take** ([`Leases::take`]): `owner = me`, `lease_until = now + lease`,
//!   `fence = fence + 1`, only if the lease is free or expired (`lease_until` absent or past)
//!   and the caller's own condition holds (a segment: it exists and is not done). The new
//!   `fence` is the holder's token.
//! - **renew** ([`Leases::renew`], also carrying the caller's own changes, e.g. a segment's
//!   progress) and **release** (`lease_until = 0`): only if `owner = me AND fence = my token`.
//! - **fenced change** ([`Leases::check`]): a transaction's condition check that this holder
//!   still holds the lease with its token and the lease has not run out.
//!
//! **Invariant:** once another holder has taken the row, the fence has moved on, so no write
//! of an earlier holder — a stalled worker, a runner whose lease ran out — can succeed again:
//! each fails with [`LeaseError::Lost`] and the row stays as the new holder left it. A crashed
//! holder's lease simply runs out.
//!
//! The calls are retried ([`crate::retry::send_retrying`]); a call that went unanswered may
//! have been applied, so a retried take that then fails its condition reads the row: if it
//! holds this take's owner and expiry, the take was this holder's. A retried renew or release
//! meets the same condition (owner and token unchanged) and writes the same values again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, ReturnValue};
use aws_sdk_dynamodb::Client;

use crate::retry::{classify, outcome_of, send_retrying, CallError};
use crate::state_table::{n, num, s, str_of, Row, PARTITION, SORT};
use holdfast_core::exit::{Classify, Outcome};

/// The epoch milliseconds leases are written in.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A holder's identity: host, process id and a random part (so two runs in one process, or a
/// process id reused after a crash, are told apart).
#[must_use]
pub fn owner_id() -> String {
    format!(
        "{}:{}:{:08x}",
        gethostname::gethostname().to_string_lossy(),
        std::process::id(),
        fastrand::u32(..)
    )
}

/// A leased row's key.
#[derive(Debug, Clone, Copy)]
pub struct RowKey<'a> {
    pub copy: &'a str,
    pub part: &'a str,
}

/// A caller's addition to a condition or an update: its text and the names and values it uses
/// (which must not clash with the lease's own: `#o`, `:me`, `:until`, `:now`, `:fence`,
/// `:zero`, `:one`).
#[derive(Debug, Clone, Default)]
pub struct Clause {
    pub text: String,
    pub names: Vec<(&'static str, &'static str)>,
    pub values: Vec<(&'static str, AttributeValue)>,
}

/// Who holds a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// `None`: nobody has taken it yet.
    pub owner: Option<String>,
    pub lease_until: u64,
    pub fence: u64,
}

/// Why a lease call did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    /// Another holder has the row now (or never had it: the condition failed).
    #[error("the lease is held by another holder now")]
    Lost,
    /// The call failed.
    #[error("{operation}: {error}")]
    Call {
        operation: &'static str,
        error: CallError,
    },
}

impl Classify for LeaseError {
    fn outcome(&self) -> Outcome {
        match self {
            LeaseError::Lost => Outcome::Failed,
            LeaseError::Call { error, .. } => outcome_of(error),
        }
    }
}

impl LeaseError {
    fn call<E>(operation: &'static str, e: &SdkError<E, HttpResponse>) -> LeaseError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        LeaseError::Call {
            operation,
            error: classify(e),
        }
    }
}

/// The leases of one table, as one holder sees them.
#[derive(Debug, Clone)]
pub struct Leases {
    client: Client,
    table: String,
    owner: String,
}

impl Leases {
    /// `owner`'s view of `table`'s leases.
    #[must_use]
    pub fn new(client: Client, table: &str, owner: String) -> Leases {
        Leases {
            client,
            table: table.to_owned(),
            owner,
        }
    }

    /// The holder's id.
    #[must_use]
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Takes the lease of `key` for `lease` if it is free or expired and `extra` holds.
    /// `Ok(Some(row))`: taken, the row as written (its `fence` is the token); `Ok(None)`: held
    /// by another holder, or `extra` does not hold.
    ///
    /// # Errors
    /// [`LeaseError::Call`].
    pub async fn take(
        &self,
        key: RowKey<'_>,
        lease: Duration,
        extra: Option<&Clause>,
    ) -> Result<Option<Row>, LeaseError> {
        let now = now_ms();
        // This take's expiry: with the owner, it tells this take's row apart.
        let until = now + lease.as_millis() as u64;
        let free = "(attribute_not_exists(lease_until) OR lease_until < :now)";
        let condition = match extra {
            Some(c) => format!("{} AND {free}", c.text),
            None => free.to_owned(),
        };
        let update = self
            .update(key, extra)
            .update_expression(
                "SET #o = :me, lease_until = :until, fence = if_not_exists(fence, :zero) + :one",
            )
            .condition_expression(condition)
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":me", s(&self.owner))
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew);
        let (out, retried) = send_retrying(&self.table, || update.clone().send()).await;
        match out {
            Ok(out) => Ok(Some(out.attributes.unwrap_or_default())),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                // Taken by another holder, or by an attempt of this take that went
                // unanswered: then the row holds this take's owner and expiry.
                if !retried {
                    return Ok(None);
                }
                Ok(self.row(key).await?.filter(|row| {
                    str_of(row, "owner") == Some(&self.owner) && num(row, "lease_until") == until
                }))
            }
            Err(e) => Err(LeaseError::call("UpdateItem", &e)),
        }
    }

    /// Sets the lease of `key` to end at `until` (epoch ms; 0 releases it), with `extra`'s
    /// changes (`SET` clauses), only if this holder still holds it with token `fence`.
    ///
    /// # Errors
    /// [`LeaseError::Lost`] when another holder has it now; [`LeaseError::Call`].
    pub async fn renew(
        &self,
        key: RowKey<'_>,
        fence: u64,
        until: u64,
        extra: Option<&Clause>,
    ) -> Result<(), LeaseError> {
        let set = match extra {
            Some(c) => format!("SET {}, lease_until = :until", c.text),
            None => "SET lease_until = :until".to_owned(),
        };
        let update = self
            .update(key, extra)
            .update_expression(set)
            .condition_expression("#o = :me AND fence = :fence")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":until", n(until))
            .expression_attribute_values(":me", s(&self.owner))
            .expression_attribute_values(":fence", n(fence));
        match send_retrying(&self.table, || update.clone().send()).await.0 {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(LeaseError::Lost)
            }
            Err(e) => Err(LeaseError::call("UpdateItem", &e)),
        }
    }

    /// An UpdateItem of `key` carrying `extra`'s names and values.
    fn update(&self, key: RowKey<'_>, extra: Option<&Clause>) -> UpdateItemFluentBuilder {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION, s(key.copy))
            .key(SORT, s(key.part));
        for (name, value) in extra.map(|c| c.names.as_slice()).unwrap_or_default() {
            update = update.expression_attribute_names(*name, *value);
        }
        for (name, value) in extra.map(|c| c.values.as_slice()).unwrap_or_default() {
            update = update.expression_attribute_values(*name, value.clone());
        }
        update
    }

    /// A transaction's check that this holder still holds `key` with token `fence` and its
    /// lease has not run out: a change written with it is fenced.
    ///
    /// # Errors
    /// The SDK's builder refused it (one line).
    pub fn check(&self, key: RowKey<'_>, fence: u64) -> Result<ConditionCheck, String> {
        ConditionCheck::builder()
            .table_name(&self.table)
            .key(PARTITION, s(key.copy))
            .key(SORT, s(key.part))
            .condition_expression("#o = :me AND fence = :fence AND lease_until > :now")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":me", s(&self.owner))
            .expression_attribute_values(":fence", n(fence))
            .expression_attribute_values(":now", n(now_ms()))
            .build()
            .map_err(|e| format!("ConditionCheck: {e}"))
    }

    /// Who holds `key`'s lease (read consistently).
    ///
    /// # Errors
    /// [`LeaseError::Call`].
    pub async fn holder(&self, key: RowKey<'_>) -> Result<Holder, LeaseError> {
        let row = self.row(key).await?.unwrap_or_default();
        Ok(Holder {
            owner: str_of(&row, "owner").map(str::to_owned),
            lease_until: num(&row, "lease_until"),
            fence: num(&row, "fence"),
        })
    }

    /// The row of `key`, read consistently.
    ///
    /// # Errors
    /// [`LeaseError::Call`].
    pub async fn row(&self, key: RowKey<'_>) -> Result<Option<Row>, LeaseError> {
        let get = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION, s(key.copy))
            .key(SORT, s(key.part))
            .consistent_read(true);
        let out = send_retrying(&self.table, || get.clone().send())
            .await
            .0
            .map_err(|e| LeaseError::call("GetItem", &e))?;
        Ok(out.item)
    }
}
