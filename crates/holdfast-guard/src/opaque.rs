//! What a template holds that the guard cannot see into: a transform other than SAM alone,
//! `Fn::ForEach` loops, a `Fn::Transform` key in `Resources` (an `AWS::Include` of resources kept
//! elsewhere) and nested stacks. Each is a finding in `guard check`. In `guard diff` a transform,
//! a loop or an include is one only when it changes: the same template over the same inputs
//! generates the same resources, so an unchanged one changes nothing. A nested stack likewise:
//! its own template is not in the parent, so it is a finding when its properties (`TemplateURL`,
//! `Parameters`, …) change over the two sides' inputs, and quiet when they are the same — an
//! unchanged `TemplateURL` is taken as the same template, as `aws cloudformation package` and
//! the CDK make it (their URLs carry a hash of the content).

use crate::eval::{Canon, Scope};
use crate::policy::RawFinding;
use crate::rules::{self, Rule};
use crate::sam::{self, Transforms};
use crate::template::Template;
use crate::value::Span;

/// One side: a template and the scope it is evaluated in.
pub type Side<'a> = (&'a Template, &'a Scope<'a>);

fn raw(rule: &'static Rule, id: &str, span: Span, message: String, fix: String) -> RawFinding {
    RawFinding {
        rule,
        logical_id: id.to_string(),
        resource_type: String::new(),
        message,
        fix,
        span: Some(span),
        in_old: false,
    }
}

/// The findings about `new`; `old` is the side it is compared with in `guard diff` (`None` for
/// `guard check`, or a stack that is new). A finding with `in_old` points into `old`.
pub fn findings(new: Side<'_>, old: Option<Side<'_>>) -> Vec<RawFinding> {
    let (t, scope) = new;
    let mut out = Vec::new();
    let unchanged = old.is_some_and(|(ot, os)| ot.same_as(t) && os.same_inputs(scope));
    if let (Transforms::Other(names), Some(node), false) =
        (sam::transforms(t), &t.transform, unchanged)
    {
        out.push(raw(
            &rules::TRANSFORM,
            "Transform",
            node.span,
            format!("the template uses Transform {names}: the resources it generates cannot be compared here"),
            "compare the processed templates (the stack's Processed template stage), and check the change set".into(),
        ));
    }
    for (name, span, _) in t.for_each.iter().filter(|_| !unchanged) {
        out.push(raw(
            &rules::FOR_EACH,
            name,
            *span,
            format!("{name} expands to resources that cannot be compared here"),
            "check the change set before executing it".to_string(),
        ));
    }
    out.extend(include(new, old));
    for resource in t
        .resources
        .iter()
        .filter(|r| r.type_ == "AWS::CloudFormation::Stack")
        .filter(|r| !nested_stack_unchanged(r, scope, old))
    {
        let what = match &resource.written_type {
            Some(written) => format!("a nested stack ({written})"),
            None => "a nested stack".to_string(),
        };
        out.push(RawFinding {
            resource_type: resource.type_.clone(),
            ..raw(
                &rules::NESTED_STACK,
                &resource.logical_id,
                resource.span,
                format!("{what}: changes inside its own template are not visible here"),
                "run the guard on the nested stack's templates too, and check the change set"
                    .into(),
            )
        })
    }
    out
}

/// Whether the old side has the nested stack `resource` with the same properties, evaluated
/// over each side's inputs.
fn nested_stack_unchanged(
    resource: &crate::template::Resource,
    scope: &Scope<'_>,
    old: Option<Side<'_>>,
) -> bool {
    let Some((old_template, old_scope)) = old else {
        return false;
    };
    let Some(before) = old_template
        .resources
        .iter()
        .find(|r| r.logical_id == resource.logical_id && r.type_ == resource.type_)
    else {
        return false;
    };
    let form = |r: &crate::template::Resource, scope: &Scope<'_>| {
        r.properties.as_ref().map(|p| scope.eval(p))
    };
    let (a, b) = (form(before, old_scope), form(resource, scope));
    a == b
}

/// A `Fn::Transform` key in `Resources`: a finding unless both sides include the same.
fn include(new: Side<'_>, old: Option<Side<'_>>) -> Option<RawFinding> {
    let form = |(t, scope): Side<'_>| {
        t.resources_transform
            .as_ref()
            .map(|node| (scope.eval(node), node.span))
    };
    let now = form(new);
    let before = old.and_then(form);
    let describe = |c: &Canon| {
        let name = c
            .get("Name")
            .and_then(Canon::as_scalar)
            .unwrap_or("a macro");
        match c
            .get("Parameters")
            .and_then(|p| p.get("Location"))
            .and_then(Canon::as_scalar)
        {
            Some(location) => format!("{name} of {location}"),
            None => name.to_string(),
        }
    };
    let (what, span, in_old) = match (&before, &now) {
        (Some((a, _)), Some((b, _))) if a == b => return None,
        (None, None) => return None,
        (Some((a, _)), Some((b, span))) => (
            format!("changes from {} to {}", describe(a), describe(b)),
            *span,
            false,
        ),
        (None, Some((b, span))) => (format!("is {}", describe(b)), *span, false),
        (Some((a, span)), None) => (format!("was {} and is removed", describe(a)), *span, true),
    };
    Some(RawFinding {
        in_old,
        ..raw(
            &rules::TRANSFORM,
            "Fn::Transform",
            span,
            format!("the Fn::Transform in Resources {what}: the resources it adds (or removes) cannot be compared or checked here"),
            "compare the processed templates (the stack's Processed template stage), and check the change set".into(),
        )
    })
}
