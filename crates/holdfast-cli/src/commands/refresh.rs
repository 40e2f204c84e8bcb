//! `holdfast refresh …`: its clap types, and each command's flags mapped onto `holdfast_refresh`.

use super::{code, fail, CommandResult, Info};
use crate::cli::{AwsArgs, GlobalArgs, OutputArgs};
use crate::output;
use crate::settings;
use clap::{Args, Subcommand};
use holdfast_refresh::config::RefreshConfig;
use holdfast_refresh::copy::CopyRequest;
use holdfast_refresh::db::DbUrl;
use holdfast_refresh::key;
use holdfast_report::Command as ReportCommand;

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
    /// The leak proof: scan the target's text and JSON columns for every original value of
    /// the source's sanitized columns (compared as keyed hashes). Exit 3 on any hit.
    Verify(RefreshVerifyArgs),
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
    #[arg(long, env = "HOLDFAST_REFRESH_SOURCE", value_name = "URL")]
    pub source: String,
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
            RefreshCommand::Verify(a) => Info::new(ReportCommand::RefreshVerify, a.output),
        }
    }
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
            let key = key::read(
                rules.key.as_ref(),
                &rules.file,
                &settings::aws_options(&args.aws),
            )
            .await
            .map_err(fail)?;
            let report = holdfast_refresh::copy::copy(&request, &rules, &key)
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::refresh_copy_text);
            Ok(code(report.outcome()))
        }
        RefreshCommand::Verify(args) => {
            let config = settings::load_config(global).map_err(fail)?;
            let rules = RefreshConfig::read(&config, global.stage.as_deref()).map_err(fail)?;
            let source = DbUrl::parse("--source", &args.source).map_err(fail)?;
            let target = DbUrl::parse("--target", &args.target).map_err(fail)?;
            let key = key::read(
                rules.key.as_ref(),
                &rules.file,
                &settings::aws_options(&args.aws),
            )
            .await
            .map_err(fail)?;
            let report = holdfast_refresh::verify::verify(&source, &target, &rules, &key)
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::refresh_verify_text);
            Ok(code(report.outcome()))
        }
    }
}
