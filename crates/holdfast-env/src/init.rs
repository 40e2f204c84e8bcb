//! `env init`: a first `[env]` schema drafted from today's functions.
//!
//! Every key any function sets becomes `[env.keys.KEY]`: `required` when every function sets
//! it, the narrowest type every literal value has (`int`, `bool`, `url`, `arn` with its service,
//! `ssm-path`, `email`, `duration`, else `string`), and `secret = "ref"` when its value refers
//! to a secret or parameter or its name says credential. No value is ever copied into the
//! draft: not as a default, not as an allowed value (a value may be a secret; defaults and
//! enums are the user's to write).

use crate::config::ValueType;
use crate::functions::{Function, VarValue};
use crate::secrets::{is_reference, is_secret_key_name};
use crate::values;
use holdfast_report::env::DraftKey;
use std::collections::BTreeMap;

/// The draft: one entry per key, and its TOML.
pub fn draft(functions: &[Function]) -> (Vec<DraftKey>, String) {
    struct Seen {
        functions: usize,
        types: Option<(ValueType, Option<String>)>,
        secret: bool,
    }
    let mut keys: BTreeMap<&str, Seen> = BTreeMap::new();
    for function in functions {
        for var in &function.variables {
            let seen = keys.entry(&var.key).or_insert(Seen {
                functions: 0,
                types: None,
                secret: is_secret_key_name(&var.key),
            });
            seen.functions += 1;
            match &var.value {
                VarValue::Literal(value) => {
                    let guess = guess_type(value);
                    if is_reference(value) {
                        seen.secret = true;
                    }
                    seen.types = Some(match seen.types.take() {
                        None => guess,
                        Some(previous) if previous == guess => previous,
                        Some(_) => (ValueType::String, None),
                    });
                }
                VarValue::Reference { types, .. } => {
                    if types
                        .iter()
                        .any(|t| t == "AWS::SecretsManager::Secret" || t == "AWS::SSM::Parameter")
                    {
                        seen.secret = true;
                    }
                }
                VarValue::Unknown => {}
            }
        }
    }
    let total = functions.len();
    let mut toml = String::from(
        "# Drafted by `holdfast env init` from the functions' environments. No value was\n\
         # copied: add defaults, allowed values and per-environment sections yourself.\n",
    );
    let mut out = Vec::new();
    for (key, seen) in keys {
        let (type_, service) = seen.types.unwrap_or((ValueType::String, None));
        let required = seen.functions == total;
        toml.push_str(&format!("\n[env.keys.{}]\n", toml_key(key)));
        if required {
            toml.push_str("required = true\n");
        } else {
            toml.push_str(&format!(
                "# set by {} of {} functions\nrequired = false\n",
                seen.functions, total
            ));
        }
        if type_ != ValueType::String {
            toml.push_str(&format!("type = \"{}\"\n", type_.as_str()));
        }
        if let Some(service) = &service {
            toml.push_str(&format!("service = \"{service}\"\n"));
        }
        if seen.secret {
            toml.push_str("secret = \"ref\"\n");
        }
        out.push(DraftKey {
            key: key.to_string(),
            type_: type_.as_str().to_string(),
            required,
            secret: seen.secret,
            functions: seen.functions,
        });
    }
    (out, toml)
}

/// The narrowest type of one value (and an ARN's service).
fn guess_type(value: &str) -> (ValueType, Option<String>) {
    if let Some(service) = values::arn_service(value) {
        return (ValueType::Arn, Some(service.to_string()));
    }
    for t in [
        ValueType::Int,
        ValueType::Bool,
        ValueType::Url,
        ValueType::SsmPath,
        ValueType::Email,
    ] {
        if values::check(value, t, None, None).is_ok() {
            return (t, None);
        }
    }
    (ValueType::String, None)
}

/// A TOML key: bare when it can be.
fn toml_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""))
    }
}
