//! Building a [`Node`] tree from `yaml-rust2` parser events.
//!
//! The events are pulled one by one (no recursion, so deep input cannot overflow the stack);
//! open sequences and mappings live on an explicit stack of [`Frame`]s. This is where keys are
//! checked (scalar, unique, no merge key), tags applied, aliases copied, and the depth and size
//! limits enforced.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::{scalar, tags, ParseError, MAX_DEPTH, MAX_NODES};
use crate::value::{Node, Span, Value};

/// Why the YAML parse failed.
pub(super) enum Failure {
    /// The text is not well-formed YAML (the JSON fallback may still read it).
    Syntax(ParseError),
    /// Well-formed YAML that is not an acceptable template.
    Semantic(ParseError),
}

type Result<T> = std::result::Result<T, Failure>;

fn semantic(span: Span, message: impl Into<String>) -> Failure {
    Failure::Semantic(ParseError::at(span, message))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn span_of(mark: Marker) -> Span {
    Span::new(to_u32(mark.line()), to_u32(mark.col()).saturating_add(1))
}

fn syntax(err: &ScanError) -> Failure {
    Failure::Syntax(ParseError::at(span_of(*err.marker()), err.info()))
}

/// Parse `text` as one YAML document.
pub(super) fn parse_yaml(text: &str) -> Result<Node> {
    match catch_unwind(AssertUnwindSafe(|| run(text))) {
        Ok(result) => result,
        Err(_) => Err(Failure::Syntax(ParseError::new(
            1,
            1,
            "the YAML parser failed on this input",
        ))),
    }
}

fn run(text: &str) -> Result<Node> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    let mut documents = 0;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| syntax(&e))?;
        let span = span_of(mark);
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err(semantic(
                        span,
                        "a second YAML document: a template must be a single document",
                    ));
                }
            }
            Event::Alias(id) => builder.alias(id, span)?,
            Event::Scalar(text, style, anchor, tag) => {
                builder.scalar(text, style, anchor, tag.as_ref(), span)?;
            }
            Event::SequenceStart(anchor, tag) => builder.open(Open::Seq, anchor, tag, span)?,
            Event::MappingStart(anchor, tag) => builder.open(Open::Map, anchor, tag, span)?,
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
        }
    }
    match builder.root {
        Some(root) if !builder.root_is_empty => Ok(root),
        _ => Err(semantic(Span::new(1, 1), "empty template")),
    }
}

/// A scalar's source text, kept so it can serve as a mapping key.
#[derive(Clone)]
struct KeyText {
    text: String,
    plain: bool,
}

/// A completed anchored node, for aliases to copy.
struct Anchored {
    node: Node,
    key: Option<KeyText>,
    size: usize,
}

enum Open {
    Seq,
    Map,
}

enum Body {
    Seq(Vec<Node>),
    Map {
        entries: Vec<(String, Node)>,
        /// Where each key was first seen, for duplicate messages.
        seen: HashMap<String, Span>,
        /// A key waiting for its value, and where the key is.
        pending: Option<(String, Span)>,
    },
}

/// An open sequence or mapping.
struct Frame {
    body: Body,
    span: Span,
    anchor: usize,
    tag: Option<Tag>,
    /// Nodes inside so far (for the expansion limit).
    size: usize,
}

#[derive(Default)]
struct Builder {
    frames: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    total: usize,
    root: Option<Node>,
    root_is_empty: bool,
}

impl Builder {
    fn scalar(
        &mut self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<()> {
        let key = KeyText {
            text: text.clone(),
            plain: style == TScalarStyle::Plain && tag.is_none(),
        };
        let mut span = span;
        if text.is_empty() && style == TScalarStyle::Plain {
            match self.frames.last() {
                None => self.root_is_empty = tag.is_none(),
                // An empty value's event sits at the next token: point at its key instead.
                Some(Frame {
                    body:
                        Body::Map {
                            pending: Some((_, key_span)),
                            ..
                        },
                    ..
                }) => span = *key_span,
                Some(_) => {}
            }
        }
        let node = match tag {
            Some(tag) => tags::tagged_scalar(tag, text, style, span).map_err(Failure::Semantic)?,
            None if style == TScalarStyle::Plain => Node::new(scalar::resolve_plain(&text), span),
            None => Node::new(Value::String(text), span),
        };
        let key = match node.value {
            Value::Map(_) | Value::Seq(_) => None,
            _ => Some(key),
        };
        self.complete(node, key, 1, anchor)
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<()> {
        let Some(anchored) = self.anchors.get(&id) else {
            return Err(semantic(
                span,
                "this alias refers to a node that contains it (recursive alias)",
            ));
        };
        let mut node = anchored.node.clone();
        node.span = span;
        let (key, size) = (anchored.key.clone(), anchored.size);
        self.complete(node, key, size, 0)
    }

    fn open(&mut self, open: Open, anchor: usize, tag: Option<Tag>, span: Span) -> Result<()> {
        if self.frames.len() >= MAX_DEPTH {
            return Err(semantic(
                span,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        let body = match open {
            Open::Seq => Body::Seq(Vec::new()),
            Open::Map => Body::Map {
                entries: Vec::new(),
                seen: HashMap::new(),
                pending: None,
            },
        };
        self.frames.push(Frame {
            body,
            span,
            anchor,
            tag,
            size: 1,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let Some(frame) = self.frames.pop() else {
            return Err(semantic(Span::new(1, 1), "unbalanced collection end"));
        };
        let value = match frame.body {
            Body::Seq(items) => Value::Seq(items),
            Body::Map {
                entries, pending, ..
            } => {
                if let Some((key, _)) = pending {
                    return Err(semantic(frame.span, format!("key `{key}` has no value")));
                }
                Value::Map(entries)
            }
        };
        let mut node = Node::new(value, frame.span);
        if let Some(tag) = &frame.tag {
            node = tags::tagged_collection(tag, node).map_err(Failure::Semantic)?;
        }
        self.complete(node, None, frame.size, frame.anchor)
    }

    /// Put a finished node (of `size` nodes) where it belongs.
    fn complete(
        &mut self,
        node: Node,
        key: Option<KeyText>,
        size: usize,
        anchor: usize,
    ) -> Result<()> {
        self.total = self.total.saturating_add(size);
        if self.total > MAX_NODES {
            return Err(semantic(
                node.span,
                format!("the template expands to more than {MAX_NODES} values (aliases included)"),
            ));
        }
        if anchor != 0 {
            let anchored = Anchored {
                node: node.clone(),
                key: key.clone(),
                size,
            };
            self.anchors.insert(anchor, anchored);
        }
        let Some(frame) = self.frames.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        frame.size = frame.size.saturating_add(size);
        match &mut frame.body {
            Body::Seq(items) => items.push(node),
            Body::Map {
                entries,
                seen,
                pending,
            } => match pending.take() {
                Some((key, _)) => entries.push((key, node)),
                None => {
                    let Some(key) = key else {
                        return Err(semantic(
                            node.span,
                            format!(
                                "a mapping key must be a scalar, found {}",
                                node.value.kind()
                            ),
                        ));
                    };
                    if key.plain && key.text == "<<" {
                        return Err(semantic(
                            node.span,
                            "YAML merge keys (`<<`) are not supported: CloudFormation rejects them",
                        ));
                    }
                    if let Some(first) = seen.get(&key.text) {
                        return Err(semantic(
                            node.span,
                            format!(
                                "duplicate key `{}` (first at line {}): CloudFormation rejects duplicate keys",
                                key.text, first.line
                            ),
                        ));
                    }
                    if seen.is_empty() && node.span < frame.span {
                        // A block mapping's start event sits after its first key.
                        frame.span = node.span;
                    }
                    seen.insert(key.text.clone(), node.span);
                    *pending = Some((key.text, node.span));
                }
            },
        }
        Ok(())
    }
}
