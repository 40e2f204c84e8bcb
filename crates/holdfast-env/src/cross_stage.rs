//! Another stage's resources in a function's environment or in its role's secret grants.
//!
//! A value names a stage when one of its segments — split at `/ : . _ -` and the like — is a
//! stage name `holdfast.toml` knows (`/prod/my-service/api-keys`, `orders-prod`,
//! `arn:…:secret:prod/stripe`, `https://api.prod.example.com`). Only values that identify a
//! resource are read: ARNs, SSM paths, URLs (their host), and the values of keys whose name or
//! type says table, bucket, queue, topic, secret or parameter.

use crate::values::{arn_service, is_ssm_path};

/// The other stage a value names, if any.
pub fn other_stage<'a>(
    key: &str,
    value: &str,
    own: &str,
    known: &'a [String],
    typed_as_resource: bool,
) -> Option<&'a str> {
    let text = resource_text(key, value, typed_as_resource)?;
    let found = segments(&text).find_map(|segment| {
        known
            .iter()
            .find(|stage| !stage.eq_ignore_ascii_case(own) && stage.eq_ignore_ascii_case(segment))
            .map(String::as_str)
    });
    found
}

/// Whether a granted resource is every secret or parameter (`*`, `arn:aws:secretsmanager:*:*:*`,
/// `…:secret:*`, `…:parameter/*`).
pub fn grants_everything(resource: &str) -> bool {
    if resource == "*" {
        return true;
    }
    let tail = resource.rsplit(':').next().unwrap_or(resource);
    matches!(tail, "*" | "secret*" | "parameter*" | "parameter/*")
        || resource.ends_with(":secret:*")
}

/// The part of `value` that names a resource, if it names one.
fn resource_text(key: &str, value: &str, typed_as_resource: bool) -> Option<String> {
    if arn_service(value).is_some() || is_ssm_path(value) {
        return Some(value.to_string());
    }
    if let Ok(url) = url::Url::parse(value) {
        if let Some(host) = url.host_str() {
            return Some(host.to_string());
        }
    }
    let upper = key.to_ascii_uppercase();
    let named = [
        "TABLE", "BUCKET", "QUEUE", "TOPIC", "SECRET", "PARAM", "STREAM",
    ]
    .iter()
    .any(|word| upper.split('_').any(|part| part.starts_with(word)));
    (typed_as_resource || named).then(|| value.to_string())
}

fn segments(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stages() -> Vec<String> {
        ["prod", "staging", "dev"].map(String::from).to_vec()
    }

    #[test]
    fn finds_another_stages_segment_in_resource_values() {
        let known = stages();
        let hit = |key: &str, value: &str| other_stage(key, value, "staging", &known, false);
        assert_eq!(hit("API_KEYS", "/prod/my-service/api-keys"), Some("prod"));
        assert_eq!(hit("ORDERS_TABLE", "orders-prod"), Some("prod"));
        assert_eq!(
            hit(
                "X",
                "arn:aws:secretsmanager:eu-west-1:1:secret:prod/stripe-AbC"
            ),
            Some("prod")
        );
        assert_eq!(hit("API", "https://api.dev.example.com/v1"), Some("dev"));
        assert_eq!(hit("ORDERS_TABLE", "orders-staging"), None);
        assert_eq!(hit("ORDERS_TABLE", "orders-production"), None);
        assert_eq!(hit("GREETING", "hello prod"), None);
        assert_eq!(hit("API", "https://example.com/prod"), None);
    }

    #[test]
    fn wildcard_grants_are_everything() {
        for r in [
            "*",
            "arn:aws:secretsmanager:*:*:secret:*",
            "arn:aws:ssm:eu-west-1:1:parameter/*",
            "arn:aws:secretsmanager:eu-west-1:1:*",
        ] {
            assert!(grants_everything(r), "{r}");
        }
        assert!(!grants_everything(
            "arn:aws:secretsmanager:eu-west-1:1:secret:staging/*"
        ));
    }
}
