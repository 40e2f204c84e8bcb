//! Payment provider keys found in text, and whether their mode fits an environment.
//!
//! [`payment_keys`] finds, anywhere in a string — a variable's value, a secret, a JSON
//! document holding several — the keys whose form says which mode they are for:
//!
//! | provider | live | test | after the prefix |
//! | --- | --- | --- | --- |
//! | Stripe | `sk_live_`, `rk_live_`, `pk_live_` | `sk_test_`, `rk_test_`, `pk_test_` | ≥ 10 letters or digits |
//! | Braintree | `access_token$production$` | `access_token$sandbox$` | ≥ 10 letters, digits or `$` |
//! | Razorpay | `rzp_live_` | `rzp_test_` | ≥ 10 letters or digits |
//!
//! Publishable keys (`pk_`) are no secret, but they still say live or test, and a staging
//! front end on live keys takes real money. A prefix counts only at the start of a word (not
//! after a letter or digit), and only with enough key characters after it, so names such as
//! `sk_live_mode` or `task_live_stream` are not keys. Prefixes are case-sensitive, as the
//! providers issue them.
//!
//! [`mismatch`] says whether a key is out of place: a live key outside production, or a test
//! key in production. Nothing here keeps or returns the key itself.

use crate::stage::Environment;

/// The mode a key works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyMode {
    /// Real charges.
    Live,
    /// The provider's test mode or sandbox.
    Test,
}

impl KeyMode {
    /// `live` or `test`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            KeyMode::Live => "live",
            KeyMode::Test => "test",
        }
    }
}

/// A payment key found in a string: its provider and mode, never its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PaymentKey {
    /// `Stripe`, `Braintree` or `Razorpay`.
    pub provider: &'static str,
    pub mode: KeyMode,
}

/// The Stripe provider's name.
pub const STRIPE: &str = "Stripe";
/// The Braintree provider's name.
pub const BRAINTREE: &str = "Braintree";
/// The Razorpay provider's name.
pub const RAZORPAY: &str = "Razorpay";

/// How many key characters must follow a prefix.
const MIN_TAIL: usize = 10;

/// Every payment key in `value`, in the order they appear.
#[must_use]
pub fn payment_keys(value: &str) -> Vec<PaymentKey> {
    let bytes = value.as_bytes();
    let mut found: Vec<(usize, PaymentKey)> = Vec::new();
    for (marker, mode) in [("_live_", KeyMode::Live), ("_test_", KeyMode::Test)] {
        for (at, _) in value.match_indices(marker) {
            let tail = at + marker.len();
            if alnum_run(&bytes[tail..]) < MIN_TAIL {
                continue;
            }
            let key = |provider| PaymentKey { provider, mode };
            if let Some(start) = preceded_by(bytes, at, b"rzp") {
                found.push((start, key(RAZORPAY)));
            } else if let Some(start) = [b"sk", b"rk", b"pk"]
                .into_iter()
                .find_map(|prefix| preceded_by(bytes, at, prefix))
            {
                found.push((start, key(STRIPE)));
            }
        }
    }
    for (at, _) in value.match_indices("access_token$") {
        if at > 0 && bytes[at - 1].is_ascii_alphanumeric() {
            continue;
        }
        let rest = &value[at + "access_token$".len()..];
        for (environment, mode) in [("production$", KeyMode::Live), ("sandbox$", KeyMode::Test)] {
            if let Some(tail) = rest.strip_prefix(environment) {
                let run = tail
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'$')
                    .count();
                if run >= MIN_TAIL {
                    let provider = BRAINTREE;
                    found.push((at, PaymentKey { provider, mode }));
                }
            }
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found.into_iter().map(|(_, key)| key).collect()
}

/// Whether `key` is out of place in `env`: a live key outside production, or a test key in
/// production.
#[must_use]
pub fn mismatch(env: Environment, key: &PaymentKey) -> bool {
    match key.mode {
        KeyMode::Live => !env.is_production(),
        KeyMode::Test => env.is_production(),
    }
}

/// The start of `prefix` when it ends at `at` and begins a word.
fn preceded_by(bytes: &[u8], at: usize, prefix: &[u8]) -> Option<usize> {
    let start = at.checked_sub(prefix.len())?;
    let starts_word = start == 0 || !bytes[start - 1].is_ascii_alphanumeric();
    (&bytes[start..at] == prefix && starts_word).then_some(start)
}

/// How many ASCII letters and digits `bytes` starts with.
fn alnum_run(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys are put together at run time, so no scanner mistakes this file for a leak.
    fn stripe(kind: &str, mode: &str) -> String {
        format!("{kind}_{mode}_{}", "a1B2c3D4e5".repeat(2))
    }

    fn braintree(environment: &str) -> String {
        format!(
            "access_token${environment}${}${}",
            "m3rch4nt1d",
            "f".repeat(32)
        )
    }

    fn razorpay(mode: &str) -> String {
        format!("rzp_{mode}_{}", "Ab12Cd34Ef56Gh")
    }

    fn live(provider: &'static str) -> PaymentKey {
        PaymentKey {
            provider,
            mode: KeyMode::Live,
        }
    }

    fn test(provider: &'static str) -> PaymentKey {
        PaymentKey {
            provider,
            mode: KeyMode::Test,
        }
    }

    #[test]
    fn finds_each_providers_keys_in_both_modes() {
        let table = [
            (stripe("sk", "live"), vec![live(STRIPE)]),
            (stripe("rk", "live"), vec![live(STRIPE)]),
            (stripe("pk", "live"), vec![live(STRIPE)]),
            (stripe("sk", "test"), vec![test(STRIPE)]),
            (stripe("rk", "test"), vec![test(STRIPE)]),
            (stripe("pk", "test"), vec![test(STRIPE)]),
            (braintree("production"), vec![live(BRAINTREE)]),
            (braintree("sandbox"), vec![test(BRAINTREE)]),
            (razorpay("live"), vec![live(RAZORPAY)]),
            (razorpay("test"), vec![test(RAZORPAY)]),
        ];
        for (value, expected) in table {
            assert_eq!(payment_keys(&value), expected, "{value}");
        }
    }

    #[test]
    fn finds_keys_inside_json_and_urls_in_order() {
        let json = format!(
            r#"{{"publishable":"{}","secret":"{}","razorpay":"{}"}}"#,
            stripe("pk", "test"),
            stripe("sk", "live"),
            razorpay("live")
        );
        assert_eq!(
            payment_keys(&json),
            vec![test(STRIPE), live(STRIPE), live(RAZORPAY)]
        );
        let url = format!("https://api.example.com/?key={}&x=1", stripe("sk", "live"));
        assert_eq!(payment_keys(&url), vec![live(STRIPE)]);
        let text = format!("token: {} (rotated)", braintree("production"));
        assert_eq!(payment_keys(&text), vec![live(BRAINTREE)]);
    }

    #[test]
    fn words_that_only_look_like_prefixes_are_not_keys() {
        let short = format!("sk_live_{}", "a".repeat(MIN_TAIL - 1));
        let inside_a_word = format!("task_live_{}", "a".repeat(20));
        let razorpay_inside = format!("xrzp_live_{}", "a".repeat(20));
        let braintree_inside = format!("myaccess_token$production${}", "a".repeat(20));
        let braintree_short = "access_token$production$abc".to_owned();
        let other_provider = format!("ak_live_{}", "a".repeat(20));
        let upper = format!("SK_LIVE_{}", "a".repeat(20));
        for value in [
            "",
            "sk_live_mode",
            "STRIPE_MODE=live",
            "live_test_",
            &short,
            &inside_a_word,
            &razorpay_inside,
            &braintree_inside,
            &braintree_short,
            &other_provider,
            &upper,
        ] {
            assert_eq!(payment_keys(value), vec![], "{value}");
        }
    }

    #[test]
    fn a_key_is_out_of_place_by_mode_and_environment() {
        let table = [
            (Environment::Production, KeyMode::Live, false),
            (Environment::Production, KeyMode::Test, true),
            (Environment::Staging, KeyMode::Live, true),
            (Environment::Staging, KeyMode::Test, false),
            (Environment::Development, KeyMode::Live, true),
            (Environment::Development, KeyMode::Test, false),
        ];
        for (env, mode, expected) in table {
            let key = PaymentKey {
                provider: STRIPE,
                mode,
            };
            assert_eq!(mismatch(env, &key), expected, "{env} {mode:?}");
        }
    }

    #[test]
    fn scanning_handles_multibyte_text_around_keys() {
        let value = format!("é→{}←ü", stripe("sk", "live"));
        assert_eq!(payment_keys(&value), vec![live(STRIPE)]);
        assert_eq!(payment_keys("_live_é"), vec![]);
    }
}
