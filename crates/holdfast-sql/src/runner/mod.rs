//! The migration runner: status, plan, validate, up, baseline and repair over any [`Backend`].
//!
//! `up` takes the lock, re-reads the history under it (so a runner that waited finds the work
//! done), plans, and applies each step: a transactional migration commits together with its
//! history row; any other runs statement by statement, its row recording `running` before each
//! statement and the count after it, so a failure or a kill leaves an exact record to resume
//! from (`apply`: one step). The lock is released on every path before returning.

mod apply;

use crate::backend::Backend;
use crate::error::SqlError;
use apply::apply;
use holdfast_core::exit::Outcome;
use holdfast_core::history::{HistoryRow, NewRow, RowState};
use holdfast_core::migration::{Kind, MigrationSet, Version};
use holdfast_core::plan::{applied_digest, plan, Plan, PlanOptions};
use holdfast_core::txn::changes_session;
use holdfast_core::{Dialect, Resume};
use holdfast_report::migrate::{
    check_outcome, AppliedStep, PlanReport, PlannedStep, RepairReport, StatusReport, UpReport,
};
use holdfast_report::{Command, Envelope};
use std::time::Duration;

/// Who applies migrations, as recorded in the history: `user@host`. The user is the OS
/// account of the process's user id (a container or CI job often has no `$USER`), then the
/// usual variables.
pub fn applied_by() -> String {
    let user = whoami::fallible::username()
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            ["USER", "LOGNAME", "USERNAME"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        })
        .unwrap_or_else(|| "unknown".into());
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    format!("{user}@{host}")
}

/// Options of a run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub lock_wait: Duration,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    pub resume: Resume,
    pub allow_out_of_order: bool,
    /// See [`PlanOptions::tolerate_newer_rows`] (a CloudFormation rollback).
    pub tolerate_newer_rows: bool,
    pub target: Option<Version>,
    pub applied_by: String,
}

impl Default for RunOptions {
    fn default() -> Self {
        use holdfast_core::config::defaults;
        RunOptions {
            lock_wait: defaults::LOCK_WAIT,
            statement_timeout: defaults::STATEMENT_TIMEOUT,
            lock_timeout: defaults::LOCK_TIMEOUT,
            resume: Resume::Never,
            allow_out_of_order: false,
            tolerate_newer_rows: false,
            target: None,
            applied_by: applied_by(),
        }
    }
}

/// Progress of a run, for front ends that show it as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// About to apply a migration.
    Applying {
        script: &'a str,
        resumed_from: usize,
    },
    /// A migration was applied.
    Applied(&'a AppliedStep),
}

fn plan_options(b: &dyn Backend, opts: &RunOptions, holds_lock: bool) -> PlanOptions {
    PlanOptions {
        dialect: b.dialect(),
        server_version: b.server_version(),
        resume: opts.resume.allows(),
        allow_out_of_order: opts.allow_out_of_order,
        target: opts.target.clone(),
        holds_lock,
        tolerate_newer_rows: opts.tolerate_newer_rows,
    }
}

async fn history_if_any(b: &mut dyn Backend) -> Result<(bool, Vec<HistoryRow>), SqlError> {
    if b.history_exists().await? {
        Ok((true, b.read_history().await?))
    } else {
        Ok((false, Vec::new()))
    }
}

fn blocker_texts(plan: &Plan<'_>) -> Vec<String> {
    plan.blockers.iter().map(ToString::to_string).collect()
}

/// `status` and `validate`: reads, never writes.
pub async fn status(
    b: &mut dyn Backend,
    source: &MigrationSet,
    opts: &RunOptions,
) -> Result<StatusReport, SqlError> {
    let (exists, rows) = history_if_any(b).await?;
    let dead_runner = unfinished_rows_are_orphaned(b, &rows).await?;
    let plan = plan(source, &rows, &plan_options(b, opts, dead_runner));
    Ok(StatusReport {
        envelope: Envelope::new(Command::MigrateStatus, Outcome::Success),
        database: b.display_url(),
        history_table: b.history_table(),
        history_exists: exists,
        current_version: plan.current_version.clone(),
        pending: plan.pending_count(),
        errors: blocker_texts(&plan),
        problems: plan.problems,
        warnings: plan.warnings,
        entries: plan.entries,
    })
}

/// Whether `running` rows were left by a dead runner: nobody holds the migration lock (probed
/// without waiting, and released at once). Without a probe (SQLite's read-only session cannot
/// take its write lock) they may still be in progress.
async fn unfinished_rows_are_orphaned(
    b: &mut dyn Backend,
    rows: &[HistoryRow],
) -> Result<bool, SqlError> {
    if b.dialect() == Dialect::Sqlite || !rows.iter().any(|r| r.state == RowState::Running) {
        return Ok(false);
    }
    match b.lock(Duration::ZERO).await {
        Ok(()) => b.unlock().await.map(|_| true),
        Err(SqlError::Busy { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `plan`: the exact statements `up` would run. Reads, never writes.
pub async fn plan_run(
    b: &mut dyn Backend,
    source: &MigrationSet,
    opts: &RunOptions,
) -> Result<PlanReport, SqlError> {
    let (exists, rows) = history_if_any(b).await?;
    let plan = plan(source, &rows, &plan_options(b, opts, false));
    let errors = blocker_texts(&plan);
    Ok(PlanReport {
        envelope: Envelope::new(Command::MigratePlan, check_outcome(&errors, &plan.problems)),
        database: b.display_url(),
        creates_history_table: !exists,
        steps: plan
            .steps
            .iter()
            .map(|s| PlannedStep {
                kind: s.migration.kind,
                version: s.migration.version.as_ref().map(ToString::to_string),
                description: s.migration.description.clone(),
                script: s.migration.script.clone(),
                transactional: s.transactional,
                resumed_from: s.start,
                statements: s.migration.statements[s.start..]
                    .iter()
                    .map(|st| st.sql.clone())
                    .collect(),
            })
            .collect(),
        errors,
        problems: plan.problems,
        warnings: plan.warnings,
    })
}

/// Releases the migration lock after the work that held it, whatever its result: the release's
/// own error is reported only when the work succeeded. (A plain function rather than a
/// `with_lock(async closure)`: futures holding async closures over `&mut dyn Backend` are not
/// provably `Send`, and the Lambda function runs `up` on a task of its own.)
async fn unlock_after<T>(b: &mut dyn Backend, result: Result<T, SqlError>) -> Result<T, SqlError> {
    let released = b.unlock().await;
    let value = result?;
    released?;
    Ok(value)
}

/// `up`: applies every pending migration, exactly once however many runners start together.
///
/// Returns a report whose `outcome` says how it ended: success, problems found before starting
/// (exit 3), bad input found before starting (exit 2), or a failed migration (exit 1) with
/// what was applied before it and how to recover. Errors of the connection or the lock
/// (busy: exit 5) are `Err`.
pub async fn up(
    b: &mut dyn Backend,
    source: &MigrationSet,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
) -> Result<UpReport, SqlError> {
    b.lock(opts.lock_wait).await?;
    let result: Result<UpReport, SqlError> = async {
        // The common deploy: everything is applied already. One value proves it.
        if b.history_exists().await?
            && b.history_digest().await?.as_deref() == Some(applied_digest(source).as_str())
        {
            let current = source.latest_version().map(ToString::to_string);
            return Ok(UpReport::nothing_applied(
                b.display_url(),
                current,
                Vec::new(),
            ));
        }
        // Plan first: bad input or problems stop the run before anything is created.
        let (exists, rows) = history_if_any(b).await?;
        let plan = plan(source, &rows, &plan_options(b, opts, true));
        let mut report = UpReport::nothing_applied(
            b.display_url(),
            plan.current_version.clone(),
            plan.warnings.clone(),
        );
        if !plan.blockers.is_empty() {
            report.envelope.set_outcome(Outcome::Usage);
            report.errors = blocker_texts(&plan);
            return Ok(report);
        }
        if !plan.problems.is_empty() {
            report.envelope.set_outcome(Outcome::CheckFailed);
            report.problems = plan.problems;
            return Ok(report);
        }
        if !exists && !plan.steps.is_empty() {
            b.create_history().await?;
        }
        apply_steps(b, &plan, opts, on_event, &mut report).await?;
        Ok(report)
    }
    .await;
    unlock_after(b, result).await
}

/// Applies the plan's steps in order, into `report`, until one fails; a migration that changed
/// its session has it reset before the next one.
async fn apply_steps(
    b: &mut dyn Backend,
    plan: &Plan<'_>,
    opts: &RunOptions,
    on_event: &mut (dyn FnMut(Event<'_>) + Send),
    report: &mut UpReport,
) -> Result<(), SqlError> {
    for step in &plan.steps {
        on_event(Event::Applying {
            script: &step.migration.script,
            resumed_from: step.start,
        });
        let result = apply(b, step, opts).await;
        let dialect = b.dialect();
        if step
            .migration
            .statements
            .iter()
            .any(|s| changes_session(&s.sql, dialect))
        {
            b.reset_session().await?;
        }
        match result {
            Ok(applied) => {
                on_event(Event::Applied(&applied));
                if let Some(v) = &step.migration.version {
                    report.current_version = Some(v.to_string());
                }
                report.applied.push(applied);
            }
            Err(failed) => {
                report.envelope.set_outcome(Outcome::Failed);
                report.failed = Some(failed);
                break;
            }
        }
    }
    Ok(())
}

/// `baseline`: marks an existing database, which has no history yet, as being at `version`.
/// Files at or below it are never applied.
pub async fn baseline(
    b: &mut dyn Backend,
    version: &Version,
    opts: &RunOptions,
) -> Result<(), SqlError> {
    b.lock(opts.lock_wait).await?;
    let result: Result<(), SqlError> = async {
        if !b.history_exists().await? {
            b.create_history().await?;
        }
        let rows = b.read_history().await?;
        if !rows.is_empty() {
            return Err(SqlError::Usage(format!(
                "{} already has {} row(s): baseline is for a database that has no history yet; nothing was changed",
                b.history_table(),
                rows.len()
            )));
        }
        b.insert_row(&NewRow {
            version: Some(version.to_string()),
            description: "baseline".into(),
            kind: Kind::Baseline,
            script: String::new(),
            checksum: String::new(),
            applied_by: opts.applied_by.clone(),
            execution_ms: 0,
            state: RowState::Applied,
            statements_applied: 0,
            statements_total: 0,
            prefix_checksum: None,
            error: None,
        })
        .await?;
        Ok(())
    }
    .await;
    unlock_after(b, result).await
}

/// `repair`: removes failed and interrupted rows (after a manual clean-up) and realigns the
/// checksums of applied files that changed on disk.
pub async fn repair(
    b: &mut dyn Backend,
    source: &MigrationSet,
    opts: &RunOptions,
) -> Result<RepairReport, SqlError> {
    b.lock(opts.lock_wait).await?;
    let result: Result<RepairReport, SqlError> = async {
        let mut report = RepairReport {
            envelope: Envelope::new(Command::MigrateRepair, Outcome::Success),
            database: b.display_url(),
            removed: Vec::new(),
            realigned: Vec::new(),
            warnings: Vec::new(),
        };
        if !b.history_exists().await? {
            report
                .warnings
                .push("there is no history table: nothing to repair".into());
            return Ok(report);
        }
        let rows = b.read_history().await?;
        let latest = latest_rows(&rows);
        for row in latest {
            let label = if row.script.is_empty() {
                row.description.clone()
            } else {
                row.script.clone()
            };
            match row.state {
                RowState::Failed | RowState::Running => {
                    b.delete_row(row.id).await?;
                    report.removed.push(format!(
                        "{label} ({} at statement {} of {})",
                        row.state.as_str(),
                        row.statements_applied + 1,
                        row.statements_total
                    ));
                }
                RowState::Applied => {
                    let on_disk = source.iter().find(|m| match (&m.version, &row.version) {
                        (Some(v), Some(rv)) if row.kind == Kind::Versioned => {
                            Version::parse(rv).is_some_and(|rv| &rv == v)
                        }
                        (None, None) => {
                            row.kind == Kind::Repeatable && m.description == row.description
                        }
                        _ => false,
                    });
                    if let Some(m) = on_disk {
                        if m.checksum != row.checksum && row.kind == Kind::Versioned {
                            b.set_checksum(row.id, &m.checksum).await?;
                            report.realigned.push(label);
                        }
                    }
                }
            }
        }
        Ok(report)
    }
    .await;
    unlock_after(b, result).await
}

/// The rows that count: every versioned and baseline row, and the newest row per repeatable.
fn latest_rows(rows: &[HistoryRow]) -> Vec<&HistoryRow> {
    rows.iter()
        .filter(|r| {
            r.kind != Kind::Repeatable
                || !rows.iter().any(|o| {
                    o.kind == Kind::Repeatable && o.description == r.description && o.id > r.id
                })
        })
        .collect()
}
