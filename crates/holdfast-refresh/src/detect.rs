//! Finding personal data by its shape: emails, phone numbers and card numbers inside text (for
//! the `text` transform's redaction and for the suggestions of `plan`), and the rule a column's
//! name suggests.

use regex::Regex;
use std::sync::LazyLock;

/// A kind of high-risk value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Email,
    Phone,
    Card,
}

/// One value found in a text, by byte offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("a valid pattern")
});
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("a valid pattern"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d[\d ().-]{6,18}\d").expect("a valid pattern"));

/// Every email, card number (Luhn-valid) and phone number (9 to 15 digits) in `text`, in order,
/// none overlapping (an email wins over a number inside it, a card over a phone).
#[must_use]
pub fn find_all(text: &str) -> Vec<Found> {
    // Most values hold neither an `@` nor nine digits: one pass over the bytes spares them the
    // patterns.
    let (mut at, mut digits) = (false, 0usize);
    for b in text.bytes() {
        at |= b == b'@';
        digits += usize::from(b.is_ascii_digit());
    }
    if !at && digits < 9 {
        return Vec::new();
    }
    let mut found: Vec<Found> = if at {
        EMAIL
            .find_iter(text)
            .map(|m| Found {
                kind: Kind::Email,
                start: m.start(),
                end: m.end(),
            })
            .collect()
    } else {
        Vec::new()
    };
    if digits < 9 {
        return found;
    }
    let overlaps =
        |found: &[Found], s: usize, e: usize| found.iter().any(|f| s < f.end && f.start < e);
    for m in CARD.find_iter(text) {
        if crate::transform::luhn_valid(m.as_str()) && !overlaps(&found, m.start(), m.end()) {
            found.push(Found {
                kind: Kind::Card,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    for m in PHONE.find_iter(text) {
        let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
        if (9..=15).contains(&digits) && !overlaps(&found, m.start(), m.end()) {
            found.push(Found {
                kind: Kind::Phone,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// The transform a column's name suggests (`email`, `first_name`, …), if any.
#[must_use]
pub fn suggest_from_name(column: &str) -> Option<&'static str> {
    let c = column.to_ascii_lowercase();
    let words: Vec<&str> = c.split(|ch: char| !ch.is_ascii_alphanumeric()).collect();
    // A part with `_` is looked for anywhere; a single word only as a whole word.
    let has = |parts: &[&str]| {
        parts.iter().any(|p| {
            if p.contains('_') {
                c.contains(p)
            } else {
                words
                    .iter()
                    .any(|w| w == p || (p.len() > 4 && w.contains(p)))
            }
        })
    };
    let name = if has(&["email", "e_mail", "mail"]) {
        "email"
    } else if has(&["first_name", "firstname", "given_name", "forename"]) {
        "first_name"
    } else if has(&["last_name", "lastname", "surname", "family_name"]) {
        "last_name"
    } else if has(&["full_name", "fullname", "display_name", "contact_name"]) || c == "name" {
        "full_name"
    } else if has(&["phone", "mobile", "msisdn", "tel"]) {
        "phone"
    } else if has(&[
        "street",
        "address_line",
        "addr_line",
        "address1",
        "address2",
    ]) {
        "street"
    } else if has(&["city", "town"]) {
        "city"
    } else if has(&["postcode", "postal", "zip"]) {
        "postcode"
    } else if has(&["card_number", "cardnumber", "pan", "cc_number"]) {
        "card"
    } else if has(&["iban"]) {
        "iban"
    } else if has(&["ip_addr", "ip_address", "remote_addr", "client_ip"]) || c == "ip" {
        "ip"
    } else if has(&["password", "token", "secret", "api_key"]) {
        "hash"
    } else if has(&["note", "comment", "description", "message", "bio", "body"]) {
        "text"
    } else {
        return None;
    };
    Some(name)
}

/// The transform the values of a sample suggest: the kind found in a fair share of them
/// (`email` when most are addresses; `text` with redaction when some carry one inside).
#[must_use]
pub fn suggest_from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<&'static str> {
    let (mut n, mut whole, mut inside) = (0usize, [0usize; 3], 0usize);
    for v in values {
        n += 1;
        let found = find_all(v);
        if let [one] = found.as_slice() {
            if one.start == 0 && one.end == v.trim_end().len() {
                whole[one.kind as usize] += 1;
                continue;
            }
        }
        if !found.is_empty() {
            inside += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let kinds = [Kind::Email, Kind::Phone, Kind::Card];
    if let Some(k) = kinds.into_iter().find(|k| whole[*k as usize] * 2 > n) {
        return Some(match k {
            Kind::Email => "email",
            Kind::Phone => "phone",
            Kind::Card => "card",
        });
    }
    (inside > 0).then_some("text")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind_without_overlap() {
        let t = "mail a.b@x.co.uk, ring +1 415-555-0100, pay 4242-4242-4242-4242, order 12345";
        let kinds: Vec<Kind> = find_all(t).iter().map(|f| f.kind).collect();
        assert_eq!(kinds, [Kind::Email, Kind::Phone, Kind::Card]);
        assert!(find_all("order 12345, 2024-01-02").is_empty());
    }

    #[test]
    fn suggestions_come_from_names_and_values() {
        assert_eq!(suggest_from_name("contact_email"), Some("email"));
        assert_eq!(suggest_from_name("Surname"), Some("last_name"));
        assert_eq!(suggest_from_name("sku"), None);
        assert_eq!(suggest_from_name("company"), None);
        assert_eq!(suggest_from_name("hotel"), None);
        assert_eq!(suggest_from_name("mobile_phone"), Some("phone"));
        assert_eq!(
            suggest_from_values(["a@x.io", "b@y.io", "n/a"]),
            Some("email")
        );
        assert_eq!(
            suggest_from_values(["call me on +44 7700 900123", "fine", "ok"]),
            Some("text")
        );
        assert_eq!(suggest_from_values(["red", "blue"]), None);
    }
}
