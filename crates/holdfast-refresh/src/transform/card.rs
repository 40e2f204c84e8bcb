//! Card numbers: fakes in the networks' published test ranges with a valid Luhn check digit
//! (computed here: generic fake card numbers fail Luhn often), in the original's layout.

use super::Draw;
use rand::RngExt;

/// Whether `number`'s digits (spaces and dashes aside) pass the Luhn check.
#[must_use]
pub fn luhn_valid(number: &str) -> bool {
    let digits: Vec<u32> = number.chars().filter_map(|c| c.to_digit(10)).collect();
    digits.len() >= 2 && luhn_sum(&digits).is_multiple_of(10)
}

/// The Luhn sum of `digits`, the last being the check digit.
fn luhn_sum(digits: &[u32]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum()
}

/// The test-range prefix for an original of `len` digits starting with `first`: American
/// Express 3782 82, Mastercard 2223 00 / 5555 55, Discover 6011 11, Visa 4000 00.
fn test_prefix(first: char, len: usize) -> &'static str {
    match (first, len) {
        ('3', 15) => "378282",
        ('5', _) => "555555",
        ('2', _) => "222300",
        ('6', _) => "601111",
        _ => "400000",
    }
}

/// A fake for `original`: same number of digits (13 to 19; others become 16), same
/// separators, a test-range prefix, drawn middle digits and a Luhn check digit.
pub(super) fn fake_card(original: &str, d: &mut Draw) -> String {
    let count = original.chars().filter(char::is_ascii_digit).count();
    let len = if (13..=19).contains(&count) {
        count
    } else {
        16
    };
    let first = original.chars().find(char::is_ascii_digit).unwrap_or('4');
    let mut digits: Vec<u32> = test_prefix(first, len)
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    while digits.len() < len - 1 {
        digits.push(d.random_range(0..10));
    }
    digits.push(0);
    let sum = luhn_sum(&digits);
    let last = digits.len() - 1;
    digits[last] = (10 - sum % 10) % 10;
    let mut next = digits.into_iter();
    if count == len {
        original
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    char::from_digit(next.next().unwrap_or(0), 10).unwrap_or('0')
                } else {
                    c
                }
            })
            .collect()
    } else {
        next.filter_map(|x| char::from_digit(x, 10)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Key, RowContext, Transform};
    use super::*;

    #[test]
    fn every_fake_card_passes_luhn_and_keeps_the_layout() {
        let k = Key::new(vec![3u8; 32]).unwrap();
        for i in 0..5_000u64 {
            let original = format!("4111 1111 {:04} {:04}", i % 10_000, (i * 7) % 10_000);
            let fake = Transform::Card
                .apply(&k, Some(&original), RowContext::default())
                .unwrap()
                .unwrap();
            assert!(luhn_valid(&fake), "{fake}");
            assert_eq!(fake.len(), original.len());
            assert_eq!(fake.matches(' ').count(), 3);
            assert!(fake.starts_with("4000 00"), "{fake}");
        }
        let amex = Transform::Card
            .apply(&k, Some("371449635398431"), RowContext::default())
            .unwrap()
            .unwrap();
        assert!(amex.starts_with("378282") && amex.len() == 15 && luhn_valid(&amex));
    }

    #[test]
    fn luhn_is_checked() {
        assert!(luhn_valid("4242 4242 4242 4242"));
        assert!(!luhn_valid("4242 4242 4242 4241"));
        assert!(!luhn_valid("7"));
    }
}
