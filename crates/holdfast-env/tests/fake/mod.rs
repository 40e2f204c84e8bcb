//! Fake credential bodies for the detector's tests and benchmark: a fixed pseudo-random
//! sequence of an alphabet's characters per seed, so samples are made at run time and no
//! token appears whole in the source.

/// `n` characters of `alphabet`, a fixed pseudo-random sequence per `seed` (a fake body).
pub fn fake(alphabet: &str, n: usize, seed: u64) -> String {
    let chars: Vec<char> = alphabet.chars().collect();
    let mut x = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            chars[((x >> 33) % chars.len() as u64) as usize]
        })
        .collect()
}
