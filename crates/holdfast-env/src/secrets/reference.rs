//! Values that point at a secret instead of holding one: Secrets Manager and SSM Parameter
//! Store ARNs, SSM parameter paths, CloudFormation dynamic references; and the other values
//! that are never a credential themselves (any ARN, an unresolved variable, a secret's name).

/// Whether `value` is a reference to a secret store rather than a secret: the ARN of a
/// Secrets Manager secret or an SSM parameter (`arn:aws:secretsmanager:…`, `arn:aws:ssm:…`,
/// any AWS partition), an SSM parameter path (`/prod/db/password`), or a CloudFormation
/// dynamic reference (`{{resolve:secretsmanager:…}}`, `{{resolve:ssm-secure:…}}`,
/// `{{resolve:ssm:…}}`).
pub fn is_reference(value: &str) -> bool {
    let value = value.trim();
    is_dynamic_reference(value)
        || arn_service(value).is_some_and(|service| service == "secretsmanager" || service == "ssm")
        || is_ssm_path(value)
}

/// Whether `value` can be left alone as not a credential whatever its key: a secret store
/// reference, any ARN (a KMS key, a role: names of resources), a value that is wholly an
/// unresolved variable or placeholder (`${DB_PASSWORD}`, `$(pass)`, `{{password}}`,
/// `<api-key>`, `%TOKEN%`: another check reports variables deployed as text), or a secret's
/// name in path form (`prod/orders/db`, `alias/orders`: lower case, at least one `/`).
pub(crate) fn is_not_a_credential(value: &str) -> bool {
    let value = value.trim();
    is_reference(value)
        || arn_service(value).is_some()
        || is_placeholder(value)
        || is_path_name(value)
}

/// `{{resolve:secretsmanager:…}}`, `{{resolve:ssm-secure:…}}` or `{{resolve:ssm:…}}`.
fn is_dynamic_reference(value: &str) -> bool {
    let Some(inner) = value
        .strip_prefix("{{resolve:")
        .and_then(|rest| rest.strip_suffix("}}"))
    else {
        return false;
    };
    ["secretsmanager:", "ssm-secure:", "ssm:"]
        .iter()
        .any(|service| inner.starts_with(service) && inner.len() > service.len())
}

/// The service of an ARN (`arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`), if `value` is one.
fn arn_service(value: &str) -> Option<&str> {
    let mut parts = value.splitn(6, ':');
    let (arn, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (arn == "arn"
        && partition.starts_with("aws")
        && word(partition)
        && word(service)
        && !resource.is_empty())
    .then_some(service)
}

/// `/name` or `/a/b/c`: SSM's parameter name characters (letters, digits, `_ . -`) in
/// non-empty segments after a leading `/`.
fn is_ssm_path(value: &str) -> bool {
    let Some(rest) = value.strip_prefix('/') else {
        return false;
    };
    !rest.is_empty()
        && rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        })
}

/// A value that is wholly one variable or placeholder.
fn is_placeholder(value: &str) -> bool {
    let wrapped = |open: &str, close: &str| {
        value.len() > open.len() + close.len() && value.starts_with(open) && value.ends_with(close)
    };
    let name = |s: &str| {
        s.bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    wrapped("${", "}")
        || wrapped("$(", ")")
        || wrapped("{{", "}}")
        || wrapped("<", ">")
        || (wrapped("%", "%") && name(&value[1..value.len() - 1]))
        || value.strip_prefix('$').is_some_and(name)
}

/// A name in path form: lower-case letters, digits and `_ . - + = @`, with at least one `/`
/// between non-empty segments (`prod/orders/db`). Random text (base64) has capitals.
fn is_path_name(value: &str) -> bool {
    value.contains('/')
        && value.split('/').all(|segment| {
            !segment.is_empty()
                && segment.bytes().all(|b| {
                    b.is_ascii_lowercase()
                        || b.is_ascii_digit()
                        || matches!(b, b'_' | b'.' | b'-' | b'+' | b'=' | b'@')
                })
        })
}

#[cfg(test)]
mod tests {
    use super::{is_not_a_credential, is_reference};

    #[test]
    fn secret_store_arns_are_references() {
        assert!(is_reference(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"
        ));
        assert!(is_reference(
            "arn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password"
        ));
        assert!(is_reference(
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x"
        ));
        assert!(!is_reference("arn:aws:kms:eu-west-1:123456789012:key/1234"));
        assert!(!is_reference("arn:aws:secretsmanager"));
        assert!(!is_reference(
            "arn:aws:secretsmanager:eu-west-1:123456789012:"
        ));
    }

    #[test]
    fn ssm_paths_are_references() {
        assert!(is_reference("/prod/db/password"));
        assert!(is_reference("/a/b"));
        assert!(is_reference("/orders_table.v2"));
        assert!(!is_reference("/"));
        assert!(!is_reference("/a//b"));
        assert!(!is_reference("/a/b/"));
        assert!(!is_reference("/K7MDENG+bPxRfiCY"));
        assert!(!is_reference("prod/db/password"));
    }

    #[test]
    fn dynamic_references_are_references() {
        assert!(is_reference(
            "{{resolve:secretsmanager:prod/db:SecretString:password}}"
        ));
        assert!(is_reference("{{resolve:ssm-secure:/prod/db/password:3}}"));
        assert!(is_reference("{{resolve:ssm:/prod/flag}}"));
        assert!(is_reference("  {{resolve:ssm:/prod/flag}}\n"));
        assert!(!is_reference("{{resolve:secretsmanager:}}"));
        assert!(!is_reference("{{resolve:s3:bucket/key}}"));
        assert!(!is_reference("{{resolve:ssm:/prod/flag"));
    }

    #[test]
    fn literals_are_not_references() {
        for value in [
            "",
            "hunter2",
            "orders-prod",
            "https://example.com/a/b",
            "changeme",
        ] {
            assert!(!is_reference(value), "{value}");
        }
    }

    #[test]
    fn other_values_that_are_not_credentials() {
        for value in [
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:iam::123456789012:role/orders",
            "${DB_PASSWORD}",
            "${ssm:/prod/db/password}",
            "$(DB_PASSWORD)",
            "{{ password }}",
            "<your-api-key>",
            "%API_TOKEN%",
            "$DB_PASSWORD",
            "prod/orders/db",
            "alias/orders-key",
        ] {
            assert!(is_not_a_credential(value), "{value}");
        }
        for value in [
            "Xk9#mQ2$vL7pR4w",
            "Qz8fK2/pLm4Nx7/RtYv",
            "$",
            "${",
            "%%",
            "%not a name%",
            "prod//db",
            "arn:aws",
        ] {
            assert!(!is_not_a_credential(value), "{value}");
        }
    }
}
