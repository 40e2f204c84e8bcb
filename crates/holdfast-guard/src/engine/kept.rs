//! Resources that keep their logical ID within a stack pair: what the deploy does to each
//! (see [`crate::diff::classify`]), to a fixed point — a resource that reads a replaced one
//! changes too — and the findings on those that may hold data.

use super::{may_hold_data, Collector, Side};
use crate::diff::classify;
use crate::eval::Canon;
use crate::policy::{present, properties};
use crate::rules;
use crate::schema;
use crate::template::Resource;
use holdfast_report::guard::Action;
use std::collections::BTreeSet;

/// How many rounds replacement may spread through references before the last one stands.
const MAX_ROUNDS: usize = 16;

/// A resource on both sides, its properties evaluated once.
struct Kept<'a> {
    old: &'a Resource,
    new: &'a Resource,
    old_props: Canon,
    new_props: Canon,
    /// Why whether it exists at all changes or cannot be decided (its Condition), if so.
    existence: Option<String>,
}

/// Judges the resources of `both` (old, new), found on both sides of the pair `os`–`ns`.
pub(super) fn judge(
    c: &mut Collector<'_>,
    os: &Side<'_>,
    ns: &Side<'_>,
    both: &[(&Resource, &Resource)],
) {
    let kept: Vec<Kept<'_>> = both
        .iter()
        .map(|&(old, new)| Kept {
            old,
            new,
            old_props: properties(&os.scope, old),
            new_props: properties(&ns.scope, new),
            existence: existence_change(os, old, ns, new),
        })
        .collect();
    let results = to_fixed_point(&kept);
    for (k, (action, reasons)) in kept.iter().zip(results) {
        c.change(ns.stack, k.new, action, reasons.clone());
        report(c, ns, k.new, action, &reasons);
    }
}

/// Why a resource's existence is not the same on both sides: its Condition changes, or cannot be
/// decided differently from the other side. `None`: it exists on both (or on neither).
fn existence_change(
    os: &Side<'_>,
    old: &Resource,
    ns: &Side<'_>,
    new: &Resource,
) -> Option<String> {
    let condition = || {
        new.condition
            .clone()
            .or(old.condition.clone())
            .unwrap_or_default()
    };
    match (present(&os.scope, old), present(&ns.scope, new)) {
        (Some(true), Some(true)) => None,
        (Some(false), _) | (_, Some(false)) => Some(format!(
            "its Condition {} changes whether it exists",
            condition()
        )),
        // The same condition, undecidable the same way on both sides (by the stack's region or
        // account, or the same unknown values): it exists on both or on neither.
        (None, None)
            if old.condition == new.condition
                && old.condition.as_deref().is_some_and(|name| {
                    os.scope.condition_form(name) == ns.scope.condition_form(name)
                }) =>
        {
            None
        }
        _ => Some(format!(
            "it exists only if Condition {} holds, which cannot be decided",
            condition()
        )),
    }
}

/// Each resource's action and reasons, once the set of replaced resources no longer grows.
fn to_fixed_point(kept: &[Kept<'_>]) -> Vec<(Action, Vec<String>)> {
    let mut replaced: BTreeSet<String> = BTreeSet::new();
    let mut results = Vec::new();
    for _ in 0..MAX_ROUNDS {
        results = kept
            .iter()
            .map(|k| match &k.existence {
                Some(why) => (Action::Unknown, vec![why.clone()]),
                None => classify(
                    &k.old.type_,
                    &k.new.type_,
                    &k.old_props,
                    &k.new_props,
                    &replaced,
                ),
            })
            .collect::<Vec<_>>();
        let now: BTreeSet<String> = kept
            .iter()
            .zip(&results)
            .filter(|(_, (a, _))| *a == Action::Replace)
            .map(|(k, _)| k.new.logical_id.clone())
            .collect();
        if now == replaced {
            break;
        }
        replaced = now;
    }
    results
}

/// The finding on a resource that may hold data and would be replaced, may be, or cannot be
/// shown safe.
fn report(
    c: &mut Collector<'_>,
    ns: &Side<'_>,
    new: &Resource,
    action: Action,
    reasons: &[String],
) {
    if !may_hold_data(&new.type_) {
        return;
    }
    let unknown_type = schema::type_schema(&new.type_).is_none();
    let rule = match (action, unknown_type) {
        (Action::None | Action::Update | Action::Create, _) => return,
        (_, true) => &rules::UNKNOWN_TYPE,
        (Action::Replace, _) => &rules::STATEFUL_REPLACE,
        (Action::MayReplace, _) => &rules::STATEFUL_MAY_REPLACE,
        _ => &rules::STATEFUL_UNPROVABLE,
    };
    let verb = match action {
        Action::Replace => "would be REPLACED (a new, empty one created, the old one deleted)",
        Action::MayReplace => "may be REPLACED",
        _ => "may be changed in a way that cannot be proven safe",
    };
    c.finding(
        rule,
        ns.stack,
        Some(new),
        format!("{} {verb}: {}", new.type_, reasons.join("; ")),
        "keep the create-only properties as they are; to change them, create a new resource beside the old one, copy the data (holdfast dynamo copy), switch over, then remove the old one with DeletionPolicy: Retain".into(),
    );
}
