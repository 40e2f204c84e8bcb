//! Database URLs and connections: PostgreSQL (`postgres://`) and MySQL/MariaDB (`mysql://`,
//! `mariadb://`). A URL's password is registered with the redactor as soon as it is read, and a
//! URL is only ever shown redacted.

use crate::RefreshError;
use holdfast_core::redact::{redact_url, url_password, Redactor};
use sqlx::Connection;

/// The engines a refresh works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MySql,
}

/// A parsed database URL; `Display` is redacted.
#[derive(Clone)]
pub struct DbUrl {
    raw: String,
    pub engine: Engine,
    /// The database's name, from the path.
    pub database: String,
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.raw))
    }
}

impl DbUrl {
    /// Parses `raw`, naming `flag` (the option or key it came from) when it is not a URL of
    /// PostgreSQL or MySQL with a database name.
    ///
    /// # Errors
    /// Not such a URL.
    pub fn parse(flag: &str, raw: &str) -> Result<DbUrl, RefreshError> {
        if let Some(password) = url_password(raw) {
            Redactor::global().register(&password);
        }
        let parsed = url::Url::parse(raw).map_err(|e| {
            RefreshError::Usage(format!(
                "{flag}: not a database URL ({e}): {}",
                redact_url(raw)
            ))
        })?;
        let (engine, raw) = match parsed.scheme() {
            "postgres" | "postgresql" => (Engine::Postgres, raw.to_string()),
            "mysql" => (Engine::MySql, raw.to_string()),
            "mariadb" => (Engine::MySql, format!("mysql{}", &raw["mariadb".len()..])),
            other => {
                return Err(RefreshError::Usage(format!(
                    "{flag}: `{other}://` is not supported by refresh; use postgres:// or mysql:// (mariadb://)"
                )))
            }
        };
        let database = parsed.path().trim_start_matches('/').to_string();
        if database.is_empty() || database.contains('/') {
            return Err(RefreshError::Usage(format!(
                "{flag}: the URL names no database: {}",
                redact_url(&raw)
            )));
        }
        Ok(DbUrl {
            raw,
            engine,
            database,
        })
    }

    /// The URL as given (with its password): only for the database clients, never for output.
    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    /// Opens a connection.
    ///
    /// # Errors
    /// The server cannot be reached or refuses the login.
    pub async fn connect(&self) -> Result<Conn, RefreshError> {
        let err = |e: sqlx::Error| RefreshError::database(&self.to_string(), &e);
        Ok(match self.engine {
            Engine::Postgres => {
                Conn::Postgres(sqlx::PgConnection::connect(&self.raw).await.map_err(err)?)
            }
            Engine::MySql => Conn::MySql(
                sqlx::MySqlConnection::connect(&self.raw)
                    .await
                    .map_err(err)?,
            ),
        })
    }
}

/// An open connection of either engine.
#[derive(Debug)]
pub enum Conn {
    Postgres(sqlx::PgConnection),
    MySql(sqlx::MySqlConnection),
}

impl Conn {
    /// The PostgreSQL session (an error for a MySQL one).
    ///
    /// # Errors
    /// The connection is MySQL's.
    pub fn postgres(&mut self) -> Result<&mut sqlx::PgConnection, RefreshError> {
        match self {
            Conn::Postgres(c) => Ok(c),
            Conn::MySql(_) => Err(RefreshError::Usage(
                "a PostgreSQL operation on a MySQL connection".into(),
            )),
        }
    }

    /// The MySQL session (an error for a PostgreSQL one).
    ///
    /// # Errors
    /// The connection is PostgreSQL's.
    pub fn mysql(&mut self) -> Result<&mut sqlx::MySqlConnection, RefreshError> {
        match self {
            Conn::MySql(c) => Ok(c),
            Conn::Postgres(_) => Err(RefreshError::Usage(
                "a MySQL operation on a PostgreSQL connection".into(),
            )),
        }
    }
}

/// `name` quoted as an identifier of `engine`.
#[must_use]
pub fn quote(engine: Engine, name: &str) -> String {
    match engine {
        Engine::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
        Engine::MySql => format!("`{}`", name.replace('`', "``")),
    }
}
