//! The references in a deployed function's environment, and the rules on what they resolve to.
//!
//! A variable refers to a store when its value is the ARN of a Secrets Manager secret or of an
//! SSM parameter; when its name says so (`<KEY>_SECRET_ARN`, `<KEY>_SECRET_ID`,
//! `<KEY>_SECRET_NAME` for a secret, `<KEY>_PARAM`, `<KEY>_PARAMETER`, `<KEY>_PARAM_NAME` for a
//! parameter, the seed pattern of reading secrets at run time); or when the schema says so
//! (`type = "ssm-path"`, or `secret = "ref"` with a parameter path). No schema is needed.
//!
//! Resolved, a reference must exist and not be empty, hold every JSON field its schema key
//! names (`json_keys`), hold no payment key of the wrong mode for the stage, and — a plain
//! `String` parameter — hold no credential. References to another stage's store are not read
//! (the cross-stage rule reports them).

use crate::check::Findings;
use crate::config::{KeySpec, SecretMode, ValueType};
use crate::functions::Function;
use crate::rules;
use crate::secrets::{is_secret_key_name, Detector};
use crate::values::{arn_service, is_ssm_path};
use holdfast_core::config::Environment;
use holdfast_runtime::live_key::{self, KeyMode};

use super::deployed::StoredValue;

/// Which store a reference points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Store {
    Secret,
    Parameter,
}

impl Store {
    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Store::Secret => "secret",
            Store::Parameter => "parameter",
        }
    }
}

/// A secret's id (name or ARN) or a parameter's name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    pub store: Store,
    pub id: String,
}

const SECRET_SUFFIXES: [&str; 3] = ["_SECRET_ARN", "_SECRET_ID", "_SECRET_NAME"];
const PARAMETER_SUFFIXES: [&str; 3] = ["_PARAM", "_PARAMETER", "_PARAM_NAME"];

/// The store `value` (of the variable `key`, with its schema `spec`) refers to, if any.
pub fn reference(key: &str, value: &str, spec: Option<&KeySpec>) -> Option<Reference> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let make = |store, id: String| Some(Reference { store, id });
    if let Some(service) = arn_service(value) {
        let resource = value.splitn(6, ':').nth(5).unwrap_or_default();
        return match service {
            "secretsmanager" if resource.starts_with("secret:") => {
                make(Store::Secret, value.to_string())
            }
            // arn:…:parameter/prod/db → /prod/db; arn:…:parameter/plain → plain.
            "ssm" => resource.strip_prefix("parameter/").and_then(|name| {
                let name = if name.contains('/') {
                    format!("/{name}")
                } else {
                    name.to_string()
                };
                make(Store::Parameter, name)
            }),
            _ => None,
        };
    }
    let upper = key.to_ascii_uppercase();
    if SECRET_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
        return make(Store::Secret, value.to_string());
    }
    if PARAMETER_SUFFIXES.iter().any(|s| upper.ends_with(s)) {
        return make(Store::Parameter, value.to_string());
    }
    let by_schema =
        spec.is_some_and(|s| s.type_ == ValueType::SsmPath || s.secret == Some(SecretMode::Ref));
    (by_schema && is_ssm_path(value)).then(|| Reference {
        store: Store::Parameter,
        id: value.to_string(),
    })
}

/// The values in a resolved reference worth comparing across stages: a secret's (or
/// `SecureString`'s) whole text, and each JSON field that is a credential by name or pattern.
pub fn secret_values(stored: &StoredValue) -> Vec<(Option<String>, String)> {
    let mut out = Vec::new();
    if stored.text.trim().is_empty() {
        return out;
    }
    if stored.secret {
        out.push((None, stored.text.clone()));
    }
    if let Some(fields) = json_fields(&stored.text) {
        for (field, value) in fields {
            if !value.trim().is_empty()
                && (is_secret_key_name(&field)
                    || Detector::builtin().scan(&field, &value).is_some())
            {
                out.push((Some(field), value));
            }
        }
    } else if !stored.secret && Detector::builtin().scan("VALUE", &stored.text).is_some() {
        out.push((None, stored.text.clone()));
    }
    out
}

/// A JSON object's string (and number) fields.
fn json_fields(text: &str) -> Option<Vec<(String, String)>> {
    let serde_json::Value::Object(map) = serde_json::from_str(text).ok()? else {
        return None;
    };
    Some(
        map.into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                serde_json::Value::Number(n) => Some((k, n.to_string())),
                _ => None,
            })
            .collect(),
    )
}

/// What a reference was found to hold, judged.
pub struct Resolved<'a> {
    pub function: &'a Function,
    pub key: &'a str,
    pub reference: &'a Reference,
    pub spec: Option<&'a KeySpec>,
    /// `None`: the secret or parameter does not exist.
    pub stored: Option<&'a StoredValue>,
}

/// The rules on one resolved reference.
pub fn judge(resolved: &Resolved<'_>, environment: Environment, findings: &mut Findings<'_>) {
    let Resolved {
        function,
        key,
        reference,
        spec,
        stored,
    } = resolved;
    let what = reference.store.describe();
    let Some(stored) = stored else {
        findings.add(
            &rules::REFERENCE,
            function,
            key,
            0,
            format!("names a {what} that does not exist"),
            None,
        );
        return;
    };
    if stored.text.trim().is_empty() {
        findings.add(
            &rules::REFERENCE,
            function,
            key,
            0,
            format!("names a {what} that is empty"),
            None,
        );
        return;
    }
    let fields = json_fields(&stored.text);
    if let Some(wanted) = spec.and_then(|s| s.json_keys.as_ref()) {
        match &fields {
            None => findings.add(
                &rules::REFERENCE,
                function,
                key,
                0,
                format!(
                    "names a {what} that is not a JSON object (the schema names its keys: {})",
                    wanted.join(", ")
                ),
                None,
            ),
            Some(fields) => {
                for field in wanted {
                    let present = fields
                        .iter()
                        .find(|(f, _)| f == field)
                        .is_some_and(|(_, v)| !v.trim().is_empty());
                    if !present {
                        findings.add(
                            &rules::REFERENCE,
                            function,
                            &format!("{key} → {field}"),
                            0,
                            format!("the {what} it names has no non-empty JSON key `{field}`"),
                            None,
                        );
                    }
                }
            }
        }
    }
    let texts: Vec<(String, &str)> = match &fields {
        Some(fields) => fields
            .iter()
            .map(|(f, v)| (format!("{key} → {f}"), v.as_str()))
            .collect(),
        None => vec![(key.to_string(), stored.text.as_str())],
    };
    for (label, text) in &texts {
        if let Some(payment) = live_key::payment_keys(text)
            .into_iter()
            .find(|p| live_key::mismatch(environment, p))
        {
            let mode = match payment.mode {
                KeyMode::Live => "a live",
                KeyMode::Test => "a test",
            };
            findings.add(
                &rules::LIVE_KEY,
                function,
                label,
                0,
                format!(
                    "the {what} it names holds {mode} {} key in a {} stage",
                    payment.provider,
                    environment.as_str()
                ),
                Some(text),
            );
        }
    }
    if reference.store == Store::Parameter && !stored.secret {
        if let Some((label, text, hit)) = texts
            .iter()
            .find_map(|(l, t)| Detector::builtin().scan(l, t).map(|h| (l, t, h)))
        {
            findings.add(
                &rules::PLAINTEXT_SECRET,
                function,
                label,
                0,
                format!(
                    "the parameter it names is a plain String holding a credential: {} (rule {}); make it a SecureString",
                    hit.description, hit.rule
                ),
                Some(text),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(store: Store, id: &str) -> Option<Reference> {
        Some(Reference {
            store,
            id: id.to_string(),
        })
    }

    #[test]
    fn references_are_recognised_by_arn_name_and_schema() {
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/stripe-AbC";
        assert_eq!(reference("ANYTHING", arn, None), r(Store::Secret, arn));
        assert_eq!(
            reference(
                "X",
                "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db",
                None
            ),
            r(Store::Parameter, "/prod/db")
        );
        assert_eq!(
            reference("X", "arn:aws:ssm:eu-west-1:1:parameter/plain", None),
            r(Store::Parameter, "plain")
        );
        assert_eq!(
            reference("STRIPE_SECRET_ARN", "staging/stripe", None),
            r(Store::Secret, "staging/stripe")
        );
        assert_eq!(
            reference("api_key_param", "/svc/staging/api-key", None),
            r(Store::Parameter, "/svc/staging/api-key")
        );
        // A path is a reference only when the name or the schema says so.
        assert_eq!(reference("CONFIG", "/svc/staging/config", None), None);
        let spec = KeySpec {
            type_: ValueType::SsmPath,
            ..KeySpec::default()
        };
        assert_eq!(
            reference("CONFIG", "/svc/staging/config", Some(&spec)),
            r(Store::Parameter, "/svc/staging/config")
        );
        assert_eq!(
            reference("QUEUE", "arn:aws:sqs:eu-west-1:1:orders", None),
            None
        );
        assert_eq!(reference("X_SECRET_ARN", "  ", None), None);
    }

    #[test]
    fn compared_values_are_secrets_and_credential_fields() {
        let rds = StoredValue {
            text: r#"{"username":"app","password":"pw-1234567890","host":"db","port":5432}"#.into(),
            secret: true,
        };
        let values = secret_values(&rds);
        assert!(values.iter().any(|(f, _)| f.is_none()), "the whole secret");
        assert!(values
            .iter()
            .any(|(f, v)| f.as_deref() == Some("password") && v == "pw-1234567890"));
        assert!(!values
            .iter()
            .any(|(f, _)| matches!(f.as_deref(), Some("username" | "host" | "port"))));
        let plain = StoredValue {
            text: "info".into(),
            secret: false,
        };
        assert!(secret_values(&plain).is_empty());
    }
}
