//! Parsing CloudFormation templates, JSON or YAML, into a positioned [`Node`] tree.
//!
//! Both formats go through one YAML parser (`saphyr-parser`'s event API; JSON is YAML flow
//! syntax), so every node has its line and column. What the parser does beyond plain YAML:
//!
//! - It reads what PyYAML (and so cfn-lint) and CloudFormation read where strict YAML 1.2 does
//!   not: a flow collection's lines and its closing `]`/`}` may stand at any indentation, even
//!   left of its key (the workspace carries a patched `saphyr-parser` for this,
//!   `vendor/saphyr-parser/README.md`); a single pair inside a flow sequence may have a
//!   collection value (`[a, Key: [b]]` is `["a", {"Key": ["b"]}]`); YAML's non-specific tag
//!   `!` leaves a plain string, list or mapping (`! "text"`; `! 5432` is the string `"5432"`
//!   as YAML says, where PyYAML reads a number). Tabs as indentation stay errors, as in PyYAML.
//! - CloudFormation short-form tags become the long form: `!Ref X` → `{"Ref": "X"}`,
//!   `!GetAtt A.B` → `{"Fn::GetAtt": ["A", "B"]}` (split on the first dot), `!Sub …` →
//!   `{"Fn::Sub": …}`, and so on (see [`tags`]). A tagged scalar is always a string, as in
//!   CloudFormation's own parser. An unknown tag is an error.
//! - Plain scalars are resolved the way CloudFormation does: `true`/`false` (any of `true`,
//!   `True`, `TRUE`) → bool, `null`/`~`/empty → null, decimal integers and floats → number
//!   (source text kept), everything else → string. Quoted scalars are always strings. See
//!   [`scalar`].
//! - Anchors and aliases are resolved by copying the anchored node (CloudFormation itself
//!   documents aliases as unsupported, but tools that read templates before it, and humans
//!   diffing them, meet them). Merge keys (`<<`) are rejected with an error: CloudFormation
//!   does not support them, and a merge would hide which keys a resource really has.
//! - Errors: duplicate mapping keys (CloudFormation rejects them), more than one YAML document,
//!   an empty template, nesting deeper than [`MAX_DEPTH`], aliases expanding to more than
//!   [`MAX_NODES`] nodes.
//! - A leading byte-order mark is skipped.
//!
//! **JSON fallback.** A few valid JSON documents are not valid YAML: a `\uD83D\uDE00`
//! surrogate-pair escape, a key longer than 1,024 characters, a key split from its `:` by a
//! line break. When the YAML parser rejects a text whose first non-blank character is `{`, the
//! text is parsed again as JSON (serde_json); if that succeeds, that tree is used, with every
//! span set to where the root starts (positions are lost, the values are not; numbers are
//! re-printed from their `i64`/`u64`/`f64` value). If the JSON is well-formed but has a
//! duplicate key, that is the error; if it is not well-formed either, the YAML error is.
//!
//! The parser never panics on any input: limits guard depth and alias expansion, and a panic
//! inside the YAML library is caught and reported as an error.

mod builder;
mod json;
pub mod scalar;
pub mod tags;

use crate::value::Node;

/// Deepest nesting of sequences and mappings accepted.
pub const MAX_DEPTH: usize = 256;

/// Most nodes a template may expand to (aliases count their copies).
pub const MAX_NODES: usize = 2_000_000;

/// Why a template could not be parsed, and where (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl ParseError {
    pub(crate) fn new(line: u32, column: u32, message: impl Into<String>) -> ParseError {
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }

    pub(crate) fn at(span: crate::value::Span, message: impl Into<String>) -> ParseError {
        ParseError::new(span.line, span.column, message)
    }
}

impl holdfast_core::exit::Classify for ParseError {
    /// A text that does not parse is bad input.
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }
}

/// Parse a CloudFormation template written in JSON or YAML.
///
/// # Errors
/// [`ParseError`] with the position of the first problem: invalid YAML/JSON, an unknown tag,
/// a duplicate key, a merge key, several documents, an empty template, or a limit exceeded.
pub fn parse(text: &str) -> Result<Node, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match builder::parse_yaml(text) {
        Ok(node) => Ok(node),
        Err(builder::Failure::Syntax(err)) if looks_like_json(text) => {
            json::parse_json(text).map_err(|(json_err, category)| match category {
                // Valid JSON syntax that is not an acceptable template (a duplicate key).
                serde_json::error::Category::Data => json_err,
                _ => err,
            })
        }
        Err(builder::Failure::Syntax(err) | builder::Failure::Semantic(err)) => Err(err),
    }
}

/// Whether the first non-blank character is `{`.
fn looks_like_json(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

#[cfg(test)]
mod tests {
    use super::*;
    use holdfast_core::exit::Classify as _;

    #[test]
    fn a_text_that_does_not_parse_is_bad_input() {
        let error = parse("{\"a\": ").expect_err("refused");
        assert_eq!(error.outcome().code(), 2, "{error}");
    }
}
