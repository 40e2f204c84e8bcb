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

/// The keyed hashes of the originals: 8 bytes per distinct original, kept sorted (a set of
/// hashes costs twice that and grows by doubling).
#[derive(Debug, Default, Clone)]
pub struct Originals {
    hashes: Vec<u64>,
    /// How many of `hashes`, from the start, are sorted and distinct.
    sorted: usize,
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
    key.leak_hash(form.as_bytes())
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
        if self.hashes.len() >= 2 * self.sorted.max(1 << 16) {
            self.seal();
        }
    }

    /// Adds another table's originals.
    pub fn merge(&mut self, other: Originals) {
        self.hashes.extend(other.hashes);
        self.seal();
    }

    /// Sorts and de-duplicates what was added (done by `merge`, and before the first lookup).
    pub fn seal(&mut self) {
        if self.sorted != self.hashes.len() {
            self.hashes.sort_unstable();
            self.hashes.dedup();
            self.sorted = self.hashes.len();
        }
    }

    /// The recorded hashes, sorted.
    #[must_use]
    pub fn hashes(&mut self) -> &[u64] {
        self.seal();
        &self.hashes
    }

    /// The recorded hashes, sorted (after [`Originals::seal`]).
    #[must_use]
    pub fn sealed(&self) -> &[u64] {
        debug_assert_eq!(self.sorted, self.hashes.len(), "seal first");
        &self.hashes
    }

    /// Originals from recorded hashes.
    #[must_use]
    pub fn from_hashes(hashes: Vec<u64>) -> Originals {
        let mut o = Originals { hashes, sorted: 0 };
        o.seal();
        o
    }

    /// How many distinct originals are recorded.
    #[must_use]
    pub fn len(&self) -> usize {
        debug_assert_eq!(self.sorted, self.hashes.len(), "seal before counting");
        self.hashes.len()
    }

    /// Whether none are.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// Whether `h` is recorded: an interpolation search, as keyed hashes spread evenly over
    /// the 64-bit range (a few probes, where a binary search of millions takes twenty).
    fn contains(&self, h: u64) -> bool {
        let v = &self.hashes;
        let (mut lo, mut hi) = (0usize, v.len());
        // The answer, if any, is in v[lo..hi].
        while lo < hi {
            let (first, last) = (v[lo], v[hi - 1]);
            if h < first || h > last {
                return false;
            }
            let offset = (u128::from(h - first) * (hi - lo - 1) as u128)
                .checked_div(u128::from(last - first))
                .unwrap_or(0);
            let pos = lo + usize::try_from(offset).unwrap_or(0);
            match v[pos].cmp(&h) {
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Less => lo = pos + 1,
                std::cmp::Ordering::Greater => hi = pos,
            }
        }
        false
    }

    /// Whether the target value `value` (of a text or JSON column) holds an original. Call
    /// [`Originals::seal`] first.
    #[must_use]
    pub fn hit(&self, key: &Key, value: &str, is_json: bool) -> bool {
        debug_assert_eq!(self.sorted, self.hashes.len(), "seal before looking up");
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
        out.iter().any(|f| self.contains(hash(key, f)))
    }
}

/// The identity of a key, as recorded with a sanitize run and in an originals file: a keyed
/// hash of a constant, which tells two keys apart and says nothing of either.
#[must_use]
pub fn key_id(key: &Key) -> String {
    hex(&key.mac(&[b"holdfast-refresh-key-id"])[..8])
}

/// Lower-case hexadecimal.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The first line of an originals file.
const FILE_MAGIC: &str = "holdfast-refresh-originals 2";

/// Writes `hashes` (sorted) to `path` for a later `refresh verify --originals`: a header
/// naming the key's identity, then the hashes as little-endian 64-bit words. They are keyed:
/// without the key they say nothing, but with it they answer "was this value an original?",
/// so the file is kept like the key (created readable by its owner only).
///
/// # Errors
/// The file cannot be written.
pub fn write_file(path: &std::path::Path, key_id: &str, hashes: &[u64]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = std::io::BufWriter::new(options.open(path)?);
    writeln!(out, "{FILE_MAGIC}\n{key_id}")?;
    for h in hashes {
        out.write_all(&h.to_le_bytes())?;
    }
    out.flush()
}

/// Reads an originals file: the key identity it was written under, and the originals.
///
/// # Errors
/// The file cannot be read or is not an originals file (the message says which).
pub fn read_file(path: &std::path::Path) -> Result<(String, Originals), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let bad = || {
        format!(
            "{}: not an originals file (refresh sanitize writes them when asked)",
            path.display()
        )
    };
    let mut lines = bytes.splitn(3, |&b| b == b'\n');
    if lines.next() != Some(FILE_MAGIC.as_bytes()) {
        return Err(bad());
    }
    let key_id = String::from_utf8(lines.next().ok_or_else(bad)?.to_vec()).map_err(|_| bad())?;
    let body = lines.next().unwrap_or_default();
    if body.len() % 8 != 0 {
        return Err(format!(
            "{}: truncated ({} bytes of hashes)",
            path.display(),
            body.len()
        ));
    }
    let hashes = body
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
        .collect();
    Ok((key_id, Originals::from_hashes(hashes)))
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
    #[test]
    fn the_search_finds_every_recorded_hash_and_nothing_else() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let all: Vec<u64> = (0..20_000).map(|_| next()).collect();
        let (kept, other) = all.split_at(10_000);
        let o = Originals::from_hashes(kept.to_vec());
        assert!(kept.iter().all(|&h| o.contains(h)));
        assert!(other.iter().all(|&h| !o.contains(h)));
        let edges = Originals::from_hashes(vec![0, 5, 5, u64::MAX]);
        assert!(edges.contains(0) && edges.contains(5) && edges.contains(u64::MAX));
        assert!(!edges.contains(1) && !edges.contains(u64::MAX - 1));
        assert!(!Originals::default().contains(3));
    }

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
        o.seal();
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
        let dir = std::env::temp_dir().join(format!("holdfast-leak-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("originals");
        write_file(&file, "abc", o.hashes()).unwrap();
        let (id, back) = read_file(&file).unwrap();
        assert_eq!(id, "abc");
        assert!(back.hit(&key, "ann.real@corp.example", false));
        std::fs::write(&file, b"not it").unwrap();
        assert!(read_file(&file)
            .unwrap_err()
            .contains("not an originals file"));
        std::fs::remove_dir_all(&dir).unwrap();
        let other_key = Key::new(vec![2u8; 32]).unwrap();
        assert!(!o.hit(&other_key, "ann.real@corp.example", false));
    }
}
