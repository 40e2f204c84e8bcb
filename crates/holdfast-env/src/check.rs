//! The rules applied to functions' environments: the schema's keys, unresolved text,
//! credentials, payment keys and other stages. The same for a template's functions
//! (`env check`) and deployed ones (`env verify`).

use crate::config::{EnvSettings, KeySpec, SecretMode, ValueType};
use crate::fingerprint::Fingerprinter;
use crate::functions::{Function, VarValue};
use crate::rules::{self, Levels, Rule};
use crate::secrets::{is_reference, Detector};
use crate::{cross_stage, unresolved, values};
use holdfast_core::config::Environment;
use holdfast_report::env::EnvFinding;
use holdfast_report::guard::Location;
use holdfast_runtime::live_key::{self, KeyMode};
use std::collections::BTreeMap;

/// What the rules are judged against.
#[derive(Debug, Clone)]
pub struct Context {
    /// The stage the functions belong to, if named.
    pub stage: Option<String>,
    pub environment: Environment,
    pub settings: EnvSettings,
    /// Every stage `holdfast.toml` knows (for `env-cross-stage`).
    pub known_stages: Vec<String>,
}

/// The resource types a `secret = "ref"` key may refer to.
const SECRET_TYPES: [&str; 2] = ["AWS::SecretsManager::Secret", "AWS::SSM::Parameter"];

/// Collects findings at their rule's level.
pub struct Findings<'a> {
    levels: Levels,
    fingerprints: &'a Fingerprinter,
    pub list: Vec<EnvFinding>,
}

impl<'a> Findings<'a> {
    /// # Errors
    /// A rule in `[env.rules]` that does not exist.
    pub fn new(settings: &EnvSettings, fingerprints: &'a Fingerprinter) -> Result<Self, String> {
        Ok(Findings {
            levels: Levels::new(settings.rules.clone())?,
            fingerprints,
            list: Vec::new(),
        })
    }

    /// Adds a finding of `rule` about `function`'s `key` (fingerprinting `value`, if given).
    pub fn add(
        &mut self,
        rule: &Rule,
        function: &Function,
        key: &str,
        line: u32,
        message: String,
        value: Option<&str>,
    ) {
        let Some(severity) = self.levels.severity(rule) else {
            return;
        };
        self.list.push(EnvFinding {
            rule: rule.id.to_string(),
            severity,
            stack: function.stack.clone(),
            function: function.logical_id.clone(),
            key: key.to_string(),
            message,
            fix: rule.fix.to_string(),
            fingerprint: value.map(|v| self.fingerprints.of(v)),
            location: (!function.file.is_empty()).then(|| Location {
                file: function.file.clone(),
                line: if line > 0 { line } else { function.line },
                column: 1,
            }),
        });
    }
}

/// Applies every rule to every function.
pub fn check(functions: &[Function], ctx: &Context, findings: &mut Findings<'_>) {
    let patterns: BTreeMap<&str, regex::Regex> = ctx
        .settings
        .keys
        .iter()
        .filter_map(|(k, spec)| {
            let p = spec.pattern.as_deref()?;
            values::compile_pattern(p).ok().map(|re| (k.as_str(), re))
        })
        .collect();
    for function in functions {
        check_function(function, ctx, &patterns, findings);
    }
}

fn check_function(
    function: &Function,
    ctx: &Context,
    patterns: &BTreeMap<&str, regex::Regex>,
    findings: &mut Findings<'_>,
) {
    let schema: Vec<(&String, &KeySpec)> = ctx
        .settings
        .keys
        .iter()
        .filter(|(_, spec)| spec.applies_to(&function.logical_id, function.name.as_deref()))
        .collect();
    let own = ctx.stage.as_deref().unwrap_or("");
    for (name, spec) in &schema {
        let key = spec.effective(name, ctx.environment);
        if key.required
            && key.default.is_none()
            && !function.variables.iter().any(|v| &v.key == *name)
        {
            findings.add(
                &rules::MISSING,
                function,
                name,
                0,
                format!("required in {} and not set", ctx.environment.as_str()),
                None,
            );
        }
    }
    for var in &function.variables {
        let spec = schema
            .iter()
            .find(|(name, _)| **name == var.key)
            .map(|(_, s)| *s);
        if spec.is_none() && !ctx.settings.keys.is_empty() {
            findings.add(
                &rules::UNKNOWN,
                function,
                &var.key,
                var.line,
                "not in the schema".into(),
                None,
            );
        }
        let mut unresolved_found = false;
        for (text, in_sub) in &var.written {
            if let Some(what) = unresolved::find(text, *in_sub) {
                findings.add(
                    &rules::UNRESOLVED,
                    function,
                    &var.key,
                    var.line,
                    format!("holds {what}, deployed as literal text"),
                    Some(text),
                );
                unresolved_found = true;
                break;
            }
        }
        if let (Some(text), Some(own)) = (&var.sub_text, ctx.stage.as_deref()) {
            let typed = spec.is_some_and(typed_as_resource);
            if let Some(other) =
                cross_stage::other_stage(&var.key, text, own, &ctx.known_stages, typed)
            {
                findings.add(
                    &rules::CROSS_STAGE,
                    function,
                    &var.key,
                    var.line,
                    format!("names stage `{other}`'s resource in stage `{own}`"),
                    None,
                );
            }
        }
        match &var.value {
            VarValue::Literal(value) => {
                if !unresolved_found {
                    literal(
                        function, &var.key, var.line, value, spec, ctx, patterns, findings,
                    );
                }
            }
            VarValue::Reference { types, imports, .. } => {
                if spec.is_some_and(|s| s.secret == Some(SecretMode::Ref))
                    && !imports
                    && !types.iter().any(|t| SECRET_TYPES.contains(&t.as_str()))
                {
                    let refers = if types.is_empty() {
                        "no secret or parameter".to_string()
                    } else {
                        types.iter().cloned().collect::<Vec<_>>().join(", ")
                    };
                    findings.add(
                        &rules::PLAINTEXT_SECRET,
                        function,
                        &var.key,
                        var.line,
                        format!("a secret key (secret = \"ref\") refers to {refers}"),
                        None,
                    );
                }
            }
            VarValue::Unknown => {}
        }
    }
    for grant in &function.secret_grants {
        if cross_stage::grants_everything(grant) {
            findings.add(
                &rules::CROSS_STAGE,
                function,
                "(role)",
                0,
                "its role may read every secret or parameter (resource `*`)".into(),
                None,
            );
        } else if let Some(other) =
            cross_stage::other_stage("SECRET", grant, own, &ctx.known_stages, true)
        {
            findings.add(
                &rules::CROSS_STAGE,
                function,
                "(role)",
                0,
                format!("its role may read stage `{other}`'s secrets or parameters"),
                None,
            );
        }
    }
}

/// The rules on a literal value.
#[allow(clippy::too_many_arguments)]
fn literal(
    function: &Function,
    key: &str,
    line: u32,
    value: &str,
    spec: Option<&KeySpec>,
    ctx: &Context,
    patterns: &BTreeMap<&str, regex::Regex>,
    findings: &mut Findings<'_>,
) {
    let reference = is_reference(value);
    if let Some(spec) = spec {
        let effective = spec.effective(key, ctx.environment);
        if value.is_empty() {
            findings.add(
                &rules::EMPTY,
                function,
                key,
                line,
                "set to the empty string".into(),
                None,
            );
            return;
        }
        if spec.secret == Some(SecretMode::Ref) && !reference {
            findings.add(
                &rules::PLAINTEXT_SECRET,
                function,
                key,
                line,
                "a secret key (secret = \"ref\") holds a literal value, not a reference".into(),
                Some(value),
            );
            return;
        }
        if let Err(what) = values::check(
            value,
            spec.type_,
            patterns.get(key),
            spec.service.as_deref(),
        ) {
            findings.add(
                &rules::TYPE,
                function,
                key,
                line,
                format!("{what} (type = \"{}\")", spec.type_.as_str()),
                Some(value),
            );
        } else if let Some(allowed) = effective.values {
            if !allowed.iter().any(|a| a == value) {
                findings.add(
                    &rules::NOT_ALLOWED,
                    function,
                    key,
                    line,
                    format!(
                        "not one of the values allowed in {}",
                        ctx.environment.as_str()
                    ),
                    Some(value),
                );
            }
        }
    }
    if let Some(hit) = Detector::builtin().scan(key, value) {
        findings.add(
            &rules::PLAINTEXT_SECRET,
            function,
            key,
            line,
            format!(
                "a literal credential: {} (rule {})",
                hit.description, hit.rule
            ),
            Some(value),
        );
    }
    for payment in live_key::payment_keys(value) {
        if live_key::mismatch(ctx.environment, &payment) {
            let what = match payment.mode {
                KeyMode::Live => "a live",
                KeyMode::Test => "a test",
            };
            findings.add(
                &rules::LIVE_KEY,
                function,
                key,
                line,
                format!(
                    "{what} {} key in a {} stage",
                    payment.provider,
                    ctx.environment.as_str()
                ),
                Some(value),
            );
            break;
        }
    }
    let typed_as_resource = spec.is_some_and(typed_as_resource);
    if let Some(own) = ctx.stage.as_deref() {
        if let Some(other) =
            cross_stage::other_stage(key, value, own, &ctx.known_stages, typed_as_resource)
        {
            findings.add(
                &rules::CROSS_STAGE,
                function,
                key,
                line,
                format!("names stage `{other}`'s resource in stage `{own}`"),
                Some(value),
            );
        }
    }
}

/// A key whose type names a resource (read by the cross-stage rule whatever its name).
fn typed_as_resource(spec: &KeySpec) -> bool {
    matches!(
        spec.type_,
        ValueType::Arn | ValueType::Table | ValueType::SsmPath | ValueType::Url
    )
}
