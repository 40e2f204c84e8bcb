//! SQL statement splitting per dialect.
//!
//! A migration file holds many statements; each must be sent to the server on its own so that
//! progress can be recorded statement by statement and an error can name the statement at fault.
//! Splitting on `;` alone breaks function bodies, quoted text and comments, so each dialect has a
//! small lexer that knows its quoting rules.
//!
//! * `lexer` cuts the text into tokens (strings, quoted identifiers, comments, dollar-quoted
//!   bodies, words, the delimiter) for one dialect.
//! * `splitter` groups the tokens into statements, keeping `;` inside compound blocks
//!   (`BEGIN ATOMIC … END`, MySQL stored-program bodies, SQLite trigger bodies) and handling the
//!   client commands found in migration files (MySQL `DELIMITER`, psql meta-commands, `COPY …
//!   FROM stdin`).

mod lexer;
mod splitter;

/// The SQL dialect of a database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// PostgreSQL (and Aurora PostgreSQL through the Data API).
    Postgres,
    /// MySQL and MariaDB.
    MySql,
    /// SQLite.
    Sqlite,
}

/// One statement of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement's text as written, without its terminating delimiter, trimmed.
    pub sql: String,
    /// The 1-based line of the file where the statement starts.
    pub line: usize,
}

/// Why a file could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A string, quoted identifier, comment or dollar-quoted body opened at `line` never ends.
    #[error("line {line}: unterminated {what}")]
    Unterminated { line: usize, what: &'static str },
    /// A construct the splitter refuses to guess about (e.g. `COPY … FROM stdin`).
    #[error("line {line}: {what} is not supported")]
    Unsupported { line: usize, what: String },
}

impl crate::exit::Classify for SplitError {
    /// A file that cannot be split is bad input, found before anything runs.
    fn outcome(&self) -> crate::exit::Outcome {
        crate::exit::Outcome::Usage
    }
}

/// Splits `sql` into statements for `dialect`.
///
/// Each statement's `sql` is its text as written, from its first token up to (not including)
/// its delimiter, trimmed; comments before the first token are left out, comments inside are
/// kept. Pieces holding only whitespace and comments yield nothing; a last statement without a
/// delimiter still counts. The work is linear in the length of `sql` and never panics.
pub fn split(sql: &str, dialect: Dialect) -> Result<Vec<Statement>, SplitError> {
    splitter::split(sql, dialect)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Classify as _;

    #[test]
    fn a_file_that_cannot_be_split_is_bad_input() {
        let error = split("SELECT 'open", Dialect::Postgres).expect_err("unterminated");
        assert_eq!(error.outcome().code(), 2, "{error}");
    }
}
