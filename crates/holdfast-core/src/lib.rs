//! Holdfast's pure model.
//!
//! Everything here is deterministic and free of network or database I/O: migration files and
//! their checksums, statement splitting, the plan for a migration run (a pure function of the
//! source migrations, the applied history and the options), error classes, configuration and redaction of
//! secrets. The reports it fills in (and the exit-code table and remedies they carry) are the
//! output contract of `holdfast-report`. The drivers in `holdfast-sql` and
//! the front ends (`holdfast-cli`, the Lambda) build on these types.
//!
//! This crate must never depend on `tokio`, `sqlx` or any `aws-*` crate.

#![forbid(unsafe_code)]

pub mod config;
pub mod exit;
pub mod history;
pub mod migration;
pub mod plan;
pub mod redact;
pub mod resume;
pub mod split;
pub mod stopping;
pub mod txn;

pub use holdfast_report::remedy;
pub use resume::Resume;
pub use split::Dialect;
