//! `guard changeset`: judging a saved `aws cloudformation describe-change-set` output, the
//! authoritative last step before executing a change set.

use crate::engine::{may_hold_data, Collector, Request};
use crate::policy::RawFinding;
use crate::rules;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::guard::{Action, GuardReport, ResourceChange};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ChangeSet {
    #[serde(default)]
    stack_name: Option<String>,
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Change {
    #[serde(default)]
    resource_change: Option<ResourceChangeJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceChangeJson {
    action: String,
    logical_resource_id: String,
    #[serde(default)]
    resource_type: String,
    #[serde(default)]
    replacement: Option<String>,
    #[serde(default)]
    policy_action: Option<String>,
    #[serde(default)]
    details: Vec<Detail>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Detail {
    #[serde(default)]
    target: Option<Target>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Target {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    requires_recreation: Option<String>,
}

/// Why a change set file could not be read. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ChangeSetError {
    pub file: String,
    pub message: String,
}

impl Classify for ChangeSetError {
    /// A file that is not a change set is bad input: nothing was judged.
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

/// Judges the JSON of `describe-change-set` read from `file`.
pub fn judge(file: &str, text: &str, request: &Request) -> Result<GuardReport, ChangeSetError> {
    let set: ChangeSet = serde_json::from_str(text).map_err(|e| ChangeSetError {
        file: file.to_string(),
        message: format!("line {}: not a describe-change-set output: {e}", e.line()),
    })?;
    let stack = set.stack_name.unwrap_or_else(|| "change set".into());
    let mut c = Collector::new(request);
    for rc in set.changes.into_iter().filter_map(|c| c.resource_change) {
        let policy = rc.policy_action.as_deref().unwrap_or("");
        let recreated: Vec<String> = rc
            .details
            .iter()
            .filter_map(|d| d.target.as_ref())
            .filter(|t| {
                matches!(
                    t.requires_recreation.as_deref(),
                    Some("Always" | "Conditionally")
                )
            })
            .map(|t| {
                format!(
                    "{} (requires recreation: {})",
                    t.name.clone().unwrap_or_default(),
                    t.requires_recreation.clone().unwrap_or_default()
                )
            })
            .collect();
        let (action, mut reasons) = match (rc.action.as_str(), rc.replacement.as_deref()) {
            ("Add", _) => (Action::Create, vec![]),
            ("Import", _) => (Action::Import, vec![]),
            ("Remove", _) if policy == "Retain" => (
                Action::Orphan,
                vec!["removed; PolicyAction Retain keeps it".to_string()],
            ),
            ("Remove", _) => (
                Action::Delete,
                vec![match policy {
                    "" => "removed".to_string(),
                    p => format!("removed (PolicyAction {p})"),
                }],
            ),
            ("Modify", Some("True")) => (
                Action::Replace,
                vec![match policy {
                    "ReplaceAndRetain" => "Replacement: True; PolicyAction ReplaceAndRetain keeps the old resource outside the stack, the stack moves to a new, empty one".to_string(),
                    "ReplaceAndSnapshot" => "Replacement: True; PolicyAction ReplaceAndSnapshot snapshots the old resource, then deletes it".to_string(),
                    _ => "Replacement: True".to_string(),
                }],
            ),
            ("Modify", Some("Conditional")) => (
                Action::MayReplace,
                vec!["Replacement: Conditional".to_string()],
            ),
            ("Modify", _) => (Action::Update, vec![]),
            (other, _) => (Action::Unknown, vec![format!("action {other}")]),
        };
        reasons.extend(recreated);
        c.push_change(ResourceChange {
            stack: stack.clone(),
            logical_id: rc.logical_resource_id.clone(),
            resource_type: rc.resource_type.clone(),
            action,
            stateful: crate::schema::is_stateful(&rc.resource_type),
            reasons: reasons.clone(),
            location: None,
        });
        if !may_hold_data(&rc.resource_type) {
            continue;
        }
        let rule = match action {
            Action::Delete => &rules::STATEFUL_DELETE,
            Action::Replace => &rules::STATEFUL_REPLACE,
            Action::MayReplace => &rules::STATEFUL_MAY_REPLACE,
            Action::Unknown => &rules::STATEFUL_UNPROVABLE,
            Action::Orphan => &rules::STATEFUL_ORPHAN,
            _ => continue,
        };
        c.push_raw(
            RawFinding {
                rule,
                logical_id: rc.logical_resource_id.clone(),
                resource_type: rc.resource_type.clone(),
                message: format!("{} {}: {:?} — {}", rc.resource_type, rc.logical_resource_id, action, reasons.join("; ")),
                fix: "do not execute this change set; change the template so the resource is kept (see `holdfast guard diff`)".into(),
                span: None,
                in_old: false,
            },
            stack.clone(),
            file.to_string(),
        );
    }
    Ok(c.finish(
        holdfast_report::Command::GuardChangeset,
        crate::schema::schema_source().to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_change_set_is_bad_input() {
        let request = Request {
            stage: None,
            policy: crate::rules::Policy::for_stage(None, Default::default()),
            parameters: Default::default(),
            allow: Default::default(),
            stack_pairs: Vec::new(),
        };
        let error = judge("set.json", "{\"Changes\": 3}", &request).expect_err("refused");
        assert_eq!(error.outcome().code(), 2, "{error}");
    }
}
