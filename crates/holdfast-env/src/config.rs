//! The environment schema: `[env]` and `[stages.NAME.env]` of `holdfast.toml`.
//!
//! ```toml
//! [env.keys.DATABASE_URL]
//! required = true
//! type = "url"
//! secret = "ref"                 # the value must be a reference, never a literal
//!
//! [env.keys.LOG_LEVEL]
//! type = "enum"
//! values = ["debug", "info", "warn", "error"]
//! default = "info"
//! functions = ["Api*", "worker-*"]   # logical ids or function names; default: every function
//!
//! [env.keys.LOG_LEVEL.production]    # per environment: production, staging, development
//! values = ["warn", "error"]
//! default = "warn"
//!
//! [env.rules]                        # levels, as in [guard.rules]
//! env-unknown = "block"
//!
//! [stages.qa]
//! environment = "staging"            # what the stage is (default: from its name)
//! [stages.qa.env.keys.FEATURE_X]     # a stage's keys are added to (or replace) the top's
//! required = true
//! ```
//!
//! The file is one: `holdfast_core::config` reads it and allows the `env` sections; this
//! module reads them with [`Config::view`], so their errors name the file, the line and the key.

use holdfast_core::config::{Config, ConfigError, Environment};
use holdfast_guard::config::RuleLevel;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The settings of `holdfast env` for one stage (or none).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnvSettings {
    /// The schema: variable name → what it must hold.
    #[serde(default)]
    pub keys: BTreeMap<String, KeySpec>,
    /// Per-rule levels, e.g. `env-unknown = "block"`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleLevel>,
    /// The stacks whose functions are this stage's, for `env verify` (usually in
    /// `[stages.NAME.env]`; read when neither `--stack` nor `--function` is given, and for
    /// `--compare-stage`).
    #[serde(default)]
    pub stacks: Vec<String>,
    /// The deployed functions (names or ARNs) that are this stage's, as `stacks`.
    #[serde(default)]
    pub functions: Vec<String>,
}

/// What one environment variable must hold.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// Every function the key applies to must set it (unless it has a default).
    #[serde(default)]
    pub required: bool,
    /// The value's type (default `string`).
    #[serde(rename = "type", default)]
    pub type_: ValueType,
    /// The allowed values (any type; `enum` needs them).
    pub values: Option<Vec<String>>,
    /// The regular expression of a `regex` key (the whole value must match).
    pub pattern: Option<String>,
    /// The service of an `arn` key (`secretsmanager`, `sqs`, …).
    pub service: Option<String>,
    /// The value the function uses when the variable is not set (the runtime crate applies it);
    /// a required key with a default is not missing.
    pub default: Option<String>,
    /// `ref`: the value must be a reference to a secret (a Secrets Manager ARN, `Ref` or
    /// `Fn::GetAtt` of an `AWS::SecretsManager::Secret`, an SSM parameter), never a literal.
    pub secret: Option<SecretMode>,
    /// Globs (`*`, `?`) of the logical ids or function names the key applies to; none: all.
    pub functions: Option<Vec<String>>,
    /// For a key that refers to a JSON secret: the fields the secret must hold, each non-empty
    /// (checked by `env verify`, which reads the secret).
    pub json_keys: Option<Vec<String>>,
    /// What the key is for (documentation only).
    pub description: Option<String>,
    /// Overrides for production stages.
    pub production: Option<EnvironmentSpec>,
    /// Overrides for staging stages.
    pub staging: Option<EnvironmentSpec>,
    /// Overrides for development stages.
    pub development: Option<EnvironmentSpec>,
}

/// A key's settings for one kind of environment, over the key's own.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentSpec {
    pub required: Option<bool>,
    pub values: Option<Vec<String>>,
    pub default: Option<String>,
}

/// The types a value can be checked against.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ValueType {
    #[default]
    String,
    Int,
    Bool,
    Url,
    Email,
    /// `30s`, `10m`, `1h 30m`.
    Duration,
    /// One of `values`.
    Enum,
    /// Matches `pattern`.
    Regex,
    /// An ARN (of `service`, if given).
    Arn,
    /// A DynamoDB table name.
    Table,
    /// An SSM parameter path (`/service/stage/key`).
    SsmPath,
}

impl ValueType {
    /// As written in `holdfast.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Int => "int",
            ValueType::Bool => "bool",
            ValueType::Url => "url",
            ValueType::Email => "email",
            ValueType::Duration => "duration",
            ValueType::Enum => "enum",
            ValueType::Regex => "regex",
            ValueType::Arn => "arn",
            ValueType::Table => "table",
            ValueType::SsmPath => "ssm-path",
        }
    }
}

/// How a secret key must be given.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SecretMode {
    /// A reference, never a literal value.
    Ref,
}

/// A key's effective settings in one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveKey<'a> {
    pub name: &'a str,
    pub spec: &'a KeySpec,
    pub required: bool,
    pub values: Option<&'a [String]>,
    pub default: Option<&'a str>,
}

impl KeySpec {
    /// The key's settings in `environment`: its section for that environment over its own.
    pub fn effective<'a>(&'a self, name: &'a str, environment: Environment) -> EffectiveKey<'a> {
        let over = match environment {
            Environment::Production => self.production.as_ref(),
            Environment::Staging => self.staging.as_ref(),
            Environment::Development => self.development.as_ref(),
        };
        EffectiveKey {
            name,
            spec: self,
            required: over.and_then(|o| o.required).unwrap_or(self.required),
            values: over
                .and_then(|o| o.values.as_deref())
                .or(self.values.as_deref()),
            default: over
                .and_then(|o| o.default.as_deref())
                .or(self.default.as_deref()),
        }
    }

    /// Whether the key applies to a function with this logical id and (deployed) name.
    pub fn applies_to(&self, logical_id: &str, name: Option<&str>) -> bool {
        match &self.functions {
            None => true,
            Some(globs) => globs
                .iter()
                .any(|g| glob(g, logical_id) || name.is_some_and(|n| glob(g, n))),
        }
    }
}

/// `*` any run of characters, `?` one character, anything else itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Why the schema cannot be used: the file's error, or a key whose settings do not fit
/// together. Exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{file}: [env.keys.{key}]: {message}")]
    Key {
        file: String,
        key: String,
        message: String,
    },
}

impl holdfast_core::exit::Classify for SchemaError {
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }
}

/// Every `env` section of one `holdfast.toml`, with the stages' environments.
#[derive(Debug, Clone, Default)]
pub struct EnvConfig {
    top: EnvSettings,
    stages: BTreeMap<String, EnvSettings>,
    config: Config,
}

#[derive(Deserialize)]
struct View {
    #[serde(default)]
    env: EnvSettings,
    #[serde(default)]
    stages: BTreeMap<String, StageView>,
}

#[derive(Deserialize)]
struct StageView {
    #[serde(default)]
    env: EnvSettings,
}

impl EnvConfig {
    /// Reads the `env` sections of a loaded configuration file, and checks each key's settings.
    ///
    /// # Errors
    /// A section that is not valid (its line and key), or a key whose settings contradict.
    pub fn read(config: &Config) -> Result<EnvConfig, SchemaError> {
        let view: View = config.view()?;
        let env = EnvConfig {
            top: view.env,
            stages: view.stages.into_iter().map(|(n, s)| (n, s.env)).collect(),
            config: config.clone(),
        };
        let file = config.path.as_ref().map_or_else(
            || holdfast_core::config::FILE_NAME.to_string(),
            |p| p.display().to_string(),
        );
        for settings in std::iter::once(&env.top).chain(env.stages.values()) {
            for (key, spec) in &settings.keys {
                check_spec(spec).map_err(|message| SchemaError::Key {
                    file: file.clone(),
                    key: key.clone(),
                    message,
                })?;
            }
        }
        Ok(env)
    }

    /// Parses the text of a configuration file (a test's); the error names the line and key.
    ///
    /// # Errors
    /// The text is not a valid configuration file, or an `env` section is not valid.
    pub fn parse(text: &str) -> Result<EnvConfig, String> {
        let config = Config::parse(text)?;
        EnvConfig::read(&config).map_err(|e| match e {
            SchemaError::Config(ConfigError::Parse { message, .. }) => message,
            other => other.to_string(),
        })
    }

    /// The settings for `stage`: its keys added to (or replacing) the top's, its rule levels
    /// over the top's.
    #[must_use]
    pub fn settings(&self, stage: Option<&str>) -> EnvSettings {
        let mut out = self.top.clone();
        if let Some(s) = stage.and_then(|name| self.stages.get(name)) {
            out.keys.extend(s.keys.clone());
            out.rules.extend(s.rules.clone());
            if !s.stacks.is_empty() || !s.functions.is_empty() {
                out.stacks.clone_from(&s.stacks);
                out.functions.clone_from(&s.functions);
            }
        }
        out
    }

    /// What kind of environment `stage` is (`[stages.NAME] environment`, else its name).
    #[must_use]
    pub fn environment(&self, stage: &str) -> Environment {
        self.config.environment(stage)
    }

    /// The stages the file defines, for the cross-stage rule.
    pub fn known_stages(&self) -> impl Iterator<Item = &str> {
        self.config.stages.keys().map(String::as_str)
    }
}

/// A key's settings that do not fit together.
fn check_spec(spec: &KeySpec) -> Result<(), String> {
    match spec.type_ {
        ValueType::Enum if spec.values.as_ref().is_none_or(Vec::is_empty) => {
            return Err("type = \"enum\" needs `values`".into())
        }
        ValueType::Regex => {
            let pattern = spec
                .pattern
                .as_deref()
                .ok_or("type = \"regex\" needs `pattern`")?;
            regex_lite_check(pattern)?;
        }
        _ if spec.pattern.is_some() => {
            return Err("`pattern` is for type = \"regex\"".into());
        }
        _ => {}
    }
    if spec.service.is_some() && spec.type_ != ValueType::Arn {
        return Err("`service` is for type = \"arn\"".into());
    }
    for (name, over) in [
        ("production", &spec.production),
        ("staging", &spec.staging),
        ("development", &spec.development),
    ] {
        if let Some(default) = over.as_ref().and_then(|o| o.default.as_deref()) {
            if let Some(values) = over
                .as_ref()
                .and_then(|o| o.values.as_ref())
                .or(spec.values.as_ref())
            {
                if !values.iter().any(|v| v == default) {
                    return Err(format!("the {name} default is not one of its `values`"));
                }
            }
        }
    }
    if let (Some(default), Some(values)) = (&spec.default, &spec.values) {
        if !values.contains(default) {
            return Err("`default` is not one of `values`".into());
        }
    }
    Ok(())
}

fn regex_lite_check(pattern: &str) -> Result<(), String> {
    crate::values::compile_pattern(pattern)
        .map(|_| ())
        .map_err(|e| format!("`pattern` is not a regular expression: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_names() {
        for (p, t, want) in [
            ("Api*", "ApiHandler", true),
            ("Api*", "MyApi", false),
            ("*-worker", "orders-worker", true),
            ("f?", "f1", true),
            ("f?", "f12", false),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
        ] {
            assert_eq!(glob(p, t), want, "{p} {t}");
        }
    }

    #[test]
    fn a_stage_adds_keys_and_an_environment_overrides_settings() {
        let c = EnvConfig::parse(
            r#"
[env.keys.LOG_LEVEL]
type = "enum"
values = ["debug", "info", "warn"]
default = "info"
[env.keys.LOG_LEVEL.production]
values = ["warn"]
default = "warn"

[env.rules]
env-unknown = "block"

[stages.qa]
environment = "production"
[stages.qa.env.keys.FEATURE]
required = true
"#,
        )
        .unwrap();
        let qa = c.settings(Some("qa"));
        assert!(qa.keys["FEATURE"].required);
        assert!(!c.settings(Some("dev")).keys.contains_key("FEATURE"));
        assert_eq!(qa.rules["env-unknown"], RuleLevel::Block);
        let env = c.environment("qa");
        assert_eq!(env, Environment::Production);
        let level = qa.keys["LOG_LEVEL"].effective("LOG_LEVEL", env);
        assert_eq!(level.default, Some("warn"));
        assert_eq!(level.values.unwrap(), ["warn"]);
        let dev = qa.keys["LOG_LEVEL"].effective("LOG_LEVEL", Environment::Development);
        assert_eq!(dev.default, Some("info"));
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let table = [
            ("[env.keys.A]\nrequird = true\n", "line 2", "requird"),
            ("[env.keys.A]\ntype = \"integer\"\n", "line 2", "integer"),
            ("[env]\nkey = {}\n", "line 2", "key"),
            ("[env.rules]\nenv-missing = \"loud\"\n", "line 2", "loud"),
            ("[env.keys.A.prod]\n", "line 1", "prod"),
            ("[stages.s.env.keys.A]\nsecret = \"yes\"\n", "line 2", "yes"),
            ("[env.keys.A]\ntype = \"enum\"\n", "[env.keys.A]", "values"),
            (
                "[env.keys.A]\ntype = \"regex\"\npattern = \"(\"\n",
                "[env.keys.A]",
                "pattern",
            ),
            (
                "[env.keys.A]\nvalues = [\"x\"]\ndefault = \"y\"\n",
                "[env.keys.A]",
                "default",
            ),
        ];
        for (text, place, key) in table {
            let err = EnvConfig::parse(text).unwrap_err();
            assert!(err.contains(place), "{text:?}: {err}");
            assert!(err.contains(key), "{text:?}: {err}");
        }
    }
}
