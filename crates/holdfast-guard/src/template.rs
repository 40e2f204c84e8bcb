//! The CloudFormation template model on top of the [`Node`] tree.
//!
//! [`load`] parses a JSON or YAML template and reads the sections the guard needs:
//! `Transform`, `Globals` (SAM), `Parameters`, `Conditions`, `Mappings` and `Resources`. Other top-level keys
//! (`AWSTemplateFormatVersion`, `Description`, `Outputs`, `Rules`, `Metadata`…) are ignored.
//!
//! Checked, with the line and key of the fault in the [`TemplateError`]: the root is a
//! mapping; `Resources` is present and a mapping (it may be empty); each resource is a mapping
//! with a string `Type`; `Properties` is a mapping; `Condition` is a string; `DependsOn` is a
//! string or a list of strings; `Parameters` and `Conditions` are mappings, each parameter a
//! mapping with a string `Type`. An optional section or attribute written as `null` (an empty
//! YAML value) counts as absent.
//!
//! `Fn::ForEach::<Name>` loops inside `Resources` are not resources: their keys are listed in
//! [`Template::for_each`], as the guard cannot see what they generate. Nor is a `Fn::Transform`
//! key in `Resources` (an `AWS::Include` of resources kept elsewhere): it is kept as
//! [`Template::resources_transform`].

use crate::parse::{parse, ParseError};
use crate::value::{Node, Span, Value};
use holdfast_core::exit::{Classify, Outcome};

/// A parsed CloudFormation template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// `Transform`: a string or a list (e.g. `AWS::Serverless-2016-10-31`).
    pub transform: Option<Node>,
    /// `Globals` (SAM): properties merged into the SAM resources of each type.
    pub globals: Option<Node>,
    pub parameters: Vec<Parameter>,
    /// `Conditions`, name → condition expression, in source order.
    pub conditions: Vec<(String, Node)>,
    pub mappings: Option<Node>,
    /// Resources in source order (`Fn::ForEach` loops excluded).
    pub resources: Vec<Resource>,
    /// `Fn::ForEach::<Name>` keys found in `Resources`, with where their body starts, and the body.
    pub for_each: Vec<(String, Span, Node)>,
    /// A `Fn::Transform` key in `Resources` (its value: the macro's name and parameters).
    pub resources_transform: Option<Node>,
    /// Logical IDs of the `AWS::CloudFormation::Stack` resources (nested stacks).
    pub nested_stacks: Vec<String>,
}

/// One entry of `Parameters`.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub type_: String,
    pub default: Option<Node>,
    pub allowed_values: Option<Node>,
    /// `NoEcho: true` (or `"true"`, any case).
    pub no_echo: bool,
    /// Where the parameter's body starts.
    pub span: Span,
}

/// One entry of `Resources`.
#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub logical_id: String,
    pub type_: String,
    pub properties: Option<Node>,
    /// Kept as a node: it may be a string, `!If`, `!Ref`…
    pub deletion_policy: Option<Node>,
    pub update_replace_policy: Option<Node>,
    pub condition: Option<String>,
    pub depends_on: Vec<String>,
    pub metadata: Option<Node>,
    /// Where the resource's body starts (its first key, usually `Type`, or its `{`).
    pub span: Span,
    /// A `Fn::Transform` in the resource's body (beside `Type`): a macro that adds to it.
    pub transform: Option<Node>,
    /// The SAM type this resource was written as, when [`crate::sam`] replaced it by what the
    /// transform generates (`AWS::Serverless::SimpleTable` for an `AWS::DynamoDB::Table`).
    pub written_type: Option<String>,
}

/// Why a template is not a usable CloudFormation template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// Not valid JSON/YAML (or a duplicate key, unknown tag…).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Valid JSON/YAML that is not a valid template.
    #[error("{span}: {message}")]
    Invalid {
        span: Span,
        /// Dotted path of the key at fault (`Resources.Table.Type`); empty for the root.
        key: String,
        message: String,
    },
}

impl TemplateError {
    /// Where the fault is.
    #[must_use]
    pub fn span(&self) -> Span {
        match self {
            TemplateError::Parse(e) => Span::new(e.line, e.column),
            TemplateError::Invalid { span, .. } => *span,
        }
    }

    fn invalid(span: Span, key: impl Into<String>, message: impl Into<String>) -> TemplateError {
        TemplateError::Invalid {
            span,
            key: key.into(),
            message: message.into(),
        }
    }
}

impl Classify for TemplateError {
    /// A text that is not a usable template is bad input, wherever it was read from.
    fn outcome(&self) -> Outcome {
        match self {
            TemplateError::Parse(e) => e.outcome(),
            TemplateError::Invalid { .. } => Outcome::Usage,
        }
    }
}

type Result<T> = std::result::Result<T, TemplateError>;

/// Parse `text` (JSON or YAML) and read it as a template.
///
/// # Errors
/// [`TemplateError::Parse`] when the text does not parse, [`TemplateError::Invalid`] when it is
/// not a valid template.
pub fn load(text: &str) -> Result<Template> {
    Template::from_node(&parse(text)?)
}

/// The value under `key`, `null` counting as absent.
fn present<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    node.get(key).filter(|n| !n.is_null())
}

/// The entries of an optional mapping section, `null`/absent being empty.
fn section<'a>(root: &'a Node, key: &str) -> Result<&'a [(String, Node)]> {
    match present(root, key) {
        None => Ok(&[]),
        Some(node) => node
            .as_map()
            .ok_or_else(|| not_mapping(node, key, &format!("`{key}`"))),
    }
}

fn not_mapping(node: &Node, key: &str, what: &str) -> TemplateError {
    TemplateError::invalid(
        node.span,
        key,
        format!("{what} must be a mapping, found {}", node.value.kind()),
    )
}

/// A required string attribute of `body` (`path` names `body`).
fn required_string(body: &Node, path: &str, attr: &str) -> Result<String> {
    let key = format!("{path}.{attr}");
    match body.get(attr) {
        None => Err(TemplateError::invalid(
            body.span,
            key,
            format!("{path}: `{attr}` is missing"),
        )),
        Some(node) => node.as_str().map(str::to_string).ok_or_else(|| {
            TemplateError::invalid(
                node.span,
                key,
                format!(
                    "{path}: `{attr}` must be a string, found {}",
                    node.value.kind()
                ),
            )
        }),
    }
}

impl Template {
    /// Read a template from a parsed tree.
    ///
    /// # Errors
    /// [`TemplateError::Invalid`] naming the line and key at fault (see the module docs).
    pub fn from_node(root: &Node) -> Result<Template> {
        if root.as_map().is_none() {
            return Err(TemplateError::invalid(
                root.span,
                "",
                format!("a template must be a mapping, found {}", root.value.kind()),
            ));
        }
        let mut template = Template {
            transform: present(root, "Transform").cloned(),
            globals: present(root, "Globals").cloned(),
            parameters: Vec::new(),
            conditions: section(root, "Conditions")?.to_vec(),
            mappings: present(root, "Mappings").cloned(),
            resources: Vec::new(),
            for_each: Vec::new(),
            resources_transform: None,
            nested_stacks: Vec::new(),
        };
        for (name, body) in section(root, "Parameters")? {
            template.parameters.push(read_parameter(name, body)?);
        }
        let Some(resources) = root.get("Resources") else {
            return Err(TemplateError::invalid(
                root.span,
                "Resources",
                "`Resources` is missing: a CloudFormation template needs at least one resource",
            ));
        };
        let entries = resources
            .as_map()
            .ok_or_else(|| not_mapping(resources, "Resources", "`Resources`"))?;
        for (logical_id, body) in entries {
            if logical_id.starts_with("Fn::ForEach::") {
                template
                    .for_each
                    .push((logical_id.clone(), body.span, body.clone()));
                continue;
            }
            if logical_id == "Fn::Transform" {
                template.resources_transform = Some(body.clone());
                continue;
            }
            let resource = read_resource(logical_id, body)?;
            if resource.type_ == "AWS::CloudFormation::Stack" {
                template.nested_stacks.push(logical_id.clone());
            }
            template.resources.push(resource);
        }
        Ok(template)
    }

    /// The resource with this logical ID.
    #[must_use]
    pub fn resource(&self, logical_id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    /// The parameter with this name.
    #[must_use]
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Equality ignoring spans (see [`Node::same_as`]).
    #[must_use]
    pub fn same_as(&self, other: &Template) -> bool {
        same_opt(self.transform.as_ref(), other.transform.as_ref())
            && same_opt(self.globals.as_ref(), other.globals.as_ref())
            && same_opt(self.mappings.as_ref(), other.mappings.as_ref())
            && self.parameters.len() == other.parameters.len()
            && self
                .parameters
                .iter()
                .zip(&other.parameters)
                .all(|(a, b)| a.same_as(b))
            && self.conditions.len() == other.conditions.len()
            && self
                .conditions
                .iter()
                .zip(&other.conditions)
                .all(|((n, a), (m, b))| n == m && a.same_as(b))
            && self.resources.len() == other.resources.len()
            && self
                .resources
                .iter()
                .zip(&other.resources)
                .all(|(a, b)| a.same_as(b))
            && self.for_each.len() == other.for_each.len()
            && self
                .for_each
                .iter()
                .zip(&other.for_each)
                .all(|(a, b)| a.0 == b.0 && a.2.same_as(&b.2))
            && same_opt(
                self.resources_transform.as_ref(),
                other.resources_transform.as_ref(),
            )
            && self.nested_stacks == other.nested_stacks
    }
}

impl Parameter {
    /// Equality ignoring spans.
    #[must_use]
    pub fn same_as(&self, other: &Parameter) -> bool {
        self.name == other.name
            && self.type_ == other.type_
            && same_opt(self.default.as_ref(), other.default.as_ref())
            && same_opt(self.allowed_values.as_ref(), other.allowed_values.as_ref())
            && self.no_echo == other.no_echo
    }
}

impl Resource {
    /// Equality ignoring spans.
    #[must_use]
    pub fn same_as(&self, other: &Resource) -> bool {
        self.logical_id == other.logical_id
            && self.type_ == other.type_
            && same_opt(self.properties.as_ref(), other.properties.as_ref())
            && same_opt(
                self.deletion_policy.as_ref(),
                other.deletion_policy.as_ref(),
            )
            && same_opt(
                self.update_replace_policy.as_ref(),
                other.update_replace_policy.as_ref(),
            )
            && self.condition == other.condition
            && self.depends_on == other.depends_on
            && same_opt(self.metadata.as_ref(), other.metadata.as_ref())
            && same_opt(self.transform.as_ref(), other.transform.as_ref())
            && self.written_type == other.written_type
    }
}

fn same_opt(a: Option<&Node>, b: Option<&Node>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.same_as(b),
        (None, None) => true,
        _ => false,
    }
}

fn read_parameter(name: &str, body: &Node) -> Result<Parameter> {
    let path = format!("Parameters.{name}");
    if body.as_map().is_none() {
        return Err(not_mapping(body, &path, &format!("parameter `{name}`")));
    }
    Ok(Parameter {
        name: name.to_string(),
        type_: required_string(body, &path, "Type")?,
        default: present(body, "Default").cloned(),
        allowed_values: present(body, "AllowedValues").cloned(),
        no_echo: body
            .get("NoEcho")
            .and_then(Node::scalar_text)
            .is_some_and(|t| t.eq_ignore_ascii_case("true")),
        span: body.span,
    })
}

fn read_resource(logical_id: &str, body: &Node) -> Result<Resource> {
    let path = format!("Resources.{logical_id}");
    if body.as_map().is_none() {
        return Err(not_mapping(
            body,
            &path,
            &format!("resource `{logical_id}`"),
        ));
    }
    let type_ = required_string(body, &path, "Type")?;
    let properties = match present(body, "Properties") {
        Some(node) if node.as_map().is_none() => {
            return Err(not_mapping(
                node,
                &format!("{path}.Properties"),
                &format!("{path}: `Properties`"),
            ))
        }
        other => other.cloned(),
    };
    let condition = match present(body, "Condition") {
        None => None,
        Some(node) => Some(node.as_str().map(str::to_string).ok_or_else(|| {
            TemplateError::invalid(
                node.span,
                format!("{path}.Condition"),
                format!(
                    "{path}: `Condition` must be a string, found {}",
                    node.value.kind()
                ),
            )
        })?),
    };
    Ok(Resource {
        logical_id: logical_id.to_string(),
        type_,
        properties,
        deletion_policy: present(body, "DeletionPolicy").cloned(),
        update_replace_policy: present(body, "UpdateReplacePolicy").cloned(),
        condition,
        depends_on: read_depends_on(body, &path)?,
        metadata: present(body, "Metadata").cloned(),
        span: body.span,
        transform: present(body, "Fn::Transform").cloned(),
        written_type: None,
    })
}

fn read_depends_on(body: &Node, path: &str) -> Result<Vec<String>> {
    let Some(node) = present(body, "DependsOn") else {
        return Ok(Vec::new());
    };
    let invalid = |at: &Node| {
        TemplateError::invalid(
            at.span,
            format!("{path}.DependsOn"),
            format!(
                "{path}: `DependsOn` must be a logical ID or a list of them, found {}",
                at.value.kind()
            ),
        )
    };
    match &node.value {
        Value::String(id) => Ok(vec![id.clone()]),
        Value::Seq(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(item))
            })
            .collect(),
        _ => Err(invalid(node)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_that_is_not_a_usable_template_is_bad_input() {
        for text in [
            "Resources: {a: [",
            "Resources: [1]\n",
            "Resources:\n  T: {}\n",
        ] {
            let error = load(text).expect_err("refused");
            assert_eq!(error.outcome().code(), 2, "{text:?}: {error}");
        }
    }
}
