//! What a deploy does to each resource, from the old and new values of its properties.
//!
//! A change at or below a create-only property path replaces the resource; a change of an
//! ancestor is narrowed down by comparing the values at the create-only path itself, so a change
//! beside a create-only path is an update. Conditional create-only properties "may replace"
//! unless the curated table says the documented update happens in place. A value that cannot be
//! resolved at a create-only path is "unknown": what cannot be proven safe is not safe. A
//! resource whose properties read a replaced resource changes too, so replacement is computed
//! to a fixed point.

use crate::eval::Canon;
use crate::schema::{self, ConcreteSegment, PathSegment, PropertyPath};
use holdfast_report::guard::Action;
use std::collections::BTreeSet;

/// One difference between the old and new properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delta {
    pub path: Vec<ConcreteSegment>,
    /// Set when the difference cannot be decided (an unresolved value).
    pub unknown: Option<String>,
}

/// The differences between two property values. `replaced` are resources being replaced:
/// a value that reads one of them changes even when written the same.
pub fn deltas(old: &Canon, new: &Canon, replaced: &BTreeSet<String>) -> Vec<Delta> {
    let mut out = Vec::new();
    walk(old, new, replaced, &mut Vec::new(), &mut out);
    out
}

fn walk(
    old: &Canon,
    new: &Canon,
    replaced: &BTreeSet<String>,
    path: &mut Vec<ConcreteSegment>,
    out: &mut Vec<Delta>,
) {
    let unknown = old.has_unknown().or(new.has_unknown());
    match (old, new) {
        (Canon::Map(a), Canon::Map(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                path.push(ConcreteSegment::Key(key.clone()));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => walk(x, y, replaced, path, out),
                    (x, y) => out.push(Delta {
                        path: path.clone(),
                        unknown: x.or(y).and_then(Canon::has_unknown).map(str::to_string),
                    }),
                }
                path.pop();
            }
        }
        (Canon::List(a), Canon::List(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                path.push(ConcreteSegment::Index(i));
                walk(x, y, replaced, path, out);
                path.pop();
            }
        }
        // Written the same over the same inputs: equal, even when unresolved.
        _ if unknown.is_some() && old != new => out.push(Delta {
            path: path.clone(),
            unknown: unknown.map(str::to_string),
        }),
        _ if old != new => out.push(Delta {
            path: path.clone(),
            // An `Fn::If` on a condition only the deploy decides: either branch may be taken; an
            // `Fn::FindInMap` by the region (or another pseudo parameter): the entry it reads
            // may be one that did not change.
            unknown: [old, new].iter().find_map(|c| match c {
                Canon::Expr(kind, _) if kind == "Fn::If" => {
                    Some("it depends on a condition decided at deploy time".to_string())
                }
                Canon::Expr(kind, _) if kind == "Fn::FindInMap" => {
                    Some("it is looked up in a mapping at deploy time".to_string())
                }
                _ => None,
            }),
        }),
        _ => {
            let mut refs = BTreeSet::new();
            old.resource_refs(&mut refs);
            if let Some(id) = refs.iter().find(|r| replaced.contains(*r)) {
                out.push(Delta {
                    path: path.clone(),
                    unknown: Some(format!("reads {id}, which is replaced")),
                });
            }
        }
    }
}

/// The values at a schema path (`*` expands over every list item); `None` where absent. An
/// unknown value on the way stands for whatever is below it.
pub fn values_at<'c>(value: &'c Canon, path: &[PathSegment]) -> Vec<Option<&'c Canon>> {
    let Some((first, rest)) = path.split_first() else {
        return vec![Some(value)];
    };
    match (first, value) {
        (_, Canon::Unknown(_)) => vec![Some(value)],
        (PathSegment::Key(k), Canon::Map(m)) => match m.get(k) {
            Some(v) => values_at(v, rest),
            None => vec![None],
        },
        (PathSegment::AnyIndex, Canon::List(items)) => {
            items.iter().flat_map(|i| values_at(i, rest)).collect()
        }
        _ => vec![None],
    }
}

/// Renders a concrete path like `KeySchema[0].AttributeName`.
pub fn path_text(path: &[ConcreteSegment]) -> String {
    let mut out = String::new();
    for segment in path {
        match segment {
            ConcreteSegment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            ConcreteSegment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "Properties".into()
    } else {
        out
    }
}

fn schema_path_text(path: &PropertyPath) -> String {
    path.0
        .iter()
        .map(|s| match s {
            PathSegment::Key(k) => k.as_str(),
            PathSegment::AnyIndex => "*",
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Conditionally create-only properties that the CloudFormation documentation says always
/// replace ("Update requires: Replacement"): reported as replacements, not "may replace".
const DOCUMENTED_REPLACEMENT: &[(&str, &str, &str)] = &[
    (
        "AWS::DynamoDB::Table",
        "KeySchema",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#cfn-dynamodb-table-keyschema",
    ),
    (
        "AWS::DynamoDB::Table",
        "LocalSecondaryIndexes",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-table.html#cfn-dynamodb-table-localsecondaryindexes",
    ),
    (
        "AWS::DynamoDB::GlobalTable",
        "KeySchema",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html#cfn-dynamodb-globaltable-keyschema",
    ),
    (
        "AWS::DynamoDB::GlobalTable",
        "LocalSecondaryIndexes",
        "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-dynamodb-globaltable.html#cfn-dynamodb-globaltable-localsecondaryindexes",
    ),
];

fn documented_replacement(resource_type: &str, path: &PropertyPath) -> Option<String> {
    let [PathSegment::Key(key)] = path.0.as_slice() else {
        return None;
    };
    DOCUMENTED_REPLACEMENT
        .iter()
        .find(|(t, k, _)| *t == resource_type && k == key)
        .map(|(_, _, url)| format!("Update requires: Replacement, {url}"))
}

/// The action and the reasons for one resource present on both sides.
pub fn classify(
    old_type: &str,
    new_type: &str,
    old: &Canon,
    new: &Canon,
    replaced: &BTreeSet<String>,
) -> (Action, Vec<String>) {
    if old_type != new_type {
        return (
            Action::Replace,
            vec![format!(
                "type changes from {old_type} to {new_type} (replaces)"
            )],
        );
    }
    let deltas = deltas(old, new, replaced);
    if deltas.is_empty() {
        return (Action::None, Vec::new());
    }
    let paths = deltas
        .iter()
        .map(|d| path_text(&d.path))
        .collect::<Vec<_>>()
        .join(", ");
    if crate::sam::is_stateless(new_type) {
        return (
            Action::Update,
            vec![format!(
                "{paths} change(s); SAM generates only stateless resources from {new_type}, so no change of it loses data"
            )],
        );
    }
    let Some(schema) = schema::type_schema(new_type) else {
        return (
            Action::Unknown,
            vec![format!(
                "{new_type} is not a known resource type: whether changing {paths} replaces it cannot be told"
            )],
        );
    };
    if schema.no_update_handler {
        // The provider cannot update this type at all: any change is a replacement.
        let unknown = deltas.iter().all(|d| d.unknown.is_some());
        let action = if unknown {
            Action::Unknown
        } else {
            Action::Replace
        };
        return (
            action,
            vec![format!(
                "{paths} change(s); {new_type} has no update handler, so any change replaces it"
            )],
        );
    }
    let mut action = Action::Update;
    let mut reasons = Vec::new();
    let mut raise = |a: Action, why: String, reasons: &mut Vec<String>| {
        action = action.max(a);
        if !reasons.contains(&why) {
            reasons.push(why);
        }
    };
    for delta in &deltas {
        let mut hit = false;
        for (paths, conditional) in [
            (&schema.create_only, false),
            (&schema.conditional_create_only, true),
        ] {
            for create_only in paths.iter() {
                let judged = if create_only.covers(&delta.path) {
                    Some((delta.unknown.clone(), path_text(&delta.path)))
                } else if create_only.is_within(&delta.path) {
                    // An ancestor changed: compare the create-only values themselves.
                    let (a, b) = (
                        values_at(old, &create_only.0),
                        values_at(new, &create_only.0),
                    );
                    let unknown = a
                        .iter()
                        .chain(b.iter())
                        .flatten()
                        .find_map(|c| c.has_unknown())
                        .map(str::to_string);
                    (a != b).then(|| (unknown, schema_path_text(create_only)))
                } else {
                    None
                };
                let Some((unknown, where_)) = judged else {
                    continue;
                };
                hit = true;
                match (unknown, conditional) {
                    (Some(why), _) => raise(
                        Action::Unknown,
                        format!("{where_} cannot be compared ({why}); a change there may replace"),
                        &mut reasons,
                    ),
                    (None, false) => raise(
                        Action::Replace,
                        format!("{where_} changes (create-only: replaces)"),
                        &mut reasons,
                    ),
                    (None, true) if documented_replacement(new_type, create_only).is_some() => {
                        raise(
                            Action::Replace,
                            format!(
                                "{where_} changes (create-only in practice: {})",
                                documented_replacement(new_type, create_only).unwrap_or_default()
                            ),
                            &mut reasons,
                        )
                    }
                    (None, true) => match schema::updates_in_place(new_type, create_only) {
                        Some(note) => raise(
                            Action::Update,
                            format!(
                                "{where_} changes ({}, {})",
                                note.update_requires, note.doc_url
                            ),
                            &mut reasons,
                        ),
                        None => raise(
                            Action::MayReplace,
                            format!("{where_} changes (conditionally create-only: may replace)"),
                            &mut reasons,
                        ),
                    },
                }
            }
        }
        if !hit {
            let why = match &delta.unknown {
                Some(u) => format!("{} changes or may change ({u})", path_text(&delta.path)),
                None => format!("{} changes", path_text(&delta.path)),
            };
            raise(Action::Update, why, &mut reasons);
        }
    }
    (action, reasons)
}
