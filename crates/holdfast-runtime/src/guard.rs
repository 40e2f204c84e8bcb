//! The stage guard: a function refuses to start with a payment key of the wrong mode.
//!
//! Run [`refuse_live_keys`] at cold start, on the environment (`std::env::vars()`) and on the
//! secrets the function resolved ([`Findings::check`] one by one, or a list of `(name, value)`
//! pairs): a non-production function that loaded a live key, or a production one that loaded a
//! test key, gets a [`StageGuardError`] naming each variable (or secret) and provider — never
//! the value — and should stop before it serves anything.

use crate::live_key::{mismatch, payment_keys, KeyMode};
use crate::stage::Environment;
use std::fmt;

/// One payment key of the wrong mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misplaced {
    /// The variable (or secret) that holds it.
    pub name: String,
    /// `Stripe`, `Braintree` or `Razorpay`.
    pub provider: &'static str,
    pub mode: KeyMode,
}

impl fmt::Display for Misplaced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} holds a {} {} key",
            self.name,
            self.mode.as_str(),
            self.provider
        )
    }
}

/// A function holds payment keys of the wrong mode for its environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct StageGuardError {
    pub environment: Environment,
    /// Every key out of place, in the order found.
    pub misplaced: Vec<Misplaced>,
}

impl fmt::Display for StageGuardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = if self.environment.is_production() {
            "a production function must not use test keys"
        } else {
            "only production may use live keys"
        };
        write!(
            f,
            "refusing to start a {} function ({rule}): ",
            self.environment
        )?;
        for (i, misplaced) in self.misplaced.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{misplaced}")?;
        }
        Ok(())
    }
}

/// Checks each `(name, value)` pair: `Err` listing every variable that holds a payment key of
/// the wrong mode for `env` (a live key outside production, a test key in production).
///
/// # Errors
/// [`StageGuardError`] with every misplaced key.
pub fn refuse_live_keys<N, V>(
    env: Environment,
    vars: impl IntoIterator<Item = (N, V)>,
) -> Result<(), StageGuardError>
where
    N: Into<String>,
    V: AsRef<str>,
{
    let mut findings = Findings::new(env);
    for (name, value) in vars {
        findings.check(name, value.as_ref());
    }
    findings.finish()
}

/// The guard's findings, collected value by value (variables and resolved secrets alike).
#[derive(Debug, Clone)]
pub struct Findings {
    environment: Environment,
    misplaced: Vec<Misplaced>,
}

impl Findings {
    /// No findings yet, for a function of `environment`.
    #[must_use]
    pub fn new(environment: Environment) -> Findings {
        Findings {
            environment,
            misplaced: Vec::new(),
        }
    }

    /// Checks one value, known as `name` (a variable, or a secret's name). A provider and
    /// mode found several times in one value is listed once.
    pub fn check(&mut self, name: impl Into<String>, value: &str) -> &mut Findings {
        let name = name.into();
        let mut listed: Vec<(&str, KeyMode)> = Vec::new();
        for key in payment_keys(value) {
            if !mismatch(self.environment, &key) || listed.contains(&(key.provider, key.mode)) {
                continue;
            }
            listed.push((key.provider, key.mode));
            self.misplaced.push(Misplaced {
                name: name.clone(),
                provider: key.provider,
                mode: key.mode,
            });
        }
        self
    }

    /// Whether nothing was out of place so far.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.misplaced.is_empty()
    }

    /// `Ok` when nothing was out of place.
    ///
    /// # Errors
    /// [`StageGuardError`] with every misplaced key.
    pub fn finish(self) -> Result<(), StageGuardError> {
        if self.misplaced.is_empty() {
            Ok(())
        } else {
            Err(StageGuardError {
                environment: self.environment,
                misplaced: self.misplaced,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live_key::{RAZORPAY, STRIPE};

    fn key(kind: &str, mode: &str) -> String {
        format!("{kind}_{mode}_{}", "Zx9".repeat(8))
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_staging_function_with_a_live_key_is_refused_by_name_never_by_value() {
        let live = key("sk", "live");
        let env = vars(&[
            ("PATH", "/usr/bin"),
            ("STRIPE_SECRET_KEY", &live),
            ("STRIPE_PUBLISHABLE_KEY", &key("pk", "test")),
        ]);
        let error = refuse_live_keys(Environment::Staging, env).unwrap_err();
        assert_eq!(
            error.misplaced,
            vec![Misplaced {
                name: "STRIPE_SECRET_KEY".into(),
                provider: STRIPE,
                mode: KeyMode::Live
            }]
        );
        let message = error.to_string();
        assert_eq!(
            message,
            "refusing to start a staging function (only production may use live keys): \
             STRIPE_SECRET_KEY holds a live Stripe key"
        );
        assert!(!message.contains(&live[8..]), "{message}");
    }

    #[test]
    fn a_production_function_with_a_test_key_is_refused() {
        let json = format!(r#"{{"key_id":"{}","secret":"x"}}"#, key("rzp", "test"));
        let env = vars(&[("PAYMENTS", &json), ("STRIPE", &key("sk", "live"))]);
        let error = refuse_live_keys(Environment::Production, env).unwrap_err();
        assert_eq!(error.misplaced.len(), 1);
        assert_eq!(error.misplaced[0].name, "PAYMENTS");
        assert_eq!(error.misplaced[0].provider, RAZORPAY);
        assert!(
            error.to_string().contains("must not use test keys"),
            "{error}"
        );
    }

    #[test]
    fn keys_of_the_right_mode_pass() {
        let prod = vars(&[("A", &key("sk", "live")), ("B", &key("pk", "live"))]);
        assert_eq!(refuse_live_keys(Environment::Production, prod), Ok(()));
        let dev = vars(&[("A", &key("sk", "test")), ("B", "no key here")]);
        assert_eq!(refuse_live_keys(Environment::Development, dev), Ok(()));
        assert_eq!(
            refuse_live_keys(Environment::Staging, Vec::<(String, String)>::new()),
            Ok(())
        );
    }

    #[test]
    fn every_misplaced_key_is_listed_and_resolved_secrets_count_too() {
        let mut findings = Findings::new(Environment::Development);
        let twice = format!("{} {}", key("sk", "live"), key("rk", "live"));
        findings
            .check("STRIPE_KEYS", &twice)
            .check("secret app/payments", &key("rzp", "live"))
            .check("FINE", &key("sk", "test"));
        assert!(!findings.is_clean());
        let error = findings.finish().unwrap_err();
        let names: Vec<&str> = error.misplaced.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["STRIPE_KEYS", "secret app/payments"]);
        assert!(
            error.to_string().ends_with(
                "STRIPE_KEYS holds a live Stripe key; secret app/payments holds a live Razorpay key"
            ),
            "{error}"
        );
    }
}
