//! Holdfast's SQL backends and migration runner.
//!
//! One [`Backend`] trait covers what the runner needs of a database: a migration lock held on
//! one dedicated connection, the history table, transactions and statement execution. The
//! PostgreSQL, MySQL/MariaDB and SQLite backends share one implementation over sqlx's `Any`
//! driver and differ only in their [`dialect`] SQL and lock functions; a backend without
//! sessions (the Aurora Data API, [`data_api`]) implements the same trait with a lock row and
//! a lease.
//!
//! The [`runner`] turns a validated request into plans (from `holdfast-core`) and runs them.

#![forbid(unsafe_code)]

pub mod backend;
pub mod connect;
pub mod data_api;
pub mod dialect;
pub mod error;
mod lock_wait;
pub mod request;
pub mod runner;
mod session;

pub use backend::{Backend, DbError};
pub use connect::{connect, Access, ConnectOptions, DatabaseUrl};
pub use error::SqlError;
pub use request::{MigrateRequest, RequestError, RequiredSetting, RunChoices};
