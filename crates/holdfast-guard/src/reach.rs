//! Whether a resource's `Condition` can hold under some parameter values a deploy could give,
//! and one such assignment (as cfn-lint does, bounded).
//!
//! A parameter given with `--parameters` keeps that value. Any other one the condition reads
//! may take, in this order: its default; its `AllowedValues` when it has them; otherwise every
//! literal a condition of the template compares it with (`Fn::Equals [!Ref P, prod]`), and one
//! value equal to none of them (which makes each such comparison false). Those candidates decide
//! every condition the template can write over `Fn::Equals`, so trying their combinations is
//! exact; more than [`MAX_ASSIGNMENTS`] of them are not tried, and the condition counts as one
//! that may hold.

use crate::eval::Scope;
use crate::template::Template;
use crate::value::{Node, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The most assignments tried for one condition.
pub const MAX_ASSIGNMENTS: usize = 4096;

/// A value that no literal of a template equals: "any other value".
const OTHER: &str = "\u{0}other";

/// Whether a condition can hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Under no reachable parameter values.
    Never,
    /// Under these values (the given ones and those chosen), e.g. `Stage=prod`.
    When(Vec<(String, String)>),
    /// Too many combinations to try: it may hold.
    Unbounded,
}

impl Reach {
    /// The chosen values as text (`Stage=prod, Region=eu`); "any other value" as such.
    #[must_use]
    pub fn describe(values: &[(String, String)]) -> String {
        values
            .iter()
            .map(|(k, v)| {
                if v == OTHER {
                    format!("{k}=<any other value>")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Whether `condition` can hold in `template` with `given` parameter values fixed.
#[must_use]
pub fn reach(template: &Template, condition: &str, given: &HashMap<String, String>) -> Reach {
    let mut params = BTreeSet::new();
    let mut seen = BTreeSet::new();
    read_params(template, condition, &mut params, &mut seen);
    let free: Vec<(&str, Vec<String>)> = params
        .iter()
        .filter(|p| !given.contains_key(*p))
        .filter_map(|p| template.parameter(p))
        .map(|p| (p.name.as_str(), candidates(template, &p.name)))
        .collect();
    let total = free
        .iter()
        .try_fold(1usize, |n, (_, c)| n.checked_mul(c.len().max(1)));
    if !matches!(total, Some(n) if n <= MAX_ASSIGNMENTS) {
        return Reach::Unbounded;
    }
    let mut index = vec![0usize; free.len()];
    loop {
        let chosen: Vec<(String, String)> = free
            .iter()
            .zip(&index)
            .map(|((name, c), i)| (name.to_string(), c[*i].clone()))
            .collect();
        let mut values = given.clone();
        values.extend(chosen.iter().cloned());
        if Scope::new(template, &values).condition(condition) != Some(false) {
            return Reach::When(chosen);
        }
        // The next combination, the last parameter fastest.
        let mut k = free.len();
        loop {
            if k == 0 {
                return Reach::Never;
            }
            k -= 1;
            index[k] += 1;
            if index[k] < free[k].1.len() {
                break;
            }
            index[k] = 0;
        }
    }
}

/// The values `name` may take (see the module docs), without repeats, in order.
fn candidates(template: &Template, name: &str) -> Vec<String> {
    let Some(p) = template.parameter(name) else {
        return vec![OTHER.to_string()];
    };
    let mut out: Vec<String> = Vec::new();
    let mut push = |v: String| {
        if !out.contains(&v) {
            out.push(v);
        }
    };
    if let Some(d) = p.default.as_ref().and_then(|d| d.value.scalar_text()) {
        push(d);
    }
    match p.allowed_values.as_ref().and_then(Node::as_seq) {
        Some(allowed) => allowed
            .iter()
            .filter_map(|v| v.value.scalar_text())
            .for_each(&mut push),
        None => {
            let mut literals = BTreeMap::new();
            for (_, node) in &template.conditions {
                compared_literals(node, &mut literals);
            }
            literals
                .remove(name)
                .into_iter()
                .flatten()
                .for_each(&mut push);
            push(OTHER.to_string());
        }
    }
    out
}

/// The parameters a condition reads, through the conditions it names.
fn read_params(
    template: &Template,
    condition: &str,
    params: &mut BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) {
    if !seen.insert(condition.to_string()) {
        return;
    }
    if let Some((_, node)) = template.conditions.iter().find(|(n, _)| n == condition) {
        walk(node, &mut |name, arg| match name {
            "Ref" => {
                if let Some(p) = arg.as_str().filter(|p| template.parameter(p).is_some()) {
                    params.insert(p.to_string());
                }
            }
            "Condition" => {
                if let Some(c) = arg.as_str() {
                    read_params(template, c, params, seen);
                }
            }
            _ => {}
        });
    }
}

/// Every literal compared with `!Ref P` in an `Fn::Equals`, per parameter.
fn compared_literals(node: &Node, out: &mut BTreeMap<String, Vec<String>>) {
    walk(node, &mut |name, arg| {
        let (true, Some([a, b])) = (name == "Fn::Equals", arg.as_seq()) else {
            return;
        };
        for (r, lit) in [(a, b), (b, a)] {
            if let (Some(("Ref", p)), Some(text)) = (r.intrinsic(), lit.value.scalar_text()) {
                if let Some(p) = p.as_str() {
                    out.entry(p.to_string()).or_default().push(text);
                }
            }
        }
    });
}

/// Calls `f` on every intrinsic function (name, argument) in `node`.
fn walk(node: &Node, f: &mut dyn FnMut(&str, &Node)) {
    if let Some((name, arg)) = node.intrinsic() {
        f(name, arg);
    }
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|i| walk(i, f)),
        Value::Map(entries) => entries.iter().for_each(|(_, v)| walk(v, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::load;

    const TEMPLATE: &str = r#"
Parameters:
  Stage: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Free: {Type: String}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsTest: !Equals [!Ref Stage, test]
  NotFree: !Not [!Equals [!Ref Free, x]]
  Both: !And [!Condition IsProd, !Condition NotFree]
Resources:
  Q: {Type: AWS::SQS::Queue}
"#;

    fn values(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn allowed_values_bound_what_a_parameter_can_be() {
        let t = load(TEMPLATE).expect("loads");
        let none = HashMap::new();
        assert_eq!(
            reach(&t, "IsProd", &none),
            Reach::When(values(&[("Stage", "prod")]))
        );
        assert_eq!(reach(&t, "IsTest", &none), Reach::Never);
        let given = HashMap::from([("Stage".to_string(), "dev".to_string())]);
        assert_eq!(reach(&t, "IsProd", &given), Reach::Never);
    }

    #[test]
    fn an_unconstrained_parameter_may_be_any_other_value() {
        let t = load(TEMPLATE).expect("loads");
        let none = HashMap::new();
        assert_eq!(
            reach(&t, "NotFree", &none),
            Reach::When(values(&[("Free", OTHER)]))
        );
        assert_eq!(
            reach(&t, "Both", &none),
            Reach::When(values(&[("Free", OTHER), ("Stage", "prod")]))
        );
        assert_eq!(
            Reach::describe(&values(&[("Free", OTHER)])),
            "Free=<any other value>"
        );
    }

    #[test]
    fn too_many_combinations_may_hold() {
        let mut text = String::from("Parameters:\n");
        let mut equals = Vec::new();
        for i in 0..13 {
            text.push_str(&format!("  P{i}: {{Type: String}}\n"));
            equals.push(format!("!Equals [!Ref P{i}, v]"));
        }
        text.push_str(&format!(
            "Conditions:\n  All: !And [{}]\nResources:\n  Q: {{Type: AWS::SQS::Queue}}\n",
            equals.join(", ")
        ));
        let t = load(&text).expect("loads");
        assert_eq!(reach(&t, "All", &HashMap::new()), Reach::Unbounded);
    }
}
