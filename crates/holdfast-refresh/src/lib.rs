//! Holdfast's staging refresh: production data made safe for staging.
//!
//! Every column of every table is classified before anything is touched: a rule from the
//! `[refresh]` section of `holdfast.toml` ([`config`]), an explicit `keep` with a reason, or —
//! for numbers, dates and booleans — kept by default. A text, JSON, binary, address or array
//! column without a rule is *unclassified*, and the run stops there ([`plan`]), listing each
//! such column with a suggestion drawn from its name and from patterns in a sample of its values
//! ([`detect`]; the sample is never printed).
//!
//! The rules' transforms ([`transform`]) are deterministic: the fake is a function of the
//! secret key, the rule and the original value, so the same real email becomes the same fake
//! email in every table, column and run, and joins on sanitized values still join.
//!
//! The database side reads the catalog of PostgreSQL or MySQL/MariaDB ([`catalog`]) through
//! [`db`].

#![forbid(unsafe_code)]

pub mod catalog;
pub mod config;
pub mod copy;
pub mod copy_target;
pub mod copy_text;
pub mod db;
pub mod detect;
mod error;
pub mod key;
pub mod leak;
pub mod plan;
pub mod refusal;
pub mod rewrite;
pub mod sanitize;
mod schema_dump;
pub mod state;
pub mod tables;
pub mod transform;
pub(crate) mod unique;
pub mod verify;

pub use error::RefreshError;
