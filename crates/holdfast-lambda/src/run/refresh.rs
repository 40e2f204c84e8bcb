//! `RefreshSanitize`: the CLI's `refresh sanitize --in-place` on the database the properties
//! name — typically a snapshot a Step Functions job has just restored into staging.
//!
//! Properties: the database (`DatabaseSecretArn` with `Host`/`Port`/`DatabaseName`/`Engine`
//! for what the secret lacks, or `DatabaseUrl`; not `DataApi`: the rewrite streams rows);
//! `ExpectName` (required: the database's actual name, else nothing is changed); `Jobs` (4),
//! `BatchRows` (50,000); `Deadline` (capped by the invocation's time left); `ConfigPath`
//! (default `/var/task/holdfast.toml`, which holds `[refresh]`) and `Stage`. There is no
//! "in place" property: the operation's name says it.
//!
//! A run stopped at the deadline has its progress recorded in the database; the same request
//! continues it (status `Stopped`). `Data` carries counts only — never a value.

use super::{put, to_json, OpResult, OpStatus, RunContext};
use crate::properties::{Database, PropertyError, Props};
use holdfast_core::config::Config;
use holdfast_core::exit::Outcome;
use holdfast_core::stopping::StopSignal;
use holdfast_dynamo::stop::Stop;
use holdfast_refresh::config::RefreshConfig;
use holdfast_refresh::db::DbUrl;
use holdfast_refresh::sanitize::{SanitizeRequest, DEFAULT_BATCH_ROWS};
use holdfast_report::refresh::RefreshSanitizeReport;
use serde_json::Map;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where `[refresh]` is read when `ConfigPath` does not say.
pub const DEFAULT_CONFIG_PATH: &str = "/var/task/holdfast.toml";

/// Tables rewritten at once when `Jobs` does not say.
pub const DEFAULT_JOBS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshSanitize {
    pub database: Database,
    pub expect_name: String,
    pub jobs: usize,
    pub batch_rows: usize,
    pub deadline: Option<Duration>,
    pub config_path: Option<PathBuf>,
    pub stage: Option<String>,
}

impl RefreshSanitize {
    /// Reads its properties.
    ///
    /// # Errors
    /// A missing `ExpectName`, no database or a Data API one, a number out of range.
    pub(crate) fn from_properties(p: &mut Props) -> Result<RefreshSanitize, PropertyError> {
        let database = crate::properties::database(p)?;
        if matches!(database, Database::DataApi { .. }) {
            return Err(Props::error(
                "DataApi",
                "RefreshSanitize streams rows over a database connection: give DatabaseSecretArn or DatabaseUrl",
            ));
        }
        Ok(RefreshSanitize {
            database,
            expect_name: p.text("ExpectName")?,
            jobs: p.number::<usize>("Jobs", 1..=64)?.unwrap_or(DEFAULT_JOBS),
            batch_rows: p
                .number::<usize>("BatchRows", 1..=1_000_000)?
                .unwrap_or(DEFAULT_BATCH_ROWS),
            deadline: p.optional_duration("Deadline")?,
            config_path: p.take_text("ConfigPath")?.map(PathBuf::from),
            stage: p.take_text("Stage")?,
        })
    }
}

/// Sanitizes the database in place.
pub(super) async fn sanitize(op: &RefreshSanitize, ctx: &RunContext) -> OpResult {
    match run(op, ctx).await {
        Ok(result) | Err(result) => result,
    }
}

async fn run(op: &RefreshSanitize, ctx: &RunContext) -> Result<OpResult, OpResult> {
    let usage = |reason: String| OpResult::failed_as(Outcome::Usage, reason);
    let path = op
        .config_path
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    let config =
        Config::load(Some(&path), Path::new("/")).map_err(|e| usage(format!("ConfigPath: {e}")))?;
    let rules =
        RefreshConfig::read(&config, op.stage.as_deref()).map_err(|e| OpResult::error(&e))?;
    let url = super::sql::database_url(&op.database).await?;
    let request = SanitizeRequest {
        database: DbUrl::parse("DatabaseUrl", &url).map_err(|e| OpResult::error(&e))?,
        expect_name: op.expect_name.clone(),
        jobs: op.jobs,
        batch_rows: op.batch_rows,
        originals_file: None,
    };
    let key = holdfast_refresh::key::read(rules.key.as_ref(), &rules.file, &Default::default())
        .await
        .map_err(|e| OpResult::error(&e))?;
    let budget = ctx.budget();
    let stop: Arc<dyn StopSignal> = Arc::new(Stop::new(Some(
        op.deadline.map_or(budget, |d| d.min(budget)),
    )));
    let report = holdfast_refresh::sanitize::sanitize(&request, &rules, &key, &stop)
        .await
        .map_err(|e| OpResult::error(&e))?;
    Ok(result(&report))
}

fn result(report: &RefreshSanitizeReport) -> OpResult {
    let mut data = Map::new();
    let s = &report.summary;
    put(&mut data, "Tables", s.tables);
    put(&mut data, "Rows", s.rows);
    put(&mut data, "TablesAlreadyDone", s.tables_already_done);
    put(&mut data, "Resumed", s.resumed);
    put(&mut data, "FinishedBefore", s.finished_before);
    if let Some(proof) = &report.verify {
        put(&mut data, "Originals", proof.originals);
        put(&mut data, "Leaks", proof.hits.len());
    }
    let outcome = report.outcome();
    let (status, reason) = match outcome {
        Outcome::Success => (OpStatus::Done, String::new()),
        Outcome::StoppedResumable => (
            OpStatus::Stopped,
            format!(
                "refresh sanitize stopped at the deadline; {}",
                report
                    .resume
                    .as_ref()
                    .map(|r| r.render(&crate::remedies::Properties))
                    .unwrap_or_default()
            ),
        ),
        _ if !report.unclassified.is_empty() || !report.unmatched_rules.is_empty() => (
            OpStatus::Failed,
            format!(
                "refresh sanitize changed nothing: {} unclassified column(s) ({}) and {} rule(s) matching no column ({})",
                report.unclassified.len(),
                report
                    .unclassified
                    .iter()
                    .take(3)
                    .map(|c| format!("{}.{}", c.table, c.column))
                    .collect::<Vec<_>>()
                    .join(", "),
                report.unmatched_rules.len(),
                report.unmatched_rules.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
            ),
        ),
        _ => (
            OpStatus::Failed,
            format!(
                "refresh sanitize: the leak proof found originals in {}",
                report
                    .verify
                    .iter()
                    .flat_map(|p| &p.hits)
                    .map(|h| format!("{}.{} ({} values)", h.table, h.column, h.values))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    };
    OpResult {
        status,
        outcome,
        reason,
        data,
        report: to_json(report),
    }
}
