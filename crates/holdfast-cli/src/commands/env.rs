//! `holdfast env …`: its clap types, and each command's flags mapped onto `holdfast_env`.

use super::{code, fail, CommandResult, Info};
use crate::cli::{AwsArgs, GlobalArgs, OutputArgs};
use crate::output;
use crate::settings::{self, UsageError};
use clap::{Args, Subcommand};
use holdfast_env::config::EnvConfig;
use holdfast_env::fingerprint::Fingerprinter;
use holdfast_env::verify::{StageFunctions, VerifyRequest};
use holdfast_env::{CheckRequest, EnvError};
use holdfast_guard::deployed::AwsOptions;
use holdfast_guard::inputs::{parameters_file, Sides};
use holdfast_report::env::EnvInitReport;
use holdfast_report::sarif::{env_to_sarif, RuleInfo};
use holdfast_report::{Command as ReportCommand, Envelope, Outcome};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Check the Lambda functions' environments in templates against the [env] schema:
    /// missing and mistyped keys, unresolved ${…} variables, plaintext secrets, live payment
    /// keys and other stages' resources. Never prints a value. Exit 3 on blocking findings.
    Check(EnvCheckArgs),
    /// Verify deployed functions (a stack's, or named ones) against the [env] schema, resolve
    /// the secrets and parameters their variables name, and with --compare-stage fail when
    /// the two stages share a secret value. Reads only; never prints a value. Exit 3 on
    /// blocking findings.
    Verify(EnvVerifyArgs),
    /// Draft the [env] schema from today's functions (keys, types, required, secret; never a
    /// value), to paste into holdfast.toml.
    Init(EnvInitArgs),
}

#[derive(Debug, Args)]
pub struct EnvCheckArgs {
    /// Templates (JSON/YAML), cdk.out folders, .serverless folders or stack:NAME.
    #[arg(required = true, value_name = "TEMPLATE")]
    pub inputs: Vec<String>,
    /// Parameter values: a JSON file (`[{"ParameterKey","ParameterValue"}]` or `{"Key": "value"}`).
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    /// Also write the findings as SARIF 2.1.0 to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct EnvVerifyArgs {
    /// A deployed stack whose functions (nested stacks' too) are the stage's; repeatable.
    /// Neither --stack nor --function: the stage's `stacks`/`functions` in holdfast.toml.
    #[arg(long = "stack", value_name = "NAME")]
    pub stacks: Vec<String>,
    /// A deployed function (name or ARN) of the stage; repeatable.
    #[arg(long = "function", value_name = "NAME")]
    pub functions: Vec<String>,
    /// The stage to compare with: fail when both hold the same secret value.
    #[arg(long, value_name = "STAGE")]
    pub compare_stage: Option<String>,
    /// A stack of the compared stage; repeatable (default: its `stacks` in holdfast.toml).
    #[arg(
        long = "compare-stack",
        value_name = "NAME",
        requires = "compare_stage"
    )]
    pub compare_stacks: Vec<String>,
    /// A function of the compared stage; repeatable (default: its `functions`).
    #[arg(
        long = "compare-function",
        value_name = "NAME",
        requires = "compare_stage"
    )]
    pub compare_functions: Vec<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct EnvInitArgs {
    /// Templates (JSON/YAML), cdk.out folders, .serverless folders or stack:NAME.
    #[arg(required = true, value_name = "TEMPLATE")]
    pub inputs: Vec<String>,
    /// Parameter values, as for `check`.
    #[arg(long, value_name = "FILE")]
    pub parameters: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

impl EnvCommand {
    /// Which report it prints, and how.
    pub(super) fn info(&self) -> Info {
        match self {
            EnvCommand::Check(a) => Info::new(ReportCommand::EnvCheck, a.output),
            EnvCommand::Verify(a) => Info::new(ReportCommand::EnvVerify, a.output),
            EnvCommand::Init(a) => Info::new(ReportCommand::EnvInit, a.output).without_config(),
        }
    }
}

fn aws_options(aws: &AwsArgs) -> AwsOptions {
    AwsOptions {
        endpoint_url: aws.endpoint_url.clone(),
        region: aws.region.clone(),
        profile: aws.profile.clone(),
    }
}

fn parameters(
    path: Option<&std::path::Path>,
) -> Result<std::collections::HashMap<String, String>, Box<dyn super::Failure>> {
    path.map_or_else(
        || Ok(Default::default()),
        |p| parameters_file(p).map_err(fail),
    )
}

pub async fn run(global: &GlobalArgs, command: &EnvCommand) -> CommandResult {
    match command {
        EnvCommand::Check(args) => {
            let config = settings::load_config(global).map_err(fail)?;
            let env = EnvConfig::read(&config).map_err(fail)?;
            let request = CheckRequest {
                inputs: args.inputs.clone(),
                stage: global.stage.clone(),
                parameters: parameters(args.parameters.as_deref())?,
                aws: aws_options(&args.aws),
            };
            let report = holdfast_env::check_inputs(&request, &env, &Fingerprinter::from_env())
                .await
                .map_err(fail)?;
            if let Some(path) = &args.sarif {
                let infos: Vec<RuleInfo<'_>> = holdfast_env::rules::ALL
                    .iter()
                    .map(|r| RuleInfo {
                        id: r.id,
                        summary: r.summary,
                    })
                    .collect();
                let sarif = env_to_sarif(&report, &infos, env!("CARGO_PKG_VERSION"));
                let text = serde_json::to_string_pretty(&sarif)
                    .map_err(|e| fail(UsageError(e.to_string())))?;
                std::fs::write(path, text + "\n").map_err(|e| {
                    fail(UsageError(format!("{}: cannot write: {e}", path.display())))
                })?;
            }
            output::report(args.output, &report, output::env_text);
            Ok(code(report.outcome()))
        }
        EnvCommand::Verify(args) => {
            let config = settings::load_config(global).map_err(fail)?;
            let env = EnvConfig::read(&config).map_err(fail)?;
            let Some(stage) = global.stage.clone() else {
                return Err(fail(UsageError(
                    "env verify: --stage is required (the stage the functions are deployed as)"
                        .into(),
                )));
            };
            let request = VerifyRequest {
                target: StageFunctions {
                    stage,
                    stacks: args.stacks.clone(),
                    functions: args.functions.clone(),
                },
                compare: args.compare_stage.as_ref().map(|stage| StageFunctions {
                    stage: stage.clone(),
                    stacks: args.compare_stacks.clone(),
                    functions: args.compare_functions.clone(),
                }),
                skip: Vec::new(),
                aws: aws_options(&args.aws),
            };
            let report = holdfast_env::verify::verify(&request, &env, &Fingerprinter::from_env())
                .await
                .map_err(fail)?;
            output::report(args.output, &report, output::env_text);
            Ok(code(report.outcome()))
        }
        EnvCommand::Init(args) => {
            let params = parameters(args.parameters.as_deref())?;
            let mut sides = Sides::new(aws_options(&args.aws));
            let mut stacks = Vec::new();
            for input in &args.inputs {
                stacks.extend(
                    sides
                        .load(input)
                        .await
                        .map_err(|e| fail(EnvError::from(e)))?,
                );
            }
            let functions = holdfast_env::functions::functions(&stacks, &params);
            let (keys, toml) = holdfast_env::init::draft(&functions);
            let report = EnvInitReport {
                envelope: Envelope::new(ReportCommand::EnvInit, Outcome::Success),
                keys,
                toml,
            };
            output::report(args.output, &report, |r| r.toml.clone());
            Ok(code(report.outcome()))
        }
    }
}
