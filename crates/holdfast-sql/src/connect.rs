//! Database URLs and opening a backend session: sqlx for `postgres://`, `mysql://` and
//! `sqlite://`, the RDS Data API for `data-api://`.

use crate::backend::Backend;
use crate::data_api::{DataApiEngine, DataApiSession, DataApiTarget};
use crate::error::SqlError;
use crate::session::AnySession;
use holdfast_core::redact::redact_url;
use holdfast_core::Dialect;
use std::path::PathBuf;

/// A parsed database URL. Its `Display` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    raw: String,
    dialect: Dialect,
    /// For SQLite: the file.
    sqlite_path: Option<PathBuf>,
    /// For `data-api://`: the cluster, secret and database.
    data_api: Option<DataApiTarget>,
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", redact_url(&self.raw))
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&redact_url(&self.raw))
    }
}

impl DatabaseUrl {
    /// Parses `postgres://…` (also `postgresql://`), `mysql://…` / `mariadb://…`,
    /// `sqlite://PATH` (also `sqlite:PATH`) or
    /// `data-api://CLUSTER_ARN?secret=SECRET_ARN&database=NAME[&engine=postgres|mysql]` (Aurora
    /// through the RDS Data API; see [`crate::data_api`]). The password, if any, is registered
    /// with the global redactor so that it never appears in output.
    pub fn parse(raw: &str) -> Result<DatabaseUrl, SqlError> {
        let scheme = raw.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        if scheme.as_deref() == Some("data-api") {
            let target = DataApiTarget::parse(raw).map_err(|e| SqlError::Usage(e.to_string()))?;
            let dialect = match target.engine {
                DataApiEngine::Postgres => Dialect::Postgres,
                DataApiEngine::MySql => Dialect::MySql,
            };
            return Ok(DatabaseUrl {
                // ARNs are not secrets: the canonical form is shown as it is.
                raw: target.to_string(),
                dialect,
                sqlite_path: None,
                data_api: Some(target),
            });
        }
        let (dialect, raw) = match scheme.as_deref() {
            Some("postgres") | Some("postgresql") => (Dialect::Postgres, raw.to_string()),
            Some("mysql") => (Dialect::MySql, raw.to_string()),
            Some("mariadb") => (Dialect::MySql, format!("mysql{}", &raw["mariadb".len()..])),
            Some("sqlite") => (Dialect::Sqlite, raw.to_string()),
            _ => {
                return Err(SqlError::Usage(format!(
                    "database URL `{}` is not supported: use postgres://, mysql:// (or mariadb://), sqlite://PATH or data-api://CLUSTER_ARN?secret=SECRET_ARN&database=NAME",
                    redact_url(raw)
                )))
            }
        };
        let sqlite_path = (dialect == Dialect::Sqlite).then(|| {
            let rest = raw["sqlite:".len()..].trim_start_matches("//");
            PathBuf::from(rest.split('?').next().unwrap_or(rest))
        });
        if let Some(path) = &sqlite_path {
            if path.as_os_str().is_empty() {
                return Err(SqlError::Usage(
                    "sqlite URL has no file path: use sqlite://PATH".into(),
                ));
            }
        }
        if dialect != Dialect::Sqlite {
            url::Url::parse(&raw).map_err(|e| {
                SqlError::Usage(format!(
                    "database URL `{}` is malformed: {e}",
                    redact_url(&raw)
                ))
            })?;
        }
        Ok(DatabaseUrl {
            raw,
            dialect,
            sqlite_path,
            data_api: None,
        })
    }

    /// The dialect this URL speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with its password masked.
    pub fn redacted(&self) -> String {
        redact_url(&self.raw)
    }

    /// Whether opening this database for writing would create it (a SQLite file that does not
    /// exist yet). Callers check their input first so that bad input creates nothing.
    pub fn would_create(&self) -> bool {
        self.sqlite_path.as_ref().is_some_and(|p| !p.exists())
    }

    /// The Data API target of a `data-api://` URL.
    pub fn data_api(&self) -> Option<&DataApiTarget> {
        self.data_api.as_ref()
    }

    pub(crate) fn raw(&self) -> &str {
        &self.raw
    }

    pub(crate) fn sqlite_path(&self) -> Option<&std::path::Path> {
        self.sqlite_path.as_deref()
    }
}

/// Whether a session may change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `status`, `plan`, `validate`: never creates or changes anything (not even a SQLite file).
    ReadOnly,
    /// `up`, `baseline`, `repair`.
    ReadWrite,
}

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// History table name (an identifier: letters, digits, `_`).
    pub history_table: String,
    /// History table schema (PostgreSQL); `None` = the connection's current schema.
    pub history_schema: Option<String>,
    /// Shown to other sessions (PostgreSQL `application_name`), so a lock holder is identifiable.
    pub application_name: String,
    /// How long a SQLite session waits for another process's write lock before giving up
    /// (a read-only look waits while a migration runs).
    pub busy_wait: std::time::Duration,
    /// Where and as whom to call AWS, for `data-api://` URLs (the region defaults to the
    /// cluster ARN's).
    pub aws: holdfast_aws::AwsOptions,
    /// For `data-api://` URLs: how long the lock row's lease lasts without renewal (renewed
    /// between calls once a third of it has passed; keep it well above the Data API's 45 s per
    /// call).
    pub lock_lease: std::time::Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            history_table: holdfast_core::config::defaults::HISTORY_TABLE.to_string(),
            history_schema: None,
            application_name: format!("holdfast {}", crate::runner::applied_by()),
            busy_wait: holdfast_core::config::defaults::LOCK_WAIT,
            aws: holdfast_aws::AwsOptions::default(),
            lock_lease: crate::data_api::lock::LEASE,
        }
    }
}

/// Opens one dedicated session on `url`.
pub async fn connect(
    url: &DatabaseUrl,
    access: Access,
    options: &ConnectOptions,
) -> Result<Box<dyn Backend>, SqlError> {
    for (what, name) in [
        ("history table", Some(options.history_table.as_str())),
        ("history schema", options.history_schema.as_deref()),
    ] {
        if let Some(name) = name {
            let valid = !name.is_empty()
                && name.len() <= 63
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(SqlError::Usage(format!(
                    "{what} name `{name}` is not a plain identifier (letters, digits and _, at most 63)"
                )));
            }
        }
    }
    if let Some(target) = url.data_api() {
        return Ok(Box::new(
            DataApiSession::open(target, access, options).await?,
        ));
    }
    Ok(Box::new(AnySession::open(url, access, options).await?))
}
