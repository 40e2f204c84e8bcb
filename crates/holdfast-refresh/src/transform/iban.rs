//! IBANs: the original's country and length, drawn digits, valid ISO 13616 check digits.

use super::Draw;
use rand::RngExt;

/// The ISO 7064 mod-97 remainder of an IBAN rearranged (country and check digits moved to the
/// end, letters as numbers 10–35).
fn mod97(rearranged: &str) -> Option<u32> {
    let mut r: u32 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36)?;
        r = if v < 10 {
            (r * 10 + v) % 97
        } else {
            (r * 100 + v) % 97
        };
    }
    Some(r)
}

/// Whether `iban` (spaces aside) has valid check digits.
#[must_use]
pub fn iban_valid(iban: &str) -> bool {
    let compact: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    compact.len() >= 15
        && compact.is_char_boundary(4)
        && compact[..2].chars().all(|c| c.is_ascii_uppercase())
        && mod97(&format!("{}{}", &compact[4..], &compact[..4])) == Some(1)
}

/// A fake for `original`: its country (`GB` when it has none) and length (22 when too short),
/// each BBAN letter a drawn letter and each digit a drawn digit, then the check digits.
pub(super) fn fake_iban(original: &str, d: &mut Draw) -> String {
    let compact: String = original
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let (country, bban_shape) =
        if compact.len() >= 15 && compact[..2].chars().all(|c| c.is_ascii_uppercase()) {
            (compact[..2].to_string(), compact[4..].to_string())
        } else {
            ("GB".to_string(), "AAAA00000000000000".to_string())
        };
    let bban: String = bban_shape
        .chars()
        .map(|c| {
            if c.is_ascii_digit() {
                char::from(b'0' + d.random_range(0..10u8))
            } else {
                char::from(b'A' + d.random_range(0..26u8))
            }
        })
        .collect();
    let check = 98 - mod97(&format!("{bban}{country}00")).unwrap_or(0);
    let iban = format!("{country}{check:02}{bban}");
    if original.contains(' ') {
        iban.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        iban
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Key, RowContext, Transform};
    use super::*;

    #[test]
    fn fakes_have_valid_check_digits_and_the_country() {
        let k = Key::new(vec![4u8; 32]).unwrap();
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("GB83 WEST 1234 5698 7654 32"));
        for original in [
            "GB82 WEST 1234 5698 7654 32",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "nonsense",
        ] {
            for salt in 0..200 {
                let v = format!("{original}{}", " ".repeat(salt % 2));
                let fake = Transform::Iban
                    .apply(&k, Some(&v), RowContext::default())
                    .unwrap()
                    .unwrap();
                assert!(iban_valid(&fake), "{original} → {fake}");
                if original != "nonsense" {
                    assert_eq!(fake[..2], original[..2]);
                }
            }
        }
    }
}
