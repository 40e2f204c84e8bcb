//! One dedicated session on PostgreSQL, MySQL/MariaDB or SQLite, over sqlx's `Any` driver.
//!
//! The lock is taken on this session: PostgreSQL advisory lock, MySQL `GET_LOCK`, SQLite's
//! exclusive locking mode (the write lock is kept from the first `BEGIN EXCLUSIVE` until the
//! session ends). A waiter polls for it ([`crate::lock_wait`]) rather than blocking inside the
//! database. A killed process loses its session and with it the lock; PostgreSQL 14+ is told
//! to notice a vanished client within seconds (`client_connection_check_interval`) so a dead
//! runner's statement does not hold the lock on.
//!
//! PostgreSQL and SQLite run the migrations on the same session (a transactional migration
//! commits together with its history row). MySQL/MariaDB cannot hold DDL in a transaction, so
//! there the session that holds the lock (the *control* session) keeps the history, and the
//! migrations run on a second, *work* session of the same process, set up as the server's own
//! client would be (the server's global `sql_mode` and `time_zone`, `utf8mb4` in the server's
//! collation): nothing a migration does to its session (`LOCK TABLES`, `SET autocommit = 0`,
//! `USE`, `SET sql_mode`) can reach the history, and a migration that changed its session gets
//! a fresh work session before the next one. The driver's statement logging is off: statement
//! text never reaches a log.

use crate::backend::{Backend, DbError};
use crate::connect::{Access, ConnectOptions, DatabaseUrl};
use crate::dialect;
use crate::error::SqlError;
use crate::lock_wait::LockWait;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use holdfast_core::history::{HistoryRow, NewRow, Progress, RowState};
use holdfast_core::migration::Kind;
use holdfast_core::redact::Redactor;
use holdfast_core::Dialect;
use sqlx::any::{AnyConnectOptions, AnyRow};
use sqlx::AnyConnection;
use sqlx::{ConnectOptions as _, Connection, Executor, Row};
use std::str::FromStr;
use std::time::Duration;

pub(crate) struct AnySession {
    /// The session that holds the lock and keeps the history (and, except on MySQL, runs the
    /// migrations).
    conn: AnyConnection,
    /// MySQL: the session the migrations run on, opened on first use and replaced after a
    /// migration that changed it.
    work: Option<AnyConnection>,
    /// MySQL: how a work session is set up (the server client's settings).
    work_setup: String,
    /// What `AnyConnection` connects to (the URL with Holdfast's additions).
    connect_url: String,
    dialect: Dialect,
    url: String,
    /// Qualified, quoted history table.
    table: String,
    table_display: String,
    table_name: String,
    /// PostgreSQL schema or MySQL database of the history table.
    schema: String,
    server_version: Option<u32>,
    mariadb: bool,
    /// Last limits set, to avoid a round trip per migration.
    timeouts: Option<(Duration, Duration)>,
    locked: bool,
    /// The history table is known to exist (tables do not vanish under a run).
    history_seen: bool,
}

fn db_error(e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::Database(d) => DbError {
            code: d.code().map(|c| c.to_string()),
            message: Redactor::global().redact(d.message()),
        },
        other => DbError {
            code: None,
            message: Redactor::global().redact(&other.to_string()),
        },
    }
}

fn internal(context: &str) -> impl FnOnce(sqlx::Error) -> SqlError + '_ {
    move |e| SqlError::internal(context, db_error(e))
}

/// Runs SQL (one or more statements) over the simple protocol.
fn simple_execute<'a>(
    conn: &'a mut AnyConnection,
    sql: &'a str,
) -> BoxFuture<'a, Result<(), sqlx::Error>> {
    // A `&str` query without arguments goes over the simple protocol.
    Box::pin(async move { conn.execute(sql).await.map(|_| ()) })
}

/// A string literal of Holdfast's own (identifiers, lock names) for `dialect`.
fn literal(dialect: Dialect, value: &str) -> String {
    let escaped = value.replace('\'', "''");
    match dialect {
        Dialect::MySql => format!("'{}'", escaped.replace('\\', "\\\\")),
        _ => format!("'{escaped}'"),
    }
}

fn ms(d: Duration) -> u128 {
    d.as_millis()
}

/// FNV-1a: a stable 64-bit key for the PostgreSQL advisory lock of one history table.
fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

impl AnySession {
    pub(crate) async fn open(
        url: &DatabaseUrl,
        access: Access,
        options: &ConnectOptions,
    ) -> Result<AnySession, SqlError> {
        sqlx::any::install_default_drivers();
        let dialect = url.dialect();
        let connect_url = match dialect {
            Dialect::Postgres => {
                let mut parsed = url::Url::parse(url.raw())
                    .map_err(|e| SqlError::Usage(format!("{}: {e}", url.redacted())))?;
                if !parsed.query_pairs().any(|(k, _)| k == "application_name") {
                    parsed
                        .query_pairs_mut()
                        .append_pair("application_name", &options.application_name);
                }
                parsed.to_string()
            }
            Dialect::MySql => url.raw().to_string(),
            Dialect::Sqlite => {
                let path = url.sqlite_path().expect("sqlite URLs have a path");
                match access {
                    // Never create the file for a read-only look.
                    Access::ReadOnly if !path.exists() => "sqlite::memory:".to_string(),
                    Access::ReadOnly => format!("sqlite://{}?mode=ro", path.display()),
                    Access::ReadWrite => format!("sqlite://{}?mode=rwc", path.display()),
                }
            }
        };
        let conn = connect_quietly(&connect_url)
            .await
            .map_err(|e| SqlError::Connect {
                url: url.redacted(),
                message: db_error(e).to_string(),
            })?;
        let mut session = AnySession {
            conn,
            work: None,
            work_setup: String::new(),
            connect_url,
            dialect,
            url: url.redacted(),
            table: String::new(),
            table_display: String::new(),
            table_name: options.history_table.clone(),
            schema: String::new(),
            server_version: None,
            mariadb: false,
            timeouts: None,
            locked: false,
            history_seen: false,
        };
        session.prepare(access, options).await?;
        Ok(session)
    }

    async fn prepare(&mut self, access: Access, options: &ConnectOptions) -> Result<(), SqlError> {
        let read_only = access == Access::ReadOnly;
        match self.dialect {
            Dialect::Postgres => {
                // One round trip: version, schema, and the session settings.
                let mut sql =
                    "SELECT current_setting('server_version_num'), current_schema()::text, \
                     CASE WHEN current_setting('server_version_num')::int >= 140000 \
                     THEN set_config('client_connection_check_interval', '2s', false) END"
                        .to_string();
                if read_only {
                    sql.push_str(", set_config('default_transaction_read_only', 'on', false)");
                }
                let row = self
                    .simple_row(&sql)
                    .await
                    .map_err(internal("reading server settings"))?;
                let version: String = row.try_get(0).map_err(internal("server version"))?;
                self.server_version = version.parse().ok();
                let current: Option<String> = row.try_get(1).map_err(internal("current schema"))?;
                self.schema = match (&options.history_schema, current) {
                    (Some(s), _) => s.clone(),
                    (None, Some(s)) => s,
                    (None, None) => {
                        return Err(SqlError::Usage(
                            "the connection has no current schema (empty search_path): set history_schema".into(),
                        ))
                    }
                };
            }
            Dialect::MySql => {
                let row = sqlx::query("SELECT VERSION(), DATABASE(), @@GLOBAL.collation_server")
                    .fetch_one(&mut self.conn)
                    .await
                    .map_err(internal("reading server settings"))?;
                let version: String = row.try_get(0).map_err(internal("server version"))?;
                self.mariadb = version.contains("MariaDB");
                let collation: String = row.try_get(2).map_err(internal("server collation"))?;
                self.work_setup = work_session_setup(&collation);
                let database: Option<String> = row.try_get(1).map_err(internal("database"))?;
                self.schema = database.ok_or_else(|| {
                    SqlError::Usage(format!(
                        "{}: the MySQL URL must name a database (mysql://user@host/DATABASE)",
                        self.url
                    ))
                })?;
                self.run_own("SET time_zone = '+00:00'", "preparing the session")
                    .await?;
                if read_only {
                    self.run_own("SET SESSION TRANSACTION READ ONLY", "preparing the session")
                        .await?;
                }
            }
            Dialect::Sqlite => {
                // sqlx turns foreign keys on; SQLite's default is off, and with them on the
                // documented 12-step table rebuild cascades deletes.
                let setup = format!(
                    "PRAGMA foreign_keys = OFF; PRAGMA busy_timeout = {}",
                    ms(options.busy_wait)
                );
                self.run_own(&setup, "preparing the session").await?;
                self.schema = "main".into();
            }
        }
        self.table = format!(
            "{}.{}",
            dialect::quote(self.dialect, &self.schema),
            dialect::quote(self.dialect, &self.table_name)
        );
        self.table_display = format!("{}.{}", self.schema, self.table_name);
        Ok(())
    }

    /// One row of Holdfast's own query, sent with the simple protocol (one round trip, no
    /// prepared statement). Only for SQL whose literals are built with [`literal`].
    fn simple_row<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<AnyRow, sqlx::Error>> {
        // A `&str` query without arguments goes over the simple protocol.
        self.conn.fetch_one(sql)
    }

    async fn run_own(&mut self, sql: &str, context: &str) -> Result<(), SqlError> {
        if sql.is_empty() {
            return Ok(());
        }
        simple_execute(&mut self.conn, sql)
            .await
            .map_err(internal(context))?;
        Ok(())
    }

    /// One attempt at the lock that never waits inside the database (see [`crate::lock_wait`]).
    /// On PostgreSQL the same round trip looks for the history table, which the previous
    /// holder may have created.
    async fn try_lock(&mut self) -> Result<bool, SqlError> {
        let context = "taking the migration lock";
        match self.dialect {
            Dialect::Postgres => {
                let sql = format!(
                    "SELECT pg_try_advisory_lock({}), to_regclass({}) IS NOT NULL",
                    lock_key(&self.table_display),
                    literal(Dialect::Postgres, &self.table)
                );
                let row = self.simple_row(&sql).await.map_err(internal(context))?;
                self.history_seen = row
                    .try_get(1)
                    .map_err(internal("looking for the history table"))?;
                row.try_get(0).map_err(internal(context))
            }
            Dialect::MySql => {
                let sql = format!(
                    "SELECT GET_LOCK({}, 0)",
                    literal(Dialect::MySql, &self.mysql_lock_name())
                );
                let got: Option<i64> = self
                    .simple_row(&sql)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(internal(context))?;
                Ok(got == Some(1))
            }
            Dialect::Sqlite => unreachable!("SQLite waits with its busy timeout"),
        }
    }

    /// The session migrations run on: the work session on MySQL (opened and set up on first
    /// use), this one elsewhere.
    async fn work(&mut self) -> Result<&mut AnyConnection, DbError> {
        if self.dialect != Dialect::MySql {
            return Ok(&mut self.conn);
        }
        if self.work.is_none() {
            let mut conn = connect_quietly(&self.connect_url).await.map_err(db_error)?;
            simple_execute(&mut conn, &self.work_setup)
                .await
                .map_err(db_error)?;
            self.work = Some(conn);
        }
        Ok(self.work.as_mut().expect("opened above"))
    }

    fn mysql_lock_name(&self) -> String {
        let name = format!("holdfast:{}", self.table_display);
        name.chars().take(64).collect()
    }

    async fn describe_holder(&mut self) -> String {
        let unknown = "another session".to_string();
        match self.dialect {
            Dialect::Postgres => {
                let key = lock_key(&self.table_display);
                let sql = "SELECT a.pid::bigint, COALESCE(a.application_name, ''), COALESCE(a.usename::text, ''), \
                           COALESCE(host(a.client_addr), 'local'), \
                           to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') \
                           FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
                           WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 \
                           AND l.objid::bigint = $2 AND l.objsubid = 1 LIMIT 1";
                let row = sqlx::query(sql)
                    .bind((key as u64 >> 32) as i64)
                    .bind((key as u64 & 0xffff_ffff) as i64)
                    .fetch_optional(&mut self.conn)
                    .await;
                match row {
                    Ok(Some(r)) => {
                        let pid: i64 = r.try_get(0).unwrap_or_default();
                        let app: String = r.try_get(1).unwrap_or_default();
                        let user: String = r.try_get(2).unwrap_or_default();
                        let host: String = r.try_get(3).unwrap_or_default();
                        let since: String = r.try_get(4).unwrap_or_default();
                        format!("PostgreSQL backend pid {pid} (`{app}`, user {user} from {host}, connected {since})")
                    }
                    _ => unknown,
                }
            }
            Dialect::MySql => {
                let name = self.mysql_lock_name();
                let row = sqlx::query(
                    "SELECT CAST(p.ID AS SIGNED), p.USER, p.HOST FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
                )
                .bind(name)
                .fetch_optional(&mut self.conn)
                .await;
                match row {
                    Ok(Some(r)) => {
                        let id: i64 = r.try_get(0).unwrap_or_default();
                        let user: String = r.try_get(1).unwrap_or_default();
                        let host: String = r.try_get(2).unwrap_or_default();
                        format!("connection {id} (user {user} from {host})")
                    }
                    _ => unknown,
                }
            }
            Dialect::Sqlite => "another process writing to this SQLite file".to_string(),
        }
    }

    fn busy(&self, holder: String, wait: Duration) -> SqlError {
        SqlError::Busy {
            target: self.table_display.clone(),
            holder,
            waited: humanize(wait),
        }
    }
}

fn humanize(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 60 && secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else if secs > 0 {
        format!("{secs}s")
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// Connects with the driver's statement logging off: its slow-statement warning would print
/// a migration's whole text (and any literal values in it) to stderr or CloudWatch. Holdfast
/// logs slow statements itself, by migration and statement number.
async fn connect_quietly(url: &str) -> Result<AnyConnection, sqlx::Error> {
    let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    AnyConnection::connect_with(&options).await
}

/// The settings of a MySQL work session: what the server's own command-line client would have
/// (sqlx adds `PIPES_AS_CONCAT` and `NO_ENGINE_SUBSTITUTION` to `sql_mode`, its handshake adds
/// `IGNORE_SPACE`, and it sets `time_zone = '+00:00'` and `utf8mb4_unicode_ci`): the server's
/// global `sql_mode` and `time_zone`, character set `utf8mb4` with the server's collation when
/// that is a `utf8mb4` one, else `utf8mb4`'s default collation.
fn work_session_setup(collation_server: &str) -> String {
    let names = if collation_server.starts_with("utf8mb4_")
        && collation_server
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        format!("NAMES utf8mb4 COLLATE {collation_server}")
    } else {
        "NAMES utf8mb4".to_string()
    };
    format!(
        "SET SESSION sql_mode = @@GLOBAL.sql_mode, SESSION time_zone = @@GLOBAL.time_zone, {names}"
    )
}

fn row_to_history(row: &AnyRow) -> Result<HistoryRow, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    let state: String = row.try_get("state")?;
    Ok(HistoryRow {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        description: row.try_get("description")?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Versioned),
        script: row.try_get("script")?,
        checksum: row.try_get("checksum")?,
        applied_at: row
            .try_get::<Option<i64>, _>("applied_at")?
            .and_then(|secs| u64::try_from(secs).ok())
            .map(|secs| {
                let at = std::time::UNIX_EPOCH + Duration::from_secs(secs);
                humantime::format_rfc3339_seconds(at).to_string()
            })
            .unwrap_or_default(),
        applied_by: row.try_get("applied_by")?,
        execution_ms: row.try_get("execution_ms")?,
        // An unknown state is treated as failed: never silently as applied.
        state: RowState::parse(&state).unwrap_or(RowState::Failed),
        statements_applied: row.try_get("statements_applied")?,
        statements_total: row.try_get("statements_total")?,
        prefix_checksum: row.try_get("prefix_checksum")?,
        error: row.try_get("error")?,
    })
}

fn is_sqlite_busy(e: &DbError) -> bool {
    let code_busy = e
        .code
        .as_deref()
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5 || c & 0xff == 6);
    code_busy || e.message.contains("database is locked")
}

#[async_trait::async_trait]
impl Backend for AnySession {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn server_version(&self) -> Option<u32> {
        self.server_version
    }

    fn display_url(&self) -> String {
        self.url.clone()
    }

    fn history_table(&self) -> String {
        self.table_display.clone()
    }

    async fn lock(&mut self, wait: Duration) -> Result<(), SqlError> {
        match self.dialect {
            Dialect::Postgres | Dialect::MySql => {
                if !self.try_lock().await? {
                    let holder = self.describe_holder().await;
                    if wait.is_zero() {
                        return Err(self.busy(holder, wait));
                    }
                    tracing::info!(%holder, "waiting up to {} for the migration lock", humanize(wait));
                    let mut waiting = LockWait::new(wait);
                    loop {
                        if !waiting.pause().await {
                            let holder = self.describe_holder().await;
                            return Err(self.busy(holder, wait));
                        }
                        if self.try_lock().await? {
                            break;
                        }
                    }
                }
            }
            Dialect::Sqlite => {
                // Wait for the write lock in normal locking mode (a failed attempt releases its
                // shared lock, so waiting runners cannot deadlock each other), then switch to
                // exclusive mode while holding it: from then on the lock is kept across
                // transactions until `unlock` or the end of the session.
                self.run_own(
                    &format!("PRAGMA busy_timeout = {}", ms(wait)),
                    "setting the lock wait",
                )
                .await?;
                self.timeouts = None;
                if let Err(e) = self.execute("BEGIN EXCLUSIVE").await {
                    if is_sqlite_busy(&e) {
                        let holder = self.describe_holder().await;
                        return Err(self.busy(holder, wait));
                    }
                    return Err(SqlError::internal("taking the migration lock", e));
                }
                let keep = async |s: &mut AnySession| -> Result<(), DbError> {
                    s.execute("PRAGMA locking_mode = EXCLUSIVE").await?;
                    s.execute("COMMIT").await
                };
                if let Err(e) = keep(self).await {
                    let _ = self.execute("ROLLBACK").await;
                    return Err(SqlError::internal("taking the migration lock", e));
                }
            }
        }
        self.locked = true;
        Ok(())
    }

    async fn unlock(&mut self) -> Result<(), SqlError> {
        if !self.locked {
            return Ok(());
        }
        match self.dialect {
            Dialect::Postgres => {
                let sql = format!(
                    "SELECT pg_advisory_unlock({})",
                    lock_key(&self.table_display)
                );
                self.run_own(&sql, "releasing the migration lock").await?;
            }
            Dialect::MySql => {
                let sql = format!(
                    "SELECT RELEASE_LOCK({})",
                    literal(Dialect::MySql, &self.mysql_lock_name())
                );
                self.run_own(&sql, "releasing the migration lock").await?;
            }
            Dialect::Sqlite => {
                // Normal locking mode releases the lock at the next access of the file.
                self.run_own(
                    "PRAGMA locking_mode = NORMAL; SELECT count(*) FROM sqlite_master;",
                    "releasing the migration lock",
                )
                .await?;
            }
        }
        self.locked = false;
        Ok(())
    }

    async fn history_exists(&mut self) -> Result<bool, SqlError> {
        if self.history_seen {
            return Ok(true);
        }
        let (schema, table) = (
            literal(self.dialect, &self.schema),
            literal(self.dialect, &self.table_name),
        );
        let sql = match self.dialect {
            Dialect::Postgres => format!(
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = {schema} AND tablename = {table}"
            ),
            Dialect::MySql => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = {schema} AND table_name = {table}"
            ),
            Dialect::Sqlite => {
                format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = {table}")
            }
        };
        let count: i64 = self
            .simple_row(&sql)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(internal("looking for the history table"))?;
        self.history_seen = count > 0;
        Ok(self.history_seen)
    }

    async fn history_digest(&mut self) -> Result<Option<String>, SqlError> {
        if self.dialect != Dialect::Postgres || self.server_version.is_none_or(|v| v < 110000) {
            return Ok(None);
        }
        let sql = dialect::history_digest(&self.table);
        let digest: String = self
            .simple_row(&sql)
            .await
            .and_then(|r| r.try_get(0))
            .map_err(internal("reading the history digest"))?;
        Ok(Some(digest))
    }

    async fn create_history(&mut self) -> Result<(), SqlError> {
        let ddl = dialect::create_history(self.dialect, &self.table);
        self.run_own(&ddl, "creating the history table").await?;
        self.history_seen = true;
        Ok(())
    }

    async fn read_history(&mut self) -> Result<Vec<HistoryRow>, SqlError> {
        let sql = dialect::select_history(self.dialect, &self.table);
        let rows = self
            .conn
            .fetch_all(sql.as_str())
            .await
            .map_err(internal("reading the history table"))?;
        rows.iter()
            .map(row_to_history)
            .collect::<Result<_, _>>()
            .map_err(internal("reading the history table"))
    }

    async fn insert_row(&mut self, row: &NewRow) -> Result<i64, SqlError> {
        let sql = dialect::insert_row(self.dialect, &self.table);
        let query = sqlx::query(&(sql))
            .bind(row.version.clone())
            .bind(row.description.clone())
            .bind(row.kind.as_str())
            .bind(row.script.clone())
            .bind(row.checksum.clone())
            .bind(row.applied_by.clone())
            .bind(row.execution_ms)
            .bind(row.state.as_str())
            .bind(row.statements_applied)
            .bind(row.statements_total)
            .bind(row.prefix_checksum.clone())
            .bind(row.error.clone());
        let context = "recording the migration in the history table";
        match self.dialect {
            Dialect::MySql => {
                let result = query
                    .execute(&mut self.conn)
                    .await
                    .map_err(internal(context))?;
                result.last_insert_id().ok_or_else(|| {
                    SqlError::internal(
                        context,
                        DbError {
                            code: None,
                            message: "the server returned no id for the history row".into(),
                        },
                    )
                })
            }
            _ => {
                let row = query
                    .fetch_one(&mut self.conn)
                    .await
                    .map_err(internal(context))?;
                row.try_get::<i64, _>(0).map_err(internal(context))
            }
        }
    }

    async fn update_row(&mut self, id: i64, p: &Progress) -> Result<(), SqlError> {
        sqlx::query(&(dialect::update_row(self.dialect, &self.table)))
            .bind(p.state.as_str())
            .bind(p.statements_applied)
            .bind(p.prefix_checksum.clone())
            .bind(p.execution_ms)
            .bind(p.checksum.clone())
            .bind(p.error.clone())
            .bind(id)
            .execute(&mut self.conn)
            .await
            .map_err(internal("recording progress in the history table"))?;
        Ok(())
    }

    async fn delete_row(&mut self, id: i64) -> Result<(), SqlError> {
        sqlx::query(&(dialect::delete_row(self.dialect, &self.table)))
            .bind(id)
            .execute(&mut self.conn)
            .await
            .map_err(internal("removing a history row"))?;
        Ok(())
    }

    async fn set_checksum(&mut self, id: i64, checksum: &str) -> Result<(), SqlError> {
        sqlx::query(&(dialect::set_checksum(self.dialect, &self.table)))
            .bind(checksum.to_string())
            .bind(id)
            .execute(&mut self.conn)
            .await
            .map_err(internal("realigning a checksum"))?;
        Ok(())
    }

    async fn set_timeouts(&mut self, statement: Duration, lock: Duration) -> Result<(), SqlError> {
        if self.timeouts == Some((statement, lock)) {
            return Ok(());
        }
        let sql = match self.dialect {
            Dialect::Postgres => format!(
                "SET statement_timeout = '{}ms'; SET lock_timeout = '{}ms'",
                ms(statement),
                ms(lock)
            ),
            Dialect::MySql => {
                let lock_secs = lock.as_secs().max(1);
                if self.mariadb {
                    format!(
                        "SET SESSION max_statement_time = {}, SESSION lock_wait_timeout = {lock_secs}, SESSION innodb_lock_wait_timeout = {lock_secs}",
                        statement.as_secs_f64()
                    )
                } else {
                    format!(
                        "SET SESSION max_execution_time = {}, SESSION lock_wait_timeout = {lock_secs}, SESSION innodb_lock_wait_timeout = {lock_secs}",
                        ms(statement)
                    )
                }
            }
            // SQLite has no statement time limit; the lock limit is the busy timeout.
            Dialect::Sqlite => format!("PRAGMA busy_timeout = {}", ms(lock)),
        };
        let context = "setting statement and lock timeouts";
        let work = self
            .work()
            .await
            .map_err(|e| SqlError::internal(context, e))?;
        simple_execute(work, &sql)
            .await
            .map_err(internal(context))?;
        self.timeouts = Some((statement, lock));
        Ok(())
    }

    async fn reset_session(&mut self) -> Result<(), SqlError> {
        self.timeouts = None;
        let sql = match self.dialect {
            // RESET ALL keeps advisory locks (DISCARD ALL would drop them).
            Dialect::Postgres => {
                let mut sql = "RESET ALL;".to_string();
                if self.server_version.is_some_and(|v| v >= 140000) {
                    sql.push_str("SET client_connection_check_interval = '2s';");
                }
                sql
            }
            // The next migration gets a fresh work session; the lock's session was never
            // touched. Closing also releases what the migration left (table locks, a
            // transaction it never committed: the runner has reported that already).
            Dialect::MySql => {
                if let Some(work) = self.work.take() {
                    let _ = work.close().await;
                }
                return Ok(());
            }
            Dialect::Sqlite => return Ok(()),
        };
        self.run_own(&sql, "restoring the session after a migration")
            .await
    }

    async fn work_committed(&mut self) -> Result<bool, DbError> {
        let sql = match self.dialect {
            // Outside a transaction block this query is a transaction of its own, which starts
            // at its statement's start time; inside a block, `now()` is the block's start.
            Dialect::Postgres => "SELECT now() = statement_timestamp()",
            Dialect::MySql if self.mariadb => "SELECT @@in_transaction = 0",
            Dialect::MySql => {
                "SELECT COUNT(*) = 0 FROM information_schema.innodb_trx \
                 WHERE trx_mysql_thread_id = CONNECTION_ID()"
            }
            _ => return Ok(true),
        };
        let work = self.work().await?;
        let row = work.fetch_one(sql).await.map_err(db_error)?;
        // MySQL answers 0/1; PostgreSQL a boolean.
        row.try_get::<bool, _>(0)
            .or_else(|_| row.try_get::<i64, _>(0).map(|v| v != 0))
            .map_err(db_error)
    }

    async fn begin(&mut self) -> Result<(), DbError> {
        self.execute("BEGIN").await
    }

    async fn commit(&mut self) -> Result<(), DbError> {
        self.execute("COMMIT").await
    }

    async fn rollback(&mut self) -> Result<(), DbError> {
        self.execute("ROLLBACK").await
    }

    async fn begin_and_execute(
        &mut self,
        statements: &[&str],
    ) -> Result<(), (Option<usize>, DbError)> {
        if self.dialect != Dialect::Postgres {
            self.begin().await.map_err(|e| (None, e))?;
            for (index, sql) in statements.iter().enumerate() {
                self.execute(sql).await.map_err(|e| (Some(index), e))?;
            }
            return Ok(());
        }
        // PostgreSQL: BEGIN and every statement in one simple-protocol message (one round
        // trip). Each statement reports its own completion, so the count of completions before
        // an error names the statement that failed. A newline before each `;` keeps a trailing
        // `--` comment from swallowing it.
        let mut batch = String::from("BEGIN");
        for sql in statements {
            batch.push_str("\n;\n");
            batch.push_str(sql);
        }
        let mut results = self.conn.execute_many(batch.as_str());
        let mut completed = 0usize;
        while let Some(result) = results.next().await {
            match result {
                Ok(_) => completed += 1,
                Err(e) => return Err((completed.checked_sub(1), db_error(e))),
            }
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str) -> Result<(), DbError> {
        let work = self.work().await?;
        simple_execute(work, sql).await.map_err(db_error)
    }
}
