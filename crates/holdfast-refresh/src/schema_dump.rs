//! The schema of a PostgreSQL database moved with `pg_dump --schema-only` into `psql`: the
//! pre-data section (types, tables, sequences) before the rows, the post-data section (indexes,
//! constraints, foreign keys, triggers) after them, so that indexes are built once over the
//! loaded rows. Both read the source in the copy's exported snapshot.

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
    .arg(format!("--dbname={source}"))
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if let Some(pw) = &source_pw {
        dump.env("PGPASSWORD", pw);
    }
    let mut dump = dump.spawn().map_err(|e| {
        RefreshError::Usage(format!(
            "cannot run pg_dump (PostgreSQL's client tools): {e}"
        ))
    })?;
    let mut restore = Command::new("psql");
    restore
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction"])
        .arg(format!("--dbname={target}"))
        .stdin(dump.stdout.take().map_or(Stdio::null(), Stdio::from))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(pw) = &target_pw {
        restore.env("PGPASSWORD", pw);
    }
    let restored = restore.output().map_err(|e| {
        RefreshError::Usage(format!("cannot run psql (PostgreSQL's client tools): {e}"))
    })?;
    let dumped = dump
        .wait_with_output()
        .map_err(|e| RefreshError::Usage(format!("pg_dump: {e}")))?;
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
    let what = match section {
        Section::PreData => "the schema (pre-data)",
        Section::PostData => "the indexes and constraints (post-data)",
    };
    if !dumped.status.success() {
        return Err(RefreshError::Database {
            database: "pg_dump".into(),
            message: format!("dumping {what}: {}", first_line(&dumped.stderr)),
        });
    }
    if !restored.status.success() {
        return Err(RefreshError::Database {
            database: "psql".into(),
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
