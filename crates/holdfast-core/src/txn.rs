//! Which statements a transaction cannot hold, per dialect.
//!
//! A migration runs inside one transaction unless it says `-- holdfast:no-transaction`. A
//! statement that cannot run there (PostgreSQL's `CREATE INDEX CONCURRENTLY`, `VACUUM`, explicit
//! `BEGIN`/`COMMIT`, …) would fail half-way or, worse, commit early; the plan refuses such a file
//! before anything runs.

use crate::split::Dialect;

/// Why `statement` cannot run inside a transaction on `dialect`, if it cannot.
/// `server_version` is PostgreSQL's `server_version_num` (e.g. 150004) when known.
pub fn transaction_blocker(
    statement: &str,
    dialect: Dialect,
    server_version: Option<u32>,
) -> Option<&'static str> {
    let words = leading_words(statement, 8);
    let w: Vec<&str> = words.iter().map(String::as_str).collect();
    let starts = |prefix: &[&str]| w.len() >= prefix.len() && w[..prefix.len()] == *prefix;
    let control = match w.first().copied() {
        Some("BEGIN") | Some("COMMIT") | Some("END") | Some("ABORT") => true,
        Some("START") => w.get(1) == Some(&"TRANSACTION"),
        Some("ROLLBACK") => !w.contains(&"TO"),
        _ => false,
    };
    if control {
        return Some("explicit transaction control (BEGIN/COMMIT/ROLLBACK)");
    }
    match dialect {
        Dialect::Postgres => {
            if starts(&["CREATE", "INDEX", "CONCURRENTLY"])
                || starts(&["CREATE", "UNIQUE", "INDEX", "CONCURRENTLY"])
                || starts(&["DROP", "INDEX", "CONCURRENTLY"])
                || (starts(&["REINDEX"]) && w.contains(&"CONCURRENTLY"))
            {
                return Some("CONCURRENTLY cannot run inside a transaction");
            }
            if starts(&["VACUUM"]) {
                return Some("VACUUM cannot run inside a transaction");
            }
            if starts(&["CREATE", "DATABASE"]) || starts(&["DROP", "DATABASE"]) {
                return Some("CREATE/DROP DATABASE cannot run inside a transaction");
            }
            if starts(&["CREATE", "TABLESPACE"]) || starts(&["DROP", "TABLESPACE"]) {
                return Some("CREATE/DROP TABLESPACE cannot run inside a transaction");
            }
            if starts(&["ALTER", "SYSTEM"]) {
                return Some("ALTER SYSTEM cannot run inside a transaction");
            }
            if starts(&["CREATE", "SUBSCRIPTION"]) || starts(&["DROP", "SUBSCRIPTION"]) {
                return Some("CREATE/DROP SUBSCRIPTION cannot run inside a transaction");
            }
            let adds_enum_value =
                starts(&["ALTER", "TYPE"]) && w.windows(2).any(|p| p == ["ADD", "VALUE"]);
            if adds_enum_value && server_version.is_some_and(|v| v < 120000) {
                return Some(
                    "ALTER TYPE … ADD VALUE cannot run inside a transaction before PostgreSQL 12",
                );
            }
            None
        }
        Dialect::Sqlite => {
            if starts(&["VACUUM"]) {
                return Some("VACUUM cannot run inside a transaction");
            }
            if starts(&["ATTACH"]) || starts(&["DETACH"]) {
                return Some("ATTACH/DETACH cannot run inside a transaction");
            }
            if starts(&["PRAGMA", "FOREIGN_KEYS"]) {
                return Some("PRAGMA foreign_keys has no effect inside a transaction");
            }
            if starts(&["PRAGMA", "JOURNAL_MODE"]) {
                return Some("PRAGMA journal_mode cannot change inside a transaction");
            }
            None
        }
        // MySQL/MariaDB migrations always run statement by statement (DDL commits implicitly).
        Dialect::MySql => None,
    }
}

/// Whether `statement` changes session state that would leak into the migrations after it
/// (PostgreSQL `SET`/`RESET` such as `SET search_path`, MySQL `USE`, `SET` and `LOCK TABLES`,
/// which holds table locks until the session ends or unlocks them). The runner
/// restores the session after a migration that has one, so migrations applied in one run behave
/// as they would in separate runs.
pub fn changes_session(statement: &str, dialect: Dialect) -> bool {
    let words = leading_words(statement, 2);
    match (dialect, words.first().map(String::as_str)) {
        (Dialect::Postgres, Some("SET")) => words.get(1).map(String::as_str) != Some("LOCAL"),
        (Dialect::Postgres, Some("RESET")) => true,
        (Dialect::MySql, Some("USE" | "SET")) => true,
        (Dialect::MySql, Some("LOCK")) => true,
        _ => false,
    }
}

/// The first `max` words of a statement, upper-cased, skipping comments; stops at the first
/// character that is neither a word character, whitespace nor a comment.
fn leading_words(sql: &str, max: usize) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut current = String::new();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let boundary = match (c, next) {
            ('-', Some('-')) => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
                true
            }
            ('/', Some('*')) => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                true
            }
            (c, _) if c.is_alphanumeric() || c == '_' || c == '.' => {
                current.extend(c.to_uppercase());
                false
            }
            (c, _) if c.is_whitespace() || c == ';' => true,
            _ => {
                // `=` in `PRAGMA foreign_keys=off`, `(` in `REINDEX (VERBOSE)`: a word ends.
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
                if matches!(c, '(' | ')' | '=' | ',') {
                    continue;
                }
                break;
            }
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        if words.len() >= max {
            break;
        }
    }
    if !current.is_empty() && words.len() < max {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_statements_that_change_the_session() {
        use Dialect::*;
        let table = [
            ("SET search_path TO other", Postgres, true),
            ("set local lock_timeout = '1s'", Postgres, false),
            ("RESET search_path", Postgres, true),
            ("SELECT 1", Postgres, false),
            ("USE other", MySql, true),
            ("SET NAMES utf8mb4", MySql, true),
            ("LOCK TABLES t WRITE", MySql, true),
            ("UNLOCK TABLES", MySql, false),
            ("PRAGMA foreign_keys = ON", Sqlite, false),
        ];
        for (sql, dialect, changes) in table {
            assert_eq!(changes_session(sql, dialect), changes, "{sql}");
        }
    }

    #[test]
    fn finds_statements_a_transaction_cannot_hold() {
        use Dialect::*;
        let table: &[(&str, Dialect, Option<u32>, bool)] = &[
            ("CREATE INDEX CONCURRENTLY i ON t (c)", Postgres, None, true),
            (
                "create unique index concurrently i on t (c)",
                Postgres,
                None,
                true,
            ),
            (
                "CREATE /* why */ INDEX\n  CONCURRENTLY i ON t (c)",
                Postgres,
                None,
                true,
            ),
            ("DROP INDEX CONCURRENTLY i", Postgres, None, true),
            (
                "REINDEX (VERBOSE) INDEX CONCURRENTLY i",
                Postgres,
                None,
                true,
            ),
            ("VACUUM ANALYZE t", Postgres, None, true),
            ("BEGIN", Postgres, None, true),
            ("COMMIT", Postgres, None, true),
            ("START TRANSACTION", Postgres, None, true),
            ("ROLLBACK", Postgres, None, true),
            ("ROLLBACK TO SAVEPOINT a", Postgres, None, false),
            (
                "ALTER TYPE mood ADD VALUE 'meh'",
                Postgres,
                Some(110000),
                true,
            ),
            (
                "ALTER TYPE mood ADD VALUE 'meh'",
                Postgres,
                Some(150000),
                false,
            ),
            ("CREATE INDEX i ON t (c)", Postgres, None, false),
            ("CREATE TABLE concurrently (id int)", Postgres, None, false),
            ("DO $$ BEGIN PERFORM 1; END $$", Postgres, None, false),
            ("CREATE DATABASE x", Postgres, None, true),
            ("VACUUM", Sqlite, None, true),
            ("PRAGMA foreign_keys=OFF", Sqlite, None, true),
            ("PRAGMA user_version = 3", Sqlite, None, false),
            ("ATTACH DATABASE 'x.db' AS x", Sqlite, None, true),
            (
                "CREATE TRIGGER t AFTER INSERT ON a BEGIN SELECT 1; END",
                Sqlite,
                None,
                false,
            ),
            ("CREATE INDEX CONCURRENTLY i ON t (c)", MySql, None, false),
            ("BEGIN", MySql, None, true),
        ];
        for (sql, dialect, version, blocked) in table {
            assert_eq!(
                transaction_blocker(sql, *dialect, *version).is_some(),
                *blocked,
                "{sql} on {dialect:?}"
            );
        }
    }
}
