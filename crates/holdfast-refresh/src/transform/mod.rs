//! The transforms: deterministic replacements for the values of a sanitized column.
//!
//! Every fake is drawn from a generator seeded with HMAC-SHA256 of the secret key, the
//! transform's identity (its name and the options that shape its output) and the original
//! value: the same original gives the same fake in every table, column and run; a different
//! key gives unrelated fakes. Nothing about the original can be read from the fake without the
//! key. A transform that draws from a small dictionary (names, cities) draws again when it
//! would give back the original; any drawn fake that is one of the data's originals (someone
//! else's real phone number) is drawn again ([`Transform::apply_avoiding`]).

mod card;
mod date;
mod fakes;
mod iban;
mod json;
mod text;

pub use card::luhn_valid;
pub use fakes::{calling_code, Locale};
pub use iban::iban_valid;
pub use json::{leaves_at, JsonPath};

use hmac::{Hmac, Mac};
use rand::SeedableRng;
use sha2::Sha256;

/// How many times [`Transform::apply_avoiding`] draws a fake that is a real value.
pub const REDRAWS: u32 = 16;

/// The generator every fake is drawn from (ChaCha8: the same stream on every platform).
pub type Draw = rand::rngs::ChaCha8Rng;

/// The secret key of the deterministic transforms, kept as its keyed HMAC state (cloned for
/// each value, so the key's own blocks are hashed once). Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct Key {
    mac: Hmac<Sha256>,
    /// The SipHash key of the leak proof's hashes, derived from the key.
    leak: (u64, u64),
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 16;

    /// A key of `bytes` (at least [`Key::MIN_LEN`]).
    ///
    /// # Errors
    /// The key is shorter than [`Key::MIN_LEN`] bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Key, String> {
        let bytes = bytes.into();
        if bytes.len() < Key::MIN_LEN {
            return Err(format!(
                "the refresh key has {} bytes; it needs at least {}",
                bytes.len(),
                Key::MIN_LEN
            ));
        }
        let mac = Hmac::<Sha256>::new_from_slice(&bytes).expect("HMAC takes any key length");
        let mut key = Key { mac, leak: (0, 0) };
        let derived = key.mac(&[b"holdfast-refresh-leak-proof-key"]);
        let word = |at: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&derived[at..at + 8]);
            u64::from_le_bytes(w)
        };
        key.leak = (word(0), word(8));
        Ok(key)
    }

    /// A keyed 64-bit hash of `bytes` for the leak proof: SipHash-1-3 under a key derived from
    /// this one (a keyed PRF as the proof needs, at a fraction of HMAC's cost per value).
    #[must_use]
    pub fn leak_hash(&self, bytes: &[u8]) -> u64 {
        use std::hash::Hasher as _;
        let mut h = siphasher::sip::SipHasher13::new_with_keys(self.leak.0, self.leak.1);
        h.write(bytes);
        h.finish()
    }

    /// HMAC-SHA256 of the parts, each ended by a zero byte (so that parts cannot run together).
    #[must_use]
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(part);
            mac.update(&[0]);
        }
        mac.finalize().into_bytes().into()
    }

    /// The generator for `identity` and `value`.
    #[must_use]
    pub fn draw(&self, identity: &str, value: &str) -> Draw {
        Draw::from_seed(self.mac(&[identity.as_bytes(), value.as_bytes()]))
    }
}

/// How a free-text column is sanitized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextMode {
    /// The whole value becomes filler text of about the same length.
    Replace,
    /// Emails, phone numbers and card numbers inside the text become fakes; the rest stays.
    Redact,
}

/// One transform, with its options checked.
#[derive(Debug, Clone)]
pub enum Transform {
    /// A fake address: `first.last.tag@domain`, unique per original. `domain`: the configured
    /// domain; `None`: the original's domain with `keep_domain`, else `example.com`.
    Email {
        domain: Option<String>,
        keep_domain: bool,
        locale: Locale,
    },
    FirstName(Locale),
    LastName(Locale),
    FullName(Locale),
    /// E.164 (`+` country code and digits): the original's country code and length, or
    /// `country`'s when the original has none.
    Phone {
        country: Option<String>,
    },
    Street(Locale),
    City(Locale),
    Postcode(Locale),
    /// A Luhn-valid number in the card networks' test ranges, the original's length and layout.
    Card,
    /// An IBAN of the original's country and length with valid check digits.
    Iban,
    /// IPv4 in 10.0.0.0/8, IPv6 in 2001:db8::/32 (documentation).
    Ip,
    Text {
        mode: TextMode,
        locale: Locale,
    },
    /// Hex of a keyed hash (`length` characters, default 64).
    Hash {
        length: usize,
    },
    Null,
    Constant {
        value: String,
    },
    /// The date moved by up to ± `days` days, by an amount fixed per original value or, with
    /// an entity column, per that column's value (all of a customer's dates move together).
    DateShift {
        days: u32,
        by: Option<String>,
    },
    /// Transforms applied at paths inside a JSON document.
    Json {
        paths: Vec<(JsonPath, Transform)>,
    },
    /// Every match of `pattern` replaced by `replace` (`$1` for groups).
    Regex {
        pattern: regex::Regex,
        replace: String,
    },
}

/// Why a value could not be transformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// The value is not of the shape the transform needs (a date, a JSON document).
    #[error("{0}")]
    Shape(String),
}

/// What a transform may need from the rest of the row.
#[derive(Debug, Clone, Copy, Default)]
pub struct RowContext<'a> {
    /// The value of the entity column of a date shift with `by`.
    pub entity: Option<&'a str>,
}

impl Transform {
    /// The transform's name, as in `holdfast.toml`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Transform::Email { .. } => "email",
            Transform::FirstName(_) => "first_name",
            Transform::LastName(_) => "last_name",
            Transform::FullName(_) => "full_name",
            Transform::Phone { .. } => "phone",
            Transform::Street(_) => "street",
            Transform::City(_) => "city",
            Transform::Postcode(_) => "postcode",
            Transform::Card => "card",
            Transform::Iban => "iban",
            Transform::Ip => "ip",
            Transform::Text { .. } => "text",
            Transform::Hash { .. } => "hash",
            Transform::Null => "null",
            Transform::Constant { .. } => "constant",
            Transform::DateShift { .. } => "date_shift",
            Transform::Json { .. } => "json",
            Transform::Regex { .. } => "regex",
        }
    }

    /// Its identity in the seed: the name and the options that shape the output. Two rules
    /// with one identity map an original to one fake wherever they are.
    fn identity(&self) -> String {
        match self {
            Transform::Email {
                domain,
                keep_domain,
                locale,
            } => format!(
                "email/{}/{keep_domain}/{}",
                domain.as_deref().unwrap_or(""),
                locale.as_str()
            ),
            Transform::FirstName(l)
            | Transform::LastName(l)
            | Transform::FullName(l)
            | Transform::Street(l)
            | Transform::City(l)
            | Transform::Postcode(l)
            | Transform::Text { locale: l, .. } => format!("{}/{}", self.name(), l.as_str()),
            Transform::Phone { country } => format!("phone/{}", country.as_deref().unwrap_or("")),
            Transform::DateShift { days, .. } => format!("date_shift/{days}"),
            other => other.name().to_string(),
        }
    }

    /// Whether the fakes are drawn from a dictionary small enough that real values are in it
    /// (names, cities): such a column's originals are not looked for across the whole target
    /// (a real "Smith" elsewhere is not a leak), only never given back for their own value.
    #[must_use]
    pub fn is_dictionary(&self) -> bool {
        matches!(
            self,
            Transform::FirstName(_)
                | Transform::LastName(_)
                | Transform::City(_)
                | Transform::Postcode(_)
                | Transform::Null
                | Transform::Constant { .. }
                | Transform::DateShift { .. }
                | Transform::Regex { .. }
        )
    }

    /// Whether the whole new value is drawn (so a second draw can differ from the first): a
    /// constant, a null, a regex replacement or a date shift is fixed by its rule and the
    /// value; a JSON document or a redacted text draws each value inside it.
    fn draws(&self) -> bool {
        !matches!(
            self,
            Transform::Null
                | Transform::Constant { .. }
                | Transform::Regex { .. }
                | Transform::DateShift { .. }
                | Transform::Json { .. }
                | Transform::Text {
                    mode: TextMode::Redact,
                    ..
                }
        )
    }

    /// The new value for `value` (`None`: SQL NULL). NULL stays NULL.
    ///
    /// # Errors
    /// The value is not of the shape the transform needs (a date shift of a non-date, a JSON
    /// transform of a non-document).
    pub fn apply(
        &self,
        key: &Key,
        value: Option<&str>,
        row: RowContext<'_>,
    ) -> Result<Option<String>, TransformError> {
        self.apply_avoiding(key, value, row, &|_| false)
    }

    /// [`Transform::apply`], drawing again while the fake is a value for which `is_real`
    /// holds — an original somewhere in the data: a generated phone number or IP address
    /// from a dense space can be someone's real one, and the target would hold it. The n-th
    /// draw is seeded with n as well, so the first is what `apply` gives and every fake stays
    /// a function of the key, the rule, the value and the data's originals (the same in every
    /// table of one run). After [`REDRAWS`] draws the last stands, and the leak proof reports
    /// it. Inside a JSON document or a redacted text each replaced value is drawn this way.
    ///
    /// # Errors
    /// As [`Transform::apply`].
    pub fn apply_avoiding(
        &self,
        key: &Key,
        value: Option<&str>,
        row: RowContext<'_>,
        is_real: &dyn Fn(&str) -> bool,
    ) -> Result<Option<String>, TransformError> {
        let Some(value) = value else {
            return Ok(None);
        };
        let mut attempt = 0;
        loop {
            let fake = self.draw(key, value, row, attempt, is_real)?;
            attempt += 1;
            match &fake {
                Some(f) if self.draws() && attempt < REDRAWS && is_real(f) => {}
                _ => return Ok(fake),
            }
        }
    }

    /// The `attempt`-th draw of the new value for `value` (a JSON document or a redacted
    /// text is drawn once, each value inside it avoiding `is_real`).
    fn draw(
        &self,
        key: &Key,
        value: &str,
        row: RowContext<'_>,
        attempt: u32,
        is_real: &dyn Fn(&str) -> bool,
    ) -> Result<Option<String>, TransformError> {
        let identity = self.identity();
        let seed = if attempt == 0 {
            key.mac(&[identity.as_bytes(), value.as_bytes()])
        } else {
            key.mac(&[
                identity.as_bytes(),
                value.as_bytes(),
                &attempt.to_le_bytes(),
            ])
        };
        let mut draw = Draw::from_seed(seed);
        Ok(Some(match self {
            Transform::Null => return Ok(None),
            Transform::Constant { value } => value.clone(),
            Transform::Email {
                domain,
                keep_domain,
                locale,
            } => {
                let domain = match (domain, keep_domain) {
                    (Some(d), _) => d.clone(),
                    (None, true) => value
                        .rsplit_once('@')
                        .map_or("example.com", |(_, d)| d)
                        .to_string(),
                    (None, false) => "example.com".to_string(),
                };
                let tag = hex(&seed[..4]);
                format!("{}.{tag}@{domain}", fakes::email_local(*locale, &mut draw))
            }
            Transform::FirstName(l) => {
                fakes::differing(value, &mut draw, |d| fakes::first_name(*l, d))
            }
            Transform::LastName(l) => {
                fakes::differing(value, &mut draw, |d| fakes::last_name(*l, d))
            }
            Transform::FullName(l) => {
                fakes::differing(value, &mut draw, |d| fakes::full_name(*l, d))
            }
            Transform::Street(l) => fakes::differing(value, &mut draw, |d| fakes::street(*l, d)),
            Transform::City(l) => fakes::differing(value, &mut draw, |d| fakes::city(*l, d)),
            Transform::Postcode(l) => {
                fakes::differing(value, &mut draw, |d| fakes::postcode(*l, d))
            }
            Transform::Phone { country } => fakes::phone(value, country.as_deref(), &mut draw),
            Transform::Card => card::fake_card(value, &mut draw),
            Transform::Iban => iban::fake_iban(value, &mut draw),
            Transform::Ip => fakes::ip(value, &mut draw),
            Transform::Text {
                mode: TextMode::Replace,
                locale,
            } => text::filler(value, *locale, &mut draw),
            Transform::Text {
                mode: TextMode::Redact,
                ..
            } => text::redact(value, key, is_real),
            Transform::Hash { length } => {
                let mut out = hex(&seed);
                out.truncate(*length);
                out
            }
            Transform::DateShift { days, by } => {
                let seed_value = match by {
                    Some(_) => row.entity.unwrap_or(value),
                    None => value,
                };
                let mut draw = key.draw(&identity, seed_value);
                date::shift(value, *days, &mut draw)?
            }
            Transform::Json { paths } => json::apply(value, paths, key, row, is_real)?,
            Transform::Regex { pattern, replace } => {
                pattern.replace_all(value, replace.as_str()).into_owned()
            }
        }))
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> Key {
        Key::new(vec![b; 32]).unwrap()
    }

    fn run(t: &Transform, k: &Key, v: &str) -> String {
        t.apply(k, Some(v), RowContext::default()).unwrap().unwrap()
    }

    #[test]
    fn the_same_original_gives_the_same_fake_and_another_key_another() {
        let t = Transform::Email {
            domain: None,
            keep_domain: false,
            locale: Locale::En,
        };
        let a = run(&t, &key(1), "ann@corp.example");
        assert_eq!(a, run(&t, &key(1), "ann@corp.example"));
        assert_ne!(a, run(&t, &key(2), "ann@corp.example"));
        assert_ne!(a, run(&t, &key(1), "bob@corp.example"));
        assert!(a.ends_with("@example.com"), "{a}");
        assert!(!a.contains("ann"));
    }

    #[test]
    fn email_keeps_the_domain_when_asked() {
        let t = Transform::Email {
            domain: None,
            keep_domain: true,
            locale: Locale::En,
        };
        assert!(run(&t, &key(1), "ann@corp.example").ends_with("@corp.example"));
        let t = Transform::Email {
            domain: Some("staging.test".into()),
            keep_domain: false,
            locale: Locale::En,
        };
        assert!(run(&t, &key(1), "ann@corp.example").ends_with("@staging.test"));
    }

    #[test]
    fn emails_stay_unique() {
        let t = Transform::Email {
            domain: None,
            keep_domain: false,
            locale: Locale::En,
        };
        let fakes: std::collections::HashSet<_> = (0..20_000)
            .map(|i| run(&t, &key(3), &format!("user{i}@x.example")))
            .collect();
        assert_eq!(fakes.len(), 20_000);
    }

    #[test]
    fn a_fake_that_is_a_real_value_is_drawn_again_deterministically() {
        let (k, t) = (key(9), Transform::Phone { country: None });
        let first = run(&t, &k, "+44 7700 900123");
        let real = |v: &str| v == first;
        let again = t
            .apply_avoiding(&k, Some("+44 7700 900123"), RowContext::default(), &real)
            .unwrap()
            .unwrap();
        assert_ne!(again, first);
        assert!(again.starts_with("+44"), "{again}");
        let same = t
            .apply_avoiding(&k, Some("+44 7700 900123"), RowContext::default(), &real)
            .unwrap()
            .unwrap();
        assert_eq!(again, same);
        // Everything real: the last draw stands (the leak proof reports it).
        let all = t
            .apply_avoiding(&k, Some("+44 7700 900123"), RowContext::default(), &|_| {
                true
            })
            .unwrap();
        assert!(all.is_some());
        // A fixed transform is not drawn again.
        let c = Transform::Constant { value: "x".into() };
        assert_eq!(
            c.apply_avoiding(&k, Some("a"), RowContext::default(), &|_| true)
                .unwrap()
                .as_deref(),
            Some("x")
        );
    }

    #[test]
    fn dictionary_fakes_never_give_the_original_back() {
        let k = key(4);
        for l in [Locale::En, Locale::FrFr] {
            let t = Transform::FirstName(l);
            for i in 0..500 {
                let name = run(&t, &k, &format!("seed{i}"));
                assert_ne!(run(&t, &k, &name), name);
            }
        }
    }

    #[test]
    fn null_stays_null_and_the_null_rule_nulls() {
        let k = key(5);
        let t = Transform::Constant { value: "x".into() };
        assert_eq!(t.apply(&k, None, RowContext::default()).unwrap(), None);
        assert_eq!(
            Transform::Null
                .apply(&k, Some("a"), RowContext::default())
                .unwrap(),
            None
        );
        assert_eq!(run(&t, &k, "a"), "x");
    }

    #[test]
    fn hash_has_the_asked_length_and_regex_replaces() {
        let k = key(6);
        assert_eq!(run(&Transform::Hash { length: 12 }, &k, "secret").len(), 12);
        let t = Transform::Regex {
            pattern: regex::Regex::new(r"\d{4}$").unwrap(),
            replace: "0000".into(),
        };
        assert_eq!(run(&t, &k, "ref-12345678"), "ref-12340000");
    }

    #[test]
    fn date_shift_follows_the_entity() {
        let k = key(7);
        let t = Transform::DateShift {
            days: 30,
            by: Some("user_id".into()),
        };
        let entity = RowContext { entity: Some("42") };
        let a = t.apply(&k, Some("2024-03-01"), entity).unwrap().unwrap();
        let b = t.apply(&k, Some("2024-03-11"), entity).unwrap().unwrap();
        let da = date::days_between("2024-03-01", &a).unwrap();
        let db = date::days_between("2024-03-11", &b).unwrap();
        assert_eq!(da, db);
        assert!(da != 0 && da.abs() <= 30, "{da}");
    }
}
