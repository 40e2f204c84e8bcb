//! `holdfast dynamo verify TABLE`: is a table there and fit to hold data?
//!
//! Read-only: `DescribeTable` and, for PITR, `DescribeContinuousBackups`. The checks, in order:
//!
//! | check | required | passes when |
//! | --- | --- | --- |
//! | `exists` | always | DescribeTable finds the table |
//! | `active` | always | the table and every GSI are `ACTIVE` (with a wait: polled until they are, or the wait runs out) |
//! | `key_schema` | with `--require-key` | partition (and sort) key names and types are as required |
//! | `pitr` | with `--require-pitr` | point-in-time recovery is `ENABLED` |
//! | `deletion_protection`, `stream`, `gsis`, `item_count` | never | informational |
//!
//! A table that does not exist is a failed check (exit 3), not an error: "is it there?" is the
//! first thing verify answers. It fails at once, also with a wait (a table being created exists
//! as `CREATING` from the moment CreateTable returns). A check that is not required is reported
//! and never fails. DynamoDB Local has no PITR API: the `pitr` check then says it "cannot be
//! verified on this endpoint" and fails only when required. The item count and size come from
//! DescribeTable and are APPROXIMATE: DynamoDB updates them about every six hours.
//!
//! Errors ([`VerifyError`]): a bad `--require-key` (exit 2), no region or credentials (exit 2,
//! configuration), an endpoint that does not answer or refuses DescribeTable (exit 1).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{KeyType, TableDescription};
use holdfast_aws::{error_chain, one_line};

pub use crate::client::Dynamo;
pub use crate::key_schema::{KeyAttrType, KeyPart, KeySpec};
use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::dynamo::{Check, IndexInfo, KeyAttribute, TableInfo, VerifyReport};
use holdfast_report::{Command, Envelope};
use std::time::{Duration, Instant};

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    pub table: String,
    pub require_key: Option<KeySpec>,
    pub require_pitr: bool,
    /// Poll until ACTIVE for at most this long; `None`: look once.
    pub wait: Option<Duration>,
}

/// Why verify could not judge the table.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("table {table}: cannot reach DynamoDB at {endpoint}: {detail}")]
    Unreachable {
        table: String,
        endpoint: String,
        detail: String,
    },
    #[error("table {table}: DynamoDB refused {operation} ({}): {error}", .error.kind.describe())]
    Refused {
        table: String,
        operation: &'static str,
        error: holdfast_aws::CallError,
    },
    #[error("table {table}: {operation} failed: {detail}")]
    Other {
        table: String,
        operation: &'static str,
        detail: String,
    },
}

impl Classify for VerifyError {
    fn outcome(&self) -> Outcome {
        Outcome::Failed
    }
}

impl Dynamo {
    /// Verifies one table. A failed check is in the report (exit 3), not an error.
    ///
    /// # Errors
    /// [`VerifyError`]: the endpoint does not answer or refuses DescribeTable.
    pub async fn verify(&self, request: &VerifyRequest) -> Result<VerifyReport, VerifyError> {
        let table = &request.table;
        let deadline = request.wait.map(|w| (w, Instant::now() + w));
        let Some(desc) = self.described(table, deadline).await? else {
            let missing = Check {
                name: "exists".into(),
                ok: false,
                required: true,
                detail: format!(
                    "table {table} does not exist in {} (at {})",
                    self.region, self.endpoint
                ),
            };
            return Ok(self.report(request, vec![missing], None));
        };
        let mut checks = vec![
            Check {
                name: "exists".into(),
                ok: true,
                required: true,
                detail: desc.table_arn().unwrap_or(table).to_string(),
            },
            active_check(&desc, deadline.map(|(wait, _)| wait)),
            key_schema_check(&desc, request.require_key.as_ref()),
        ];
        let pitr = self.pitr(table).await;
        checks.push(pitr_check(&pitr, request.require_pitr));
        let (info, informational) = table_info(&desc, pitr.ok());
        checks.extend(informational);
        Ok(self.report(request, checks, Some(info)))
    }

    /// DescribeTable, polled with backoff (0.5 s, 1 s, 2 s … up to 10 s between polls, never
    /// past the deadline) while the table or a GSI is not ACTIVE; `None`: no such table.
    async fn described(
        &self,
        table: &str,
        deadline: Option<(Duration, Instant)>,
    ) -> Result<Option<TableDescription>, VerifyError> {
        let mut delay = Duration::from_millis(500);
        let mut described = self.describe(table).await?;
        if let Some((_, until)) = deadline {
            while described.as_ref().is_some_and(|d| not_active(d).is_some())
                && Instant::now() < until
            {
                let left = until.saturating_duration_since(Instant::now());
                tokio::time::sleep(delay.min(left)).await;
                delay = (delay * 2).min(Duration::from_secs(10));
                described = self.describe(table).await?;
            }
        }
        Ok(described)
    }

    fn report(
        &self,
        request: &VerifyRequest,
        checks: Vec<Check>,
        table_info: Option<TableInfo>,
    ) -> VerifyReport {
        let outcome = if checks.iter().all(|c| c.ok) {
            Outcome::Success
        } else {
            Outcome::CheckFailed
        };
        VerifyReport {
            envelope: Envelope::new(Command::DynamoVerify, outcome),
            table: request.table.clone(),
            endpoint: self.endpoint.clone(),
            region: self.region.clone(),
            checks,
            table_info,
        }
    }

    /// DescribeTable; `None` when the table does not exist.
    async fn describe(&self, table: &str) -> Result<Option<TableDescription>, VerifyError> {
        match self
            .client()
            .describe_table()
            .table_name(table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table().cloned()),
            Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => Ok(None),
            Err(e) => Err(self.api_error(table, "DescribeTable", e)),
        }
    }

    /// The PITR status (`ENABLED`/`DISABLED`), or why the endpoint could not say.
    async fn pitr(&self, table: &str) -> Result<String, String> {
        let out = self
            .client()
            .describe_continuous_backups()
            .table_name(table)
            .send()
            .await
            .map_err(|e| match &e {
                SdkError::ServiceError(s) => one_line(&format!(
                    "{}: {}",
                    s.err().code().unwrap_or("error"),
                    s.err().message().unwrap_or_default()
                )),
                _ => error_chain(&e),
            })?;
        out.continuous_backups_description()
            .and_then(|c| c.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            .map(|s| s.as_str().to_string())
            .ok_or_else(|| "no PointInTimeRecoveryStatus in the answer".to_string())
    }

    fn api_error<E>(
        &self,
        table: &str,
        operation: &'static str,
        error: SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> VerifyError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let call = holdfast_aws::classify(&error);
        match (&error, call.kind) {
            (_, holdfast_aws::FailureKind::Unreachable) => VerifyError::Unreachable {
                table: table.to_string(),
                endpoint: self.endpoint.clone(),
                detail: error_chain(&error),
            },
            (SdkError::ServiceError(_), _) => VerifyError::Refused {
                table: table.to_string(),
                operation,
                error: call,
            },
            _ => VerifyError::Other {
                table: table.to_string(),
                operation,
                detail: error_chain(&error),
            },
        }
    }
}

/// `active`: the table and every GSI are ACTIVE (after waiting `waited`, if it waited).
fn active_check(desc: &TableDescription, waited: Option<Duration>) -> Check {
    match not_active(desc) {
        None => Check {
            name: "active".into(),
            ok: true,
            required: true,
            detail: if desc.global_secondary_indexes().is_empty() {
                "ACTIVE".into()
            } else {
                "ACTIVE, and every GSI ACTIVE".into()
            },
        },
        Some(what) => Check {
            name: "active".into(),
            ok: false,
            required: true,
            detail: match waited {
                Some(wait) => format!("not ACTIVE after waiting {wait:?}: {what}"),
                None => format!("not ACTIVE: {what} (not waited for)"),
            },
        },
    }
}

/// `key_schema`: the key schema, as required if a key is required.
fn key_schema_check(desc: &TableDescription, required: Option<&KeySpec>) -> Check {
    let key_schema = key_schema(desc);
    let found = key_schema
        .iter()
        .map(|k| format!("{}:{}", k.name, k.attribute_type))
        .collect::<Vec<_>>()
        .join(",");
    match required {
        None => Check {
            name: "key_schema".into(),
            ok: true,
            required: false,
            detail: found,
        },
        Some(spec) => {
            let expected = spec.to_string();
            let ok = expected == found;
            Check {
                name: "key_schema".into(),
                ok,
                required: true,
                detail: if ok {
                    found
                } else {
                    format!("expected {expected}, found {found}")
                },
            }
        }
    }
}

/// `pitr`: point-in-time recovery, required or not.
fn pitr_check(pitr: &Result<String, String>, required: bool) -> Check {
    let (pitr_status, pitr_detail) = match pitr {
        Ok(status) => (Some(status.clone()), status.clone()),
        Err(why) => (None, format!("cannot be verified on this endpoint ({why})")),
    };
    Check {
        name: "pitr".into(),
        ok: !required || pitr_status.as_deref() == Some("ENABLED"),
        required,
        detail: pitr_detail,
    }
}

/// The table's facts and the informational checks (deletion protection, stream, GSIs, item
/// count).
fn table_info(desc: &TableDescription, pitr: Option<String>) -> (TableInfo, Vec<Check>) {
    let mut checks = Vec::new();
    let status = desc
        .table_status()
        .map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string());
    let deletion_protection = desc.deletion_protection_enabled().unwrap_or(false);
    checks.push(Check {
        name: "deletion_protection".into(),
        ok: true,
        required: false,
        detail: if deletion_protection {
            "enabled".into()
        } else {
            "disabled".into()
        },
    });

    let stream = desc.stream_specification();
    let stream_enabled = stream.is_some_and(|s| s.stream_enabled());
    let stream_view_type = stream
        .and_then(|s| s.stream_view_type())
        .map(|v| v.as_str().to_string());
    checks.push(Check {
        name: "stream".into(),
        ok: true,
        required: false,
        detail: match (stream_enabled, &stream_view_type) {
            (true, Some(view)) => format!("enabled ({view})"),
            (true, None) => "enabled".into(),
            (false, _) => "disabled".into(),
        },
    });

    let gsis: Vec<IndexInfo> = desc
        .global_secondary_indexes()
        .iter()
        .map(|g| IndexInfo {
            name: g.index_name().unwrap_or_default().to_string(),
            status: g
                .index_status()
                .map_or_else(|| "UNKNOWN".to_string(), |s| s.as_str().to_string()),
        })
        .collect();
    checks.push(Check {
        name: "gsis".into(),
        ok: true,
        required: false,
        detail: if gsis.is_empty() {
            "none".into()
        } else {
            gsis.iter()
                .map(|g| format!("{} ({})", g.name, g.status))
                .collect::<Vec<_>>()
                .join(", ")
        },
    });

    let items = desc.item_count();
    let bytes = desc.table_size_bytes();
    checks.push(Check {
        name: "item_count".into(),
        ok: true,
        required: false,
        detail: format!(
            "about {} items, {} bytes (APPROXIMATE: DynamoDB updates these about every six hours)",
            items.map_or_else(|| "?".into(), |n| n.to_string()),
            bytes.map_or_else(|| "?".into(), |n| n.to_string()),
        ),
    });

    let info = TableInfo {
        status,
        arn: desc.table_arn().map(ToString::to_string),
        key_schema: key_schema(desc),
        pitr,
        deletion_protection,
        stream_enabled,
        stream_view_type,
        global_secondary_indexes: gsis,
        approximate_item_count: items,
        approximate_size_bytes: bytes,
    };
    (info, checks)
}

/// `None` when the table and every GSI are ACTIVE, else what is not.
fn not_active(desc: &TableDescription) -> Option<String> {
    let status = desc.table_status().map_or("UNKNOWN", |s| s.as_str());
    let mut pending: Vec<String> = Vec::new();
    if status != "ACTIVE" {
        pending.push(format!("table {status}"));
    }
    for g in desc.global_secondary_indexes() {
        let s = g.index_status().map_or("UNKNOWN", |s| s.as_str());
        if s != "ACTIVE" {
            pending.push(format!("GSI {} {s}", g.index_name().unwrap_or("?")));
        }
    }
    (!pending.is_empty()).then(|| pending.join(", "))
}

/// The key schema, HASH first, with types from the attribute definitions.
fn key_schema(desc: &TableDescription) -> Vec<KeyAttribute> {
    let mut keys: Vec<KeyAttribute> = desc
        .key_schema()
        .iter()
        .map(|k| {
            let name = k.attribute_name().to_string();
            let attribute_type = desc
                .attribute_definitions()
                .iter()
                .find(|d| d.attribute_name() == name)
                .map_or_else(
                    || "?".to_string(),
                    |d| d.attribute_type().as_str().to_string(),
                );
            KeyAttribute {
                role: k.key_type().as_str().to_string(),
                name,
                attribute_type,
            }
        })
        .collect();
    keys.sort_by_key(|k| k.role != KeyType::Hash.as_str());
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    use aws_sdk_dynamodb::types::{
        AttributeDefinition, GlobalSecondaryIndexDescription, IndexStatus, KeySchemaElement,
        ScalarAttributeType, TableStatus,
    };

    fn table(status: TableStatus, gsis: &[(&str, IndexStatus)]) -> TableDescription {
        let mut builder = TableDescription::builder()
            .table_status(status)
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("sk")
                    .key_type(KeyType::Range)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("pk")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("pk")
                    .attribute_type(ScalarAttributeType::B)
                    .build()
                    .unwrap(),
            );
        for (name, status) in gsis {
            builder = builder.global_secondary_indexes(
                GlobalSecondaryIndexDescription::builder()
                    .index_name(*name)
                    .index_status(status.clone())
                    .build(),
            );
        }
        builder.build()
    }

    #[test]
    fn active_means_the_table_and_every_gsi() {
        assert_eq!(not_active(&table(TableStatus::Active, &[])), None);
        assert_eq!(
            not_active(&table(TableStatus::Active, &[("a", IndexStatus::Active)])),
            None
        );
        assert_eq!(
            not_active(&table(
                TableStatus::Active,
                &[("a", IndexStatus::Active), ("b", IndexStatus::Creating)]
            ))
            .as_deref(),
            Some("GSI b CREATING")
        );
        assert_eq!(
            not_active(&table(
                TableStatus::Updating,
                &[("a", IndexStatus::Deleting)]
            ))
            .as_deref(),
            Some("table UPDATING, GSI a DELETING")
        );
    }

    #[test]
    fn the_key_schema_lists_the_partition_key_first_with_types() {
        let keys = key_schema(&table(TableStatus::Active, &[]));
        let text: Vec<String> = keys
            .iter()
            .map(|k| format!("{}:{}:{}", k.role, k.name, k.attribute_type))
            .collect();
        assert_eq!(text, ["HASH:pk:B", "RANGE:sk:?"]);
    }
}
