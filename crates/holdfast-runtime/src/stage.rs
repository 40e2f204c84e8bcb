//! Stages and the environment each one stands for.
//!
//! A deploy names a *stage* (`prod`, `staging`, `dev`, `pr-123`, `alice`…); what a function
//! may do depends on its *environment*: [`Environment::Production`], [`Environment::Staging`]
//! or [`Environment::Development`]. [`Environment::of_stage`] is the one mapping from the first
//! to the second, shared by a function at run time and by Holdfast's checks at deploy time:
//! `prod` and `production` are production, `staging` and `stage` are staging, and every other
//! name is development (case-insensitive, surrounding whitespace ignored). A stage that should
//! mean something else is given its environment explicitly — in `holdfast.toml` or in code —
//! with the environment's name, read by [`FromStr`] or serde.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// What a stage is for: the rules that apply to its functions (live keys only in production,
/// test keys never there).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Environment {
    /// Real customers and real money.
    Production,
    /// A copy of production, for checking a release before it ships.
    Staging,
    /// Everything else: developers' stages, pull-request stages, local runs.
    Development,
}

impl Environment {
    /// Every environment, most guarded first.
    pub const ALL: [Environment; 3] = [
        Environment::Production,
        Environment::Staging,
        Environment::Development,
    ];

    /// The environment of a stage name: `prod`/`production` → production, `staging`/`stage` →
    /// staging, anything else (`dev`, `pr-42`, `alice`, the empty name) → development.
    /// Case-insensitive; surrounding whitespace is ignored.
    #[must_use]
    pub fn of_stage(stage: &str) -> Environment {
        let stage = stage.trim();
        let is = |name: &str| stage.eq_ignore_ascii_case(name);
        if is("prod") || is("production") {
            Environment::Production
        } else if is("staging") || is("stage") {
            Environment::Staging
        } else {
            Environment::Development
        }
    }

    /// Its name: `production`, `staging` or `development` (the form serde writes and
    /// `holdfast.toml` uses).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Staging => "staging",
            Environment::Development => "development",
        }
    }

    /// Whether this is [`Environment::Production`].
    #[must_use]
    pub fn is_production(self) -> bool {
        self == Environment::Production
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not an environment's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an environment (expected production, staging or development)")]
pub struct ParseEnvironmentError;

impl FromStr for Environment {
    type Err = ParseEnvironmentError;

    /// An environment by its name (`production`, `staging`, `development`) or the short form
    /// (`prod`, `stage`, `dev`), case-insensitive. Unlike [`Environment::of_stage`], any other
    /// text is an error: this reads a setting, where a typo must not mean development.
    fn from_str(text: &str) -> Result<Environment, ParseEnvironmentError> {
        let text = text.trim();
        let is = |name: &str| text.eq_ignore_ascii_case(name);
        if is("production") || is("prod") {
            Ok(Environment::Production)
        } else if is("staging") || is("stage") {
            Ok(Environment::Staging)
        } else if is("development") || is("dev") {
            Ok(Environment::Development)
        } else {
            Err(ParseEnvironmentError)
        }
    }
}

impl Serialize for Environment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Environment {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Environment, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = Environment;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("production, staging or development")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Environment, E> {
                text.parse().map_err(|_| {
                    E::invalid_value(serde::de::Unexpected::Other("another name"), &self)
                })
            }
        }
        deserializer.deserialize_str(Name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_names_map_to_environments() {
        let table = [
            ("prod", Environment::Production),
            ("production", Environment::Production),
            ("PROD", Environment::Production),
            ("Production", Environment::Production),
            (" prod ", Environment::Production),
            ("staging", Environment::Staging),
            ("stage", Environment::Staging),
            ("STAGING", Environment::Staging),
            ("Stage", Environment::Staging),
            ("dev", Environment::Development),
            ("development", Environment::Development),
            ("", Environment::Development),
            ("pr-123", Environment::Development),
            ("alice", Environment::Development),
            ("prod-eu", Environment::Development),
            ("preprod", Environment::Development),
            ("stagingx", Environment::Development),
        ];
        for (stage, expected) in table {
            assert_eq!(Environment::of_stage(stage), expected, "stage {stage:?}");
        }
    }

    #[test]
    fn names_round_trip_through_from_str_and_display() {
        for env in Environment::ALL {
            assert_eq!(env.as_str().parse::<Environment>(), Ok(env));
            assert_eq!(env.to_string(), env.as_str());
        }
        let table = [
            ("prod", Ok(Environment::Production)),
            ("STAGE", Ok(Environment::Staging)),
            ("Dev", Ok(Environment::Development)),
            ("qa", Err(ParseEnvironmentError)),
            ("", Err(ParseEnvironmentError)),
        ];
        for (text, expected) in table {
            assert_eq!(text.parse::<Environment>(), expected, "{text:?}");
        }
    }

    #[test]
    fn serde_uses_the_lowercase_names() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Stage {
            environment: Environment,
        }
        let json = r#"{"environment":"staging"}"#;
        let stage: Stage = serde_json::from_str(json).unwrap();
        assert_eq!(stage.environment, Environment::Staging);
        assert_eq!(serde_json::to_string(&stage).unwrap(), json);
        let error = serde_json::from_str::<Stage>(r#"{"environment":"qa"}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("production, staging or development"),
            "{error}"
        );
    }
}
