//! The MySQL/MariaDB rewrite of one table, set-based: each batch of rows is read in key
//! order, its new values computed here and inserted into a temporary table, and the server
//! applies them with one `UPDATE … JOIN`; the batch's checkpoint commits with it. The session
//! runs with `foreign_key_checks = 0`, so a sanitized natural key and the columns referring to
//! it (which get the same deterministic fake) are rewritten one after the other.
//!
//! MySQL cannot switch triggers off for a session: a table with an `UPDATE` trigger is refused
//! before anything changes ([`crate::refusal::no_update_triggers`]).
//!
//! A table without a primary key, or whose key is sanitized (its rewritten rows would move in
//! key order), gets a temporary `holdfast_refresh_rowid` column to walk it by; the column is
//! dropped when the table is done.

use super::columns::RewriteColumns;
use super::TableRun;
use crate::db::{quote, DbUrl, Engine};
use crate::rewrite::{new_value, Fakes};
use crate::state::{self, TableProgress};
use crate::tables::Table;
use crate::RefreshError;
use holdfast_core::stopping::StopSignal;
use sqlx::{Connection, Executor, MySqlConnection, Row};

/// The column added to walk a table that has no usable key.
pub const ROWID: &str = "holdfast_refresh_rowid";

/// Placeholders per `INSERT` (MySQL allows 65,535).
const PLACEHOLDERS: usize = 60_000;

fn err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

fn q(name: &str) -> String {
    quote(Engine::MySql, name)
}

/// The columns of `table`'s primary key, in key order.
async fn primary_key(
    url: &DbUrl,
    conn: &mut MySqlConnection,
    table: &Table,
) -> Result<Vec<String>, RefreshError> {
    sqlx::query_scalar(
        "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.KEY_COLUMN_USAGE \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' \
         ORDER BY ORDINAL_POSITION",
    )
    .bind(&table.name)
    .fetch_all(&mut *conn)
    .await
    .map_err(err(url))
}

/// Whether `table` has the walking column (from this run or a killed one).
async fn has_rowid(
    url: &DbUrl,
    conn: &mut MySqlConnection,
    table: &Table,
) -> Result<bool, RefreshError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?",
    )
    .bind(&table.name)
    .bind(ROWID)
    .fetch_one(&mut *conn)
    .await
    .map_err(err(url))?;
    Ok(n > 0)
}

/// Drops the walking column of `table`, if it has one.
///
/// # Errors
/// The database refuses.
pub(super) async fn drop_rowid(
    url: &DbUrl,
    conn: &mut MySqlConnection,
    table: &Table,
) -> Result<(), RefreshError> {
    if has_rowid(url, conn, table).await? {
        conn.execute(format!("ALTER TABLE {} DROP COLUMN {}", q(&table.name), q(ROWID)).as_str())
            .await
            .map_err(err(url))?;
    }
    Ok(())
}

/// `(k1 > ?) OR (k1 = ? AND k2 > ?) …` for the key after `values`, and its values in order.
fn after(keys: &[String], values: &[String]) -> (String, Vec<String>) {
    let mut terms = Vec::new();
    let mut binds = Vec::new();
    for i in 0..keys.len() {
        let mut parts = Vec::new();
        for j in 0..i {
            parts.push(format!("t.{} = ?", keys[j]));
            binds.push(values[j].clone());
        }
        parts.push(format!("t.{} > ?", keys[i]));
        binds.push(values[i].clone());
        terms.push(format!("({})", parts.join(" AND ")));
    }
    (format!("({})", terms.join(" OR ")), binds)
}

/// Rewrites `table` from `progress` on.
///
/// # Errors
/// The database fails or a rule cannot make a value; every batch
/// committed before stays done.
pub(super) async fn rewrite_table(
    url: &DbUrl,
    table: &Table,
    fakes: &Fakes,
    mut progress: TableProgress,
    batch_rows: usize,
    stop: &dyn StopSignal,
) -> Result<TableRun, RefreshError> {
    let mut conn = MySqlConnection::connect(url.raw())
        .await
        .map_err(err(url))?;
    conn.execute("SET SESSION foreign_key_checks = 0")
        .await
        .map_err(err(url))?;
    let cols = RewriteColumns::of(table);
    let pk = primary_key(url, &mut conn, table).await?;
    let pk_sanitized = pk
        .iter()
        .any(|k| cols.sanitized.iter().any(|&c| &table.columns[c].name == k));
    let key_names: Vec<String> = if pk.is_empty() || pk_sanitized {
        if !has_rowid(url, &mut conn, table).await? {
            conn.execute(
                format!(
                    "ALTER TABLE {} ADD COLUMN {} BIGINT NOT NULL AUTO_INCREMENT, ADD UNIQUE KEY {} ({})",
                    q(&table.name),
                    q(ROWID),
                    q(ROWID),
                    q(ROWID)
                )
                .as_str(),
            )
            .await
            .map_err(|e| {
                RefreshError::database(&url.to_string(), &e).context(&format!(
                    "{} has no primary key to walk it by (or its key is sanitized), and the temporary column {ROWID} cannot be added",
                    table.path()
                ))
            })?;
        }
        vec![ROWID.to_string()]
    } else {
        pk
    };
    let keys: Vec<String> = key_names.iter().map(|k| q(k)).collect();
    let name = q(&table.name);
    let key_list = keys
        .iter()
        .map(|k| format!("t.{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let read_list = keys
        .iter()
        .map(|k| format!("CAST(t.{k} AS CHAR)"))
        .chain(
            cols.read
                .iter()
                .map(|&c| format!("CAST(t.{} AS CHAR)", q(&table.columns[c].name))),
        )
        .collect::<Vec<_>>()
        .join(", ");

    // The map: key columns k0…, sanitized columns v0…, typed as in the table.
    let mut map_cols: Vec<String> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k} AS k{i}"))
        .collect();
    map_cols.extend(
        cols.sanitized
            .iter()
            .enumerate()
            .map(|(j, &c)| format!("{} AS v{j}", q(&table.columns[c].name))),
    );
    conn.execute("DROP TEMPORARY TABLE IF EXISTS holdfast_map")
        .await
        .map_err(err(url))?;
    conn.execute(
        format!(
            "CREATE TEMPORARY TABLE holdfast_map AS SELECT {} FROM {name} LIMIT 0",
            map_cols.join(", ")
        )
        .as_str(),
    )
    .await
    .map_err(err(url))?;
    let k_list = (0..keys.len())
        .map(|i| format!("k{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.execute(format!("ALTER TABLE holdfast_map ADD PRIMARY KEY ({k_list})").as_str())
        .await
        .map_err(err(url))?;
    let join = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("t.{k} = m.k{i}"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let set = cols
        .sanitized
        .iter()
        .enumerate()
        .map(|(j, &c)| format!("t.{} = m.v{j}", q(&table.columns[c].name)))
        .collect::<Vec<_>>()
        .join(", ");
    let width = keys.len() + cols.sanitized.len();
    let per_insert = (PLACEHOLDERS / width).max(1);

    let mut run = TableRun::default();
    loop {
        if stop.is_stopped() {
            return Ok(run);
        }
        conn.execute("BEGIN").await.map_err(err(url))?;
        let (filter, binds) = match &progress.last_key {
            Some(last) => {
                let (f, b) = after(&keys, last);
                (format!(" WHERE {f}"), b)
            }
            None => (String::new(), Vec::new()),
        };
        let sql = format!(
            "SELECT {read_list} FROM {name} t{filter} ORDER BY {key_list} LIMIT {batch_rows}"
        );
        let mut select = sqlx::query(&sql);
        for b in &binds {
            select = select.bind(b);
        }
        let rows = select.fetch_all(&mut conn).await.map_err(err(url))?;
        let mut map: Vec<Vec<Option<String>>> = Vec::with_capacity(rows.len());
        let mut last = None;
        for row in &rows {
            let fields: Vec<Option<String>> = (0..keys.len() + cols.read.len())
                .map(|i| row.try_get::<Option<String>, _>(i))
                .collect::<Result<_, _>>()
                .map_err(err(url))?;
            let mut out: Vec<Option<String>> = fields[..keys.len()].to_vec();
            for &c in &cols.sanitized {
                let column = &table.columns[c];
                let value = cols
                    .field_of(keys.len(), c)
                    .and_then(|f| fields[f].as_deref());
                let entity = column
                    .entity
                    .and_then(|e| cols.field_of(keys.len(), e))
                    .and_then(|f| fields[f].as_deref());
                out.push(
                    new_value(table, column, value, entity, fakes).map_err(RefreshError::Rules)?,
                );
            }
            last = Some(
                fields[..keys.len()]
                    .iter()
                    .map(|f| f.clone().unwrap_or_default())
                    .collect::<Vec<String>>(),
            );
            map.push(out);
        }
        drop(rows);
        for chunk in map.chunks(per_insert) {
            let row = format!("({})", vec!["?"; width].join(", "));
            let sql = format!(
                "INSERT INTO holdfast_map VALUES {}",
                vec![row; chunk.len()].join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for values in chunk {
                for v in values {
                    insert = insert.bind(v.as_deref());
                }
            }
            insert.execute(&mut conn).await.map_err(err(url))?;
        }
        let n = map.len();
        if n > 0 {
            conn.execute(
                format!("UPDATE {name} t JOIN holdfast_map m ON {join} SET {set}").as_str(),
            )
            .await
            .map_err(|e| unique_collision(url, table, &e))?;
            conn.execute("DELETE FROM holdfast_map")
                .await
                .map_err(err(url))?;
        }
        progress.rows += n as u64;
        progress.done = n < batch_rows;
        if let Some(last) = last {
            progress.last_key = Some(last);
        }
        state::record_progress_mysql(url, &mut conn, &table.path(), &progress).await?;
        conn.execute("COMMIT").await.map_err(err(url))?;
        run.rows += n as u64;
        if progress.done {
            run.done = true;
            return Ok(run);
        }
    }
}

/// A duplicate key named as two originals that became the same fake.
fn unique_collision(url: &DbUrl, table: &Table, e: &sqlx::Error) -> RefreshError {
    if let sqlx::Error::Database(db) = e {
        if db.code().as_deref() == Some("23000") && db.message().contains("Duplicate") {
            let index = db
                .message()
                .rsplit("for key ")
                .next()
                .unwrap_or("")
                .trim_matches('\'')
                .to_string();
            return RefreshError::Rules(format!(
                "{}: the rewrite would give two rows the same value under the unique key {index}: two different originals became the same fake; give the column a uniqueness-preserving rule (hash, or email) — the batch was rolled back",
                table.path()
            ));
        }
    }
    RefreshError::database(&url.to_string(), e)
}
