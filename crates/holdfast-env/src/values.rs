//! Whether a literal value is of a key's type. The answer never repeats the value: it says what
//! the value is not.

use crate::config::ValueType;

/// A `regex` key's pattern, anchored so the whole value must match.
///
/// # Errors
/// The pattern is not a regular expression.
pub fn compile_pattern(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{pattern})$"))
}

/// `Ok` when `value` is a `type_`; else what it is not ("not an integer"). `pattern` and
/// `service` come from the key's spec (checked when the schema was read).
pub fn check(
    value: &str,
    type_: ValueType,
    pattern: Option<&regex::Regex>,
    service: Option<&str>,
) -> Result<(), String> {
    let ok = match type_ {
        ValueType::String | ValueType::Enum => true,
        ValueType::Int => value.trim().parse::<i64>().is_ok(),
        ValueType::Bool => matches!(
            value.to_ascii_lowercase().as_str(),
            "true" | "false" | "1" | "0" | "yes" | "no"
        ),
        ValueType::Url => url::Url::parse(value).is_ok_and(|u| u.has_host()),
        ValueType::Email => is_email(value),
        ValueType::Duration => humantime::parse_duration(value).is_ok(),
        ValueType::Regex => pattern.is_none_or(|p| p.is_match(value)),
        ValueType::Arn => {
            return arn_service(value).map_or_else(
                || Err("not an ARN (arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE)".into()),
                |s| match service {
                    Some(want) if s != want => Err(format!("not an ARN of {want}")),
                    _ => Ok(()),
                },
            )
        }
        ValueType::Table => is_table_name(value),
        ValueType::SsmPath => is_ssm_path(value),
    };
    if ok {
        Ok(())
    } else {
        Err(match type_ {
            ValueType::Int => "not an integer".into(),
            ValueType::Bool => "not a boolean (true/false, 1/0, yes/no)".into(),
            ValueType::Url => "not a URL with a host".into(),
            ValueType::Email => "not an email address".into(),
            ValueType::Duration => "not a duration like 30s or 10m".into(),
            ValueType::Regex => "does not match the key's pattern".into(),
            ValueType::Table => "not a DynamoDB table name (3–255 of A–Z a–z 0–9 _ - .)".into(),
            ValueType::SsmPath => "not an SSM parameter path (/a/b)".into(),
            other => format!("not a {}", other.as_str()),
        })
    }
}

/// The service of an ARN (`arn:aws:secretsmanager:…` → `secretsmanager`).
pub fn arn_service(value: &str) -> Option<&str> {
    let mut parts = value.splitn(6, ':');
    let (arn, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    (arn == "arn" && partition.starts_with("aws") && !service.is_empty() && !resource.is_empty())
        .then_some(service)
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !local.contains(char::is_whitespace)
        && domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

fn is_table_name(value: &str) -> bool {
    (3..=255).contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// `/a/b`: segments of letters, digits and `_ . - `.
pub fn is_ssm_path(value: &str) -> bool {
    value.len() > 1
        && value.starts_with('/')
        && value[1..].split('/').all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_accepts_its_values_and_refuses_others() {
        let re = compile_pattern("[a-z]+").unwrap();
        let table: &[(ValueType, &str, bool)] = &[
            (ValueType::Int, "42", true),
            (ValueType::Int, "4.2", false),
            (ValueType::Bool, "TRUE", true),
            (ValueType::Bool, "maybe", false),
            (ValueType::Url, "https://api.example.com/v1", true),
            (ValueType::Url, "example.com", false),
            (ValueType::Email, "ops@example.com", true),
            (ValueType::Email, "ops@", false),
            (ValueType::Duration, "1h 30m", true),
            (ValueType::Duration, "soon", false),
            (ValueType::Regex, "abc", true),
            (ValueType::Regex, "abc1", false),
            (ValueType::Table, "orders-prod", true),
            (ValueType::Table, "ab", false),
            (ValueType::SsmPath, "/svc/prod/key", true),
            (ValueType::SsmPath, "svc/prod", false),
            (ValueType::SsmPath, "/svc//key", false),
            (
                ValueType::Arn,
                "arn:aws:sqs:eu-west-1:123456789012:queue",
                true,
            ),
            (ValueType::Arn, "queue", false),
        ];
        for &(t, v, ok) in table {
            assert_eq!(check(v, t, Some(&re), None).is_ok(), ok, "{t:?} {v}");
        }
        let secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf";
        assert!(check(secret, ValueType::Arn, None, Some("secretsmanager")).is_ok());
        let err = check(secret, ValueType::Arn, None, Some("ssm")).unwrap_err();
        assert!(!err.contains("db-AbCdEf"), "{err}");
    }
}
