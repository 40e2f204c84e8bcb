//! Errors of the SQL layer, each knowing its exit code.

use holdfast_core::exit::{Classify, Outcome};

/// An error from the SQL layer. Messages never contain a URL password (see `connect`).
#[derive(Debug, thiserror::Error)]
pub enum SqlError {
    /// The database URL or a setting is invalid. Nothing was changed.
    #[error("{0}")]
    Usage(String),
    /// Could not connect.
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    /// The migration lock is held elsewhere and the wait ran out. Nothing was changed.
    #[error("the migration lock on {target} is held by {holder}; waited {waited}; nothing was changed, try again later")]
    Busy {
        target: String,
        holder: String,
        waited: String,
    },
    /// A query of Holdfast's own (history, lock) failed.
    #[error("{context}: {source}")]
    Internal {
        context: String,
        #[source]
        source: DbErrorBox,
    },
}

/// A database error as text, kept as a `std::error::Error` for cause chains.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DbErrorBox(pub crate::backend::DbError);

impl Classify for DbErrorBox {
    /// A database error raised by one of Holdfast's own queries: the operation failed.
    fn outcome(&self) -> Outcome {
        Outcome::Failed
    }
}

impl SqlError {
    /// Wraps a database error raised by one of Holdfast's own queries.
    pub fn internal(context: impl Into<String>, error: crate::backend::DbError) -> SqlError {
        SqlError::Internal {
            context: context.into(),
            source: DbErrorBox(error),
        }
    }
}

impl Classify for SqlError {
    fn outcome(&self) -> Outcome {
        match self {
            SqlError::Usage(_) => Outcome::Usage,
            SqlError::Connect { .. } | SqlError::Internal { .. } => Outcome::Failed,
            SqlError::Busy { .. } => Outcome::Busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::DbError;

    #[test]
    fn each_error_has_its_exit_code() {
        let db = || DbError {
            code: Some("42P01".into()),
            message: "relation does not exist".into(),
        };
        assert_eq!(DbErrorBox(db()).outcome().code(), 1);
        assert_eq!(
            SqlError::internal("reading the history", db())
                .outcome()
                .code(),
            1
        );
        assert_eq!(SqlError::Usage("x".into()).outcome().code(), 2);
    }
}
