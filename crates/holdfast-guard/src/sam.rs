//! The SAM transform (`AWS::Serverless-2016-10-31`), as far as judging a deploy needs it.
//!
//! SAM's output is documented and stable, so a template whose only transform is SAM is judged
//! by what the transform generates ([`expand`]):
//!
//! - `Globals.<Kind>` is merged into every `AWS::Serverless::<Kind>` resource as SAM merges it:
//!   maps key by key, lists global items first, any other value (an intrinsic function too) the
//!   resource's own.
//! - `AWS::Serverless::SimpleTable` becomes the `AWS::DynamoDB::Table` SAM generates under the
//!   same logical ID: `PrimaryKey` (default `id`, `String`) → `AttributeDefinitions` and a HASH
//!   `KeySchema`; `ProvisionedThroughput`, else `BillingMode: PAY_PER_REQUEST`; `TableName`,
//!   `SSESpecification` and `PointInTimeRecoverySpecification` passed through; `Tags` as a list.
//! - `AWS::Serverless::Application` becomes the nested stack it is (`AWS::CloudFormation::Stack`,
//!   `TemplateURL` from `Location`).
//! - The other SAM types SAM documents ([`is_stateless`]) generate only stateless resources
//!   (functions, roles, APIs, versions…): they stay as written, and no change of theirs loses
//!   data.
//!
//! `DeletionPolicy`, `UpdateReplacePolicy` and `Condition` stay on the resource: SAM copies them
//! to every resource it generates. Native resources are judged as without the transform. A
//! transform list with anything beside SAM is not expanded ([`transforms`]).

use crate::template::{Resource, Template};
use crate::value::{Node, Span, Value};

/// The SAM transform's name.
pub const SAM: &str = "AWS::Serverless-2016-10-31";

/// SAM types whose generated resources hold no data.
const STATELESS: &[&str] = &[
    "AWS::Serverless::Function",
    "AWS::Serverless::Api",
    "AWS::Serverless::HttpApi",
    "AWS::Serverless::StateMachine",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Connector",
    "AWS::Serverless::GraphQLApi",
];

/// Whether `resource_type` is a SAM type that generates only stateless resources.
#[must_use]
pub fn is_stateless(resource_type: &str) -> bool {
    STATELESS.contains(&resource_type)
}

/// The transforms a template declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transforms {
    None,
    /// SAM, and nothing else.
    Sam,
    /// Anything else (a macro, `AWS::LanguageExtensions`, SAM with others): their names.
    Other(String),
}

/// What `template`'s `Transform` declares: a name, or a list of names or `{Name: …}` macros.
#[must_use]
pub fn transforms(template: &Template) -> Transforms {
    let Some(node) = &template.transform else {
        return Transforms::None;
    };
    let name = |n: &Node| {
        n.as_str()
            .or_else(|| n.get("Name").and_then(Node::as_str))
            .map(str::to_string)
    };
    let names: Vec<Option<String>> = match &node.value {
        Value::Seq(items) => items.iter().map(name).collect(),
        _ => vec![name(node)],
    };
    if !names.is_empty() && names.iter().all(|n| n.as_deref() == Some(SAM)) {
        return Transforms::Sam;
    }
    Transforms::Other(
        names
            .iter()
            .map(|n| n.as_deref().unwrap_or("a transform"))
            .collect::<Vec<_>>()
            .join(", "),
    )
}

/// The template SAM turns `template` into, for what the guard judges (see the module docs).
/// `None` when the template's transforms are not SAM alone.
#[must_use]
pub fn expand(template: &Template) -> Option<Template> {
    if transforms(template) != Transforms::Sam {
        return None;
    }
    let mut out = template.clone();
    out.transform = None;
    out.globals = None;
    for resource in &mut out.resources {
        if let Some(kind) = resource.type_.strip_prefix("AWS::Serverless::") {
            if let Some(global) = template.globals.as_ref().and_then(|g| g.get(kind)) {
                let span = resource
                    .properties
                    .as_ref()
                    .map_or(resource.span, |p| p.span);
                let local = resource
                    .properties
                    .take()
                    .unwrap_or_else(|| Node::new(Value::Map(Vec::new()), span));
                resource.properties = Some(merge(global, local));
            }
        }
        match resource.type_.as_str() {
            "AWS::Serverless::SimpleTable" => generate(resource, "AWS::DynamoDB::Table", table),
            "AWS::Serverless::Application" => {
                generate(resource, "AWS::CloudFormation::Stack", application);
            }
            _ => {}
        }
    }
    out.nested_stacks = out
        .resources
        .iter()
        .filter(|r| r.type_ == "AWS::CloudFormation::Stack")
        .map(|r| r.logical_id.clone())
        .collect();
    Some(out)
}

/// Replaces a SAM resource by the one it generates.
fn generate(resource: &mut Resource, type_: &str, properties: fn(Option<&Node>, Span) -> Node) {
    resource.written_type = Some(std::mem::replace(&mut resource.type_, type_.to_string()));
    resource.properties = Some(properties(resource.properties.as_ref(), resource.span));
}

/// SAM's Globals merge: maps key by key, lists concatenated (global first), else local.
fn merge(global: &Node, local: Node) -> Node {
    match (&global.value, local.value) {
        (Value::Map(g), Value::Map(mut l)) if global.intrinsic().is_none() && !is_intrinsic(&l) => {
            let mut entries: Vec<(String, Node)> = Vec::new();
            for (key, g_value) in g {
                match l.iter().position(|(k, _)| k == key) {
                    Some(i) => {
                        let (_, l_value) = l.remove(i);
                        entries.push((key.clone(), merge(g_value, l_value)));
                    }
                    None => entries.push((key.clone(), g_value.clone())),
                }
            }
            entries.extend(l);
            Node::new(Value::Map(entries), local.span)
        }
        (Value::Seq(g), Value::Seq(l)) => {
            Node::new(Value::Seq(g.iter().cloned().chain(l).collect()), local.span)
        }
        (_, value) => Node::new(value, local.span),
    }
}

fn is_intrinsic(entries: &[(String, Node)]) -> bool {
    matches!(entries, [(k, _)] if crate::value::is_intrinsic_name(k))
}

fn text(s: &str, span: Span) -> Node {
    Node::new(Value::String(s.to_string()), span)
}

fn map(entries: Vec<(&str, Node)>, span: Span) -> Node {
    Node::new(
        Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        ),
        span,
    )
}

/// The `AWS::DynamoDB::Table` properties SAM generates from a SimpleTable's.
fn table(props: Option<&Node>, span: Span) -> Node {
    let get = |key: &str| props.and_then(|p| p.get(key)).filter(|n| !n.is_null());
    let key = get("PrimaryKey");
    let name = key
        .and_then(|k| k.get("Name"))
        .cloned()
        .unwrap_or_else(|| text("id", span));
    let type_ = match key.and_then(|k| k.get("Type")) {
        None => text("S", span),
        Some(t) => match t.as_str() {
            Some("String") => text("S", t.span),
            Some("Number") => text("N", t.span),
            Some("Binary") => text("B", t.span),
            _ => t.clone(),
        },
    };
    let mut entries = vec![
        (
            "AttributeDefinitions",
            Node::new(
                Value::Seq(vec![map(
                    vec![("AttributeName", name.clone()), ("AttributeType", type_)],
                    span,
                )]),
                span,
            ),
        ),
        (
            "KeySchema",
            Node::new(
                Value::Seq(vec![map(
                    vec![("AttributeName", name), ("KeyType", text("HASH", span))],
                    span,
                )]),
                span,
            ),
        ),
    ];
    match get("ProvisionedThroughput") {
        Some(pt) => entries.push(("ProvisionedThroughput", pt.clone())),
        None => entries.push(("BillingMode", text("PAY_PER_REQUEST", span))),
    }
    for pass in [
        "TableName",
        "SSESpecification",
        "PointInTimeRecoverySpecification",
    ] {
        if let Some(value) = get(pass) {
            entries.push((pass, value.clone()));
        }
    }
    if let Some(tags) = get("Tags") {
        let list = match tags.as_map() {
            Some(pairs) => Node::new(
                Value::Seq(
                    pairs
                        .iter()
                        .map(|(k, v)| {
                            map(vec![("Key", text(k, v.span)), ("Value", v.clone())], v.span)
                        })
                        .collect(),
                ),
                tags.span,
            ),
            None => tags.clone(),
        };
        entries.push(("Tags", list));
    }
    map(entries, props.map_or(span, |p| p.span))
}

/// The `AWS::CloudFormation::Stack` properties of a SAM application.
fn application(props: Option<&Node>, span: Span) -> Node {
    let mut entries: Vec<(String, Node)> = Vec::new();
    for (key, value) in props.and_then(Node::as_map).unwrap_or_default() {
        let key = if key == "Location" {
            "TemplateURL"
        } else {
            key
        };
        entries.push((key.to_string(), value.clone()));
    }
    Node::new(Value::Map(entries), props.map_or(span, |p| p.span))
}
