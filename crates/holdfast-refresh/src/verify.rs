//! `refresh verify`, and the proof `copy` ends with: every text and JSON column of the target
//! scanned for the originals of the sanitized columns ([`crate::leak`]), counts per column, a
//! failure (exit 3) on any hit. Values are streamed with `COPY … TO STDOUT`; only hashes are
//! kept.

use crate::catalog::{self, TypeKind};
use crate::config::{RefreshConfig, Rule};
use crate::copy_text;
use crate::db::{quote, Conn, DbUrl, Engine};
use crate::leak::Originals;
use crate::tables::{tables, Table};
use crate::transform::Key;
use crate::RefreshError;
use futures_util::{StreamExt, TryStreamExt};
use holdfast_report::refresh::{LeakHit, LeakProof, RefreshVerifyReport};
use holdfast_report::{Command, Envelope, Outcome};
use sqlx::Row;
use std::sync::Arc;

fn db_err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

/// Streams the non-null values of `columns` of `table`, calling `f(column index, value)`.
pub(crate) async fn each_value(
    url: &DbUrl,
    conn: &mut Conn,
    table: &Table,
    columns: &[usize],
    mut f: impl FnMut(usize, &str),
) -> Result<(), RefreshError> {
    if columns.is_empty() {
        return Ok(());
    }
    let engine = match conn {
        Conn::Postgres(_) => Engine::Postgres,
        Conn::MySql(_) => Engine::MySql,
    };
    let name = format!(
        "{}.{}",
        quote(engine, &table.schema),
        quote(engine, &table.name)
    );
    match conn {
        Conn::Postgres(conn) => {
            let list = columns
                .iter()
                .map(|&i| format!("{}::text", quote(engine, &table.columns[i].name)))
                .collect::<Vec<_>>()
                .join(", ");
            let mut out = conn
                .copy_out_raw(format!("COPY (SELECT {list} FROM ONLY {name}) TO STDOUT").as_str())
                .await
                .map_err(db_err(url))?;
            let mut pending = Vec::new();
            while let Some(chunk) = out.next().await {
                pending.extend_from_slice(&chunk.map_err(db_err(url))?);
                let mut start = 0;
                while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
                    for (field, &column) in
                        copy_text::fields(&pending[start..start + nl]).zip(columns)
                    {
                        if let Some(v) = copy_text::decode(field) {
                            f(column, &v);
                        }
                    }
                    start += nl + 1;
                }
                pending.drain(..start);
            }
        }
        Conn::MySql(conn) => {
            let list = columns
                .iter()
                .map(|&i| format!("CAST({} AS CHAR)", quote(engine, &table.columns[i].name)))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("SELECT {list} FROM {name}");
            let mut rows = sqlx::query(&sql).fetch(&mut *conn);
            while let Some(row) = rows.next().await {
                let row = row.map_err(db_err(url))?;
                for (i, &column) in columns.iter().enumerate() {
                    let v: Option<String> = row.try_get(i).map_err(db_err(url))?;
                    if let Some(v) = v {
                        f(column, &v);
                    }
                }
            }
        }
    }
    Ok(())
}

/// Scans the text and JSON columns of `target`'s tables for `originals`, tables in parallel
/// (one session each, as many at once as there are cores).
///
/// # Errors
/// The target cannot be read.
pub async fn scan(
    target: &DbUrl,
    target_tables: &[Table],
    originals: Arc<Originals>,
    key: &Key,
) -> Result<LeakProof, RefreshError> {
    let mut proof = LeakProof {
        originals: originals.len(),
        ..LeakProof::default()
    };
    for table in target_tables {
        for c in &table.columns {
            if matches!(&c.rule, Some(r) if !Originals::records(r)) {
                proof
                    .dictionary_columns
                    .push(format!("{}.{}", table.path(), c.name));
            }
        }
    }
    let parallel = std::thread::available_parallelism().map_or(2, usize::from);
    let key = Arc::new(key.clone());
    let scanned: Vec<TableScan> = futures_util::stream::iter(target_tables.to_vec())
        .map(|table| {
            let (target, originals, key) =
                (target.clone(), Arc::clone(&originals), Arc::clone(&key));
            tokio::spawn(async move { scan_table(&target, &table, &originals, &key).await })
        })
        .buffered(parallel)
        .map(|joined| joined.map_err(|e| RefreshError::Usage(e.to_string()))?)
        .try_collect()
        .await?;
    for (table, t) in target_tables.iter().zip(scanned) {
        proof.columns_scanned += t.columns;
        proof.values_scanned += t.values;
        for (i, n) in t.hits.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            proof.hits.push(LeakHit {
                table: table.path(),
                column: table.columns[i].name.clone(),
                values: n,
            });
        }
    }
    Ok(proof)
}

/// What the scan of one table found.
struct TableScan {
    columns: usize,
    values: u64,
    /// Hits per column of the table.
    hits: Vec<u64>,
}

async fn scan_table(
    target: &DbUrl,
    table: &Table,
    originals: &Originals,
    key: &Key,
) -> Result<TableScan, RefreshError> {
    let scanned: Vec<usize> = (0..table.columns.len())
        .filter(|&i| {
            matches!(
                table.columns[i].kind,
                TypeKind::Text | TypeKind::Document | TypeKind::Compound
            )
        })
        .collect();
    let mut hits = vec![0u64; table.columns.len()];
    let mut values = 0u64;
    if !scanned.is_empty() {
        let mut conn = target.connect().await?;
        each_value(target, &mut conn, table, &scanned, |i, v| {
            values += 1;
            let is_json = table.columns[i].kind == TypeKind::Document;
            if originals.hit(key, v, is_json) {
                hits[i] += 1;
            }
        })
        .await?;
    }
    Ok(TableScan {
        columns: scanned.len(),
        values,
        hits,
    })
}

/// The originals of `source`'s sanitized columns under `rules`.
///
/// # Errors
/// The source cannot be read.
pub async fn originals_of(
    source: &DbUrl,
    rules: &RefreshConfig,
    key: &Key,
) -> Result<Originals, RefreshError> {
    let mut conn = source.connect().await?;
    let columns = catalog::columns(source, &mut conn).await?;
    originals_in(source, &mut conn, &tables(&columns, rules), key).await
}

/// The originals of the sanitized columns of `of`, read through `conn`.
///
/// # Errors
/// A table cannot be read.
pub async fn originals_in(
    url: &DbUrl,
    conn: &mut Conn,
    of: &[Table],
    key: &Key,
) -> Result<Originals, RefreshError> {
    let mut originals = Originals::default();
    for table in of {
        let recorded: Vec<usize> = (0..table.columns.len())
            .filter(|&i| matches!(&table.columns[i].rule, Some(r) if Originals::records(r)))
            .collect();
        each_value(url, conn, table, &recorded, |i, v| {
            if let Some(rule @ Rule::Transform(_)) = &table.columns[i].rule {
                originals.add(key, rule, v);
            }
        })
        .await?;
    }
    originals.seal();
    Ok(originals)
}

/// Where the originals of a verification come from.
#[derive(Debug, Clone)]
pub enum OriginalsFrom {
    /// The source database, read now.
    Source(DbUrl),
    /// A file written by `sanitize --originals-file`.
    File(std::path::PathBuf),
}

/// The leak proof of `target` against originals from `from`.
///
/// # Errors
/// A database cannot be read, or the file is not an originals file of this key.
pub async fn verify(
    from: &OriginalsFrom,
    target: &DbUrl,
    rules: &RefreshConfig,
    key: &Key,
) -> Result<RefreshVerifyReport, RefreshError> {
    let (source, originals) = match from {
        OriginalsFrom::Source(source) => {
            (source.to_string(), originals_of(source, rules, key).await?)
        }
        OriginalsFrom::File(path) => {
            let (id, originals) = crate::leak::read_file(path).map_err(RefreshError::Usage)?;
            if id != crate::leak::key_id(key) {
                return Err(RefreshError::Usage(format!(
                    "{}: written under another refresh key than [refresh] key in {}; its hashes cannot be compared",
                    path.display(),
                    rules.file
                )));
            }
            (format!("originals file {}", path.display()), originals)
        }
    };
    let mut conn = target.connect().await?;
    let columns = catalog::columns(target, &mut conn).await?;
    let proof = scan(target, &tables(&columns, rules), Arc::new(originals), key).await?;
    let outcome = if proof.hits.is_empty() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    };
    Ok(RefreshVerifyReport {
        envelope: Envelope::new(Command::RefreshVerify, outcome),
        source,
        target: target.to_string(),
        proof,
    })
}
