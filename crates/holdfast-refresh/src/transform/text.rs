//! Free text: replaced whole by filler of about its length, or redacted — each email, phone
//! number and card number found inside replaced by the fake its own transform gives.

use super::{Draw, Key, Locale, RowContext, Transform};
use crate::detect::{self, Kind};
use fake::faker::lorem::raw::Word;
use fake::locales::EN;
use fake::Fake;

/// Lorem words up to about the length of `original` (at least one word).
pub(super) fn filler(original: &str, _locale: Locale, d: &mut Draw) -> String {
    let target = original.chars().count();
    let mut out = String::new();
    while out.is_empty() || out.chars().count() + 4 < target {
        let word: String = Word(EN).fake_with_rng(d);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// `original` with every email, phone number and card number in it replaced by its fake.
pub(super) fn redact(original: &str, key: &Key, is_real: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::with_capacity(original.len());
    let mut at = 0;
    for found in detect::find_all(original) {
        out.push_str(&original[at..found.start]);
        let value = &original[found.start..found.end];
        let transform = match found.kind {
            Kind::Email => Transform::Email {
                domain: None,
                keep_domain: false,
                locale: Locale::En,
            },
            Kind::Phone => Transform::Phone { country: None },
            Kind::Card => Transform::Card,
        };
        let fake = transform
            .apply_avoiding(key, Some(value), RowContext::default(), is_real)
            .ok()
            .flatten()
            .unwrap_or_default();
        out.push_str(&fake);
        at = found.end;
    }
    out.push_str(&original[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::super::TextMode;
    use super::*;

    #[test]
    fn redaction_replaces_what_it_finds_and_keeps_the_rest() {
        let key = Key::new(vec![8u8; 32]).unwrap();
        let t = Transform::Text {
            mode: TextMode::Redact,
            locale: Locale::En,
        };
        let note = "Call ann@corp.example or +44 7700 900123; card 4242 4242 4242 4242 on file.";
        let out = t
            .apply(&key, Some(note), RowContext::default())
            .unwrap()
            .unwrap();
        assert!(
            out.starts_with("Call ") && out.ends_with(" on file."),
            "{out}"
        );
        for original in ["ann@corp.example", "7700 900123", "4242 4242 4242 4242"] {
            assert!(!out.contains(original), "{out}");
        }
        assert!(detect::find_all(&out)
            .iter()
            .all(|f| f.kind != Kind::Email || out[f.start..f.end].ends_with("@example.com")));
        let replace = Transform::Text {
            mode: TextMode::Replace,
            locale: Locale::En,
        };
        let filled = replace
            .apply(&key, Some(note), RowContext::default())
            .unwrap()
            .unwrap();
        assert!(!filled.contains("ann@") && filled.len() > 20);
    }
}
