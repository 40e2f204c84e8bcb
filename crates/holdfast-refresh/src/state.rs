//! The progress of a `sanitize --in-place`, kept in the database it rewrites, so that it
//! survives with the data and commits with it: each batch's rewrite and its checkpoint are one
//! transaction, so a killed run leaves every batch either done and recorded or untouched.
//!
//! PostgreSQL keeps it in the schema `holdfast_refresh`; MySQL in tables named
//! `holdfast_refresh_*`. The catalog never lists them. A run that ends proven drops them.
//!
//! - the run: which key and which rules it started with (a resume with another key or other
//!   rules would mix two sets of fakes, so it is refused), and whether the originals are
//!   recorded;
//! - one row per table: the last key rewritten, and whether the table is done;
//! - the originals: the keyed hashes of every value the run replaces, recorded before the
//!   first row is rewritten (the leak proof needs them once they are gone).

use crate::db::{Conn, DbUrl};
use crate::RefreshError;
use futures_util::TryStreamExt;
use sqlx::{Executor, Row};

/// The PostgreSQL schema, and the MySQL table prefix, of the state.
pub const NAME: &str = "holdfast_refresh";

/// One table's progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableProgress {
    /// The key values (as text) of the last row rewritten, when the table is rewritten in
    /// batches.
    pub last_key: Option<Vec<String>>,
    pub done: bool,
    pub rows: u64,
}

/// The run recorded in a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub key_id: String,
    pub rules_id: String,
    pub originals_recorded: bool,
    /// The run ended proven: the database is sanitized.
    pub finished: bool,
}

fn err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

const POSTGRES_CREATE: &[&str] = &[
    "CREATE SCHEMA IF NOT EXISTS holdfast_refresh",
    "CREATE TABLE IF NOT EXISTS holdfast_refresh.run (id integer PRIMARY KEY CHECK (id = 1), key_id text NOT NULL, rules_id text NOT NULL, originals_recorded boolean NOT NULL DEFAULT false, started_at timestamptz NOT NULL DEFAULT now(), finished boolean NOT NULL DEFAULT false)",
    "CREATE TABLE IF NOT EXISTS holdfast_refresh.tables (name text PRIMARY KEY, last_key text, done boolean NOT NULL DEFAULT false, rows bigint NOT NULL DEFAULT 0)",
    "CREATE TABLE IF NOT EXISTS holdfast_refresh.originals (hash bigint NOT NULL)",
];

const MYSQL_CREATE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS holdfast_refresh_run (id integer PRIMARY KEY CHECK (id = 1), key_id varchar(64) NOT NULL, rules_id varchar(64) NOT NULL, originals_recorded boolean NOT NULL DEFAULT false, started_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, finished boolean NOT NULL DEFAULT false) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS holdfast_refresh_tables (name varchar(512) PRIMARY KEY, last_key longtext, done boolean NOT NULL DEFAULT false, `rows` bigint NOT NULL DEFAULT 0) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS holdfast_refresh_originals (hash bigint NOT NULL) ENGINE=InnoDB",
];

/// The run recorded in the database, if there is one (reads only).
///
/// # Errors
/// The database cannot be read.
pub async fn recorded_run(url: &DbUrl, conn: &mut Conn) -> Result<Option<Run>, RefreshError> {
    let exists = match conn {
        Conn::Postgres(c) => sqlx::query_scalar::<_, bool>(
            "SELECT to_regclass('holdfast_refresh.run') IS NOT NULL",
        )
        .fetch_one(&mut *c)
        .await
        .map_err(err(url))?,
        Conn::MySql(c) => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'holdfast_refresh_run'",
            )
            .fetch_one(&mut *c)
            .await
            .map_err(err(url))?
                > 0
        }
    };
    if !exists {
        return Ok(None);
    }
    let sql = match conn {
        Conn::Postgres(_) => {
            "SELECT key_id, rules_id, originals_recorded, finished FROM holdfast_refresh.run WHERE id = 1"
        }
        Conn::MySql(_) => {
            "SELECT key_id, rules_id, originals_recorded, finished FROM holdfast_refresh_run WHERE id = 1"
        }
    };
    let row = match conn {
        Conn::Postgres(c) => sqlx::query(sql)
            .fetch_optional(&mut *c)
            .await
            .map_err(err(url))?
            .map(|r| -> Result<Run, sqlx::Error> {
                Ok(Run {
                    key_id: r.try_get(0)?,
                    rules_id: r.try_get(1)?,
                    originals_recorded: r.try_get(2)?,
                    finished: r.try_get(3)?,
                })
            }),
        Conn::MySql(c) => sqlx::query(sql)
            .fetch_optional(&mut *c)
            .await
            .map_err(err(url))?
            .map(|r| -> Result<Run, sqlx::Error> {
                Ok(Run {
                    key_id: r.try_get(0)?,
                    rules_id: r.try_get(1)?,
                    originals_recorded: r.try_get::<i8, _>(2)? != 0,
                    finished: r.try_get::<i8, _>(3)? != 0,
                })
            }),
    };
    row.transpose().map_err(err(url))
}

/// Creates the state and records a new run.
///
/// # Errors
/// The database refuses the tables.
pub async fn start(url: &DbUrl, conn: &mut Conn, run: &Run) -> Result<(), RefreshError> {
    match conn {
        Conn::Postgres(c) => {
            for sql in POSTGRES_CREATE {
                c.execute(*sql).await.map_err(err(url))?;
            }
            sqlx::query("INSERT INTO holdfast_refresh.run (id, key_id, rules_id) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING")
                .bind(&run.key_id)
                .bind(&run.rules_id)
                .execute(&mut *c)
                .await
                .map_err(err(url))?;
        }
        Conn::MySql(c) => {
            for sql in MYSQL_CREATE {
                c.execute(*sql).await.map_err(err(url))?;
            }
            sqlx::query(
                "INSERT IGNORE INTO holdfast_refresh_run (id, key_id, rules_id) VALUES (1, ?, ?)",
            )
            .bind(&run.key_id)
            .bind(&run.rules_id)
            .execute(&mut *c)
            .await
            .map_err(err(url))?;
        }
    }
    Ok(())
}

/// Every table's progress, by `schema.table`.
///
/// # Errors
/// The state cannot be read.
pub async fn progress(
    url: &DbUrl,
    conn: &mut Conn,
) -> Result<std::collections::BTreeMap<String, TableProgress>, RefreshError> {
    let rows = match conn {
        Conn::Postgres(c) => {
            sqlx::query("SELECT name, last_key, done, rows FROM holdfast_refresh.tables")
                .fetch_all(&mut *c)
                .await
                .map_err(err(url))?
                .into_iter()
                .map(|r| -> Result<_, sqlx::Error> {
                    Ok((
                        r.try_get::<String, _>(0)?,
                        r.try_get::<Option<String>, _>(1)?,
                        r.try_get::<bool, _>(2)?,
                        r.try_get::<i64, _>(3)?,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()
        }
        Conn::MySql(c) => {
            sqlx::query("SELECT name, last_key, done, `rows` FROM holdfast_refresh_tables")
                .fetch_all(&mut *c)
                .await
                .map_err(err(url))?
                .into_iter()
                .map(|r| -> Result<_, sqlx::Error> {
                    Ok((
                        r.try_get::<String, _>(0)?,
                        r.try_get::<Option<String>, _>(1)?,
                        r.try_get::<i8, _>(2)? != 0,
                        r.try_get::<i64, _>(3)?,
                    ))
                })
                .collect::<Result<Vec<_>, _>>()
        }
    }
    .map_err(err(url))?;
    Ok(rows
        .into_iter()
        .map(|(name, last_key, done, rows)| {
            (
                name,
                TableProgress {
                    last_key: last_key.and_then(|k| serde_json::from_str(&k).ok()),
                    done,
                    rows: u64::try_from(rows).unwrap_or(0),
                },
            )
        })
        .collect())
}

fn progress_params(progress: &TableProgress) -> (Option<String>, i64) {
    (
        progress
            .last_key
            .as_ref()
            .map(|k| serde_json::to_string(k).unwrap_or_default()),
        i64::try_from(progress.rows).unwrap_or(i64::MAX),
    )
}

/// Records `table`'s progress in PostgreSQL, inside the transaction of the batch it follows.
///
/// # Errors
/// The state cannot be written.
pub async fn record_progress_postgres(
    url: &DbUrl,
    conn: &mut sqlx::PgConnection,
    table: &str,
    progress: &TableProgress,
) -> Result<(), RefreshError> {
    let (last_key, rows) = progress_params(progress);
    sqlx::query(
        "INSERT INTO holdfast_refresh.tables (name, last_key, done, rows) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (name) DO UPDATE SET last_key = EXCLUDED.last_key, done = EXCLUDED.done, rows = EXCLUDED.rows",
    )
    .bind(table)
    .bind(last_key)
    .bind(progress.done)
    .bind(rows)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    .map_err(err(url))
}

/// Records `table`'s progress in MySQL, inside the transaction of the batch it follows.
///
/// # Errors
/// The state cannot be written.
pub async fn record_progress_mysql(
    url: &DbUrl,
    conn: &mut sqlx::MySqlConnection,
    table: &str,
    progress: &TableProgress,
) -> Result<(), RefreshError> {
    let (last_key, rows) = progress_params(progress);
    sqlx::query(
        "INSERT INTO holdfast_refresh_tables (name, last_key, done, `rows`) VALUES (?, ?, ?, ?) \
         ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), done = VALUES(done), `rows` = VALUES(`rows`)",
    )
    .bind(table)
    .bind(last_key)
    .bind(progress.done)
    .bind(rows)
    .execute(&mut *conn)
    .await
    .map(|_| ())
    .map_err(err(url))
}

/// Records the originals' hashes and marks them recorded, in one transaction.
///
/// # Errors
/// The state cannot be written.
pub async fn record_originals(
    url: &DbUrl,
    conn: &mut Conn,
    hashes: &[u64],
) -> Result<(), RefreshError> {
    // Stored as the signed integers of the same bits.
    let signed = |h: u64| i64::from_ne_bytes(h.to_ne_bytes());
    match conn {
        Conn::Postgres(c) => {
            c.execute("BEGIN").await.map_err(err(url))?;
            c.execute("DELETE FROM holdfast_refresh.originals")
                .await
                .map_err(err(url))?;
            let mut sink = c
                .copy_in_raw("COPY holdfast_refresh.originals (hash) FROM STDIN")
                .await
                .map_err(err(url))?;
            for chunk in hashes.chunks(1 << 16) {
                let mut text = String::with_capacity(chunk.len() * 21);
                for &h in chunk {
                    text.push_str(&signed(h).to_string());
                    text.push('\n');
                }
                sink.send(text.into_bytes()).await.map_err(err(url))?;
            }
            sink.finish().await.map_err(err(url))?;
            c.execute("UPDATE holdfast_refresh.run SET originals_recorded = true")
                .await
                .map_err(err(url))?;
            c.execute("COMMIT").await.map_err(err(url))?;
        }
        Conn::MySql(c) => {
            c.execute("BEGIN").await.map_err(err(url))?;
            c.execute("DELETE FROM holdfast_refresh_originals")
                .await
                .map_err(err(url))?;
            for chunk in hashes.chunks(4096) {
                let values = chunk
                    .iter()
                    .map(|&h| format!("({})", signed(h)))
                    .collect::<Vec<_>>()
                    .join(",");
                c.execute(
                    format!("INSERT INTO holdfast_refresh_originals (hash) VALUES {values}")
                        .as_str(),
                )
                .await
                .map_err(err(url))?;
            }
            c.execute("UPDATE holdfast_refresh_run SET originals_recorded = true")
                .await
                .map_err(err(url))?;
            c.execute("COMMIT").await.map_err(err(url))?;
        }
    }
    Ok(())
}

/// The recorded originals' hashes.
///
/// # Errors
/// The state cannot be read.
pub async fn originals(url: &DbUrl, conn: &mut Conn) -> Result<Vec<u64>, RefreshError> {
    let unsigned = |h: i64| u64::from_ne_bytes(h.to_ne_bytes());
    let hashes: Vec<i64> = match conn {
        Conn::Postgres(c) => {
            sqlx::query_scalar::<_, i64>("SELECT hash FROM holdfast_refresh.originals")
                .fetch(&mut *c)
                .try_collect()
                .await
        }
        Conn::MySql(c) => {
            sqlx::query_scalar::<_, i64>("SELECT hash FROM holdfast_refresh_originals")
                .fetch(&mut *c)
                .try_collect()
                .await
        }
    }
    .map_err(err(url))?;
    Ok(hashes.into_iter().map(unsigned).collect())
}

/// Marks the run finished and drops its progress and originals (after a run that ended
/// proven): what stays is the record that the database is sanitized, under which key and rules.
/// The originals' hashes do not stay: with the key they would tell whether a value was one.
///
/// # Errors
/// The database refuses.
pub async fn finish(url: &DbUrl, conn: &mut Conn) -> Result<(), RefreshError> {
    let statements: &[&str] = match conn {
        Conn::Postgres(_) => &[
            "UPDATE holdfast_refresh.run SET finished = true",
            "DROP TABLE IF EXISTS holdfast_refresh.originals, holdfast_refresh.tables",
        ],
        Conn::MySql(_) => &[
            "UPDATE holdfast_refresh_run SET finished = true",
            "DROP TABLE IF EXISTS holdfast_refresh_originals, holdfast_refresh_tables",
        ],
    };
    for sql in statements {
        match conn {
            Conn::Postgres(c) => c.execute(*sql).await.map(|_| ()),
            Conn::MySql(c) => c.execute(*sql).await.map(|_| ()),
        }
        .map_err(err(url))?;
    }
    Ok(())
}

/// Drops the whole state of a run that rewrote nothing, so that a new one can start.
///
/// # Errors
/// The database refuses.
pub async fn discard(url: &DbUrl, conn: &mut Conn) -> Result<(), RefreshError> {
    match conn {
        Conn::Postgres(c) => c
            .execute("DROP SCHEMA IF EXISTS holdfast_refresh CASCADE")
            .await
            .map(|_| ()),
        Conn::MySql(c) => c
            .execute("DROP TABLE IF EXISTS holdfast_refresh_run, holdfast_refresh_tables, holdfast_refresh_originals")
            .await
            .map(|_| ()),
    }
    .map_err(err(url))
}
