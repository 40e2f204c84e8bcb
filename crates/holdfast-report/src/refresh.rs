//! `holdfast refresh …` reports. They name tables, columns, types and rules, never a value:
//! a suggestion drawn from a sample of values says only which rule the values look like.

use crate::envelope::{reports, Envelope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a column is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ColumnClass {
    /// A rule replaces its values.
    Sanitize,
    /// Kept, with the reason given in `holdfast.toml`.
    Keep,
    /// A number, date, boolean, enum or UUID without a rule: kept.
    DefaultKeep,
    /// Computed by the server from other columns: follows them.
    Generated,
    /// Text, JSON, bytes, an address or an array without a rule: the refresh refuses to run.
    Unclassified,
}

/// One column's classification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ColumnPlan {
    /// `schema.table`.
    pub table: String,
    pub column: String,
    /// The type as the server names it.
    pub data_type: String,
    pub class: ColumnClass,
    /// The rule's transform (`email`), or `keep`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// A `keep`'s reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For an unclassified column: the rule its name or its values suggest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The partitioned table (`schema.table`) whose rules this partition's column follows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_of: Option<String>,
}

/// Counts of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RefreshPlanSummary {
    pub tables: usize,
    pub columns: usize,
    pub sanitized: usize,
    pub kept: usize,
    pub default_kept: usize,
    pub generated: usize,
    pub unclassified: usize,
    /// Rules naming a table or column the database does not have.
    pub unmatched_rules: usize,
}

/// `refresh plan`: every column of every table classified; nothing copied or changed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RefreshPlanReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The database read (its URL, redacted).
    pub database: String,
    /// `postgres` or `mysql`.
    pub engine: String,
    pub summary: RefreshPlanSummary,
    pub columns: Vec<ColumnPlan>,
    /// `schema.table.column` (or `table.column` as written) of each rule that matches nothing:
    /// a renamed or dropped column, whose new name is then unclassified.
    pub unmatched_rules: Vec<String>,
}

reports!(RefreshPlanReport);

/// Originals of one column found in the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeakHit {
    /// `schema.table`.
    pub table: String,
    pub column: String,
    /// Values of the column that hold an original.
    pub values: u64,
}

/// The leak proof: the target scanned for every recorded original.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LeakProof {
    /// Distinct original values recorded (as keyed hashes) from the sanitized columns.
    pub originals: usize,
    /// Text and JSON columns of the target scanned.
    pub columns_scanned: usize,
    /// Non-null values scanned.
    pub values_scanned: u64,
    /// Columns holding originals: any makes the proof fail (exit 3).
    pub hits: Vec<LeakHit>,
    /// Sanitized columns whose transform draws from a small dictionary or writes a constant
    /// (`schema.table.column`): their originals are not looked for elsewhere — a real name
    /// elsewhere is not a leak — and each value is replaced by a different one.
    pub dictionary_columns: Vec<String>,
}

/// One table copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TableCopy {
    /// `schema.table`.
    pub table: String,
    pub rows: u64,
    /// The columns a rule rewrote on the way.
    pub sanitized_columns: Vec<String>,
}

/// Counts of a copy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RefreshCopySummary {
    /// An unfinished copy from an earlier run (killed, or failed) was in the target and was
    /// dropped before this copy began.
    #[serde(default)]
    pub restarted: bool,
    pub tables: usize,
    pub rows: u64,
    pub sanitized_columns: usize,
    pub sequences: usize,
    pub elapsed_ms: u64,
}

/// `refresh copy`: the source's schema and rows in the target, sanitized on the way, and the
/// leak proof of the result. Refused (exit 3, nothing written) while a column is unclassified.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RefreshCopyReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// Both URLs, redacted.
    pub source: String,
    pub target: String,
    pub summary: RefreshCopySummary,
    pub tables: Vec<TableCopy>,
    /// The columns without a rule that made the copy refuse to start.
    pub unclassified: Vec<ColumnPlan>,
    /// Rules that match nothing in the source (the copy refuses to start).
    pub unmatched_rules: Vec<String>,
    /// The leak proof run on the target at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<LeakProof>,
}

/// `refresh verify`: the leak proof of a target against its source.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RefreshVerifyReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub source: String,
    pub target: String,
    pub proof: LeakProof,
}

/// Counts of a sanitize.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RefreshSanitizeSummary {
    pub tables: usize,
    /// Rows rewritten by this run (a resumed run counts only its own).
    pub rows: u64,
    pub sanitized_columns: usize,
    /// Tables a previous, stopped run had finished.
    pub tables_already_done: usize,
    /// Whether this run continued a stopped one.
    pub resumed: bool,
    /// An earlier run with the same key and rules sanitized and proved the database: nothing
    /// was done.
    pub finished_before: bool,
    pub elapsed_ms: u64,
}

/// `refresh sanitize --in-place`: a database rewritten where it stands, checkpointed per
/// table and batch, and the leak proof of the result. Refused (exit 3, nothing changed)
/// while a column is unclassified.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RefreshSanitizeReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The database rewritten (its URL, redacted).
    pub database: String,
    pub summary: RefreshSanitizeSummary,
    /// The tables with a sanitized column, and the rows this run rewrote in each.
    pub tables: Vec<TableCopy>,
    pub unclassified: Vec<ColumnPlan>,
    pub unmatched_rules: Vec<String>,
    /// `deadline` or `interrupted` when the run stopped early (exit 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// How to continue, when there is something left to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<crate::remedy::NextStep>,
    /// The file the originals' keyed hashes were written to, for a later `refresh verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub originals_file: Option<String>,
    /// The leak proof run at the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<LeakProof>,
}

reports!(
    RefreshCopyReport,
    RefreshVerifyReport,
    RefreshSanitizeReport
);
