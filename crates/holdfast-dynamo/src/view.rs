//! The JSON view of an item that jq transforms see, and back.
//!
//! | DynamoDB | view |
//! | --- | --- |
//! | `S` | JSON string |
//! | `N` | number with the attribute's exact decimal text (a text that is not a JSON literal, such as `+1` or `.5`, is shown in canonical form) |
//! | `BOOL`, `NULL` | `true`/`false`, `null` |
//! | `M` | object |
//! | `L` | array |
//! | `B` | `{"$binary": "<base64>"}` |
//! | `SS` | `{"$ss": ["a", "b"]}` |
//! | `NS` | `{"$ns": [1, 2.5]}` (JSON numbers) |
//! | `BS` | `{"$bs": ["<base64>", …]}` |
//! | `M` that has a key named like a tag | `{"$map": {…}}` |
//!
//! The tags are `$binary`, `$ss`, `$ns`, `$bs` and `$map`. An object with any key that is a tag
//! must have that key only, with the right content, or [`view_to_item`] rejects it: so a map
//! attribute that happens to have a `$ss` key survives the round trip (as `{"$map": …}`), and a
//! mistyped tag is an error rather than a silent map. Base64 is the standard padded alphabet.
//! Sets must be non-empty with distinct members (DynamoDB's rule): `{"$ss": []}` is an error.
//! A filter adds a string set with `.tags = {"$ss": ["a"]}`.
//!
//! # Value type: jaq's, not serde_json's
//!
//! The view is a [`jaq_json::Val`], the value jq filters run on, because it keeps numbers exact:
//! an integer is a machine or big integer, any other number its decimal text. `serde_json::Value`
//! can only do that with the `arbitrary_precision` feature, and Cargo's feature unification would
//! switch that on for every crate built with this one, where it changes how numbers deserialize
//! (holdfast-guard's JSON fallback then reads `1.5` as an object). [`item_to_view_json`] and
//! [`view_json_to_item`] give the view as JSON text, with the exact numbers.
//!
//! `view_to_item` maps numbers to `N` by their text (validated: at most 38 significant digits,
//! DynamoDB's range; a float is taken by its shortest round-trip text and must be finite),
//! strings to `S`, arrays to `L`, other objects to `M`. The top level must be an object.

use jaq_core::ValT as _;
use jaq_json::{Num, Val};

use crate::item::{
    check_set, child_path, decode_base64, err, index_path, parse_number, Attr, DynamoJsonError,
    Item, Number,
};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

/// The view value type (re-exported so callers need no jaq-json dependency of their own).
pub use jaq_json::Val as View;

/// Tag of a binary value.
pub const TAG_BINARY: &str = "$binary";
/// Tag of a string set.
pub const TAG_SS: &str = "$ss";
/// Tag of a number set.
pub const TAG_NS: &str = "$ns";
/// Tag of a binary set.
pub const TAG_BS: &str = "$bs";
/// Tag of a map whose keys would otherwise be read as a tag.
pub const TAG_MAP: &str = "$map";
/// Every reserved key.
pub const TAGS: [&str; 5] = [TAG_BINARY, TAG_SS, TAG_NS, TAG_BS, TAG_MAP];

/// A view value that is not a valid item, with the attribute path.
pub type ViewError = DynamoJsonError;

/// The jq view of an item (an object).
pub fn item_to_view(item: &Item) -> Val {
    object(item.iter().map(|(k, v)| (k.as_str(), attr_to_view(v))))
}

/// The view as compact JSON text, numbers with their exact text.
pub fn item_to_view_json(item: &Item) -> String {
    item_to_view(item).to_string()
}

/// Parse a view from JSON text (numbers keep their exact text) and convert it to an item.
pub fn view_json_to_item(text: &str) -> Result<Item, ViewError> {
    let view = jaq_json::read::parse_single(text.as_bytes())
        .map_err(|e| err("(item)", &format!("not JSON: {e}")))?;
    view_to_item(&view)
}

fn object<'a>(members: impl IntoIterator<Item = (&'a str, Val)>) -> Val {
    Val::obj(
        members
            .into_iter()
            .map(|(k, v)| (Val::from(k.to_owned()), v))
            .collect(),
    )
}

/// The jq view of one attribute value.
pub fn attr_to_view(attr: &Attr) -> Val {
    let tagged = |tag: &str, v: Val| object([(tag, v)]);
    let string = |s: &str| Val::from(s.to_owned());
    match attr {
        Attr::S(s) => string(s),
        Attr::N(n) => number_to_view(n),
        Attr::B(b) => tagged(TAG_BINARY, string(&BASE64.encode(b))),
        Attr::Ss(v) => tagged(TAG_SS, v.iter().map(|s| string(s)).collect()),
        Attr::Ns(v) => tagged(TAG_NS, v.iter().map(number_to_view).collect()),
        Attr::Bs(v) => tagged(
            TAG_BS,
            v.iter().map(|b| string(&BASE64.encode(b))).collect(),
        ),
        Attr::M(m) => {
            let obj = object(m.iter().map(|(k, v)| (k.as_str(), attr_to_view(v))));
            if m.keys().any(|k| TAGS.contains(&k.as_str())) {
                tagged(TAG_MAP, obj)
            } else {
                obj
            }
        }
        Attr::L(l) => l.iter().map(attr_to_view).collect(),
        Attr::Bool(b) => Val::Bool(*b),
        Attr::Null => Val::Null,
    }
}

/// A jq number with the exact text of `n` (canonical text if the original is no JSON literal).
pub fn number_to_view(n: &Number) -> Val {
    let text = if n.is_json_literal() {
        n.as_str()
    } else {
        n.canonical()
    };
    Val::from_num(text).unwrap_or(Val::Null)
}

/// The item a view stands for.
pub fn view_to_item(view: &Val) -> Result<Item, ViewError> {
    let Val::Obj(obj) = view else {
        return Err(err(
            "(item)",
            &format!("the item must be a JSON object, not {}", view_type(view)),
        ));
    };
    view_map(obj, None)
}

/// `a string`, `a number`, `an object`… for error messages (never the value itself).
pub fn view_type(v: &Val) -> &'static str {
    match v {
        Val::Null => "null",
        Val::Bool(_) => "a boolean",
        Val::Num(_) => "a number",
        Val::TStr(_) => "a string",
        Val::BStr(_) => "a byte string",
        Val::Arr(_) => "an array",
        Val::Obj(_) => "an object",
    }
}

fn utf8<'a>(b: &'a [u8], path: &str) -> Result<&'a str, ViewError> {
    std::str::from_utf8(b).map_err(|_| err(path, "a string is not valid UTF-8"))
}

/// The text of a view number; a float by its shortest round-trip text, if finite.
pub fn view_number_text(n: &Num, path: &str) -> Result<String, ViewError> {
    match n {
        Num::Float(f) if !f.is_finite() => Err(err(path, "a number is NaN or infinite")),
        n => Ok(n.to_string()),
    }
}

/// The attribute a view value stands for; `path` names it in errors.
pub fn view_to_attr(v: &Val, path: &str) -> Result<Attr, ViewError> {
    Ok(match v {
        Val::Null => Attr::Null,
        Val::Bool(b) => Attr::Bool(*b),
        Val::Num(n) => Attr::N(parse_number(&view_number_text(n, path)?, path)?),
        Val::TStr(b) => Attr::S(utf8(b, path)?.to_owned()),
        Val::BStr(_) => {
            return Err(err(
                path,
                "a byte string; write binary as {\"$binary\": \"<base64>\"}",
            ))
        }
        Val::Arr(a) => Attr::L(
            a.iter()
                .enumerate()
                .map(|(i, x)| view_to_attr(x, &index_path(path, i)))
                .collect::<Result<_, _>>()?,
        ),
        Val::Obj(obj) => {
            let tag = obj.keys().find_map(|k| match k {
                Val::TStr(b) => std::str::from_utf8(b)
                    .ok()
                    .and_then(|k| TAGS.iter().find(|t| **t == k)),
                _ => None,
            });
            match tag {
                None => Attr::M(view_map(obj, Some(path))?),
                Some(tag) => tagged_to_attr(tag, obj, path)?,
            }
        }
    })
}

fn view_map(obj: &jaq_json::Map, parent: Option<&str>) -> Result<Item, ViewError> {
    obj.iter()
        .map(|(k, x)| {
            let Val::TStr(k) = k else {
                return Err(err(
                    parent.unwrap_or("(item)"),
                    "an object key is not a string",
                ));
            };
            let k = utf8(k, parent.unwrap_or("(item)"))?;
            let path = parent.map_or_else(|| k.to_owned(), |p| child_path(p, k));
            Ok((k.to_owned(), view_to_attr(x, &path)?))
        })
        .collect()
}

fn tagged_to_attr(tag: &str, obj: &jaq_json::Map, path: &str) -> Result<Attr, ViewError> {
    let bad = |what: &str| err(path, &format!("malformed `{tag}` object: {what}"));
    if obj.len() != 1 {
        return Err(bad(&format!(
            "`{tag}` must be the only key (found {} keys; the tags are {})",
            obj.len(),
            TAGS.join(", ")
        )));
    }
    let v = obj.values().next().expect("one member");
    let array = || match v {
        Val::Arr(a) => Ok(a),
        other => Err(bad(&format!(
            "expected an array, found {}",
            view_type(other)
        ))),
    };
    let string_at = |x: &Val, i: usize| match x {
        Val::TStr(b) => Ok(utf8(b, &index_path(path, i))?.to_owned()),
        other => Err(bad(&format!(
            "member {i} must be a string, found {}",
            view_type(other)
        ))),
    };
    Ok(match tag {
        TAG_BINARY => match v {
            Val::TStr(b) => Attr::B(decode_base64(utf8(b, path)?, path)?),
            other => {
                return Err(bad(&format!(
                    "expected a base64 string, found {}",
                    view_type(other)
                )))
            }
        },
        TAG_SS => {
            let members = array()?
                .iter()
                .enumerate()
                .map(|(i, x)| string_at(x, i))
                .collect::<Result<Vec<_>, _>>()?;
            check_set(&members, |s| s.clone(), path)?;
            Attr::Ss(members)
        }
        TAG_NS => {
            let members = array()?
                .iter()
                .enumerate()
                .map(|(i, x)| match x {
                    Val::Num(n) => {
                        let p = index_path(path, i);
                        parse_number(&view_number_text(n, &p)?, &p)
                    }
                    other => Err(bad(&format!(
                        "member {i} must be a number, found {}",
                        view_type(other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            check_set(&members, |n| n.canonical().to_owned(), path)?;
            Attr::Ns(members)
        }
        TAG_BS => {
            let members = array()?
                .iter()
                .enumerate()
                .map(|(i, x)| decode_base64(&string_at(x, i)?, &index_path(path, i)))
                .collect::<Result<Vec<_>, _>>()?;
            check_set(&members, |b| b.clone(), path)?;
            Attr::Bs(members)
        }
        TAG_MAP => match v {
            Val::Obj(m) => Attr::M(view_map(m, Some(path))?),
            other => {
                return Err(bad(&format!(
                    "expected an object, found {}",
                    view_type(other)
                )))
            }
        },
        _ => unreachable!("only tags reach here"),
    })
}
