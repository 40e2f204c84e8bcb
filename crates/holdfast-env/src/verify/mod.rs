//! `env verify`: the schema and every rule applied to deployed functions, then every reference
//! in their environments resolved and judged ([`resolve`]), and — with a stage to compare —
//! the secret values of both stages matched by their fingerprints ([`shared`]).
//!
//! Reads only: `GetFunctionConfiguration`, `ListStackResources`, `GetSecretValue`,
//! `GetParameter` ([`deployed`]). Another stage's parameters and secrets are not read for the
//! stage verified; they are read for the compared stage, to compare them, and never shown.

pub mod deployed;
pub mod resolve;
pub mod shared;

use crate::check::{self, Findings};
use crate::config::EnvConfig;
use crate::fingerprint::Fingerprinter;
use crate::functions::{Function, VarValue};
use crate::{cross_stage, EnvError};
use deployed::{Aws, StoredValue};
use holdfast_aws::AwsOptions;
use holdfast_report::env::{EnvReport, EnvVerifySummary};
use holdfast_report::Command;
use resolve::{Reference, Resolved, Store};
use std::collections::BTreeMap;

/// How many secrets and parameters are read at once.
const CONCURRENT_READS: usize = 8;

/// The deployed functions of one stage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageFunctions {
    pub stage: String,
    /// Stack names or ids: their functions (nested stacks' too).
    pub stacks: Vec<String>,
    /// Function names or ARNs.
    pub functions: Vec<String>,
}

/// `env verify`: the stage to verify, and the stage to compare it with.
#[derive(Debug, Clone, Default)]
pub struct VerifyRequest {
    /// Empty stacks and functions: the stage's `stacks`/`functions` in `holdfast.toml`.
    pub target: StageFunctions,
    /// Fails when the two stages share a secret value. Empty stacks and functions: that
    /// stage's `stacks`/`functions` in `holdfast.toml`.
    pub compare: Option<StageFunctions>,
    /// Function names left out of the verified stage (the Lambda function verifying its own
    /// stack leaves itself out).
    pub skip: Vec<String>,
    pub aws: AwsOptions,
}

/// Connects, then [`verify_with`].
///
/// # Errors
/// See [`verify_with`]; and no region or credentials.
pub async fn verify(
    request: &VerifyRequest,
    config: &EnvConfig,
    fingerprints: &Fingerprinter,
) -> Result<EnvReport, EnvError> {
    // Bad settings are reported before any connection is made.
    sides(request, config)?;
    let aws = Aws::connect(&request.aws).await?;
    verify_with(&aws, request, config, fingerprints).await
}

/// Verifies with clients already built (the Lambda function keeps its own).
///
/// # Errors
/// No function named (here or in `holdfast.toml`), a stack or function that does not exist,
/// a call that fails, a rule in `[env.rules]` that does not exist.
pub async fn verify_with(
    aws: &Aws,
    request: &VerifyRequest,
    config: &EnvConfig,
    fingerprints: &Fingerprinter,
) -> Result<EnvReport, EnvError> {
    let (target, compare) = sides(request, config)?;
    verify_sides(
        aws,
        &target,
        compare.as_ref(),
        &request.skip,
        config,
        fingerprints,
    )
    .await
}

fn sides(
    request: &VerifyRequest,
    config: &EnvConfig,
) -> Result<(StageFunctions, Option<StageFunctions>), EnvError> {
    if let Some(c) = request
        .compare
        .as_ref()
        .filter(|c| c.stage == request.target.stage)
    {
        return Err(EnvError::Usage(format!(
            "env verify: --compare-stage names the stage verified (`{}`)",
            c.stage
        )));
    }
    let target = resolve_side(&request.target, config)?;
    let compare = request
        .compare
        .as_ref()
        .map(|c| resolve_side(c, config))
        .transpose()?;
    Ok((target, compare))
}

/// The side with the stage's configured stacks and functions when none are given.
fn resolve_side(side: &StageFunctions, config: &EnvConfig) -> Result<StageFunctions, EnvError> {
    if side.stage.trim().is_empty() {
        return Err(EnvError::Usage(
            "env verify: a stage is needed (--stage, and --compare-stage for the other)".into(),
        ));
    }
    if !side.stacks.is_empty() || !side.functions.is_empty() {
        return Ok(side.clone());
    }
    let settings = config.settings(Some(&side.stage));
    if settings.stacks.is_empty() && settings.functions.is_empty() {
        return Err(EnvError::Usage(format!(
            "env verify: no functions for stage `{0}`: give --stack or --function, or set \
             stacks or functions in [stages.{0}.env] of holdfast.toml",
            side.stage
        )));
    }
    Ok(StageFunctions {
        stage: side.stage.clone(),
        stacks: settings.stacks,
        functions: settings.functions,
    })
}

async fn verify_sides(
    aws: &Aws,
    target: &StageFunctions,
    compare: Option<&StageFunctions>,
    skip: &[String],
    config: &EnvConfig,
    fingerprints: &Fingerprinter,
) -> Result<EnvReport, EnvError> {
    let ctx = crate::context(config, Some(&target.stage));
    let mut findings = Findings::new(&ctx.settings, fingerprints).map_err(EnvError::Usage)?;
    let mut functions = aws.functions(&target.stacks, &target.functions).await?;
    functions.retain(|f| !f.name.as_ref().is_some_and(|n| skip.contains(n)));
    check::check(&functions, &ctx, &mut findings);

    let refs = references(&functions, &ctx, true);
    let stored = read_all(aws, refs.iter().map(|r| &r.reference)).await?;
    for r in &refs {
        resolve::judge(
            &Resolved {
                function: r.function,
                key: &r.key,
                reference: &r.reference,
                spec: r.spec,
                stored: stored.get(&r.reference).and_then(Option::as_ref),
            },
            ctx.environment,
            &mut findings,
        );
    }
    let mut summary = EnvVerifySummary {
        references: refs.len(),
        resolved: stored.values().filter(|v| v.is_some()).count(),
        ..EnvVerifySummary::default()
    };

    if let Some(other) = compare {
        let other_ctx = crate::context(config, Some(&other.stage));
        let other_functions = aws.functions(&other.stacks, &other.functions).await?;
        let other_refs = references(&other_functions, &other_ctx, false);
        let other_stored = read_all(aws, other_refs.iter().map(|r| &r.reference)).await?;
        let mine = shared::secret_values(&functions, &refs, &stored, &ctx);
        let theirs =
            shared::secret_values(&other_functions, &other_refs, &other_stored, &other_ctx);
        summary.compare_stage = Some(other.stage.clone());
        summary.compared_functions = other_functions.len();
        summary.compared_values = mine.len();
        summary.shared = shared::report_shared(&mine, &theirs, &other.stage, &mut findings);
    }

    let mut report = crate::report(Command::EnvVerify, &ctx, &functions, findings.list);
    report.verify = Some(summary);
    Ok(report)
}

/// One variable's reference.
pub(crate) struct FoundReference<'a> {
    pub function: &'a Function,
    pub key: String,
    pub reference: Reference,
    pub spec: Option<&'a crate::config::KeySpec>,
}

/// The references of `functions`' variables; with `own_stage_only`, not those that name
/// another stage (the cross-stage rule has reported them, and they are not read).
fn references<'a>(
    functions: &'a [Function],
    ctx: &'a check::Context,
    own_stage_only: bool,
) -> Vec<FoundReference<'a>> {
    let own = ctx.stage.as_deref().unwrap_or("");
    let mut out = Vec::new();
    for function in functions {
        for var in &function.variables {
            let VarValue::Literal(value) = &var.value else {
                continue;
            };
            let spec = ctx
                .settings
                .keys
                .get(&var.key)
                .filter(|s| s.applies_to(&function.logical_id, function.name.as_deref()));
            let Some(reference) = resolve::reference(&var.key, value, spec) else {
                continue;
            };
            if own_stage_only
                && cross_stage::other_stage(&var.key, &reference.id, own, &ctx.known_stages, true)
                    .is_some()
            {
                continue;
            }
            out.push(FoundReference {
                function,
                key: var.key.clone(),
                reference,
                spec,
            });
        }
    }
    out
}

async fn read_one(
    aws: &Aws,
    reference: &Reference,
) -> Result<(Reference, Option<StoredValue>), deployed::DeployedError> {
    let value = match reference.store {
        Store::Secret => aws.secret(&reference.id).await?,
        Store::Parameter => aws.parameter(&reference.id).await?,
    };
    Ok((reference.clone(), value))
}

/// Reads each distinct reference once, a few at a time.
async fn read_all<'a>(
    aws: &Aws,
    references: impl Iterator<Item = &'a Reference>,
) -> Result<BTreeMap<Reference, Option<StoredValue>>, EnvError> {
    let distinct: Vec<&Reference> = references
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut out = BTreeMap::new();
    // In chunks, without a stream of closures: the future stays `Send` for the Lambda
    // function's task.
    for chunk in distinct.chunks(CONCURRENT_READS) {
        let reads: Vec<_> = chunk.iter().map(|r| read_one(aws, r)).collect();
        for (reference, value) in futures_util::future::try_join_all(reads).await? {
            out.insert(reference, value);
        }
    }
    Ok(out)
}
