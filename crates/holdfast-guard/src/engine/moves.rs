//! Across the whole set of stacks: what is gone from one place and new in another. A resource
//! removed from a stack and one added (in the same stack or another) are the same data when
//! they have the same type and physical name, or — unnamed — identical properties; CloudFormation
//! still deletes the one and creates the other (a rename, a move between stacks), or, with the
//! old one retained, leaves it outside every stack. What is left is a plain removal or creation.

use super::{may_hold_data, Collector, Side, Slot};
use crate::eval::Canon;
use crate::policy::{self, RawFinding};
use crate::rules;
use crate::schema;
use crate::template::Resource;
use holdfast_report::guard::Action;
use std::collections::BTreeSet;

/// Judges every removed and added resource of the set: renames and moves first, then removals,
/// then creations. `single_pair`: one stack on each side, so a match is a rename even when the
/// stack names differ.
pub(super) fn judge(
    c: &mut Collector<'_>,
    old_sides: &[Side<'_>],
    new_sides: &[Side<'_>],
    removed: &[Slot<'_>],
    added: &[Slot<'_>],
    single_pair: bool,
) {
    let mut matched_added = BTreeSet::new();
    for gone in removed {
        let os = &old_sides[gone.side];
        let r = gone.resource;
        let candidate = added
            .iter()
            .enumerate()
            .filter(|(i, _)| !matched_added.contains(i))
            .find_map(|(i, a)| {
                same_data(&r.type_, &gone.props, &a.resource.type_, &a.props).map(|why| (i, a, why))
            });
        let Some((i, a, why)) = candidate else {
            report_removal(c, os, gone);
            continue;
        };
        matched_added.insert(i);
        let ns = &new_sides[a.side];
        let moved = Moved {
            old: os,
            gone: r,
            new: ns,
            came: a.resource,
            why,
            old_ref: format!("{}/{}", os.stack.name, r.logical_id),
            new_ref: format!("{}/{}", ns.stack.name, a.resource.logical_id),
        };
        let retained = is_retained(os, gone);
        if os.stack.name == ns.stack.name || single_pair {
            report_rename(c, &moved, retained, &gone.props);
        } else if retained {
            report_retained_move(c, &moved);
        } else {
            report_move(c, &moved);
        }
    }
    for (i, a) in added.iter().enumerate() {
        if !matched_added.contains(&i) {
            let ns = &new_sides[a.side];
            c.change(ns.stack, a.resource, Action::Create, Vec::new());
        }
    }
}

/// A removed resource and the added one that holds the same data.
struct Moved<'s, 'a> {
    old: &'s Side<'a>,
    gone: &'a Resource,
    new: &'s Side<'a>,
    came: &'a Resource,
    /// Why they are the same data.
    why: String,
    /// `STACK/LOGICAL_ID` of each.
    old_ref: String,
    new_ref: String,
}

/// Whether the removed resource's DeletionPolicy keeps it.
fn is_retained(os: &Side<'_>, gone: &Slot<'_>) -> bool {
    let r = gone.resource;
    matches!(
        policy::policy_value(&os.scope, r.deletion_policy.as_ref(), r, &gone.props),
        Ok((ref p, _)) if p == "Retain" || p == "RetainExceptOnCreate"
    )
}

/// The same data under another logical ID of the same stack.
fn report_rename(c: &mut Collector<'_>, m: &Moved<'_, '_>, retained: bool, old_props: &Canon) {
    let (r, why, old_ref, new_ref) = (m.gone, &m.why, &m.old_ref, &m.new_ref);
    let old_action = if retained {
        Action::Orphan
    } else {
        Action::Delete
    };
    c.change(
        m.old.stack,
        r,
        old_action,
        vec![format!("renamed to {new_ref} ({why})")],
    );
    c.change(
        m.new.stack,
        m.came,
        Action::Create,
        vec![format!("renamed from {old_ref} ({why})")],
    );
    if !may_hold_data(&r.type_) {
        return;
    }
    let what = if retained {
        let named = physical_name(&r.type_, old_props).is_some();
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
        m.new.stack,
        Some(m.came),
        what,
        format!("keep the old logical ID (CDK: overrideLogicalId('{}') on the resource's Cfn construct); or set DeletionPolicy: Retain on {old_ref}, deploy, remove it from the template, and import it as {} (an IMPORT change set, `cdk import`); or move it with CloudFormation stack refactoring", r.logical_id, m.came.logical_id),
    );
}

/// The same data in another stack, retained in the old one: it must be imported.
fn report_retained_move(c: &mut Collector<'_>, m: &Moved<'_, '_>) {
    let (r, why, old_ref, new_ref) = (m.gone, &m.why, &m.old_ref, &m.new_ref);
    c.change(
        m.new.stack,
        m.came,
        Action::Import,
        vec![format!("moves from {old_ref} ({why}); retained there")],
    );
    c.change(
        m.old.stack,
        r,
        Action::Orphan,
        vec![format!("moves to {new_ref}; retained")],
    );
    if may_hold_data(&r.type_) {
        c.finding(
            &rules::STATEFUL_IMPORT,
            m.new.stack,
            Some(m.came),
            format!("{old_ref} is retained and reappears as {new_ref} ({why}): it must be IMPORTED into {}; a normal deploy would fail on the existing name or create a second, empty resource", m.new.stack.name),
            "deploy the old stack first (the resource is retained), then import it with an IMPORT change set or `cdk import`, or use CloudFormation stack refactoring".into(),
        );
    }
}

/// The same data in another stack, not retained: deleted in one, created empty in the other.
fn report_move(c: &mut Collector<'_>, m: &Moved<'_, '_>) {
    let (r, why, old_ref, new_ref) = (m.gone, &m.why, &m.old_ref, &m.new_ref);
    c.change(
        m.old.stack,
        r,
        Action::Delete,
        vec![format!("moves to {new_ref} ({why})")],
    );
    c.change(
        m.new.stack,
        m.came,
        Action::Create,
        vec![format!("moves from {old_ref} ({why})")],
    );
    if may_hold_data(&r.type_) {
        c.finding(
            &rules::STATEFUL_MOVE,
            m.new.stack,
            Some(m.came),
            format!("CloudFormation will DELETE {old_ref} and CREATE {new_ref} ({}, {why}): it moves between stacks without being retained", r.type_),
            format!("set DeletionPolicy: Retain on {old_ref} and deploy that first; then import it into {} (IMPORT change set / `cdk import`), or use CloudFormation stack refactoring", m.new.stack.name),
        );
    }
}

/// A resource removed with nothing new holding its data: its DeletionPolicy decides.
fn report_removal(c: &mut Collector<'_>, os: &Side<'_>, gone: &Slot<'_>) {
    let r = gone.resource;
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
    if !may_hold_data(&r.type_) {
        return;
    }
    let (rule, verb, fix) = match action {
        Action::Orphan => (&rules::STATEFUL_ORPHAN, "leaves the stack but is kept", "nothing is deleted; it is no longer managed: import it elsewhere or delete it by hand when done"),
        Action::Delete => (if schema::type_schema(&r.type_).is_none() { &rules::UNKNOWN_TYPE } else { &rules::STATEFUL_DELETE }, "would be DELETED", "put it back in the template; to remove it on purpose, set DeletionPolicy: Retain first and deploy"),
        _ => (&rules::STATEFUL_UNPROVABLE, "may be deleted", "write a plain DeletionPolicy"),
    };
    c.push_raw_in(
        RawFinding {
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
        },
        os.stack,
    );
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
