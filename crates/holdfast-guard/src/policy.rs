//! Setting checks on one template: retention policies, point-in-time recovery, deletion
//! protection, backup retention and versioning of the resources that hold data.

use crate::eval::{Canon, Scope};
use crate::reach::{self, Reach};
use crate::rules::{self, Rule};
use crate::schema;
use crate::template::{Resource, Template};
use crate::value::Span;
use std::collections::HashMap;

/// A finding before the policy gives it a severity.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub rule: &'static Rule,
    pub logical_id: String,
    pub resource_type: String,
    pub message: String,
    pub fix: String,
    pub span: Option<Span>,
    /// The finding points into the old template (a deleted resource).
    pub in_old: bool,
}

/// Types whose DeletionPolicy/UpdateReplacePolicy may be `Snapshot`.
const SNAPSHOT_TYPES: &[&str] = &[
    "AWS::DocDB::DBCluster",
    "AWS::EC2::Volume",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::Neptune::DBCluster",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::Redshift::Cluster",
];

/// An Aurora instance: its data, protection and backups belong to its cluster.
fn is_cluster_member(resource: &Resource, props: &Canon) -> bool {
    resource.type_ == "AWS::RDS::DBInstance"
        && props
            .get("DBClusterIdentifier")
            .is_some_and(|c| !matches!(c, Canon::Unknown(_)))
}

/// The policy CloudFormation applies when none is written.
pub fn default_policy(resource: &Resource, props: &Canon) -> &'static str {
    match resource.type_.as_str() {
        "AWS::RDS::DBCluster" => "Snapshot",
        "AWS::RDS::DBInstance" if !is_cluster_member(resource, props) => "Snapshot",
        _ => "Delete",
    }
}

/// A retention policy's value: written (evaluated) or the default; `Err` when unresolved.
pub fn policy_value(
    scope: &Scope<'_>,
    written: Option<&crate::value::Node>,
    resource: &Resource,
    props: &Canon,
) -> Result<(String, bool), String> {
    match written.map(|n| scope.eval(n)) {
        None => Ok((default_policy(resource, props).to_string(), false)),
        Some(Canon::Scalar(s)) => Ok((s, true)),
        Some(other) => Err(other
            .has_unknown()
            .unwrap_or("the policy is not a plain value")
            .to_string()),
    }
}

fn truthy(value: Option<&Canon>) -> Option<bool> {
    match value {
        None => Some(false),
        Some(Canon::Scalar(s)) => Some(s.eq_ignore_ascii_case("true")),
        Some(_) => None,
    }
}

/// Whether a resource exists on this side: `Some(false)` when its condition is false,
/// `None` when the condition cannot be decided.
pub fn present(scope: &Scope<'_>, resource: &Resource) -> Option<bool> {
    match &resource.condition {
        None => Some(true),
        Some(c) => scope.condition(c),
    }
}

/// The evaluated properties of a resource (an empty map when it has none). A `Fn::Transform` in
/// the resource's body makes them unknown: what the macro adds is not in the template.
pub fn properties(scope: &Scope<'_>, resource: &Resource) -> Canon {
    let written = resource
        .properties
        .as_ref()
        .map(|p| scope.eval(p))
        .unwrap_or(Canon::Map(Default::default()));
    match &resource.transform {
        None => written,
        Some(transform) => Canon::unknown(
            "a Fn::Transform in the resource adds to it what the template does not hold",
            Canon::Expr(
                "Fn::Transform".into(),
                Box::new(Canon::List(vec![scope.eval(transform), written])),
            ),
        ),
    }
}

/// Checks the settings of every stateful resource of `template` that exists under some
/// parameter values a deploy could give: under `scope` (the given values, else the defaults)
/// when its `Condition` holds there, else under values [`reach`] finds, which its findings name.
/// `given` is `None` for a deployed stack, whose values are fixed.
pub fn check_settings(
    template: &Template,
    scope: &Scope<'_>,
    given: Option<&HashMap<String, String>>,
    min_retention_days: u32,
) -> Vec<RawFinding> {
    let mut out = Vec::new();
    for resource in &template.resources {
        if !schema::is_stateful(&resource.type_) {
            continue;
        }
        match (present(scope, resource), &resource.condition, given) {
            (Some(false), Some(condition), Some(given)) => {
                let (values, note) = match reach::reach(template, condition, given) {
                    Reach::Never => continue,
                    Reach::When(chosen) => {
                        let note = format!(
                            " (it exists when Condition {condition} holds, e.g. with {})",
                            Reach::describe(&chosen)
                        );
                        let mut values = given.clone();
                        values.extend(chosen);
                        (values, note)
                    }
                    Reach::Unbounded => (
                        given.clone(),
                        format!(" (it exists when Condition {condition} holds, which some parameter values may make true)"),
                    ),
                };
                let start = out.len();
                check_resource(
                    resource,
                    &Scope::new(template, &values),
                    min_retention_days,
                    &mut out,
                );
                for finding in &mut out[start..] {
                    finding.message.push_str(&note);
                }
            }
            (Some(false), ..) => {}
            _ => check_resource(resource, scope, min_retention_days, &mut out),
        }
    }
    out
}

/// Checks the settings of one stateful resource.
fn check_resource(
    resource: &Resource,
    scope: &Scope<'_>,
    min_retention_days: u32,
    out: &mut Vec<RawFinding>,
) {
    let props = properties(scope, resource);
    let mut find = |rule: &'static Rule, message: String, fix: &str| {
        out.push(RawFinding {
            rule,
            logical_id: resource.logical_id.clone(),
            resource_type: resource.type_.clone(),
            message,
            fix: fix.to_string(),
            span: Some(resource.span),
            in_old: false,
        })
    };
    if is_cluster_member(resource, &props) {
        // Its data lives in the cluster: an unwritten policy (Delete) loses no data, but
        // say so, as cfn-lint's I3011 does.
        for (name, written) in [
            ("DeletionPolicy", &resource.deletion_policy),
            ("UpdateReplacePolicy", &resource.update_replace_policy),
        ] {
            if written.is_none() {
                find(
                        &rules::DEFAULT_POLICY,
                        format!("{name} is not written: an Aurora instance defaults to Delete, which removes the instance; its data stays in the cluster"),
                        &format!("write {name}: Delete to say so; protect the data on the cluster"),
                    );
            }
        }
    } else {
        let snapshot_ok = SNAPSHOT_TYPES.contains(&resource.type_.as_str());
        for (rule, name, written, allow_except_on_create) in [
            (
                &rules::DELETION_POLICY,
                "DeletionPolicy",
                resource.deletion_policy.as_ref(),
                true,
            ),
            (
                &rules::UPDATE_REPLACE_POLICY,
                "UpdateReplacePolicy",
                resource.update_replace_policy.as_ref(),
                false,
            ),
        ] {
            let fix = if snapshot_ok {
                format!("set {name}: Retain (or Snapshot)")
            } else {
                format!("set {name}: Retain")
            };
            match policy_value(scope, written, resource, &props) {
                Err(why) => find(rule, format!("{name} cannot be resolved ({why})"), &fix),
                Ok((value, explicit)) => {
                    let safe = value == "Retain"
                        || (allow_except_on_create && value == "RetainExceptOnCreate")
                        || (snapshot_ok && value == "Snapshot");
                    if !safe {
                        let how = if explicit { "is" } else { "defaults to" };
                        find(
                            rule,
                            format!("{name} {how} {value}: the data goes with the resource"),
                            &fix,
                        );
                    } else if !explicit {
                        find(
                            &rules::DEFAULT_POLICY,
                            format!(
                                "{name} is not written: CloudFormation's default for {} is {value}",
                                resource.type_
                            ),
                            &format!("write {name}: {value} (or Retain) so the template says it"),
                        );
                    }
                }
            }
        }
    }
    match resource.type_.as_str() {
        "AWS::DynamoDB::Table" => {
            let pitr = props
                .get("PointInTimeRecoverySpecification")
                .and_then(|p| p.get("PointInTimeRecoveryEnabled"));
            match truthy(pitr) {
                Some(true) => {}
                Some(false) => find(
                    &rules::DYNAMODB_PITR,
                    "point-in-time recovery is off".into(),
                    "set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true",
                ),
                None => find(
                    &rules::DYNAMODB_PITR,
                    "point-in-time recovery cannot be verified (unresolved value)".into(),
                    "set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true",
                ),
            }
            if truthy(props.get("DeletionProtectionEnabled")) != Some(true) {
                let fix = if resource.written_type.is_some() {
                    // SAM's SimpleTable has no such property; the table it generates does.
                    "an AWS::Serverless::SimpleTable cannot set it: write the table as the AWS::DynamoDB::Table SAM generates, under the same logical ID with the same key (an update, not a replacement), and set DeletionProtectionEnabled: true"
                } else {
                    "set DeletionProtectionEnabled: true"
                };
                find(
                    &rules::DYNAMODB_DELETION_PROTECTION,
                    "deletion protection is off or unresolved".into(),
                    fix,
                );
            }
        }
        "AWS::RDS::DBCluster" | "AWS::RDS::DBInstance" if !is_cluster_member(resource, &props) => {
            if truthy(props.get("DeletionProtection")) != Some(true) {
                find(
                    &rules::RDS_DELETION_PROTECTION,
                    "deletion protection is off or unresolved".into(),
                    "set DeletionProtection: true",
                );
            }
            let retention = props.get("BackupRetentionPeriod");
            let days = match retention {
                None => Some(1),
                Some(Canon::Scalar(s)) => s.parse::<u32>().ok(),
                Some(_) => None,
            };
            match days {
                    Some(d) if d >= min_retention_days => {}
                    Some(d) => find(&rules::RDS_BACKUP_RETENTION, format!("backups are kept {d} day(s); the policy wants at least {min_retention_days}"), &format!("set BackupRetentionPeriod: {min_retention_days} or more")),
                    None => find(&rules::RDS_BACKUP_RETENTION, "backup retention cannot be verified (unresolved value)".into(), &format!("set BackupRetentionPeriod: {min_retention_days} or more")),
                }
        }
        "AWS::S3::Bucket" => {
            let status = props
                .get("VersioningConfiguration")
                .and_then(|v| v.get("Status"));
            if status.and_then(Canon::as_scalar) != Some("Enabled") {
                let message = match status.and_then(Canon::has_unknown) {
                    Some(why) => format!("versioning cannot be verified ({why})"),
                    None => "versioning is not enabled".to_string(),
                };
                find(
                    &rules::S3_VERSIONING,
                    message,
                    "set VersioningConfiguration.Status: Enabled",
                );
            }
        }
        _ => {}
    }
}
