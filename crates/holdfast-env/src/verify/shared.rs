//! Secret values one stage shares with another: staging holding production's payment key,
//! whatever the variable is called and wherever the value is kept.
//!
//! A stage's secret values are its literal credentials (by pattern, by key name, or a
//! `secret = "ref"` key's literal) and what its references resolve to (a secret's or
//! `SecureString`'s whole text, and the JSON fields that are credentials). Values are matched
//! in memory and reported by fingerprint only.

use super::deployed::StoredValue;
use super::resolve::{self, Reference};
use super::FoundReference;
use crate::check::{Context, Findings};
use crate::config::SecretMode;
use crate::functions::{Function, VarValue};
use crate::rules;
use crate::secrets::{is_secret_key_name, Detector};
use holdfast_runtime::live_key;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// One secret value and where it is used.
pub(crate) struct SecretValue<'a> {
    pub function: &'a Function,
    /// The variable, or `VARIABLE → field` for a JSON secret's field.
    pub key: String,
    pub value: String,
}

/// Every secret value of one stage's functions.
pub(crate) fn secret_values<'a>(
    functions: &'a [Function],
    references: &[FoundReference<'a>],
    stored: &BTreeMap<Reference, Option<StoredValue>>,
    ctx: &Context,
) -> Vec<SecretValue<'a>> {
    let mut out = Vec::new();
    for function in functions {
        for var in &function.variables {
            let VarValue::Literal(value) = &var.value else {
                continue;
            };
            if value.trim().is_empty()
                || references
                    .iter()
                    .any(|r| r.key == var.key && std::ptr::eq(r.function, function))
            {
                continue;
            }
            let ref_key = ctx
                .settings
                .keys
                .get(&var.key)
                .is_some_and(|s| s.secret == Some(SecretMode::Ref));
            let credential = ref_key
                || is_secret_key_name(&var.key)
                || !live_key::payment_keys(value).is_empty()
                || Detector::builtin().scan(&var.key, value).is_some();
            if credential {
                out.push(SecretValue {
                    function,
                    key: var.key.clone(),
                    value: value.clone(),
                });
            }
        }
    }
    for r in references {
        let Some(Some(value)) = stored.get(&r.reference) else {
            continue;
        };
        for (field, text) in resolve::secret_values(value) {
            out.push(SecretValue {
                function: r.function,
                key: field.map_or_else(|| r.key.clone(), |f| format!("{} → {f}", r.key)),
                value: text,
            });
        }
    }
    out
}

/// Adds an `env-shared-secret` finding for each of `mine` that `theirs` holds too; returns
/// how many variables share a value.
pub(crate) fn report_shared(
    mine: &[SecretValue<'_>],
    theirs: &[SecretValue<'_>],
    other_stage: &str,
    findings: &mut Findings<'_>,
) -> usize {
    let by_value: HashMap<&str, &SecretValue<'_>> =
        theirs.iter().map(|v| (v.value.as_str(), v)).collect();
    let mut reported = BTreeSet::new();
    for value in mine {
        let Some(other) = by_value.get(value.value.as_str()) else {
            continue;
        };
        if !reported.insert((
            value.function.stack.as_str(),
            value.function.logical_id.as_str(),
            value.key.as_str(),
        )) {
            continue;
        }
        let name = other
            .function
            .name
            .as_deref()
            .unwrap_or(&other.function.logical_id);
        findings.add(
            &rules::SHARED_SECRET,
            value.function,
            &value.key,
            0,
            format!(
                "holds the same secret value as stage `{other_stage}` (function {name}, {})",
                other.key
            ),
            Some(&value.value),
        );
    }
    reported.len()
}
