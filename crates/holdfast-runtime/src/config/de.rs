//! A serde deserializer over a map of variable names to strings, that records every problem
//! rather than stopping at the first.
//!
//! The top level is a struct (or a map): its fields are looked up by name, case-insensitively
//! (`database_url` ← `DATABASE_URL`). Each value is one string, read as the field's type asks:
//! numbers and booleans are parsed (`true/false`, `1/0`, `yes/no`, `on/off`), `Option` is
//! `None` for an empty string, a sequence is a comma-separated list, a unit enum is one of its
//! variant names (case-insensitive), and `std::time::Duration` is a humantime duration
//! (`250ms`, `30s`, `5m`, `1h 30m`).
//!
//! When a value of a primitive type does not parse, the problem is recorded and the visitor is
//! given a placeholder (`0`, `false`, the first variant…), so the rest of the struct is still
//! read and its problems found in the same pass; the placeholder-filled value is thrown away.
//! A problem found by the field's own `Deserialize` (a custom type) ends the pass with an
//! error that names its variable; `EnvConfig::load` then reads the struct again without that
//! variable, until every problem is known (see `load`). Errors never quote a value: serde's
//! `invalid_type` and `invalid_value` are written from what was expected alone, and a custom
//! message that contains the value is withheld.

use super::error::{Problem, ProblemKind};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt::{self, Display};
use std::time::Duration;

/// One variable as the deserializer sees it.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The variable's name in the environment (for problems).
    pub(crate) variable: String,
    pub(crate) value: String,
}

/// What a pass leaves out or fills in: fields whose own `Deserialize` failed are skipped;
/// fields found missing are given placeholders so that later fields are still reached.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) skip: HashSet<String>,
    pub(crate) absent: HashSet<String>,
}

/// The problems of one pass.
#[derive(Debug, Default)]
pub(crate) struct Recorder(RefCell<Vec<Problem>>);

impl Recorder {
    fn record(&self, variable: &str, kind: ProblemKind) {
        self.0.borrow_mut().push(Problem {
            variable: variable.to_owned(),
            kind,
        });
    }

    pub(crate) fn take(&self) -> Vec<Problem> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

/// The deserializer's error: which variable (once known) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    /// The field and variable whose value failed, set on the way out of the value.
    pub(crate) at: Option<(String, String)>,
    pub(crate) kind: ErrorKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// A field the struct requires is not there (serde's `missing_field`).
    MissingField(String),
    /// What was expected.
    Invalid(String),
}

impl Error {
    fn invalid(expected: impl Into<String>) -> Error {
        Error {
            at: None,
            kind: ErrorKind::Invalid(expected.into()),
        }
    }

    /// The problem, for the variable it is at.
    pub(crate) fn problem(&self) -> ProblemKind {
        match &self.kind {
            ErrorKind::MissingField(field) => {
                ProblemKind::Invalid(format!("expected a value with a `{field}` field"))
            }
            ErrorKind::Invalid(expected) => ProblemKind::Invalid(expected.clone()),
        }
    }

    /// Tags the error with its field and variable, and withholds a message that quotes the
    /// value.
    fn at(mut self, field: &str, entry: &Entry) -> Error {
        self.kind = withhold(self.kind, &entry.value);
        if self.at.is_none() {
            self.at = Some((field.to_owned(), entry.variable.clone()));
        }
        self
    }
}

/// The message, unless it contains `value`.
fn withhold(kind: ErrorKind, value: &str) -> ErrorKind {
    match kind {
        ErrorKind::Invalid(message)
            if !value.trim().is_empty() && message.contains(value.trim()) =>
        {
            ErrorKind::Invalid(
                "not valid (the parser's message is withheld: it quotes the value)".into(),
            )
        }
        other => other,
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::MissingField(field) => write!(f, "missing field `{field}`"),
            ErrorKind::Invalid(expected) => f.write_str(expected),
        }
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: Display>(message: T) -> Error {
        Error::invalid(message.to_string())
    }

    fn invalid_type(_unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Error {
        Error::invalid(format!("expected {expected}"))
    }

    fn invalid_value(_unexpected: de::Unexpected<'_>, expected: &dyn de::Expected) -> Error {
        Error::invalid(format!("expected {expected}"))
    }

    fn invalid_length(_len: usize, expected: &dyn de::Expected) -> Error {
        Error::invalid(format!("expected {expected}"))
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Error {
        Error::invalid(one_of(expected))
    }

    fn missing_field(field: &'static str) -> Error {
        Error {
            at: None,
            kind: ErrorKind::MissingField(field.to_owned()),
        }
    }
}

fn one_of(names: &[&str]) -> String {
    format!("expected one of: {}", names.join(", "))
}

/// The whole configuration: a struct whose fields are variables (or a map of them all).
pub(crate) struct Top<'a> {
    /// By lower-case name (without the prefix).
    pub(crate) entries: &'a std::collections::BTreeMap<String, Entry>,
    /// The variable a missing field would have been read from.
    pub(crate) variable_of: &'a dyn Fn(&str) -> String,
    pub(crate) plan: &'a Plan,
    pub(crate) recorder: &'a Recorder,
}

impl<'de> de::Deserializer<'de> for Top<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let fields = self
            .entries
            .iter()
            .map(|(name, entry)| Field {
                name: name.clone(),
                entry: entry.clone(),
                absent: false,
            })
            .collect();
        visitor.visit_map(Fields {
            fields,
            next: 0,
            recorder: self.recorder,
        })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        names: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut fields = Vec::new();
        for &name in names {
            if self.plan.skip.contains(name) {
                continue;
            }
            if let Some(entry) = self.entries.get(&name.to_ascii_lowercase()) {
                let entry = entry.clone();
                fields.push(Field {
                    name: name.to_owned(),
                    entry,
                    absent: false,
                });
            } else if self.plan.absent.contains(name) {
                let entry = Entry {
                    variable: (self.variable_of)(name),
                    value: String::new(),
                };
                fields.push(Field {
                    name: name.to_owned(),
                    entry,
                    absent: true,
                });
            }
        }
        visitor.visit_map(Fields {
            fields,
            next: 0,
            recorder: self.recorder,
        })
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct enum identifier ignored_any
    }
}

/// A field of the top level and its variable.
struct Field {
    name: String,
    entry: Entry,
    /// Missing: read as a placeholder (see [`Plan`]).
    absent: bool,
}

/// The fields of the top level.
struct Fields<'a> {
    fields: Vec<Field>,
    next: usize,
    recorder: &'a Recorder,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let Some(field) = self.fields.get(self.next) else {
            return Ok(None);
        };
        seed.deserialize(field.name.as_str().into_deserializer())
            .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, Error> {
        let field = &self.fields[self.next];
        self.next += 1;
        let value = if field.absent {
            Value::absent(&field.entry, self.recorder)
        } else {
            Value::new(&field.entry, self.recorder)
        };
        seed.deserialize(value)
            .map_err(|e| e.at(&field.name, &field.entry))
    }
}

/// One variable's string, read as the type asks.
struct Value<'a> {
    text: &'a str,
    variable: &'a str,
    /// `Some(n)`: the n-th item (from 1) of a comma-separated list.
    item: Option<usize>,
    /// A missing field's placeholder: nothing is parsed and nothing recorded.
    absent: bool,
    recorder: &'a Recorder,
}

impl<'a> Value<'a> {
    fn new(entry: &'a Entry, recorder: &'a Recorder) -> Value<'a> {
        Value {
            text: &entry.value,
            variable: &entry.variable,
            item: None,
            absent: false,
            recorder,
        }
    }

    fn absent(entry: &'a Entry, recorder: &'a Recorder) -> Value<'a> {
        Value {
            absent: true,
            ..Value::new(entry, recorder)
        }
    }

    /// Records that the value is not what was expected.
    fn wrong(&self, expected: &str) {
        if self.absent {
            return;
        }
        let message = match self.item {
            Some(n) => format!("item {n}: {expected}"),
            None => expected.to_owned(),
        };
        self.recorder
            .record(self.variable, ProblemKind::Invalid(message));
    }

    /// The text parsed as `T`, or the problem recorded and `placeholder`.
    fn parse<T: std::str::FromStr>(&self, expected: &str, placeholder: T) -> T {
        if self.absent {
            return placeholder;
        }
        self.text.trim().parse().unwrap_or_else(|_| {
            self.wrong(expected);
            placeholder
        })
    }
}

macro_rules! integers {
    ($($method:ident $visit:ident $t:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let expected = format!("expected a whole number from {} to {}", <$t>::MIN, <$t>::MAX);
            visitor.$visit(self.parse::<$t>(&expected, 0))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.text)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let text = self.text.trim();
        let is = |names: [&str; 4]| names.iter().any(|n| text.eq_ignore_ascii_case(n));
        let value = if self.absent {
            false
        } else if is(["true", "1", "yes", "on"]) {
            true
        } else if is(["false", "0", "no", "off"]) {
            false
        } else {
            self.wrong("expected true or false (or 1/0, yes/no, on/off)");
            false
        };
        visitor.visit_bool(value)
    }

    integers! {
        deserialize_i8 visit_i8 i8, deserialize_i16 visit_i16 i16, deserialize_i32 visit_i32 i32,
        deserialize_i64 visit_i64 i64, deserialize_i128 visit_i128 i128,
        deserialize_u8 visit_u8 u8, deserialize_u16 visit_u16 u16, deserialize_u32 visit_u32 u32,
        deserialize_u64 visit_u64 u64, deserialize_u128 visit_u128 u128,
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f32(self.parse("expected a number", 0.0))
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(self.parse("expected a number", 0.0))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut chars = self.text.chars();
        let value = match (chars.next(), chars.next()) {
            (Some(c), None) => c,
            _ => {
                self.wrong("expected a single character");
                ' '
            }
        };
        visitor.visit_char(value)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.text)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.text.to_owned())
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bytes(self.text.as_bytes())
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_byte_buf(self.text.as_bytes().to_vec())
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.absent || self.text.trim().is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.item.is_some() {
            self.wrong("expected a single value (lists do not nest)");
            return visitor.visit_seq(Items::new("", &self));
        }
        let text = if self.absent { "" } else { self.text };
        visitor.visit_seq(Items::new(text, &self))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.wrong("expected a single value (a map cannot be read from one variable)");
        let empty = std::iter::empty::<(&str, &str)>();
        visitor.visit_map(de::value::MapDeserializer::new(empty))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        if name == "Duration" && fields == ["secs", "nanos"] {
            let duration = if self.absent {
                Duration::ZERO
            } else {
                humantime::parse_duration(self.text.trim()).unwrap_or_else(|_| {
                    self.wrong("expected a duration such as 250ms, 30s, 5m or 1h 30m");
                    Duration::ZERO
                })
            };
            let parts = [duration.as_secs(), u64::from(duration.subsec_nanos())];
            return visitor.visit_seq(de::value::SeqDeserializer::new(parts.into_iter()));
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let text = self.text.trim();
        let found = variants
            .iter()
            .find(|v| **v == text)
            .or_else(|| variants.iter().find(|v| v.eq_ignore_ascii_case(text)));
        let variant = match found {
            Some(variant) => *variant,
            None => {
                self.wrong(&one_of(variants));
                let Some(first) = variants.first() else {
                    return Err(Error::invalid("an enum without variants"));
                };
                *first
            }
        };
        visitor.visit_enum(variant.into_deserializer())
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_str(self.text)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

/// The items of a comma-separated list (each trimmed; an empty text is an empty list).
struct Items<'a> {
    items: Vec<&'a str>,
    next: usize,
    variable: &'a str,
    recorder: &'a Recorder,
}

impl<'a> Items<'a> {
    fn new(text: &'a str, value: &Value<'a>) -> Items<'a> {
        let items = if text.trim().is_empty() {
            Vec::new()
        } else {
            text.split(',').map(str::trim).collect()
        };
        Items {
            items,
            next: 0,
            variable: value.variable,
            recorder: value.recorder,
        }
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(text) = self.items.get(self.next).copied() else {
            return Ok(None);
        };
        self.next += 1;
        let value = Value {
            text,
            variable: self.variable,
            item: Some(self.next),
            absent: false,
            recorder: self.recorder,
        };
        seed.deserialize(value).map(Some).map_err(|e| Error {
            kind: match withhold(e.kind, text) {
                ErrorKind::Invalid(m) => ErrorKind::Invalid(format!("item {}: {m}", self.next)),
                other => other,
            },
            ..e
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}
