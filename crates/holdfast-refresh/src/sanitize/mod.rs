//! `refresh sanitize --in-place`: a database that is already a copy (a restored snapshot)
//! rewritten where it stands.
//!
//! Before anything changes, it refuses the wrong database ([`crate::refusal`]: the name must
//! be `--expect-name`, it must not be the production source, no other session may be
//! writing) and any unclassified column (exit 3). Then:
//!
//! 1. the keyed hashes of every original value it will replace are recorded in the database's
//!    own refresh state ([`crate::state`]) — the leak proof needs them once they are gone;
//! 2. each table with a sanitized column is rewritten set-based, tables in parallel, each
//!    batch committed together with its checkpoint ([`postgres`], [`mysql`]);
//! 3. the leak proof scans every text and JSON column for the originals (exit 3 on a hit).
//!
//! A run that stops — interrupted, past its deadline, or failed — leaves every batch done and
//! recorded or untouched; the same command continues it. A resume with another key or other
//! rules is refused: it would mix two sets of fakes.

mod columns;
mod mysql;
mod postgres;

use crate::catalog;
use crate::config::RefreshConfig;
use crate::db::{DbUrl, Engine};
use crate::leak::Originals;
use crate::plan::gate;
use crate::refusal;
use crate::rewrite::Fakes;
use crate::state::{self, Run, TableProgress};
use crate::tables::{tables, Table};
use crate::transform::Key;
use crate::unique;
use crate::verify;
use crate::RefreshError;
use futures_util::StreamExt;
use holdfast_core::remedy::{NextStep, Remedy};
use holdfast_core::stopping::{StopReason, StopSignal};
use holdfast_report::refresh::{RefreshSanitizeReport, RefreshSanitizeSummary, TableCopy};
use holdfast_report::{Command, Envelope, Outcome};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Rows rewritten per batch (and per checkpoint) by default.
pub const DEFAULT_BATCH_ROWS: usize = 50_000;

/// What to rewrite.
#[derive(Debug, Clone)]
pub struct SanitizeRequest {
    pub database: DbUrl,
    /// The name the database must have.
    pub expect_name: String,
    /// Tables rewritten at once.
    pub jobs: usize,
    pub batch_rows: usize,
    /// Where to write the originals' keyed hashes for a later `refresh verify --originals`.
    pub originals_file: Option<PathBuf>,
}

/// What one table's rewrite did: rows rewritten, and whether the table is done (not done: it
/// stopped at the signal, its progress recorded).
#[derive(Debug, Clone, Default)]
pub(crate) struct TableRun {
    pub rows: u64,
    pub done: bool,
}

/// The identity of the rules under the key.
fn rules_id(key: &Key, rules: &RefreshConfig) -> String {
    let text = format!("{:?}|{:?}", rules.locale, rules.tables);
    crate::leak::hex(&key.mac(&[b"holdfast-refresh-rules-id", text.as_bytes()])[..8])
}

/// Rewrites `request.database` in place under `rules`.
///
/// # Errors
/// A refusal (nothing changed), or a failure part-way ([`RefreshError::Resumable`]: what is
/// done stays done and the same command continues).
pub async fn sanitize(
    request: &SanitizeRequest,
    rules: &RefreshConfig,
    key: &Key,
    stop: &Arc<dyn StopSignal>,
) -> Result<RefreshSanitizeReport, RefreshError> {
    let started = Instant::now();
    let url = &request.database;
    let mut conn = url.connect().await?;
    let actual = refusal::actual_name(url, &mut conn).await?;
    refusal::expect_name(url, &actual, &request.expect_name)?;
    refusal::not_production(url, &actual, rules.production.as_ref(), &rules.file)?;

    let mut report = RefreshSanitizeReport {
        envelope: Envelope::new(Command::RefreshSanitize, Outcome::Success),
        database: url.to_string(),
        summary: RefreshSanitizeSummary::default(),
        tables: Vec::new(),
        unclassified: Vec::new(),
        unmatched_rules: Vec::new(),
        stopped: None,
        resume: None,
        originals_file: None,
        verify: None,
    };
    let columns = catalog::columns(url, &mut conn).await?;
    (report.unclassified, report.unmatched_rules) = gate(&columns, rules);
    if !report.unclassified.is_empty() || !report.unmatched_rules.is_empty() {
        report.envelope.set_outcome(Outcome::CheckFailed);
        return Ok(report);
    }
    refusal::no_other_writers(url, &mut conn).await?;

    let all = tables(&columns, rules);
    let work: Vec<Table> = all.iter().filter(|t| t.is_sanitized()).cloned().collect();
    refusal::no_update_triggers(url, &mut conn, &work).await?;
    report.summary.tables = work.len();
    report.summary.sanitized_columns = work
        .iter()
        .map(|t| t.columns.iter().filter(|c| c.rule.is_some()).count())
        .sum();

    let run = Run {
        key_id: crate::leak::key_id(key),
        rules_id: rules_id(key, rules),
        originals_recorded: false,
        finished: false,
    };
    let mut recorded = state::recorded_run(url, &mut conn).await?;
    if let Some(r) = &recorded {
        let changed = r.key_id != run.key_id || r.rules_id != run.rules_id;
        if changed && !r.finished && !any_row_rewritten(url, &mut conn).await? {
            // A run that stopped before it rewrote a row (a rule failed on the first batch):
            // nothing of it to mix with, so it starts over under the new rules.
            state::discard(url, &mut conn).await?;
            recorded = None;
        }
    }
    let fresh = recorded.is_none();
    let recorded = match recorded {
        Some(r) if r.key_id != run.key_id || r.rules_id != run.rules_id => {
            let what = if r.key_id == run.key_id {
                "other [refresh] rules"
            } else {
                "another key"
            };
            let when = if r.finished {
                "was sanitized"
            } else {
                "was partly sanitized by a run that stopped"
            };
            return Err(RefreshError::Refused(format!(
                "{url} {when} with {what}; rewriting it again would mix two sets of fakes — nothing was changed: restore the database from its snapshot and run again, or put the key and rules back"
            )));
        }
        Some(r) if r.finished => {
            // Sanitized and proven by an earlier run with this key and these rules: repeating
            // the command (a retried deploy step) changes nothing.
            report.summary.finished_before = true;
            report.summary.tables_already_done = work.len();
            report.summary.elapsed_ms = elapsed(started);
            return Ok(report);
        }
        Some(r) => {
            report.summary.resumed = true;
            r
        }
        None => run,
    };

    // 1. The originals, before any of them is replaced (on a resume: as recorded). No fake
    // may be one of them, and the fakes of a unique column must differ: checked before the
    // run is recorded, while no row is rewritten.
    let fakes = if recorded.originals_recorded {
        Fakes {
            key: key.clone(),
            originals: Arc::new(Originals::from_hashes(
                state::originals(url, &mut conn).await?,
            )),
        }
    } else {
        let fakes = Fakes {
            key: key.clone(),
            originals: Arc::new(verify::originals_in(url, &mut conn, &work, key).await?),
        };
        unique::check(url, &mut conn, &work, &fakes).await?;
        if fresh {
            state::start(url, &mut conn, &recorded).await?;
        }
        state::record_originals(url, &mut conn, fakes.originals.sealed()).await?;
        fakes
    };
    let fakes = Arc::new(fakes);

    // 2. The rewrite, tables in parallel.
    let progress = state::progress(url, &mut conn).await?;
    let pending: Vec<(Table, TableProgress)> = work
        .iter()
        .filter_map(|t| {
            let p = progress.get(&t.path()).cloned().unwrap_or_default();
            if p.done {
                report.summary.tables_already_done += 1;
                None
            } else {
                Some((t.clone(), p))
            }
        })
        .collect();
    let results: Vec<(Table, Result<TableRun, RefreshError>)> = futures_util::stream::iter(pending)
        .map(|(table, progress)| {
            let (url, fakes, stop) = (url.clone(), Arc::clone(&fakes), Arc::clone(stop));
            let batch_rows = request.batch_rows.max(1);
            async move {
                let run = tokio::spawn({
                    let table = table.clone();
                    async move {
                        match url.engine {
                            Engine::Postgres => {
                                postgres::rewrite_table(
                                    &url, &table, &fakes, progress, batch_rows, &*stop,
                                )
                                .await
                            }
                            Engine::MySql => {
                                mysql::rewrite_table(
                                    &url, &table, &fakes, progress, batch_rows, &*stop,
                                )
                                .await
                            }
                        }
                    }
                })
                .await
                .map_err(|e| RefreshError::Usage(e.to_string()))
                .and_then(|r| r);
                (table, run)
            }
        })
        .buffer_unordered(request.jobs.max(1))
        .collect()
        .await;

    let mut failure = None;
    let mut unfinished = 0usize;
    for (table, result) in results {
        match result {
            Ok(run) => {
                report.summary.rows += run.rows;
                if !run.done {
                    unfinished += 1;
                }
                report.tables.push(TableCopy {
                    table: table.path(),
                    rows: run.rows,
                    sanitized_columns: table.sanitized_columns(),
                });
            }
            Err(e) => {
                unfinished += 1;
                failure.get_or_insert(e);
            }
        }
    }
    report.tables.sort_by(|a, b| a.table.cmp(&b.table));
    let done = work.len() - unfinished;
    if let (crate::db::Conn::MySql(c), 0) = (&mut conn, unfinished) {
        for table in &work {
            mysql::drop_rowid(url, c, table).await?;
        }
    }
    if let Some(e) = failure {
        let standing = format!(
            "{done} of {} tables are rewritten and every committed batch is recorded in the database",
            work.len()
        );
        return Err(match e {
            RefreshError::Rules(m) => RefreshError::Rules(format!("{m}; {standing}")),
            RefreshError::Refused(m) => RefreshError::Refused(format!("{m}; {standing}")),
            other => RefreshError::Resumable(format!("{other}; {standing}")),
        });
    }
    if unfinished > 0 {
        report.stopped = Some(
            stop.reason()
                .unwrap_or(StopReason::Interrupted)
                .as_str()
                .to_string(),
        );
        report.resume = Some(NextStep::new(
            format!(
                "{done} of {} tables are rewritten; the progress of the others is recorded in the database",
                work.len()
            ),
            Remedy::RunAgain,
        ));
        report.envelope.set_outcome(Outcome::StoppedResumable);
        report.summary.elapsed_ms = elapsed(started);
        return Ok(report);
    }

    // 3. The proof.
    let proof = verify::scan(url, &all, Arc::clone(&fakes.originals), key).await?;
    let proven = proof.hits.is_empty();
    report.verify = Some(proof);
    if proven {
        if let Some(path) = &request.originals_file {
            crate::leak::write_file(path, &crate::leak::key_id(key), fakes.originals.sealed())
                .map_err(|e| {
                    RefreshError::Resumable(format!(
                        "{}: cannot write the originals: {e}; the database is rewritten and proven",
                        path.display()
                    ))
                })?;
            report.originals_file = Some(path.display().to_string());
        }
        state::finish(url, &mut conn).await?;
    } else {
        report.envelope.set_outcome(Outcome::CheckFailed);
    }
    drop(conn);
    report.summary.elapsed_ms = elapsed(started);
    Ok(report)
}

/// Whether a recorded run committed any rewritten row.
async fn any_row_rewritten(url: &DbUrl, conn: &mut crate::db::Conn) -> Result<bool, RefreshError> {
    Ok(state::progress(url, conn)
        .await?
        .values()
        .any(|p| p.rows > 0))
}

fn elapsed(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}
