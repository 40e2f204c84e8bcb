//! `guard diff` and `guard check`: from the stacks of each side to a report.
//!
//! Stacks are paired by `--stack OLD=NEW`, then by name, then — one stack left on each side,
//! as in a Serverless-to-CDK move — with each other. Resources are compared by logical ID
//! within a pair; what disappears from one place and appears in another (a renamed logical ID,
//! a move between stacks) is matched across the whole set by type and physical name or key
//! properties, and reported as the delete-and-create CloudFormation will carry out.

use crate::diff::classify;
use crate::eval::{Canon, Scope};
use crate::inputs::StackTemplate;
use crate::policy::{self, present, properties, RawFinding};
use crate::rules::{self, Policy, Rule};
use crate::schema;
use crate::template::Resource;
use crate::{opaque, sam};
use holdfast_core::exit::Outcome;
use holdfast_core::report::guard::{
    Action, Finding, GuardReport, Location, ResourceChange, Severity, Summary,
};
use holdfast_core::report::FORMAT_VERSION;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the caller asks of the guard, validated.
#[derive(Debug, Clone)]
pub struct Request {
    pub stage: Option<String>,
    pub policy: Policy,
    /// Parameter values (`--parameters`), applied to both sides.
    pub parameters: HashMap<String, String>,
    /// Logical ID → reason: blocking findings on these resources are accepted.
    pub allow: BTreeMap<String, String>,
    /// `--stack OLD=NEW` pairs.
    pub stack_pairs: Vec<(String, String)>,
}

/// A request the templates cannot satisfy (a `--stack` name that is not there). Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RequestError(pub String);

impl holdfast_core::exit::Classify for RequestError {
    /// The request does not fit the templates: bad input, nothing was judged.
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

struct Side<'a> {
    stack: &'a StackTemplate,
    scope: Scope<'a>,
}

impl<'a> Side<'a> {
    fn new(stack: &'a StackTemplate, parameters: &HashMap<String, String>) -> Side<'a> {
        let scope = if stack.deployed {
            Scope::deployed(&stack.template, parameters)
        } else {
            Scope::new(&stack.template, parameters)
        };
        Side { stack, scope }
    }
}

/// A resource on one side, with its evaluated properties.
struct Slot<'a> {
    side: usize,
    resource: &'a Resource,
    props: Canon,
}

fn location(stack: &StackTemplate, resource: &Resource) -> Location {
    Location {
        file: stack.file.clone(),
        line: resource.span.line,
        column: resource.span.column,
    }
}

/// Holds data, or might: a known stateful type, or a type the schemas do not know.
pub(crate) fn may_hold_data(resource_type: &str) -> bool {
    schema::is_stateful(resource_type)
        || (schema::type_schema(resource_type).is_none()
            && !sam::is_stateless(resource_type)
            && !resource_type.starts_with("Custom::")
            && resource_type != "AWS::CloudFormation::CustomResource")
}

pub(crate) struct Collector<'r> {
    request: &'r Request,
    changes: Vec<ResourceChange>,
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

    pub(crate) fn push_change(&mut self, change: ResourceChange) {
        self.changes.push(change);
    }

    pub(crate) fn push_raw(&mut self, raw: RawFinding, stack: String, file: String) {
        self.raw.push((raw, stack, file));
    }

    fn change(
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

    fn finding(
        &mut self,
        rule: &'static Rule,
        stack: &StackTemplate,
        resource: Option<&Resource>,
        message: String,
        fix: String,
    ) {
        self.raw.push((
            RawFinding {
                rule,
                logical_id: resource.map(|r| r.logical_id.clone()).unwrap_or_default(),
                resource_type: resource.map(|r| r.type_.clone()).unwrap_or_default(),
                message,
                fix,
                span: resource.map(|r| r.span),
                in_old: false,
            },
            stack.name.clone(),
            stack.file.clone(),
        ));
    }

    pub(crate) fn finish(self, command: &str, schema_source: String) -> GuardReport {
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
            format_version: FORMAT_VERSION,
            command: command.to_string(),
            stage: self.request.stage.clone(),
            policy: self.request.policy.name.clone(),
            outcome: if summary.blocking > 0 {
                Outcome::CheckFailed
            } else {
                Outcome::Success
            },
            summary,
            changes,
            findings,
            schema_source,
        }
    }
}

/// Findings about a template as a whole (see [`crate::opaque`]), and the settings of its
/// resources; `old` is the side `side` is compared with in `guard diff`.
fn template_findings(
    c: &mut Collector<'_>,
    side: &Side<'_>,
    old: Option<&Side<'_>>,
    min_retention: u32,
) {
    let t = &side.stack.template;
    let old_pair = old.map(|o| (&o.stack.template, &o.scope));
    for raw in opaque::findings((t, &side.scope), old_pair) {
        let stack = if raw.in_old {
            old.map_or(side.stack, |o| o.stack)
        } else {
            side.stack
        };
        c.raw.push((raw, stack.name.clone(), stack.file.clone()));
    }
    let given = (!side.stack.deployed).then_some(&c.request.parameters);
    for mut raw in policy::check_settings(t, &side.scope, given, min_retention) {
        raw.in_old = false;
        let (stack, file) = (side.stack.name.clone(), side.stack.file.clone());
        c.raw.push((raw, stack, file));
    }
}

/// The stacks as the guard judges them: a SAM template as what the transform generates.
fn prepare(stacks: &[StackTemplate]) -> Vec<Cow<'_, StackTemplate>> {
    stacks
        .iter()
        .map(|s| match sam::expand(&s.template) {
            Some(template) => Cow::Owned(StackTemplate {
                template,
                ..s.clone()
            }),
            None => Cow::Borrowed(s),
        })
        .collect()
}

/// `guard check`: settings of the given stacks.
pub fn check(stacks: &[StackTemplate], request: &Request) -> GuardReport {
    let mut c = Collector {
        request,
        changes: Vec::new(),
        raw: Vec::new(),
    };
    for stack in &prepare(stacks) {
        let side = Side::new(stack, &request.parameters);
        template_findings(
            &mut c,
            &side,
            None,
            request.policy.min_backup_retention_days(),
        );
    }
    c.finish("check", schema::schema_source().to_string())
}

/// Indexes of an old and a new stack compared with each other; one side may be missing.
type StackPair = (Option<usize>, Option<usize>);

fn pair_stacks(
    old: &[StackTemplate],
    new: &[StackTemplate],
    explicit: &[(String, String)],
) -> Result<Vec<StackPair>, RequestError> {
    let mut pairs = Vec::new();
    let (mut old_left, mut new_left): (BTreeSet<usize>, BTreeSet<usize>) =
        ((0..old.len()).collect(), (0..new.len()).collect());
    for (o, n) in explicit {
        let oi = old.iter().position(|s| &s.name == o).ok_or_else(|| {
            RequestError(format!(
                "stack pair {o}={n}: no stack `{o}` on the old side (found: {})",
                names(old)
            ))
        })?;
        let ni = new.iter().position(|s| &s.name == n).ok_or_else(|| {
            RequestError(format!(
                "stack pair {o}={n}: no stack `{n}` on the new side (found: {})",
                names(new)
            ))
        })?;
        old_left.remove(&oi);
        new_left.remove(&ni);
        pairs.push((Some(oi), Some(ni)));
    }
    for oi in old_left.clone() {
        if let Some(ni) = new_left
            .iter()
            .copied()
            .find(|&ni| new[ni].name == old[oi].name)
        {
            old_left.remove(&oi);
            new_left.remove(&ni);
            pairs.push((Some(oi), Some(ni)));
        }
    }
    if old_left.len() == 1 && new_left.len() == 1 {
        let (oi, ni) = (
            *old_left.iter().next().unwrap_or(&0),
            *new_left.iter().next().unwrap_or(&0),
        );
        old_left.clear();
        new_left.clear();
        pairs.push((Some(oi), Some(ni)));
    }
    pairs.extend(old_left.into_iter().map(|o| (Some(o), None)));
    pairs.extend(new_left.into_iter().map(|n| (None, Some(n))));
    Ok(pairs)
}

fn names(stacks: &[StackTemplate]) -> String {
    stacks
        .iter()
        .map(|s| s.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The physical name of a resource, when its type has one and it is written: a create-only
/// top-level property named like `…Name` or `…Identifier`.
fn physical_name(resource_type: &str, props: &Canon) -> Option<(String, String)> {
    let schema = schema::type_schema(resource_type)?;
    schema
        .create_only
        .iter()
        .find_map(|path| match path.0.as_slice() {
            [schema::PathSegment::Key(k)] if k.ends_with("Name") || k.ends_with("Identifier") => {
                props
                    .get(k)
                    .and_then(Canon::as_scalar)
                    .map(|v| (k.clone(), v.to_string()))
            }
            _ => None,
        })
}

/// Why two resources (one gone, one new) are the same data, if they are.
fn same_data(old_type: &str, old: &Canon, new_type: &str, new: &Canon) -> Option<String> {
    if old_type != new_type {
        return None;
    }
    match (physical_name(old_type, old), physical_name(new_type, new)) {
        (Some((key, a)), Some((_, b))) if a == b => return Some(format!("same {key} `{a}`")),
        (Some(_), Some(_)) => return None,
        _ => {}
    }
    // Unnamed: the same properties. Nothing else tells two unnamed resources of a type apart,
    // and for a retained one the deploy moves the application to a new, empty resource whether
    // or not it has key properties (a bucket, a key, a queue, a log group…).
    (old == new).then(|| "same type and identical properties".to_string())
}

/// `guard diff`: what deploying `new` over `old` does, and the findings.
pub fn diff(
    old: &[StackTemplate],
    new: &[StackTemplate],
    request: &Request,
) -> Result<GuardReport, RequestError> {
    let pairs = pair_stacks(old, new, &request.stack_pairs)?;
    // A deployed stack keeps its deployed parameter values; files take `--parameters`.
    let deployed_values = HashMap::new();
    let (old_prepared, new_prepared) = (prepare(old), prepare(new));
    let old_sides: Vec<Side<'_>> = old_prepared
        .iter()
        .map(|s| {
            Side::new(
                s,
                if s.deployed {
                    &deployed_values
                } else {
                    &request.parameters
                },
            )
        })
        .collect();
    let new_sides: Vec<Side<'_>> = new_prepared
        .iter()
        .map(|s| Side::new(s, &request.parameters))
        .collect();
    let mut c = Collector {
        request,
        changes: Vec::new(),
        raw: Vec::new(),
    };
    let mut removed: Vec<Slot<'_>> = Vec::new();
    let mut added: Vec<Slot<'_>> = Vec::new();

    for &(o, n) in &pairs {
        let (old_side, new_side) = (o.map(|i| &old_sides[i]), n.map(|i| &new_sides[i]));
        let old_res: Vec<&Resource> = old_side
            .map(|s| s.stack.template.resources.iter().collect())
            .unwrap_or_default();
        let new_res: Vec<&Resource> = new_side
            .map(|s| s.stack.template.resources.iter().collect())
            .unwrap_or_default();
        let mut both = Vec::new();
        // By logical ID: thousands of resources must not cost a quadratic search.
        let new_by_id: HashMap<&str, &Resource> = new_res
            .iter()
            .map(|r| (r.logical_id.as_str(), *r))
            .collect();
        for r in &old_res {
            let side = old_side.expect("old resources come from an old side");
            match (
                present(&side.scope, r),
                new_by_id.get(r.logical_id.as_str()),
            ) {
                (Some(false), _) => {}
                (_, Some(nr)) => both.push((*r, *nr)),
                (_, None) => removed.push(Slot {
                    side: o.unwrap_or(0),
                    resource: r,
                    props: properties(&side.scope, r),
                }),
            }
        }
        let on_both: BTreeSet<&str> = both.iter().map(|(_, nr)| nr.logical_id.as_str()).collect();
        for r in &new_res {
            let side = new_side.expect("new resources come from a new side");
            let on_old = on_both.contains(r.logical_id.as_str());
            if !on_old && present(&side.scope, r) != Some(false) {
                added.push(Slot {
                    side: n.unwrap_or(0),
                    resource: r,
                    props: properties(&side.scope, r),
                });
            }
        }
        let (Some(os), Some(ns)) = (old_side, new_side) else {
            continue;
        };
        // Properties once; then replacement to a fixed point (a resource that reads a
        // replaced one changes too).
        let evaluated: Vec<(&Resource, &Resource, Canon, Canon, Option<String>)> = both
            .iter()
            .map(|(or, nr)| {
                let condition = match (present(&os.scope, or), present(&ns.scope, nr)) {
                    (Some(true), Some(true)) => None,
                    (Some(false), _) | (_, Some(false)) => Some(format!(
                        "its Condition {} changes whether it exists",
                        nr.condition
                            .clone()
                            .or(or.condition.clone())
                            .unwrap_or_default()
                    )),
                    // The same condition, undecidable the same way on both sides (by the
                    // stack's region or account, or the same unknown values): it exists on
                    // both or on neither.
                    (None, None)
                        if or.condition == nr.condition
                            && or.condition.as_deref().is_some_and(|name| {
                                os.scope.condition_form(name) == ns.scope.condition_form(name)
                            }) =>
                    {
                        None
                    }
                    _ => Some(format!(
                        "it exists only if Condition {} holds, which cannot be decided",
                        nr.condition
                            .clone()
                            .or(or.condition.clone())
                            .unwrap_or_default()
                    )),
                };
                (
                    *or,
                    *nr,
                    properties(&os.scope, or),
                    properties(&ns.scope, nr),
                    condition,
                )
            })
            .collect();
        let mut replaced: BTreeSet<String> = BTreeSet::new();
        let mut results = Vec::new();
        for _ in 0..16 {
            results = evaluated
                .iter()
                .map(|(or, nr, op, np, condition)| match condition {
                    Some(why) => (Action::Unknown, vec![why.clone()]),
                    None => classify(&or.type_, &nr.type_, op, np, &replaced),
                })
                .collect::<Vec<_>>();
            let now: BTreeSet<String> = evaluated
                .iter()
                .zip(&results)
                .filter(|(_, (a, _))| *a == Action::Replace)
                .map(|((_, nr, ..), _)| nr.logical_id.clone())
                .collect();
            if now == replaced {
                break;
            }
            replaced = now;
        }
        for ((_, nr, ..), (action, reasons)) in evaluated.iter().zip(results) {
            c.change(ns.stack, nr, action, reasons.clone());
            if may_hold_data(&nr.type_) {
                let unknown_type = schema::type_schema(&nr.type_).is_none();
                let rule = match (action, unknown_type) {
                    (Action::None | Action::Update | Action::Create, _) => continue,
                    (_, true) => &rules::UNKNOWN_TYPE,
                    (Action::Replace, _) => &rules::STATEFUL_REPLACE,
                    (Action::MayReplace, _) => &rules::STATEFUL_MAY_REPLACE,
                    _ => &rules::STATEFUL_UNPROVABLE,
                };
                let verb = match action {
                    Action::Replace => {
                        "would be REPLACED (a new, empty one created, the old one deleted)"
                    }
                    Action::MayReplace => "may be REPLACED",
                    _ => "may be changed in a way that cannot be proven safe",
                };
                c.finding(
                    rule,
                    ns.stack,
                    Some(nr),
                    format!("{} {verb}: {}", nr.type_, reasons.join("; ")),
                    "keep the create-only properties as they are; to change them, create a new resource beside the old one, copy the data (holdfast dynamo copy), switch over, then remove the old one with DeletionPolicy: Retain".into(),
                );
            }
        }
    }

    // Across the whole set: what is gone from one place and new in another.
    let mut matched_added = BTreeSet::new();
    for gone in &removed {
        let os = &old_sides[gone.side];
        let r = gone.resource;
        let candidate = added
            .iter()
            .enumerate()
            .filter(|(i, _)| !matched_added.contains(i))
            .find_map(|(i, a)| {
                same_data(&r.type_, &gone.props, &a.resource.type_, &a.props).map(|why| (i, a, why))
            });
        let retained = matches!(
            policy::policy_value(&os.scope, r.deletion_policy.as_ref(), r, &gone.props),
            Ok((ref p, _)) if p == "Retain" || p == "RetainExceptOnCreate"
        );
        if let Some((i, a, why)) = candidate {
            matched_added.insert(i);
            let ns = &new_sides[a.side];
            let same_stack = os.stack.name == ns.stack.name || (old.len() == 1 && new.len() == 1);
            let (old_ref, new_ref) = (
                format!("{}/{}", os.stack.name, r.logical_id),
                format!("{}/{}", ns.stack.name, a.resource.logical_id),
            );
            if same_stack {
                let old_action = if retained {
                    Action::Orphan
                } else {
                    Action::Delete
                };
                c.change(
                    os.stack,
                    r,
                    old_action,
                    vec![format!("renamed to {new_ref} ({why})")],
                );
                c.change(
                    ns.stack,
                    a.resource,
                    Action::Create,
                    vec![format!("renamed from {old_ref} ({why})")],
                );
                if may_hold_data(&r.type_) {
                    let what = if retained {
                        let named = physical_name(&r.type_, &gone.props).is_some();
                        format!(
                            "the logical ID changed: CloudFormation will keep {old_ref} out of the stack (DeletionPolicy Retain) and CREATE {new_ref} as a new resource ({}, {why}); {}",
                            r.type_,
                            if named { "the create fails because the name is taken, and the deploy rolls back" } else { "the application moves to a new, empty resource" }
                        )
                    } else {
                        format!("CloudFormation will DELETE {old_ref} and CREATE {new_ref} ({}, {why}): the logical ID changed", r.type_)
                    };
                    c.finding(
                        &rules::STATEFUL_RENAME,
                        ns.stack,
                        Some(a.resource),
                        what,
                        format!("keep the old logical ID (CDK: overrideLogicalId('{}') on the resource's Cfn construct); or set DeletionPolicy: Retain on {old_ref}, deploy, remove it from the template, and import it as {} (an IMPORT change set, `cdk import`); or move it with CloudFormation stack refactoring", r.logical_id, a.resource.logical_id),
                    );
                }
            } else if retained {
                c.change(
                    ns.stack,
                    a.resource,
                    Action::Import,
                    vec![format!("moves from {old_ref} ({why}); retained there")],
                );
                c.change(
                    os.stack,
                    r,
                    Action::Orphan,
                    vec![format!("moves to {new_ref}; retained")],
                );
                if may_hold_data(&r.type_) {
                    c.finding(
                        &rules::STATEFUL_IMPORT,
                        ns.stack,
                        Some(a.resource),
                        format!("{old_ref} is retained and reappears as {new_ref} ({why}): it must be IMPORTED into {}; a normal deploy would fail on the existing name or create a second, empty resource", ns.stack.name),
                        "deploy the old stack first (the resource is retained), then import it with an IMPORT change set or `cdk import`, or use CloudFormation stack refactoring".into(),
                    );
                }
            } else {
                c.change(
                    os.stack,
                    r,
                    Action::Delete,
                    vec![format!("moves to {new_ref} ({why})")],
                );
                c.change(
                    ns.stack,
                    a.resource,
                    Action::Create,
                    vec![format!("moves from {old_ref} ({why})")],
                );
                if may_hold_data(&r.type_) {
                    c.finding(
                        &rules::STATEFUL_MOVE,
                        ns.stack,
                        Some(a.resource),
                        format!("CloudFormation will DELETE {old_ref} and CREATE {new_ref} ({}, {why}): it moves between stacks without being retained", r.type_),
                        format!("set DeletionPolicy: Retain on {old_ref} and deploy that first; then import it into {} (IMPORT change set / `cdk import`), or use CloudFormation stack refactoring", ns.stack.name),
                    );
                }
            }
            continue;
        }
        let (action, reason) =
            match policy::policy_value(&os.scope, r.deletion_policy.as_ref(), r, &gone.props) {
                Ok((p, _)) if p == "Retain" || p == "RetainExceptOnCreate" => (
                    Action::Orphan,
                    format!("removed; DeletionPolicy {p} keeps it"),
                ),
                Ok((p, _)) if p == "Snapshot" => (
                    Action::Delete,
                    "removed; DeletionPolicy Snapshot takes a final snapshot, then deletes it"
                        .to_string(),
                ),
                Ok(_) => (Action::Delete, "removed from the template".to_string()),
                Err(why) => (
                    Action::Unknown,
                    format!("removed, and its DeletionPolicy cannot be resolved ({why})"),
                ),
            };
        c.change(os.stack, r, action, vec![reason.clone()]);
        if may_hold_data(&r.type_) {
            let (rule, verb, fix) = match action {
                Action::Orphan => (&rules::STATEFUL_ORPHAN, "leaves the stack but is kept", "nothing is deleted; it is no longer managed: import it elsewhere or delete it by hand when done"),
                Action::Delete => (if schema::type_schema(&r.type_).is_none() { &rules::UNKNOWN_TYPE } else { &rules::STATEFUL_DELETE }, "would be DELETED", "put it back in the template; to remove it on purpose, set DeletionPolicy: Retain first and deploy"),
                _ => (&rules::STATEFUL_UNPROVABLE, "may be deleted", "write a plain DeletionPolicy"),
            };
            let mut raw = RawFinding {
                rule,
                logical_id: r.logical_id.clone(),
                resource_type: r.type_.clone(),
                message: format!(
                    "{} {}/{} {verb}: {reason}",
                    r.type_, os.stack.name, r.logical_id
                ),
                fix: fix.to_string(),
                span: Some(r.span),
                in_old: true,
            };
            raw.in_old = true;
            c.raw
                .push((raw, os.stack.name.clone(), os.stack.file.clone()));
        }
    }
    for (i, a) in added.iter().enumerate() {
        if !matched_added.contains(&i) {
            let ns = &new_sides[a.side];
            c.change(ns.stack, a.resource, Action::Create, Vec::new());
        }
    }
    for (i, side) in new_sides.iter().enumerate() {
        let old = pairs
            .iter()
            .find(|(_, n)| *n == Some(i))
            .and_then(|(o, _)| o.map(|o| &old_sides[o]));
        template_findings(
            &mut c,
            side,
            old,
            request.policy.min_backup_retention_days(),
        );
    }
    Ok(c.finish("diff", schema::schema_source().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_core::exit::Classify as _;

    #[test]
    fn a_stack_pair_the_templates_do_not_have_is_bad_input() {
        let stack = StackTemplate {
            name: "app".into(),
            file: "app.yaml".into(),
            template: crate::template::load("Resources: {}\n").expect("template"),
            deployed: false,
        };
        let request = Request {
            stage: None,
            policy: Policy::for_stage(None, Default::default()),
            parameters: HashMap::new(),
            allow: BTreeMap::new(),
            stack_pairs: vec![("app".into(), "other".into())],
        };
        let stacks = std::slice::from_ref(&stack);
        let error = diff(stacks, stacks, &request).expect_err("no stack `other`");
        assert_eq!(error.outcome().code(), 2, "{error}");
    }
}
