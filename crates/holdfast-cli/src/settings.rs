//! Flags + `HOLDFAST_*` variables + `holdfast.toml` → one validated request, before any I/O.

use crate::cli::{AwsArgs, GlobalArgs, MigrateArgs};
use holdfast_aws::AwsOptions;
use holdfast_core::config::{Config, MigrateSettings};
use holdfast_core::exit::{Classify, Outcome};
use holdfast_sql::{MigrateRequest, RequestError, RequiredSetting, RunChoices};

/// A usage or configuration error: exit code 2, nothing was changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Classify for UsageError {
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

/// `--endpoint-url`, `--region`, `--profile` as the AWS set-up's options.
pub fn aws_options(aws: &AwsArgs) -> AwsOptions {
    AwsOptions {
        endpoint_url: aws.endpoint_url.clone(),
        region: aws.region.clone(),
        profile: aws.profile.clone(),
    }
}

/// Loads the configuration named by the global flags. The file is checked whole, whichever
/// command reads it: the model's sections, and the guard's (which the guard reads itself).
pub fn load_config(global: &GlobalArgs) -> Result<Config, UsageError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let config =
        Config::load(global.config.as_deref(), &cwd).map_err(|e| UsageError(e.to_string()))?;
    holdfast_guard::config::GuardConfig::read(&config).map_err(|e| UsageError(e.to_string()))?;
    Ok(config)
}

/// The migrate settings of the file for the selected stage.
pub fn file_settings(global: &GlobalArgs) -> Result<MigrateSettings, UsageError> {
    load_config(global)?
        .migrate_settings(global.stage.as_deref())
        .map_err(|e| UsageError(e.to_string()))
}

/// Merges flags (clap already merged `HOLDFAST_*` variables into them) over the file, then
/// builds the library's request (defaults and validation are the library's).
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
    let settings = flags.merge(file_settings(global)?);
    let choices = RunChoices {
        aws: aws_options(&args.aws),
        ..RunChoices::default()
    };
    MigrateRequest::from_settings(settings, choices).map_err(|e| match e {
        RequestError::Missing(RequiredSetting::Database) => UsageError(
            "no database: pass --database URL, set HOLDFAST_DATABASE_URL, or set migrate.database in holdfast.toml".into(),
        ),
        RequestError::Missing(RequiredSetting::Dir) => UsageError(
            "no migrations folder: pass --dir DIR, set HOLDFAST_MIGRATIONS_DIR, or set migrate.dir in holdfast.toml".into(),
        ),
        other => UsageError(other.to_string()),
    })
}
