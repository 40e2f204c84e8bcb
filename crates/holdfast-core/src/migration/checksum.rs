//! Checksums of migration text, stable across line-ending and trailing-whitespace changes.

use sha2::{Digest, Sha256};
use std::fmt::Write;

/// SHA-256 (hex) of `text` with line endings normalised to LF, trailing whitespace removed from
/// every line, a leading byte-order mark dropped and trailing blank lines ignored.
/// CRLF vs LF and trailing whitespace do not change it; any other edit does.
pub fn checksum(text: &str) -> String {
    let mut hasher = Sha256::new();
    for (i, line) in normalized_lines(text).enumerate() {
        if i > 0 {
            hasher.update(b"\n");
        }
        hasher.update(line.as_bytes());
    }
    hex(&hasher.finalize())
}

/// Checksum of the first `count` statements of a file, each normalised like [`checksum`].
/// Recorded as statements are applied, so `--resume` can prove statements 1..k are unchanged.
pub fn prefix_checksum<'a>(statements: impl IntoIterator<Item = &'a str>, count: usize) -> String {
    let mut prefix = PrefixChecksum::default();
    for statement in statements.into_iter().take(count) {
        prefix.push(statement);
    }
    prefix.current()
}

/// [`prefix_checksum`] computed incrementally, one statement at a time.
#[derive(Clone, Default)]
pub struct PrefixChecksum {
    hasher: Sha256,
}

impl PrefixChecksum {
    /// Adds the next statement.
    pub fn push(&mut self, statement: &str) {
        self.hasher.update(checksum(statement).as_bytes());
        self.hasher.update(b"\n");
    }

    /// The checksum of the statements pushed so far.
    pub fn current(&self) -> String {
        hex(&self.hasher.clone().finalize())
    }
}

fn normalized_lines(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end()).collect();
    let keep = lines
        .iter()
        .rposition(|l| !l.is_empty())
        .map_or(0, |i| i + 1);
    lines.into_iter().take(keep)
}

/// SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings_and_trailing_whitespace_do_not_count() {
        let base = checksum("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n");
        for same in [
            "CREATE TABLE a (id int);\r\nINSERT INTO a VALUES (1);\r\n",
            "CREATE TABLE a (id int);   \nINSERT INTO a VALUES (1);\t\n\n\n",
            "\u{feff}CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);",
        ] {
            assert_eq!(checksum(same), base, "{same:?}");
        }
    }

    #[test]
    fn real_edits_count() {
        let base = checksum("CREATE TABLE a (id int);\n");
        for edited in [
            "CREATE TABLE a (id bigint);\n",
            " CREATE TABLE a (id int);\n",
            "CREATE TABLE a (id int);\n-- comment\n",
            "CREATE TABLE a  (id int);\n",
            "\nCREATE TABLE a (id int);\n",
        ] {
            assert_ne!(checksum(edited), base, "{edited:?}");
        }
    }

    #[test]
    fn known_value() {
        // SHA-256 of "abc".
        assert_eq!(
            checksum("abc\r\n"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn prefix_checksum_depends_only_on_the_prefix() {
        let a = ["CREATE TABLE a (id int)", "CREATE TABLE b (id int)", "x"];
        let b = ["CREATE TABLE a (id int)  ", "CREATE TABLE b (id int)", "y"];
        assert_eq!(prefix_checksum(a, 2), prefix_checksum(b, 2));
        assert_ne!(prefix_checksum(a, 3), prefix_checksum(b, 3));
        assert_ne!(prefix_checksum(a, 1), prefix_checksum(a, 2));
    }
}
