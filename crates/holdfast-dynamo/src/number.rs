//! DynamoDB numbers: exact decimal text, validated, with a canonical form.
//!
//! DynamoDB stores a number as a decimal of up to 38 significant digits, with magnitude between
//! `1E-130` and `9.9999999999999999999999999999999999999E+125` (or zero). [`Number`] keeps the
//! text it was given (so nothing is rounded) and computes a canonical form — plain notation,
//! no exponent, no leading or trailing zeros, no `-0` (`1.500` → `1.5`, `-0` → `0`, `1E2` → `100`),
//! the way DynamoDB (and DynamoDB Local) normalise numbers. Equality and hashing use the
//! canonical form.

use holdfast_core::exit::{Classify, Outcome};
use std::fmt;
use std::hash::{Hash, Hasher};

/// Most significant digits DynamoDB keeps.
pub const MAX_DIGITS: usize = 38;
/// Smallest power of ten of a non-zero number's leading digit (`1E-130`).
pub const MIN_LEADING_POWER: i64 = -130;
/// Largest power of ten of a number's leading digit (`9.99…E+125`).
pub const MAX_LEADING_POWER: i64 = 125;

/// A DynamoDB number: its original text and its canonical form.
#[derive(Clone, Debug)]
pub struct Number {
    text: String,
    canonical: String,
    /// Significant digits of the canonical form (0 for zero).
    digits: usize,
}

/// Why a text is not a DynamoDB number. Messages never quote the text (it may be a customer's
/// value); the variants keep it for callers that may show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a decimal number")]
    Syntax(String),
    #[error("{1} significant digits; DynamoDB keeps at most 38")]
    TooPrecise(String, usize),
    #[error("out of DynamoDB's range (1E-130 to 9.99…E+125 in magnitude)")]
    OutOfRange(String),
}

impl Classify for NumberError {
    /// A number that DynamoDB cannot hold is bad input.
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

impl Number {
    /// Parse and validate a decimal text (`-1.5`, `1E2`, `+.5e-3`; no `NaN`/`Infinity`).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let syntax = || NumberError::Syntax(text.to_owned());
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = match mantissa.find('.') {
            Some(i) => (&mantissa[..i], &mantissa[i + 1..]),
            None => (mantissa, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int.len() + frac.len() == 0 || !all_digits(int) || !all_digits(frac) {
            return Err(syntax());
        }
        let mut exp: i64 = match exponent {
            None => 0,
            Some(e) => {
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !all_digits(digits) {
                    return Err(syntax());
                }
                // Anything beyond this is out of range whatever the mantissa.
                if digits.trim_start_matches('0').len() > 6 {
                    return Err(NumberError::OutOfRange(text.to_owned()));
                }
                e.parse().map_err(|_| syntax())?
            }
        };
        exp -= frac.len() as i64;
        let all: String = format!("{int}{frac}");
        let significant = all.trim_start_matches('0');
        let trimmed = significant.trim_end_matches('0');
        if trimmed.is_empty() {
            return Ok(Self {
                text: text.to_owned(),
                canonical: "0".to_owned(),
                digits: 0,
            });
        }
        exp += (significant.len() - trimmed.len()) as i64;
        if trimmed.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise(text.to_owned(), trimmed.len()));
        }
        let leading = exp + trimmed.len() as i64 - 1;
        if !(MIN_LEADING_POWER..=MAX_LEADING_POWER).contains(&leading) {
            return Err(NumberError::OutOfRange(text.to_owned()));
        }
        let mut canonical = String::with_capacity(trimmed.len() + 8);
        if negative {
            canonical.push('-');
        }
        if exp >= 0 {
            canonical.push_str(trimmed);
            canonical.extend(std::iter::repeat_n('0', exp as usize));
        } else {
            let point = trimmed.len() as i64 + exp;
            if point > 0 {
                let (a, b) = trimmed.split_at(point as usize);
                canonical.push_str(a);
                canonical.push('.');
                canonical.push_str(b);
            } else {
                canonical.push_str("0.");
                canonical.extend(std::iter::repeat_n('0', (-point) as usize));
                canonical.push_str(trimmed);
            }
        }
        Ok(Self {
            text: text.to_owned(),
            canonical,
            digits: trimmed.len(),
        })
    }

    /// The text as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The canonical form (plain notation, no redundant zeros).
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Significant digits (0 for zero).
    pub fn significant_digits(&self) -> usize {
        self.digits
    }

    /// Whether the original text is also a valid JSON number literal.
    pub fn is_json_literal(&self) -> bool {
        let t = self.text.strip_prefix('-').unwrap_or(&self.text);
        let int_end = t.find(['.', 'e', 'E']).unwrap_or(t.len());
        let int = &t[..int_end];
        let rest = &t[int_end..];
        let int_ok = int == "0" || (!int.is_empty() && !int.starts_with(['0', '+']));
        let frac_ok = match rest.strip_prefix('.') {
            Some(f) => {
                let end = f.find(['e', 'E']).unwrap_or(f.len());
                end > 0
            }
            None => true,
        };
        int_ok && frac_ok
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}
impl Eq for Number {}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Number {
    type Err = NumberError;
    fn from_str(s: &str) -> Result<Self, NumberError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (text, canonical) in [
            ("1.500", "1.5"),
            ("-0", "0"),
            ("-0.000", "0"),
            ("1E2", "100"),
            ("1e+2", "100"),
            ("+7", "7"),
            ("007", "7"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-12.34e-5", "-0.0001234"),
            ("123.456", "123.456"),
        ] {
            assert_eq!(
                Number::parse(text).unwrap().canonical(),
                canonical,
                "{text}"
            );
        }
    }

    #[test]
    fn tiny_numbers_are_plain() {
        let n = Number::parse("1E-130").unwrap();
        assert_eq!(n.canonical(), format!("0.{}1", "0".repeat(129)));
    }

    #[test]
    fn limits() {
        let d38 = "12345678901234567890123456789012345678";
        assert!(Number::parse(d38).is_ok());
        assert!(Number::parse(&format!("-{d38}E-40")).is_ok());
        assert!(matches!(
            Number::parse(&format!("{d38}9")),
            Err(NumberError::TooPrecise(_, 39))
        ));
        // Trailing zeros are not significant.
        assert!(Number::parse(&format!("{d38}000")).is_ok());
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert!(matches!(
            Number::parse("1E126"),
            Err(NumberError::OutOfRange(_))
        ));
        assert!(matches!(
            Number::parse("1E-131"),
            Err(NumberError::OutOfRange(_))
        ));
        assert!(matches!(
            Number::parse("1E99999999999"),
            Err(NumberError::OutOfRange(_))
        ));
        assert!(Number::parse("0E99999").is_ok());
        for bad in [
            "", "-", ".", "e5", "1e", "1.2.3", "NaN", "Infinity", " 1", "0x10", "1_000",
        ] {
            assert!(
                matches!(Number::parse(bad), Err(NumberError::Syntax(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn equality_is_canonical() {
        assert_eq!(
            Number::parse("1.50").unwrap(),
            Number::parse("15E-1").unwrap()
        );
        assert_ne!(
            Number::parse("1.5").unwrap(),
            Number::parse("-1.5").unwrap()
        );
    }

    #[test]
    fn json_literals() {
        for (t, ok) in [
            ("1", true),
            ("-0.5e3", true),
            ("+1", false),
            ("007", false),
            (".5", false),
            ("5.", false),
            ("0", true),
        ] {
            assert_eq!(Number::parse(t).unwrap().is_json_literal(), ok, "{t}");
        }
    }
}
