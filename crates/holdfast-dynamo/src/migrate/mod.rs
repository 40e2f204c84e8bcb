//! `holdfast dynamo migrate --dir DIR`: versioned data migrations, each one copy (to a new
//! table) or in-place transform of a table, run exactly once and in version order.
//!
//! A run:
//! 1. Loads the folder ([`files`]); a file that cannot be used stops everything (exit 2).
//! 2. Reads the history ([`history`]) and plans: an applied migration whose file changed or
//!    went missing, a pending version older than an applied one, or a part-done migration whose
//!    file changed is drift — nothing runs (exit 3).
//! 3. Takes the lock (a conditional write with a lease, renewed while running; waits up to
//!    `lock_wait` for another runner), reads the history again and plans again.
//! 4. Runs each pending migration in order as a [`crate::copy`] whose checkpoint lives in the
//!    history table under `migration V<version>`: a migration that stopped, failed or whose
//!    runner died is resumed from its checkpoint by the next run, never started over. Its
//!    history row goes `running` → `applied` (or `stopped` / `failed` with the error), in one
//!    transaction with a check that this runner still holds the lock.
//!
//! So each migration is applied once: the lock admits one runner at a time, the fencing token
//! stops a runner whose lease was taken over, the checkpoint never re-runs a finished segment,
//! and in place no item is transformed twice (see [`crate::copy`]).

pub mod files;
pub mod history;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::Resume;
use holdfast_report::dynamo::{DataMigrateReport, DataMigrationStatus};
use holdfast_report::{Command, Envelope};

use crate::checkpoint::Location;
use crate::copy::{copy, CopyError, CopyProgress, CopyRequest};
use crate::stop::Stop;
use files::{version_key, DataMigration, FileError};
use history::{History, HistoryError, HistoryRow, RunState};

/// The history table's default name.
pub const DEFAULT_HISTORY_TABLE: &str = "holdfast_data_migrations";
/// How long a runner waits for another runner's lock by default.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(600);
/// The lock's lease (and each segment's) by default.
pub const DEFAULT_LEASE: Duration = crate::copy::DEFAULT_LEASE;

/// What to run.
#[derive(Debug, Clone)]
pub struct MigrateRequest {
    pub dir: PathBuf,
    pub history_table: String,
    /// How long to wait for another runner's lock.
    pub lock_wait: Duration,
    /// The lock's lease (renewed every third of it) and each segment's lease.
    pub lease: Duration,
    /// Plan only: report what would run; create nothing.
    pub dry_run: bool,
    /// Where a copy's verification writes differing keys (`migrate-V<version>.keys.jsonl`).
    pub keys_dir: Option<PathBuf>,
}

impl MigrateRequest {
    #[must_use]
    pub fn new(dir: PathBuf) -> MigrateRequest {
        MigrateRequest {
            dir,
            history_table: DEFAULT_HISTORY_TABLE.to_owned(),
            lock_wait: DEFAULT_LOCK_WAIT,
            lease: DEFAULT_LEASE,
            dry_run: false,
            keys_dir: None,
        }
    }
}

/// Why the migrations did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("{label} ({file}): {error}; the history records it as {state}: run the same command again to resume it from its checkpoint")]
    Run {
        label: String,
        file: String,
        error: String,
        state: &'static str,
        outcome: Outcome,
    },
}

impl Classify for MigrateError {
    fn outcome(&self) -> Outcome {
        match self {
            MigrateError::File(e) => e.outcome(),
            MigrateError::History(e) => e.outcome(),
            MigrateError::Run { outcome, .. } => *outcome,
        }
    }
}

/// The plan: each migration's status, the drift found, and the pending ones in order.
struct Plan {
    statuses: Vec<DataMigrationStatus>,
    problems: Vec<String>,
    pending: Vec<usize>,
}

fn status(m: &DataMigration, state: &str, applied_at: Option<String>) -> DataMigrationStatus {
    DataMigrationStatus {
        version: m.version.to_string(),
        description: m.description.clone(),
        file: m.file.clone(),
        source: m.source.clone(),
        target: m.target.clone(),
        in_place: m.in_place(),
        state: state.to_owned(),
        applied_at,
        copy: None,
    }
}

/// A pure function of the folder and the history.
fn plan(files: &[DataMigration], rows: &[HistoryRow]) -> Plan {
    let mut statuses = Vec::new();
    let mut problems = Vec::new();
    let mut pending = Vec::new();
    let latest_applied = files
        .iter()
        .filter(|m| {
            rows.iter()
                .any(|r| r.key == version_key(&m.version) && r.state == RunState::Applied)
        })
        .map(|m| &m.version)
        .max();
    for (i, m) in files.iter().enumerate() {
        let key = version_key(&m.version);
        match rows.iter().find(|r| r.key == key) {
            Some(row) if row.checksum != m.checksum => {
                let state = row.state.as_str();
                problems.push(if row.state == RunState::Applied {
                    format!(
                        "{} ({}) was applied with another text (checksum {}…, now {}…): an applied data migration never runs again; restore the file and put the change in a new version",
                        m.label(),
                        m.file,
                        &row.checksum[..12.min(row.checksum.len())],
                        &m.checksum[..12]
                    )
                } else {
                    format!(
                        "{} ({}) is part-done ({state}) with another text: restore the file to finish it (its checkpoint belongs to that text)",
                        m.label(),
                        m.file
                    )
                });
                statuses.push(status(m, state, row.applied_at.clone()));
            }
            Some(row) if row.state == RunState::Applied => {
                statuses.push(status(m, "applied", row.applied_at.clone()));
            }
            other => {
                if let Some(latest) = latest_applied.filter(|l| **l > m.version) {
                    problems.push(format!(
                        "{} ({}) is pending but V{latest} is applied already: data migrations run in version order; give it a version after V{latest}",
                        m.label(),
                        m.file
                    ));
                }
                let state = other.map_or("pending", |r| r.state.as_str());
                statuses.push(status(m, state, None));
                pending.push(i);
            }
        }
    }
    for row in rows {
        if !files.iter().any(|m| version_key(&m.version) == row.key) {
            problems.push(format!(
                "V{} ({}) is recorded as {} but its file is not in the folder",
                row.version,
                row.file,
                row.state.as_str()
            ));
            statuses.push(DataMigrationStatus {
                version: row.version.clone(),
                description: String::new(),
                file: row.file.clone(),
                source: String::new(),
                target: String::new(),
                in_place: false,
                state: "missing".into(),
                applied_at: row.applied_at.clone(),
                copy: None,
            });
        }
    }
    Plan {
        statuses,
        problems,
        pending,
    }
}

fn report(request: &MigrateRequest, plan: Plan, outcome: Outcome) -> DataMigrateReport {
    let pending = plan
        .statuses
        .iter()
        .filter(|s| s.state != "applied" && s.state != "missing")
        .count() as u32;
    DataMigrateReport {
        envelope: Envelope::new(Command::DynamoMigrate, outcome),
        dir: request.dir.display().to_string(),
        history_table: request.history_table.clone(),
        dry_run: request.dry_run,
        applied_now: 0,
        pending,
        problems: plan.problems,
        resume: None,
        migrations: plan.statuses,
    }
}

/// Runs the pending data migrations of `request.dir`. See the module docs.
///
/// # Errors
/// [`MigrateError`]: a bad file (exit 2), the lock held elsewhere past the wait (exit 5), a
/// migration that failed (exit 1, recorded in the history, resumed by the next run).
pub async fn migrate(
    client: &Client,
    request: &MigrateRequest,
    stop: Arc<Stop>,
) -> Result<DataMigrateReport, MigrateError> {
    let files = files::load_dir(&request.dir)?;
    let history = History::new(client.clone(), &request.history_table);
    let exists = history.exists().await?;
    let rows = if exists {
        history.rows().await?
    } else {
        Vec::new()
    };
    let first = plan(&files, &rows);
    if !first.problems.is_empty() {
        return Ok(report(request, first, Outcome::CheckFailed));
    }
    if request.dry_run || first.pending.is_empty() {
        return Ok(report(request, first, Outcome::Success));
    }

    history.ensure().await?;
    let fence = history
        .lock(request.lease, request.lock_wait, &stop)
        .await?;
    let lost = Arc::new(AtomicBool::new(false));
    let heartbeat = {
        let history = history.clone();
        let stop = Arc::clone(&stop);
        let lost = Arc::clone(&lost);
        let lease = request.lease;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                match history.renew(fence, lease).await {
                    Ok(()) => {}
                    Err(HistoryError::LockLost { .. }) => {
                        lost.store(true, Ordering::SeqCst);
                        stop.interrupt();
                        return;
                    }
                    Err(e) => tracing::warn!(error = %e, "renewing the data migration lock"),
                }
            }
        })
    };
    let result = run_locked(client, request, &files, &history, fence, &stop, &lost).await;
    heartbeat.abort();
    let unlocked = if lost.load(Ordering::SeqCst) {
        Ok(())
    } else {
        history.unlock(fence).await
    };
    let report = result?;
    unlocked?;
    Ok(report)
}

async fn run_locked(
    client: &Client,
    request: &MigrateRequest,
    files: &[DataMigration],
    history: &History,
    fence: u64,
    stop: &Arc<Stop>,
    lost: &AtomicBool,
) -> Result<DataMigrateReport, MigrateError> {
    // Another runner may have applied some while this one waited for the lock; from here on
    // only this runner changes the history.
    let rows = history.rows().await?;
    let mut plan = plan(files, &rows);
    if !plan.problems.is_empty() {
        return Ok(report(request, plan, Outcome::CheckFailed));
    }
    let pending = std::mem::take(&mut plan.pending);
    let mut applied_now = 0;
    let mut outcome = Outcome::Success;
    let mut resume = None;
    for i in pending {
        let m = &files[i];
        // A row of its own: it ran before (failed, stopped or died) and is resumed.
        let part_done = rows.iter().any(|r| r.key == version_key(&m.version));
        history.start(m, fence).await?;
        tracing::info!(migration = %m.label(), source = %m.source, target = %m.target, "data migration");
        let started = Instant::now();
        let result = run_one(client, request, m, part_done, stop).await;
        let ran =
            |r: &holdfast_report::dynamo::CopyReport, error: Option<String>| history::Outcome {
                error,
                items_read: r.items_read,
                items_written: r.items_written,
                items_unchanged: r.items_unchanged,
                execution_ms: started.elapsed().as_millis() as u64,
            };
        let slot = plan
            .statuses
            .iter_mut()
            .find(|s| s.file == m.file)
            .expect("every file has a status");
        match result {
            Ok(copy_report) => {
                let (state, error) = match copy_report.envelope.outcome() {
                    Outcome::Success => (RunState::Applied, None),
                    Outcome::StoppedResumable if lost.load(Ordering::SeqCst) => (
                        RunState::Stopped,
                        Some("the lock was taken over by another runner".to_owned()),
                    ),
                    Outcome::StoppedResumable => (RunState::Stopped, None),
                    _ => (
                        RunState::Failed,
                        Some(
                            "the copy's verification found differences between source and target"
                                .to_owned(),
                        ),
                    ),
                };
                if lost.load(Ordering::SeqCst) {
                    return Err(HistoryError::LockLost {
                        table: history.table().to_owned(),
                    }
                    .into());
                }
                history
                    .finish(m, state, &ran(&copy_report, error), fence)
                    .await?;
                slot.state = state.as_str().to_owned();
                let copy_outcome = copy_report.envelope.outcome();
                resume.clone_from(&copy_report.resume);
                slot.copy = Some(copy_report);
                if state == RunState::Applied {
                    applied_now += 1;
                    continue;
                }
                outcome = copy_outcome;
                if state == RunState::Stopped {
                    resume = Some(holdfast_core::remedy::NextStep::new(
                        format!(
                            "{} stopped with its checkpoint in {}",
                            m.label(),
                            history.table()
                        ),
                        holdfast_core::remedy::Remedy::RunAgain,
                    ));
                }
                break;
            }
            Err(e) => {
                let error = e.to_string();
                let copy_outcome = e.outcome();
                let empty = history::Outcome {
                    error: Some(error.clone()),
                    execution_ms: started.elapsed().as_millis() as u64,
                    ..history::Outcome::default()
                };
                if !lost.load(Ordering::SeqCst) {
                    history.finish(m, RunState::Failed, &empty, fence).await?;
                }
                return Err(MigrateError::Run {
                    label: m.label(),
                    file: m.file.clone(),
                    error,
                    state: RunState::Failed.as_str(),
                    outcome: if copy_outcome == Outcome::Usage {
                        Outcome::Usage
                    } else {
                        Outcome::Failed
                    },
                });
            }
        }
    }
    let mut out = report(request, plan, outcome);
    out.applied_now = applied_now;
    out.resume = resume;
    Ok(out)
}

/// One migration's copy: a migration with a history row of its own ran before (failed,
/// stopped or died) and resumes its checkpoint if there is one (its runner may have died
/// between recording the start and creating the checkpoint); any other starts.
async fn run_one(
    client: &Client,
    request: &MigrateRequest,
    m: &DataMigration,
    part_done: bool,
    stop: &Arc<Stop>,
) -> Result<holdfast_report::dynamo::CopyReport, CopyError> {
    let mut copy_request = CopyRequest::new(
        &m.source,
        &m.target,
        Location::Table(request.history_table.clone()),
    );
    copy_request.checkpoint_id = Some(format!("migration {}", m.label()));
    copy_request.transform.clone_from(&m.transform);
    copy_request.segments = m.segments;
    copy_request.page_limit = m.page_size;
    copy_request.max_wcu = m.max_wcu;
    copy_request.max_rcu = m.max_rcu;
    copy_request.allow_nonempty_target = m.allow_nonempty_target;
    copy_request.lease = request.lease;
    copy_request.resume = if part_done {
        Resume::IfPresent
    } else {
        Resume::Never
    };
    copy_request.keys_file = request
        .keys_dir
        .as_ref()
        .map(|d| d.join(format!("migrate-{}.keys.jsonl", m.label())));
    copy(
        client,
        copy_request,
        Arc::clone(stop),
        Arc::new(CopyProgress::default()),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: &str, checksum: &str) -> DataMigration {
        DataMigration {
            version: holdfast_core::migration::Version::parse(version).unwrap(),
            description: "d".into(),
            file: format!("V{version}__d.toml"),
            source: "a".into(),
            target: "b".into(),
            transform: None,
            segments: 1,
            page_size: 100,
            max_wcu: None,
            max_rcu: None,
            allow_nonempty_target: false,
            checksum: checksum.repeat(16),
        }
    }

    fn row(version: &str, checksum: &str, state: RunState) -> HistoryRow {
        HistoryRow {
            key: version_key(&holdfast_core::migration::Version::parse(version).unwrap()),
            version: version.into(),
            file: format!("V{version}__d.toml"),
            checksum: checksum.repeat(16),
            state,
            error: None,
            applied_at: None,
        }
    }

    #[test]
    fn plans_pending_in_order_and_resumes_part_done() {
        let files = [
            migration("1", "aaaa"),
            migration("2", "bbbb"),
            migration("3", "cccc"),
        ];
        let rows = [
            row("1", "aaaa", RunState::Applied),
            row("2", "bbbb", RunState::Failed),
        ];
        let p = plan(&files, &rows);
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.pending, [1, 2]);
        let states: Vec<&str> = p.statuses.iter().map(|s| s.state.as_str()).collect();
        assert_eq!(states, ["applied", "failed", "pending"]);
    }

    #[test]
    fn drift_is_found_and_named() {
        let cases: &[(&[DataMigration], &[HistoryRow], &str)] = &[
            (
                &[migration("1", "zzzz")],
                &[row("1", "aaaa", RunState::Applied)],
                "V1 (V1__d.toml) was applied with another text",
            ),
            (
                &[],
                &[row("1", "aaaa", RunState::Applied)],
                "V1 (V1__d.toml) is recorded as applied but its file is not in the folder",
            ),
            (
                &[migration("1", "aaaa"), migration("2", "bbbb")],
                &[row("2", "bbbb", RunState::Applied)],
                "V1 (V1__d.toml) is pending but V2 is applied already",
            ),
            (
                &[migration("1", "zzzz")],
                &[row("1", "aaaa", RunState::Stopped)],
                "V1 (V1__d.toml) is part-done (stopped) with another text",
            ),
        ];
        for (files, rows, expected) in cases {
            let p = plan(files, rows);
            assert!(
                p.problems.iter().any(|x| x.contains(expected)),
                "{:?} lacks {expected}",
                p.problems
            );
        }
    }

    #[test]
    fn versions_match_whatever_their_spelling() {
        let files = [migration("1.0", "aaaa")];
        let rows = [row("1", "aaaa", RunState::Applied)];
        let p = plan(&files, &rows);
        assert!(p.problems.is_empty());
        assert!(p.pending.is_empty());
    }
}
