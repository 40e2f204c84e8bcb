//! `holdfast dynamo …` reports.

use crate::envelope::{reports, Envelope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `holdfast dynamo verify TABLE`: what DescribeTable (and DescribeContinuousBackups) said,
/// and each check's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct VerifyReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub table: String,
    /// The endpoint asked, redacted (or "AWS's DynamoDB endpoint for REGION").
    pub endpoint: String,
    pub region: String,
    /// In order: exists, active, key, pitr, … Informational checks are always `ok`.
    pub checks: Vec<Check>,
    /// What the table looks like; `None` when it does not exist.
    pub table_info: Option<TableInfo>,
}

/// One check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyAttribute {
    pub name: String,
    /// `HASH` or `RANGE`.
    pub role: String,
    /// `S`, `N` or `B` (`?` if the attribute definitions do not say).
    pub attribute_type: String,
}

/// One global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct IndexInfo {
    pub name: String,
    pub status: String,
}

/// `holdfast dynamo compare SOURCE TARGET`: exact, order-independent comparison.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CompareReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub source: String,
    pub target: String,
    /// The source side is the transformed source.
    pub transformed: bool,
    pub equal: bool,
    /// Items on the source side (after the transform, if any).
    pub source_items: u64,
    pub target_items: u64,
    pub only_in_source: u64,
    pub only_in_target: u64,
    pub different: u64,
    /// A few differing keys (all of them are in `keys_file`).
    pub sample: Vec<KeyDifference>,
    /// Every differing key, one JSON object per line (for `copy --keys-from`).
    pub keys_file: Option<String>,
    /// SHA-256 over each side's bucket digests: equal exactly when the contents are.
    pub source_digest: String,
    pub target_digest: String,
    pub elapsed_ms: u64,
}

/// One differing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct KeyDifference {
    /// `only_in_source`, `only_in_target` or `different`.
    pub difference: String,
    /// The target-side key, rendered (`pk="USER#1", sk=5`).
    pub key: String,
}

/// `holdfast dynamo copy SOURCE TARGET`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CopyReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub source: String,
    pub target: String,
    /// Where progress is recorded.
    pub checkpoint: String,
    pub total_segments: u32,
    /// Segments done, over all runs of this copy.
    pub segments_done: u32,
    /// Items read from the source in this run.
    pub items_read: u64,
    /// Items acknowledged by the target in this run (transform outputs).
    pub items_written: u64,
    /// Source items the transform dropped (no output).
    pub items_dropped: u64,
    /// Extra items from transforms that split an item into several.
    pub items_split: u64,
    /// In place: items left as they were (no output, an output equal to the item, or already
    /// written by the run that was resumed).
    pub items_unchanged: u64,
    /// `--keys-from` with `--delete-only-in-target`: target items deleted.
    pub items_deleted: u64,
    /// `--keys-from`: keys only in the target (or whose source item is gone) left alone.
    pub keys_kept: u64,
    /// Outputs merged last-wins because another output in the same batch had the same key.
    pub duplicates_merged: u64,
    /// Items DynamoDB returned as unprocessed and that were written again.
    pub unprocessed_retried: u64,
    /// Calls that failed (throttling, 5xx, dropped connection) and were sent again.
    pub calls_retried: u64,
    pub elapsed_ms: u64,
    pub items_per_second: u64,
    /// `deadline` or `interrupted` when the run stopped early.
    pub stopped: Option<String>,
    /// How to continue, when there is something left to do.
    pub resume: Option<crate::remedy::NextStep>,
    /// The comparison run after the copy (`None` with `--no-verify`, or while segments are
    /// left to other workers).
    pub verification: Option<CompareReport>,
}

/// `holdfast dynamo export TABLE DIR` / `import DIR TABLE`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TransferReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub table: String,
    pub dir: String,
    /// Data files written (export) or read (import).
    pub files: usize,
    /// Items written (import: the transform's outputs, with `--transform`).
    pub items: u64,
    /// Import with `--transform`: exported items the transform dropped (no output).
    pub items_dropped: u64,
    /// Import with `--transform`: extra items from splits.
    pub items_split: u64,
    /// Import: items DynamoDB returned as unprocessed and that were written again.
    pub unprocessed_retried: u64,
    /// Import: calls that failed and were sent again.
    pub calls_retried: u64,
    pub elapsed_ms: u64,
}

/// `holdfast dynamo migrate --dir DIR`: the data migrations found, what each one's state is,
/// and what this run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataMigrateReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub dir: String,
    pub history_table: String,
    /// Nothing was run (`--dry-run`).
    pub dry_run: bool,
    /// Every migration of the folder (and of the history), in version order.
    pub migrations: Vec<DataMigrationStatus>,
    /// Applied by this run.
    pub applied_now: u32,
    /// Left to do.
    pub pending: u32,
    /// Why the run refused to start (drift), one line each.
    pub problems: Vec<String>,
    /// How to continue, when there is something left to do.
    pub resume: Option<crate::remedy::NextStep>,
}

/// One data migration in a [`DataMigrateReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataMigrationStatus {
    pub version: String,
    pub description: String,
    pub file: String,
    pub source: String,
    pub target: String,
    pub in_place: bool,
    /// `applied`, `pending`, `running` / `stopped` / `failed` (part-done, resumed by the next
    /// run), or `missing` (in the history, not in the folder).
    pub state: String,
    /// When it was applied (RFC 3339).
    pub applied_at: Option<String>,
    /// The copy this run made for it.
    pub copy: Option<CopyReport>,
}

reports!(
    VerifyReport,
    CompareReport,
    CopyReport,
    TransferReport,
    DataMigrateReport
);
