//! Shared helpers for the CLI tests: run the built `holdfast` binary against real databases.
#![allow(dead_code)]

pub use holdfast_testkit::{Engine, MigrationDir, TempDatabase};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The built binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_holdfast")
}

/// A `holdfast` command with no `HOLDFAST_*` variables inherited and a working directory that
/// has no `holdfast.toml`.
pub fn holdfast(cwd: &Path) -> Command {
    let mut cmd = Command::new(bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("HOLDFAST_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(cwd).stdin(Stdio::null());
    cmd
}

/// A `holdfast` command that talks to AWS only as the test says: no inherited `AWS_*`
/// variables or shared config files, fixed dummy credentials, a region, no instance metadata.
pub fn holdfast_aws(dir: &Path) -> Command {
    let mut cmd = holdfast(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    let (config, credentials) = (dir.join("aws-config"), dir.join("aws-credentials"));
    std::fs::write(&config, "").expect("write empty AWS config");
    std::fs::write(&credentials, "").expect("write empty AWS credentials");
    cmd.envs(holdfast_testkit::moto::AWS_TEST_ENV)
        .env("AWS_CONFIG_FILE", config)
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials);
    cmd
}

/// The result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Both streams, for assertions about what the user sees.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs `holdfast migrate <sub> --database URL --dir DIR <extra…>`.
pub fn migrate(db: &TempDatabase, dir: &MigrationDir, sub: &str, extra: &[&str]) -> Run {
    let mut cmd = holdfast(dir.path());
    cmd.args(["migrate", sub, "--database", &db.url, "--dir"])
        .arg(dir.path())
        .args(extra);
    Run::from(cmd.output().expect("run holdfast"))
}

/// SQL that creates a table, per engine (the same text works on all three).
pub fn create_table(name: &str) -> String {
    format!("CREATE TABLE {name} (id INTEGER PRIMARY KEY, note VARCHAR(100));\n")
}

/// History rows as `version|kind|state|statements_applied|statements_total`, oldest first.
pub fn history(db: &TempDatabase) -> Vec<String> {
    let concat = match db.engine {
        Engine::MySql => "CONCAT(COALESCE(version, 'R'), '|', kind, '|', state, '|', statements_applied, '|', statements_total)",
        _ => "COALESCE(version, 'R') || '|' || kind || '|' || state || '|' || CAST(statements_applied AS TEXT) || '|' || CAST(statements_total AS TEXT)",
    };
    db.query_text(&format!(
        "SELECT {concat} FROM holdfast_schema_history ORDER BY id"
    ))
}

/// Names of the user tables (not the history table), sorted.
pub fn user_tables(db: &TempDatabase) -> Vec<String> {
    let sql = match db.engine {
        Engine::Postgres => "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'holdfast_schema_history' ORDER BY 1",
        Engine::MySql => "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND table_name <> 'holdfast_schema_history' ORDER BY 1",
        Engine::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'holdfast_schema_history' ORDER BY 1",
    };
    db.query_text(sql)
}
