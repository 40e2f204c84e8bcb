//! The request of a migrate command: every setting, validated, with its defaults — built the
//! same way by every front end.
//!
//! The CLI merges flags and `HOLDFAST_*` variables over `holdfast.toml`; the Lambda function
//! merges the custom resource's properties over the same `holdfast.toml` deployed with the
//! migrations. Both hand the merged [`MigrateSettings`] to [`MigrateRequest::from_settings`], so
//! a setting means the same thing (and has the same default) wherever it is given.

use crate::connect::{ConnectOptions, DatabaseUrl};
use crate::runner::RunOptions;
use crate::SqlError;
use holdfast_aws::AwsOptions;
use holdfast_core::config::{defaults, MigrateSettings};
use holdfast_core::migration::Version;
use holdfast_core::Resume;
use std::path::PathBuf;

/// A setting a request cannot do without. Front ends name where it can be given (a flag and a
/// variable, a property), and `holdfast.toml`'s key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequiredSetting {
    /// `migrate.database`.
    Database,
    /// `migrate.dir`.
    Dir,
}

impl RequiredSetting {
    /// The key in `holdfast.toml`.
    pub fn config_key(self) -> &'static str {
        match self {
            RequiredSetting::Database => "migrate.database",
            RequiredSetting::Dir => "migrate.dir",
        }
    }
}

/// Why a request could not be built. Exit code 2: nothing was touched.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A required setting is given nowhere.
    #[error("no {}: set {} in holdfast.toml", match .0 { RequiredSetting::Database => "database", RequiredSetting::Dir => "migrations folder" }, .0.config_key())]
    Missing(RequiredSetting),
    /// A setting's value is unusable (a URL that does not parse, a version that is not one).
    #[error("{0}")]
    Invalid(String),
}

impl holdfast_core::exit::Classify for RequestError {
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }
}

/// Everything a migrate command needs, validated.
#[derive(Debug, Clone)]
pub struct MigrateRequest {
    pub url: DatabaseUrl,
    pub dir: PathBuf,
    pub connect: ConnectOptions,
    pub run: RunOptions,
}

/// What a front end adds to the merged settings: how to reach AWS (for `data-api://` URLs),
/// and the run's own choices.
#[derive(Debug, Clone, Default)]
pub struct RunChoices {
    pub aws: AwsOptions,
    pub resume: Resume,
    pub target: Option<Version>,
}

impl MigrateRequest {
    /// Applies the built-in defaults to `settings` (already merged in the front end's order of
    /// precedence) and validates them.
    pub fn from_settings(
        settings: MigrateSettings,
        choices: RunChoices,
    ) -> Result<MigrateRequest, RequestError> {
        let database = settings
            .database
            .ok_or(RequestError::Missing(RequiredSetting::Database))?;
        let dir = settings
            .dir
            .ok_or(RequestError::Missing(RequiredSetting::Dir))?;
        let url = DatabaseUrl::parse(&database)
            .map_err(|e: SqlError| RequestError::Invalid(e.to_string()))?;
        let lock_wait = settings.lock_wait.unwrap_or(defaults::LOCK_WAIT);
        let connect = ConnectOptions {
            history_table: settings
                .history_table
                .unwrap_or_else(|| defaults::HISTORY_TABLE.to_string()),
            history_schema: settings.history_schema,
            aws: choices.aws,
            busy_wait: lock_wait,
            ..ConnectOptions::default()
        };
        let run = RunOptions {
            lock_wait,
            statement_timeout: settings
                .statement_timeout
                .unwrap_or(defaults::STATEMENT_TIMEOUT),
            lock_timeout: settings.lock_timeout.unwrap_or(defaults::LOCK_TIMEOUT),
            allow_out_of_order: settings.allow_out_of_order.unwrap_or(false),
            resume: choices.resume,
            target: choices.target,
            ..RunOptions::default()
        };
        Ok(MigrateRequest {
            url,
            dir,
            connect,
            run,
        })
    }
}
