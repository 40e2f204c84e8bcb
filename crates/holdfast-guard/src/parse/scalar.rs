//! Resolving YAML scalars to [`Value`]s the way CloudFormation does.
//!
//! Plain (unquoted) scalars: `true`, `True`, `TRUE`, `false`, `False`, `FALSE` → bool;
//! `null`, `Null`, `NULL`, `~` and the empty scalar → null; decimal integers
//! (`[-+]?[0-9]+`) and floats (`[-+]?(digits[.digits]|.digits)([eE][-+]?digits)`) → number,
//! keeping the text. Everything else is a string, including YAML 1.1's `yes`/`no`/`on`/`off`,
//! hex/octal forms (`0x1F`), `.inf`/`.nan`, `1_000` and dates such as `2010-09-09`.
//! Quoted and block scalars (`"…"`, `'…'`, `|`, `>`) are always strings.

use crate::value::Value;

/// The value of a plain (unquoted, untagged) scalar.
#[must_use]
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_number(text) => Value::Number(text.to_string()),
        _ => Value::String(text.to_string()),
    }
}

/// Whether `text` is a decimal integer.
#[must_use]
pub fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `text` is a decimal integer or float (with optional exponent).
#[must_use]
pub fn is_number(text: &str) -> bool {
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = all_digits(int_part)
        && frac_part.is_none_or(all_digits)
        && (!int_part.is_empty() || frac_part.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(is_integer);
    mantissa_ok && exponent_ok
}

/// The value of a boolean spelled any way YAML's core schema allows, for `!!bool`.
#[must_use]
pub fn parse_bool(text: &str) -> Option<bool> {
    match resolve_plain(text) {
        Value::Bool(b) => Some(b),
        _ => None,
    }
}

/// Whether `text` spells null, for `!!null`.
#[must_use]
pub fn is_null(text: &str) -> bool {
    resolve_plain(text) == Value::Null
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve() {
        assert_eq!(resolve_plain("true"), Value::Bool(true));
        assert_eq!(resolve_plain("False"), Value::Bool(false));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain(""), Value::Null);
        assert_eq!(resolve_plain("yes"), Value::String("yes".into()));
        assert_eq!(
            resolve_plain("2010-09-09"),
            Value::String("2010-09-09".into())
        );
        for n in [
            "5432", "-1", "+3", "1.5", "1e3", "-0.5", ".5", "1.", "1.5E+10", "007",
        ] {
            assert_eq!(resolve_plain(n), Value::Number(n.into()), "{n}");
        }
        for s in [
            ".", "-", "e3", "1e", "1.2.3", "0x1F", ".inf", "1_000", "1e3.5", "+", "1 2",
        ] {
            assert_eq!(resolve_plain(s), Value::String(s.into()), "{s}");
        }
    }
}
