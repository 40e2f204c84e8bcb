//! Evaluating template values the way CloudFormation would, as far as the templates allow.
//!
//! Every property value becomes a [`Canon`]: scalars as the strings CloudFormation sees
//! (`5432` and `"5432"` are the same), parameters replaced by their values (from
//! `--parameters`, else their defaults), conditions and `Fn::If` decided, `Fn::Sub`, `Fn::Join`,
//! `Fn::Select`, `Fn::Split` and `Fn::FindInMap` computed when their inputs are known. What is
//! decided only at deploy time (`Fn::GetAtt`, a `Ref` to a resource, `Fn::ImportValue`, pseudo
//! parameters) stays an expression, compared as written. A parameter without a value makes the
//! value [`Canon::Unknown`], which the diff reports as such rather than guessing.
//!
//! An unknown value keeps its form: what it is made of, evaluated as far as it goes (the
//! expression, with the values of the parameters, conditions and mappings it reads). Two
//! unknowns are equal when their forms are, so a value written the same way over the same
//! inputs is unchanged even though it cannot be resolved. A parameter without a value is the
//! symbol of "the value given at deploy time", the same on both sides of a comparison of files
//! (which take the same `--parameters`); on a deployed stack ([`Scope::deployed`]) it is the
//! symbol of the value that stack was deployed with (masked), which a deploy need not repeat.

use crate::template::Template;
use crate::value::{Node, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// A value as CloudFormation would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Canon {
    Null,
    /// Every scalar, as text.
    Scalar(String),
    List(Vec<Canon>),
    Map(BTreeMap<String, Canon>),
    /// Decided at deploy time; compared by expression. The set names the resources it reads.
    Expr(String, Box<Canon>),
    /// `Ref: AWS::NoValue`: the property is absent.
    NoValue,
    /// Cannot be resolved from the templates and parameters.
    Unknown(Unresolved),
}

/// A value the templates and parameters do not decide.
#[derive(Debug, Clone)]
pub struct Unresolved {
    /// Why, for messages.
    pub why: String,
    /// What it is made of, evaluated as far as it goes: equal forms are equal values.
    pub form: Box<Canon>,
}

impl PartialEq for Unresolved {
    fn eq(&self, other: &Unresolved) -> bool {
        self.form == other.form
    }
}

impl Eq for Unresolved {}

impl Canon {
    /// An unknown value: `why` for messages, `form` for comparisons (see the module docs).
    pub fn unknown(why: impl Into<String>, form: Canon) -> Canon {
        Canon::Unknown(Unresolved {
            why: why.into(),
            form: Box::new(form),
        })
    }

    /// The scalar text, if this is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match self {
            Canon::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// A map entry; any entry of an unknown value is that unknown value.
    pub fn get(&self, key: &str) -> Option<&Canon> {
        match self {
            Canon::Map(m) => m.get(key),
            Canon::Unknown(_) => Some(self),
            _ => None,
        }
    }

    /// Whether any part is unknown.
    pub fn has_unknown(&self) -> Option<&str> {
        match self {
            Canon::Unknown(u) => Some(&u.why),
            Canon::List(items) => items.iter().find_map(Canon::has_unknown),
            Canon::Map(m) => m.values().find_map(Canon::has_unknown),
            Canon::Expr(_, inner) => inner.has_unknown(),
            _ => None,
        }
    }

    /// The logical ids of resources this value reads (`Ref`, `Fn::GetAtt`, `${X}` in `Fn::Sub`).
    pub fn resource_refs(&self, out: &mut BTreeSet<String>) {
        match self {
            Canon::Expr(kind, inner) => {
                match (kind.as_str(), inner.as_ref()) {
                    ("Ref", Canon::Scalar(id)) => {
                        out.insert(id.clone());
                    }
                    ("Fn::GetAtt", Canon::List(parts)) => {
                        if let Some(Canon::Scalar(id)) = parts.first() {
                            out.insert(id.clone());
                        }
                    }
                    ("Fn::Sub", Canon::Scalar(text)) => {
                        for var in sub_variables(text) {
                            let id = var.split('.').next().unwrap_or(var);
                            if !id.starts_with("AWS::") {
                                out.insert(id.to_string());
                            }
                        }
                    }
                    _ => {}
                }
                inner.resource_refs(out);
            }
            Canon::List(items) => items.iter().for_each(|i| i.resource_refs(out)),
            Canon::Map(m) => m.values().for_each(|v| v.resource_refs(out)),
            Canon::Unknown(u) => u.form.resource_refs(out),
            _ => {}
        }
    }
}

/// The `${…}` variables of a `Fn::Sub` string (not `${!Literal}`).
fn sub_variables(text: &str) -> Vec<&str> {
    let mut vars = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        if !name.starts_with('!') {
            vars.push(name.trim());
        }
        rest = &after[end + 1..];
    }
    vars
}

const MAX_DEPTH: usize = 64;

/// Evaluates the values of one template with one set of parameter values.
pub struct Scope<'t> {
    template: &'t Template,
    params: HashMap<String, Canon>,
    conditions: RefCell<HashMap<String, Option<bool>>>,
}

impl<'t> Scope<'t> {
    /// A scope for `template`; `values` override parameter defaults. A parameter without a
    /// value stands for the value given at deploy time.
    pub fn new(template: &'t Template, values: &HashMap<String, String>) -> Scope<'t> {
        Scope::with_origin(template, values, "given at deploy time")
    }

    /// A scope for a deployed stack's template, whose defaults are the deployed values: a
    /// parameter without a value stands for the masked value the stack was deployed with.
    pub fn deployed(template: &'t Template, values: &HashMap<String, String>) -> Scope<'t> {
        Scope::with_origin(template, values, "deployed, masked")
    }

    fn with_origin(
        template: &'t Template,
        values: &HashMap<String, String>,
        origin: &str,
    ) -> Scope<'t> {
        let mut params = HashMap::new();
        for p in &template.parameters {
            let is_list = p.type_.starts_with("List<") || p.type_ == "CommaDelimitedList";
            let text = values
                .get(&p.name)
                .cloned()
                .or_else(|| p.default.as_ref().and_then(|d| d.value.scalar_text()));
            let value = match (text, &p.default) {
                (Some(t), _) if is_list => Canon::List(
                    t.split(',')
                        .map(|s| Canon::Scalar(s.trim().to_string()))
                        .collect(),
                ),
                (Some(t), _) => Canon::Scalar(t),
                (None, Some(d)) if matches!(d.value, Value::Seq(_)) => {
                    // A list default written as a YAML list.
                    Scope::plain(d)
                }
                (None, _) => Canon::unknown(
                    format!(
                        "parameter {} has no value (none is given and it has no default)",
                        p.name
                    ),
                    Canon::Expr(
                        "Parameter".into(),
                        Box::new(Canon::List(vec![
                            Canon::Scalar(p.name.clone()),
                            Canon::Scalar(p.type_.clone()),
                            Canon::Scalar(origin.to_string()),
                        ])),
                    ),
                ),
            };
            params.insert(p.name.clone(), value);
        }
        Scope {
            template,
            params,
            conditions: RefCell::new(HashMap::new()),
        }
    }

    /// Whether `other` evaluates with the same parameter values (or the same unknown ones).
    pub fn same_inputs(&self, other: &Scope<'_>) -> bool {
        self.params == other.params
    }

    /// A node without intrinsics, as plain data.
    fn plain(node: &Node) -> Canon {
        match &node.value {
            Value::Null => Canon::Null,
            Value::Seq(items) => Canon::List(items.iter().map(Scope::plain).collect()),
            Value::Map(entries) => Canon::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Scope::plain(v)))
                    .collect(),
            ),
            other => Canon::Scalar(other.scalar_text().unwrap_or_default()),
        }
    }

    /// The value of a node.
    pub fn eval(&self, node: &Node) -> Canon {
        self.eval_at(node, 0)
    }

    /// Whether the named condition holds; `None` when it cannot be decided.
    pub fn condition(&self, name: &str) -> Option<bool> {
        self.condition_at(name, 0)
    }

    /// What the named condition depends on, when it cannot be decided: its expression with
    /// referenced conditions inlined and values evaluated (decided ones as `true`/`false`). Two
    /// sides with equal forms decide it the same way at deploy time: they read the same pseudo
    /// parameters (`AWS::Region`…, which one stack keeps) and the same unknown values.
    pub fn condition_form(&self, name: &str) -> Canon {
        self.condition_form_at(name, 0)
    }

    fn condition_form_at(&self, name: &str, depth: usize) -> Canon {
        if let Some(known) = self.condition_at(name, depth) {
            return Canon::Scalar(known.to_string());
        }
        match self.template.conditions.iter().find(|(n, _)| n == name) {
            None => Canon::unknown(
                format!("condition {name} is not defined"),
                Canon::Expr("Condition".into(), Box::new(Canon::Scalar(name.into()))),
            ),
            Some((_, node)) if depth > MAX_DEPTH => self.opaque("nested too deeply", node),
            Some((_, node)) => self.condition_expr_form(node, depth + 1),
        }
    }

    fn condition_expr_form(&self, node: &Node, depth: usize) -> Canon {
        match node.intrinsic() {
            Some(("Condition", arg)) => match arg.value.scalar_text() {
                Some(name) => self.condition_form_at(&name, depth + 1),
                None => self.opaque("Condition needs a name", node),
            },
            Some((name @ ("Fn::And" | "Fn::Or" | "Fn::Not"), arg)) if depth <= MAX_DEPTH => {
                let items = match &arg.value {
                    Value::Seq(items) => items.iter().collect(),
                    _ => vec![arg],
                };
                let forms = items
                    .into_iter()
                    .map(|i| self.condition_expr_form(i, depth + 1))
                    .collect();
                Canon::Expr(name.to_string(), Box::new(Canon::List(forms)))
            }
            _ => self.eval_at(node, depth + 1),
        }
    }

    fn condition_at(&self, name: &str, depth: usize) -> Option<bool> {
        if let Some(known) = self.conditions.borrow().get(name) {
            return *known;
        }
        if depth > MAX_DEPTH {
            return None;
        }
        let result = self
            .template
            .conditions
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, node)| self.truth(node, depth + 1));
        self.conditions
            .borrow_mut()
            .insert(name.to_string(), result);
        result
    }

    /// A condition expression's truth.
    fn truth(&self, node: &Node, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (name, arg) = node.intrinsic()?;
        let args = || match &arg.value {
            Value::Seq(items) => items.iter().collect::<Vec<_>>(),
            _ => vec![arg],
        };
        match name {
            "Condition" => self.condition_at(arg.value.scalar_text()?.as_str(), depth + 1),
            "Fn::Equals" => {
                let a = args();
                if a.len() != 2 {
                    return None;
                }
                let (x, y) = (self.eval_at(a[0], depth + 1), self.eval_at(a[1], depth + 1));
                if x.has_unknown().is_some() || y.has_unknown().is_some() {
                    return None;
                }
                match (&x, &y) {
                    (Canon::Expr(..), _) | (_, Canon::Expr(..)) if x != y => None,
                    _ => Some(x == y),
                }
            }
            "Fn::Not" => self.truth(args().first()?, depth + 1).map(|b| !b),
            "Fn::And" => {
                let values: Vec<Option<bool>> =
                    args().iter().map(|a| self.truth(a, depth + 1)).collect();
                if values.contains(&Some(false)) {
                    Some(false)
                } else if values.iter().all(|v| *v == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            }
            "Fn::Or" => {
                let values: Vec<Option<bool>> =
                    args().iter().map(|a| self.truth(a, depth + 1)).collect();
                if values.contains(&Some(true)) {
                    Some(true)
                } else if values.iter().all(|v| *v == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// An unknown value for what cannot be evaluated at all (a malformed or too deeply
    /// nested expression): its form is the node as written with every input of the template
    /// (parameter values, conditions, mappings), so that it equals only the same expression over
    /// the same inputs.
    fn opaque(&self, why: &str, node: &Node) -> Canon {
        self.opaque_form(why, Scope::plain(node))
    }

    fn opaque_form(&self, why: &str, written: Canon) -> Canon {
        let mut params: Vec<(&String, &Canon)> = self.params.iter().collect();
        params.sort_by(|a, b| a.0.cmp(b.0));
        let params = params
            .into_iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let conditions = self
            .template
            .conditions
            .iter()
            .map(|(k, v)| (k.clone(), Scope::plain(v)))
            .collect();
        let mappings = self
            .template
            .mappings
            .as_ref()
            .map_or(Canon::Null, Scope::plain);
        Canon::unknown(
            why,
            Canon::List(vec![
                written,
                Canon::Map(params),
                Canon::Map(conditions),
                mappings,
            ]),
        )
    }

    fn eval_at(&self, node: &Node, depth: usize) -> Canon {
        if depth > MAX_DEPTH {
            return self.opaque("nested too deeply", node);
        }
        if let Some((name, arg)) = node.intrinsic() {
            return self.intrinsic(name, arg, depth + 1);
        }
        match &node.value {
            Value::Null => Canon::Null,
            Value::Seq(items) => Canon::List(
                items
                    .iter()
                    .map(|i| self.eval_at(i, depth + 1))
                    .filter(|c| *c != Canon::NoValue)
                    .collect(),
            ),
            Value::Map(entries) => Canon::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), self.eval_at(v, depth + 1)))
                    .filter(|(_, c)| *c != Canon::NoValue)
                    .collect(),
            ),
            other => Canon::Scalar(other.scalar_text().unwrap_or_default()),
        }
    }

    fn intrinsic(&self, name: &str, arg: &Node, depth: usize) -> Canon {
        let items: Vec<&Node> = match &arg.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![arg],
        };
        let expr = |c: Canon| Canon::Expr(name.to_string(), Box::new(c));
        // Malformed: unknown, equal only to the same expression over the same inputs.
        let malformed = |why: &str| {
            self.opaque_form(
                why,
                Canon::Map(BTreeMap::from([(name.to_string(), Scope::plain(arg))])),
            )
        };
        // Unresolved inputs: unknown, its form the expression over the evaluated inputs.
        let unresolved = |inputs: &[&Canon]| -> Option<Canon> {
            let why = inputs.iter().find_map(|c| c.has_unknown())?;
            Some(Canon::unknown(
                why,
                expr(Canon::List(inputs.iter().map(|c| (*c).clone()).collect())),
            ))
        };
        match name {
            "Ref" => {
                let Some(target) = arg.value.scalar_text() else {
                    return malformed("Ref to a non-name");
                };
                if target == "AWS::NoValue" {
                    return Canon::NoValue;
                }
                if let Some(value) = self.params.get(&target) {
                    return value.clone();
                }
                // A resource or a pseudo parameter: the same for both sides of one stack.
                expr(Canon::Scalar(target))
            }
            "Fn::If" => {
                if items.len() != 3 {
                    return malformed("Fn::If needs [condition, then, else]");
                }
                let Some(cond) = items[0].value.scalar_text() else {
                    return malformed("Fn::If condition is not a name");
                };
                match self.condition_at(&cond, depth) {
                    Some(true) => self.eval_at(items[1], depth),
                    Some(false) => self.eval_at(items[2], depth),
                    None => {
                        let (a, b) = (self.eval_at(items[1], depth), self.eval_at(items[2], depth));
                        if a == b {
                            return a;
                        }
                        let form = self.condition_form_at(&cond, depth);
                        let undecided = form.has_unknown().is_some();
                        let value = expr(Canon::List(vec![form, a, b]));
                        if undecided {
                            Canon::unknown(format!("condition {cond} cannot be decided"), value)
                        } else {
                            // Decided at deploy time by what one stack keeps (its region…):
                            // compared as written, and a difference is unknown (see diff).
                            value
                        }
                    }
                }
            }
            "Fn::Sub" => self.sub(&items, depth, &malformed),
            "Fn::Join" => {
                if items.len() != 2 {
                    return malformed("Fn::Join needs [delimiter, list]");
                }
                let delimiter = self.eval_at(items[0], depth);
                let list = self.eval_at(items[1], depth);
                if let Some(unknown) = unresolved(&[&delimiter, &list]) {
                    return unknown;
                }
                match (&delimiter, &list) {
                    (Canon::Scalar(d), Canon::List(parts))
                        if parts.iter().all(|p| matches!(p, Canon::Scalar(_))) =>
                    {
                        let texts: Vec<&str> = parts.iter().filter_map(Canon::as_scalar).collect();
                        Canon::Scalar(texts.join(d))
                    }
                    _ => expr(Canon::List(vec![delimiter, list])),
                }
            }
            "Fn::Select" => {
                if items.len() != 2 {
                    return malformed("Fn::Select needs [index, list]");
                }
                let index = self.eval_at(items[0], depth);
                let list = self.eval_at(items[1], depth);
                match (&index, &list) {
                    (Canon::Scalar(i), Canon::List(parts)) => i
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| parts.get(i).cloned())
                        .unwrap_or_else(|| malformed("Fn::Select index out of range")),
                    _ => unresolved(&[&index, &list])
                        .unwrap_or_else(|| expr(Canon::List(vec![index, list]))),
                }
            }
            "Fn::Split" => {
                if items.len() != 2 {
                    return malformed("Fn::Split needs [delimiter, text]");
                }
                let delimiter = self.eval_at(items[0], depth);
                let text = self.eval_at(items[1], depth);
                match (&delimiter, &text) {
                    (Canon::Scalar(d), Canon::Scalar(t)) if !d.is_empty() => Canon::List(
                        t.split(d.as_str())
                            .map(|s| Canon::Scalar(s.into()))
                            .collect(),
                    ),
                    _ => unresolved(&[&delimiter, &text])
                        .unwrap_or_else(|| expr(Canon::List(vec![delimiter, text]))),
                }
            }
            "Fn::FindInMap" => {
                let keys: Vec<Canon> = items.iter().map(|i| self.eval_at(i, depth)).collect();
                let names: Option<Vec<&str>> = keys.iter().map(Canon::as_scalar).collect();
                if let (Some(names), Some(mappings)) = (&names, &self.template.mappings) {
                    if names.len() == 3 {
                        return mappings
                            .get(names[0])
                            .and_then(|m| m.get(names[1]))
                            .and_then(|m| m.get(names[2]))
                            .map(|v| self.eval_at(v, depth))
                            .unwrap_or_else(|| malformed("Fn::FindInMap: no such entry"));
                    }
                }
                // Looked up at deploy time (or never): the form holds the map it reads, so a
                // changed map is a changed value.
                let table = match (
                    keys.first().and_then(Canon::as_scalar),
                    &self.template.mappings,
                ) {
                    (Some(map), Some(mappings)) => {
                        mappings.get(map).map_or(Canon::Null, Scope::plain)
                    }
                    (None, Some(mappings)) => Scope::plain(mappings),
                    (_, None) => Canon::Null,
                };
                let mut inputs: Vec<&Canon> = keys.iter().collect();
                inputs.push(&table);
                unresolved(&inputs).unwrap_or_else(|| {
                    expr(Canon::List(inputs.iter().map(|c| (*c).clone()).collect()))
                })
            }
            "Fn::Transform" => {
                // A macro (AWS::Include and others): what it returns is not in the template.
                let args = self.eval_at(arg, depth);
                let macro_name = args
                    .get("Name")
                    .and_then(Canon::as_scalar)
                    .unwrap_or("a macro")
                    .to_string();
                let why = if macro_name == "AWS::Include" {
                    "Fn::Transform AWS::Include: the included file is not in the template"
                        .to_string()
                } else {
                    format!(
                        "Fn::Transform {macro_name}: what the macro returns is not in the template"
                    )
                };
                Canon::unknown(why, expr(args))
            }
            // Decided at deploy time: compared as written.
            _ => expr(self.eval_at(arg, depth)),
        }
    }

    fn sub(&self, items: &[&Node], depth: usize, malformed: &dyn Fn(&str) -> Canon) -> Canon {
        let Some(text) = items.first().and_then(|t| t.value.scalar_text()) else {
            return malformed("Fn::Sub needs a string");
        };
        let mut locals: HashMap<String, Canon> = HashMap::new();
        if let Some(Value::Map(entries)) = items.get(1).map(|n| &n.value) {
            for (k, v) in entries {
                locals.insert(k.clone(), self.eval_at(v, depth));
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut symbolic = false;
        // The unresolved variables: the value is unknown, its form the text over them.
        let mut unknown: BTreeMap<String, Canon> = BTreeMap::new();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = after[..end].trim();
            let value = locals.get(name).or_else(|| self.params.get(name));
            match value {
                _ if name.starts_with('!') => out.push_str(&format!("${{{name}}}")),
                Some(Canon::Scalar(v)) => out.push_str(v),
                Some(u @ Canon::Unknown(_)) => {
                    unknown.insert(name.to_string(), u.clone());
                    out.push_str(&format!("${{{name}}}"));
                }
                Some(_) | None => {
                    symbolic = true;
                    out.push_str(&format!("${{{name}}}"));
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        if let Some(why) = unknown.values().find_map(Canon::has_unknown) {
            let why = why.to_string();
            return Canon::unknown(
                why,
                Canon::Expr(
                    "Fn::Sub".into(),
                    Box::new(Canon::List(vec![Canon::Scalar(out), Canon::Map(unknown)])),
                ),
            );
        }
        if symbolic {
            Canon::Expr("Fn::Sub".into(), Box::new(Canon::Scalar(out)))
        } else {
            Canon::Scalar(out)
        }
    }
}
