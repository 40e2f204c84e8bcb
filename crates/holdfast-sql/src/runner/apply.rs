//! Applying one planned step, and saying exactly where a failure left it.
//!
//! A transactional step runs its statements, records its history row and commits, all in one
//! transaction: on any error it is rolled back whole. Any other step runs statement by statement:
//! its row says `running` before the first statement, and the count (with the checksum of the
//! statements so far) is recorded after each statement that ends committed, so the history never
//! claims less than is committed — or more.

use super::RunOptions;
use crate::backend::{Backend, DbError};
use crate::error::SqlError;
use holdfast_core::history::{NewRow, Progress, RowState};
use holdfast_core::migration::{Migration, PrefixChecksum};
use holdfast_core::plan::Step;
use holdfast_core::remedy::Remedy;
use holdfast_report::migrate::{AppliedStep, FailedStep};
use std::time::{Duration, Instant};

/// The history keeps the first 2,000 characters of an error (MySQL's column is VARCHAR(2000)).
const KEPT_ERROR_CHARS: usize = 2000;

/// A statement slower than this is logged (by migration and statement number, never its text).
const SLOW_STATEMENT: Duration = Duration::from_secs(5);

fn log_if_slow(script: &str, index: usize, total: usize, started: Instant) {
    let took = started.elapsed();
    if took >= SLOW_STATEMENT {
        tracing::info!(
            "{script}: statement {} of {total} took {:.1} s",
            index + 1,
            took.as_secs_f64()
        );
    }
}

/// Applies one step; on failure says exactly where it stopped and how to recover.
pub(super) async fn apply(
    b: &mut dyn Backend,
    step: &Step<'_>,
    opts: &RunOptions,
) -> Result<AppliedStep, FailedStep> {
    let run = Applying {
        step,
        m: step.migration,
        opts,
        total: step.migration.statements.len(),
        started: Instant::now(),
    };
    run.set_timeouts(b).await?;
    let mut prefix = PrefixChecksum::default();
    for st in &run.m.statements[..step.start] {
        prefix.push(&st.sql);
    }
    if step.transactional {
        run.in_one_transaction(b, prefix).await?;
    } else {
        run.statement_by_statement(b, prefix).await?;
    }
    Ok(run.applied())
}

/// One step being applied.
struct Applying<'s, 'm> {
    step: &'s Step<'m>,
    m: &'m Migration,
    opts: &'s RunOptions,
    /// How many statements the migration has.
    total: usize,
    started: Instant,
}

impl Applying<'_, '_> {
    fn elapsed_ms(&self) -> i64 {
        self.started.elapsed().as_millis() as i64
    }

    /// Where the step stopped: statement `index` failed, and `applied` statements are applied
    /// and recorded (fewer than `index` when the migration's own transaction was rolled back).
    fn fail_at(
        &self,
        index: usize,
        applied: usize,
        error: String,
        rolled_back: bool,
    ) -> FailedStep {
        let m = self.m;
        let total = self.total;
        let statement = (index + 1).min(total.max(1));
        let error = if !rolled_back && applied < index {
            format!(
                "{error} (statements {}..{index} ran in a transaction of the migration's own that was rolled back; statements 1..{applied} are applied and recorded)",
                applied + 1
            )
        } else {
            error
        };
        let remedy = if rolled_back {
            Remedy::FixAndRunAgain {
                file: m.script.clone(),
            }
        } else {
            Remedy::FixAndResume {
                file: m.script.clone(),
                statement,
                applied,
            }
        };
        FailedStep {
            script: m.script.clone(),
            statement,
            statements_total: total,
            line: m.statements.get(index).map_or(0, |s| s.line),
            error,
            rolled_back,
            remedy,
        }
    }

    /// Statement `index` failed with every statement before it applied and recorded.
    fn fail(&self, index: usize, error: String, rolled_back: bool) -> FailedStep {
        self.fail_at(index, index, error, rolled_back)
    }

    /// A new history row for this migration.
    fn new_row(&self, state: RowState, applied: usize, prefix: String, ms: i64) -> NewRow {
        let m = self.m;
        NewRow {
            version: m.version.as_ref().map(ToString::to_string),
            description: m.description.clone(),
            kind: m.kind,
            script: m.script.clone(),
            checksum: m.checksum.clone(),
            applied_by: self.opts.applied_by.clone(),
            execution_ms: ms,
            state,
            statements_applied: applied as i64,
            statements_total: self.total as i64,
            prefix_checksum: Some(prefix),
            error: None,
        }
    }

    /// The progress to record on this migration's row.
    fn progress(
        &self,
        state: RowState,
        applied: usize,
        prefix: String,
        ms: i64,
        error: Option<String>,
    ) -> Progress {
        Progress {
            state,
            statements_applied: applied as i64,
            prefix_checksum: prefix,
            execution_ms: ms,
            checksum: self.m.checksum.clone(),
            error,
        }
    }

    /// The migration's own time limits (its directives), else the run's.
    async fn set_timeouts(&self, b: &mut dyn Backend) -> Result<(), FailedStep> {
        let directives = &self.m.directives;
        let statement_timeout = directives
            .statement_timeout
            .unwrap_or(self.opts.statement_timeout);
        let lock_timeout = directives.lock_timeout.unwrap_or(self.opts.lock_timeout);
        b.set_timeouts(statement_timeout, lock_timeout)
            .await
            .map_err(|e| self.fail(self.step.start, e.to_string(), self.step.transactional))
    }

    /// Rolls the step's transaction back: statement `index` failed and nothing is applied.
    async fn abort(&self, b: &mut dyn Backend, index: usize, error: String) -> FailedStep {
        let _ = b.rollback().await;
        self.fail(index, error, true)
    }

    /// The statements, the history row and the commit in one transaction.
    async fn in_one_transaction(
        &self,
        b: &mut dyn Backend,
        mut prefix: PrefixChecksum,
    ) -> Result<(), FailedStep> {
        let (step, total) = (self.step, self.total);
        let statements: Vec<&str> = self.m.statements[step.start..]
            .iter()
            .map(|s| s.sql.as_str())
            .collect();
        if let Err((index, e)) = b.begin_and_execute(&statements).await {
            return Err(self
                .abort(b, step.start + index.unwrap_or(0), e.to_string())
                .await);
        }
        let took = self.started.elapsed();
        if took >= SLOW_STATEMENT {
            tracing::info!(
                "{}: its {} statements took {:.1} s in one transaction",
                self.m.script,
                statements.len(),
                took.as_secs_f64()
            );
        }
        for sql in &statements {
            prefix.push(sql);
        }
        let ms = self.elapsed_ms();
        let recorded = match step.row {
            Some(id) => b
                .update_row(
                    id,
                    &self.progress(RowState::Applied, total, prefix.current(), ms, None),
                )
                .await
                .map(|_| id),
            None => {
                b.insert_row(&self.new_row(RowState::Applied, total, prefix.current(), ms))
                    .await
            }
        };
        if let Err(e) = recorded {
            return Err(self.abort(b, total.saturating_sub(1), e.to_string()).await);
        }
        if let Err(e) = b.commit().await {
            return Err(self
                .abort(b, total.saturating_sub(1), format!("commit failed: {e}"))
                .await);
        }
        Ok(())
    }

    /// Statement by statement, progress recorded at every commit point.
    async fn statement_by_statement(
        &self,
        b: &mut dyn Backend,
        mut prefix: PrefixChecksum,
    ) -> Result<(), FailedStep> {
        let (step, total) = (self.step, self.total);
        let id = self.start_row(b, &prefix).await?;
        // Progress is recorded only where everything run so far is committed: inside a
        // transaction the migration opened itself, statements are not applied until it commits.
        let mut recorded = step.start;
        let mut recorded_prefix = prefix.current();
        for (index, st) in self.m.statements.iter().enumerate().skip(step.start) {
            let statement_started = Instant::now();
            if let Err(e) = b.execute(&st.sql).await {
                let error = DbError::to_string(&e);
                if recorded < index {
                    let _ = b.rollback().await;
                }
                let kept: String = error.chars().take(KEPT_ERROR_CHARS).collect();
                let error = self
                    .record_failure(b, id, recorded, recorded_prefix, error, kept)
                    .await;
                return Err(self.fail_at(index, recorded, error, false));
            }
            log_if_slow(&self.m.script, index, total, statement_started);
            prefix.push(&st.sql);
            let done = index + 1;
            let committed = b.work_committed().await.map_err(|e| {
                self.fail_at(
                    index,
                    recorded,
                    format!(
                        "statement {done} succeeded but reading its transaction state failed: {e}"
                    ),
                    false,
                )
            })?;
            if !committed {
                continue;
            }
            let state = if done == total {
                RowState::Applied
            } else {
                RowState::Running
            };
            b.update_row(id, &self.progress(state, done, prefix.current(), self.elapsed_ms(), None))
                .await
                .map_err(|e| {
                    self.fail_at(index, recorded, format!("statement {done} succeeded but recording it failed ({e}); the history says {recorded} statements"), false)
                })?;
            recorded = done;
            recorded_prefix = prefix.current();
        }
        if recorded < total {
            return Err(self
                .ended_in_own_transaction(b, id, recorded, recorded_prefix)
                .await);
        }
        Ok(())
    }

    /// The row that says `running` before the first statement: a new one, or the failed or
    /// interrupted row the step continues. Its id.
    async fn start_row(
        &self,
        b: &mut dyn Backend,
        prefix: &PrefixChecksum,
    ) -> Result<i64, FailedStep> {
        let step = self.step;
        match step.row {
            Some(id) => b
                .update_row(
                    id,
                    &self.progress(RowState::Running, step.start, prefix.current(), 0, None),
                )
                .await
                .map(|_| id),
            None => {
                b.insert_row(&self.new_row(RowState::Running, 0, prefix.current(), 0))
                    .await
            }
        }
        .map_err(|e: SqlError| self.fail(step.start, e.to_string(), false))
    }

    /// Records the failure (`kept`, the error as the history keeps it) on row `id`, which stays
    /// at `recorded` statements; returns `error`, saying so when recording failed too.
    async fn record_failure(
        &self,
        b: &mut dyn Backend,
        id: i64,
        recorded: usize,
        recorded_prefix: String,
        error: String,
        kept: String,
    ) -> String {
        let record = self.progress(
            RowState::Failed,
            recorded,
            recorded_prefix,
            self.elapsed_ms(),
            Some(kept),
        );
        match b.update_row(id, &record).await {
            Ok(()) => error,
            Err(re) => format!("{error}; and recording the failure failed too: {re}"),
        }
    }

    /// The migration ended inside a transaction of its own (`SET autocommit = 0` or `START
    /// TRANSACTION` without `COMMIT`): its last statements are not applied. Rolls them back and
    /// records the failure.
    async fn ended_in_own_transaction(
        &self,
        b: &mut dyn Backend,
        id: i64,
        recorded: usize,
        recorded_prefix: String,
    ) -> FailedStep {
        let total = self.total;
        let _ = b.rollback().await;
        let error = format!(
            "the migration ended inside a transaction it opened itself (BEGIN / START TRANSACTION / SET autocommit = 0 without COMMIT): statements {}..{total} were rolled back; end the transaction with COMMIT",
            recorded + 1
        );
        let error = self
            .record_failure(b, id, recorded, recorded_prefix, error.clone(), error)
            .await;
        self.fail_at(total.saturating_sub(1), recorded, error, false)
    }

    /// What was applied.
    fn applied(&self) -> AppliedStep {
        let m = self.m;
        AppliedStep {
            kind: m.kind,
            version: m.version.as_ref().map(ToString::to_string),
            description: m.description.clone(),
            script: m.script.clone(),
            transactional: self.step.transactional,
            resumed_from: self.step.start,
            statements: self.total - self.step.start,
            execution_ms: self.elapsed_ms(),
        }
    }
}
