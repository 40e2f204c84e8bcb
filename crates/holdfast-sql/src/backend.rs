//! The one trait every SQL backend implements.

use crate::error::SqlError;
use holdfast_core::history::{HistoryRow, NewRow, Progress};
use holdfast_core::Dialect;
use std::fmt;
use std::time::Duration;

/// An error the database returned for a statement: SQLSTATE (or the engine's code) and the
/// primary message. Never the statement text or the server's DETAIL, which can carry values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbError {
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) if code.len() == 5 => write!(f, "{} (SQLSTATE {code})", self.message),
            Some(code) => write!(f, "{} (error code {code})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What the migration runner needs of a database, on one dedicated session.
///
/// Implementations hold the lock on the same session that runs the migrations, and qualify the
/// history table with its schema so that a migration's `SET search_path` / `USE` cannot
/// redirect the history writes.
#[async_trait::async_trait]
pub trait Backend: Send {
    /// The SQL dialect, which decides splitting and transactional behaviour.
    fn dialect(&self) -> Dialect;
    /// PostgreSQL's `server_version_num`, when known.
    fn server_version(&self) -> Option<u32>;
    /// The redacted URL, for reports.
    fn display_url(&self) -> String;
    /// The qualified history table name, for reports.
    fn history_table(&self) -> String;

    /// Takes the migration lock, waiting at most `wait`. [`SqlError::Busy`] when the wait runs
    /// out, naming the holder when the database can tell.
    async fn lock(&mut self, wait: Duration) -> Result<(), SqlError>;
    /// Releases the migration lock.
    async fn unlock(&mut self) -> Result<(), SqlError>;

    /// Whether the history table exists. Creates nothing.
    async fn history_exists(&mut self) -> Result<bool, SqlError>;
    /// Creates the history table if it does not exist.
    async fn create_history(&mut self) -> Result<(), SqlError>;
    /// All history rows, oldest first.
    async fn read_history(&mut self) -> Result<Vec<HistoryRow>, SqlError>;
    /// The history's digest as `holdfast_core::plan::history_digest` defines it, computed by
    /// the server, when the backend can (then a run with nothing to do reads one value instead
    /// of every row). `None`: not supported; the caller reads the rows.
    async fn history_digest(&mut self) -> Result<Option<String>, SqlError> {
        Ok(None)
    }
    /// Adds a row; returns its id.
    async fn insert_row(&mut self, row: &NewRow) -> Result<i64, SqlError>;
    /// Records progress (or the end) of a migration run statement by statement.
    async fn update_row(&mut self, id: i64, progress: &Progress) -> Result<(), SqlError>;
    /// Removes a row (repair).
    async fn delete_row(&mut self, id: i64) -> Result<(), SqlError>;
    /// Realigns a row's checksum with the file on disk (repair).
    async fn set_checksum(&mut self, id: i64, checksum: &str) -> Result<(), SqlError>;

    /// Sets the per-statement and lock-wait limits for the statements that follow.
    async fn set_timeouts(&mut self, statement: Duration, lock: Duration) -> Result<(), SqlError>;
    /// Restores the session after a migration changed it (`SET search_path`, `USE`), keeping
    /// the lock.
    async fn reset_session(&mut self) -> Result<(), SqlError>;
    /// Whether everything the migration's statements did so far is committed: `false` while a
    /// transaction that a non-transactional migration opened itself (`BEGIN`, `START
    /// TRANSACTION`, `SET autocommit = 0`) holds uncommitted changes. The runner records a
    /// statement as applied only at such a point. The default: always committed.
    async fn work_committed(&mut self) -> Result<bool, DbError> {
        Ok(true)
    }
    /// Starts a transaction.
    async fn begin(&mut self) -> Result<(), DbError>;
    /// Commits the transaction.
    async fn commit(&mut self) -> Result<(), DbError>;
    /// Rolls the transaction back.
    async fn rollback(&mut self) -> Result<(), DbError>;
    /// Runs one statement of a migration.
    async fn execute(&mut self, sql: &str) -> Result<(), DbError>;

    /// Starts a transaction and runs `statements` in it, stopping at the first error; the
    /// transaction is left open for the caller to commit or roll back. An error carries the
    /// index of the statement that failed (`None`: starting the transaction failed). Backends
    /// may send it all in one round trip; the default sends one statement at a time.
    async fn begin_and_execute(
        &mut self,
        statements: &[&str],
    ) -> Result<(), (Option<usize>, DbError)> {
        self.begin().await.map_err(|e| (None, e))?;
        for (index, sql) in statements.iter().enumerate() {
            self.execute(sql).await.map_err(|e| (Some(index), e))?;
        }
        Ok(())
    }
}
