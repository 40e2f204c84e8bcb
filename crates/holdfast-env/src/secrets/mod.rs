//! Credentials recognised in a literal value: `env-plaintext-secret`.
//!
//! Two ways, tried in this order:
//!
//! - **by pattern**: the value has a credential's form (a Stripe key, an AWS access key id, a
//!   GitHub token, a private key…), by the rules of `rules/gitleaks.toml` (a curated subset of
//!   gitleaks' rule set, MIT license) and `rules/holdfast.toml` (Holdfast's own: passwords in
//!   database and HTTP URLs, Stripe webhook secrets). A rule is tried on the text `KEY=VALUE`,
//!   so rules that need their context (`MAILGUN_API_KEY=key-…`) work, but only a secret found
//!   inside the value counts. A keyword prefilter ([`keywords`]) keeps a value away from the
//!   regexes of rules whose keywords it does not contain.
//! - **by key name**: the key is named like a credential's (`…_PASSWORD`, `…_TOKEN`,
//!   `…_API_KEY`, …: [`is_secret_key_name`]) and the value has at least
//!   [`KEY_NAME_MIN_CHARS`] characters and [`KEY_NAME_MIN_ENTROPY`] bits of entropy per
//!   character.
//!
//! A value that points at a secret ([`is_reference`]: a Secrets Manager or SSM ARN, an SSM
//! path, a dynamic reference), any other ARN, a value that is wholly an unresolved variable
//! (`${…}`) and a secret's name in path form are never reported.
//!
//! The value itself is never kept: a [`SecretHit`] names the rule only.

mod entropy;
mod key_name;
mod keywords;
mod reference;
mod rules;

use std::fmt;
use std::sync::OnceLock;

pub use entropy::shannon_entropy;
pub use key_name::is_secret_key_name;
pub use reference::is_reference;
pub use rules::{Origin, Rule, RuleError, RuleSource, BUILTIN_SOURCES};

use keywords::Prefilter;

/// The id of the key-name rule.
pub const KEY_NAME_RULE: &str = "secret-key-name";

/// What the key-name rule reports.
pub const KEY_NAME_DESCRIPTION: &str =
    "A literal, random-looking value under a key named like a credential's.";

/// The key-name rule's entropy floor, in bits per character (inclusive). Eight distinct
/// characters have exactly 3.0; `password` has 2.75, `changeme123` 3.28.
pub const KEY_NAME_MIN_ENTROPY: f64 = 3.0;

/// The key-name rule's length floor, in characters (inclusive). Implied by the entropy floor
/// (a text of `n` characters has at most `log2(n)` bits per character), and kept so that a
/// lower entropy floor does not admit short values.
pub const KEY_NAME_MIN_CHARS: usize = 8;

/// How a credential was recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// The value has the form of a credential (a rule's pattern).
    Pattern,
    /// The key is named like a credential's and the value looks random.
    KeyName,
}

/// A credential found in a value: which rule, never the value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretHit {
    /// The rule's id: gitleaks' (`stripe-access-token`), Holdfast's
    /// (`database-url-with-password`) or [`KEY_NAME_RULE`].
    pub rule: String,
    /// What the rule found, in a sentence.
    pub description: String,
    /// How it was recognised.
    pub by: MatchedBy,
}

/// A compiled rule set.
pub struct Detector {
    rules: Vec<Rule>,
    prefilter: Prefilter,
}

impl fmt::Debug for Detector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Detector")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl Detector {
    /// The built-in rules ([`BUILTIN_SOURCES`]), compiled on first use.
    pub fn builtin() -> &'static Detector {
        static BUILTIN: OnceLock<Detector> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            Detector::from_sources(&BUILTIN_SOURCES)
                .unwrap_or_else(|e| panic!("the built-in rules compile (tested): {e}"))
        })
    }

    /// A detector with the rules of `sources`, in order.
    pub fn from_sources(sources: &[RuleSource<'_>]) -> Result<Detector, RuleError> {
        let rules = rules::compile(sources)?;
        let prefilter = Prefilter::new(&rules).map_err(|e| RuleError::Rule {
            file: sources
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
            rule: "(keywords)".into(),
            message: e.to_string(),
        })?;
        Ok(Detector { rules, prefilter })
    }

    /// The rules, in order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The best hit for the literal `value` of the environment variable `key`, if it looks
    /// like a credential: the pattern rule with the longest secret (the first such rule on a
    /// tie), else the key-name rule.
    pub fn scan(&self, key: &str, value: &str) -> Option<SecretHit> {
        if value.trim().is_empty() || reference::is_not_a_credential(value) {
            return None;
        }
        self.by_pattern(key, value)
            .or_else(|| by_key_name(key, value))
    }

    fn by_pattern(&self, key: &str, value: &str) -> Option<SecretHit> {
        let line = format!("{key}={value}");
        let from = key.len() + 1;
        let mut best: Option<(usize, &Rule)> = None;
        for index in self.prefilter.candidates(&line) {
            let rule = &self.rules[index];
            if let Some(secret) = rule.find_secret(&line, from) {
                if best.is_none_or(|(len, _)| secret.len() > len) {
                    best = Some((secret.len(), rule));
                }
            }
        }
        best.map(|(_, rule)| SecretHit {
            rule: rule.id().to_owned(),
            description: rule.description().to_owned(),
            by: MatchedBy::Pattern,
        })
    }
}

/// The key-name rule.
fn by_key_name(key: &str, value: &str) -> Option<SecretHit> {
    (is_secret_key_name(key)
        && value.chars().count() >= KEY_NAME_MIN_CHARS
        && shannon_entropy(value) >= KEY_NAME_MIN_ENTROPY)
        .then(|| SecretHit {
            rule: KEY_NAME_RULE.to_owned(),
            description: KEY_NAME_DESCRIPTION.to_owned(),
            by: MatchedBy::KeyName,
        })
}
