//! jq transforms of items, with jaq (`jaq-core` 3, `jaq-std` 3, `jaq-json` 2).
//!
//! A filter runs on the [view](crate::view) of an item; each output must be an object and becomes
//! one item: no output drops the item, several outputs split it.
//!
//! # Numbers
//!
//! The view already is jaq's value type ([`crate::view`]), built from each number's text
//! (`ValT::from_num`), and jaq-json 2 keeps numbers exact there: an integer becomes a machine or big integer, any other number keeps its
//! decimal text (`Num::Dec`). No side channel is needed: numbers the filter does not compute on
//! come out with their text unchanged, whatever their precision (`1.500` stays `1.500`, a
//! 38-digit number stays as it is). Arithmetic in jaq-json 2:
//!
//! - `+ - * %` on integers is exact at any size (big integers), so `.n + 1` and `.big + 1` on a
//!   30-digit integer are exact. The result must fit DynamoDB (38 significant digits), else the
//!   item fails.
//! - everything else (a non-integer operand, `/`, math functions) is done in `f64`. The outputs
//!   are checked: a float result is accepted only if it is finite and its shortest round-trip
//!   decimal has at most [`MAX_FLOAT_DIGITS`] (15) significant digits, so `0.1 + 0.2`
//!   (`0.30000000000000004`) or `1 / 3` are errors, not silent floats; and if the input item or a
//!   number literal of the filter holds a number with more than 15 significant digits (which
//!   `f64` cannot hold), every float result in that item's outputs is an error, since it may
//!   have been computed from a rounded operand (`.dec + 1`, `.big * 1.0`). Conservative: such an
//!   item can still use integer arithmetic and pass numbers through.
//! - `floor`, `round` and `ceil` turn a float into an integer and would hide its rounding, so a
//!   prelude redefines them to apply the same rule to a non-integer input first
//!   (`(1 - 0.9) * 10 | floor` is an error, not a silent `0`).
//!
//! Limits of this rule (documented, not checked): an accepted float is the exact result rounded
//! to about 16 significant digits, so a product or quotient whose exact decimal needs more than
//! 15 digits and whose `f64` happens to print in 15 may be stored rounded; comparisons (`<`,
//! `==`, `sort`, `max`) of non-integers are done in `f64`; turning a float into a string
//! (`tostring`, `tojson`, `"\(.x)"`) takes jaq's float text as is, and `tonumber` reads a string
//! as written. For exact money, keep minor units in integers.
//!
//! # Errors
//!
//! Errors name the item by its key attributes ([`Transform::with_key`]); they never print other
//! attribute values: jq's error messages have their quoted strings and digits masked, since jq
//! quotes the values it fails on (so the text of a filter's own `error("…")` is masked too).

use holdfast_core::exit::{Classify, Outcome};
use std::fmt;

use jaq_core::load::lex::{Lexer, StrPart, Tok, Token};
use jaq_core::load::{Arena, File, Loader};
use jaq_core::{data, Compiler, Ctx, Vars};
use jaq_json::{Num, Val};

use crate::item::{Attr, Item, Number};
use crate::view::{item_to_view, view_to_item};

/// Significant digits a float result may have (every decimal of 15 digits survives `f64`).
pub const MAX_FLOAT_DIGITS: usize = 15;

type D = data::JustLut<Val>;

/// A compiled jq filter over item views.
pub struct Transform {
    name: String,
    filter: jaq_core::Filter<D>,
    key: Vec<String>,
    /// A number literal of the filter has more than [`MAX_FLOAT_DIGITS`] significant digits.
    imprecise_literal: bool,
}

/// Why a filter could not be compiled or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    /// The filter does not parse or compile: `name:line:column: message`.
    #[error("invalid jq filter {name}:{line}:{column}: {message}")]
    Compile {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The filter failed on one item.
    #[error("transform {name} failed on item {key}: {reason}")]
    Item {
        name: String,
        /// The item's key attributes, rendered (`pk="USER#1", sk=5`).
        key: String,
        reason: String,
    },
}

impl Classify for TransformError {
    /// A filter that does not compile is bad input; one that fails on an item fails the run.
    fn outcome(&self) -> Outcome {
        match self {
            TransformError::Compile { .. } => Outcome::Usage,
            TransformError::Item { .. } => Outcome::Failed,
        }
    }
}

impl fmt::Debug for Transform {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.debug_struct("Transform")
            .field("name", &self.name)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Transform {
    /// Parse and compile `source` with jq's standard definitions; `name` (e.g. the file name)
    /// appears in errors.
    pub fn compile(source: &str, name: &str) -> Result<Self, TransformError> {
        let program_text = format!("{PRELUDE}{source}");
        let compile_error = |at: &str, message: String| {
            let (line, column) = position(&program_text, PRELUDE.len(), at);
            TransformError::Compile {
                name: name.to_owned(),
                line,
                column,
                message,
            }
        };
        let tokens = Lexer::new(&program_text[PRELUDE.len()..])
            .lex()
            .map_err(|errs| {
                let (expect, at) = &errs[0];
                compile_error(at, format!("expected {}", expect.as_str()))
            })?;
        let imprecise_literal = has_imprecise_literal(&tokens);

        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let program = File {
            code: program_text.as_str(),
            path: (),
        };
        let modules = loader.load(&arena, program).map_err(|errs| {
            let (_, e) = errs.into_iter().next().expect("an error");
            use jaq_core::load::Error;
            match e {
                Error::Io(v) => {
                    let (at, msg) = v.into_iter().next().unwrap_or(("", "cannot load".into()));
                    compile_error(at, msg)
                }
                Error::Lex(v) => {
                    let (expect, at) = v.into_iter().next().expect("an error");
                    compile_error(at, format!("expected {}", expect.as_str()))
                }
                Error::Parse(v) => {
                    let (expect, at) = v.into_iter().next().expect("an error");
                    let found = if at.is_empty() {
                        "end of input".to_owned()
                    } else {
                        format!("`{}`", first_chars(at, 20))
                    };
                    let message = match expect.as_str() {
                        "nothing" => format!("unexpected {found}"),
                        expected => format!("expected {expected}, found {found}"),
                    };
                    compile_error(at, message)
                }
            }
        })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .with_global_vars([IMPRECISE_VAR])
            .compile(modules)
            .map_err(|errs| {
                let (_, v) = errs.into_iter().next().expect("an error");
                let (at, undefined) = v.into_iter().next().expect("an error");
                compile_error(at, format!("undefined {} `{at}`", undefined.as_str()))
            })?;
        Ok(Self {
            name: name.to_owned(),
            filter,
            key: Vec::new(),
            imprecise_literal,
        })
    }

    /// Name the key attributes (partition key, then sort key) that identify an item in errors.
    pub fn with_key<I: IntoIterator<Item = S>, S: Into<String>>(mut self, key: I) -> Self {
        self.key = key.into_iter().map(Into::into).collect();
        self
    }

    /// The name given at compile time.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Run the filter on one item: zero outputs drop it, several split it.
    pub fn apply(&self, item: &Item) -> Result<Vec<Item>, TransformError> {
        let fail = |reason: String| TransformError::Item {
            name: self.name.clone(),
            key: render_key(item, &self.key),
            reason,
        };
        let imprecise = self.imprecise_literal || item.values().any(has_imprecise_number);
        let input = item_to_view(item);
        let ctx = Ctx::<D>::new(&self.filter.lut, Vars::new([Val::Bool(imprecise)]));
        let mut items = Vec::new();
        for (i, out) in self.filter.id.run((ctx, input)).enumerate() {
            let out = jaq_core::unwrap_valr(out).map_err(|e| fail(jq_error_message(e)))?;
            if !matches!(out, Val::Obj(_)) {
                return Err(fail(format!(
                    "output {} is {}, not an object",
                    i + 1,
                    crate::view::view_type(&out)
                )));
            }
            check_numbers(&out, imprecise).map_err(|r| fail(format!("output {}: {r}", i + 1)))?;
            items.push(view_to_item(&out).map_err(|e| fail(format!("output {}: {e}", i + 1)))?);
        }
        Ok(items)
    }
}

/// Name of the global variable that tells the prelude the item holds an imprecise number.
const IMPRECISE_VAR: &str = "$__holdfast_imprecise";
/// Prefix of the errors the prelude raises (shown unmasked: they hold no values).
const PRELUDE_ERROR: &str = "holdfast: ";

/// Definitions put before the user's filter (on the same line, so line numbers stay right):
/// `floor`, `round` and `ceil` turn floats into integers, which would hide a float's rounding from
/// the output check, so they apply the output rule (module docs) to a non-integer input first.
const PRELUDE: &str = concat!(
    "def __holdfast_check_rounding($f): ",
    "if type == \"number\" and (tostring | test(\"[.eE]\")) then ",
    "if (tostring | sub(\"^-\"; \"\") | sub(\"[eE].*$\"; \"\") | gsub(\"[.]\"; \"\") ",
    "| sub(\"^0+\"; \"\") | sub(\"0+$\"; \"\") | length) > 15 ",
    "then error(\"holdfast: \\($f) of a float that floating-point arithmetic made inexact ",
    "(more than 15 significant digits)\") ",
    "elif $__holdfast_imprecise then error(\"holdfast: \\($f) of a non-integer on an item or filter ",
    "that holds a number with more than 15 significant digits, which floating-point ",
    "arithmetic may have rounded; use integer arithmetic\") ",
    "else . end else . end; ",
    "def __holdfast_floor: floor; def floor: __holdfast_check_rounding(\"floor\") | __holdfast_floor; ",
    "def __holdfast_round: round; def round: __holdfast_check_rounding(\"round\") | __holdfast_round; ",
    "def __holdfast_ceil: ceil; def ceil: __holdfast_check_rounding(\"ceil\") | __holdfast_ceil; ",
);

/// A runtime jq error for the user: the prelude's own errors as they are, others masked.
fn jq_error_message(e: jaq_core::Error<Val>) -> String {
    let value = e.into_val();
    if let Val::TStr(b) = &value {
        if let Some(own) = std::str::from_utf8(b)
            .ok()
            .and_then(|s| s.strip_prefix(PRELUDE_ERROR))
        {
            return own.to_owned();
        }
    }
    format!("jq error: {}", mask(&value.to_string()))
}

/// `(line, column)`, 1-based, of `at` inside the user's part of `program` (which starts at byte
/// `user_start`); end of input if `at` is not a slice of `program`.
fn position(program: &str, user_start: usize, at: &str) -> (usize, usize) {
    let start = program.as_ptr() as usize;
    let p = at.as_ptr() as usize;
    let offset = if p >= start && p <= start + program.len() {
        p - start
    } else {
        program.len()
    };
    let source = &program[user_start..];
    let before = &source[..offset.saturating_sub(user_start)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

fn first_chars(s: &str, n: usize) -> String {
    let line = s.lines().next().unwrap_or("");
    line.chars().take(n).collect()
}

fn has_imprecise_literal(tokens: &[Token<&str>]) -> bool {
    tokens.iter().any(|Token(text, tok)| match tok {
        Tok::Num => Number::parse(text).map_or(true, |n| n.significant_digits() > MAX_FLOAT_DIGITS),
        Tok::Block(inner) => has_imprecise_literal(inner),
        Tok::Str(parts) => parts.iter().any(|p| match p {
            StrPart::Term(t) => has_imprecise_literal(std::slice::from_ref(t)),
            _ => false,
        }),
        _ => false,
    })
}

fn has_imprecise_number(attr: &Attr) -> bool {
    match attr {
        Attr::N(n) => n.significant_digits() > MAX_FLOAT_DIGITS,
        Attr::Ns(v) => v.iter().any(|n| n.significant_digits() > MAX_FLOAT_DIGITS),
        Attr::M(m) => m.values().any(has_imprecise_number),
        Attr::L(l) => l.iter().any(has_imprecise_number),
        _ => false,
    }
}

/// `pk="USER#1", sk=5` from the key attributes (only those; missing ones say so).
fn render_key(item: &Item, key: &[String]) -> String {
    if key.is_empty() {
        return "(key attributes not configured)".to_owned();
    }
    key.iter()
        .map(|k| match item.get(k) {
            Some(Attr::S(s)) => format!("{k}={s:?}"),
            Some(Attr::N(n)) => format!("{k}={}", n.canonical()),
            Some(Attr::B(b)) => format!("{k}=<{} bytes>", b.len()),
            Some(other) => format!("{k}=<{}>", other.type_name()),
            None => format!("{k}=<missing>"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Mask quoted strings and digits of a jq error message (jq quotes the values it fails on).
fn mask(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                out.push_str("\"…\"");
                let mut escaped = false;
                for c in chars.by_ref() {
                    match c {
                        '\\' if !escaped => escaped = true,
                        '"' if !escaped => break,
                        _ => escaped = false,
                    }
                }
            }
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Check every number of a filter output (see the module docs).
fn check_numbers(v: &Val, imprecise_inputs: bool) -> Result<(), String> {
    match v {
        Val::Num(n) => check_number(n, imprecise_inputs),
        Val::Arr(a) => a
            .iter()
            .try_for_each(|x| check_numbers(x, imprecise_inputs)),
        Val::Obj(o) => o
            .values()
            .try_for_each(|x| check_numbers(x, imprecise_inputs)),
        _ => Ok(()),
    }
}

fn check_number(n: &Num, imprecise_inputs: bool) -> Result<(), String> {
    let text = match n {
        Num::Int(_) | Num::BigInt(_) | Num::Dec(_) => n.to_string(),
        Num::Float(f) => {
            if !f.is_finite() {
                return Err("arithmetic produced a non-finite number (NaN or infinity)".to_owned());
            }
            if imprecise_inputs {
                return Err(format!(
                    "floating-point arithmetic on an item or filter that holds a number with more \
                     than {MAX_FLOAT_DIGITS} significant digits may have rounded it; \
                     use integer arithmetic"
                ));
            }
            let text = n.to_string();
            let digits = Number::parse(&text)
                .map(|n| n.significant_digits())
                .unwrap_or(usize::MAX);
            if digits > MAX_FLOAT_DIGITS {
                return Err(format!(
                    "floating-point arithmetic gave an inexact number ({digits} significant digits \
                     after binary rounding; at most {MAX_FLOAT_DIGITS} are accepted)"
                ));
            }
            text
        }
    };
    Number::parse(&text).map(drop).map_err(|e| match e {
        crate::number::NumberError::TooPrecise(_, digits) => format!(
            "a number has {digits} significant digits; DynamoDB keeps at most {}",
            crate::number::MAX_DIGITS
        ),
        crate::number::NumberError::OutOfRange(_) => {
            "a number is out of DynamoDB's range (1E-130 to 9.99…E+125)".to_owned()
        }
        crate::number::NumberError::Syntax(_) => "a number is not a decimal".to_owned(),
    })
}
