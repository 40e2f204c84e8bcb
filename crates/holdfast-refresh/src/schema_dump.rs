//! The schema of a database moved by its own dump tool into its client: PostgreSQL's
//! `pg_dump --schema-only` into `psql` — the pre-data section (types, tables, sequences) before
//! the rows, the post-data section (indexes, constraints, foreign keys, triggers) after them,
//! so that indexes are built once over the loaded rows, both in the copy's exported snapshot;
//! MySQL's `mysqldump --no-data` into `mysql` — tables, views and routines before the rows,
//! triggers after them.

use crate::RefreshError;
use holdfast_core::redact::Redactor;
use std::process::{Command, Stdio};

/// The sections of `pg_dump`.
#[derive(Debug, Clone, Copy)]
pub enum Section {
    PreData,
    PostData,
}

/// `url` without its password, and the password (for `PGPASSWORD`), so that neither tool
/// shows it in the process list.
fn split_password(url: &str) -> (String, Option<String>) {
    match url::Url::parse(url) {
        Ok(mut u) => {
            let password = u.password().map(|p| {
                percent_encoding::percent_decode_str(p)
                    .decode_utf8_lossy()
                    .into_owned()
            });
            let _ = u.set_password(None);
            (u.to_string(), password)
        }
        Err(_) => (url.to_string(), None),
    }
}

/// Runs `pg_dump --schema-only --section=… --snapshot=…` on `source`, piped into `psql` on
/// `target`, stopping at the first error.
///
/// # Errors
/// Either tool is missing or fails: the message carries its first error line, redacted.
pub fn copy_section(
    source: &str,
    target: &str,
    section: Section,
    snapshot: &str,
) -> Result<(), RefreshError> {
    let (source, source_pw) = split_password(source);
    let (target, target_pw) = split_password(target);
    let section_flag = match section {
        Section::PreData => "--section=pre-data",
        Section::PostData => "--section=post-data",
    };
    let mut dump = Command::new("pg_dump");
    dump.args([
        "--schema-only",
        section_flag,
        "--no-owner",
        "--no-privileges",
        "--exclude-schema=holdfast_refresh",
    ])
    .arg(format!("--snapshot={snapshot}"))
    .arg(format!("--dbname={source}"));
    if let Some(pw) = &source_pw {
        dump.env("PGPASSWORD", pw);
    }
    let mut restore = Command::new("psql");
    restore
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
        .arg(format!("--dbname={target}"));
    if let Some(pw) = &target_pw {
        restore.env("PGPASSWORD", pw);
    }
    let what = match section {
        Section::PreData => "the schema (pre-data)",
        Section::PostData => "the indexes and constraints (post-data)",
    };
    pipe(dump, restore, ("pg_dump", "psql"), what)
}

/// The `mysqldump`/`mysql` arguments that reach the database of `url` (the password goes
/// in `MYSQL_PWD`, out of the process list).
fn mysql_client(program: &str, url: &str, database: &str) -> Command {
    let mut command = Command::new(program);
    command.arg("--protocol=TCP");
    if let Ok(u) = url::Url::parse(url) {
        command.arg(format!("--host={}", u.host_str().unwrap_or("127.0.0.1")));
        command.arg(format!("--port={}", u.port().unwrap_or(3306)));
        if !u.username().is_empty() {
            let user = percent_encoding::percent_decode_str(u.username()).decode_utf8_lossy();
            command.arg(format!("--user={user}"));
        }
        if let Some(pw) = u.password() {
            command.env(
                "MYSQL_PWD",
                percent_encoding::percent_decode_str(pw)
                    .decode_utf8_lossy()
                    .into_owned(),
            );
        }
    }
    command.arg(database);
    command
}

/// Runs `mysqldump --no-data` on `source` for one section, piped into `mysql` on `target`:
/// pre-data the tables (with their keys and foreign keys), views and routines; post-data the
/// triggers, created once the rows are in so that none fires for them. `ignore` are tables left
/// out (the refresh's own).
///
/// # Errors
/// Either tool is missing or fails: the message carries its first error line, redacted.
pub fn mysql_section(
    source: (&str, &str),
    target: (&str, &str),
    section: Section,
    ignore: &[String],
) -> Result<(), RefreshError> {
    let mut dump = mysql_client("mysqldump", source.0, source.1);
    dump.args([
        "--no-data",
        "--skip-comments",
        "--skip-add-drop-table",
        "--single-transaction",
    ]);
    match section {
        Section::PreData => dump.args(["--skip-triggers", "--routines", "--skip-events"]),
        Section::PostData => dump.args([
            "--no-create-info",
            "--triggers",
            "--skip-routines",
            "--skip-events",
        ]),
    };
    for table in ignore {
        dump.arg(format!("--ignore-table={}.{table}", source.1));
    }
    let restore = mysql_client("mysql", target.0, target.1);
    let what = match section {
        Section::PreData => "the schema (tables, views, routines)",
        Section::PostData => "the triggers",
    };
    pipe(dump, restore, ("mysqldump", "mysql"), what)
}

/// `dump` piped into `restore`, both checked.
fn pipe(
    mut dump: Command,
    mut restore: Command,
    names: (&str, &str),
    what: &str,
) -> Result<(), RefreshError> {
    dump.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut dump = dump.spawn().map_err(|e| {
        RefreshError::Usage(format!(
            "cannot run {} (the database's client tools): {e}",
            names.0
        ))
    })?;
    restore
        .stdin(dump.stdout.take().map_or(Stdio::null(), Stdio::from))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let restored = restore.output().map_err(|e| {
        RefreshError::Usage(format!(
            "cannot run {} (the database's client tools): {e}",
            names.1
        ))
    })?;
    let dumped = dump
        .wait_with_output()
        .map_err(|e| RefreshError::Usage(format!("{}: {e}", names.0)))?;
    let first_line = |bytes: &[u8]| {
        let text = String::from_utf8_lossy(bytes);
        let line = text
            .lines()
            .find(|l| l.contains("ERROR") || l.contains("error"))
            .or_else(|| text.lines().next())
            .unwrap_or("")
            .to_string();
        Redactor::global().redact(&line)
    };
    if !dumped.status.success() {
        return Err(RefreshError::Database {
            database: names.0.into(),
            message: format!("dumping {what}: {}", first_line(&dumped.stderr)),
        });
    }
    if !restored.status.success() {
        return Err(RefreshError::Database {
            database: names.1.into(),
            message: format!("restoring {what}: {}", first_line(&restored.stderr)),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, pw) = split_password("postgres://u:p%40ss@h:5432/db");
        assert_eq!(url, "postgres://u@h:5432/db");
        assert_eq!(pw.as_deref(), Some("p@ss"));
        assert_eq!(split_password("postgres://h/db").1, None);
    }
}
