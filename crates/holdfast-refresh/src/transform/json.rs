//! Paths inside JSON documents: `$.a.b`, `$.items[*].email`, `$.list[0]`, `$..email` (the key
//! at any depth); the document is rewritten in place, each string (or number) the path reaches
//! through its own transform.

use super::{Key, RowContext, Transform, TransformError};
use serde_json::Value;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Every,
    /// `..key`: the key at any depth below.
    Anywhere(String),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl JsonPath {
    /// Parses `text`.
    ///
    /// # Errors
    /// Not a path of this form: the message says where.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let bad = |why: &str| format!("JSON path `{text}`: {why}");
        let mut rest = text
            .strip_prefix('$')
            .ok_or_else(|| bad("must start with `$`"))?;
        let mut steps = Vec::new();
        let name_end = |s: &str| s.find(['.', '[']).unwrap_or(s.len());
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix("..") {
                let end = name_end(r);
                if end == 0 {
                    return Err(bad("`..` needs a key after it"));
                }
                steps.push(Step::Anywhere(r[..end].to_string()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('.') {
                let end = name_end(r);
                if end == 0 {
                    return Err(bad("empty key"));
                }
                steps.push(Step::Key(r[..end].to_string()));
                rest = &r[end..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| bad("`[` without `]`"))?;
                let inner = r[..end].trim();
                steps.push(if inner == "*" {
                    Step::Every
                } else if let Some(quoted) = inner
                    .strip_prefix('\'')
                    .and_then(|s| s.strip_suffix('\''))
                    .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))
                {
                    Step::Key(quoted.to_string())
                } else {
                    Step::Index(
                        inner
                            .parse()
                            .map_err(|_| bad("an index is a number, `*` or a quoted key"))?,
                    )
                });
                rest = &r[end + 1..];
            } else {
                return Err(bad("expected `.`, `..` or `[`"));
            }
        }
        if steps.is_empty() {
            return Err(bad("names no value inside the document"));
        }
        Ok(JsonPath {
            text: text.to_string(),
            steps,
        })
    }
}

/// Calls `f` on every value `steps` reach from `v`.
fn visit(v: &mut Value, steps: &[Step], f: &mut dyn FnMut(&mut Value)) {
    let Some((step, rest)) = steps.split_first() else {
        f(v);
        return;
    };
    match step {
        Step::Key(k) => {
            if let Some(child) = v.as_object_mut().and_then(|o| o.get_mut(k)) {
                visit(child, rest, f);
            }
        }
        Step::Index(i) => {
            if let Some(child) = v.as_array_mut().and_then(|a| a.get_mut(*i)) {
                visit(child, rest, f);
            }
        }
        Step::Every => match v {
            Value::Array(items) => items.iter_mut().for_each(|c| visit(c, rest, f)),
            Value::Object(map) => map.values_mut().for_each(|c| visit(c, rest, f)),
            _ => {}
        },
        Step::Anywhere(k) => match v {
            Value::Object(map) => {
                for (key, child) in map.iter_mut() {
                    if key == k {
                        visit(child, rest, f);
                    } else {
                        visit(child, steps, f);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|c| visit(c, steps, f)),
            _ => {}
        },
    }
}

/// The strings (and numbers, as text) the paths reach in the document `value`.
#[must_use]
pub fn leaves_at(value: &str, paths: &[(JsonPath, Transform)]) -> Vec<String> {
    let Ok(mut doc) = serde_json::from_str::<Value>(value) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (path, _) in paths {
        visit(&mut doc, &path.steps, &mut |leaf| match leaf {
            Value::String(s) => out.push(s.clone()),
            Value::Number(n) => out.push(n.to_string()),
            _ => {}
        });
    }
    out
}

/// The document `value` with each path's values transformed.
pub(super) fn apply(
    value: &str,
    paths: &[(JsonPath, Transform)],
    key: &Key,
    row: RowContext<'_>,
    is_real: &dyn Fn(&str) -> bool,
) -> Result<String, TransformError> {
    let mut doc: Value = serde_json::from_str(value).map_err(|e| {
        TransformError::Shape(format!(
            "the json transform needs a JSON document (line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let mut failed = None;
    for (path, transform) in paths {
        visit(&mut doc, &path.steps, &mut |leaf| {
            let original = match leaf {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => return,
            };
            match transform.apply_avoiding(key, Some(&original), row, is_real) {
                Ok(Some(new)) => *leaf = Value::String(new),
                Ok(None) => *leaf = Value::Null,
                Err(e) => failed = Some(e),
            }
        });
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(doc.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Locale;
    use super::*;

    #[test]
    fn paths_parse_and_reject_what_they_cannot_mean() {
        for ok in [
            "$.a",
            "$.a.b",
            "$.items[*].email",
            "$.l[0]",
            "$..email",
            "$['odd key']",
        ] {
            JsonPath::parse(ok).unwrap();
        }
        for bad in ["a.b", "$", "$.", "$[x]", "$.a[", "$..", "$a"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_paths_values_are_replaced_and_the_rest_kept() {
        let key = Key::new(vec![5u8; 32]).unwrap();
        let email = Transform::Email {
            domain: None,
            keep_domain: false,
            locale: Locale::En,
        };
        let paths = vec![
            (JsonPath::parse("$..email").unwrap(), email.clone()),
            (JsonPath::parse("$.card").unwrap(), Transform::Null),
        ];
        let doc =
            r#"{"email":"a@x.io","n":1,"card":"4242","items":[{"email":"b@x.io","sku":"s1"}]}"#;
        let out: Value = serde_json::from_str(
            &apply(doc, &paths, &key, RowContext::default(), &|_| false).unwrap(),
        )
        .unwrap();
        let fake_a = email
            .apply(&key, Some("a@x.io"), RowContext::default())
            .unwrap()
            .unwrap();
        assert_eq!(out["email"], fake_a.as_str());
        assert_ne!(out["items"][0]["email"], "b@x.io");
        assert_eq!(out["items"][0]["sku"], "s1");
        assert_eq!(out["card"], Value::Null);
        assert_eq!(out["n"], 1);
        assert!(apply("not json", &paths, &key, RowContext::default(), &|_| false).is_err());
    }
}
