//! `refresh copy` for MySQL/MariaDB: the source read by `--jobs` sessions that share one
//! consistent view (for more than one, a brief `FLUSH TABLES WITH READ LOCK` while they each
//! start `WITH CONSISTENT SNAPSHOT`, as `mysqldump` and `mydumper` do), the schema moved with
//! `mysqldump --no-data` (tables, keys, foreign keys, views, routines; triggers only after the
//! rows), the originals read first, and every table streamed: rows read in the text protocol
//! (each value as the server prints it, as `mysqldump` reads it), sanitized fields rewritten,
//! and written back in multi-row `INSERT`s of up to 60,000 values, committed every few
//! statements, with foreign-key and unique checks off for the load (the source's rows already
//! satisfied them). `AUTO_INCREMENT` counters come with the tables.

use super::CopyRequest;
use crate::catalog;
use crate::config::RefreshConfig;
use crate::copy_target;
use crate::db::{quote, Conn, DbUrl, Engine};
use crate::rewrite::{new_value, Fakes};
use crate::schema_dump::{mysql_section, Section};
use crate::tables::{tables, Table};
use crate::transform::Key;
use crate::unique;
use crate::verify;
use crate::RefreshError;
use futures_util::StreamExt;
use holdfast_report::refresh::{RefreshCopyReport, TableCopy};
use sqlx::{Connection, Executor, MySqlConnection, Row};
use std::sync::{Arc, Mutex};

/// Values per `INSERT` (MySQL allows 65,535 placeholders).
const PLACEHOLDERS: usize = 60_000;

/// `INSERT`s per transaction.
const INSERTS_PER_COMMIT: usize = 8;

fn db_err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

/// The source's read sessions, all in one consistent view; each task takes one and gives it
/// back.
type Sessions = Arc<Mutex<Vec<Conn>>>;

fn take(sessions: &Sessions) -> Result<Conn, RefreshError> {
    sessions
        .lock()
        .map_err(|_| RefreshError::Usage("a read session was lost".into()))?
        .pop()
        .ok_or_else(|| RefreshError::Usage("more tasks than read sessions".into()))
}

fn give_back(sessions: &Sessions, conn: Conn) {
    if let Ok(mut s) = sessions.lock() {
        s.push(conn);
    }
}

/// `n` read-only sessions of `source` in one consistent view.
async fn snapshot_sessions(source: &DbUrl, n: usize) -> Result<Vec<Conn>, RefreshError> {
    let err = db_err(source);
    let mut lock = None;
    if n > 1 {
        let mut holder = MySqlConnection::connect(source.raw()).await.map_err(&err)?;
        holder
            .execute("FLUSH TABLES WITH READ LOCK")
            .await
            .map_err(|e| {
                RefreshError::database(&source.to_string(), &e).context(
                    "several read sessions share one view only under a brief global read lock, which needs the RELOAD privilege; grant it, or copy with one job (one read session)",
                )
            })?;
        lock = Some(holder);
    }
    let mut sessions = Vec::with_capacity(n);
    for _ in 0..n {
        let mut c = MySqlConnection::connect(source.raw()).await.map_err(&err)?;
        for sql in [
            "SET SESSION time_zone = '+00:00'",
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
            "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        ] {
            c.execute(sql).await.map_err(&err)?;
        }
        sessions.push(Conn::MySql(c));
    }
    if let Some(mut holder) = lock {
        holder.execute("UNLOCK TABLES").await.map_err(&err)?;
    }
    Ok(sessions)
}

/// Copies `request.source` into `request.target` under `rules`, filling `report`.
///
/// # Errors
/// A target that is not empty, or a database or tool failure; the message says what was
/// written.
pub(super) async fn copy(
    request: &CopyRequest,
    rules: &RefreshConfig,
    key: &Key,
    report: &mut RefreshCopyReport,
) -> Result<(), RefreshError> {
    let (source, target) = (&request.source, &request.target);
    let jobs = request.jobs.max(1);
    let mut catalog_conn = source.connect().await?;
    let columns = catalog::columns(source, &mut catalog_conn).await?;
    if !super::classified(report, &columns, rules) {
        return Ok(());
    }
    let own: Vec<String> = sqlx::query_scalar(
        "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'holdfast\\_refresh\\_%'",
    )
    .fetch_all(catalog_conn.mysql()?)
    .await
    .map_err(db_err(source))?;
    drop(catalog_conn);

    let sessions: Sessions = Arc::new(Mutex::new(snapshot_sessions(source, jobs).await?));
    let mut target_conn = target.connect().await?;
    report.summary.restarted = copy_target::prepare(target, &mut target_conn, &source.to_string())
        .await?
        == copy_target::Found::UnfinishedCopyDropped;

    let section = |section: Section, when: &'static str| {
        let (src, dst, own) = (
            (source.raw().to_string(), source.database.clone()),
            (target.raw().to_string(), target.database.clone()),
            own.clone(),
        );
        async move {
            tokio::task::spawn_blocking(move || {
                mysql_section((&src.0, &src.1), (&dst.0, &dst.1), section, &own)
            })
            .await
            .map_err(|e| RefreshError::Usage(e.to_string()))?
            .map_err(|e| super::partial(e, target, when))
        }
    };
    let work = tables(&columns, rules);
    let fakes = Fakes {
        key: key.clone(),
        originals: Arc::new(
            super::originals(&work, jobs, |table| {
                let (source, sessions, key) = (source.clone(), Arc::clone(&sessions), key.clone());
                async move {
                    let mut conn = take(&sessions)?;
                    let read = verify::originals_in(
                        &source,
                        &mut conn,
                        std::slice::from_ref(&table),
                        &key,
                    )
                    .await;
                    give_back(&sessions, conn);
                    read
                }
            })
            .await?,
        ),
    };
    let mut reader = take(&sessions)?;
    let checked = unique::check(source, &mut reader, &work, &fakes).await;
    give_back(&sessions, reader);
    checked?;
    let fakes = Arc::new(fakes);
    section(Section::PreData, "the schema was being created").await?;
    let copied: Vec<TableCopy> = super::each_table(work.clone(), jobs, |table| {
        let (source, target, sessions, fakes) = (
            source.clone(),
            target.clone(),
            Arc::clone(&sessions),
            Arc::clone(&fakes),
        );
        async move {
            let mut conn = take(&sessions)?;
            let copied = copy_table(&source, &target, conn.mysql()?, &table, &fakes).await;
            give_back(&sessions, conn);
            copied
        }
    })
    .await
    .map_err(|e| super::partial(e, target, "rows were being copied"))?;
    super::count(report, copied);
    drop(sessions);

    section(Section::PostData, "the triggers were being created").await?;
    copy_target::finish(target, &mut target_conn).await?;
    super::prove(report, target, &work, &fakes).await
}

/// A value on its way to the target.
enum Value {
    Null,
    Text(String),
    Bytes(Vec<u8>),
}

/// Copies one table's rows, rewriting its sanitized columns.
async fn copy_table(
    source: &DbUrl,
    target: &DbUrl,
    src: &mut MySqlConnection,
    table: &Table,
    fakes: &Fakes,
) -> Result<TableCopy, RefreshError> {
    let mut dst = MySqlConnection::connect(target.raw())
        .await
        .map_err(db_err(target))?;
    for sql in [
        "SET SESSION foreign_key_checks = 0",
        "SET SESSION unique_checks = 0",
        "SET SESSION time_zone = '+00:00'",
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO,STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'",
    ] {
        dst.execute(sql).await.map_err(db_err(target))?;
    }
    let name = quote(Engine::MySql, &table.name);
    let cols = table
        .columns
        .iter()
        .map(|c| quote(Engine::MySql, &c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let width = table.columns.len().max(1);
    let per_insert = (PLACEHOLDERS / width).max(1);
    let insert = |rows: usize| {
        let row = format!("({})", vec!["?"; width].join(", "));
        format!(
            "INSERT INTO {name} ({cols}) VALUES {}",
            vec![row.as_str(); rows].join(", ")
        )
    };
    let full = insert(per_insert);
    let select = format!("SELECT {cols} FROM {name}");
    // A statement without arguments runs in the text protocol: every value as the server
    // prints it, whatever its type.
    let mut read = src.fetch(select.as_str());
    let (mut batch, mut rows, mut inserts) = (Vec::with_capacity(per_insert), 0u64, 0usize);
    dst.execute("START TRANSACTION")
        .await
        .map_err(db_err(target))?;
    while let Some(row) = read.next().await {
        let row = row.map_err(db_err(source))?;
        batch.push(rewrite_row(&row, table, fakes).map_err(RefreshError::Rules)?);
        rows += 1;
        if batch.len() == per_insert {
            write(target, &mut dst, &full, &mut batch).await?;
            inserts += 1;
            if inserts % INSERTS_PER_COMMIT == 0 {
                for sql in ["COMMIT", "START TRANSACTION"] {
                    dst.execute(sql).await.map_err(db_err(target))?;
                }
            }
        }
    }
    drop(read);
    if !batch.is_empty() {
        let last = insert(batch.len());
        write(target, &mut dst, &last, &mut batch).await?;
    }
    dst.execute("COMMIT").await.map_err(db_err(target))?;
    Ok(super::table_copy(table, rows))
}

/// One source row's values, its sanitized fields rewritten.
fn rewrite_row(
    row: &sqlx::mysql::MySqlRow,
    table: &Table,
    fakes: &Fakes,
) -> Result<Vec<Value>, String> {
    let raw: Vec<Option<&[u8]>> = (0..table.columns.len())
        .map(|i| {
            row.try_get_unchecked::<Option<&[u8]>, _>(i).map_err(|e| {
                format!(
                    "{}.{}: the value cannot be read ({e})",
                    table.path(),
                    table.columns[i].name
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let text = |i: usize| -> Result<Option<&str>, String> {
        raw[i]
            .map(|b| {
                std::str::from_utf8(b).map_err(|_| {
                    format!(
                        "{}.{}: a value is not UTF-8 text, so no rule can rewrite it",
                        table.path(),
                        table.columns[i].name
                    )
                })
            })
            .transpose()
    };
    let mut out = Vec::with_capacity(raw.len());
    for (i, column) in table.columns.iter().enumerate() {
        if column.rule.is_some() {
            let entity = match column.entity {
                Some(e) => text(e)?,
                None => None,
            };
            out.push(match new_value(table, column, text(i)?, entity, fakes)? {
                Some(v) => Value::Text(v),
                None => Value::Null,
            });
        } else {
            out.push(match raw[i] {
                None => Value::Null,
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) => Value::Text(s.to_string()),
                    Err(_) => Value::Bytes(b.to_vec()),
                },
            });
        }
    }
    Ok(out)
}

/// Inserts `batch` with `sql` (its row count's statement) and empties it.
async fn write(
    target: &DbUrl,
    dst: &mut MySqlConnection,
    sql: &str,
    batch: &mut Vec<Vec<Value>>,
) -> Result<(), RefreshError> {
    let mut query = sqlx::query(sql);
    for value in batch.drain(..).flatten() {
        query = match value {
            Value::Null => query.bind(None::<String>),
            Value::Text(s) => query.bind(s),
            Value::Bytes(b) => query.bind(b),
        };
    }
    query.execute(&mut *dst).await.map_err(db_err(target))?;
    Ok(())
}
