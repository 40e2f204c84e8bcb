//! YAML tags: CloudFormation's short forms and YAML's standard `!!` tags.
//!
//! Short forms expand to the long form (a one-key mapping at the tagged value's span):
//!
//! | tag | long form |
//! | --- | --- |
//! | `!Ref X` | `{"Ref": "X"}` |
//! | `!Condition X` | `{"Condition": "X"}` |
//! | `!GetAtt A.B.C` | `{"Fn::GetAtt": ["A", "B.C"]}` (split on the first dot) |
//! | `!GetAtt [A, B]` | `{"Fn::GetAtt": ["A", "B"]}` |
//! | `!Name …` | `{"Fn::Name": …}` for every name in [`FN_TAGS`] |
//!
//! The argument may be a scalar, a sequence or a mapping; a tagged scalar is always a string
//! (`!Ref 5432` refers to `"5432"`), as in CloudFormation's own parser.
//!
//! The non-specific tag `!` (`Value: ! "text"`) is no tag at all: the node is a plain string,
//! list or mapping, and a `!` scalar is a string whatever it spells (`! 5432` is `"5432"`; YAML
//! resolves only untagged plain scalars), see [`is_non_specific`].
//!
//! Standard tags: `!!str` makes a string of any scalar, `!!int`/`!!float` a number (the text
//! must be one), `!!bool` a boolean, `!!null` null; `!!seq` and `!!map` are accepted on a
//! sequence and a mapping. Any other tag is an error, including `!!binary`, `!!timestamp`,
//! `!!omap`, `!!pairs` and `!!set`, which CloudFormation documents as unsupported.

use saphyr_parser::{ScalarStyle, Tag};

use super::scalar;
use super::ParseError;
use crate::value::{Node, Span, Value};

/// Short-form tags that expand to `Fn::<Name>`.
pub const FN_TAGS: &[&str] = &[
    "Sub",
    "Join",
    "Select",
    "Split",
    "FindInMap",
    "Base64",
    "Cidr",
    "GetAZs",
    "ImportValue",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
    "Transform",
    "ToJsonString",
    "Length",
    "ForEach",
    // Rule functions (the `Rules` section).
    "Contains",
    "EachMemberEquals",
    "EachMemberIn",
    "RefAll",
    "ValueOf",
    "ValueOfAll",
];

const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// Whether `tag` is YAML's non-specific tag `!`, which only says "not resolved": a scalar so
/// tagged is a string, a collection is untagged.
pub(super) fn is_non_specific(tag: &Tag) -> bool {
    tag.handle.is_empty() && tag.suffix == "!"
}

/// What a tag means to us.
enum Kind {
    /// `!Ref`, `!Condition`, `!Sub`…: the long-form key.
    Cfn(String),
    /// `!GetAtt`.
    GetAtt,
    /// A standard tag, by its suffix (`str`, `int`…).
    Std(String),
    /// Anything else, by its display name.
    Unknown(String),
}

fn classify(tag: &Tag) -> Kind {
    let local = if tag.handle == "!" {
        Some(tag.suffix.as_str())
    } else if tag.handle.is_empty() {
        tag.suffix.strip_prefix('!')
    } else {
        None
    };
    if let Some(name) = local {
        return match name {
            "Ref" | "Condition" => Kind::Cfn(name.to_string()),
            "GetAtt" => Kind::GetAtt,
            _ if FN_TAGS.contains(&name) => Kind::Cfn(format!("Fn::{name}")),
            _ => Kind::Unknown(format!("!{name}")),
        };
    }
    let full = format!("{}{}", tag.handle, tag.suffix);
    match full.strip_prefix(YAML_TAG_PREFIX) {
        Some(std) => Kind::Std(std.to_string()),
        None => Kind::Unknown(format!("!<{full}>")),
    }
}

/// A one-key mapping `{name: arg}` at `span`.
fn wrap(name: String, arg: Node, span: Span) -> Node {
    Node::new(Value::Map(vec![(name, arg)]), span)
}

fn unknown(name: &str, span: Span) -> ParseError {
    let message = match name {
        "!!binary" | "!!timestamp" | "!!omap" | "!!pairs" | "!!set" => {
            format!("unknown tag {name}: CloudFormation does not support it")
        }
        _ => format!("unknown tag {name} (not a CloudFormation intrinsic function or YAML type)"),
    };
    ParseError::at(span, message)
}

/// The node for a tagged scalar.
pub(super) fn tagged_scalar(
    tag: &Tag,
    text: String,
    style: ScalarStyle,
    span: Span,
) -> Result<Node, ParseError> {
    let string = |s: String, at: Span| Node::new(Value::String(s), at);
    match classify(tag) {
        Kind::Cfn(name) => Ok(wrap(name, string(text, span), span)),
        Kind::GetAtt => {
            let parts = match text.split_once('.') {
                Some((resource, attribute)) => {
                    let mut attr_span = span;
                    if style == ScalarStyle::Plain {
                        let offset = u32::try_from(resource.chars().count() + 1).unwrap_or(0);
                        attr_span.column = attr_span.column.saturating_add(offset);
                    }
                    vec![
                        string(resource.to_string(), span),
                        string(attribute.to_string(), attr_span),
                    ]
                }
                None => vec![string(text, span)],
            };
            Ok(wrap(
                "Fn::GetAtt".into(),
                Node::new(Value::Seq(parts), span),
                span,
            ))
        }
        Kind::Std(std) => {
            let value = match std.as_str() {
                "str" => Value::String(text),
                "int" if scalar::is_integer(&text) => Value::Number(text),
                "float" if scalar::is_number(&text) => Value::Number(text),
                "bool" => match scalar::parse_bool(&text) {
                    Some(b) => Value::Bool(b),
                    None => return Err(ParseError::at(span, format!("`{text}` is not a !!bool"))),
                },
                "null" if scalar::is_null(&text) => Value::Null,
                "int" | "float" | "null" => {
                    return Err(ParseError::at(span, format!("`{text}` is not a !!{std}")))
                }
                "seq" | "map" => {
                    return Err(ParseError::at(
                        span,
                        format!("tag !!{std} cannot be applied to a scalar"),
                    ))
                }
                _ => return Err(unknown(&format!("!!{std}"), span)),
            };
            Ok(Node::new(value, span))
        }
        Kind::Unknown(name) => Err(unknown(&name, span)),
    }
}

/// The node for a tagged sequence or mapping (`node` is the collection itself).
pub(super) fn tagged_collection(tag: &Tag, node: Node) -> Result<Node, ParseError> {
    let span = node.span;
    match classify(tag) {
        Kind::Cfn(name) => Ok(wrap(name, node, span)),
        Kind::GetAtt => Ok(wrap("Fn::GetAtt".into(), node, span)),
        Kind::Std(std) => match (std.as_str(), &node.value) {
            ("seq", Value::Seq(_)) | ("map", Value::Map(_)) => Ok(node),
            ("str" | "int" | "float" | "bool" | "null" | "seq" | "map", _) => Err(ParseError::at(
                span,
                format!("tag !!{std} cannot be applied to {}", node.value.kind()),
            )),
            _ => Err(unknown(&format!("!!{std}"), span)),
        },
        Kind::Unknown(name) => Err(unknown(&name, span)),
    }
}
