//! `holdfast env …` reports. They never hold a variable's value: a finding names the function,
//! the key and the rule, and identifies a value only by its keyed fingerprint.

use crate::envelope::{reports, Envelope};
use crate::guard::{Location, Severity};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One problem with one function's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvFinding {
    /// Rule id, e.g. `env-unresolved`.
    pub rule: String,
    pub severity: Severity,
    pub stack: String,
    /// The function's logical id (a deployed function's name when it has no stack).
    pub function: String,
    /// The variable, or the secret or parameter it names (`DB_SECRET_ARN` → `password`).
    pub key: String,
    /// What is wrong, without the value.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// `fp:` and 12 hex digits: an HMAC of the value with this run's (or the configured) key,
    /// so that findings about one value can be matched without showing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub location: Option<Location>,
}

/// Counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvSummary {
    pub functions: usize,
    pub variables: usize,
    pub blocking: usize,
    pub warnings: usize,
    pub info: usize,
}

/// `env check`: the functions of templates judged against the schema.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EnvReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    pub stage: Option<String>,
    /// `production`, `staging` or `development`.
    pub environment: String,
    pub summary: EnvSummary,
    pub findings: Vec<EnvFinding>,
    /// The functions checked: stack and logical id (or deployed name).
    pub functions: Vec<String>,
    /// `env verify`: the references resolved and the stages compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<EnvVerifySummary>,
}

/// What `env verify` read beyond the functions' environments.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EnvVerifySummary {
    /// Variables that name a secret or parameter.
    pub references: usize,
    /// Distinct secrets and parameters read that exist.
    pub resolved: usize,
    /// The stage compared with (`--compare-stage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare_stage: Option<String>,
    /// Its functions read.
    pub compared_functions: usize,
    /// This stage's secret values compared.
    pub compared_values: usize,
    /// Variables (or JSON keys) whose secret value the compared stage holds too.
    pub shared: usize,
}

reports!(EnvReport);

/// `env init`: the drafted `[env]` schema.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EnvInitReport {
    #[serde(flatten)]
    pub envelope: Envelope,
    /// The keys found, with the functions that set them and the type guessed.
    pub keys: Vec<DraftKey>,
    /// The drafted TOML, to paste into `holdfast.toml`.
    pub toml: String,
}

reports!(EnvInitReport);

/// One key of a drafted schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DraftKey {
    pub key: String,
    /// `string`, `int`, `bool`, `url`, `arn`, …
    #[serde(rename = "type")]
    pub type_: String,
    /// Set by every function read.
    pub required: bool,
    /// A reference to a secret (or a name that says secret): drafted with `secret = "ref"`.
    pub secret: bool,
    /// How many functions set it.
    pub functions: usize,
}
