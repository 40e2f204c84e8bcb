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
    /// A database error on `database` (a redacted URL), without the server's echo of values:
    /// the server's message with its quoted values left out, and its SQLSTATE.
    pub(crate) fn database(database: &str, error: &sqlx::Error) -> RefreshError {
        let message = match error {
            sqlx::Error::Database(e) => {
                let text = without_values(e.message());
                match e.code() {
                    Some(code) => format!("{text} (SQLSTATE {code})"),
                    None => text,
                }
            }
            other => other.to_string(),
        };
        RefreshError::Database {
            database: database.to_string(),
            message: holdfast_core::redact::Redactor::global().redact(&message),
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

/// The words after which a quoted name is an identifier, kept in a server message; any other
/// quoted part may be a row's value (`invalid input syntax for type integer: "…"`,
/// `Duplicate entry '…' for key 'email'`) and is left out.
const NAMED_BY: &[&str] = &[
    "column",
    "constraint",
    "database",
    "domain",
    "function",
    "index",
    "key",
    "relation",
    "role",
    "schema",
    "table",
    "trigger",
    "type",
    "user",
];

/// `message` with every quoted part that does not follow one of [`NAMED_BY`] replaced by `…`.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(['"', '\'']) {
        let quote = rest.as_bytes()[open] as char;
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let word = out
            .trim_end()
            .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let named = NAMED_BY.contains(&word.as_str());
        let body = &after[1..];
        let close = if named {
            body.find(quote)
        } else {
            value_end(body, quote)
        };
        let Some(close) = close else {
            out.push_str(after);
            return out;
        };
        if named {
            out.push_str(&after[..close + 2]);
        } else {
            out.push(quote);
            out.push('…');
            out.push(quote);
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    out
}

/// Where a quoted value that began just before `body` ends. A value may hold the quote itself
/// (`'O'Brien'`): it ends at a quote followed by the message's next clause (` for …`,
/// ` at …`, a comma) or by nothing, else at the last quote.
fn value_end(body: &str, quote: char) -> Option<usize> {
    body.match_indices(quote)
        .map(|(i, _)| i)
        .find(|&i| {
            let next = &body[i + 1..];
            next.is_empty()
                || next.starts_with(" for ")
                || next.starts_with(" at ")
                || next.starts_with(',')
        })
        .or_else(|| body.rfind(quote))
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

#[cfg(test)]
mod tests {
    use super::without_values;

    #[test]
    fn quoted_values_are_left_out_and_quoted_names_kept() {
        assert_eq!(
            without_values(r#"invalid input syntax for type integer: "ann@corp.example""#),
            r#"invalid input syntax for type integer: "…""#
        );
        assert_eq!(
            without_values("Duplicate entry 'ann@corp.example' for key 'users.email'"),
            "Duplicate entry '…' for key 'users.email'"
        );
        assert_eq!(
            without_values(r#"duplicate key value violates unique constraint "users_email_key""#),
            r#"duplicate key value violates unique constraint "users_email_key""#
        );
        assert_eq!(
            without_values(
                r#"null value in column "email" of relation "users" violates not-null constraint"#
            ),
            r#"null value in column "email" of relation "users" violates not-null constraint"#
        );
        assert_eq!(
            without_values("Incorrect integer value: 'x1' for column `n` at row 1"),
            "Incorrect integer value: '…' for column `n` at row 1"
        );
        assert_eq!(without_values("unbalanced 'quote"), "unbalanced 'quote");
        assert_eq!(
            without_values("Duplicate entry 'O'Brien-7' for key 'u'"),
            "Duplicate entry '…' for key 'u'"
        );
        assert_eq!(
            without_values(r#"invalid input syntax for type integer: "say "hi" now""#),
            r#"invalid input syntax for type integer: "…""#
        );
    }
}
