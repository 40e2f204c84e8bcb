//! Holdfast's environment and secrets checks.
//!
//! A per-stage schema of each Lambda function's environment (`[env]` in `holdfast.toml`,
//! [`config`]), applied to the functions of a template, a `cdk.out`, a `.serverless` folder or
//! a deployed stack — read by the deploy guard's loaders ([`functions`]) — and to deployed
//! functions. [`check`] finds missing, empty and mistyped keys, values a stage does not allow,
//! Serverless variables and CDK tokens deployed as literal text ([`unresolved`]), plaintext
//! credentials ([`secrets`]), live payment keys outside production (`holdfast_runtime::live_key`)
//! and another stage's resources ([`cross_stage`]).
//!
//! Values are never printed: a finding names the function, the key and the rule, and
//! identifies a value only by a keyed [`fingerprint`].
//!
//! [`init`] drafts a schema from today's functions.

#![forbid(unsafe_code)]

pub mod check;
pub mod config;
pub mod cross_stage;
pub mod fingerprint;
pub mod functions;
pub mod init;
pub mod rules;
pub mod secrets;
pub mod unresolved;
pub mod values;
pub mod verify;

use check::{Context, Findings};
use config::{EnvConfig, SchemaError};
use fingerprint::Fingerprinter;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_guard::deployed::AwsOptions;
use holdfast_guard::inputs::{SideError, Sides};
use holdfast_report::env::{EnvReport, EnvSummary};
use holdfast_report::guard::Severity;
use holdfast_report::{Command, Envelope};
use std::collections::HashMap;

/// `env check`: the templates to read and the stage they are for.
#[derive(Debug, Clone, Default)]
pub struct CheckRequest {
    /// Each a template file, a `cdk.out` or `.serverless` folder, or `stack:NAME`.
    pub inputs: Vec<String>,
    /// The stage the functions are deployed to (its environment decides the rules' values).
    pub stage: Option<String>,
    /// Template parameter values over the templates' defaults.
    pub parameters: HashMap<String, String>,
    /// How to reach CloudFormation for `stack:` inputs.
    pub aws: AwsOptions,
}

/// Why a check could not be made. Nothing was judged.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Input(#[from] SideError),
    /// A deployed function, stack, secret or parameter that could not be read.
    #[error(transparent)]
    Deployed(#[from] verify::deployed::DeployedError),
    /// A setting that cannot be used (an unknown rule id, no input).
    #[error("{0}")]
    Usage(String),
}

impl Classify for EnvError {
    fn outcome(&self) -> Outcome {
        match self {
            EnvError::Schema(e) => e.outcome(),
            EnvError::Input(e) => e.outcome(),
            EnvError::Deployed(e) => e.outcome(),
            EnvError::Usage(_) => Outcome::Usage,
        }
    }

    fn remedy(&self) -> Option<holdfast_core::remedy::Remedy> {
        match self {
            EnvError::Input(e) => e.remedy(),
            EnvError::Deployed(e) => e.remedy(),
            _ => None,
        }
    }
}

/// The context of one stage's check, from the schema.
pub fn context(config: &EnvConfig, stage: Option<&str>) -> Context {
    Context {
        stage: stage.map(str::to_string),
        environment: stage.map_or(holdfast_core::config::Environment::Development, |s| {
            config.environment(s)
        }),
        settings: config.settings(stage),
        known_stages: config.known_stages().map(str::to_string).collect(),
    }
}

/// `env check`: reads every input and judges its functions.
///
/// # Errors
/// [`EnvError`]: an input that cannot be read, a rule that does not exist.
pub async fn check_inputs(
    request: &CheckRequest,
    config: &EnvConfig,
    fingerprints: &Fingerprinter,
) -> Result<EnvReport, EnvError> {
    if request.inputs.is_empty() {
        return Err(EnvError::Usage("env check: no template given".into()));
    }
    let ctx = context(config, request.stage.as_deref());
    let mut findings = Findings::new(&ctx.settings, fingerprints).map_err(EnvError::Usage)?;
    let mut sides = Sides::new(request.aws.clone());
    let mut stacks = Vec::new();
    for input in &request.inputs {
        stacks.extend(sides.load(input).await?);
    }
    let functions = functions::functions(&stacks, &request.parameters);
    check::check(&functions, &ctx, &mut findings);
    Ok(report(Command::EnvCheck, &ctx, &functions, findings.list))
}

/// The report of a check: findings sorted by stack, function, key and rule.
pub fn report(
    command: Command,
    ctx: &Context,
    functions: &[functions::Function],
    mut findings: Vec<holdfast_report::env::EnvFinding>,
) -> EnvReport {
    findings.sort_by(|a, b| {
        (&a.stack, &a.function, &a.key, &a.rule).cmp(&(&b.stack, &b.function, &b.key, &b.rule))
    });
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let summary = EnvSummary {
        functions: functions.len(),
        variables: functions.iter().map(|f| f.variables.len()).sum(),
        blocking: count(Severity::Block),
        warnings: count(Severity::Warn),
        info: count(Severity::Info),
    };
    let outcome = if summary.blocking > 0 {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    };
    EnvReport {
        envelope: Envelope::new(command, outcome),
        stage: ctx.stage.clone(),
        environment: ctx.environment.as_str().to_string(),
        summary,
        findings,
        functions: functions
            .iter()
            .map(|f| {
                if f.stack.is_empty() {
                    f.logical_id.clone()
                } else {
                    format!("{}/{}", f.stack, f.logical_id)
                }
            })
            .collect(),
        verify: None,
    }
}
