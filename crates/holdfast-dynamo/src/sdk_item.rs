//! Items in the AWS SDK's form (`HashMap<String, AttributeValue>`) and their conversion to and
//! from the SDK-independent [`Item`].
//!
//! The copy pipeline keeps items in the SDK's form end to end when there is no transform (no
//! conversion cost); [`Item`] appears only around transforms, exports and reports. Conversion
//! from the SDK is fallible only for what the SDK's type cannot rule out (an unknown variant from
//! a newer service, a number DynamoDB would not have sent).

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::{err, index_path, Attr, DynamoJsonError, Item, Number};

/// An item as the SDK holds it.
pub type SdkItem = HashMap<String, AttributeValue>;

/// The SDK form of an item.
#[must_use]
pub fn item_to_sdk(item: &Item) -> SdkItem {
    item.iter()
        .map(|(k, v)| (k.clone(), attr_to_sdk(v)))
        .collect()
}

/// The SDK form of one attribute value.
#[must_use]
pub fn attr_to_sdk(attr: &Attr) -> AttributeValue {
    match attr {
        Attr::S(s) => AttributeValue::S(s.clone()),
        Attr::N(n) => AttributeValue::N(n.as_str().to_owned()),
        Attr::B(b) => AttributeValue::B(Blob::new(b.clone())),
        Attr::Ss(v) => AttributeValue::Ss(v.clone()),
        Attr::Ns(v) => AttributeValue::Ns(v.iter().map(|n| n.as_str().to_owned()).collect()),
        Attr::Bs(v) => AttributeValue::Bs(v.iter().map(|b| Blob::new(b.clone())).collect()),
        Attr::M(m) => {
            AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), attr_to_sdk(v))).collect())
        }
        Attr::L(l) => AttributeValue::L(l.iter().map(attr_to_sdk).collect()),
        Attr::Bool(b) => AttributeValue::Bool(*b),
        Attr::Null => AttributeValue::Null(true),
    }
}

/// The SDK-independent form of an item.
///
/// # Errors
/// An attribute the model cannot hold, named by its path (never its value).
pub fn item_from_sdk(item: &SdkItem) -> Result<Item, DynamoJsonError> {
    item.iter()
        .map(|(k, v)| Ok((k.clone(), attr_from_sdk(v, k)?)))
        .collect()
}

fn attr_from_sdk(value: &AttributeValue, path: &str) -> Result<Attr, DynamoJsonError> {
    let number =
        |text: &str, path: &str| Number::parse(text).map_err(|e| err(path, &e.to_string()));
    Ok(match value {
        AttributeValue::S(s) => Attr::S(s.clone()),
        AttributeValue::N(n) => Attr::N(number(n, path)?),
        AttributeValue::B(b) => Attr::B(b.as_ref().to_vec()),
        AttributeValue::Ss(v) => Attr::Ss(v.clone()),
        AttributeValue::Ns(v) => Attr::Ns(
            v.iter()
                .enumerate()
                .map(|(i, n)| number(n, &index_path(path, i)))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::Bs(v) => Attr::Bs(v.iter().map(|b| b.as_ref().to_vec()).collect()),
        AttributeValue::M(m) => Attr::M(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), attr_from_sdk(v, &format!("{path}.{k}"))?)))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::L(l) => Attr::L(
            l.iter()
                .enumerate()
                .map(|(i, v)| attr_from_sdk(v, &index_path(path, i)))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::Bool(b) => Attr::Bool(*b),
        AttributeValue::Null(_) => Attr::Null,
        _ => return Err(err(path, "an attribute type this version does not know")),
    })
}

/// DynamoDB's size of an item, as it counts it against the 400 KB item limit and the 16 MB
/// batch limit: attribute names plus values (strings and binaries by length, numbers about
/// one byte per two digits plus one, 3 bytes of overhead per map/list and 1 per element).
#[must_use]
pub fn item_size(item: &SdkItem) -> usize {
    item.iter().map(|(k, v)| k.len() + attr_size(v)).sum()
}

fn attr_size(value: &AttributeValue) -> usize {
    let number = |n: &str| n.len().div_ceil(2) + 1;
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::M(m) => {
            3 + m
                .iter()
                .map(|(k, v)| k.len() + attr_size(v) + 1)
                .sum::<usize>()
        }
        AttributeValue::L(l) => 3 + l.iter().map(|v| attr_size(v) + 1).sum::<usize>(),
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::item_from_dynamo_json;

    #[test]
    fn every_type_survives_the_round_trip() {
        let item = item_from_dynamo_json(&serde_json::json!({
            "s": {"S": "x"}, "n": {"N": "1.500"}, "b": {"B": "AAE="},
            "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AA==", "AQ=="]},
            "m": {"M": {"x": {"L": [{"NULL": true}, {"BOOL": false}]}}}
        }))
        .unwrap();
        let back = item_from_sdk(&item_to_sdk(&item)).unwrap();
        assert_eq!(back, item);
        // Numbers keep their text (1.500 stays 1.500).
        assert_eq!(item_to_sdk(&item)["n"], AttributeValue::N("1.500".into()));
    }

    #[test]
    fn a_bad_number_names_its_path() {
        let mut item = SdkItem::new();
        item.insert(
            "m".into(),
            AttributeValue::M([("n".to_owned(), AttributeValue::N("1e999".into()))].into()),
        );
        let e = item_from_sdk(&item).unwrap_err();
        assert_eq!(e.path, "m.n");
    }

    #[test]
    fn sizes_count_names_and_values() {
        let mut item = SdkItem::new();
        item.insert("pk".into(), AttributeValue::S("abc".into()));
        item.insert("n".into(), AttributeValue::N("1234".into()));
        assert_eq!(item_size(&item), 2 + 3 + 1 + 3);
    }
}
