//! `refresh copy` for PostgreSQL: the source read in one exported snapshot by read-only
//! sessions, its schema created in the target around the rows (`pg_dump --schema-only`
//! pre-data, rows, post-data), the originals read first, every table streamed
//! `COPY … TO STDOUT` → rules → `COPY … FROM STDIN`, tables in parallel, sequences set.

use super::CopyRequest;
use crate::catalog;
use crate::config::RefreshConfig;
use crate::copy_target;
use crate::copy_text;
use crate::db::{quote, Conn, DbUrl, Engine};
use crate::rewrite::{rewrite_copy_field, Fakes};
use crate::schema_dump::{copy_section, Section};
use crate::tables::{tables, Table};
use crate::transform::Key;
use crate::unique;
use crate::verify;
use crate::RefreshError;
use futures_util::StreamExt;
use holdfast_report::refresh::{RefreshCopyReport, TableCopy};
use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;

/// Bytes gathered before each write into the target's `COPY`.
const SEND_BYTES: usize = 1 << 20;

fn db_err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

/// A read-only session of `url` in `snapshot`.
async fn snapshot_session(url: &DbUrl, snapshot: &str) -> Result<PgConnection, RefreshError> {
    let mut c = PgConnection::connect(url.raw())
        .await
        .map_err(db_err(url))?;
    c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(db_err(url))?;
    c.execute(format!("SET TRANSACTION SNAPSHOT '{snapshot}'").as_str())
        .await
        .map_err(db_err(url))?;
    Ok(c)
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
    // The snapshot every reader shares, held open by this session until the end.
    let mut holder = PgConnection::connect(source.raw())
        .await
        .map_err(db_err(source))?;
    holder
        .execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(db_err(source))?;
    let snapshot: String = sqlx::query_scalar("SELECT pg_export_snapshot()")
        .fetch_one(&mut holder)
        .await
        .map_err(db_err(source))?;
    let mut holder = Conn::Postgres(holder);
    let columns = catalog::columns(source, &mut holder).await?;

    if !super::classified(report, &columns, rules) {
        return Ok(());
    }

    let mut target_conn = target.connect().await?;
    report.summary.restarted = copy_target::prepare(target, &mut target_conn, &source.to_string())
        .await?
        == copy_target::Found::UnfinishedCopyDropped;

    let work = tables(&columns, rules);
    let fakes = Fakes {
        key: key.clone(),
        originals: Arc::new(
            super::originals(&work, request.jobs, |table| {
                let (source, snapshot, key) = (source.clone(), snapshot.clone(), key.clone());
                async move {
                    let mut conn = Conn::Postgres(snapshot_session(&source, &snapshot).await?);
                    verify::originals_in(&source, &mut conn, std::slice::from_ref(&table), &key)
                        .await
                }
            })
            .await?,
        ),
    };
    let mut reader = Conn::Postgres(snapshot_session(source, &snapshot).await?);
    unique::check(source, &mut reader, &work, &fakes).await?;
    drop(reader);
    let fakes = Arc::new(fakes);

    let (src_raw, dst_raw, snap) = (
        source.raw().to_string(),
        target.raw().to_string(),
        snapshot.clone(),
    );
    tokio::task::spawn_blocking(move || copy_section(&src_raw, &dst_raw, Section::PreData, &snap))
        .await
        .map_err(|e| RefreshError::Usage(e.to_string()))?
        .map_err(|e| super::partial(e, target, "the schema (pre-data) was being created"))?;

    let copied: Vec<TableCopy> = super::each_table(work.clone(), request.jobs, |table| {
        let (source, target, snapshot, fakes) = (
            source.clone(),
            target.clone(),
            snapshot.clone(),
            Arc::clone(&fakes),
        );
        async move { copy_table(&source, &target, &snapshot, &table, &fakes).await }
    })
    .await
    .map_err(|e| super::partial(e, target, "rows were being copied"))?;
    super::count(report, copied);

    let (src_raw, dst_raw, snap) = (
        source.raw().to_string(),
        target.raw().to_string(),
        snapshot.clone(),
    );
    tokio::task::spawn_blocking(move || copy_section(&src_raw, &dst_raw, Section::PostData, &snap))
        .await
        .map_err(|e| RefreshError::Usage(e.to_string()))?
        .map_err(|e| {
            super::partial(
                e,
                target,
                "the indexes and constraints (post-data) were being created",
            )
        })?;

    let target_pg = target_conn.postgres()?;
    let sequences: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT schemaname::text, sequencename::text, last_value FROM pg_sequences WHERE last_value IS NOT NULL",
    )
    .fetch_all(holder.postgres()?)
    .await
    .map_err(db_err(source))?;
    for (schema, name, value) in &sequences {
        let seq = format!(
            "{}.{}",
            quote(Engine::Postgres, schema),
            quote(Engine::Postgres, name)
        );
        sqlx::query("SELECT setval($1::regclass, $2, true)")
            .bind(&seq)
            .bind(value)
            .execute(&mut *target_pg)
            .await
            .map_err(db_err(target))?;
    }
    report.summary.sequences = sequences.len();
    holder
        .postgres()?
        .execute("COMMIT")
        .await
        .map_err(db_err(source))?;
    copy_target::finish(target, &mut target_conn).await?;

    super::prove(report, target, &work, &fakes).await
}

/// Copies one table's rows, rewriting its sanitized columns.
async fn copy_table(
    source: &DbUrl,
    target: &DbUrl,
    snapshot: &str,
    table: &Table,
    fakes: &Fakes,
) -> Result<TableCopy, RefreshError> {
    let mut src = snapshot_session(source, snapshot).await?;
    let mut dst = PgConnection::connect(target.raw())
        .await
        .map_err(db_err(target))?;
    let name = format!(
        "{}.{}",
        quote(Engine::Postgres, &table.schema),
        quote(Engine::Postgres, &table.name)
    );
    let cols = table
        .columns
        .iter()
        .map(|c| quote(Engine::Postgres, &c.name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = src
        .copy_out_raw(format!("COPY {name} ({cols}) TO STDOUT").as_str())
        .await
        .map_err(db_err(source))?;
    let mut sink = dst
        .copy_in_raw(format!("COPY {name} ({cols}) FROM STDIN").as_str())
        .await
        .map_err(db_err(target))?;
    let sanitized = table.is_sanitized();
    let (mut pending, mut batch, mut rows) = (
        Vec::<u8>::new(),
        Vec::<u8>::with_capacity(SEND_BYTES * 2),
        0u64,
    );
    let mut failure = None;
    while let Some(chunk) = out.next().await {
        let chunk = chunk.map_err(db_err(source))?;
        if !sanitized {
            rows += bytecount_newlines(&chunk);
            batch.extend_from_slice(&chunk);
        } else {
            pending.extend_from_slice(&chunk);
            let mut start = 0;
            while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
                let line = &pending[start..start + nl];
                if let Err(e) = rewrite_row(line, table, fakes, &mut batch) {
                    failure = Some(e);
                    break;
                }
                batch.push(b'\n');
                rows += 1;
                start += nl + 1;
            }
            pending.drain(..start);
        }
        if failure.is_some() {
            break;
        }
        if batch.len() >= SEND_BYTES {
            sink.send(std::mem::take(&mut batch))
                .await
                .map_err(db_err(target))?;
        }
    }
    drop(out);
    if let Some(message) = failure {
        let _ = sink.abort(message.clone()).await;
        return Err(RefreshError::Rules(message));
    }
    if !batch.is_empty() {
        sink.send(batch).await.map_err(db_err(target))?;
    }
    sink.finish().await.map_err(db_err(target))?;
    let _ = src.execute("COMMIT").await;
    Ok(super::table_copy(table, rows))
}

fn bytecount_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// One row in COPY text form, its sanitized fields rewritten, appended to `out`.
fn rewrite_row(line: &[u8], table: &Table, fakes: &Fakes, out: &mut Vec<u8>) -> Result<(), String> {
    let fields: Vec<&[u8]> = copy_text::fields(line).collect();
    for (i, (field, column)) in fields.iter().zip(&table.columns).enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        if column.rule.is_none() {
            out.extend_from_slice(field);
            continue;
        }
        let entity = column.entity.and_then(|e| fields.get(e)).copied();
        rewrite_copy_field(table, column, Some(field), entity, fakes, out)?;
    }
    Ok(())
}
