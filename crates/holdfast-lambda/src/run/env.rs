//! `EnvVerify`: the CLI's `env verify` on deployed functions, during a deploy.
//!
//! Properties: `Stage` (required); `Stacks` and/or `Functions` (a list, or names separated by
//! commas; neither: the custom resource's own stack, or for a direct job the stage's
//! `stacks`/`functions` in `holdfast.toml`); `CompareStage` with `CompareStacks` /
//! `CompareFunctions` (default: that stage's in `holdfast.toml`); `ConfigPath` (default
//! `/var/task/holdfast.toml`); `Revision` (read by nothing: a value that changes with the
//! functions makes CloudFormation run the check again). The verifying function itself is left out (its own environment
//! is Holdfast's, not the application's).
//!
//! A blocking finding fails the resource, so CloudFormation rolls the deploy back. The reason
//! names rules, functions and keys; `Data` carries counts only — never a value.

use super::{put, to_json, OpResult, OpStatus, RunContext};
use crate::properties::{PropertyError, Props};
use holdfast_core::config::Config;
use holdfast_core::exit::Outcome;
use holdfast_env::config::EnvConfig;
use holdfast_env::fingerprint::Fingerprinter;
use holdfast_env::verify::deployed::Aws;
use holdfast_env::verify::{StageFunctions, VerifyRequest};
use holdfast_report::env::EnvReport;
use serde_json::Map;
use std::path::{Path, PathBuf};
use tokio::sync::OnceCell;

/// Where the schema is when `ConfigPath` does not say.
pub const DEFAULT_CONFIG_PATH: &str = "/var/task/holdfast.toml";

/// How many findings the reason names.
const REASON_FINDINGS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVerify {
    pub stage: String,
    pub stacks: Vec<String>,
    pub functions: Vec<String>,
    pub compare_stage: Option<String>,
    pub compare_stacks: Vec<String>,
    pub compare_functions: Vec<String>,
    pub config_path: Option<PathBuf>,
}

impl EnvVerify {
    /// Reads its properties.
    ///
    /// # Errors
    /// A missing `Stage`, a malformed list, compare lists without `CompareStage`.
    pub(crate) fn from_properties(p: &mut Props) -> Result<EnvVerify, PropertyError> {
        let op = EnvVerify {
            stage: p.text("Stage")?,
            stacks: p.list("Stacks")?,
            functions: p.list("Functions")?,
            compare_stage: p.take_text("CompareStage")?,
            compare_stacks: p.list("CompareStacks")?,
            compare_functions: p.list("CompareFunctions")?,
            config_path: p.take_text("ConfigPath")?.map(PathBuf::from),
        };
        // Read by nothing: it changes with the functions so that CloudFormation sends an Update.
        p.take_text("Revision")?;
        if op.compare_stage.is_none()
            && !(op.compare_stacks.is_empty() && op.compare_functions.is_empty())
        {
            return Err(Props::error(
                "CompareStacks",
                "needs CompareStage (the stage those functions are)",
            ));
        }
        Ok(op)
    }
}

/// The clients, built on first use and kept across invocations.
async fn aws() -> Result<&'static Aws, OpResult> {
    static AWS: OnceCell<Aws> = OnceCell::const_new();
    AWS.get_or_try_init(|| async { Aws::connect(&Default::default()).await })
        .await
        .map_err(|e| OpResult::error(&e))
}

/// Verifies the stage's functions.
pub(super) async fn verify(op: &EnvVerify, ctx: &RunContext) -> OpResult {
    match run(op, ctx).await {
        Ok(result) | Err(result) => result,
    }
}

async fn run(op: &EnvVerify, ctx: &RunContext) -> Result<OpResult, OpResult> {
    let usage = |reason: String| OpResult::failed_as(Outcome::Usage, reason);
    let path = op
        .config_path
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
    let config =
        Config::load(Some(&path), Path::new("/")).map_err(|e| usage(format!("ConfigPath: {e}")))?;
    let env = EnvConfig::read(&config).map_err(|e| OpResult::error(&e))?;
    let mut stacks = op.stacks.clone();
    if stacks.is_empty() && op.functions.is_empty() {
        if let Some(own) = &ctx.stack_id {
            stacks.push(own.clone());
        }
    }
    let request = VerifyRequest {
        target: StageFunctions {
            stage: op.stage.clone(),
            stacks,
            functions: op.functions.clone(),
        },
        compare: op.compare_stage.as_ref().map(|stage| StageFunctions {
            stage: stage.clone(),
            stacks: op.compare_stacks.clone(),
            functions: op.compare_functions.clone(),
        }),
        skip: std::env::var("AWS_LAMBDA_FUNCTION_NAME")
            .into_iter()
            .collect(),
        ..VerifyRequest::default()
    };
    let aws = aws().await?;
    let fingerprints = Fingerprinter::from_env();
    let verifying = holdfast_env::verify::verify_with(aws, &request, &env, &fingerprints);
    let report = tokio::time::timeout(ctx.budget(), verifying)
        .await
        .map_err(|_| {
            OpResult::failed("env verify did not finish in the time the invocation had left")
        })?
        .map_err(|e| OpResult::error(&e))?;
    Ok(result(&report))
}

fn result(report: &EnvReport) -> OpResult {
    let mut data = Map::new();
    put(
        &mut data,
        "Stage",
        report.stage.as_deref().unwrap_or_default(),
    );
    put(&mut data, "Functions", report.summary.functions);
    put(&mut data, "Variables", report.summary.variables);
    put(&mut data, "Blocking", report.summary.blocking);
    put(&mut data, "Warnings", report.summary.warnings);
    if let Some(v) = &report.verify {
        put(&mut data, "References", v.references);
        put(&mut data, "Resolved", v.resolved);
        if v.compare_stage.is_some() {
            put(&mut data, "Shared", v.shared);
        }
    }
    let outcome = report.outcome();
    let (status, reason) = if outcome == Outcome::Success {
        (OpStatus::Done, String::new())
    } else {
        let blocking: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.severity == holdfast_report::guard::Severity::Block)
            .take(REASON_FINDINGS)
            .map(|f| {
                let function = if f.stack.is_empty() {
                    f.function.clone()
                } else {
                    format!("{}/{}", f.stack, f.function)
                };
                format!("[{}] {function} {}: {}", f.rule, f.key, f.message)
            })
            .collect();
        let more = report.summary.blocking.saturating_sub(blocking.len());
        let mut reason = format!(
            "env verify (stage {}): {} blocking finding(s): {}",
            report.stage.as_deref().unwrap_or_default(),
            report.summary.blocking,
            blocking.join("; ")
        );
        if more > 0 {
            reason.push_str(&format!("; and {more} more"));
        }
        (OpStatus::Failed, reason)
    };
    OpResult {
        status,
        outcome,
        reason,
        data,
        report: to_json(report),
    }
}
