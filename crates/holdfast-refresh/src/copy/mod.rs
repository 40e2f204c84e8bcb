//! `refresh copy`: a sanitized copy of a source database in an empty target of the same
//! engine — the schema, every row with its sanitized columns rewritten on the way, then the
//! leak proof on the target. The source is only read, in one consistent view. The originals
//! of the sanitized columns are read first (as keyed hashes), so that no fake is one of them.
//! PostgreSQL: [`postgres`] (an exported snapshot, `pg_dump` sections, `COPY` both ways);
//! MySQL/MariaDB: [`mysql`] (consistent-snapshot sessions, `mysqldump` for the schema,
//! multi-row `INSERT`s).
//!
//! Nothing is written while a column is unclassified or a rule matches nothing: the report
//! lists them (exit 3). A copy fills an empty database: a target that already holds tables is
//! refused (exit 2), unless they are the unfinished copy of a killed or failed run, which is
//! dropped first ([`crate::copy_target`]) — running the same command again starts over clean.

mod mysql;
mod postgres;

use crate::catalog::Column;
use crate::config::RefreshConfig;
use crate::db::{DbUrl, Engine};
use crate::leak::Originals;
use crate::plan::gate;
use crate::rewrite::Fakes;
use crate::tables::Table;
use crate::transform::Key;
use crate::verify;
use crate::RefreshError;
use futures_util::{StreamExt, TryStreamExt};
use holdfast_report::refresh::{RefreshCopyReport, RefreshCopySummary, TableCopy};
use holdfast_report::{Command, Envelope, Outcome};
use std::sync::Arc;
use std::time::Instant;

/// What to copy where.
#[derive(Debug, Clone)]
pub struct CopyRequest {
    pub source: DbUrl,
    pub target: DbUrl,
    /// Tables copied at once.
    pub jobs: usize,
}

/// Copies `request.source` into `request.target` under `rules`.
///
/// # Errors
/// Bad input (two engines, a target that is not empty), or a database or tool failure; the
/// message says what was written.
pub async fn copy(
    request: &CopyRequest,
    rules: &RefreshConfig,
    key: &Key,
) -> Result<RefreshCopyReport, RefreshError> {
    let started = Instant::now();
    let (source, target) = (&request.source, &request.target);
    if source.engine != target.engine {
        return Err(RefreshError::Usage(format!(
            "refresh copy moves a database into one of the same engine; {source} and {target} are not"
        )));
    }
    let mut report = RefreshCopyReport {
        envelope: Envelope::new(Command::RefreshCopy, Outcome::Success),
        source: source.to_string(),
        target: target.to_string(),
        summary: RefreshCopySummary::default(),
        tables: Vec::new(),
        unclassified: Vec::new(),
        unmatched_rules: Vec::new(),
        verify: None,
    };
    match source.engine {
        Engine::Postgres => postgres::copy(request, rules, key, &mut report).await?,
        Engine::MySql => mysql::copy(request, rules, key, &mut report).await?,
    }
    report.summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    Ok(report)
}

/// Whether every column of the source is classified; if not, `report` lists what is not.
fn classified(report: &mut RefreshCopyReport, columns: &[Column], rules: &RefreshConfig) -> bool {
    (report.unclassified, report.unmatched_rules) = gate(columns, rules);
    if report.unclassified.is_empty() && report.unmatched_rules.is_empty() {
        true
    } else {
        report.envelope.set_outcome(Outcome::CheckFailed);
        false
    }
}

/// A failure after the target was written: what stands, and how to start over.
fn partial(e: RefreshError, target: &DbUrl, when: &str) -> RefreshError {
    RefreshError::Database {
        database: target.to_string(),
        message: format!(
            "{e} — the copy stopped while {when}; the target holds part of the copy, marked unfinished: the next refresh copy into it drops that part and starts over"
        ),
    }
}

/// One table's line of the report.
fn table_copy(table: &Table, rows: u64) -> TableCopy {
    TableCopy {
        table: table.path(),
        rows,
        sanitized_columns: table.sanitized_columns(),
    }
}

/// The copied tables into the report, in name order, and their counts.
fn count(report: &mut RefreshCopyReport, copied: Vec<TableCopy>) {
    for table in copied {
        report.summary.rows += table.rows;
        report.summary.sanitized_columns += table.sanitized_columns.len();
        report.tables.push(table);
    }
    report.tables.sort_by(|a, b| a.table.cmp(&b.table));
    report.summary.tables = report.tables.len();
}

/// `task` for each of `tables`, `jobs` at once, each on a task of its own; the results in
/// the order they finish, or the first failure.
async fn each_table<T, F, Fut>(
    tables: impl IntoIterator<Item = Table>,
    jobs: usize,
    task: F,
) -> Result<Vec<T>, RefreshError>
where
    F: Fn(Table) -> Fut,
    Fut: std::future::Future<Output = Result<T, RefreshError>> + Send + 'static,
    T: Send + 'static,
{
    futures_util::stream::iter(tables)
        .map(|table| tokio::spawn(task(table)))
        .buffer_unordered(jobs.max(1))
        .map(|joined| joined.map_err(|e| RefreshError::Usage(e.to_string()))?)
        .try_collect()
        .await
}

/// The originals of the sanitized tables of `work`, read before any row is copied (no fake
/// may be one of them), `jobs` tables at once, each by `read` in the copy's consistent view;
/// one sealed set.
async fn originals<F, Fut>(work: &[Table], jobs: usize, read: F) -> Result<Originals, RefreshError>
where
    F: Fn(Table) -> Fut,
    Fut: std::future::Future<Output = Result<Originals, RefreshError>> + Send + 'static,
{
    let sanitized = work.iter().filter(|t| t.is_sanitized()).cloned();
    let mut originals = Originals::default();
    for o in each_table(sanitized, jobs, read).await? {
        originals.merge(o);
    }
    originals.seal();
    Ok(originals)
}

/// The leak proof of the finished copy, into `report` (a hit: exit 3).
async fn prove(
    report: &mut RefreshCopyReport,
    target: &DbUrl,
    work: &[Table],
    fakes: &Fakes,
) -> Result<(), RefreshError> {
    // A MySQL table is named by its database: the target's copy of it is in the target's.
    let in_target: Vec<Table> = work
        .iter()
        .cloned()
        .map(|mut t| {
            if target.engine == Engine::MySql {
                t.schema.clone_from(&target.database);
            }
            t
        })
        .collect();
    let proof = verify::scan(target, &in_target, Arc::clone(&fakes.originals), &fakes.key).await?;
    if !proof.hits.is_empty() {
        report.envelope.set_outcome(Outcome::CheckFailed);
    }
    report.verify = Some(proof);
    Ok(())
}
