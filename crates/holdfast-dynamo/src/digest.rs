//! Order-independent content digests of tables, for `compare` and the verification after copy.
//!
//! Each item is encoded canonically — attribute names sorted, numbers in canonical form
//! (`1.50` = `1.5`), set members sorted, every value tagged with its type and length-prefixed —
//! and hashed with SHA-256. A table's digest groups items by a hash of their key into
//! [`BUCKETS`] buckets and keeps, per bucket, the item count and the sum (mod 2²⁵⁶) of the item
//! hashes: a sum does not depend on the order items are read in, so the scan segments of two
//! tables need not line up, and workers' digests merge by adding. Two tables are equal when
//! every bucket's count and sum are equal; a differing bucket is where to look for the differing
//! keys ([`crate::compare`] reads just those buckets again).

use aws_sdk_dynamodb::types::AttributeValue;
use sha2::{Digest as _, Sha256};

use crate::number::Number;
use crate::sdk_item::SdkItem;

/// Number of key-hash buckets (4,096: 160 KB per digest; ~250 items per bucket at 1M items).
pub const BUCKETS: usize = 1 << 12;

/// The SHA-256 of an item's canonical encoding.
#[must_use]
pub fn item_hash(item: &SdkItem) -> [u8; 32] {
    let mut hasher = Sha256::new();
    encode_map(&mut hasher, item);
    hasher.finalize().into()
}

/// The first 16 bytes of [`item_hash`], hex: short enough to list a page's worth in a
/// checkpoint row, long enough that two different items never share one in practice.
#[must_use]
pub fn short_hash(item: &SdkItem) -> String {
    item_hash(item)[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 of `bytes`, hex.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bucket of a key identity ([`crate::keys::KeySpec::identity`]).
#[must_use]
pub fn bucket_of(key_identity: &[u8]) -> usize {
    let h = Sha256::digest(key_identity);
    (usize::from(h[0]) << 4 | usize::from(h[1]) >> 4) % BUCKETS
}

fn len(hasher: &mut Sha256, n: usize) {
    hasher.update((n as u64).to_be_bytes());
}

fn bytes(hasher: &mut Sha256, tag: u8, data: &[u8]) {
    hasher.update([tag]);
    len(hasher, data.len());
    hasher.update(data);
}

fn canonical_number(text: &str) -> String {
    Number::parse(text).map_or_else(|_| text.to_owned(), |n| n.canonical().to_owned())
}

fn encode_map(hasher: &mut Sha256, map: &std::collections::HashMap<String, AttributeValue>) {
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    len(hasher, names.len());
    for name in names {
        bytes(hasher, b'k', name.as_bytes());
        encode(hasher, &map[name]);
    }
}

fn encode(hasher: &mut Sha256, value: &AttributeValue) {
    match value {
        AttributeValue::S(s) => bytes(hasher, b'S', s.as_bytes()),
        AttributeValue::N(n) => bytes(hasher, b'N', canonical_number(n).as_bytes()),
        AttributeValue::B(b) => bytes(hasher, b'B', b.as_ref()),
        AttributeValue::Ss(v) => {
            let mut v: Vec<&[u8]> = v.iter().map(String::as_bytes).collect();
            v.sort_unstable();
            set(hasher, b's', &v);
        }
        AttributeValue::Ns(v) => {
            let mut v: Vec<String> = v.iter().map(|n| canonical_number(n)).collect();
            v.sort_unstable();
            let v: Vec<&[u8]> = v.iter().map(String::as_bytes).collect();
            set(hasher, b'n', &v);
        }
        AttributeValue::Bs(v) => {
            let mut v: Vec<&[u8]> = v.iter().map(AsRef::as_ref).collect();
            v.sort_unstable();
            set(hasher, b'b', &v);
        }
        AttributeValue::M(m) => {
            hasher.update([b'M']);
            encode_map(hasher, m);
        }
        AttributeValue::L(l) => {
            hasher.update([b'L']);
            len(hasher, l.len());
            l.iter().for_each(|v| encode(hasher, v));
        }
        AttributeValue::Bool(b) => hasher.update([if *b { b'T' } else { b'F' }]),
        AttributeValue::Null(_) => hasher.update([b'0']),
        _ => hasher.update([b'?']),
    }
}

fn set(hasher: &mut Sha256, tag: u8, members: &[&[u8]]) {
    hasher.update([tag]);
    len(hasher, members.len());
    members.iter().for_each(|m| bytes(hasher, b'm', m));
}

/// A table's (or a part's) digest: per bucket, item count and sum of item hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDigest {
    counts: Vec<u64>,
    sums: Vec<[u64; 4]>,
}

impl Default for TableDigest {
    fn default() -> Self {
        TableDigest {
            counts: vec![0; BUCKETS],
            sums: vec![[0; 4]; BUCKETS],
        }
    }
}

impl TableDigest {
    /// Adds one item (its key identity and item hash).
    pub fn add(&mut self, key_identity: &[u8], hash: &[u8; 32]) {
        let b = bucket_of(key_identity);
        self.counts[b] += 1;
        add_256(&mut self.sums[b], &words(hash));
    }

    /// Adds another digest (of other items).
    pub fn merge(&mut self, other: &TableDigest) {
        for b in 0..BUCKETS {
            self.counts[b] += other.counts[b];
            add_256(&mut self.sums[b], &other.sums[b]);
        }
    }

    /// Items added.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Items in bucket `b`.
    #[must_use]
    pub fn bucket_count(&self, b: usize) -> u64 {
        self.counts[b]
    }

    /// Buckets whose count or sum differ.
    #[must_use]
    pub fn differing_buckets(&self, other: &TableDigest) -> Vec<usize> {
        (0..BUCKETS)
            .filter(|&b| self.counts[b] != other.counts[b] || self.sums[b] != other.sums[b])
            .collect()
    }

    /// One SHA-256 over all buckets, hex: equal for equal contents.
    #[must_use]
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        for b in 0..BUCKETS {
            hasher.update(self.counts[b].to_be_bytes());
            for w in self.sums[b] {
                hasher.update(w.to_be_bytes());
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn words(hash: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, w) in out.iter_mut().enumerate() {
        *w = u64::from_be_bytes(hash[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    }
    out
}

/// `acc += x` mod 2²⁵⁶ (big-endian words).
fn add_256(acc: &mut [u64; 4], x: &[u64; 4]) {
    let mut carry = 0u64;
    for i in (0..4).rev() {
        let (s1, c1) = acc[i].overflowing_add(x[i]);
        let (s2, c2) = s1.overflowing_add(carry);
        acc[i] = s2;
        carry = u64::from(c1) + u64::from(c2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::KeySpec;

    fn item(pk: &str, n: &str, ss: &[&str]) -> SdkItem {
        let mut item = SdkItem::new();
        item.insert("pk".into(), AttributeValue::S(pk.into()));
        item.insert("n".into(), AttributeValue::N(n.into()));
        item.insert(
            "ss".into(),
            AttributeValue::Ss(ss.iter().map(|s| (*s).to_owned()).collect()),
        );
        item
    }

    #[test]
    fn the_hash_ignores_number_form_and_set_order_only() {
        assert_eq!(
            item_hash(&item("a", "1.50", &["x", "y"])),
            item_hash(&item("a", "1.5", &["y", "x"]))
        );
        assert_ne!(
            item_hash(&item("a", "1.5", &["x"])),
            item_hash(&item("a", "1.51", &["x"]))
        );
        // Length prefixes: ("ab","c") and ("a","bc") differ.
        assert_ne!(
            item_hash(&item("a", "1", &["ab", "c"])),
            item_hash(&item("a", "1", &["a", "bc"]))
        );
        let mut s = item("a", "1", &["x"]);
        s.insert("v".into(), AttributeValue::S("1".into()));
        let mut n = item("a", "1", &["x"]);
        n.insert("v".into(), AttributeValue::N("1".into()));
        assert_ne!(item_hash(&s), item_hash(&n));
    }

    #[test]
    fn digests_do_not_depend_on_order_and_find_the_bucket() {
        let key: KeySpec = "pk:S".parse().unwrap();
        let items: Vec<SdkItem> = (0..500)
            .map(|i| item(&format!("k{i}"), &i.to_string(), &["x"]))
            .collect();
        let mut forward = TableDigest::default();
        items
            .iter()
            .for_each(|i| forward.add(&key.identity(i), &item_hash(i)));
        let mut halves = (TableDigest::default(), TableDigest::default());
        for (n, i) in items.iter().rev().enumerate() {
            let d = if n % 2 == 0 {
                &mut halves.0
            } else {
                &mut halves.1
            };
            d.add(&key.identity(i), &item_hash(i));
        }
        halves.0.merge(&halves.1);
        assert_eq!(forward, halves.0);
        assert_eq!(forward.fingerprint(), halves.0.fingerprint());
        assert_eq!(forward.count(), 500);

        let mut changed = TableDigest::default();
        for (n, i) in items.iter().enumerate() {
            let i = if n == 7 {
                item("k7", "8", &["x"])
            } else {
                i.clone()
            };
            changed.add(&key.identity(&i), &item_hash(&i));
        }
        let diff = forward.differing_buckets(&changed);
        assert_eq!(diff, vec![bucket_of(&key.identity(&items[7]))]);
    }
}
