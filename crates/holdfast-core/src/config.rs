//! `holdfast.toml`: the project's configuration file.
//!
//! Every setting can also come from a flag or a `HOLDFAST_*` variable; the front end merges them
//! with this order of precedence: flag, environment variable, the selected stage's section, the
//! top-level section, the built-in default.
//!
//! ```toml
//! [migrate]
//! database = "sqlite://app.db"
//! dir = "migrations"
//! lock_wait = "10m"
//!
//! [stages.prod.migrate]
//! database = "postgres://app@prod-db/app"
//! ```
//!
//! The model reads the `migrate` sections and each stage's `environment`. The other groups'
//! sections (`[guard]`, `[stages.NAME.guard]`, …: one per group of commands that has settings,
//! `holdfast_report::Command::config_sections`) belong to their crates, which read their own
//! view of the same text with [`Config::view`] (`holdfast_guard::config`); here they are only
//! allowed. A key that is neither is an error naming its line.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The file name looked for in the working directory.
pub const FILE_NAME: &str = "holdfast.toml";

/// Why the configuration could not be read. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("{path}: stage `{stage}` is not defined (defined: {known})")]
    UnknownStage {
        path: PathBuf,
        stage: String,
        known: String,
    },
}

impl crate::exit::Classify for ConfigError {
    /// A configuration that cannot be read or used: nothing was done.
    fn outcome(&self) -> crate::exit::Outcome {
        crate::exit::Outcome::Usage
    }
}

/// The whole file.
///
/// Its top-level keys are `migrate`, `stages` and the sections of the other command groups
/// (`holdfast_report::Command::config_sections`: `guard`, …), which their crates read with
/// [`Config::view`]; any other key is an error naming its line.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub migrate: MigrateSettings,
    pub stages: BTreeMap<String, StageConfig>,
    /// Where the file was read from, if anywhere.
    pub path: Option<PathBuf>,
    /// The file's text (empty without a file), for the sections read elsewhere.
    pub text: String,
}

/// A stage's overrides: `[stages.NAME]`.
///
/// Its keys are `environment`, `migrate` and the other groups' sections, as at the top.
#[derive(Debug, Clone, Default)]
pub struct StageConfig {
    /// Which kind of environment the stage is; by default [`Environment::of_stage`] of its name.
    pub environment: Option<Environment>,
    pub migrate: MigrateSettings,
}

/// The kind of environment a stage is, which decides stage-dependent defaults (the guard's
/// strict policy, which payment keys a function may hold, …): the same mapping users'
/// functions apply at run time.
pub use holdfast_runtime::stage::Environment;

/// A key of the top level or of a stage, checked as it is read (so that toml's error names
/// its line): one of `own` or a group's section.
enum SectionKey {
    Own(&'static str),
    Elsewhere,
}

struct SectionKeySeed {
    own: &'static [&'static str],
    place: &'static str,
}

impl<'de> serde::de::DeserializeSeed<'de> for SectionKeySeed {
    type Value = SectionKey;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<SectionKey, D::Error> {
        let key = String::deserialize(d)?;
        if let Some(own) = self.own.iter().find(|own| **own == key) {
            return Ok(SectionKey::Own(own));
        }
        if holdfast_report::Command::config_sections().any(|section| section == key) {
            return Ok(SectionKey::Elsewhere);
        }
        let mut expected: Vec<String> = Vec::new();
        for k in self
            .own
            .iter()
            .copied()
            .chain(holdfast_report::Command::config_sections())
        {
            let k = format!("`{k}`");
            if !expected.contains(&k) {
                expected.push(k);
            }
        }
        Err(serde::de::Error::custom(format!(
            "unknown {} `{key}`, expected one of {}",
            self.place,
            expected.join(", ")
        )))
    }
}

/// Reads a table key by key: `own` keys through `read`, the other groups' sections skipped.
fn read_sections<'de, A: serde::de::MapAccess<'de>>(
    mut map: A,
    own: &'static [&'static str],
    place: &'static str,
    mut read: impl FnMut(&'static str, &mut A) -> Result<(), A::Error>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(SectionKeySeed { own, place })? {
        match key {
            SectionKey::Own(own) => read(own, &mut map)?,
            SectionKey::Elsewhere => {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
    }
    Ok(())
}

impl<'de> Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Config, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Config;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Config, A::Error> {
                let mut config = Config::default();
                read_sections(map, &["migrate", "stages"], "section", |key, map| {
                    match key {
                        "migrate" => config.migrate = map.next_value()?,
                        _ => config.stages = map.next_value()?,
                    }
                    Ok(())
                })?;
                Ok(config)
            }
        }
        d.deserialize_map(Visitor)
    }
}

impl<'de> Deserialize<'de> for StageConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StageConfig, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = StageConfig;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<StageConfig, A::Error> {
                let mut stage = StageConfig::default();
                read_sections(map, &["environment", "migrate"], "stage key", |key, map| {
                    match key {
                        "environment" => stage.environment = Some(map.next_value()?),
                        _ => stage.migrate = map.next_value()?,
                    }
                    Ok(())
                })?;
                Ok(stage)
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// Settings of `holdfast migrate`. Every field is optional; see [`MigrateSettings::merge`].
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MigrateSettings {
    /// `postgres://…`, `mysql://…`, `mariadb://…` or `sqlite://PATH`.
    pub database: Option<String>,
    /// The migrations folder, relative to the configuration file.
    pub dir: Option<PathBuf>,
    /// Name of the history table (default `holdfast_schema_history`).
    pub history_table: Option<String>,
    /// Schema of the history table (PostgreSQL; default: the connection's current schema).
    pub history_schema: Option<String>,
    /// How long to wait for the migration lock (default 10 minutes).
    #[serde(default, with = "opt_duration")]
    pub lock_wait: Option<Duration>,
    /// Default per-statement time limit (default 10 minutes).
    #[serde(default, with = "opt_duration")]
    pub statement_timeout: Option<Duration>,
    /// Default limit on waiting for a table lock inside a migration (default 30 seconds).
    #[serde(default, with = "opt_duration")]
    pub lock_timeout: Option<Duration>,
    /// Apply pending versions lower than the newest applied one.
    pub allow_out_of_order: Option<bool>,
}

impl MigrateSettings {
    /// Fills every unset field of `self` from `fallback`.
    pub fn merge(self, fallback: MigrateSettings) -> MigrateSettings {
        MigrateSettings {
            database: self.database.or(fallback.database),
            dir: self.dir.or(fallback.dir),
            history_table: self.history_table.or(fallback.history_table),
            history_schema: self.history_schema.or(fallback.history_schema),
            lock_wait: self.lock_wait.or(fallback.lock_wait),
            statement_timeout: self.statement_timeout.or(fallback.statement_timeout),
            lock_timeout: self.lock_timeout.or(fallback.lock_timeout),
            allow_out_of_order: self.allow_out_of_order.or(fallback.allow_out_of_order),
        }
    }
}

/// Built-in defaults.
pub mod defaults {
    use std::time::Duration;
    pub const HISTORY_TABLE: &str = "holdfast_schema_history";
    pub const LOCK_WAIT: Duration = Duration::from_secs(10 * 60);
    pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
    pub const LOCK_TIMEOUT: Duration = Duration::from_secs(30);
}

impl Config {
    /// Reads `explicit` if given (it must exist), else `holdfast.toml` in `cwd` if present,
    /// else the empty configuration.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Config, ConfigError> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let candidate = cwd.join(FILE_NAME);
                if !candidate.is_file() {
                    return Ok(Config::default());
                }
                candidate
            }
        };
        let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        let mut config = Config::parse(&text).map_err(|message| ConfigError::Parse {
            path: path.clone(),
            message,
        })?;
        // Relative folders are relative to the file, not to wherever the command runs.
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let rebase = |s: &mut MigrateSettings| {
            if let Some(dir) = &s.dir {
                if dir.is_relative() {
                    s.dir = Some(base.join(dir));
                }
            }
        };
        rebase(&mut config.migrate);
        config
            .stages
            .values_mut()
            .for_each(|s| rebase(&mut s.migrate));
        config.path = Some(path);
        Ok(config)
    }

    /// Parses the text of a configuration file; the error names the line and the key.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut config: Config = parse_as(text)?;
        config.text = text.to_string();
        Ok(config)
    }

    /// The file read as `T`: another crate's view of its own sections (keys it does not know
    /// are the other sections, so `T` ignores them), with the file's errors: path, line, key.
    /// Without a file, `T` is read from the empty text.
    pub fn view<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        parse_as(&self.text).map_err(|message| ConfigError::Parse {
            path: self.path.clone().unwrap_or_else(|| FILE_NAME.into()),
            message,
        })
    }

    /// The migrate settings for `stage` (stage overrides on top of the top-level section).
    pub fn migrate_settings(&self, stage: Option<&str>) -> Result<MigrateSettings, ConfigError> {
        Ok(match self.stage(stage)? {
            Some(s) => s.migrate.clone().merge(self.migrate.clone()),
            None => self.migrate.clone(),
        })
    }

    /// The kind of environment `stage` is: its `environment` key, else what its name implies
    /// ([`Environment::of_stage`]). A stage need not be defined in the file.
    pub fn environment(&self, stage: &str) -> Environment {
        self.stages
            .get(stage)
            .and_then(|s| s.environment)
            .unwrap_or_else(|| Environment::of_stage(stage))
    }

    /// The section of `stage`, which must be defined when a stage is named.
    fn stage(&self, stage: Option<&str>) -> Result<Option<&StageConfig>, ConfigError> {
        let Some(name) = stage else {
            return Ok(None);
        };
        self.stages
            .get(name)
            .map(Some)
            .ok_or_else(|| ConfigError::UnknownStage {
                path: self.path.clone().unwrap_or_else(|| FILE_NAME.into()),
                stage: name.to_string(),
                known: if self.stages.is_empty() {
                    "none".to_string()
                } else {
                    self.stages.keys().cloned().collect::<Vec<_>>().join(", ")
                },
            })
    }
}

/// Parses TOML text as `T`; the error names the line and the key.
fn parse_as<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().to_string();
        match line {
            Some(line) => format!("line {line}: {message}"),
            None => message,
        }
    })
}

mod opt_duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            humantime::parse_duration(&t).map_err(|e| {
                serde::de::Error::custom(format!("`{t}` is not a duration like 30s or 10m ({e})"))
            })
        })
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sections_and_stages() {
        let c = Config::parse(
            r#"
[migrate]
database = "sqlite://a.db"
dir = "migrations"
lock_wait = "2m"

[stages.prod.migrate]
database = "postgres://app@db/app"
"#,
        )
        .unwrap();
        assert_eq!(c.migrate.lock_wait, Some(Duration::from_secs(120)));
        let prod = c.migrate_settings(Some("prod")).unwrap();
        assert_eq!(prod.database.as_deref(), Some("postgres://app@db/app"));
        assert_eq!(prod.dir, Some(PathBuf::from("migrations")));
        assert!(c.migrate_settings(Some("dev")).is_err());
    }

    #[test]
    fn the_other_groups_sections_are_allowed_and_stages_have_an_environment() {
        let c = Config::parse(
            "[guard]\npolicy = \"strict\"\n[stages.qa]\nenvironment = \"staging\"\n\
             [stages.qa.guard]\nanything = 1\n[stages.prod.migrate]\ndir = \"m\"\n",
        )
        .unwrap();
        assert_eq!(c.environment("qa"), Environment::Staging);
        assert_eq!(c.environment("prod"), Environment::Production);
        assert_eq!(c.environment("PRODUCTION"), Environment::Production);
        assert_eq!(c.environment("stage"), Environment::Staging);
        assert_eq!(c.environment("dev"), Environment::Development);
        assert_eq!(c.stages["prod"].migrate.dir, Some(PathBuf::from("m")));
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let table = [
            ("[migrate]\ndatabse = \"x\"\n", "line 2", "databse"),
            (
                "[migrate]\nlock_wait = \"soon\"\n",
                "line 2",
                "not a duration",
            ),
            ("[migrate\n", "line 1", ""),
            ("[migrat]\n", "line 1", "migrat"),
            ("x = 1\n[guard]\n", "line 1", "unknown section `x`"),
            (
                "[stages.qa]\nenvironment = \"prdo\"\n",
                "line 2",
                "production, staging or development",
            ),
            ("[stages.qa]\nenvironmnt = 1\n", "line 2", "`environmnt`"),
            (
                "[stages.qa.dynamo]\n",
                "line 1",
                "unknown stage key `dynamo`",
            ),
        ];
        for (text, line, key) in table {
            let err = Config::parse(text).unwrap_err();
            assert!(err.starts_with(line), "{text:?}: {err}");
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_configuration_that_cannot_be_used_is_bad_input() {
        use crate::exit::Classify as _;
        let dir = std::env::temp_dir();
        let unreadable =
            Config::load(Some(&dir.join("holdfast-no-such.toml")), &dir).expect_err("no such file");
        let unknown_stage = Config::default()
            .migrate_settings(Some("prod"))
            .expect_err("no stage");
        let parse = ConfigError::Parse {
            path: FILE_NAME.into(),
            message: "line 1: x".into(),
        };
        for error in [unreadable, unknown_stage, parse] {
            assert_eq!(error.outcome().code(), 2, "{error}");
        }
    }
}
