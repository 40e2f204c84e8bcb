//! Holdfast's output contract: every report the CLI prints with `--json` and the Lambda function
//! returns, with the envelope they all share, the exit-code table and the remedies they carry.
//!
//! This crate is the whole contract and nothing else (it depends only on `serde` and
//! `schemars`), so a program that reads Holdfast's output can depend on it alone. Every
//! top-level report flattens an [`Envelope`] — `format_version`, `command`, `outcome`,
//! `exit_code` — and is listed in [`schemas`], from which the JSON Schemas in the repository's
//! `schemas/` folder are generated (a test fails when a committed schema and its type differ).
//!
//! Compatibility: within one [`FORMAT_VERSION`] fields are only added; removing or renaming a
//! field, or changing a value's meaning, raises it.

#![forbid(unsafe_code)]

mod any;
pub mod dynamo;
pub mod env;
pub mod envelope;
pub mod guard;
pub mod migrate;
pub mod outcome;
pub mod refresh;
pub mod remedy;
pub mod sarif;
mod schema;

pub use any::AnyReport;
pub use envelope::{Command, Envelope, ErrorReport, Report, FORMAT_VERSION};
pub use outcome::Outcome;
pub use schema::{schemas, ReportSchema};
