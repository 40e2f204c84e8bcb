//! The target of `refresh copy`: an empty database, or one holding the unfinished copy of an
//! earlier run that was killed, which is dropped so that the copy starts over clean.
//!
//! A copy marks its target before it writes anything (`holdfast_refresh.copy`, one row,
//! `finished` set when the rows, indexes, constraints and sequences are all in). The target was
//! empty when that row was written, so everything in a target whose copy is unfinished came
//! from that copy: a new copy drops it — every schema, `public` re-created with its default
//! owner and privileges — and starts again from a new snapshot (a copy made of two snapshots
//! could break its foreign keys). A target with tables and no marker, or with a finished copy,
//! is refused.

use crate::db::DbUrl;
use crate::RefreshError;
use sqlx::{Connection, Executor, PgConnection};

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
pub async fn prepare(
    target: &DbUrl,
    conn: &mut PgConnection,
    source: &str,
) -> Result<Found, RefreshError> {
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'holdfast_refresh') \
         AND n.nspname NOT LIKE 'pg_toast%'",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err(target))?;
    let has_marker: bool =
        sqlx::query_scalar("SELECT to_regclass('holdfast_refresh.copy') IS NOT NULL")
            .fetch_one(&mut *conn)
            .await
            .map_err(db_err(target))?;
    let marked: Option<bool> = if has_marker {
        sqlx::query_scalar("SELECT finished FROM holdfast_refresh.copy WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err(target))?
    } else {
        None
    };
    let found = match (tables, marked) {
        (_, Some(false)) => {
            drop_everything(target, conn).await?;
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
    let mut tx = conn.begin().await.map_err(db_err(target))?;
    for sql in [
        "DROP SCHEMA IF EXISTS holdfast_refresh CASCADE",
        "CREATE SCHEMA holdfast_refresh",
        "CREATE TABLE holdfast_refresh.copy (id integer PRIMARY KEY CHECK (id = 1), source text NOT NULL, started_at timestamptz NOT NULL DEFAULT now(), finished boolean NOT NULL DEFAULT false)",
    ] {
        tx.execute(sql).await.map_err(db_err(target))?;
    }
    sqlx::query("INSERT INTO holdfast_refresh.copy (id, source) VALUES (1, $1)")
        .bind(source)
        .execute(&mut *tx)
        .await
        .map_err(db_err(target))?;
    tx.commit().await.map_err(db_err(target))?;
    Ok(found)
}

/// Marks the copy in `target` finished.
///
/// # Errors
/// The database fails.
pub async fn finish(target: &DbUrl, conn: &mut PgConnection) -> Result<(), RefreshError> {
    conn.execute("UPDATE holdfast_refresh.copy SET finished = true")
        .await
        .map_err(db_err(target))?;
    Ok(())
}

/// Drops every schema of `target` in one transaction, and re-creates `public` as a new
/// database has it.
async fn drop_everything(target: &DbUrl, conn: &mut PgConnection) -> Result<(), RefreshError> {
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') \
         AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%'",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_err(target))?;
    let version: i32 = sqlx::query_scalar("SELECT current_setting('server_version_num')::int")
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err(target))?;
    let mut tx = conn.begin().await.map_err(db_err(target))?;
    for schema in &schemas {
        tx.execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .map_err(db_err(target))?;
    }
    tx.execute("CREATE SCHEMA public")
        .await
        .map_err(db_err(target))?;
    let defaults: &[&str] = if version >= 150_000 {
        &[
            "ALTER SCHEMA public OWNER TO pg_database_owner",
            "GRANT USAGE ON SCHEMA public TO PUBLIC",
        ]
    } else {
        &["GRANT ALL ON SCHEMA public TO PUBLIC"]
    };
    for sql in defaults {
        tx.execute(*sql).await.map_err(db_err(target))?;
    }
    tx.commit().await.map_err(db_err(target))?;
    Ok(())
}
