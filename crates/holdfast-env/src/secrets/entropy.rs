//! Shannon entropy of a text, in bits per character: how random it looks.

/// The Shannon entropy of `s` in bits per character (0 for an empty text).
///
/// Characters are counted as Unicode scalar values, so a text of `n` characters has at most
/// `log2(n)` bits per character: eight distinct characters give exactly 3.0.
pub fn shannon_entropy(s: &str) -> f64 {
    let mut ascii = [0u32; 128];
    let mut other: Vec<(char, u32)> = Vec::new();
    let mut len = 0u32;
    for c in s.chars() {
        len += 1;
        if c.is_ascii() {
            ascii[c as usize] += 1;
        } else if let Some(entry) = other.iter_mut().find(|(seen, _)| *seen == c) {
            entry.1 += 1;
        } else {
            other.push((c, 1));
        }
    }
    if len == 0 {
        return 0.0;
    }
    let len = f64::from(len);
    ascii
        .iter()
        .copied()
        .chain(other.iter().map(|(_, n)| *n))
        .filter(|&n| n > 0)
        .map(|n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::shannon_entropy;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn known_values() {
        assert!(close(shannon_entropy(""), 0.0));
        assert!(close(shannon_entropy("aaaa"), 0.0));
        assert!(close(shannon_entropy("ab"), 1.0));
        assert!(close(shannon_entropy("abcdefgh"), 3.0));
        assert!(close(shannon_entropy("0123456789abcdef"), 4.0));
        // Two of eight characters the same: 6 × (1/8 × 3) + 2/8 × 2.
        assert!(close(shannon_entropy("abcdefgg"), 2.75));
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert!(close(shannon_entropy("éé"), 0.0));
        assert!(close(shannon_entropy("éa"), 1.0));
        assert!(close(shannon_entropy("αβγδεζηθ"), 3.0));
    }
}
