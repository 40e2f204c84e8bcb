//! The JSON fallback: serde_json for the few valid JSON texts the YAML parser rejects.
//!
//! Keys keep their order and duplicates are rejected, as on the YAML path. serde_json gives
//! no positions for values, so every node gets the span of the root's `{`. Numbers are
//! re-printed from `i64`/`u64`/`f64` (`1.50` becomes `1.5`, `1e3` becomes `1000.0`).

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use super::ParseError;
use crate::value::{Node, Span, Value};

/// Where the first non-blank character is.
fn root_span(text: &str) -> Span {
    let mut span = Span::new(1, 1);
    for c in text.chars() {
        match c {
            '\n' => span = Span::new(span.line.saturating_add(1), 1),
            c if c.is_whitespace() => span.column = span.column.saturating_add(1),
            _ => break,
        }
    }
    span
}

/// Parse `text` as JSON.
///
/// # Errors
/// A serde_json error (invalid JSON, a duplicate key, nesting deeper than 128), with its
/// position.
pub(super) fn parse_json(text: &str) -> Result<Node, (ParseError, serde_json::error::Category)> {
    let span = root_span(text);
    let to_error = |e: serde_json::Error| {
        let error = ParseError::new(
            u32::try_from(e.line()).unwrap_or(u32::MAX),
            u32::try_from(e.column()).unwrap_or(u32::MAX),
            e.to_string(),
        );
        (error, e.classify())
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = NodeSeed(span).deserialize(&mut de).map_err(to_error)?;
    de.end().map_err(to_error)?;
    Ok(value)
}

/// Deserializes one [`Node`], every node at the same span.
#[derive(Clone, Copy)]
struct NodeSeed(Span);

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        let span = self.0;
        deserializer
            .deserialize_any(ValueVisitor(span))
            .map(|value| Node::new(value, span))
    }
}

struct ValueVisitor(Span);

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(format!("{v:?}")))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(NodeSeed(self.0))? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(A::Error::custom(format!(
                    "duplicate key `{key}`: CloudFormation rejects duplicate keys"
                )));
            }
            let value = map.next_value_seed(NodeSeed(self.0))?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}
