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
use futures_util::StreamExt;
use holdfast_report::refresh::{LeakHit, LeakProof, RefreshVerifyReport};
use holdfast_report::{Command, Envelope, Outcome};
use sqlx::{Connection, PgConnection};

fn db_err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

/// Streams the non-null values of `columns` of `table`, calling `f(column index, value)`.
async fn each_value(
    url: &DbUrl,
    conn: &mut PgConnection,
    table: &Table,
    columns: &[usize],
    mut f: impl FnMut(usize, &str),
) -> Result<(), RefreshError> {
    if columns.is_empty() {
        return Ok(());
    }
    let list = columns
        .iter()
        .map(|&i| format!("{}::text", quote(Engine::Postgres, &table.columns[i].name)))
        .collect::<Vec<_>>()
        .join(", ");
    let name = format!(
        "{}.{}",
        quote(Engine::Postgres, &table.schema),
        quote(Engine::Postgres, &table.name)
    );
    let mut out = conn
        .copy_out_raw(format!("COPY (SELECT {list} FROM ONLY {name}) TO STDOUT").as_str())
        .await
        .map_err(db_err(url))?;
    let mut pending = Vec::new();
    while let Some(chunk) = out.next().await {
        pending.extend_from_slice(&chunk.map_err(db_err(url))?);
        let mut start = 0;
        while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
            for (field, &column) in copy_text::fields(&pending[start..start + nl]).zip(columns) {
                if let Some(v) = copy_text::decode(field) {
                    f(column, &v);
                }
            }
            start += nl + 1;
        }
        pending.drain(..start);
    }
    Ok(())
}

/// Scans the text and JSON columns of `target`'s tables for `originals`.
///
/// # Errors
/// The target cannot be read.
pub async fn scan(
    target: &DbUrl,
    target_tables: &[Table],
    originals: &Originals,
    key: &Key,
) -> Result<LeakProof, RefreshError> {
    let mut conn = PgConnection::connect(target.raw())
        .await
        .map_err(db_err(target))?;
    let mut proof = LeakProof {
        originals: originals.len(),
        ..LeakProof::default()
    };
    for table in target_tables {
        let scanned: Vec<usize> = (0..table.columns.len())
            .filter(|&i| {
                matches!(
                    table.columns[i].kind,
                    TypeKind::Text | TypeKind::Document | TypeKind::Compound
                )
            })
            .collect();
        for c in &table.columns {
            if matches!(&c.rule, Some(r) if !Originals::records(r)) {
                proof
                    .dictionary_columns
                    .push(format!("{}.{}", table.path(), c.name));
            }
        }
        let mut hits = vec![0u64; table.columns.len()];
        let mut values = 0u64;
        each_value(target, &mut conn, table, &scanned, |i, v| {
            values += 1;
            let is_json = table.columns[i].kind == TypeKind::Document;
            if originals.hit(key, v, is_json) {
                hits[i] += 1;
            }
        })
        .await?;
        proof.columns_scanned += scanned.len();
        proof.values_scanned += values;
        for (i, n) in hits.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            proof.hits.push(LeakHit {
                table: table.path(),
                column: table.columns[i].name.clone(),
                values: n,
            });
        }
    }
    Ok(proof)
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
    let Conn::Postgres(mut pg) = conn else {
        return Err(RefreshError::Usage(
            "refresh verify reads PostgreSQL databases".into(),
        ));
    };
    let mut originals = Originals::default();
    for table in tables(&columns, rules) {
        let recorded: Vec<usize> = (0..table.columns.len())
            .filter(|&i| matches!(&table.columns[i].rule, Some(r) if Originals::records(r)))
            .collect();
        each_value(source, &mut pg, &table, &recorded, |i, v| {
            if let Some(rule @ Rule::Transform(_)) = &table.columns[i].rule {
                originals.add(key, rule, v);
            }
        })
        .await?;
    }
    Ok(originals)
}

/// The leak proof of `target` against `source`.
///
/// # Errors
/// Either database cannot be read.
pub async fn verify(
    source: &DbUrl,
    target: &DbUrl,
    rules: &RefreshConfig,
    key: &Key,
) -> Result<RefreshVerifyReport, RefreshError> {
    if source.engine != Engine::Postgres || target.engine != Engine::Postgres {
        return Err(RefreshError::Usage(
            "refresh verify reads PostgreSQL databases".into(),
        ));
    }
    let originals = originals_of(source, rules, key).await?;
    let mut conn = target.connect().await?;
    let columns = catalog::columns(target, &mut conn).await?;
    let proof = scan(target, &tables(&columns, rules), &originals, key).await?;
    let outcome = if proof.hits.is_empty() {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    };
    Ok(RefreshVerifyReport {
        envelope: Envelope::new(Command::RefreshVerify, outcome),
        source: source.to_string(),
        target: target.to_string(),
        proof,
    })
}
