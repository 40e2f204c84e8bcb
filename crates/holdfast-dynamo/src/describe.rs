//! The tables an operation reads and writes, described before anything else happens: they
//! must exist and be ACTIVE, and their key schemas are what items are checked against.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::Client;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::remedy::{Remedy, Setting};

use crate::keys::KeySpec;
use crate::retry::{classify, outcome_of, send_retrying, CallError};

/// A table that cannot be used as it is.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TableError {
    #[error("table {table} does not exist")]
    NoTable { table: String },
    #[error("table {table} is {status}, not ACTIVE")]
    NotActive { table: String, status: String },
    #[error("table {table}: DescribeTable: {error}")]
    Call { table: String, error: CallError },
    #[error("table {table}: {detail}")]
    Unusable { table: String, detail: String },
    #[error("key schemas differ: {source_table} has {source_key}, {target_table} has {target_key}; a copy without a transform keeps keys as they are (a transform can derive the target's key)")]
    KeySchemas {
        source_table: String,
        source_key: String,
        target_table: String,
        target_key: String,
    },
}

impl Classify for TableError {
    fn outcome(&self) -> Outcome {
        match self {
            TableError::Call { error, .. } => outcome_of(error),
            TableError::Unusable { .. } => Outcome::Failed,
            TableError::NoTable { .. }
            | TableError::NotActive { .. }
            | TableError::KeySchemas { .. } => Outcome::Usage,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            TableError::KeySchemas { .. } => Some(Remedy::using(Setting::Transform)),
            _ => None,
        }
    }
}

/// A table's key schema and approximate item count, checking it exists and is ACTIVE.
///
/// # Errors
/// [`TableError`].
pub async fn describe_key(client: &Client, table: &str) -> Result<(KeySpec, i64), TableError> {
    let describe = client.describe_table().table_name(table);
    let out = match send_retrying(table, || describe.clone().send()).await.0 {
        Ok(out) => out,
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
            return Err(TableError::NoTable {
                table: table.into(),
            })
        }
        Err(e) => {
            return Err(TableError::Call {
                table: table.into(),
                error: classify(&e),
            })
        }
    };
    let unusable = |detail: &str| TableError::Unusable {
        table: table.into(),
        detail: detail.into(),
    };
    let desc = out
        .table
        .ok_or_else(|| unusable("DescribeTable returned no table"))?;
    let status = desc
        .table_status()
        .map_or("UNKNOWN", |s| s.as_str())
        .to_owned();
    if status != "ACTIVE" {
        return Err(TableError::NotActive {
            table: table.into(),
            status,
        });
    }
    let key = KeySpec::from_description(&desc)
        .ok_or_else(|| unusable("DescribeTable states no key schema"))?;
    Ok((key, desc.item_count().unwrap_or(0)))
}

/// Both tables' keys (and the source's approximate item count), checking that a copy without
/// a transform keeps the key schema.
///
/// # Errors
/// As [`describe_key`]; [`TableError::KeySchemas`].
pub async fn describe_both(
    client: &Client,
    source: &str,
    target: &str,
    transformed: bool,
) -> Result<(KeySpec, KeySpec, i64), TableError> {
    let (source_key, approx) = describe_key(client, source).await?;
    let (target_key, _) = describe_key(client, target).await?;
    if !transformed && source_key != target_key {
        return Err(TableError::KeySchemas {
            source_table: source.to_owned(),
            source_key: source_key.to_string(),
            target_table: target.to_owned(),
            target_key: target_key.to_string(),
        });
    }
    Ok((source_key, target_key, approx))
}
