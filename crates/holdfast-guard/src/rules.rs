//! The guard's rules, their default levels per built-in policy, and how configuration
//! overrides them.

use crate::config::{GuardSettings, PolicyBase, RuleLevel};
use holdfast_core::config::Environment;
use holdfast_report::guard::Severity;

/// A rule: its id, and whether it is about data loss in a change (blocks under every policy)
/// or about a setting (blocks under the strict policy, warns under the lenient one).
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub id: &'static str,
    pub summary: &'static str,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    DataLoss,
    Setting,
    Notice,
    Information,
}

macro_rules! rules {
    ($($name:ident = $id:literal, $kind:ident, $summary:literal;)*) => {
        $(pub const $name: Rule = Rule { id: $id, summary: $summary, kind: Kind::$kind };)*
        /// Every rule.
        pub const ALL: &[Rule] = &[$($name),*];
    };
}

rules! {
    STATEFUL_DELETE = "stateful-delete", DataLoss, "A stateful resource would be deleted.";
    STATEFUL_REPLACE = "stateful-replace", DataLoss, "A stateful resource would be replaced (a new, empty one created and the old one deleted).";
    STATEFUL_MAY_REPLACE = "stateful-may-replace", DataLoss, "A stateful resource may be replaced, depending on how CloudFormation applies the change.";
    STATEFUL_UNPROVABLE = "stateful-unprovable", DataLoss, "What happens to a stateful resource cannot be proven from the templates.";
    STATEFUL_RENAME = "stateful-rename", DataLoss, "A stateful resource's logical ID changes: CloudFormation deletes the old resource and creates a new one.";
    STATEFUL_MOVE = "stateful-move", DataLoss, "A stateful resource moves to another stack without being retained: deleted in one, created in the other.";
    UNKNOWN_TYPE = "unknown-type", DataLoss, "A resource of a type Holdfast does not know changes or goes away; it may hold data.";
    TRANSFORM = "transform", DataLoss, "The template uses a Transform: the resources CloudFormation deploys are generated and cannot be compared here.";
    FOR_EACH = "for-each", DataLoss, "The template uses Fn::ForEach: the resources it expands to cannot be compared here.";
    NESTED_STACK = "nested-stack", DataLoss, "A nested stack's own template changes cannot be seen from its parent.";
    STATEFUL_ORPHAN = "stateful-orphan", Notice, "A retained stateful resource leaves the stack: it stays, no longer managed.";
    STATEFUL_IMPORT = "stateful-import", DataLoss, "A retained stateful resource moves between stacks: it must be imported, not created (a plain deploy fails on the name or creates an empty twin).";
    DELETION_POLICY = "deletion-policy", Setting, "Stateful resources need DeletionPolicy Retain (or Snapshot where supported).";
    UPDATE_REPLACE_POLICY = "update-replace-policy", Setting, "Stateful resources need UpdateReplacePolicy Retain (or Snapshot where supported).";
    DYNAMODB_PITR = "dynamodb-pitr", Setting, "DynamoDB tables need point-in-time recovery.";
    DYNAMODB_DELETION_PROTECTION = "dynamodb-deletion-protection", Setting, "DynamoDB tables need deletion protection.";
    RDS_DELETION_PROTECTION = "rds-deletion-protection", Setting, "RDS clusters and standalone instances need deletion protection.";
    RDS_BACKUP_RETENTION = "rds-backup-retention", Setting, "RDS clusters and standalone instances need enough backup retention.";
    S3_VERSIONING = "s3-versioning", Setting, "S3 buckets need versioning.";
    DEFAULT_POLICY = "default-policy", Information, "A resource relies on its type's default DeletionPolicy or UpdateReplacePolicy.";
}

/// Looks a rule up by id.
pub fn find(id: &str) -> Option<&'static Rule> {
    ALL.iter().find(|r| r.id == id)
}

/// The effective policy: the built-in base plus per-rule overrides.
#[derive(Debug, Clone)]
pub struct Policy {
    pub base: PolicyBase,
    pub settings: GuardSettings,
    /// Describes the policy in reports: `strict`, `lenient`, or `… with overrides`.
    pub name: String,
}

impl Policy {
    /// The policy for a stage named `stage` whose environment its name implies
    /// ([`Environment::of_stage`]): see [`Policy::for_environment`].
    pub fn for_stage(stage: Option<&str>, settings: GuardSettings) -> Policy {
        Policy::for_environment(stage.map(Environment::of_stage), settings)
    }

    /// The policy for a stage of `environment`: the configured base, else strict in
    /// production, else lenient.
    pub fn for_environment(environment: Option<Environment>, settings: GuardSettings) -> Policy {
        let base = settings.policy.unwrap_or(match environment {
            Some(Environment::Production) => PolicyBase::Strict,
            _ => PolicyBase::Lenient,
        });
        let mut name = match base {
            PolicyBase::Strict => "strict".to_string(),
            PolicyBase::Lenient => "lenient".to_string(),
        };
        if !settings.rules.is_empty() {
            name.push_str(" with overrides");
        }
        Policy {
            base,
            settings,
            name,
        }
    }

    /// The severity of `rule`'s findings, or `None` when the rule is off.
    pub fn severity(&self, rule: &Rule) -> Option<Severity> {
        let level =
            self.settings
                .rules
                .get(rule.id)
                .copied()
                .unwrap_or(match (rule.kind, self.base) {
                    (Kind::DataLoss, _) => RuleLevel::Block,
                    (Kind::Setting, PolicyBase::Strict) => RuleLevel::Block,
                    (Kind::Setting, PolicyBase::Lenient) => RuleLevel::Warn,
                    (Kind::Notice, _) => RuleLevel::Warn,
                    (Kind::Information, _) => RuleLevel::Info,
                });
        match level {
            RuleLevel::Block => Some(Severity::Block),
            RuleLevel::Warn => Some(Severity::Warn),
            RuleLevel::Info => Some(Severity::Info),
            RuleLevel::Off => None,
        }
    }

    /// Minimum backup retention in days.
    pub fn min_backup_retention_days(&self) -> u32 {
        self.settings.min_backup_retention_days.unwrap_or(7)
    }

    /// Rule ids in the configuration that do not exist (a typo would silently do nothing).
    pub fn unknown_rule_ids(&self) -> Vec<String> {
        self.settings
            .rules
            .keys()
            .filter(|id| find(id).is_none())
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_decides_the_base_policy() {
        let strict = Policy::for_stage(Some("Production"), GuardSettings::default());
        let lenient = Policy::for_stage(Some("dev"), GuardSettings::default());
        let none = Policy::for_stage(None, GuardSettings::default());
        assert_eq!(strict.severity(&DYNAMODB_PITR), Some(Severity::Block));
        assert_eq!(lenient.severity(&DYNAMODB_PITR), Some(Severity::Warn));
        assert_eq!(none.severity(&DYNAMODB_PITR), Some(Severity::Warn));
        for p in [&strict, &lenient, &none] {
            assert_eq!(p.severity(&STATEFUL_REPLACE), Some(Severity::Block));
            assert_eq!(p.severity(&STATEFUL_ORPHAN), Some(Severity::Warn));
        }
    }

    #[test]
    fn configuration_overrides_rules() {
        let mut settings = GuardSettings::default();
        settings
            .rules
            .insert("s3-versioning".into(), RuleLevel::Off);
        settings
            .rules
            .insert("stateful-orphan".into(), RuleLevel::Block);
        settings
            .rules
            .insert("s3-versoning".into(), RuleLevel::Warn);
        let p = Policy::for_stage(Some("prod"), settings);
        assert_eq!(p.severity(&S3_VERSIONING), None);
        assert_eq!(p.severity(&STATEFUL_ORPHAN), Some(Severity::Block));
        assert_eq!(p.unknown_rule_ids(), ["s3-versoning"]);
        assert_eq!(p.name, "strict with overrides");
    }
}
