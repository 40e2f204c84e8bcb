//! The applied-migration history as read from the history table.

use crate::migration::Kind;
use serde::Serialize;

/// The state of a history row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RowState {
    /// Applied completely.
    Applied,
    /// Stopped at a failed statement; the error is recorded.
    Failed,
    /// Started and not finished. Seen by a runner that holds the lock, it means the process
    /// that wrote it died: interrupted, outcome of the statement in flight unknown.
    Running,
}

impl RowState {
    /// The name stored in the history table.
    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Applied => "applied",
            RowState::Failed => "failed",
            RowState::Running => "running",
        }
    }

    /// Parses the name stored in the history table.
    pub fn parse(s: &str) -> Option<RowState> {
        match s {
            "applied" => Some(RowState::Applied),
            "failed" => Some(RowState::Failed),
            "running" => Some(RowState::Running),
            _ => None,
        }
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    pub id: i64,
    /// The version as text; `None` for repeatables.
    pub version: Option<String>,
    pub description: String,
    pub kind: Kind,
    pub script: String,
    pub checksum: String,
    /// RFC 3339, UTC.
    pub applied_at: String,
    pub applied_by: String,
    pub execution_ms: i64,
    pub state: RowState,
    /// Statements that completed (for a failed or running row: the statements before the one
    /// that failed or was in flight).
    pub statements_applied: i64,
    pub statements_total: i64,
    /// Checksum of the first `statements_applied` statements, for `--resume`.
    pub prefix_checksum: Option<String>,
    pub error: Option<String>,
}

/// The values a runner writes when it starts or finishes a migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow {
    pub version: Option<String>,
    pub description: String,
    pub kind: Kind,
    pub script: String,
    pub checksum: String,
    pub applied_by: String,
    pub execution_ms: i64,
    pub state: RowState,
    pub statements_applied: i64,
    pub statements_total: i64,
    pub prefix_checksum: Option<String>,
    pub error: Option<String>,
}

/// Progress of a migration that runs statement by statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub state: RowState,
    pub statements_applied: i64,
    pub prefix_checksum: String,
    pub execution_ms: i64,
    pub checksum: String,
    pub error: Option<String>,
}
