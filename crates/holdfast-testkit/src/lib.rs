//! Test support for Holdfast: the real services the tests talk to, temporary databases on them,
//! and temporary migration folders.
//!
//! Service URLs default to the local servers the project's test script starts and can be
//! overridden: `HOLDFAST_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and `HOLDFAST_TEST_MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`). A test that needs
//! a service fails loudly when it is not reachable: no test silently skips.
//!
//! AWS APIs other than DynamoDB come from moto: [`Moto::start`] runs a `moto_server` of the
//! test's own on a free port (see [`moto`] for where the executable is found).
//!
//! Lambda functions run as child processes against [`LambdaRuntime`], a local Lambda Runtime API;
//! their custom resource responses go to a [`ResponseReceiver`] (see [`lambda`]).
//!
//! DynamoDB comes from DynamoDB Local: [`DynamoDbLocal::start`] runs a fresh in-memory server on
//! a free port (see [`dynamodb`]); [`FaultProxy`] sits in front of it and injects the failures
//! DynamoDB Local never produces (partial batches, throttling, 5xx, dropped connections) on a
//! seeded schedule (see [`fault_proxy`]).
//!
//! The RDS Data API comes from [`DataApiEndpoint::start`]: a local endpoint of the Data API's
//! REST-JSON protocol that runs the statements on the test PostgreSQL (see [`data_api`] for
//! what it does not emulate).
//!
//! The AWS Parameters and Secrets Lambda Extension comes from [`SecretsExtension::start`]: a
//! stand-in speaking its HTTP protocol (see [`secrets_extension`]).
//!
//! Tools other than services (Node.js with a CDK app's `node_modules`, cfn-lint, zig) are
//! installed by the test script up front; a test checks for its own with [`tools`], which fails
//! naming what is missing and never installs.

#![forbid(unsafe_code)]

pub mod data_api;
pub mod deployed;
pub mod dynamodb;
pub mod fault_proxy;
mod http1;
pub mod lambda;
pub mod moto;
pub mod secrets_extension;
mod server;
pub mod tools;

pub use data_api::DataApiEndpoint;
pub use dynamodb::DynamoDbLocal;
pub use fault_proxy::{Fault, FaultPlan, FaultProxy, FaultStats, Faults};
pub use lambda::{LambdaRuntime, ResponseReceiver};
pub use moto::Moto;
pub use secrets_extension::SecretsExtension;
use sqlx::{AnyConnection, Connection, Executor, Row};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The database engines the migration tests run against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    MySql,
    Sqlite,
}

impl Engine {
    /// All three, for table-driven tests.
    pub const ALL: [Engine; 3] = [Engine::Postgres, Engine::MySql, Engine::Sqlite];

    /// A short name for messages and database names.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "postgres",
            Engine::MySql => "mysql",
            Engine::Sqlite => "sqlite",
        }
    }
}

/// The server URL of the test PostgreSQL.
pub fn postgres_url() -> String {
    std::env::var("HOLDFAST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The server URL of the test MySQL/MariaDB.
pub fn mysql_url() -> String {
    std::env::var("HOLDFAST_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn unique_name(engine: Engine) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("hf_{}_{}_{n}_{nanos}", engine.name(), std::process::id())
}

/// Replaces the database (path) of a server URL.
pub(crate) fn with_database(server: &str, db: &str) -> String {
    let (base, query) = match server.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (server, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    format!("{}/{db}{query}", &base[..host_end])
}

/// A fresh, empty database that is dropped when this value is dropped.
pub struct TempDatabase {
    pub engine: Engine,
    /// The URL to give holdfast.
    pub url: String,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TempDatabase {
    /// Creates an empty database on `engine`. Panics with a clear message when the server is
    /// unreachable.
    pub fn new(engine: Engine) -> TempDatabase {
        let name = unique_name(engine);
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                TempDatabase {
                    engine,
                    url,
                    name,
                    _dir: Some(dir),
                }
            }
            Engine::Postgres | Engine::MySql => {
                let server = if engine == Engine::Postgres {
                    postgres_url()
                } else {
                    mysql_url()
                };
                let create = format!("CREATE DATABASE {name}");
                runtime().block_on(async {
                    sqlx::any::install_default_drivers();
                    let mut conn = AnyConnection::connect(&server).await.unwrap_or_else(|e| {
                        panic!("the test {} server at {server} is not reachable ({e}); start it with scripts/test", engine.name())
                    });
                    conn.execute(create.as_str()).await.expect("create database");
                });
                TempDatabase {
                    engine,
                    url: with_database(&server, &name),
                    name,
                    _dir: None,
                }
            }
        }
    }

    /// The database's name on its server (for SQLite: a unique name, not the file).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The SQLite file, for SQLite databases.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        self.url.strip_prefix("sqlite://").map(PathBuf::from)
    }

    /// Runs SQL (one or more statements) on this database.
    pub fn execute(&self, sql: &str) {
        let url = self.client_url();
        let sql = sql.to_string();
        runtime().block_on(async move {
            sqlx::any::install_default_drivers();
            let mut conn = AnyConnection::connect(&url).await.expect("connect");
            conn.execute(sql.as_str()).await.expect("execute");
        });
    }

    /// The first column of every row of `sql`, as i64 (cast in the query as needed).
    pub fn query_i64(&self, sql: &str) -> Vec<i64> {
        self.query(sql, |r| r.try_get::<i64, _>(0).expect("i64 column"))
    }

    /// The first column of every row of `sql`, as text (cast in the query as needed; NULL → "NULL").
    pub fn query_text(&self, sql: &str) -> Vec<String> {
        self.query(sql, |r| {
            r.try_get::<Option<String>, _>(0)
                .expect("text column")
                .unwrap_or_else(|| "NULL".into())
        })
    }

    fn query<T: Send + 'static>(&self, sql: &str, f: fn(&sqlx::any::AnyRow) -> T) -> Vec<T> {
        let url = self.client_url();
        let sql = sql.to_string();
        runtime().block_on(async move {
            sqlx::any::install_default_drivers();
            let mut conn = AnyConnection::connect(&url).await.expect("connect");
            let rows = sqlx::query(&(sql))
                .fetch_all(&mut conn)
                .await
                .expect("query");
            rows.iter().map(f).collect()
        })
    }

    /// Whether a table exists.
    pub fn table_exists(&self, table: &str) -> bool {
        let sql = match self.engine {
            Engine::Postgres => format!("SELECT COUNT(*)::bigint FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{table}'"),
            Engine::MySql => format!("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{table}'"),
            Engine::Sqlite => format!("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"),
        };
        self.query_i64(&sql)[0] > 0
    }

    fn client_url(&self) -> String {
        match self.engine {
            Engine::Sqlite => format!("{}?mode=rwc", self.url),
            _ => self.url.clone(),
        }
    }
}

impl Drop for TempDatabase {
    fn drop(&mut self) {
        let (server, drop_sql) = match self.engine {
            Engine::Sqlite => return,
            Engine::Postgres => (
                postgres_url(),
                format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ),
            Engine::MySql => (
                mysql_url(),
                format!("DROP DATABASE IF EXISTS {}", self.name),
            ),
        };
        runtime().block_on(async move {
            if let Ok(mut conn) = AnyConnection::connect(&server).await {
                let _ = conn.execute(drop_sql.as_str()).await;
            }
        });
    }
}

/// A temporary folder of migration files.
pub struct MigrationDir {
    dir: tempfile::TempDir,
}

impl Default for MigrationDir {
    fn default() -> Self {
        Self::new()
    }
}

impl MigrationDir {
    /// An empty folder.
    pub fn new() -> MigrationDir {
        MigrationDir {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// Writes (or overwrites) a file.
    pub fn write(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.dir.path().join(name), text).expect("write migration");
        self
    }

    /// Removes a file.
    pub fn remove(&self, name: &str) -> &Self {
        std::fs::remove_file(self.dir.path().join(name)).expect("remove migration");
        self
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_of_a_url() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("mysql://root@h/test?ssl-mode=disabled", "x"),
            "mysql://root@h/x?ssl-mode=disabled"
        );
        assert_eq!(with_database("mysql://root@h", "x"), "mysql://root@h/x");
    }
}
