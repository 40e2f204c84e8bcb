//! Typed configuration from the environment, with per-environment defaults and every problem
//! in one error.
//!
//! ```
//! use holdfast_runtime::config::EnvConfig;
//! use holdfast_runtime::stage::Environment;
//! use std::time::Duration;
//!
//! #[derive(serde::Deserialize)]
//! struct Settings {
//!     table_name: String,
//!     port: u16,
//!     log_level: String,
//!     timeout: Duration,          // humantime: "30s", "5m", "1h 30m"
//!     allowed_origins: Vec<String>, // a comma-separated list
//!     sentry_dsn: Option<String>, // unset or empty: None
//! }
//!
//! let vars = [("STAGE", "prod"), ("TABLE_NAME", "orders"), ("TIMEOUT", "3s"),
//!             ("ALLOWED_ORIGINS", "https://a.example, https://b.example")];
//! let config = EnvConfig::from_vars(vars)
//!     .stage_var("STAGE")
//!     .default("PORT", "8080")
//!     .default("LOG_LEVEL", "debug")
//!     .default_for(Environment::Production, "LOG_LEVEL", "warn")
//!     .required("TABLE_NAME");
//! assert_eq!(config.environment(), Environment::Production);
//! let settings: Settings = config.load().unwrap();
//! assert_eq!((settings.port, settings.log_level.as_str()), (8080, "warn"));
//! assert_eq!(settings.timeout, Duration::from_secs(3));
//! assert_eq!(settings.allowed_origins.len(), 2);
//! assert_eq!(settings.sentry_dsn, None);
//! ```
//!
//! A value comes from the variable when it is set, else from the default of the function's
//! environment ([`EnvConfig::default_for`]), else from the plain default
//! ([`EnvConfig::default`]). The environment is that of the stage named by the
//! [`EnvConfig::stage_var`] variable ([`Environment::of_stage`], unless
//! [`EnvConfig::stage_environment`] says otherwise for that stage); without one, development.
//!
//! Fields are matched to variables by name, case-insensitively: a field `table_name` reads
//! `TABLE_NAME` (`APP_TABLE_NAME` with [`EnvConfig::prefix`]`("APP_")`). How each type is read
//! is described in the deserializer's documentation below: numbers, booleans (`true/false`,
//! `1/0`, `yes/no`, `on/off`), `Option` (an empty value is `None`), comma-separated lists,
//! unit enums by variant name, `std::time::Duration` as a humantime duration, and any type
//! whose `Deserialize` reads a string. `#[serde(flatten)]` is not supported (serde buffers
//! flattened fields as strings, which no longer parse as numbers).
//!
//! [`EnvConfig::load`] fails with [`ConfigErrors`]: every missing, empty or malformed
//! variable, each named once, none with its value (a variable may hold a secret).

mod de;
mod error;

pub use error::{ConfigErrors, Problem, ProblemKind};

use crate::stage::Environment;
use error::Problems;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Where a configuration comes from and what it falls back on; [`EnvConfig::load`] reads it
/// into a type.
#[derive(Debug, Clone)]
pub struct EnvConfig {
    vars: BTreeMap<String, String>,
    prefix: String,
    stage_var: Option<String>,
    stage_environments: Vec<(String, Environment)>,
    defaults: BTreeMap<String, String>,
    environment_defaults: BTreeMap<(Environment, String), String>,
    required: Vec<String>,
}

impl EnvConfig {
    /// The process's environment, as it is now (variables whose name or value is not UTF-8 are
    /// left out).
    #[must_use]
    pub fn from_env() -> EnvConfig {
        EnvConfig::from_vars(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    /// The given variables (a map, a list of pairs, a test's fixture).
    #[must_use]
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> EnvConfig {
        EnvConfig {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            prefix: String::new(),
            stage_var: None,
            stage_environments: Vec::new(),
            defaults: BTreeMap::new(),
            environment_defaults: BTreeMap::new(),
            required: Vec::new(),
        }
    }

    /// Only variables starting with `prefix` are read, without it: field `port` reads
    /// `APP_PORT` with prefix `APP_`. Defaults and required variables are still named in
    /// full (`APP_PORT`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> EnvConfig {
        self.prefix = prefix.into();
        self
    }

    /// The variable naming the function's stage (`STAGE`), which sets its environment. Like
    /// any variable it may have a [`EnvConfig::default`]; unset with none, it is reported
    /// missing by [`EnvConfig::load`] (and [`EnvConfig::environment`] is development).
    #[must_use]
    pub fn stage_var(mut self, name: impl Into<String>) -> EnvConfig {
        self.stage_var = Some(name.into());
        self
    }

    /// The environment of one stage (case-insensitive), instead of
    /// [`Environment::of_stage`]'s: a stage `live` that is production, a `qa` that is staging.
    #[must_use]
    pub fn stage_environment(
        mut self,
        stage: impl Into<String>,
        environment: Environment,
    ) -> EnvConfig {
        self.stage_environments.push((stage.into(), environment));
        self
    }

    /// The value of variable `key` when it is not set (and its environment has no default of
    /// its own).
    #[must_use]
    pub fn default(mut self, key: impl Into<String>, value: impl Into<String>) -> EnvConfig {
        self.defaults.insert(key.into(), value.into());
        self
    }

    /// The value of variable `key` when it is not set, in `environment` only.
    #[must_use]
    pub fn default_for(
        mut self,
        environment: Environment,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> EnvConfig {
        self.environment_defaults
            .insert((environment, key.into()), value.into());
        self
    }

    /// Variable `key` must have a non-empty value (its own or a default), whatever the field's
    /// type (an `Option` field too).
    #[must_use]
    pub fn required(mut self, key: impl Into<String>) -> EnvConfig {
        self.required.push(key.into());
        self
    }

    /// The stage, from the [`EnvConfig::stage_var`] variable or its default.
    #[must_use]
    pub fn stage(&self) -> Option<&str> {
        let name = self.stage_var.as_deref()?;
        self.vars
            .get(name)
            .or_else(|| self.defaults.get(name))
            .map(String::as_str)
    }

    /// The function's environment: its stage's (see the module documentation), development
    /// without a stage.
    #[must_use]
    pub fn environment(&self) -> Environment {
        let Some(stage) = self.stage() else {
            return Environment::Development;
        };
        self.stage_environments
            .iter()
            .find(|(name, _)| name.trim().eq_ignore_ascii_case(stage.trim()))
            .map_or_else(|| Environment::of_stage(stage), |(_, env)| *env)
    }

    /// The value of variable `key`: set, or its environment's default, or its default.
    #[must_use]
    pub fn value(&self, key: &str) -> Option<&str> {
        let environment = self.environment();
        self.vars
            .get(key)
            .or_else(|| {
                self.environment_defaults
                    .get(&(environment, key.to_owned()))
            })
            .or_else(|| self.defaults.get(key))
            .map(String::as_str)
    }

    /// Reads the configuration into `T` (a struct whose fields are variables, or a map).
    ///
    /// A field whose own `Deserialize` rejects its value (a custom type) is reported, and `T`
    /// is read again without it so that the other fields' problems are found too: a type
    /// whose `Deserialize` has side effects sees more than one pass. serde checks for missing
    /// fields in declaration order, and a field of such a type that rejects even an empty
    /// placeholder stops that check: missing fields declared after it are then not listed.
    /// Declare custom-typed fields last, or name their followers with
    /// [`EnvConfig::required`], which is checked whatever the types.
    ///
    /// # Errors
    /// [`ConfigErrors`] with every problem: a missing stage variable, missing or empty
    /// required variables, missing fields, and values that are not of their field's type.
    pub fn load<T: DeserializeOwned>(&self) -> Result<T, ConfigErrors> {
        let mut problems = Problems::default();
        if let Some(stage_var) = &self.stage_var {
            if self.stage().is_none() {
                problems.add(stage_var, ProblemKind::Missing);
            }
        }
        for key in &self.required {
            match self.value(key) {
                None => problems.add(key, ProblemKind::Missing),
                Some(value) if value.trim().is_empty() => problems.add(key, ProblemKind::Empty),
                Some(_) => {}
            }
        }
        let entries = self.entries();
        let variable_of = |field: &str| format!("{}{}", self.prefix, field.to_ascii_uppercase());
        let mut plan = de::Plan::default();
        // Each pass that fails learns one field's problem; a struct has finitely many fields.
        let mut passes_left = 2 * (entries.len() + self.required.len()) + 8;
        loop {
            let recorder = de::Recorder::default();
            let top = de::Top {
                entries: &entries,
                variable_of: &variable_of,
                plan: &plan,
                recorder: &recorder,
            };
            let result = T::deserialize(top);
            problems.extend(recorder.take());
            let error = match result {
                Ok(value) if problems.is_empty() => return Ok(value),
                Ok(_) => break,
                Err(error) => error,
            };
            passes_left -= 1;
            if passes_left == 0 || !learn(&error, &mut plan, &mut problems, &variable_of) {
                break;
            }
        }
        Err(problems.into_errors())
    }

    /// The variables a field can read, by lower-case name without the prefix: every set
    /// variable with the prefix, and every default.
    fn entries(&self) -> BTreeMap<String, de::Entry> {
        let mut entries = BTreeMap::new();
        let environment = self.environment();
        let defaults = self
            .defaults
            .iter()
            .chain(
                self.environment_defaults
                    .iter()
                    .filter(|((env, _), _)| *env == environment)
                    .map(|((_, key), value)| (key, value)),
            )
            .chain(self.vars.iter());
        // Later wins: plain defaults, then the environment's, then the variables themselves.
        for (variable, value) in defaults {
            let Some(name) = variable.strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            entries.insert(
                name.to_ascii_lowercase(),
                de::Entry {
                    variable: variable.clone(),
                    value: value.clone(),
                },
            );
        }
        entries
    }
}

/// What a failed pass teaches: the problem of the field it stopped at, and how the next pass
/// gets past it. `false` when it teaches nothing new (the next pass would stop there again).
fn learn(
    error: &de::Error,
    plan: &mut de::Plan,
    problems: &mut Problems,
    variable_of: &dyn Fn(&str) -> String,
) -> bool {
    match (&error.at, &error.kind) {
        // The struct misses a field it requires: the next pass gives it a placeholder.
        (None, de::ErrorKind::MissingField(field)) => {
            if plan.absent.contains(field.as_str()) {
                return false;
            }
            if !plan.skip.remove(field.as_str()) {
                problems.add(&variable_of(field), ProblemKind::Missing);
            }
            plan.absent.insert(field.clone());
            true
        }
        // A field's own Deserialize rejected its value: the next pass leaves it out.
        (Some((field, variable)), _) => {
            if plan.skip.contains(field.as_str()) || plan.absent.contains(field.as_str()) {
                return false;
            }
            problems.add(variable, error.problem());
            plan.skip.insert(field.clone());
            true
        }
        (None, de::ErrorKind::Invalid(expected)) => {
            problems.add(
                "(configuration)",
                ProblemKind::Invalid(format!("{expected} (read a struct or a map)")),
            );
            false
        }
    }
}

#[cfg(test)]
mod tests;
