//! `holdfast guard …` reports.

use crate::envelope::{reports, Envelope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a deploy does to one resource.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Unchanged.
    None,
    /// Created by the deploy.
    Create,
    /// Updated in place.
    Update,
    /// Removed from the template but retained (DeletionPolicy Retain): left outside the stack.
    Orphan,
    /// Brought into a stack from outside (moved between stacks while retained).
    Import,
    /// Updated, and may be replaced depending on values CloudFormation decides at deploy time.
    MayReplace,
    /// What happens cannot be proven from the templates (unresolved values, unknown types,
    /// transforms, nested stacks).
    Unknown,
    /// Replaced: CloudFormation creates a new resource and deletes the old one.
    Replace,
    /// Deleted.
    Delete,
}

/// How much a finding matters.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information; never changes the exit code.
    Info,
    /// Printed; exit 0.
    Warn,
    /// Fails the check: exit 3.
    Block,
}

/// Where in a template a finding points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Location {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ResourceChange {
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    pub action: Action,
    pub stateful: bool,
    /// Why: e.g. "KeySchema changed (create-only: replaces)".
    pub reasons: Vec<String>,
    pub location: Option<Location>,
}

/// A finding of the guard: a rule that a change or a setting breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// Rule id, e.g. `stateful-replace`.
    pub rule: String,
    pub severity: Severity,
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    pub message: String,
    /// How to make it safe.
    pub fix: String,
    /// Set when `--allow LOGICAL_ID=REASON` accepted a blocking finding.
    pub allowed: Option<String>,
    pub location: Option<Location>,
}

/// Counts by severity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub blocking: usize,
    pub warnings: usize,
    pub allowed: usize,
    pub info: usize,
}

/// `guard diff`, `guard check` and `guard changeset`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GuardReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub stage: Option<String>,
    /// `strict`, `lenient`, or `configured`.
    pub policy: String,
    pub summary: Summary,
    /// Every resource with an action other than `none` (diff, changeset).
    pub changes: Vec<ResourceChange>,
    pub findings: Vec<Finding>,
    /// Source of the replacement rules (the provider schemas' origin and version).
    pub schema_source: String,
}

reports!(GuardReport);
