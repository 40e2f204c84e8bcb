//! `holdfast migrate …` reports.

use crate::envelope::{reports, Envelope};
use crate::outcome::Outcome;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Whether a migration runs once (versioned) or whenever its text changes (repeatable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Versioned,
    Repeatable,
    Baseline,
}

impl Kind {
    /// The name stored in the history table.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Versioned => "versioned",
            Kind::Repeatable => "repeatable",
            Kind::Baseline => "baseline",
        }
    }

    /// Parses the name stored in the history table.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "versioned" => Some(Kind::Versioned),
            "repeatable" => Some(Kind::Repeatable),
            "baseline" => Some(Kind::Baseline),
            _ => None,
        }
    }
}

/// The state of one migration, as `status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Applied, and the file is unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// A repeatable migration whose file changed since it was applied: `up` re-applies it.
    Outdated,
    /// Applied, but the file changed since: a problem.
    Drift,
    /// Applied, but no file on disk (and older than the newest file): a problem.
    Missing,
    /// Applied, no file on disk, newer than every file (a deploy of older code): a warning.
    Future,
    /// Stopped at a failed statement: a problem until fixed and resumed, or repaired.
    Failed,
    /// Started by a process that died: a problem until resumed or repaired.
    Interrupted,
    /// Started and not finished: in progress elsewhere, or interrupted.
    Running,
    /// Pending with a version lower than the newest applied one.
    OutOfOrder,
    /// At or below the baseline version: never applied.
    BelowBaseline,
    /// The baseline marker.
    Baseline,
}

/// One migration's line in `status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Entry {
    pub kind: Kind,
    pub version: Option<String>,
    pub description: String,
    /// The file, relative to the migrations folder; `None` when missing on disk.
    pub script: Option<String>,
    pub state: EntryState,
    /// Checksum of the file on disk.
    pub checksum: Option<String>,
    /// Checksum recorded when it was applied.
    pub applied_checksum: Option<String>,
    pub applied_at: Option<String>,
    pub applied_by: Option<String>,
    pub execution_ms: Option<i64>,
    pub statements_applied: Option<i64>,
    pub statements_total: Option<i64>,
    pub error: Option<String>,
}

/// What kind of problem `validate` (and `up`, before running) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    Drift,
    Missing,
    Failed,
    Interrupted,
    OutOfOrder,
    ResumeMismatch,
}

/// A problem that blocks `up` and fails `validate` with exit code 3.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The script, or the version/description when the file is missing.
    pub migration: String,
    pub message: String,
    /// What to do about it, when there is something to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<crate::remedy::Remedy>,
}

/// How a check of the migrations ends (`validate`, `plan`): bad input in pending files is
/// [`Outcome::Usage`] (exit 2), problems are [`Outcome::CheckFailed`] (exit 3).
pub fn check_outcome(errors: &[String], problems: &[Problem]) -> Outcome {
    if !errors.is_empty() {
        Outcome::Usage
    } else if !problems.is_empty() {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    }
}

/// `migrate status` and `migrate validate`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StatusReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub database: String,
    pub history_table: String,
    pub history_exists: bool,
    pub current_version: Option<String>,
    pub pending: usize,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    /// Bad input found in pending files (exit code 2), e.g. a statement a transaction cannot hold.
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// One migration applied by `up`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AppliedStep {
    pub kind: Kind,
    pub version: Option<String>,
    pub description: String,
    pub script: String,
    pub transactional: bool,
    /// 0 unless resumed: the statement index it started from.
    pub resumed_from: usize,
    pub statements: usize,
    pub execution_ms: i64,
}

/// Where a run stopped on an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FailedStep {
    pub script: String,
    /// 1-based statement number.
    pub statement: usize,
    pub statements_total: usize,
    /// 1-based line of that statement in the file.
    pub line: usize,
    pub error: String,
    /// Whether the migration was rolled back whole (a transactional migration).
    pub rolled_back: bool,
    /// How to recover.
    pub remedy: crate::remedy::Remedy,
}

/// `migrate up`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UpReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub database: String,
    pub applied: Vec<AppliedStep>,
    pub failed: Option<FailedStep>,
    /// Problems that stopped the run before it began (exit code 3).
    pub problems: Vec<Problem>,
    /// Bad input that stopped the run before it began (exit code 2).
    pub errors: Vec<String>,
    pub current_version: Option<String>,
    pub warnings: Vec<String>,
}

impl UpReport {
    /// A successful report with nothing applied yet, at `current_version`.
    pub fn nothing_applied(
        database: String,
        current_version: Option<String>,
        warnings: Vec<String>,
    ) -> UpReport {
        UpReport {
            envelope: Envelope::new(crate::Command::MigrateUp, Outcome::Success),
            database,
            applied: Vec::new(),
            failed: None,
            problems: Vec::new(),
            errors: Vec::new(),
            current_version,
            warnings,
        }
    }
}

/// `migrate plan`: the exact SQL `up` would run.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct PlanReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub database: String,
    pub creates_history_table: bool,
    pub steps: Vec<PlannedStep>,
    pub problems: Vec<Problem>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// One migration in a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PlannedStep {
    pub kind: Kind,
    pub version: Option<String>,
    pub description: String,
    pub script: String,
    pub transactional: bool,
    pub resumed_from: usize,
    pub statements: Vec<String>,
}

/// `migrate repair`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RepairReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub database: String,
    /// History rows removed (failed or interrupted).
    pub removed: Vec<String>,
    /// Applied rows whose checksum was realigned to the file on disk.
    pub realigned: Vec<String>,
    pub warnings: Vec<String>,
}

/// `holdfast migrate fingerprint`: the migration set's hash, for a deploy-time custom
/// resource's `Fingerprint` property.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FingerprintReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub dir: String,
    pub migrations: usize,
    pub latest_version: Option<String>,
    /// The digest of the history a database has once every migration of the folder is applied.
    pub fingerprint: String,
}

reports!(
    StatusReport,
    UpReport,
    PlanReport,
    RepairReport,
    FingerprintReport
);
