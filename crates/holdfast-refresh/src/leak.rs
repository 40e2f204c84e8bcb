//! The leak proof: the original values of the sanitized columns, kept only as keyed 64-bit
//! hashes, and a scan of a database for any of them.
//!
//! What is recorded of a sanitized value: the whole value and each email, phone number and card
//! number inside it (for a JSON rule, the values at its paths; for a redacting text rule, what
//! it redacts), normalised (trimmed and lower-cased; a phone or card number as its digits).
//! What is scanned: every text and JSON column of every table — sanitized or kept — as a whole
//! value, each string inside a JSON document, and each email, phone or card number inside a
//! text. A transform that draws from a small dictionary (first or last names, cities,
//! postcodes) or writes a constant is not recorded: a real "Smith" elsewhere in the target is
//! not a leak. Such columns are listed as checked by their rule only.

use crate::config::Rule;
use crate::detect::{self, Kind};
use crate::transform::{leaves_at, Key, TextMode, Transform};
use std::collections::HashSet;

/// The keyed hashes of the originals.
#[derive(Debug, Default, Clone)]
pub struct Originals {
    hashes: HashSet<u64>,
}

/// The normalised forms of `text` the proof compares: the whole (if not trivial) and every
/// high-risk value inside it.
fn forms(text: &str, whole: bool, out: &mut Vec<String>) {
    let t = text.trim();
    if whole && t.chars().count() >= 4 {
        out.push(t.to_lowercase());
    }
    for found in detect::find_all(text) {
        let v = &text[found.start..found.end];
        out.push(match found.kind {
            Kind::Email => v.to_lowercase(),
            Kind::Phone | Kind::Card => v.chars().filter(char::is_ascii_digit).collect(),
        });
    }
}

fn hash(key: &Key, form: &str) -> u64 {
    let mac = key.mac(&[b"leak-proof", form.as_bytes()]);
    u64::from_le_bytes(mac[..8].try_into().unwrap_or_default())
}

impl Originals {
    /// Whether `rule`'s originals are recorded (a dictionary or constant transform's are not).
    #[must_use]
    pub fn records(rule: &Rule) -> bool {
        matches!(rule, Rule::Transform(t) if !t.is_dictionary())
    }

    /// Records the original `value` of a column sanitized by `rule`.
    pub fn add(&mut self, key: &Key, rule: &Rule, value: &str) {
        let Rule::Transform(t) = rule else { return };
        if t.is_dictionary() {
            return;
        }
        let mut out = Vec::new();
        match t {
            Transform::Json { paths } => {
                for leaf in leaves_at(value, paths) {
                    forms(&leaf, true, &mut out);
                }
            }
            Transform::Text {
                mode: TextMode::Redact,
                ..
            } => forms(value, false, &mut out),
            _ => forms(value, true, &mut out),
        }
        self.hashes.extend(out.iter().map(|f| hash(key, f)));
    }

    /// Adds another table's originals.
    pub fn merge(&mut self, other: Originals) {
        self.hashes.extend(other.hashes);
    }

    /// How many distinct originals are recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether none are.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether the target value `value` (of a text or JSON column) holds an original.
    #[must_use]
    pub fn hit(&self, key: &Key, value: &str, is_json: bool) -> bool {
        if self.hashes.is_empty() {
            return false;
        }
        let mut out = Vec::new();
        forms(value, true, &mut out);
        if is_json {
            if let Ok(doc) = serde_json::from_str::<serde_json::Value>(value) {
                json_strings(&doc, &mut |s| forms(s, true, &mut out));
            }
        }
        out.iter().any(|f| self.hashes.contains(&hash(key, f)))
    }
}

fn json_strings(v: &serde_json::Value, f: &mut dyn FnMut(&str)) {
    match v {
        serde_json::Value::String(s) => f(s),
        serde_json::Value::Number(n) => f(&n.to_string()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, f)),
        serde_json::Value::Object(o) => o.values().for_each(|x| json_strings(x, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{Locale, RowContext};

    #[test]
    fn originals_are_found_whole_inside_text_and_inside_json_and_fakes_are_not() {
        let key = Key::new(vec![1u8; 32]).unwrap();
        let email = Rule::Transform(Transform::Email {
            domain: None,
            keep_domain: false,
            locale: Locale::En,
        });
        let phone = Rule::Transform(Transform::Phone { country: None });
        let mut o = Originals::default();
        o.add(&key, &email, "Ann.Real@corp.example");
        o.add(&key, &phone, "+44 7700 900123");
        o.add(
            &key,
            &Rule::Transform(Transform::FirstName(Locale::En)),
            "Ann",
        );
        assert!(o.hit(&key, "ann.real@corp.example", false));
        assert!(o.hit(&key, "write to ann.real@corp.example today", false));
        assert!(o.hit(&key, "ring 447700900123", false));
        assert!(o.hit(&key, r#"{"who":{"mail":"ann.real@corp.example"}}"#, true));
        assert!(
            !o.hit(&key, "Ann", false),
            "dictionary originals are not recorded"
        );
        let Rule::Transform(t) = &email else {
            unreachable!()
        };
        let fake = t
            .apply(&key, Some("Ann.Real@corp.example"), RowContext::default())
            .unwrap()
            .unwrap();
        assert!(!o.hit(&key, &fake, false));
        let other_key = Key::new(vec![2u8; 32]).unwrap();
        assert!(!o.hit(&other_key, "ann.real@corp.example", false));
    }
}
