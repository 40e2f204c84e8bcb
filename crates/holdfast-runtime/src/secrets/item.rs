//! What is read (a secret or a parameter, by name) and what comes back (a value whose Debug
//! form hides it).

use std::fmt;
use std::sync::Arc;

/// A Secrets Manager secret or a Parameter Store parameter, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item<'a> {
    /// A secret's name or ARN (`GetSecretValue`'s `SecretId`; its `AWSCURRENT` version).
    Secret(&'a str),
    /// A parameter's name or ARN (`GetParameter`, decrypted: a `SecureString` comes back as
    /// plain text). `name:3` or `name:label` selects a version or label.
    Parameter(&'a str),
}

impl Item<'_> {
    /// The name or ARN.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Item::Secret(name) | Item::Parameter(name) => name,
        }
    }

    pub(crate) fn is_secret(&self) -> bool {
        matches!(self, Item::Secret(_))
    }
}

impl fmt::Display for Item<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Secret(name) => write!(f, "secret `{name}`"),
            Item::Parameter(name) => write!(f, "parameter `{name}`"),
        }
    }
}

/// A secret's or parameter's text. Cheap to clone (shared); `Debug` shows `SecretValue(***)`
/// so a value never reaches a log by accident: [`SecretValue::expose`] is the one way in.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Arc<str>);

impl SecretValue {
    /// The text.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretValue {
    fn from(text: String) -> SecretValue {
        SecretValue(text.into())
    }
}

impl From<&str> for SecretValue {
    fn from(text: &str) -> SecretValue {
        SecretValue(text.into())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(***)")
    }
}
