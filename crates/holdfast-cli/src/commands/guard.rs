//! `holdfast guard …`.

use super::{code, fail, CommandResult, Info};
use crate::cli::{GlobalArgs, GuardCommand, GuardOutputArgs};
use crate::output;
use crate::settings::{self, UsageError};
use holdfast_guard::config::GuardConfig;
use holdfast_guard::deployed::AwsOptions;
use holdfast_guard::engine::{self, Request};
use holdfast_guard::inputs::{load_side, parameters_file, Sides};
use holdfast_guard::rules::{self, Policy};
use holdfast_report::guard::GuardReport;
use holdfast_report::sarif::{guard_to_sarif, RuleInfo};
use holdfast_report::Command as ReportCommand;
use std::collections::{BTreeMap, HashMap};

impl GuardCommand {
    fn output(&self) -> &GuardOutputArgs {
        match self {
            GuardCommand::Diff(a) => &a.output,
            GuardCommand::Check(a) => &a.output,
            GuardCommand::Changeset(a) => &a.output,
        }
    }

    /// Which report it prints, and how.
    pub(super) fn info(&self) -> Info {
        let command = match self {
            GuardCommand::Diff(_) => ReportCommand::GuardDiff,
            GuardCommand::Check(_) => ReportCommand::GuardCheck,
            GuardCommand::Changeset(_) => ReportCommand::GuardChangeset,
        };
        Info::new(command, self.output().format)
    }
}

/// A usage error the command line itself found (the libraries' errors carry their own class).
fn usage(e: impl std::fmt::Display) -> Box<dyn super::Failure> {
    fail(UsageError(e.to_string()))
}

/// Flags and `holdfast.toml` → a validated request, before any template is read.
fn request(
    global: &GlobalArgs,
    out: &GuardOutputArgs,
    parameters: Option<&std::path::Path>,
    stacks: &[String],
) -> Result<Request, Box<dyn super::Failure>> {
    let config = settings::load_config(global).map_err(fail)?;
    let guard = GuardConfig::read(&config)
        .map_err(fail)?
        .settings(global.stage.as_deref());
    let mut allow: BTreeMap<String, String> = guard.allow.clone();
    for entry in &out.allow {
        match entry.split_once('=') {
            Some((id, reason)) if !id.trim().is_empty() && !reason.trim().is_empty() => {
                allow.insert(id.trim().to_string(), reason.trim().to_string());
            }
            _ => {
                return Err(usage(format!(
                    "--allow `{entry}`: expected LOGICAL_ID=REASON, with a reason"
                )))
            }
        }
    }
    let environment = global.stage.as_deref().map(|s| config.environment(s));
    let policy = Policy::for_environment(environment, guard);
    if let Some(id) = policy.unknown_rule_ids().first() {
        return Err(usage(format!(
            "holdfast.toml: guard rule `{id}` does not exist (rules: {})",
            rules::ALL
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let stack_pairs = stacks
        .iter()
        .map(|s| match s.split_once('=') {
            Some((o, n)) if !o.is_empty() && !n.is_empty() => Ok((o.to_string(), n.to_string())),
            _ => Err(usage(format!("--stack `{s}`: expected OLD=NEW"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let parameters: HashMap<String, String> = match parameters {
        Some(path) => parameters_file(path).map_err(fail)?,
        None => HashMap::new(),
    };
    Ok(Request {
        stage: global.stage.clone(),
        policy,
        parameters,
        allow,
        stack_pairs,
    })
}

pub async fn run(global: &GlobalArgs, command: &GuardCommand) -> CommandResult {
    let out = command.output();
    let report = match command {
        GuardCommand::Diff(args) => {
            let req = request(global, out, args.parameters.as_deref(), &args.stacks)?;
            let mut sides = Sides::new(AwsOptions {
                endpoint_url: args.aws.endpoint_url.clone(),
                region: args.aws.region.clone(),
                profile: args.aws.profile.clone(),
            });
            let old = sides.load(&args.old).await.map_err(fail)?;
            let new = sides.load(&args.new).await.map_err(fail)?;
            engine::diff(&old, &new, &req).map_err(fail)?
        }
        GuardCommand::Check(args) => {
            let req = request(global, out, args.parameters.as_deref(), &[])?;
            let stacks = load_side(&args.template).map_err(fail)?;
            engine::check(&stacks, &req)
        }
        GuardCommand::Changeset(args) => {
            let req = request(global, out, None, &[])?;
            let text = std::fs::read_to_string(&args.changeset)
                .map_err(|e| usage(format!("{}: cannot read: {e}", args.changeset.display())))?;
            holdfast_guard::changeset::judge(&args.changeset.display().to_string(), &text, &req)
                .map_err(fail)?
        }
    };
    if let Some(path) = &out.sarif {
        write_sarif(&report, path)?;
    }
    output::report(out.format, &report, output::guard_text);
    Ok(code(report.outcome()))
}

fn write_sarif(
    report: &GuardReport,
    path: &std::path::Path,
) -> Result<(), Box<dyn super::Failure>> {
    let infos: Vec<RuleInfo<'_>> = rules::ALL
        .iter()
        .map(|r| RuleInfo {
            id: r.id,
            summary: r.summary,
        })
        .collect();
    let sarif = guard_to_sarif(report, &infos, env!("CARGO_PKG_VERSION"));
    let text = serde_json::to_string_pretty(&sarif).map_err(usage)?;
    std::fs::write(path, text + "\n")
        .map_err(|e| fail(UsageError(format!("{}: cannot write: {e}", path.display()))))
}
