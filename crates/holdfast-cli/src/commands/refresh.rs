//! `holdfast refresh …`: its clap types, and each command's flags mapped onto `holdfast_refresh`.

use super::{code, fail, CommandResult, Info};
use crate::cli::{AwsArgs, GlobalArgs, OutputArgs};
use crate::output;
use crate::settings;
use crate::settings::UsageError;
use clap::{Args, Subcommand};
use holdfast_core::stopping::StopSignal;
use holdfast_dynamo::stop::Stop;
use holdfast_refresh::config::RefreshConfig;
use holdfast_refresh::copy::CopyRequest;
use holdfast_refresh::db::DbUrl;
use holdfast_refresh::key;
use holdfast_refresh::sanitize::SanitizeRequest;
use holdfast_refresh::verify::OriginalsFrom;
use holdfast_report::Command as ReportCommand;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum RefreshCommand {
    /// Classify every column of every table against the [refresh] rules: sanitized, kept
    /// with a reason, kept by default (numbers, dates), or unclassified. Reads only; never
    /// prints a value. Exit 3 when a column is unclassified or a rule matches nothing.
    Plan(RefreshPlanArgs),
    /// Copy a PostgreSQL database into an empty one, replacing every sanitized column's
    /// values on the way (schema before the rows, indexes and constraints after, tables in
    /// parallel), then prove that no original remains. Refuses to start while a column is
    /// unclassified (exit 3); exit 3 when the proof finds an original.
    Copy(RefreshCopyArgs),
    /// Rewrite a database that is already a copy (a restored snapshot) where it stands:
    /// record the originals' keyed hashes, rewrite every sanitized column set-based (batches
    /// checkpointed in the database itself), then prove no original remains. Runs only with
    /// --in-place and --expect-name equal to the database's name; refuses the production
    /// database of [refresh.production] (exit 2) and a database other sessions are writing
    /// (exit 5). Interrupted (Ctrl-C, --deadline): exit 4, and the same command continues.
    Sanitize(RefreshSanitizeArgs),
    /// The leak proof: scan the target's text and JSON columns for every original value of
    /// the sanitized columns (compared as keyed hashes), read from the source database or
    /// from the file `sanitize --originals-file` wrote. Exit 3 on any hit.
    Verify(RefreshVerifyArgs),
}

#[derive(Debug, Args)]
pub struct RefreshSanitizeArgs {
    /// The database to rewrite (postgres://… or mysql://…).
    #[arg(long, env = "HOLDFAST_REFRESH_DATABASE", value_name = "URL")]
    pub database: String,
    /// Required: says that the database itself is rewritten.
    #[arg(long)]
    pub in_place: bool,
    /// The database's actual name; anything else is refused before a change.
    #[arg(long, value_name = "NAME")]
    pub expect_name: String,
    /// Tables rewritten at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Rows per batch (each batch commits with its checkpoint).
    #[arg(long, value_name = "N", default_value_t = holdfast_refresh::sanitize::DEFAULT_BATCH_ROWS, value_parser = parse_batch_rows)]
    pub batch_rows: usize,
    /// Write the originals' keyed hashes here (owner-only) for a later `refresh verify
    /// --originals`; the database keeps none once the run is proven.
    #[arg(long, value_name = "FILE")]
    pub originals_file: Option<std::path::PathBuf>,
    /// Stop after this long (e.g. 14m) with the progress recorded; exit 4. The next run continues.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub deadline: Option<std::time::Duration>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_batch_rows(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err("a number of rows from 1 to 1000000".into()),
    }
}

#[derive(Debug, Args)]
pub struct RefreshCopyArgs {
    /// The database to read (postgres://…; read in one snapshot by read-only sessions).
    #[arg(long, env = "HOLDFAST_REFRESH_SOURCE", value_name = "URL")]
    pub source: String,
    /// An empty database to fill (postgres://…).
    #[arg(long, env = "HOLDFAST_REFRESH_TARGET", value_name = "URL")]
    pub target: String,
    /// Tables copied at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RefreshVerifyArgs {
    /// The sanitized database to scan.
    #[arg(long, env = "HOLDFAST_REFRESH_TARGET", value_name = "URL")]
    pub target: String,
    /// The database holding the originals.
    #[arg(
        long,
        env = "HOLDFAST_REFRESH_SOURCE",
        value_name = "URL",
        required_unless_present = "originals",
        conflicts_with = "originals"
    )]
    pub source: Option<String>,
    /// The originals' keyed hashes written by `refresh sanitize --originals-file`.
    #[arg(long, value_name = "FILE")]
    pub originals: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct RefreshPlanArgs {
    /// The database to classify (postgres://… or mysql://…; its session only reads).
    #[arg(long, env = "HOLDFAST_REFRESH_SOURCE", value_name = "URL")]
    pub source: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl RefreshCommand {
    /// Which report it prints, and how.
    pub(super) fn info(&self) -> Info {
        match self {
            RefreshCommand::Plan(a) => Info::new(ReportCommand::RefreshPlan, a.output),
            RefreshCommand::Copy(a) => Info::new(ReportCommand::RefreshCopy, a.output),
            RefreshCommand::Sanitize(a) => Info::new(ReportCommand::RefreshSanitize, a.output),
            RefreshCommand::Verify(a) => Info::new(ReportCommand::RefreshVerify, a.output),
        }
    }
}

/// The refresh key, from where `[refresh] key` says.
async fn read_key(
    rules: &RefreshConfig,
    aws: &AwsArgs,
) -> Result<holdfast_refresh::transform::Key, Box<dyn super::Failure>> {
    key::read(rules.key.as_ref(), &rules.file, &settings::aws_options(aws))
        .await
        .map_err(fail)
}

pub async fn run(global: &GlobalArgs, command: &RefreshCommand) -> CommandResult {
    match command {
        RefreshCommand::Plan(args) => {
            let config = settings::load_config(global).map_err(fail)?;
            let rules = RefreshConfig::read(&config, global.stage.as_deref()).map_err(fail)?;
            let source = DbUrl::parse("--source", &args.source).map_err(fail)?;
            let report = holdfast_refresh::plan::plan(&source, &rules)
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::refresh_plan_text);
            Ok(code(report.outcome()))
        }
        RefreshCommand::Copy(args) => {
            let config = settings::load_config(global).map_err(fail)?;
            let rules = RefreshConfig::read(&config, global.stage.as_deref()).map_err(fail)?;
            let request = CopyRequest {
                source: DbUrl::parse("--source", &args.source).map_err(fail)?,
                target: DbUrl::parse("--target", &args.target).map_err(fail)?,
                jobs: usize::from(args.jobs),
            };
            let key = read_key(&rules, &args.aws).await?;
            let report = holdfast_refresh::copy::copy(&request, &rules, &key)
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::refresh_copy_text);
            Ok(code(report.outcome()))
        }
        RefreshCommand::Sanitize(args) => {
            if !args.in_place {
                return Err(fail(UsageError(
                    "refresh sanitize rewrites the database where it stands: say so with --in-place (nothing was changed)".into(),
                )));
            }
            let config = settings::load_config(global).map_err(fail)?;
            let rules = RefreshConfig::read(&config, global.stage.as_deref()).map_err(fail)?;
            let request = SanitizeRequest {
                database: DbUrl::parse("--database", &args.database).map_err(fail)?,
                expect_name: args.expect_name.clone(),
                jobs: usize::from(args.jobs),
                batch_rows: args.batch_rows,
                originals_file: args.originals_file.clone(),
            };
            let key = read_key(&rules, &args.aws).await?;
            let stop = Arc::new(Stop::new(args.deadline));
            super::stop_on_ctrl_c(&stop);
            let signal: Arc<dyn StopSignal> = stop;
            let report = holdfast_refresh::sanitize::sanitize(&request, &rules, &key, &signal)
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::refresh_sanitize_text);
            Ok(code(report.outcome()))
        }
        RefreshCommand::Verify(args) => {
            let config = settings::load_config(global).map_err(fail)?;
            let rules = RefreshConfig::read(&config, global.stage.as_deref()).map_err(fail)?;
            let from = match (&args.source, &args.originals) {
                (Some(source), _) => {
                    OriginalsFrom::Source(DbUrl::parse("--source", source).map_err(fail)?)
                }
                (None, Some(file)) => OriginalsFrom::File(file.clone()),
                (None, None) => {
                    return Err(fail(UsageError(
                        "refresh verify needs --source URL or --originals FILE".into(),
                    )))
                }
            };
            let target = DbUrl::parse("--target", &args.target).map_err(fail)?;
            let key = read_key(&rules, &args.aws).await?;
            let report = holdfast_refresh::verify::verify(&from, &target, &rules, &key)
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::refresh_verify_text);
            Ok(code(report.outcome()))
        }
    }
}
