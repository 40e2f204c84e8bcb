//! Holdfast's own DynamoDB tables — copy checkpoint tables and the data migrations' history
//! table — share one layout: partition key `copy` (S), sort key `part` (S), on-demand billing,
//! created on first use ([`ensure_table`]). This module holds that layout and the small helpers
//! for reading and writing their rows; the lease protocol on such rows is [`crate::lease`]'s.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;

use crate::retry::{classify, send_retrying};

/// The partition key attribute.
pub const PARTITION: &str = "copy";
/// The sort key attribute.
pub const SORT: &str = "part";

/// A row as the SDK returns it.
pub type Row = HashMap<String, AttributeValue>;

/// A string value.
pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// A number value.
#[must_use]
pub fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A number attribute of `row` (0 when absent or not a number).
#[must_use]
pub fn num(row: &Row, name: &str) -> u64 {
    match row.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    }
}

/// A boolean attribute of `row` (false when absent).
#[must_use]
pub fn bool_of(row: &Row, name: &str) -> bool {
    matches!(row.get(name), Some(AttributeValue::Bool(true)))
}

/// A string attribute of `row`.
#[must_use]
pub fn str_of<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    match row.get(name) {
        Some(AttributeValue::S(v)) => Some(v),
        _ => None,
    }
}

/// `table: operation: the classified error`, the one line every call failure on these tables
/// reads as.
pub fn call_failure<E>(table: &str, operation: &str, e: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    format!("table {table}: {operation}: {}", classify(e))
}

/// Creates a table with this layout unless it exists, and waits until it is ACTIVE (another
/// process may be creating it too). The error is one line: the table, the call and why.
///
/// # Errors
/// A call failed, or the table did not become ACTIVE within 60 s.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), String> {
    let describe = client.describe_table().table_name(table);
    match send_retrying(table, || describe.clone().send()).await.0 {
        Ok(_) => return Ok(()),
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {}
        Err(e) => return Err(call_failure(table, "DescribeTable", &e)),
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
        .attribute_definitions(attr(PARTITION))
        .attribute_definitions(attr(SORT))
        .key_schema(key(PARTITION, KeyType::Hash))
        .key_schema(key(SORT, KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest);
    // A retry of a create that was applied meets ResourceInUse: the table exists.
    match send_retrying(table, || create.clone().send()).await.0 {
        Ok(_) => {}
        Err(SdkError::ServiceError(e)) if e.err().is_resource_in_use_exception() => {}
        Err(e) => return Err(call_failure(table, "CreateTable", &e)),
    }
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
    Err(format!("checkpoint table {table}: not ACTIVE after 60 s"))
}
