//! The env rules: ids, what each finds, its default level and how to fix what it finds. Levels
//! are set per rule in `[env.rules]` (and per stage), as the guard's are.

use holdfast_guard::config::RuleLevel;
use holdfast_report::guard::Severity;
use std::collections::BTreeMap;

/// One rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub summary: &'static str,
    pub fix: &'static str,
    pub default: Severity,
}

macro_rules! rules {
    ($( $name:ident = $id:literal, $default:ident, $summary:literal, $fix:literal; )+) => {
        $( pub const $name: Rule = Rule {
            id: $id,
            summary: $summary,
            fix: $fix,
            default: Severity::$default,
        }; )+
        /// Every rule, in the order of the README.
        pub const ALL: &[Rule] = &[ $( $name, )+ ];
    };
}

rules! {
    MISSING = "env-missing", Block,
        "a required key is not set (and has no default)",
        "set the variable in the function's Environment, or give the key a default in [env.keys]";
    EMPTY = "env-empty", Block,
        "a key is set to the empty string",
        "set a value, or remove the variable and give the key a default";
    TYPE = "env-type", Block,
        "a value is not of its key's type",
        "set a value of the key's type (see [env.keys.KEY] type)";
    NOT_ALLOWED = "env-not-allowed", Block,
        "a value is not one of the values allowed in this stage's environment",
        "use one of the key's values for this environment";
    UNRESOLVED = "env-unresolved", Block,
        "a framework variable, CDK token or JavaScript placeholder was deployed as literal text",
        "resolve it where the template is made (Serverless variable source, CDK token in a string, a missing value)";
    PLAINTEXT_SECRET = "env-plaintext-secret", Block,
        "a literal value that is a credential, or a secret key that is not a reference",
        "store the value in Secrets Manager or SSM SecureString and pass its ARN or name";
    CROSS_STAGE = "env-cross-stage", Block,
        "a value or a secret grant names another stage's resources, or grants every secret",
        "point the function at its own stage's table, secret, parameter, bucket, queue or host";
    LIVE_KEY = "env-live-key", Block,
        "a live payment key outside production, or a test key in production",
        "use the provider's test keys outside production and live keys only in production";
    REFERENCE = "env-reference", Block,
        "a deployed function names a secret or parameter that does not exist, is empty or lacks a JSON key the schema names",
        "create the secret or parameter (with the keys the schema names), or point the variable at the right one";
    SHARED_SECRET = "env-shared-secret", Block,
        "a secret value is the same in this stage and the stage compared with (env verify --compare-stage)",
        "give each stage its own credentials: rotate the shared one and store a new value for this stage";
    UNKNOWN = "env-unknown", Warn,
        "a key the schema does not name",
        "add the key to [env.keys], or remove the variable";
}

/// The rules' levels for one stage: the configured ones over the defaults.
#[derive(Debug, Clone, Default)]
pub struct Levels {
    configured: BTreeMap<String, RuleLevel>,
}

impl Levels {
    /// From `[env.rules]`.
    ///
    /// # Errors
    /// A rule id that does not exist (the message lists them).
    pub fn new(configured: BTreeMap<String, RuleLevel>) -> Result<Levels, String> {
        if let Some(id) = configured
            .keys()
            .find(|id| !ALL.iter().any(|r| r.id == *id))
        {
            return Err(format!(
                "[env.rules]: rule `{id}` does not exist (rules: {})",
                ALL.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
            ));
        }
        Ok(Levels { configured })
    }

    /// The severity of `rule`'s findings, or `None` when it is off.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        match self.configured.get(rule.id) {
            None => Some(rule.default),
            Some(RuleLevel::Block) => Some(Severity::Block),
            Some(RuleLevel::Warn) => Some(Severity::Warn),
            Some(RuleLevel::Info) => Some(Severity::Info),
            Some(RuleLevel::Off) => None,
        }
    }
}
