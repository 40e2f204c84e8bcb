//! The plan of a migration run: a pure function of (source migrations, applied history, options).
//!
//! `status`, `validate`, `plan` and `up` all start here. The plan says the state of every
//! migration, which problems block a run (drift, missing files, failed or interrupted rows,
//! versions out of order), and the exact steps `up` would take, in order.
//!
//! [`plan`] indexes the history (`history_index`: the rows that count), lets the
//! `planner` decide each migration's state, then lists what blocks the steps
//! (`blockers`). `digest` is the one-value shortcut for a fully applied history.

mod blockers;
mod digest;
mod history_index;
mod planner;

pub use blockers::Blocker;
pub use digest::{applied_digest, history_digest};

use crate::history::HistoryRow;
use crate::migration::{Migration, MigrationSet, Version};
use crate::split::Dialect;
use history_index::HistoryIndex;
use holdfast_report::migrate::{Entry, EntryState, Problem};
use planner::Planner;

/// What the caller wants of the run.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub dialect: Dialect,
    /// PostgreSQL's `server_version_num`, when known.
    pub server_version: Option<u32>,
    /// Continue failed or interrupted migrations at the statement where they stopped.
    pub resume: bool,
    /// Apply pending versions lower than the newest applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// Apply versioned migrations up to and including this version only.
    pub target: Option<Version>,
    /// Whether the caller holds the migration lock: then a `running` row is known to be
    /// interrupted; otherwise it may be in progress elsewhere.
    pub holds_lock: bool,
    /// The caller applies an older migration set on purpose (CloudFormation rolls a stack back
    /// by sending the old properties to the old function): history rows above the newest
    /// version on disk belong to the newer set, so even failed or interrupted ones are
    /// warnings ("the database is ahead"), not problems. Nothing is ever undone.
    pub tolerate_newer_rows: bool,
}

impl PlanOptions {
    /// Options for a read-only look (status, validate) on `dialect`.
    pub fn read_only(dialect: Dialect) -> PlanOptions {
        PlanOptions {
            dialect,
            server_version: None,
            resume: false,
            allow_out_of_order: false,
            target: None,
            holds_lock: false,
            tolerate_newer_rows: false,
        }
    }
}

/// One migration `up` will run.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub migration: &'a Migration,
    /// Index of the first statement to run (non-zero when resuming).
    pub start: usize,
    /// The failed or interrupted history row this step continues.
    pub row: Option<i64>,
    /// Whether the migration and its history row commit in one transaction.
    pub transactional: bool,
}

/// The outcome of planning.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub steps: Vec<Step<'a>>,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    pub current_version: Option<String>,
    pub blockers: Vec<Blocker>,
}

impl Plan<'_> {
    /// Migrations not applied yet (pending, out of order, outdated repeatables, unfinished).
    pub fn pending_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| {
                matches!(
                    e.state,
                    EntryState::Pending
                        | EntryState::OutOfOrder
                        | EntryState::Outdated
                        | EntryState::Failed
                        | EntryState::Interrupted
                        | EntryState::Running
                )
            })
            .count()
    }
}

/// Plans a run. Pure: reads nothing but its arguments.
pub fn plan<'a>(source: &'a MigrationSet, history: &[HistoryRow], opts: &PlanOptions) -> Plan<'a> {
    let index = HistoryIndex::new(history);
    let newest_applied = index.newest_applied();
    let mut planner = Planner::new(opts);
    planner.versioned(source, &index, newest_applied.as_ref());
    planner.versions_not_on_disk(source, &index);
    planner.baseline(&index);
    planner.repeatables(source, &index);
    planner.target_below(newest_applied.as_ref());
    planner.finish(newest_applied)
}
