//! A source-positioned value tree for CloudFormation templates.
//!
//! [`parse`](crate::parse::parse) turns a JSON or YAML template into a [`Node`]: a [`Value`]
//! plus the [`Span`] where it starts in the source, so that every finding can point at a line.
//! YAML short-form tags are already expanded (`!Ref X` is `{"Ref": "X"}`), and maps keep their
//! source order.
//!
//! Comparing two trees: [`Node::same_as`] is structural equality without spans;
//! [`Node::cfn_equivalent`] also treats scalars the way CloudFormation does (it stringifies
//! them, so `"5432"` and `5432` are one value — see [`Value::scalar_text`]).

use std::fmt;

/// A position in the source text: 1-based line and column (column counted in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
}

impl Span {
    /// A span at `line`, `column` (both 1-based).
    #[must_use]
    pub const fn new(line: u32, column: u32) -> Span {
        Span { line, column }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// A value and where it starts in the source.
///
/// For a block mapping the span is its first key; for a block sequence its first `-` (for one
/// not indented under its key, its first item); for a flow collection, its `{` or `[`; for a
/// value expanded from a short-form tag (`!Ref X`), the tagged value (`X`, not the tag); for
/// an empty value (`Key:` with nothing after it), its key; for a copy made by an alias, the
/// alias (the copy's children keep the anchored node's positions).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// A template value. Scalars keep what CloudFormation needs to compare them.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, as written in the source (`1.50`, `007`, `-1e3`).
    Number(String),
    String(String),
    Seq(Vec<Node>),
    /// Entries in source order; keys are unique.
    Map(Vec<(String, Node)>),
}

impl Node {
    /// A node holding `value`, starting at `span`.
    #[must_use]
    pub const fn new(value: Value, span: Span) -> Node {
        Node { value, span }
    }

    /// The value under `key`, when this node is a mapping that has it.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, node)| node)
    }

    /// The text of a string node (not of numbers or booleans: see [`Node::scalar_text`]).
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The entries of a mapping node, in source order.
    #[must_use]
    pub fn as_map(&self) -> Option<&[(String, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items of a sequence node.
    #[must_use]
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// Whether this node is `null` (or an empty YAML value).
    #[must_use]
    pub fn is_null(&self) -> bool {
        self.value == Value::Null
    }

    /// Shorthand for [`Value::scalar_text`] of this node's value.
    #[must_use]
    pub fn scalar_text(&self) -> Option<String> {
        self.value.scalar_text()
    }

    /// The intrinsic function this node calls, as `(name, argument)`: a mapping with exactly
    /// one key that is `Ref`, `Condition` or starts with `Fn::`.
    #[must_use]
    pub fn intrinsic(&self) -> Option<(&str, &Node)> {
        match self.as_map()? {
            [(name, arg)] if is_intrinsic_name(name) => Some((name, arg)),
            _ => None,
        }
    }

    /// Structural equality ignoring spans. Mapping key order is ignored too (CloudFormation
    /// objects are unordered); scalars must match exactly (`5432` is not `"5432"` here).
    #[must_use]
    pub fn same_as(&self, other: &Node) -> bool {
        self.value.same_as(&other.value)
    }

    /// Equality as CloudFormation sees it: like [`Node::same_as`], but scalars are compared by
    /// [`Value::scalar_text`], so `"5432"` = `5432`, `"true"` = `true`, `1.50` = `1.5`.
    #[must_use]
    pub fn cfn_equivalent(&self, other: &Node) -> bool {
        self.value.cfn_equivalent(&other.value)
    }
}

/// Whether `name` is the key of an intrinsic function (`Ref`, `Condition`, `Fn::…`).
#[must_use]
pub fn is_intrinsic_name(name: &str) -> bool {
    name == "Ref" || name == "Condition" || name.starts_with("Fn::")
}

impl Value {
    /// What kind of value this is, for messages: `null`, `a boolean`, `a number`, `a string`,
    /// `a list`, `a mapping`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The text CloudFormation sees for a scalar; `None` for null, lists and mappings.
    ///
    /// CloudFormation turns every scalar into a string: `5432` and `"5432"` both become
    /// `5432`, `true` becomes `true`. Numbers are normalised conservatively: a leading `+` is
    /// dropped and, when there is a decimal point and no exponent, trailing zeros after it (and
    /// then a bare point) go: `1.50` → `1.5`, `5432.0` → `5432`. Anything else is kept as
    /// written (`007`, `1e3`). Strings are never normalised: `"1.50"` stays `1.50`.
    #[must_use]
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(normalize_number(n)),
            Value::String(s) => Some(s.clone()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    /// See [`Node::same_as`].
    #[must_use]
    pub fn same_as(&self, other: &Value) -> bool {
        self.compare(other, &|a, b| a == b)
    }

    /// See [`Node::cfn_equivalent`].
    #[must_use]
    pub fn cfn_equivalent(&self, other: &Value) -> bool {
        self.compare(other, &|a, b| match (a.scalar_text(), b.scalar_text()) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        })
    }

    /// Structural comparison ignoring spans and key order, scalars compared by `scalars`.
    fn compare(&self, other: &Value, scalars: &dyn Fn(&Value, &Value) -> bool) -> bool {
        match (self, other) {
            (Value::Seq(a), Value::Seq(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| x.value.compare(&y.value, scalars))
            }
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len()
                    && a.iter().enumerate().all(|(i, (key, x))| {
                        // Fast path: same position; otherwise look the key up.
                        let y = match b.get(i) {
                            Some((k, y)) if k == key => Some(y),
                            _ => b.iter().find(|(k, _)| k == key).map(|(_, y)| y),
                        };
                        y.is_some_and(|y| x.value.compare(&y.value, scalars))
                    })
            }
            (Value::Seq(_) | Value::Map(_), _) | (_, Value::Seq(_) | Value::Map(_)) => false,
            (a, b) => scalars(a, b),
        }
    }
}

/// Normalise a number's text as described in [`Value::scalar_text`].
fn normalize_number(text: &str) -> String {
    let text = text.strip_prefix('+').unwrap_or(text);
    if !text.contains('.') || text.contains(['e', 'E']) {
        return text.to_string();
    }
    let trimmed = text.trim_end_matches('0');
    let trimmed = trimmed.strip_suffix('.').unwrap_or(trimmed);
    match trimmed {
        "" => "0".to_string(),
        "-" => "-0".to_string(),
        t => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Value {
        Value::Number(s.to_string())
    }

    #[test]
    fn numbers_normalise_conservatively() {
        for (input, want) in [
            ("5432", "5432"),
            ("5432.0", "5432"),
            ("1.50", "1.5"),
            ("+7", "7"),
            ("007", "007"),
            ("1e3", "1e3"),
            ("1.50e3", "1.50e3"),
            ("0.0", "0"),
            ("-0.500", "-0.5"),
            (".0", "0"),
            ("-.0", "-0"),
            ("10", "10"),
            ("100.", "100"),
        ] {
            assert_eq!(num(input).scalar_text().as_deref(), Some(want), "{input}");
        }
    }

    #[test]
    fn intrinsic_needs_exactly_one_known_key() {
        let s = Span::new(1, 1);
        let arg = Node::new(Value::String("X".into()), s);
        let one = |k: &str| Node::new(Value::Map(vec![(k.into(), arg.clone())]), s);
        assert_eq!(one("Ref").intrinsic(), Some(("Ref", &arg)));
        assert_eq!(one("Fn::Sub").intrinsic().map(|x| x.0), Some("Fn::Sub"));
        assert_eq!(one("Condition").intrinsic().map(|x| x.0), Some("Condition"));
        assert_eq!(one("Other").intrinsic(), None);
        let two = Node::new(
            Value::Map(vec![("Ref".into(), arg.clone()), ("Fn::Sub".into(), arg)]),
            s,
        );
        assert_eq!(two.intrinsic(), None);
    }
}
