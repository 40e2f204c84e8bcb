//! Flags + `HOLDFAST_*` variables + `holdfast.toml` → one validated request, before any I/O.

use crate::cli::{AwsArgs, GlobalArgs, MigrateArgs};
use holdfast_aws::AwsOptions;
use holdfast_core::config::{defaults, Config, MigrateSettings};
use holdfast_core::exit::{Classify, Outcome};
use holdfast_sql::runner::RunOptions;
use holdfast_sql::{ConnectOptions, DatabaseUrl, SqlError};
use std::path::PathBuf;

/// A usage or configuration error: exit code 2, nothing was changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Classify for UsageError {
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

/// Everything a migrate command needs, validated.
pub struct MigrateRequest {
    pub url: DatabaseUrl,
    pub dir: PathBuf,
    pub connect: ConnectOptions,
    pub run: RunOptions,
}

/// `--endpoint-url`, `--region`, `--profile` as the AWS set-up's options.
pub fn aws_options(aws: &AwsArgs) -> AwsOptions {
    AwsOptions {
        endpoint_url: aws.endpoint_url.clone(),
        region: aws.region.clone(),
        profile: aws.profile.clone(),
    }
}

/// Loads the configuration named by the global flags.
pub fn load_config(global: &GlobalArgs) -> Result<Config, UsageError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    Config::load(global.config.as_deref(), &cwd).map_err(|e| UsageError(e.to_string()))
}

/// The migrate settings of the file for the selected stage.
pub fn file_settings(global: &GlobalArgs) -> Result<MigrateSettings, UsageError> {
    load_config(global)?
        .migrate_settings(global.stage.as_deref())
        .map_err(|e| UsageError(e.to_string()))
}

/// Merges flags (clap already merged `HOLDFAST_*` variables into them) over the file.
pub fn migrate_request(
    global: &GlobalArgs,
    args: &MigrateArgs,
) -> Result<MigrateRequest, UsageError> {
    let flags = MigrateSettings {
        database: args.database.clone(),
        dir: args.dir.clone(),
        history_table: args.history_table.clone(),
        history_schema: args.history_schema.clone(),
        lock_wait: args.lock_wait,
        statement_timeout: args.statement_timeout,
        lock_timeout: args.lock_timeout,
        allow_out_of_order: args.allow_out_of_order.then_some(true),
    };
    let s = flags.merge(file_settings(global)?);
    let database = s.database.ok_or_else(|| {
        UsageError("no database: pass --database URL, set HOLDFAST_DATABASE_URL, or set migrate.database in holdfast.toml".into())
    })?;
    let dir = s.dir.ok_or_else(|| {
        UsageError("no migrations folder: pass --dir DIR, set HOLDFAST_MIGRATIONS_DIR, or set migrate.dir in holdfast.toml".into())
    })?;
    let url = DatabaseUrl::parse(&database).map_err(|e: SqlError| UsageError(e.to_string()))?;
    let connect = ConnectOptions {
        history_table: s
            .history_table
            .unwrap_or_else(|| defaults::HISTORY_TABLE.to_string()),
        history_schema: s.history_schema,
        aws: aws_options(&args.aws),
        ..ConnectOptions::default()
    };
    let lock_wait = s.lock_wait.unwrap_or(defaults::LOCK_WAIT);
    let connect = ConnectOptions {
        busy_wait: lock_wait,
        ..connect
    };
    let run = RunOptions {
        lock_wait,
        statement_timeout: s.statement_timeout.unwrap_or(defaults::STATEMENT_TIMEOUT),
        lock_timeout: s.lock_timeout.unwrap_or(defaults::LOCK_TIMEOUT),
        allow_out_of_order: s.allow_out_of_order.unwrap_or(false),
        ..RunOptions::default()
    };
    Ok(MigrateRequest {
        url,
        dir,
        connect,
        run,
    })
}
