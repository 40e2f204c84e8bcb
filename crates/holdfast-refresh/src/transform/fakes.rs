//! Realistic values from the `fake` crate, in the configured locale, and the phone and IP
//! fakes that keep the original's shape.

use super::Draw;
use fake::faker::address::raw::{BuildingNumber, CityName, PostCode, StreetName};
use fake::faker::name::raw::{FirstName, LastName};
use fake::locales::{Data, DE_DE, EN, FR_FR, IT_IT, NL_NL, PT_BR, PT_PT};
use fake::Fake;
use rand::RngExt;

/// The locales of the fakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Locale {
    #[default]
    En,
    FrFr,
    DeDe,
    ItIt,
    NlNl,
    PtBr,
    PtPt,
}

impl Locale {
    /// Every locale, as named in `holdfast.toml`.
    pub const ALL: [(&'static str, Locale); 7] = [
        ("en", Locale::En),
        ("fr_fr", Locale::FrFr),
        ("de_de", Locale::DeDe),
        ("it_it", Locale::ItIt),
        ("nl_nl", Locale::NlNl),
        ("pt_br", Locale::PtBr),
        ("pt_pt", Locale::PtPt),
    ];

    /// The locale named `name` (`en`, `fr_fr`, …).
    #[must_use]
    pub fn parse(name: &str) -> Option<Locale> {
        let name = name.to_ascii_lowercase().replace('-', "_");
        Locale::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, l)| *l)
    }

    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Locale::ALL
            .iter()
            .find(|(_, l)| *l == self)
            .map_or("en", |(n, _)| n)
    }
}

/// Calls `$f::<L>` with the locale's data type.
macro_rules! by_locale {
    ($locale:expr, $f:ident, $draw:expr) => {
        match $locale {
            Locale::En => $f(EN, $draw),
            Locale::FrFr => $f(FR_FR, $draw),
            Locale::DeDe => $f(DE_DE, $draw),
            Locale::ItIt => $f(IT_IT, $draw),
            Locale::NlNl => $f(NL_NL, $draw),
            Locale::PtBr => $f(PT_BR, $draw),
            Locale::PtPt => $f(PT_PT, $draw),
        }
    };
}

fn first<L: Data + Copy>(l: L, d: &mut Draw) -> String {
    FirstName(l).fake_with_rng(d)
}
fn last<L: Data + Copy>(l: L, d: &mut Draw) -> String {
    LastName(l).fake_with_rng(d)
}
fn street_of<L: Data + Copy>(l: L, d: &mut Draw) -> String {
    let number: String = BuildingNumber(l).fake_with_rng(d);
    let name: String = StreetName(l).fake_with_rng(d);
    format!("{number} {name}")
}
fn city_of<L: Data + Copy + fake::faker::impls::address::CityNameGenFn>(
    l: L,
    d: &mut Draw,
) -> String {
    CityName(l).fake_with_rng(d)
}
fn postcode_of<L: Data + Copy>(l: L, d: &mut Draw) -> String {
    PostCode(l).fake_with_rng(d)
}

pub(super) fn first_name(l: Locale, d: &mut Draw) -> String {
    by_locale!(l, first, d)
}
pub(super) fn last_name(l: Locale, d: &mut Draw) -> String {
    by_locale!(l, last, d)
}
pub(super) fn full_name(l: Locale, d: &mut Draw) -> String {
    format!("{} {}", first_name(l, d), last_name(l, d))
}
pub(super) fn street(l: Locale, d: &mut Draw) -> String {
    by_locale!(l, street_of, d)
}
pub(super) fn city(l: Locale, d: &mut Draw) -> String {
    by_locale!(l, city_of, d)
}
pub(super) fn postcode(l: Locale, d: &mut Draw) -> String {
    by_locale!(l, postcode_of, d)
}

/// `first.last` in ASCII, for an email's local part.
pub(super) fn email_local(l: Locale, d: &mut Draw) -> String {
    let raw = format!("{}.{}", first_name(l, d), last_name(l, d));
    raw.chars()
        .filter_map(|c| {
            let c = c.to_ascii_lowercase();
            (c.is_ascii_alphanumeric() || c == '.').then_some(c)
        })
        .collect()
}

/// Draws with `fake` until the result differs from `original` (case aside); a few tries, then
/// a numbered form, which cannot be the original unless it was already numbered so.
pub(super) fn differing(
    original: &str,
    d: &mut Draw,
    mut fake: impl FnMut(&mut Draw) -> String,
) -> String {
    for _ in 0..8 {
        let v = fake(d);
        if !v.eq_ignore_ascii_case(original.trim()) {
            return v;
        }
    }
    let v = fake(d);
    format!("{v} {}", d.random_range(2..99u32))
}

/// The country calling codes of E.164, longest first when they share a prefix: enough to keep
/// the original's country (a code not listed keeps its first digit).
const CALLING_CODES: &[&str] = &[
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45",
    "46", "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
    "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "212",
    "213", "216", "234", "254", "351", "352", "353", "354", "358", "359", "370", "371", "372",
    "380", "420", "421", "852", "886", "966", "971", "972",
];

/// The calling code of a country (ISO 3166 alpha-2), for the phone transform's `country`.
#[must_use]
pub fn calling_code(country: &str) -> Option<&'static str> {
    const BY_COUNTRY: &[(&str, &str)] = &[
        ("US", "1"),
        ("CA", "1"),
        ("GB", "44"),
        ("IE", "353"),
        ("FR", "33"),
        ("DE", "49"),
        ("ES", "34"),
        ("IT", "39"),
        ("NL", "31"),
        ("BE", "32"),
        ("PT", "351"),
        ("CH", "41"),
        ("AT", "43"),
        ("SE", "46"),
        ("NO", "47"),
        ("DK", "45"),
        ("FI", "358"),
        ("PL", "48"),
        ("BR", "55"),
        ("MX", "52"),
        ("AU", "61"),
        ("NZ", "64"),
        ("IN", "91"),
        ("JP", "81"),
        ("SG", "65"),
        ("ZA", "27"),
    ];
    let upper = country.to_ascii_uppercase();
    BY_COUNTRY
        .iter()
        .find(|(c, _)| *c == upper)
        .map(|(_, code)| *code)
}

/// A phone number in E.164: the original's calling code (or `country`'s) and its number of
/// digits (10 to 15 in all), the rest drawn; never the original.
pub(super) fn phone(original: &str, country: Option<&str>, d: &mut Draw) -> String {
    let digits: String = original.chars().filter(char::is_ascii_digit).collect();
    let international = original.trim_start().starts_with('+') || original.starts_with("00");
    let digits = digits
        .strip_prefix("00")
        .filter(|_| original.starts_with("00"))
        .map_or(digits.clone(), str::to_string);
    let code = match (country.and_then(calling_code), international) {
        (Some(code), _) => code.to_string(),
        (None, true) => CALLING_CODES
            .iter()
            .filter(|c| digits.starts_with(**c))
            .max_by_key(|c| c.len())
            .map_or_else(|| digits.chars().take(1).collect(), |c| (*c).to_string()),
        (None, false) => "1".to_string(),
    };
    let national_len = if international {
        digits.len().saturating_sub(code.len())
    } else {
        digits.trim_start_matches('0').len()
    }
    .clamp(10usize.saturating_sub(code.len()).max(4), 15 - code.len());
    loop {
        let mut out = format!("+{code}");
        out.push(char::from(b'1' + d.random_range(0..9u8)));
        for _ in 1..national_len {
            out.push(char::from(b'0' + d.random_range(0..10u8)));
        }
        if out[1..] != digits {
            return out;
        }
    }
}

/// An IP address of the original's family: IPv4 in 10.0.0.0/8, IPv6 in 2001:db8::/32.
pub(super) fn ip(original: &str, d: &mut Draw) -> String {
    if original.contains(':') {
        let groups: Vec<String> = (0..6).map(|_| format!("{:x}", d.random::<u16>())).collect();
        format!("2001:db8:{}", groups.join(":"))
    } else {
        let [a, b, c]: [u8; 3] = d.random();
        format!("10.{a}.{b}.{}", c.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Key, RowContext, Transform};
    use super::*;

    fn run(t: &Transform, v: &str) -> String {
        let k = Key::new(vec![9u8; 32]).unwrap();
        t.apply(&k, Some(v), RowContext::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn phones_keep_the_country_and_are_e164() {
        let t = Transform::Phone { country: None };
        for (original, code) in [
            ("+44 7700 900123", "+44"),
            ("+1 (415) 555-0100", "+1"),
            ("+353 86 123 4567", "+353"),
            ("0049 30 1234567", "+49"),
        ] {
            let fake = run(&t, original);
            assert!(fake.starts_with(code), "{original} → {fake}");
            assert!(fake[1..].chars().all(|c| c.is_ascii_digit()), "{fake}");
            let digits = fake.len() - 1;
            assert!((10..=15).contains(&digits), "{fake}");
        }
        let gb = Transform::Phone {
            country: Some("GB".into()),
        };
        assert!(run(&gb, "07700 900123").starts_with("+44"));
    }

    #[test]
    fn ips_keep_the_family() {
        assert!(run(&Transform::Ip, "203.0.113.9").starts_with("10."));
        assert!(run(&Transform::Ip, "2a00:1450::1").starts_with("2001:db8:"));
        let v4: std::net::Ipv4Addr = run(&Transform::Ip, "1.2.3.4").parse().unwrap();
        assert_eq!(v4.octets()[0], 10);
    }

    #[test]
    fn locales_parse_by_name() {
        assert_eq!(Locale::parse("fr-FR"), Some(Locale::FrFr));
        assert_eq!(Locale::parse("xx"), None);
        for (name, l) in Locale::ALL {
            assert_eq!(l.as_str(), name);
            assert!(!first_name(l, &mut Key::new(vec![1; 16]).unwrap().draw("t", name)).is_empty());
        }
    }
}
