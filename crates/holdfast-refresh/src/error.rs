//! The errors of a refresh, each with its exit-code class.

use holdfast_core::exit::{Classify, Outcome};

/// Why a refresh command could not run.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The `[refresh]` section is not valid: the message names the file, table and column.
    #[error("{0}")]
    Rules(String),
    /// Bad input on the command line (a URL, a flag).
    #[error("{0}")]
    Usage(String),
    /// The database could not be read.
    #[error("{database}: {message}")]
    Database { database: String, message: String },
}

impl RefreshError {
    /// A database error on `database` (a redacted URL), without the server's echo of values.
    pub(crate) fn database(database: &str, error: &sqlx::Error) -> RefreshError {
        RefreshError::Database {
            database: database.to_string(),
            message: holdfast_core::redact::Redactor::global().redact(&error.to_string()),
        }
    }
}

impl Classify for RefreshError {
    fn outcome(&self) -> Outcome {
        match self {
            RefreshError::Rules(_) | RefreshError::Usage(_) => Outcome::Usage,
            RefreshError::Database { .. } => Outcome::Failed,
        }
    }
}
