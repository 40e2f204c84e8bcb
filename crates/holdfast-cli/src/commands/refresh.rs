//! `holdfast refresh …`: its clap types, and each command's flags mapped onto `holdfast_refresh`.

use super::{code, fail, CommandResult, Info};
use crate::cli::{GlobalArgs, OutputArgs};
use crate::output;
use crate::settings;
use clap::{Args, Subcommand};
use holdfast_refresh::config::RefreshConfig;
use holdfast_refresh::db::DbUrl;
use holdfast_report::Command as ReportCommand;

#[derive(Debug, Subcommand)]
pub enum RefreshCommand {
    /// Classify every column of every table against the [refresh] rules: sanitized, kept
    /// with a reason, kept by default (numbers, dates), or unclassified. Reads only; never
    /// prints a value. Exit 3 when a column is unclassified or a rule matches nothing.
    Plan(RefreshPlanArgs),
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
    }
}
