//! The Lambda functions of the templates the guard's loaders read, and each one's environment.
//!
//! Functions are `AWS::Lambda::Function` and `AWS::Serverless::Function` resources (with SAM
//! `Globals` merged in by `holdfast_guard::sam`); a `cdk.out`'s nested stages arrive as stacks
//! of their own. Each variable's value is kept as written (for the literal checks) and as
//! CloudFormation would resolve it from the template's parameters and conditions (for the
//! reference checks).

use holdfast_guard::eval::{Canon, Scope};
use holdfast_guard::inputs::StackTemplate;
use holdfast_guard::template::Template;
use holdfast_guard::value::{Node, Value};
use std::collections::{BTreeSet, HashMap};

/// One function and its environment.
#[derive(Debug, Clone)]
pub struct Function {
    /// The stack it belongs to.
    pub stack: String,
    /// The file it was read from.
    pub file: String,
    pub logical_id: String,
    /// `FunctionName`, when the template sets it as text; a deployed function's name.
    pub name: Option<String>,
    /// The line of the resource.
    pub line: u32,
    pub variables: Vec<Variable>,
    /// The secrets and parameters its role's inline policies grant reading
    /// (`secretsmanager:GetSecretValue`, `ssm:GetParameter*`): each resource as text (`*`, an
    /// ARN, or an expression's form).
    pub secret_grants: Vec<String>,
}

/// One environment variable.
#[derive(Debug, Clone)]
pub struct Variable {
    pub key: String,
    pub value: VarValue,
    /// The line of its value (0 for a deployed function).
    pub line: u32,
    /// The strings written in the value (a literal, a `Fn::Sub` template's text, a `Fn::Join`'s
    /// parts), with whether each is a `Fn::Sub` template: what the unresolved-variable rule reads.
    pub written: Vec<(String, bool)>,
    /// A computed value's text (`Fn::Sub`, `Fn::Join`) with what the parameters decide filled
    /// in (the rest stays `${…}`): what the cross-stage rule reads of it.
    pub sub_text: Option<String>,
}

/// A variable's value as CloudFormation would set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarValue {
    /// Known text.
    Literal(String),
    /// Decided at deploy time from these resources (`Ref`, `Fn::GetAtt`, `Fn::Sub`…), or by an
    /// import; `imports` is true for `Fn::ImportValue`.
    Reference {
        resources: BTreeSet<String>,
        /// The types of those resources the template defines (`AWS::SecretsManager::Secret`).
        types: BTreeSet<String>,
        imports: bool,
    },
    /// The templates and parameters do not decide it.
    Unknown,
}

/// The function resource types.
pub const FUNCTION_TYPES: [&str; 2] = ["AWS::Lambda::Function", "AWS::Serverless::Function"];

/// Every function of `stacks`, with the parameter values `parameters` (name → value) over the
/// templates' defaults.
pub fn functions(stacks: &[StackTemplate], parameters: &HashMap<String, String>) -> Vec<Function> {
    let mut out = Vec::new();
    for stack in stacks {
        let expanded = holdfast_guard::sam::expand(&stack.template);
        let template = expanded.as_ref().unwrap_or(&stack.template);
        let scope = if stack.deployed {
            Scope::deployed(template, parameters)
        } else {
            Scope::new(template, parameters)
        };
        for resource in &template.resources {
            if !FUNCTION_TYPES.contains(&resource.type_.as_str()) {
                continue;
            }
            if resource
                .condition
                .as_deref()
                .is_some_and(|c| scope.condition(c) == Some(false))
            {
                continue;
            }
            let props = resource.properties.as_ref();
            let name = props
                .and_then(|p| p.get("FunctionName"))
                .and_then(|n| scope.eval(n).as_scalar().map(str::to_string));
            let variables = props
                .and_then(|p| p.get("Environment"))
                .and_then(|e| e.get("Variables"))
                .and_then(Node::as_map)
                .unwrap_or_default()
                .iter()
                .filter_map(|(key, node)| variable(template, &scope, key, node))
                .collect();
            out.push(Function {
                stack: stack.name.clone(),
                file: stack.file.clone(),
                logical_id: resource.logical_id.clone(),
                name,
                line: resource.span.line,
                variables,
                secret_grants: secret_grants(template, &scope, &resource.logical_id, props),
            });
        }
    }
    out
}

fn variable(template: &Template, scope: &Scope<'_>, key: &str, node: &Node) -> Option<Variable> {
    let canon = scope.eval(node);
    let value = match &canon {
        Canon::NoValue => return None,
        Canon::Null => VarValue::Literal(String::new()),
        Canon::Scalar(s) => VarValue::Literal(s.clone()),
        Canon::Expr(..) => {
            let mut resources = BTreeSet::new();
            canon.resource_refs(&mut resources);
            let types = resources
                .iter()
                .filter_map(|id| template.resource(id).map(|r| r.type_.clone()))
                .collect();
            VarValue::Reference {
                resources,
                types,
                imports: mentions(&canon, "Fn::ImportValue"),
            }
        }
        Canon::List(_) | Canon::Map(_) => VarValue::Literal(String::new()),
        Canon::Unknown(_) => VarValue::Unknown,
    };
    let mut written = Vec::new();
    strings_written(node, false, &mut written);
    Some(Variable {
        key: key.to_string(),
        value,
        line: node.span.line,
        written,
        sub_text: computed_text(&canon),
    })
}

/// A computed value's text as far as the templates decide it (`Fn::Sub`, `Fn::Join` of
/// known parts); what they do not decide is `${…}`. `None` for a value with no text of its
/// own (a bare `Ref`).
fn computed_text(canon: &Canon) -> Option<String> {
    match canon {
        Canon::Expr(kind, inner) if kind == "Fn::Sub" => match inner.as_ref() {
            Canon::Scalar(text) => Some(text.clone()),
            Canon::List(parts) => parts.first().and_then(Canon::as_scalar).map(str::to_string),
            _ => None,
        },
        Canon::Expr(kind, inner) if kind == "Fn::Join" => match inner.as_ref() {
            Canon::List(args) => match (args.first(), args.get(1)) {
                (Some(Canon::Scalar(delimiter)), Some(Canon::List(parts))) => Some(
                    parts
                        .iter()
                        .map(|p| match p {
                            Canon::Scalar(s) => s.clone(),
                            other => computed_text(other).unwrap_or_else(|| "${…}".into()),
                        })
                        .collect::<Vec<_>>()
                        .join(delimiter),
                ),
                _ => None,
            },
            _ => None,
        },
        Canon::Unknown(u) => computed_text(&u.form),
        _ => None,
    }
}

fn mentions(canon: &Canon, intrinsic: &str) -> bool {
    match canon {
        Canon::Expr(kind, inner) => kind == intrinsic || mentions(inner, intrinsic),
        Canon::List(items) => items.iter().any(|i| mentions(i, intrinsic)),
        Canon::Map(m) => m.values().any(|v| mentions(v, intrinsic)),
        Canon::Unknown(u) => mentions(&u.form, intrinsic),
        _ => false,
    }
}

/// The strings written in `node`; those of a `Fn::Sub` template marked.
fn strings_written(node: &Node, sub: bool, out: &mut Vec<(String, bool)>) {
    match &node.value {
        Value::String(s) => out.push((s.clone(), sub)),
        Value::Seq(items) => items.iter().for_each(|i| strings_written(i, sub, out)),
        Value::Map(entries) => {
            if let Some(("Fn::Sub", arg)) = node.intrinsic() {
                match &arg.value {
                    Value::String(s) => out.push((s.clone(), true)),
                    Value::Seq(items) => {
                        if let Some(first) = items.first() {
                            strings_written(first, true, out);
                        }
                        for rest in items.iter().skip(1) {
                            strings_written(rest, false, out);
                        }
                    }
                    _ => strings_written(arg, false, out),
                }
                return;
            }
            entries
                .iter()
                .for_each(|(_, v)| strings_written(v, sub, out));
        }
        _ => {}
    }
}

/// What the function's role grants reading of secrets and parameters: the inline policies of
/// an `AWS::IAM::Role` its `Role` refers to, `AWS::IAM::Policy` resources attached to that
/// role, and a SAM function's `Policies` statements.
fn secret_grants(
    template: &Template,
    scope: &Scope<'_>,
    _logical_id: &str,
    props: Option<&Node>,
) -> Vec<String> {
    let mut statements: Vec<&Node> = Vec::new();
    let role = props
        .and_then(|p| p.get("Role"))
        .map(|r| {
            let mut refs = BTreeSet::new();
            scope.eval(r).resource_refs(&mut refs);
            refs
        })
        .unwrap_or_default();
    for resource in &template.resources {
        let Some(p) = resource.properties.as_ref() else {
            continue;
        };
        match resource.type_.as_str() {
            "AWS::IAM::Role" if role.contains(&resource.logical_id) => {
                for policy in p.get("Policies").and_then(Node::as_seq).unwrap_or_default() {
                    collect_statements(policy.get("PolicyDocument"), &mut statements);
                }
            }
            "AWS::IAM::Policy" => {
                let attached = p
                    .get("Roles")
                    .map(|roles| {
                        let mut refs = BTreeSet::new();
                        scope.eval(roles).resource_refs(&mut refs);
                        refs
                    })
                    .unwrap_or_default();
                if attached.iter().any(|r| role.contains(r)) {
                    collect_statements(p.get("PolicyDocument"), &mut statements);
                }
            }
            _ => {}
        }
    }
    if let Some(policies) = props.and_then(|p| p.get("Policies")).and_then(Node::as_seq) {
        for policy in policies {
            collect_statements(Some(policy), &mut statements);
        }
    }
    let mut out = Vec::new();
    for statement in statements {
        if statement.get("Effect").and_then(Node::as_str) == Some("Deny") {
            continue;
        }
        let actions = texts(statement.get("Action"), scope);
        let reads = actions.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            a == "*"
                || a == "secretsmanager:*"
                || a == "secretsmanager:getsecretvalue"
                || a == "ssm:*"
                || a.starts_with("ssm:getparameter")
        });
        if reads {
            out.extend(texts(statement.get("Resource"), scope));
        }
    }
    out
}

fn collect_statements<'a>(document: Option<&'a Node>, out: &mut Vec<&'a Node>) {
    let Some(document) = document else { return };
    match document.get("Statement") {
        Some(s) if s.as_seq().is_some() => out.extend(s.as_seq().unwrap_or_default()),
        Some(s) => out.push(s),
        None => {}
    }
}

/// A string or list of strings, each evaluated: its text, or its expression's form.
fn texts(node: Option<&Node>, scope: &Scope<'_>) -> Vec<String> {
    let Some(node) = node else {
        return Vec::new();
    };
    let items: Vec<&Node> = match node.as_seq() {
        Some(items) => items.iter().collect(),
        None => vec![node],
    };
    items
        .into_iter()
        .map(|n| match scope.eval(n) {
            Canon::Scalar(s) => s,
            other => computed_text(&other).unwrap_or_else(|| "${…}".into()),
        })
        .collect()
}
