//! The DynamoDB item model, independent of the AWS SDK, and its DynamoDB-JSON form.
//!
//! DynamoDB-JSON is the wire format of the API and of S3 exports (one `{"Item": {...}}` per
//! line): every value is an object with exactly one type descriptor — `{"S": "x"}`,
//! `{"N": "1.5"}` (number as a string), `{"B": "<base64>"}`, `{"SS": [..]}`, `{"NS": ["1"]}`,
//! `{"BS": ["<base64>"]}`, `{"M": {..}}`, `{"L": [..]}`, `{"BOOL": true}`, `{"NULL": true}`.
//! Parsing is strict (unknown descriptors, extra keys, bad base64, invalid numbers, empty or
//! duplicate sets are errors) and every error names the attribute path, such as
//! `address.lines[2]`; it never quotes the attribute's value (it may be PII).
//!
//! Sets: DynamoDB rejects empty sets and duplicate members, so this module rejects them on input.
//! Set equality ignores order; [`Attr::canonicalize`] sorts members.

use holdfast_core::exit::{Classify, Outcome};
use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::{Map, Value};

pub use crate::number::{Number, NumberError};

/// One DynamoDB attribute value.
#[derive(Clone, Debug)]
pub enum Attr {
    S(String),
    N(Number),
    B(Vec<u8>),
    Ss(Vec<String>),
    Ns(Vec<Number>),
    Bs(Vec<Vec<u8>>),
    M(BTreeMap<String, Attr>),
    L(Vec<Attr>),
    Bool(bool),
    Null,
}

/// A DynamoDB item: attribute name → value.
pub type Item = BTreeMap<String, Attr>;

impl PartialEq for Attr {
    /// Numbers compare by canonical form, sets ignore member order.
    fn eq(&self, other: &Self) -> bool {
        use Attr::*;
        match (self, other) {
            (S(a), S(b)) => a == b,
            (N(a), N(b)) => a == b,
            (B(a), B(b)) => a == b,
            (Ss(a), Ss(b)) => sorted(a) == sorted(b),
            (Ns(a), Ns(b)) => {
                sorted(&a.iter().map(Number::canonical).collect::<Vec<_>>())
                    == sorted(&b.iter().map(Number::canonical).collect::<Vec<_>>())
            }
            (Bs(a), Bs(b)) => sorted(a) == sorted(b),
            (M(a), M(b)) => a == b,
            (L(a), L(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            (Null, Null) => true,
            _ => false,
        }
    }
}
impl Eq for Attr {}

fn sorted<T: Ord + Clone>(v: &[T]) -> Vec<T> {
    let mut v = v.to_vec();
    v.sort();
    v
}

impl Attr {
    /// The DynamoDB type descriptor (`S`, `N`, `SS`, `BOOL`…).
    pub fn type_name(&self) -> &'static str {
        match self {
            Attr::S(_) => "S",
            Attr::N(_) => "N",
            Attr::B(_) => "B",
            Attr::Ss(_) => "SS",
            Attr::Ns(_) => "NS",
            Attr::Bs(_) => "BS",
            Attr::M(_) => "M",
            Attr::L(_) => "L",
            Attr::Bool(_) => "BOOL",
            Attr::Null => "NULL",
        }
    }

    /// Sort set members (numbers by canonical text) recursively, for a stable encoding.
    pub fn canonicalize(&mut self) {
        match self {
            Attr::Ss(v) => v.sort(),
            Attr::Ns(v) => v.sort_by(|a, b| a.canonical().cmp(b.canonical())),
            Attr::Bs(v) => v.sort(),
            Attr::M(m) => m.values_mut().for_each(Attr::canonicalize),
            Attr::L(l) => l.iter_mut().for_each(Attr::canonicalize),
            _ => {}
        }
    }
}

/// A DynamoDB-JSON value that is not a valid attribute, with the attribute path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("attribute `{path}`: {reason}")]
pub struct DynamoJsonError {
    pub path: String,
    pub reason: String,
}

impl Classify for DynamoJsonError {
    /// An item that is not valid DynamoDB-JSON is bad input.
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

/// Parse a DynamoDB-JSON item (`{"name": {"S": "x"}, …}`).
pub fn item_from_dynamo_json(value: &Value) -> Result<Item, DynamoJsonError> {
    let Value::Object(obj) = value else {
        return Err(err("(item)", "an item must be a JSON object"));
    };
    obj.iter()
        .map(|(k, v)| Ok((k.clone(), attr_from_dynamo_json(v, k)?)))
        .collect()
}

/// Parse one line of an S3 export: `{"Item": {...}}`.
pub fn item_from_export_line(line: &str) -> Result<Item, DynamoJsonError> {
    let value: Value = serde_json::from_str(line).map_err(|e| {
        err(
            "(line)",
            &format!("not JSON: line {} column {}", e.line(), e.column()),
        )
    })?;
    match value {
        Value::Object(obj) if obj.len() == 1 && obj.contains_key("Item") => {
            item_from_dynamo_json(&obj["Item"])
        }
        _ => Err(err(
            "(line)",
            "expected an object with the single key \"Item\"",
        )),
    }
}

/// One line of an S3 export (`{"Item": {...}}`, no newline).
pub fn item_to_export_line(item: &Item) -> String {
    let mut obj = Map::new();
    obj.insert("Item".to_owned(), item_to_dynamo_json(item));
    Value::Object(obj).to_string()
}

/// The DynamoDB-JSON form of an item.
pub fn item_to_dynamo_json(item: &Item) -> Value {
    Value::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), attr_to_dynamo_json(v)))
            .collect(),
    )
}

/// The DynamoDB-JSON form of one attribute value.
pub fn attr_to_dynamo_json(attr: &Attr) -> Value {
    let one = |k: &str, v: Value| {
        let mut m = Map::new();
        m.insert(k.to_owned(), v);
        Value::Object(m)
    };
    let strings = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    match attr {
        Attr::S(s) => one("S", Value::String(s.clone())),
        Attr::N(n) => one("N", Value::String(n.as_str().to_owned())),
        Attr::B(b) => one("B", Value::String(BASE64.encode(b))),
        Attr::Ss(v) => one("SS", strings(v.clone())),
        Attr::Ns(v) => one(
            "NS",
            strings(v.iter().map(|n| n.as_str().to_owned()).collect()),
        ),
        Attr::Bs(v) => one("BS", strings(v.iter().map(|b| BASE64.encode(b)).collect())),
        Attr::M(m) => one(
            "M",
            Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), attr_to_dynamo_json(v)))
                    .collect(),
            ),
        ),
        Attr::L(l) => one(
            "L",
            Value::Array(l.iter().map(attr_to_dynamo_json).collect()),
        ),
        Attr::Bool(b) => one("BOOL", Value::Bool(*b)),
        Attr::Null => one("NULL", Value::Bool(true)),
    }
}

pub(crate) fn err(path: &str, reason: &str) -> DynamoJsonError {
    DynamoJsonError {
        path: path.to_owned(),
        reason: reason.to_owned(),
    }
}

/// `parent.key` for a map member.
pub(crate) fn child_path(parent: &str, key: &str) -> String {
    format!("{parent}.{key}")
}

/// `parent[i]` for a list element or set member.
pub(crate) fn index_path(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

pub(crate) fn decode_base64(text: &str, path: &str) -> Result<Vec<u8>, DynamoJsonError> {
    BASE64
        .decode(text)
        .map_err(|_| err(path, "invalid base64 (standard alphabet, padded)"))
}

pub(crate) fn parse_number(text: &str, path: &str) -> Result<Number, DynamoJsonError> {
    Number::parse(text).map_err(|e| err(path, &e.to_string()))
}

/// Reject empty sets and duplicate members (by `key`), as DynamoDB does.
pub(crate) fn check_set<T, K: Ord>(
    members: &[T],
    key: impl Fn(&T) -> K,
    path: &str,
) -> Result<(), DynamoJsonError> {
    if members.is_empty() {
        return Err(err(path, "empty set (DynamoDB does not allow empty sets)"));
    }
    let mut keys: Vec<K> = members.iter().map(key).collect();
    keys.sort();
    if keys.windows(2).any(|w| w[0] == w[1]) {
        return Err(err(
            path,
            "duplicate set member (DynamoDB sets hold distinct values)",
        ));
    }
    Ok(())
}

fn attr_from_dynamo_json(value: &Value, path: &str) -> Result<Attr, DynamoJsonError> {
    let Value::Object(obj) = value else {
        return Err(err(
            path,
            "expected an object with one type descriptor such as {\"S\": …}",
        ));
    };
    if obj.len() != 1 {
        return Err(err(
            path,
            &format!(
                "expected exactly one type descriptor, found {} keys",
                obj.len()
            ),
        ));
    }
    let (tag, v) = obj.iter().next().expect("one key");
    let want = |what: &str| err(path, &format!("`{tag}` must hold {what}"));
    let string_list = |v: &Value| -> Result<Vec<String>, DynamoJsonError> {
        let Value::Array(a) = v else {
            return Err(want("an array of strings"));
        };
        a.iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| want("an array of strings"))
            })
            .collect()
    };
    Ok(match tag.as_str() {
        "S" => Attr::S(v.as_str().ok_or_else(|| want("a string"))?.to_owned()),
        "N" => Attr::N(parse_number(
            v.as_str().ok_or_else(|| want("a string"))?,
            path,
        )?),
        "B" => Attr::B(decode_base64(
            v.as_str().ok_or_else(|| want("a base64 string"))?,
            path,
        )?),
        "SS" => {
            let v = string_list(v)?;
            check_set(&v, |s| s.clone(), path)?;
            Attr::Ss(v)
        }
        "NS" => {
            let v = string_list(v)?
                .iter()
                .enumerate()
                .map(|(i, s)| parse_number(s, &index_path(path, i)))
                .collect::<Result<Vec<_>, _>>()?;
            check_set(&v, |n| n.canonical().to_owned(), path)?;
            Attr::Ns(v)
        }
        "BS" => {
            let v = string_list(v)?
                .iter()
                .enumerate()
                .map(|(i, s)| decode_base64(s, &index_path(path, i)))
                .collect::<Result<Vec<_>, _>>()?;
            check_set(&v, |b| b.clone(), path)?;
            Attr::Bs(v)
        }
        "M" => {
            let Value::Object(m) = v else {
                return Err(want("an object"));
            };
            Attr::M(
                m.iter()
                    .map(|(k, x)| Ok((k.clone(), attr_from_dynamo_json(x, &child_path(path, k))?)))
                    .collect::<Result<_, _>>()?,
            )
        }
        "L" => {
            let Value::Array(a) = v else {
                return Err(want("an array"));
            };
            Attr::L(
                a.iter()
                    .enumerate()
                    .map(|(i, x)| attr_from_dynamo_json(x, &index_path(path, i)))
                    .collect::<Result<_, _>>()?,
            )
        }
        "BOOL" => Attr::Bool(v.as_bool().ok_or_else(|| want("true or false"))?),
        "NULL" => match v {
            Value::Bool(true) => Attr::Null,
            _ => return Err(want("true")),
        },
        _ => return Err(err(path, &format!("unknown type descriptor `{tag}`"))),
    })
}
