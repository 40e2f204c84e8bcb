//! What `sanitize --in-place` checks before it changes anything, because rewriting the wrong
//! database destroys its data: the database's actual name equals `--expect-name`; it is not
//! the production source named in `[refresh.production]` (by URL — host, port and database —
//! or by name); no other session has writes in progress in it; and (MySQL, which cannot
//! switch triggers off for a session) no table to rewrite has an `UPDATE` trigger.

use crate::config::Production;
use crate::db::{Conn, DbUrl};
use crate::tables::Table;
use crate::RefreshError;

fn err(url: &DbUrl) -> impl Fn(sqlx::Error) -> RefreshError + '_ {
    move |e| RefreshError::database(&url.to_string(), &e)
}

/// The name of the database the session is connected to.
///
/// # Errors
/// The server cannot be asked.
pub async fn actual_name(url: &DbUrl, conn: &mut Conn) -> Result<String, RefreshError> {
    match conn {
        Conn::Postgres(c) => sqlx::query_scalar("SELECT current_database()::text")
            .fetch_one(&mut *c)
            .await
            .map_err(err(url)),
        Conn::MySql(c) => sqlx::query_scalar::<_, Option<String>>("SELECT DATABASE()")
            .fetch_one(&mut *c)
            .await
            .map_err(err(url))
            .map(Option::unwrap_or_default),
    }
}

/// Refuses unless `actual` is `expected`.
///
/// # Errors
/// The names differ.
pub fn expect_name(url: &DbUrl, actual: &str, expected: &str) -> Result<(), RefreshError> {
    if actual == expected {
        Ok(())
    } else {
        Err(RefreshError::Refused(format!(
            "{url} is the database `{actual}`, not the expected `{expected}`; nothing was changed (name the database you mean to rewrite)"
        )))
    }
}

/// A host as compared: the loopback names are one host.
fn host_of(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or("localhost").to_ascii_lowercase();
    match host.as_str() {
        "127.0.0.1" | "::1" | "[::1]" | "" => "localhost".to_string(),
        _ => host,
    }
}

fn port_of(url: &url::Url) -> u16 {
    url.port().unwrap_or(match url.scheme() {
        "mysql" | "mariadb" => 3306,
        _ => 5432,
    })
}

/// Refuses a database that `production` names: the same host, port and database as its URL,
/// or one of its names.
///
/// # Errors
/// It is production (or the production URL in the file is not a URL).
pub fn not_production(
    url: &DbUrl,
    actual: &str,
    production: Option<&Production>,
    file: &str,
) -> Result<(), RefreshError> {
    let Some(production) = production else {
        return Ok(());
    };
    if production
        .names
        .iter()
        .any(|n| n.eq_ignore_ascii_case(actual) || n.eq_ignore_ascii_case(&url.database))
    {
        return Err(RefreshError::Refused(format!(
            "{url} is `{actual}`, a production database by [refresh.production] names in {file}; nothing was changed"
        )));
    }
    if let Some(prod) = &production.url {
        let prod_url = DbUrl::parse("[refresh.production] url", prod)?;
        let (a, b) = (
            url::Url::parse(url.raw()).map_err(|e| RefreshError::Usage(e.to_string()))?,
            url::Url::parse(prod_url.raw()).map_err(|e| RefreshError::Usage(e.to_string()))?,
        );
        if host_of(&a) == host_of(&b)
            && port_of(&a) == port_of(&b)
            && (prod_url.database.eq_ignore_ascii_case(actual)
                || prod_url.database.eq_ignore_ascii_case(&url.database))
        {
            return Err(RefreshError::Refused(format!(
                "{url} is the production source named by [refresh.production] url in {file}; nothing was changed"
            )));
        }
    }
    Ok(())
}

/// Refuses a database in which another session has written in a transaction still open (or
/// is writing now).
///
/// # Errors
/// Such sessions exist, or the server cannot be asked (MySQL needs the `PROCESS` privilege).
pub async fn no_other_writers(url: &DbUrl, conn: &mut Conn) -> Result<(), RefreshError> {
    let writers: i64 = match conn {
        Conn::Postgres(c) => sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL",
        )
        .fetch_one(&mut *c)
        .await
        .map_err(err(url))?,
        Conn::MySql(c) => sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.INNODB_TRX t \
             JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id \
             WHERE p.DB = DATABASE() AND t.trx_mysql_thread_id <> CONNECTION_ID() \
             AND t.trx_rows_modified > 0",
        )
        .fetch_one(&mut *c)
        .await
        .map_err(|e| {
            RefreshError::database(
                &url.to_string(),
                &e,
            )
            .context("other sessions' transactions cannot be seen (the user needs the PROCESS privilege)")
        })?,
    };
    if writers > 0 {
        return Err(RefreshError::Busy(format!(
            "{url}: {writers} other session(s) have writes in progress; nothing was changed (a rewrite under live writes would mix real and fake values)"
        )));
    }
    Ok(())
}

/// Refuses a MySQL database in which one of `tables` has an `UPDATE` trigger: it would fire
/// for every rewritten row and could copy the originals elsewhere. (PostgreSQL rewrites with
/// `session_replication_role = replica`, under which user triggers do not fire.)
///
/// # Errors
/// Such triggers exist, or the server cannot be asked.
pub async fn no_update_triggers(
    url: &DbUrl,
    conn: &mut Conn,
    tables: &[Table],
) -> Result<(), RefreshError> {
    let Conn::MySql(c) = conn else {
        return Ok(());
    };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(EVENT_OBJECT_TABLE AS CHAR), CAST(TRIGGER_NAME AS CHAR) \
         FROM information_schema.TRIGGERS \
         WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_MANIPULATION = 'UPDATE' \
         ORDER BY 1, 2",
    )
    .fetch_all(&mut *c)
    .await
    .map_err(err(url))?;
    let found: Vec<String> = rows
        .iter()
        .filter(|(table, _)| tables.iter().any(|t| &t.name == table))
        .map(|(table, trigger)| format!("{trigger} on {table}"))
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    Err(RefreshError::Refused(format!(
        "{url}: the UPDATE trigger(s) {} would fire for every rewritten row (MySQL cannot switch them off for one session) and could copy the originals elsewhere; nothing was changed: drop them in the copy before sanitizing",
        found.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_is_recognised_by_url_and_by_name() {
        let prod = Production {
            url: Some("postgres://app:pw@127.0.0.1/shop".into()),
            names: vec!["shop_live".into()],
        };
        let staging = DbUrl::parse("--database", "postgres://u@localhost:5432/shop").unwrap();
        assert!(not_production(&staging, "shop", Some(&prod), "holdfast.toml").is_err());
        let other = DbUrl::parse("--database", "postgres://u@localhost:5433/shop").unwrap();
        assert!(not_production(&other, "shop", Some(&prod), "holdfast.toml").is_ok());
        let named = DbUrl::parse("--database", "postgres://u@db.internal/shop_live").unwrap();
        let e = not_production(&named, "shop_live", Some(&prod), "holdfast.toml").unwrap_err();
        assert!(e.to_string().contains("names in holdfast.toml"), "{e}");
        assert!(not_production(&other, "shop", None, "holdfast.toml").is_ok());
    }
}
