//! The SQL Holdfast itself sends, per dialect: history table DDL and queries, quoting and
//! placeholders. Migration statements are the user's and are sent as written.

use holdfast_core::Dialect;

/// Quotes an identifier for `dialect`. Names are validated as plain identifiers beforehand.
pub fn quote(dialect: Dialect, ident: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{ident}`"),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{ident}\""),
    }
}

/// Rewrites `?` placeholders as `$1, $2, …` for PostgreSQL. Only for Holdfast's own SQL, which
/// has no `?` inside literals.
pub fn placeholders(dialect: Dialect, sql: &str) -> String {
    if dialect != Dialect::Postgres {
        return sql.to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Rewrites positional placeholders (`?`, or PostgreSQL's `$1`) as the Data API's named ones
/// (`:p1, :p2, …`, numbered in order). Only for Holdfast's own SQL, which has neither inside
/// literals.
pub fn named_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        let numbered = c == '$' && chars.peek().is_some_and(char::is_ascii_digit);
        if c == '?' || numbered {
            while numbered && chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            n += 1;
            out.push_str(&format!(":p{n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// `CREATE TABLE IF NOT EXISTS` for the history table `table` (already qualified and quoted).
pub fn create_history(dialect: Dialect, table: &str) -> String {
    match dialect {
        Dialect::Postgres => format!(
            "CREATE TABLE IF NOT EXISTS {table} (
    id BIGSERIAL PRIMARY KEY,
    version TEXT UNIQUE,
    description TEXT NOT NULL,
    kind TEXT NOT NULL,
    script TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_by TEXT NOT NULL,
    execution_ms BIGINT NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    statements_applied BIGINT NOT NULL DEFAULT 0,
    statements_total BIGINT NOT NULL DEFAULT 0,
    prefix_checksum TEXT,
    error TEXT
)"
        ),
        Dialect::MySql => format!(
            "CREATE TABLE IF NOT EXISTS {table} (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    version VARCHAR(191) NULL UNIQUE,
    description VARCHAR(1000) NOT NULL,
    kind VARCHAR(20) NOT NULL,
    script VARCHAR(1000) NOT NULL,
    checksum VARCHAR(64) NOT NULL,
    applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    applied_by VARCHAR(255) NOT NULL,
    execution_ms BIGINT NOT NULL DEFAULT 0,
    state VARCHAR(20) NOT NULL,
    statements_applied BIGINT NOT NULL DEFAULT 0,
    statements_total BIGINT NOT NULL DEFAULT 0,
    prefix_checksum VARCHAR(64) NULL,
    error VARCHAR(2000) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        ),
        Dialect::Sqlite => format!(
            "CREATE TABLE IF NOT EXISTS {table} (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT UNIQUE,
    description TEXT NOT NULL,
    kind TEXT NOT NULL,
    script TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    applied_by TEXT NOT NULL,
    execution_ms INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    statements_applied INTEGER NOT NULL DEFAULT 0,
    statements_total INTEGER NOT NULL DEFAULT 0,
    prefix_checksum TEXT,
    error TEXT
)"
        ),
    }
}

/// Reads every history row, oldest first, `applied_at` as Unix seconds (formatting dates on
/// the server costs more than the rest of the query).
pub fn select_history(dialect: Dialect, table: &str) -> String {
    let applied_at = match dialect {
        Dialect::Postgres => "CAST(EXTRACT(EPOCH FROM applied_at) AS BIGINT)",
        // The session time zone is UTC, so the DATETIME reads as UTC.
        Dialect::MySql => "CAST(UNIX_TIMESTAMP(applied_at) AS SIGNED)",
        Dialect::Sqlite => "CAST(strftime('%s', applied_at) AS INTEGER)",
    };
    format!(
        "SELECT id, version, description, kind, script, checksum, {applied_at} AS applied_at, \
         applied_by, execution_ms, state, statements_applied, statements_total, prefix_checksum, \
         error FROM {table} ORDER BY id"
    )
}

/// The history digest (see `holdfast_core::plan::history_digest`), computed on the server.
/// PostgreSQL 11+ only.
pub fn history_digest(table: &str) -> String {
    format!(
        "SELECT encode(sha256(convert_to(COALESCE(string_agg(\
         COALESCE(version, description) || '|' || kind || '|' || checksum || '|' || state, \
         E'\\n' ORDER BY id), ''), 'UTF8')), 'hex') FROM {table}"
    )
}

/// Inserts a row; on PostgreSQL and SQLite it returns the id.
pub fn insert_row(dialect: Dialect, table: &str) -> String {
    let returning = match dialect {
        Dialect::MySql => "",
        Dialect::Postgres | Dialect::Sqlite => " RETURNING id",
    };
    placeholders(
        dialect,
        &format!(
            "INSERT INTO {table} (version, description, kind, script, checksum, applied_by, execution_ms, \
             state, statements_applied, statements_total, prefix_checksum, error) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?){returning}"
        ),
    )
}

/// Records a row's progress or end.
pub fn update_row(dialect: Dialect, table: &str) -> String {
    placeholders(
        dialect,
        &format!(
            "UPDATE {table} SET state = ?, statements_applied = ?, prefix_checksum = ?, \
             execution_ms = ?, checksum = ?, error = ? WHERE id = ?"
        ),
    )
}

/// Deletes a row.
pub fn delete_row(dialect: Dialect, table: &str) -> String {
    placeholders(dialect, &format!("DELETE FROM {table} WHERE id = ?"))
}

/// Sets a row's checksum.
pub fn set_checksum(dialect: Dialect, table: &str) -> String {
    placeholders(
        dialect,
        &format!("UPDATE {table} SET checksum = ? WHERE id = ?"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_for_postgres_only() {
        assert_eq!(
            placeholders(Dialect::Postgres, "a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(placeholders(Dialect::MySql, "a = ?"), "a = ?");
    }

    #[test]
    fn names_placeholders_for_the_data_api() {
        assert_eq!(
            named_placeholders("a = $1 AND b = $2 AND c = $10"),
            "a = :p1 AND b = :p2 AND c = :p3"
        );
        assert_eq!(named_placeholders("a = ? AND b = ?"), "a = :p1 AND b = :p2");
        assert_eq!(named_placeholders("x = '$'"), "x = '$'");
    }
}
