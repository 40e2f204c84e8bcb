//! The errors of a refresh, each with its exit-code class and, where there is one, its remedy.

use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::remedy::Remedy;

/// Why a refresh command could not run.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The `[refresh]` section is not valid: the message names the file, table and column.
    #[error("{0}")]
    Rules(String),
    /// Bad input on the command line (a URL, a flag).
    #[error("{0}")]
    Usage(String),
    /// A rewrite refused before it changed anything: the wrong name, the production database,
    /// a run in progress with another key or other rules.
    #[error("{0}")]
    Refused(String),
    /// Other sessions are writing: run again when they are done.
    #[error("{0}")]
    Busy(String),
    /// The database could not be read or written.
    #[error("{database}: {message}")]
    Database { database: String, message: String },
    /// A rewrite stopped part-way by a failure; its checkpoint stands, and running it again
    /// continues from there.
    #[error("{0}")]
    Resumable(String),
}

impl RefreshError {
    /// A database error on `database` (a redacted URL), without the server's echo of values.
    pub(crate) fn database(database: &str, error: &sqlx::Error) -> RefreshError {
        RefreshError::Database {
            database: database.to_string(),
            message: holdfast_core::redact::Redactor::global().redact(&error.to_string()),
        }
    }

    /// The error with `context` after its message.
    #[must_use]
    pub(crate) fn context(self, context: &str) -> RefreshError {
        match self {
            RefreshError::Database { database, message } => RefreshError::Database {
                database,
                message: format!("{message} — {context}"),
            },
            other => other,
        }
    }
}

impl Classify for RefreshError {
    fn outcome(&self) -> Outcome {
        match self {
            RefreshError::Rules(_) | RefreshError::Usage(_) | RefreshError::Refused(_) => {
                Outcome::Usage
            }
            RefreshError::Database { .. } | RefreshError::Resumable(_) => Outcome::Failed,
            RefreshError::Busy(_) => Outcome::Busy,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            RefreshError::Busy(_) | RefreshError::Resumable(_) => Some(Remedy::RunAgain),
            _ => None,
        }
    }
}
