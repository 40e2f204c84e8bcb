//! Text that a framework should have replaced and deployed literally instead: Serverless
//! variables (`${env:…}`, `${ssm:…}`, `${self:…}`, `${file(…)}`, with defaults and nested),
//! CDK tokens (`${Token[…]}`), `${{…}}`, and what JavaScript prints for a missing or
//! non-string value (`[object Object]`, `undefined`, `null`, `NaN`).
//!
//! In a `Fn::Sub` template only what `Fn::Sub` itself would not resolve counts: `${Name}`,
//! `${Name.Attribute}`, `${AWS::Region}` and the `${!Literal}` escape are its own.

/// What was left unresolved, described without the text itself: `a Serverless ${env:…}
/// variable`.
pub fn find(text: &str, in_sub: bool) -> Option<String> {
    let whole = text.trim();
    for literal in ["[object Object]", "undefined", "null", "NaN"] {
        if whole == literal || (literal == "[object Object]" && text.contains(literal)) {
            return Some(format!(
                "`{literal}` (a missing or non-string value printed by JavaScript)"
            ));
        }
    }
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        if after.starts_with('{') {
            return Some("a `${{…}}` variable".into());
        }
        let Some(body) = variable_body(after) else {
            // An unterminated `${`: not a variable of anything.
            return Some("an unterminated `${`".into());
        };
        if let Some(what) = describe(body, in_sub) {
            return Some(what);
        }
        rest = &after[body.len()..];
    }
    None
}

/// The text up to the `}` that closes a `${`, nested `${…}` included.
fn variable_body(after: &str) -> Option<&str> {
    let mut depth = 1usize;
    let bytes = after.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'$' if bytes.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&after[..i]);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Why `${body}` is unresolved, or `None` when `Fn::Sub` resolves it (`in_sub`).
fn describe(body: &str, in_sub: bool) -> Option<String> {
    if body.starts_with("Token[") {
        return Some("a CDK token `${Token[…]}`".into());
    }
    if in_sub && (body.starts_with('!') || is_sub_variable(body)) {
        return None;
    }
    let source: String = body
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    let next = body[source.len()..].chars().next();
    Some(match next {
        Some(':') if !source.is_empty() => {
            let source = source.split('.').next().unwrap_or(&source).to_string();
            format!("a Serverless `${{{source}:…}}` variable")
        }
        Some('(') if !source.is_empty() => format!("a Serverless `${{{source}(…)}}` variable"),
        _ => "a `${…}` variable".into(),
    })
}

/// `Name`, `Name.Attribute` or `AWS::Pseudo`: what `Fn::Sub` resolves.
fn is_sub_variable(body: &str) -> bool {
    if let Some(pseudo) = body.strip_prefix("AWS::") {
        return !pseudo.is_empty() && pseudo.chars().all(|c| c.is_ascii_alphanumeric());
    }
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_frameworks_leave_literal() {
        let found = [
            "${env:SECRET_KEY}",
            "prefix-${ssm:/app/key}",
            "${self:custom.tableName}",
            "${opt:stage, 'dev'}",
            "${sls:stage}",
            "${param:domain}",
            "${cf:other-stack.Output}",
            "${cf.us-east-1:other.Output}",
            "${s3:bucket/key}",
            "${file(./config.json):key}",
            "${aws:region}",
            "${env:X, ${self:custom.default}}",
            "${Token[TOKEN.123]}",
            "[object Object]",
            "undefined",
            "null",
            "NaN",
            "${{deep:5}}",
            "${unterminated",
        ];
        for text in found {
            let what = find(text, false).unwrap_or_else(|| panic!("{text}"));
            assert!(!what.contains("SECRET_KEY"), "{what}");
            assert!(find(text, true).is_some(), "in Fn::Sub: {text}");
        }
        assert_eq!(
            find("${env:SECRET_KEY}", false).unwrap(),
            "a Serverless `${env:…}` variable"
        );
        assert_eq!(
            find("${file(./x.json):k}", false).unwrap(),
            "a Serverless `${file(…)}` variable"
        );
    }

    #[test]
    fn leaves_what_is_resolved_or_plain() {
        for text in [
            "orders-prod",
            "https://example.com/a?b=c",
            "nullable",
            "$HOME",
            "{\"a\": 1}",
            "price: $5 {approx}",
        ] {
            assert_eq!(find(text, false), None, "{text}");
        }
        for text in [
            "arn:aws:s3:::${Bucket}/*",
            "${AWS::Region}-${Table.Arn}",
            "${!Literal}",
            "${Stage_Name}",
        ] {
            assert_eq!(find(text, true), None, "{text}");
            assert!(find(text, false).is_some(), "outside Fn::Sub: {text}");
        }
    }
}
