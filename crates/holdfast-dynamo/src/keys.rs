//! A table's primary key ([`KeySpec`], as DescribeTable or `--require-key` states it) applied to
//! items: extracting the key, checking an item against it, a byte identity for de-duplication,
//! and rendering a key for messages.
//!
//! Keys are how Holdfast names an item in errors and reports (the issue's "the offending item's
//! key"); no other attribute value ever appears in a message.

use aws_sdk_dynamodb::types::AttributeValue;
use holdfast_core::exit::{Classify, Outcome};

pub use crate::key_schema::{KeyAttrType, KeyPart, KeySpec, KeySpecError};
use crate::number::Number;
use crate::sdk_item::SdkItem;

/// Why an item does not fit a key schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("has no key attribute `{name}` (the table's key is {schema})")]
    Missing { name: String, schema: String },
    #[error("key attribute `{name}` is {found}, the table's key needs {expected} ({schema})")]
    WrongType {
        name: String,
        found: &'static str,
        expected: KeyAttrType,
        schema: String,
    },
    #[error("key attribute `{name}` is empty (DynamoDB rejects empty key values)")]
    Empty { name: String },
}

impl Classify for KeyError {
    /// An item that does not fit the table's key is bad input (a transform's output, an
    /// export's line, a keys file's key).
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

impl KeySpec {
    /// Checks that `item` carries every key attribute with the right, non-empty type.
    ///
    /// # Errors
    /// The first key attribute that is missing, of the wrong type, or empty.
    pub fn check(&self, item: &SdkItem) -> Result<(), KeyError> {
        for part in self.parts() {
            let Some(value) = item.get(&part.name) else {
                return Err(KeyError::Missing {
                    name: part.name.clone(),
                    schema: self.to_string(),
                });
            };
            let (found, empty) = match value {
                AttributeValue::S(s) => (KeyAttrType::S, s.is_empty()),
                AttributeValue::N(_) => (KeyAttrType::N, false),
                AttributeValue::B(b) => (KeyAttrType::B, b.as_ref().is_empty()),
                other => {
                    return Err(KeyError::WrongType {
                        name: part.name.clone(),
                        found: sdk_type_name(other),
                        expected: part.attr_type,
                        schema: self.to_string(),
                    })
                }
            };
            if found != part.attr_type {
                return Err(KeyError::WrongType {
                    name: part.name.clone(),
                    found: sdk_type_name(value),
                    expected: part.attr_type,
                    schema: self.to_string(),
                });
            }
            if empty {
                return Err(KeyError::Empty {
                    name: part.name.clone(),
                });
            }
        }
        Ok(())
    }

    /// The key attributes of `item` (those present).
    #[must_use]
    pub fn key_of(&self, item: &SdkItem) -> SdkItem {
        self.names()
            .filter_map(|n| item.get(n).map(|v| (n.to_owned(), v.clone())))
            .collect()
    }

    /// A byte string that is equal for two items exactly when their keys are equal as DynamoDB
    /// sees them (numbers by value: `1.50` and `1.5` are one key).
    #[must_use]
    pub fn identity(&self, item: &SdkItem) -> Vec<u8> {
        let mut out = Vec::with_capacity(48);
        for name in self.names() {
            match item.get(name) {
                Some(AttributeValue::S(s)) => push_field(&mut out, b'S', s.as_bytes()),
                Some(AttributeValue::N(n)) => {
                    let canonical = Number::parse(n).map(|n| n.canonical().to_owned());
                    push_field(&mut out, b'N', canonical.as_deref().unwrap_or(n).as_bytes());
                }
                Some(AttributeValue::B(b)) => push_field(&mut out, b'B', b.as_ref()),
                _ => push_field(&mut out, b'-', b""),
            }
        }
        out
    }

    /// The key of `item` for messages: `pk="USER#1", sk=5`; binary keys by length only.
    #[must_use]
    pub fn render(&self, item: &SdkItem) -> String {
        self.names()
            .map(|n| match item.get(n) {
                Some(AttributeValue::S(s)) => format!("{n}={s:?}"),
                Some(AttributeValue::N(v)) => format!("{n}={v}"),
                Some(AttributeValue::B(b)) => format!("{n}=<{} bytes>", b.as_ref().len()),
                Some(other) => format!("{n}=<{}>", sdk_type_name(other)),
                None => format!("{n}=<missing>"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn push_field(out: &mut Vec<u8>, tag: u8, bytes: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The DynamoDB type descriptor of an SDK value.
#[must_use]
pub fn sdk_type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        AttributeValue::M(_) => "M",
        AttributeValue::L(_) => "L",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        _ => "an unknown type",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> KeySpec {
        "pk:S,sk:N".parse().unwrap()
    }

    fn item(pairs: &[(&str, AttributeValue)]) -> SdkItem {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn checks_presence_type_and_emptiness() {
        let s = spec();
        let good = item(&[
            ("pk", AttributeValue::S("a".into())),
            ("sk", AttributeValue::N("1".into())),
        ]);
        assert_eq!(s.check(&good), Ok(()));
        let missing = item(&[("pk", AttributeValue::S("a".into()))]);
        assert!(matches!(s.check(&missing), Err(KeyError::Missing { name, .. }) if name == "sk"));
        let wrong = item(&[
            ("pk", AttributeValue::S("a".into())),
            ("sk", AttributeValue::S("1".into())),
        ]);
        let e = s.check(&wrong).unwrap_err();
        assert_eq!(
            e.to_string(),
            "key attribute `sk` is S, the table's key needs N (pk:S,sk:N)"
        );
        let empty = item(&[
            ("pk", AttributeValue::S(String::new())),
            ("sk", AttributeValue::N("1".into())),
        ]);
        assert!(matches!(s.check(&empty), Err(KeyError::Empty { .. })));
    }

    #[test]
    fn identity_compares_numbers_by_value_and_ignores_other_attributes() {
        let s = spec();
        let a = item(&[
            ("pk", AttributeValue::S("a".into())),
            ("sk", AttributeValue::N("1.50".into())),
        ]);
        let b = item(&[
            ("pk", AttributeValue::S("a".into())),
            ("sk", AttributeValue::N("1.5".into())),
            ("x", AttributeValue::Bool(true)),
        ]);
        assert_eq!(s.identity(&a), s.identity(&b));
        let c = item(&[
            ("pk", AttributeValue::S("a1".into())),
            ("sk", AttributeValue::N("5".into())),
        ]);
        let d = item(&[
            ("pk", AttributeValue::S("a".into())),
            ("sk", AttributeValue::N("15".into())),
        ]);
        assert_ne!(s.identity(&c), s.identity(&d));
        assert_eq!(s.render(&a), "pk=\"a\", sk=1.50");
    }
}
