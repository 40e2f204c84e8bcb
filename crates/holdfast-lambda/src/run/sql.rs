//! `SqlMigrate`: the CLI's `migrate up` on the database the properties name.
//!
//! The lock wait and each statement's time limit are capped by the invocation's budget, so a
//! slow statement is stopped by the database (and recorded like any failure) before Lambda
//! stops the function. On an Update the history may hold versions newer than the folder — the
//! stack is rolling back to the old function and its old migrations — which is reported in
//! `Data` (`DatabaseAhead`) and never undone.

use super::{clients, put, to_json, OpResult, OpStatus, RunContext};
use crate::properties::{Database, SqlMigrate, DEFAULT_MIGRATIONS_PATH};
use crate::remedies;
use crate::secret::{self, Overrides};
use holdfast_core::config::{Config, MigrateSettings};
use holdfast_core::exit::Outcome;
use holdfast_core::migration::{load_dir, MigrationSet, Version};
use holdfast_core::plan::applied_digest;
use holdfast_report::migrate::UpReport;
use holdfast_sql::runner::{self, RunOptions};
use holdfast_sql::{connect, Access, ConnectOptions, MigrateRequest, RunChoices};
use serde_json::Map;
use std::path::{Path, PathBuf};

/// Runs the migrations.
pub(super) async fn migrate(op: &SqlMigrate, ctx: &RunContext) -> OpResult {
    match run(op, ctx).await {
        Ok(result) | Err(result) => result,
    }
}

async fn run(op: &SqlMigrate, ctx: &RunContext) -> Result<OpResult, OpResult> {
    let url = database_url(&op.database).await?;
    let usage = |reason: String| OpResult::failed_as(Outcome::Usage, reason);
    let request = request(op, url).map_err(usage)?;
    let (dir, dialect) = (request.dir.clone(), request.url.dialect());
    let source = tokio::task::spawn_blocking(move || load_dir(&dir, dialect))
        .await
        .map_err(|e| OpResult::failed(format!("reading MigrationsPath failed: {e}")))?
        .map_err(|e| usage(format!("MigrationsPath: {e}")))?;
    let fingerprint = applied_digest(&source);

    let connect_options = ConnectOptions {
        application_name: format!("holdfast lambda {}", function_name()),
        ..request.connect
    };
    let mut backend = connect(&request.url, Access::ReadWrite, &connect_options)
        .await
        .map_err(|e| OpResult::error(&e))?;
    let budget = ctx.budget();
    let configured = request.run;
    let run = RunOptions {
        lock_wait: configured.lock_wait.min(budget),
        statement_timeout: configured.statement_timeout.min(budget),
        lock_timeout: configured.lock_timeout.min(budget),
        tolerate_newer_rows: ctx.is_update,
        applied_by: format!("lambda {}", function_name()),
        ..configured
    };
    let report = runner::up(backend.as_mut(), &source, &run, &mut |_| {})
        .await
        .map_err(|e| OpResult::error(&e))?;
    drop(backend);
    Ok(result(op, &source, &fingerprint, &report))
}

/// The library's request from the properties over the deployed `holdfast.toml` (the same file
/// the CLI reads), so one file configures both front ends.
fn request(op: &SqlMigrate, url: String) -> Result<MigrateRequest, String> {
    let file = config_settings(op)?;
    let properties = MigrateSettings {
        database: Some(url),
        dir: op.migrations_path.clone(),
        ..op.settings.clone()
    };
    let mut settings = properties.merge(file);
    settings.dir = settings
        .dir
        .or_else(|| Some(PathBuf::from(DEFAULT_MIGRATIONS_PATH)));
    let choices = RunChoices {
        resume: op.resume,
        target: op.target.clone(),
        ..RunChoices::default()
    };
    MigrateRequest::from_settings(settings, choices).map_err(|e| e.to_string())
}

/// The `migrate` settings of the deployed `holdfast.toml` for the resource's `Stage`:
/// `ConfigPath` if given (it must exist), else `holdfast.toml` beside the migrations folder if
/// there is one.
fn config_settings(op: &SqlMigrate) -> Result<MigrateSettings, String> {
    let config = match &op.config_path {
        Some(path) => {
            Config::load(Some(path), Path::new("/")).map_err(|e| format!("ConfigPath: {e}"))?
        }
        None => {
            let migrations = op
                .migrations_path
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_MIGRATIONS_PATH));
            let beside = migrations.parent().unwrap_or(Path::new("/"));
            Config::load(None, beside).map_err(|e| format!("ConfigPath: {e}"))?
        }
    };
    if op.stage.is_some() && config.path.is_none() {
        return Err(format!(
            "Stage: `{}` is given but there is no holdfast.toml beside the migrations folder (set ConfigPath)",
            op.stage.as_deref().unwrap_or_default()
        ));
    }
    config
        .migrate_settings(op.stage.as_deref())
        .map_err(|e| format!("Stage: {e}"))
}

/// The URL of the database the properties name.
pub(super) async fn database_url(database: &Database) -> Result<String, OpResult> {
    match database {
        Database::Url(url) => Ok(url.clone()),
        Database::Secret {
            arn,
            host,
            port,
            database,
            engine,
        } => {
            // Owned before the await: the future must be Send for every lifetime.
            let arn = arn.clone();
            let overrides = Overrides {
                host: host.clone(),
                port: *port,
                database: database.clone(),
                engine: engine.clone(),
            };
            let client = clients::secrets().await.map_err(OpResult::failed)?;
            let text = secret::fetch(client, &arn)
                .await
                .map_err(|e| OpResult::error(&e))?;
            secret::database_url(&arn, &text, &overrides).map_err(|e| OpResult::error(&e))
        }
        Database::DataApi {
            resource_arn,
            secret_arn,
            database,
            engine,
        } => {
            let mut url = format!(
                "data-api://{}?secret={}&database={}",
                escape(resource_arn),
                escape(secret_arn),
                escape(database)
            );
            if let Some(engine) = engine {
                url.push_str(&format!("&engine={}", escape(engine)));
            }
            Ok(url)
        }
    }
}

/// Escapes what would end a `data-api://` URL's part (ARNs and names rarely hold any of it).
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '%' | '&' | '=' | '#' | '?' | '+' | ' ' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect()
}

fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "bootstrap".into())
}

/// The operation's result from `up`'s report.
fn result(
    op: &SqlMigrate,
    source: &MigrationSet,
    fingerprint: &str,
    report: &UpReport,
) -> OpResult {
    let mut data = Map::new();
    put(&mut data, "AppliedCount", report.applied.len());
    let versions: Vec<&str> = report
        .applied
        .iter()
        .map(|a| a.version.as_deref().unwrap_or(a.script.as_str()))
        .collect();
    put(&mut data, "AppliedVersions", versions.join(","));
    let current = report.current_version.clone().unwrap_or_default();
    put(&mut data, "LatestVersion", &current);
    let ahead = match (Version::parse(&current), source.latest_version()) {
        (Some(current), Some(latest)) => &current > latest,
        (Some(_), None) => true,
        _ => false,
    };
    put(&mut data, "DatabaseAhead", ahead);
    put(&mut data, "Fingerprint", fingerprint);
    if let Some(given) = &op.fingerprint {
        // A mismatch means the property and the deployed migrations disagree: CloudFormation
        // re-runs the resource when the property changes, so it would miss the next change.
        // Reported, not refused: refusing would also fail a rollback.
        put(&mut data, "FingerprintMatches", given == fingerprint);
        if given != fingerprint {
            tracing::warn!(
                property = %given,
                migrations = %fingerprint,
                "the Fingerprint property does not match the migrations at MigrationsPath"
            );
        }
    }
    put(&mut data, "Complete", report.outcome() == Outcome::Success);

    let (status, reason) = match report.outcome() {
        Outcome::Success => (
            OpStatus::Done,
            if ahead {
                format!(
                    "the database is ahead of these migrations (at version {current}, the folder ends at {}); nothing was undone",
                    source
                        .latest_version()
                        .map_or_else(|| "none".to_owned(), ToString::to_string)
                )
            } else {
                String::new()
            },
        ),
        Outcome::Usage => (
            OpStatus::Failed,
            format!(
                "bad migration input, nothing was run: {}",
                first_and_more(&report.errors)
            ),
        ),
        Outcome::CheckFailed => {
            let problems: Vec<String> = report
                .problems
                .iter()
                .map(|p| {
                    format!(
                        "{}: {}",
                        p.migration,
                        remedies::with_remedy(&p.message, p.remedy.as_ref())
                    )
                })
                .collect();
            (
                OpStatus::Failed,
                format!(
                    "the history does not match the migrations, nothing was run: {}",
                    first_and_more(&problems)
                ),
            )
        }
        _ => (OpStatus::Failed, failure_reason(report)),
    };
    OpResult {
        status,
        outcome: report.outcome(),
        reason,
        data,
        report: to_json(report),
    }
}

/// The failed migration: file, statement number, line, and the database's error (SQLSTATE and
/// primary message; never the statement text).
fn failure_reason(report: &UpReport) -> String {
    let Some(f) = &report.failed else {
        return "the migration run failed".into();
    };
    let before = if report.applied.is_empty() {
        String::new()
    } else {
        format!(" ({} applied before it)", report.applied.len())
    };
    let state = if f.rolled_back {
        format!(
            "rolled back: nothing of it was applied; {}",
            remedies::render(&f.remedy)
        )
    } else {
        remedies::render(&f.remedy)
    };
    format!(
        "{}: statement {} of {} (line {}) failed: {}; {state}{before}",
        f.script, f.statement, f.statements_total, f.line, f.error
    )
}

fn first_and_more(items: &[String]) -> String {
    match items {
        [] => "(no details)".into(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} (and {} more)", rest.len()),
    }
}
