//! The guard's sections of `holdfast.toml`: `[guard]` and `[stages.NAME.guard]`.
//!
//! ```toml
//! [guard]
//! policy = "lenient"
//! min_backup_retention_days = 14
//!
//! [guard.rules]
//! s3-versioning = "off"
//!
//! [guard.allow]
//! LegacyTable = "replaced on purpose: the data moved to NewTable"
//!
//! [stages.prod.guard.rules]
//! s3-versioning = "block"
//! ```
//!
//! The file is one: `holdfast_core::config` reads it (its `migrate` sections, and which keys
//! exist at all), and only allows the `guard` sections; this module reads them from the same
//! text with [`Config::view`], so their errors name the file, the line and the key as the
//! others do. A stage's section is merged over the top-level one, rule by rule.

use holdfast_core::config::{Config, ConfigError};
use serde::Deserialize;
use std::collections::BTreeMap;

/// How a guard rule's findings count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleLevel {
    /// Fails the check (exit 3).
    Block,
    /// Printed, exit 0.
    Warn,
    /// Shown for information.
    Info,
    /// Not checked.
    Off,
}

/// The built-in policy a stage starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyBase {
    /// Every rule blocks (the default for production stages: named `prod` or `production`, or
    /// with `environment = "production"` in `[stages.NAME]`).
    Strict,
    /// Setting rules warn; data-loss changes still block (the default for other stages).
    Lenient,
}

/// Settings of `holdfast guard`. See [`GuardSettings::merge`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GuardSettings {
    /// The built-in policy to start from.
    pub policy: Option<PolicyBase>,
    /// Per-rule levels over the policy, e.g. `dynamodb-pitr = "warn"`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    /// Minimum backup retention of databases, in days (default 7).
    pub min_backup_retention_days: Option<u32>,
    /// Changes accepted on purpose: logical id → reason.
    #[serde(default)]
    pub allow: BTreeMap<String, String>,
}

impl GuardSettings {
    /// `self` (a stage's section) over `fallback` (the top level), rule by rule.
    #[must_use]
    pub fn merge(self, fallback: GuardSettings) -> GuardSettings {
        let mut rules = fallback.rules;
        rules.extend(self.rules);
        let mut allow = fallback.allow;
        allow.extend(self.allow);
        GuardSettings {
            policy: self.policy.or(fallback.policy),
            rules,
            min_backup_retention_days: self
                .min_backup_retention_days
                .or(fallback.min_backup_retention_days),
            allow,
        }
    }
}

/// The guard's view of the file: its sections, every other key left to its reader.
#[derive(Debug, Clone, Default, Deserialize)]
struct GuardView {
    #[serde(default)]
    guard: GuardSettings,
    #[serde(default)]
    stages: BTreeMap<String, StageView>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct StageView {
    #[serde(default)]
    guard: GuardSettings,
}

/// Every guard section of one `holdfast.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardConfig {
    top: GuardSettings,
    stages: BTreeMap<String, GuardSettings>,
}

impl GuardConfig {
    /// Reads the guard sections of a loaded configuration file.
    ///
    /// # Errors
    /// [`ConfigError::Parse`]: a guard section that is not valid, with its line and key.
    pub fn read(config: &Config) -> Result<GuardConfig, ConfigError> {
        config.view::<GuardView>().map(GuardConfig::from)
    }

    /// Parses the text of a configuration file (a test's); the error names the line and key.
    ///
    /// # Errors
    /// The text is not a valid configuration file, or a guard section is not valid.
    pub fn parse(text: &str) -> Result<GuardConfig, String> {
        let config = Config::parse(text)?;
        GuardConfig::read(&config).map_err(|e| match e {
            ConfigError::Parse { message, .. } => message,
            other => other.to_string(),
        })
    }

    /// The settings for `stage`: its section over the top-level one. A stage the file does not
    /// define is fine here: the guard's built-in policy depends on the stage name alone.
    #[must_use]
    pub fn settings(&self, stage: Option<&str>) -> GuardSettings {
        match stage.and_then(|name| self.stages.get(name)) {
            Some(s) => s.clone().merge(self.top.clone()),
            None => self.top.clone(),
        }
    }
}

impl From<GuardView> for GuardConfig {
    fn from(view: GuardView) -> GuardConfig {
        GuardConfig {
            top: view.guard,
            stages: view
                .stages
                .into_iter()
                .map(|(name, stage)| (name, stage.guard))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_overrides_the_top_level_rule_by_rule() {
        let config = GuardConfig::parse(
            r#"
[migrate]
dir = "migrations"

[guard]
policy = "lenient"
min_backup_retention_days = 14
[guard.rules]
s3-versioning = "off"
dynamodb-pitr = "warn"

[stages.prod.guard.rules]
s3-versioning = "block"

[stages.dev.migrate]
database = "sqlite://dev.db"
"#,
        )
        .unwrap();
        let prod = config.settings(Some("prod"));
        assert_eq!(prod.policy, Some(PolicyBase::Lenient));
        assert_eq!(prod.min_backup_retention_days, Some(14));
        assert_eq!(prod.rules["s3-versioning"], RuleLevel::Block);
        assert_eq!(prod.rules["dynamodb-pitr"], RuleLevel::Warn);
        assert_eq!(config.settings(Some("dev")), config.settings(None));
        assert_eq!(config.settings(Some("qa")), config.settings(None));
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let table = [
            ("[guard]\npolcy = \"strict\"\n", "line 2", "polcy"),
            (
                "[guard.rules]\ns3-versioning = \"maybe\"\n",
                "line 2",
                "maybe",
            ),
            (
                "[migrate]\ndir = \"m\"\n[stages.prod.guard]\nallow = 3\n",
                "line 4",
                "",
            ),
            ("guard = 5\n", "line 1", ""),
            ("[guard]\n[migrat]\n", "line 2", "migrat"),
        ];
        for (text, line, key) in table {
            let err = GuardConfig::parse(text).unwrap_err();
            assert!(err.starts_with(line), "{text:?}: {err}");
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }

    #[test]
    fn no_file_is_the_default() {
        assert_eq!(
            GuardConfig::read(&Config::default()).unwrap(),
            GuardConfig::default()
        );
    }
}
