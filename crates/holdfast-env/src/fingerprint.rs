//! Keyed fingerprints: how a report identifies a value it must not show.
//!
//! `fp:` and the first 12 hex digits of HMAC-SHA256(key, value). The key is this run's own,
//! random (so a fingerprint in a report cannot be checked against guessed values afterwards),
//! unless `HOLDFAST_FINGERPRINT_KEY` sets one, which makes fingerprints comparable across runs
//! and machines: keep that key secret, as the values it fingerprints are.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The variable that sets a fixed fingerprint key.
pub const KEY_VARIABLE: &str = "HOLDFAST_FINGERPRINT_KEY";

/// Fingerprints values with one key.
#[derive(Clone)]
pub struct Fingerprinter {
    key: Vec<u8>,
}

impl std::fmt::Debug for Fingerprinter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprinter { key: <hidden> }")
    }
}

impl Fingerprinter {
    /// With `HOLDFAST_FINGERPRINT_KEY` when set (and not empty), else a random key.
    pub fn from_env() -> Fingerprinter {
        match std::env::var(KEY_VARIABLE) {
            Ok(key) if !key.is_empty() => Fingerprinter::with_key(key.as_bytes()),
            _ => Fingerprinter::random(),
        }
    }

    /// With this key.
    pub fn with_key(key: &[u8]) -> Fingerprinter {
        Fingerprinter { key: key.to_vec() }
    }

    /// With 32 bytes from the operating system's random source.
    pub fn random() -> Fingerprinter {
        let mut key = vec![0u8; 32];
        let read = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut key));
        if read.is_err() {
            // No /dev/urandom: the standard library's per-process random hash keys.
            use std::hash::{BuildHasher, Hasher};
            for chunk in key.chunks_mut(8) {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(chunk.as_ptr() as usize);
                chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
            }
        }
        Fingerprinter { key }
    }

    /// `fp:` and 12 hex digits.
    pub fn of(&self, value: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
        format!("fp:{hex}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_one_fingerprint_and_keys_differ() {
        let a = Fingerprinter::with_key(b"k1");
        assert_eq!(a.of("secret"), a.of("secret"));
        assert_ne!(a.of("secret"), a.of("secret2"));
        assert_ne!(a.of("secret"), Fingerprinter::with_key(b"k2").of("secret"));
        assert_ne!(
            Fingerprinter::random().of("x"),
            Fingerprinter::random().of("x")
        );
        let fp = a.of("secret");
        assert!(fp.starts_with("fp:") && fp.len() == 15, "{fp}");
        assert!(!format!("{a:?}").contains("k1"));
    }
}
