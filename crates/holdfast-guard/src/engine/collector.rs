//! Gathering a run's resource changes and raw findings, then turning them into the report: the
//! stage's policy gives each finding its severity (or drops it), `--allow` accepts blocking
//! ones, and both lists are put in a stable order.

use super::Request;
use crate::inputs::StackTemplate;
use crate::policy::RawFinding;
use crate::rules::Rule;
use crate::schema;
use crate::template::Resource;
use holdfast_core::exit::Outcome;
use holdfast_report::guard::{
    Action, Finding, GuardReport, Location, ResourceChange, Severity, Summary,
};
use holdfast_report::{Command, Envelope};

/// Where a resource is written: its stack's file, line and column.
fn location(stack: &StackTemplate, resource: &Resource) -> Location {
    Location {
        file: stack.file.clone(),
        line: resource.span.line,
        column: resource.span.column,
    }
}

/// The changes and raw findings of one run, with the request that judges them.
pub(crate) struct Collector<'r> {
    request: &'r Request,
    changes: Vec<ResourceChange>,
    /// A finding, the name of its stack and the file it points into.
    raw: Vec<(RawFinding, String, String)>,
}

impl<'r> Collector<'r> {
    pub(crate) fn new(request: &'r Request) -> Collector<'r> {
        Collector {
            request,
            changes: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// The request being judged.
    pub(crate) fn request(&self) -> &'r Request {
        self.request
    }

    pub(crate) fn push_change(&mut self, change: ResourceChange) {
        self.changes.push(change);
    }

    pub(crate) fn push_raw(&mut self, raw: RawFinding, stack: String, file: String) {
        self.raw.push((raw, stack, file));
    }

    /// A finding about a resource (or the template) of `stack`.
    pub(super) fn push_raw_in(&mut self, raw: RawFinding, stack: &StackTemplate) {
        self.push_raw(raw, stack.name.clone(), stack.file.clone());
    }

    /// What happens to `resource` of `stack`; nothing when it is unchanged.
    pub(super) fn change(
        &mut self,
        stack: &StackTemplate,
        resource: &Resource,
        action: Action,
        reasons: Vec<String>,
    ) {
        if action == Action::None {
            return;
        }
        self.changes.push(ResourceChange {
            stack: stack.name.clone(),
            logical_id: resource.logical_id.clone(),
            resource_type: resource.type_.clone(),
            action,
            stateful: schema::is_stateful(&resource.type_),
            reasons,
            location: Some(location(stack, resource)),
        });
    }

    /// A finding of `rule` about `resource` (the template itself when `None`), located in the
    /// new side's `stack`.
    pub(super) fn finding(
        &mut self,
        rule: &'static Rule,
        stack: &StackTemplate,
        resource: Option<&Resource>,
        message: String,
        fix: String,
    ) {
        self.push_raw_in(
            RawFinding {
                rule,
                logical_id: resource.map(|r| r.logical_id.clone()).unwrap_or_default(),
                resource_type: resource.map(|r| r.type_.clone()).unwrap_or_default(),
                message,
                fix,
                span: resource.map(|r| r.span),
                in_old: false,
            },
            stack,
        );
    }

    /// The report: findings with their severities (off rules dropped, allowed ones counted
    /// apart), most severe first; changes most drastic first; the outcome blocks on any
    /// blocking finding left.
    pub(crate) fn finish(self, command: Command, schema_source: String) -> GuardReport {
        let mut summary = Summary::default();
        let mut findings = Vec::new();
        for (raw, stack, file) in self.raw {
            let Some(severity) = self.request.policy.severity(raw.rule) else {
                continue;
            };
            let allowed = (severity == Severity::Block)
                .then(|| self.request.allow.get(&raw.logical_id).cloned())
                .flatten();
            match (severity, &allowed) {
                (Severity::Block, Some(_)) => summary.allowed += 1,
                (Severity::Block, None) => summary.blocking += 1,
                (Severity::Warn, _) => summary.warnings += 1,
                (Severity::Info, _) => summary.info += 1,
            }
            findings.push(Finding {
                rule: raw.rule.id.to_string(),
                severity,
                stack,
                logical_id: raw.logical_id,
                resource_type: raw.resource_type,
                message: raw.message,
                fix: raw.fix,
                allowed,
                location: raw.span.map(|s| Location {
                    file,
                    line: s.line,
                    column: s.column,
                }),
            });
        }
        findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.stack.cmp(&b.stack))
                .then_with(|| a.logical_id.cmp(&b.logical_id))
                .then_with(|| a.rule.cmp(&b.rule))
        });
        let mut changes = self.changes;
        changes.sort_by(|a, b| {
            b.action
                .cmp(&a.action)
                .then_with(|| a.stack.cmp(&b.stack))
                .then_with(|| a.logical_id.cmp(&b.logical_id))
        });
        GuardReport {
            envelope: Envelope::new(
                command,
                if summary.blocking > 0 {
                    Outcome::CheckFailed
                } else {
                    Outcome::Success
                },
            ),
            stage: self.request.stage.clone(),
            policy: self.request.policy.name.clone(),
            summary,
            changes,
            findings,
            schema_source,
        }
    }
}
