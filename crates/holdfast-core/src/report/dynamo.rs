//! `holdfast dynamo …` reports.

use crate::exit::Outcome;
use serde::Serialize;

/// `holdfast dynamo verify TABLE`: what DescribeTable (and DescribeContinuousBackups) said,
/// and each check's verdict. Carries [`super::FORMAT_VERSION`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifyReport {
    pub format_version: u32,
    pub command: String,
    pub table: String,
    /// The endpoint asked, redacted (or "AWS's DynamoDB endpoint for REGION").
    pub endpoint: String,
    pub region: String,
    /// `success` when every required check passed, else `check_failed`.
    pub outcome: Outcome,
    pub exit_code: i32,
    /// In order: exists, active, key, pitr, … Informational checks are always `ok`.
    pub checks: Vec<Check>,
    /// What the table looks like; `None` when it does not exist.
    pub table_info: Option<TableInfo>,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// `exists`, `active`, `key_schema`, `pitr`, `deletion_protection`, `stream`, `gsis`,
    /// `item_count`.
    pub name: String,
    /// Passed (or informational). A check that is not required never fails.
    pub ok: bool,
    /// Was it asked for (`--require-…`) or always required (exists, active)?
    pub required: bool,
    /// One line: what was found, and for a failure what was expected.
    pub detail: String,
}

/// The table as DescribeTable describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableInfo {
    pub status: String,
    pub arn: Option<String>,
    /// `HASH` first, then `RANGE`.
    pub key_schema: Vec<KeyAttribute>,
    /// `ENABLED`, `DISABLED`, or `null` when the endpoint cannot say (DynamoDB Local).
    pub pitr: Option<String>,
    pub deletion_protection: bool,
    pub stream_enabled: bool,
    /// `NEW_IMAGE`, `OLD_IMAGE`, `NEW_AND_OLD_IMAGES`, `KEYS_ONLY`.
    pub stream_view_type: Option<String>,
    pub global_secondary_indexes: Vec<IndexInfo>,
    /// From DescribeTable: APPROXIMATE, updated by DynamoDB about every six hours.
    pub approximate_item_count: Option<i64>,
    /// From DescribeTable: APPROXIMATE, updated by DynamoDB about every six hours.
    pub approximate_size_bytes: Option<i64>,
}

/// One key attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyAttribute {
    pub name: String,
    /// `HASH` or `RANGE`.
    pub role: String,
    /// `S`, `N` or `B` (`?` if the attribute definitions do not say).
    pub attribute_type: String,
}

/// One global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexInfo {
    pub name: String,
    pub status: String,
}
