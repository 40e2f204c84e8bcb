//! `guard diff` and `guard check`: from the stacks of each side to a report.
//!
//! Stacks are paired by `--stack OLD=NEW`, then by name, then — one stack left on each side,
//! as in a Serverless-to-CDK move — with each other (`pairing`). Resources are compared by
//! logical ID within a pair (`kept`); what disappears from one place and appears in another (a
//! renamed logical ID, a move between stacks) is matched across the whole set by type and
//! physical name or key properties, and reported as the delete-and-create CloudFormation will
//! carry out (`moves`). Every change and finding goes to a `Collector`, which applies the
//! stage's policy and makes the report.

mod collector;
mod kept;
mod moves;
mod pairing;

pub(crate) use collector::Collector;

use crate::eval::{Canon, Scope};
use crate::inputs::StackTemplate;
use crate::policy::{self, present, properties};
use crate::rules::Policy;
use crate::schema;
use crate::template::Resource;
use crate::{opaque, sam};
use holdfast_core::exit::Outcome;
use holdfast_report::guard::GuardReport;
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

/// One stack as the guard evaluates it.
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
    /// The index of its side (stack) among its side's stacks.
    side: usize,
    resource: &'a Resource,
    props: Canon,
}

/// Holds data, or might: a known stateful type, or a type the schemas do not know.
pub(crate) fn may_hold_data(resource_type: &str) -> bool {
    schema::is_stateful(resource_type)
        || (schema::type_schema(resource_type).is_none()
            && !sam::is_stateless(resource_type)
            && !resource_type.starts_with("Custom::")
            && resource_type != "AWS::CloudFormation::CustomResource")
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
        c.push_raw_in(raw, stack);
    }
    let given = (!side.stack.deployed).then_some(&c.request().parameters);
    for mut raw in policy::check_settings(t, &side.scope, given, min_retention) {
        raw.in_old = false;
        c.push_raw_in(raw, side.stack);
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
    let mut c = Collector::new(request);
    for stack in &prepare(stacks) {
        let side = Side::new(stack, &request.parameters);
        template_findings(
            &mut c,
            &side,
            None,
            request.policy.min_backup_retention_days(),
        );
    }
    c.finish(
        holdfast_report::Command::GuardCheck,
        schema::schema_source().to_string(),
    )
}

/// `guard diff`: what deploying `new` over `old` does, and the findings.
///
/// # Errors
/// An explicit stack pair names a stack that is not there.
pub fn diff(
    old: &[StackTemplate],
    new: &[StackTemplate],
    request: &Request,
) -> Result<GuardReport, RequestError> {
    let pairs = pairing::pair_stacks(old, new, &request.stack_pairs)?;
    // A deployed stack keeps its deployed parameter values; files take `--parameters`.
    let deployed_values = HashMap::new();
    let (old_prepared, new_prepared) = (prepare(old), prepare(new));
    let old_sides: Vec<Side<'_>> = old_prepared
        .iter()
        .map(|s| {
            let given = if s.deployed {
                &deployed_values
            } else {
                &request.parameters
            };
            Side::new(s, given)
        })
        .collect();
    let new_sides: Vec<Side<'_>> = new_prepared
        .iter()
        .map(|s| Side::new(s, &request.parameters))
        .collect();
    let mut c = Collector::new(request);
    let mut removed: Vec<Slot<'_>> = Vec::new();
    let mut added: Vec<Slot<'_>> = Vec::new();
    for &(o, n) in &pairs {
        let (old_side, new_side) = (o.map(|i| &old_sides[i]), n.map(|i| &new_sides[i]));
        let both = sort_resources((o, old_side), (n, new_side), &mut removed, &mut added);
        if let (Some(os), Some(ns)) = (old_side, new_side) {
            kept::judge(&mut c, os, ns, &both);
        }
    }
    let single_pair = old.len() == 1 && new.len() == 1;
    moves::judge(
        &mut c,
        &old_sides,
        &new_sides,
        &removed,
        &added,
        single_pair,
    );
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
    Ok(c.finish(
        holdfast_report::Command::GuardDiff,
        schema::schema_source().to_string(),
    ))
}

/// Sorts the resources of one stack pair (either side may be missing) by logical ID: those on
/// both sides are returned (old, new); those only on the old side go to `removed`, those only on
/// the new side to `added`. A resource whose Condition is false on its side is not there.
fn sort_resources<'a>(
    (o, old_side): (Option<usize>, Option<&Side<'a>>),
    (n, new_side): (Option<usize>, Option<&Side<'a>>),
    removed: &mut Vec<Slot<'a>>,
    added: &mut Vec<Slot<'a>>,
) -> Vec<(&'a Resource, &'a Resource)> {
    let resources = |side: Option<&Side<'a>>| -> Vec<&'a Resource> {
        side.map(|s| s.stack.template.resources.iter().collect())
            .unwrap_or_default()
    };
    let (old_res, new_res) = (resources(old_side), resources(new_side));
    let mut both = Vec::new();
    // By logical ID: thousands of resources must not cost a quadratic search.
    let new_by_id: HashMap<&str, &'a Resource> = new_res
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
    both
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
