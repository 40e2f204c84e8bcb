//! The target of `refresh copy`: an empty database, or one holding the unfinished copy of an
//! earlier run that was killed or failed, which is dropped so that the copy starts over clean.
//!
//! A copy marks its target before it writes anything (PostgreSQL: `holdfast_refresh.copy`;
//! MySQL: `holdfast_refresh_copy`; one row, `finished` set when the rows, indexes, constraints,
//! triggers and sequences are all in). The target was empty when that row was written, so
//! everything in a target whose copy is unfinished came from that copy: a new copy drops it —
//! PostgreSQL: every schema, `public` re-created with its default owner and privileges; MySQL:
//! every table, view and routine — and starts again from a new snapshot (a copy made of two
//! snapshots could break its foreign keys). A target with tables and no marker, or with a
//! finished copy, is refused.

use crate::db::{Conn, DbUrl};
use crate::RefreshError;
use sqlx::{Connection, Executor, MySqlConnection, PgConnection};

fn db_err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

/// What a copy found in its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// Nothing: the copy starts.
    Empty,
    /// The unfinished copy of an earlier run, now dropped.
    UnfinishedCopyDropped,
}

/// Makes `target` ready for a copy of `source` and marks it: empty, or emptied of an unfinished
/// copy.
///
/// # Errors
/// The target holds tables that are not an unfinished copy, or the database fails.
pub async fn prepare(target: &DbUrl, conn: &mut Conn, source: &str) -> Result<Found, RefreshError> {
    let err = db_err(target);
    let (tables, marked) = match conn {
        Conn::Postgres(c) => {
            let tables: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'holdfast_refresh') \
                 AND n.nspname NOT LIKE 'pg_toast%'",
            )
            .fetch_one(&mut *c)
            .await
            .map_err(&err)?;
            let has: bool =
                sqlx::query_scalar("SELECT to_regclass('holdfast_refresh.copy') IS NOT NULL")
                    .fetch_one(&mut *c)
                    .await
                    .map_err(&err)?;
            let marked = if has {
                sqlx::query_scalar("SELECT finished FROM holdfast_refresh.copy WHERE id = 1")
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(&err)?
            } else {
                None
            };
            (tables, marked)
        }
        Conn::MySql(c) => {
            let tables: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME NOT LIKE 'holdfast\\_refresh\\_%'",
            )
            .fetch_one(&mut *c)
            .await
            .map_err(&err)?;
            let has: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() \
                 AND TABLE_NAME = 'holdfast_refresh_copy'",
            )
            .fetch_one(&mut *c)
            .await
            .map_err(&err)?;
            let marked = if has > 0 {
                sqlx::query_scalar("SELECT finished FROM holdfast_refresh_copy WHERE id = 1")
                    .fetch_optional(&mut *c)
                    .await
                    .map_err(&err)?
            } else {
                None
            };
            (tables, marked)
        }
    };
    let found = match (tables, marked) {
        (_, Some(false)) => {
            match conn {
                Conn::Postgres(c) => drop_postgres(target, c).await?,
                Conn::MySql(c) => drop_mysql(target, c).await?,
            }
            Found::UnfinishedCopyDropped
        }
        (0, _) => Found::Empty,
        (n, Some(true)) => {
            return Err(RefreshError::Usage(format!(
                "the target {target} already holds a finished copy ({n} tables): refresh copy fills an empty database (drop and re-create it to copy again)"
            )))
        }
        (n, None) => {
            return Err(RefreshError::Usage(format!(
                "the target {target} already holds {n} tables: refresh copy fills an empty database (drop and re-create it first)"
            )))
        }
    };
    match conn {
        Conn::Postgres(c) => {
            let mut tx = c.begin().await.map_err(&err)?;
            for sql in [
                "DROP SCHEMA IF EXISTS holdfast_refresh CASCADE",
                "CREATE SCHEMA holdfast_refresh",
                "CREATE TABLE holdfast_refresh.copy (id integer PRIMARY KEY CHECK (id = 1), source text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), finished boolean NOT NULL DEFAULT false)",
            ] {
                tx.execute(sql).await.map_err(&err)?;
            }
            sqlx::query("INSERT INTO holdfast_refresh.copy (id, source) VALUES (1, $1)")
                .bind(source)
                .execute(&mut *tx)
                .await
                .map_err(&err)?;
            tx.commit().await.map_err(&err)?;
        }
        Conn::MySql(c) => {
            for sql in [
                "DROP TABLE IF EXISTS holdfast_refresh_copy",
                "CREATE TABLE holdfast_refresh_copy (id integer PRIMARY KEY CHECK (id = 1), source varchar(2000) NOT NULL, started_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP, finished boolean NOT NULL DEFAULT false) ENGINE=InnoDB",
            ] {
                c.execute(sql).await.map_err(&err)?;
            }
            sqlx::query("INSERT INTO holdfast_refresh_copy (id, source) VALUES (1, ?)")
                .bind(source)
                .execute(&mut *c)
                .await
                .map_err(&err)?;
        }
    }
    Ok(found)
}

/// Marks the copy in `target` finished.
///
/// # Errors
/// The database fails.
pub async fn finish(target: &DbUrl, conn: &mut Conn) -> Result<(), RefreshError> {
    let result = match conn {
        Conn::Postgres(c) => c
            .execute("UPDATE holdfast_refresh.copy SET finished = true")
            .await
            .map(|_| ()),
        Conn::MySql(c) => c
            .execute("UPDATE holdfast_refresh_copy SET finished = true")
            .await
            .map(|_| ()),
    };
    result.map_err(db_err(target))?;
    Ok(())
}

/// Drops every schema of `target` in one transaction, and re-creates `public` as a new
/// database has it.
async fn drop_postgres(target: &DbUrl, conn: &mut PgConnection) -> Result<(), RefreshError> {
    let err = db_err(target);
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') \
         AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%'",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(&err)?;
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&mut *conn)
        .await
        .map_err(&err)?;
    let mut tx = conn.begin().await.map_err(&err)?;
    for schema in &schemas {
        tx.execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .map_err(&err)?;
    }
    tx.execute("CREATE SCHEMA public").await.map_err(&err)?;
    let defaults: &[&str] = if version >= 150_000 {
        &[
            "ALTER SCHEMA public OWNER TO pg_database_owner",
            "GRANT USAGE ON SCHEMA public TO PUBLIC",
        ]
    } else {
        &["GRANT ALL ON SCHEMA public TO PUBLIC"]
    };
    for sql in defaults {
        tx.execute(*sql).await.map_err(&err)?;
    }
    tx.commit().await.map_err(&err)?;
    Ok(())
}

/// Drops every table, view and routine of `target` (MySQL has no transactional DDL: a kill
/// part-way leaves the marker, so the next copy drops the rest).
async fn drop_mysql(target: &DbUrl, conn: &mut MySqlConnection) -> Result<(), RefreshError> {
    let err = db_err(target);
    let objects: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(IF(TABLE_TYPE = 'VIEW', 'VIEW', 'TABLE') AS CHAR), CAST(TABLE_NAME AS CHAR) \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> 'holdfast_refresh_copy' \
         UNION ALL SELECT CAST(ROUTINE_TYPE AS CHAR), CAST(ROUTINE_NAME AS CHAR) \
         FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(&err)?;
    conn.execute("SET SESSION foreign_key_checks = 0")
        .await
        .map_err(&err)?;
    for (kind, name) in &objects {
        let name = crate::db::quote(crate::db::Engine::MySql, name);
        conn.execute(format!("DROP {kind} IF EXISTS {name}").as_str())
            .await
            .map_err(&err)?;
    }
    conn.execute("SET SESSION foreign_key_checks = 1")
        .await
        .map_err(&err)?;
    Ok(())
}
