//! The PostgreSQL rewrite of one table, set-based: rows are read with `COPY … TO STDOUT`, their
//! new values computed here and loaded with `COPY … FROM STDIN` into a temporary table, and the
//! server applies them with one `UPDATE … FROM` per batch. The session runs with
//! `session_replication_role = replica`, so neither triggers nor foreign-key actions fire:
//! both sides of a relationship on a sanitized value get the same deterministic fake.
//!
//! - A table with a primary key none of whose columns is sanitized is rewritten in batches in
//!   key order; each batch's `UPDATE` and its checkpoint commit together, so a killed run
//!   resumes after the last batch that committed and no row is ever rewritten twice.
//! - Any other table (no primary key, or a sanitized key column, whose rewritten rows would
//!   move in key order) is rewritten in one transaction, rows matched by `ctid` under a
//!   `SHARE` lock: a killed run leaves it untouched and the resume starts it over.

use super::columns::RewriteColumns;
use super::TableRun;
use crate::copy_text;
use crate::db::{quote, DbUrl, Engine};
use crate::rewrite::{rewrite_copy_field, Fakes};
use crate::state::{self, TableProgress};
use crate::tables::Table;
use crate::RefreshError;
use futures_util::StreamExt;
use holdfast_core::stopping::StopSignal;
use sqlx::{Connection, Executor, PgConnection};

fn err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

fn q(name: &str) -> String {
    quote(Engine::Postgres, name)
}

/// `schema.table`, quoted.
fn qualified(table: &Table) -> String {
    format!("{}.{}", q(&table.schema), q(&table.name))
}

/// A text literal of `value` (with `standard_conforming_strings` on).
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// The primary key's columns of `table`: names and types, in key order (empty: none).
async fn primary_key(
    url: &DbUrl,
    conn: &mut PgConnection,
    table: &Table,
) -> Result<Vec<(String, String)>, RefreshError> {
    sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) \
         FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) \
         WHERE i.indrelid = $1::regclass AND i.indisprimary \
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
    )
    .bind(qualified(table))
    .fetch_all(&mut *conn)
    .await
    .map_err(err(url))
}

/// A session for the rewrite: triggers and foreign-key actions off.
async fn rewrite_session(url: &DbUrl) -> Result<PgConnection, RefreshError> {
    let mut c = PgConnection::connect(url.raw()).await.map_err(err(url))?;
    c.execute("SET standard_conforming_strings = on")
        .await
        .map_err(err(url))?;
    c.execute("SET session_replication_role = replica")
        .await
        .map_err(|e| {
            RefreshError::database(&url.to_string(), &e).context(
                "the rewrite runs with session_replication_role = replica (no triggers or foreign-key actions), which needs a superuser (on RDS: a member of rds_superuser)",
            )
        })?;
    Ok(c)
}

/// Appends the rewritten map row of one read row: the key fields as read, then each sanitized
/// column's new value.
fn map_row(
    fields: &[&[u8]],
    key_len: usize,
    table: &Table,
    cols: &RewriteColumns,
    fakes: &Fakes,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    for (i, field) in fields.iter().take(key_len).enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        out.extend_from_slice(field);
    }
    for &c in &cols.sanitized {
        let column = &table.columns[c];
        let field_of = |column: usize| {
            cols.field_of(key_len, column)
                .and_then(|f| fields.get(f))
                .copied()
        };
        out.push(b'\t');
        rewrite_copy_field(
            table,
            column,
            field_of(c),
            column.entity.and_then(field_of),
            fakes,
            out,
        )?;
    }
    out.push(b'\n');
    Ok(())
}

/// Creates the session's temporary map table: the key columns `k0…` and the sanitized columns
/// `v0…`, typed as in `table`.
async fn create_map(
    url: &DbUrl,
    conn: &mut PgConnection,
    table: &Table,
    keys: &[String],
    cols: &RewriteColumns,
    on_commit_delete: bool,
) -> Result<(), RefreshError> {
    let mut select: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} AS k{i}"))
        .collect();
    select.extend(
        cols.sanitized
            .iter()
            .enumerate()
            .map(|(j, &c)| format!("{} AS v{j}", q(&table.columns[c].name))),
    );
    conn.execute("DROP TABLE IF EXISTS pg_temp.holdfast_map")
        .await
        .map_err(err(url))?;
    let on_commit = if on_commit_delete {
        " ON COMMIT DELETE ROWS"
    } else {
        ""
    };
    conn.execute(
        format!(
            "CREATE TEMP TABLE holdfast_map{on_commit} AS SELECT {} FROM ONLY {} WITH NO DATA",
            select.join(", "),
            qualified(table)
        )
        .as_str(),
    )
    .await
    .map_err(err(url))?;
    Ok(())
}

/// `SET c = m.v0, …` of the final `UPDATE`.
fn set_list(table: &Table, cols: &RewriteColumns) -> String {
    cols.sanitized
        .iter()
        .enumerate()
        .map(|(j, &c)| format!("{} = m.v{j}", q(&table.columns[c].name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Rewrites `table` from `progress` on.
///
/// # Errors
/// The database fails or a rule cannot make a value; every batch committed before stays done.
pub(super) async fn rewrite_table(
    url: &DbUrl,
    table: &Table,
    fakes: &Fakes,
    progress: TableProgress,
    batch_rows: usize,
    stop: &dyn StopSignal,
) -> Result<TableRun, RefreshError> {
    let mut conn = rewrite_session(url).await?;
    let pk = primary_key(url, &mut conn, table).await?;
    let cols = RewriteColumns::of(table);
    let pk_sanitized = pk.iter().any(|(name, _)| {
        cols.sanitized
            .iter()
            .any(|&c| &table.columns[c].name == name)
    });
    if pk.is_empty() || pk_sanitized {
        whole_table(url, conn, table, &cols, fakes, stop).await
    } else {
        in_batches(
            url, conn, table, &pk, &cols, fakes, progress, batch_rows, stop,
        )
        .await
    }
}

#[allow(clippy::too_many_arguments)]
async fn in_batches(
    url: &DbUrl,
    mut conn: PgConnection,
    table: &Table,
    pk: &[(String, String)],
    cols: &RewriteColumns,
    fakes: &Fakes,
    mut progress: TableProgress,
    batch_rows: usize,
    stop: &dyn StopSignal,
) -> Result<TableRun, RefreshError> {
    let keys: Vec<String> = pk.iter().map(|(n, _)| q(n)).collect();
    let key_list = keys.join(", ");
    let read_list = cols
        .read
        .iter()
        .map(|&c| q(&table.columns[c].name))
        .collect::<Vec<_>>()
        .join(", ");
    let name = qualified(table);
    create_map(url, &mut conn, table, &keys, cols, true).await?;
    let bound = |values: &[String]| {
        values
            .iter()
            .zip(pk)
            .map(|(v, (_, ty))| format!("{}::{ty}", literal(v)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let t_keys = keys
        .iter()
        .map(|k| format!("t.{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let join = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("t.{k} = m.k{i}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let set = set_list(table, cols);
    let mut run = TableRun::default();
    loop {
        if stop.is_stopped() {
            return Ok(run);
        }
        let after = progress
            .last_key
            .as_ref()
            .map(|k| format!(" WHERE ({key_list}) > ({})", bound(k)))
            .unwrap_or_default();
        conn.execute("BEGIN").await.map_err(err(url))?;
        let mut read = Vec::new();
        {
            let mut out = conn
                .copy_out_raw(
                    format!(
                        "COPY (SELECT {key_list}, {read_list} FROM ONLY {name}{after} ORDER BY {key_list} LIMIT {batch_rows}) TO STDOUT"
                    )
                    .as_str(),
                )
                .await
                .map_err(err(url))?;
            while let Some(chunk) = out.next().await {
                read.extend_from_slice(&chunk.map_err(err(url))?);
            }
        }
        let mut map = Vec::with_capacity(read.len());
        let mut rows = 0usize;
        let mut last: Option<Vec<String>> = None;
        for line in read.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let fields: Vec<&[u8]> = copy_text::fields(line).collect();
            map_row(&fields, keys.len(), table, cols, fakes, &mut map)
                .map_err(RefreshError::Rules)?;
            rows += 1;
            last = Some(
                fields[..keys.len()]
                    .iter()
                    .map(|f| copy_text::decode(f).unwrap_or_default())
                    .collect(),
            );
        }
        if rows > 0 {
            let mut sink = conn
                .copy_in_raw("COPY holdfast_map FROM STDIN")
                .await
                .map_err(err(url))?;
            sink.send(map).await.map_err(err(url))?;
            sink.finish().await.map_err(err(url))?;
            let upper = last.as_deref().map(bound).unwrap_or_default();
            let lower = progress
                .last_key
                .as_ref()
                .map(|k| format!(" AND ({t_keys}) > ({})", bound(k)))
                .unwrap_or_default();
            conn.execute(
                format!(
                    "UPDATE ONLY {name} AS t SET {set} FROM holdfast_map m WHERE {join} AND ({t_keys}) <= ({upper}){lower}"
                )
                .as_str(),
            )
            .await
            .map_err(|e| unique_collision(url, table, &e))?;
        }
        progress.rows += rows as u64;
        progress.done = rows < batch_rows;
        if let Some(last) = last {
            progress.last_key = Some(last);
        }
        state::record_progress_postgres(url, &mut conn, &table.path(), &progress).await?;
        conn.execute("COMMIT").await.map_err(err(url))?;
        run.rows += rows as u64;
        if progress.done {
            run.done = true;
            return Ok(run);
        }
    }
}

/// The rewrite of a table without a usable key: one transaction under a `SHARE` lock, rows
/// read by a second session and matched back by `ctid`.
async fn whole_table(
    url: &DbUrl,
    mut conn: PgConnection,
    table: &Table,
    cols: &RewriteColumns,
    fakes: &Fakes,
    stop: &dyn StopSignal,
) -> Result<TableRun, RefreshError> {
    let name = qualified(table);
    conn.execute("BEGIN").await.map_err(err(url))?;
    conn.execute(format!("LOCK TABLE ONLY {name} IN SHARE MODE").as_str())
        .await
        .map_err(err(url))?;
    create_map(url, &mut conn, table, &["ctid".to_string()], cols, false).await?;
    let mut reader = PgConnection::connect(url.raw()).await.map_err(err(url))?;
    reader
        .execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .await
        .map_err(err(url))?;
    let read_list = cols
        .read
        .iter()
        .map(|&c| q(&table.columns[c].name))
        .collect::<Vec<_>>()
        .join(", ");
    let mut out = reader
        .copy_out_raw(
            format!("COPY (SELECT ctid, {read_list} FROM ONLY {name}) TO STDOUT").as_str(),
        )
        .await
        .map_err(err(url))?;
    let mut sink = conn
        .copy_in_raw("COPY holdfast_map FROM STDIN")
        .await
        .map_err(err(url))?;
    let (mut pending, mut batch, mut rows) = (Vec::new(), Vec::new(), 0u64);
    let mut failure: Option<RefreshError> = None;
    'read: while let Some(chunk) = out.next().await {
        pending.extend_from_slice(&chunk.map_err(err(url))?);
        let mut start = 0;
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            let fields: Vec<&[u8]> = copy_text::fields(&pending[start..start + nl]).collect();
            if let Err(e) = map_row(&fields, 1, table, cols, fakes, &mut batch) {
                failure = Some(RefreshError::Rules(e));
                break 'read;
            }
            rows += 1;
            start += nl + 1;
        }
        pending.drain(..start);
        if stop.is_stopped() {
            break;
        }
        if batch.len() >= 1 << 20 {
            sink.send(std::mem::take(&mut batch))
                .await
                .map_err(err(url))?;
        }
    }
    drop(out);
    if failure.is_some() || stop.is_stopped() {
        let _ = sink.abort("stopped").await;
        let _ = conn.execute("ROLLBACK").await;
        return match failure {
            Some(e) => Err(e),
            None => Ok(TableRun::default()),
        };
    }
    if !batch.is_empty() {
        sink.send(batch).await.map_err(err(url))?;
    }
    sink.finish().await.map_err(err(url))?;
    let _ = reader.execute("COMMIT").await;
    conn.execute(
        format!(
            "UPDATE ONLY {name} AS t SET {} FROM holdfast_map m WHERE t.ctid = m.k0",
            set_list(table, cols)
        )
        .as_str(),
    )
    .await
    .map_err(|e| unique_collision(url, table, &e))?;
    state::record_progress_postgres(
        url,
        &mut conn,
        &table.path(),
        &TableProgress {
            last_key: None,
            done: true,
            rows,
        },
    )
    .await?;
    conn.execute("COMMIT").await.map_err(err(url))?;
    Ok(TableRun { rows, done: true })
}

/// A unique violation named as two originals that became the same fake.
fn unique_collision(url: &DbUrl, table: &Table, e: &sqlx::Error) -> RefreshError {
    if let sqlx::Error::Database(db) = e {
        if db.code().as_deref() == Some("23505") {
            return RefreshError::Rules(format!(
                "{}: the rewrite would give two rows the same value under the unique constraint {}: two different originals became the same fake; give the column a uniqueness-preserving rule (hash, or email) — the batch was rolled back",
                table.path(),
                db.constraint().unwrap_or("(unnamed)")
            ));
        }
    }
    RefreshError::database(&url.to_string(), e)
}
