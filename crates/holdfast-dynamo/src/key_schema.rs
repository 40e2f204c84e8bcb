//! DynamoDB's key model, shared by every operation: a table's primary key ([`KeySpec`]) as
//! DescribeTable states it or as a required key is written (`pk:S,sk:N`), its parts and types.
//! Applying a key to items is [`crate::keys`]'s.

use std::fmt;
use std::str::FromStr;

use aws_sdk_dynamodb::types::{KeyType, ScalarAttributeType, TableDescription};
use holdfast_core::exit::{Classify, Outcome};

/// A key schema written wrongly: bad input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("required key `{spec}`: {why} (expected NAME:S|N|B[,NAME:S|N|B], e.g. pk:S,sk:N)")]
pub struct KeySpecError {
    pub spec: String,
    pub why: String,
}

impl Classify for KeySpecError {
    fn outcome(&self) -> Outcome {
        Outcome::Usage
    }
}

/// A key attribute's type, as DescribeTable and a required key name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAttrType {
    S,
    N,
    B,
}

impl fmt::Display for KeyAttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyAttrType::S => "S",
            KeyAttrType::N => "N",
            KeyAttrType::B => "B",
        })
    }
}

/// One `NAME:TYPE` of a key schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPart {
    pub name: String,
    pub attr_type: KeyAttrType,
}

/// A table's primary key: the partition key, then the sort key if any; written
/// `pk:S[,sk:N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySpec {
    pub partition: KeyPart,
    pub sort: Option<KeyPart>,
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.partition.name, self.partition.attr_type)?;
        if let Some(sort) = &self.sort {
            write!(f, ",{}:{}", sort.name, sort.attr_type)?;
        }
        Ok(())
    }
}

impl FromStr for KeySpec {
    type Err = KeySpecError;

    fn from_str(text: &str) -> Result<KeySpec, KeySpecError> {
        let bad = |why: &str| KeySpecError {
            spec: text.to_string(),
            why: why.to_string(),
        };
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 2 {
            return Err(bad("at most two keys: the partition key and a sort key"));
        }
        let mut keys = Vec::new();
        for part in parts {
            let (name, ty) = part
                .trim()
                .rsplit_once(':')
                .ok_or_else(|| bad("each key is NAME:TYPE"))?;
            if name.is_empty() {
                return Err(bad("a key needs a name"));
            }
            let attr_type = match ty {
                "S" => KeyAttrType::S,
                "N" => KeyAttrType::N,
                "B" => KeyAttrType::B,
                other => return Err(bad(&format!("type `{other}` is not S, N or B"))),
            };
            keys.push(KeyPart {
                name: name.to_string(),
                attr_type,
            });
        }
        let mut keys = keys.into_iter();
        let partition = keys.next().ok_or_else(|| bad("empty"))?;
        let sort = keys.next();
        if sort.as_ref().is_some_and(|s| s.name == partition.name) {
            return Err(bad("the sort key must differ from the partition key"));
        }
        Ok(KeySpec { partition, sort })
    }
}

impl KeySpec {
    /// The key schema of a described table; `None` if DescribeTable did not state one.
    #[must_use]
    pub fn from_description(desc: &TableDescription) -> Option<KeySpec> {
        let type_of = |name: &str| {
            desc.attribute_definitions()
                .iter()
                .find(|d| d.attribute_name() == name)
                .map(|d| match d.attribute_type() {
                    ScalarAttributeType::N => KeyAttrType::N,
                    ScalarAttributeType::B => KeyAttrType::B,
                    _ => KeyAttrType::S,
                })
        };
        let part = |role: KeyType| {
            desc.key_schema()
                .iter()
                .find(|k| *k.key_type() == role)
                .and_then(|k| {
                    Some(KeyPart {
                        name: k.attribute_name().to_owned(),
                        attr_type: type_of(k.attribute_name())?,
                    })
                })
        };
        Some(KeySpec {
            partition: part(KeyType::Hash)?,
            sort: part(KeyType::Range),
        })
    }

    /// The key attribute names: partition key, then sort key.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.partition.name.as_str())
            .chain(self.sort.as_ref().map(|s| s.name.as_str()))
    }

    pub(crate) fn parts(&self) -> impl Iterator<Item = &KeyPart> {
        std::iter::once(&self.partition).chain(self.sort.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs_parse() {
        let spec: KeySpec = "pk:S,sk:N".parse().unwrap();
        assert_eq!(spec.partition.name, "pk");
        assert_eq!(spec.sort.as_ref().unwrap().attr_type, KeyAttrType::N);
        assert_eq!(spec.to_string(), "pk:S,sk:N");
        let spec: KeySpec = "id:B".parse().unwrap();
        assert!(spec.sort.is_none());
    }

    #[test]
    fn bad_key_specs_are_usage_errors() {
        for bad in ["pk:X", "pk", ":S", "a:S,b:S,c:S", "pk:S,pk:N", ""] {
            let err = bad.parse::<KeySpec>().unwrap_err();
            assert_eq!(err.outcome(), Outcome::Usage, "{bad}");
            assert!(err.to_string().contains("required key"), "{err}");
        }
    }
}
