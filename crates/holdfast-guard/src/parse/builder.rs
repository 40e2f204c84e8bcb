//! Building a [`Node`] tree from `saphyr-parser` events.
//!
//! The events are pulled one by one (no recursion, so deep input cannot overflow the stack);
//! open sequences and mappings live on an explicit stack of [`Frame`]s. This is where keys are
//! checked (scalar, unique, no merge key), tags applied, aliases copied, and the depth and size
//! limits enforced. A node's position is where its content starts: after its tag and anchor
//! (an event's span starts at them; [`Source::content_start`] skips them).

use std::borrow::Cow;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use saphyr_parser::{Event, Marker, Parser, ScalarStyle, ScanError, Tag};

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

/// A syntax error. Inside a flow collection opened on an earlier line, the message names where
/// it opened: flow collections may spread over lines at any indentation (as in PyYAML), so a
/// missing `]` or `}` shows only where the text stops making sense, often lines further on.
fn syntax(err: &ScanError, open_flow: Option<(Span, Open)>) -> Failure {
    let at = span_of(*err.marker());
    let mut message = err.info().to_string();
    if let Some((opened, open)) = open_flow.filter(|(opened, _)| opened.line < at.line) {
        let what = match open {
            Open::Seq => "list",
            Open::Map => "mapping",
        };
        message = format!(
            "{message} (inside the flow {what} opened at line {}, column {})",
            opened.line, opened.column
        );
    }
    Failure::Syntax(ParseError::at(at, message))
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
    let mut source = Source::new(text);
    let mut builder = Builder::default();
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, event_span) = next.map_err(|e| syntax(&e, builder.open_flow()))?;
        let span = span_of(event_span.start);
        match event {
            Event::StreamEnd => break,
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(semantic(
                        span,
                        "a second YAML document: a template must be a single document",
                    ));
                }
            }
            Event::Alias(id) => builder.alias(id, span)?,
            Event::Scalar(value, style, anchor, tag) => {
                let (span, _) = source.content_start(event_span, anchor, tag.is_some());
                builder.scalar(value.into_owned(), style, anchor, tag.as_deref(), span)?;
            }
            Event::SequenceStart(anchor, tag) => {
                let (span, index) = source.content_start(event_span, anchor, tag.is_some());
                let flow = source.char_at(index) == Some('[');
                builder.open(Open::Seq, flow, anchor, tag.map(Cow::into_owned), span)?;
            }
            Event::MappingStart(anchor, tag) => {
                let (span, index) = source.content_start(event_span, anchor, tag.is_some());
                let flow = source.char_at(index) == Some('{');
                builder.open(Open::Map, flow, anchor, tag.map(Cow::into_owned), span)?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close()?,
        }
    }
    match builder.root {
        Some(root) if !builder.root_is_empty => Ok(root),
        _ => Err(semantic(Span::new(1, 1), "empty template")),
    }
}

/// The source text, to find where a node's content starts after its tag and anchor.
///
/// Event positions count characters; this keeps a cursor (character index, byte offset) that
/// moves forward only, as the events do, so the whole parse reads the text once.
struct Source<'a> {
    text: &'a str,
    /// A character index and its byte offset in `text`.
    cursor: (usize, usize),
}

impl<'a> Source<'a> {
    fn new(text: &'a str) -> Source<'a> {
        Source {
            text,
            cursor: (0, 0),
        }
    }

    /// The byte offset of character `index` (the end of the text if past it).
    fn byte_of(&mut self, index: usize) -> usize {
        if index < self.cursor.0 {
            self.cursor = (0, 0);
        }
        let (mut at, mut byte) = self.cursor;
        let mut chars = self.text[byte..].chars();
        while at < index {
            let Some(c) = chars.next() else { break };
            at += 1;
            byte += c.len_utf8();
        }
        self.cursor = (at, byte);
        byte
    }

    /// The character at character index `index`.
    fn char_at(&mut self, index: usize) -> Option<char> {
        let byte = self.byte_of(index);
        self.text[byte..].chars().next()
    }

    /// Where the content of the node whose event spans `span` starts, and its character
    /// index. An event with a tag or an anchor starts at them (`!Ref X`, `&a [1]`,
    /// `!Sub\n  - …`): skip them, with the blanks, line breaks and comments after them. Without
    /// either, or when nothing follows within the event (an empty tagged value), the event's own
    /// start.
    fn content_start(
        &mut self,
        span: saphyr_parser::Span,
        anchor: usize,
        tagged: bool,
    ) -> (Span, usize) {
        let start = span.start;
        if anchor == 0 && !tagged {
            return (span_of(start), start.index());
        }
        let byte = self.byte_of(start.index());
        let (mut index, mut line, mut col) = (start.index(), start.line(), start.col());
        let mut chars = self.text[byte..].chars().peekable();
        // Between properties, inside one (`!tag`, `&anchor`), inside `!<…>`, inside a comment.
        enum In {
            Between,
            Property,
            Verbatim,
            Comment,
        }
        let mut state = In::Between;
        while let Some(&c) = chars.peek() {
            match state {
                In::Between => match c {
                    ' ' | '\t' | '\n' | '\r' => {}
                    '#' => state = In::Comment,
                    '!' | '&' => state = In::Property,
                    _ => break,
                },
                In::Property if c == '<' => state = In::Verbatim,
                // A property ends at a blank or a flow indicator, which may be the content.
                In::Property if c.is_whitespace() || ",[]{}".contains(c) => {
                    state = In::Between;
                    continue;
                }
                In::Verbatim if c == '>' => state = In::Between,
                In::Comment if c == '\n' || c == '\r' => state = In::Between,
                In::Property | In::Verbatim | In::Comment => {}
            }
            chars.next();
            index += 1;
            if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
                line += 1;
                col = 0;
            } else if c != '\r' {
                col += 1;
            }
        }
        if index > span.end.index() {
            return (span_of(start), start.index());
        }
        (
            Span::new(to_u32(line), to_u32(col).saturating_add(1)),
            index,
        )
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

#[derive(Clone, Copy)]
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
    /// A flow collection (`[…]`, `{…}`), not a block one (nor a single pair inside `[…]`).
    flow: bool,
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
        style: ScalarStyle,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<()> {
        // `! text` is an untagged string: never resolved, never a merge key.
        let non_specific = tag.is_some_and(tags::is_non_specific);
        let tag = tag.filter(|_| !non_specific);
        let plain = style == ScalarStyle::Plain && tag.is_none() && !non_specific;
        let key = KeyText {
            text: text.clone(),
            plain,
        };
        let mut span = span;
        if text.is_empty() && style == ScalarStyle::Plain {
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
            None if plain => Node::new(scalar::resolve_plain(&text), span),
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

    /// The innermost open flow collection: where it starts and what it is.
    fn open_flow(&self) -> Option<(Span, Open)> {
        let frame = self.frames.iter().rev().find(|frame| frame.flow)?;
        let open = match frame.body {
            Body::Seq(_) => Open::Seq,
            Body::Map { .. } => Open::Map,
        };
        Some((frame.span, open))
    }

    fn open(
        &mut self,
        open: Open,
        flow: bool,
        anchor: usize,
        tag: Option<Tag>,
        span: Span,
    ) -> Result<()> {
        // `! [a]`, `! {a: b}`: the non-specific tag leaves the collection untagged.
        let tag = tag.filter(|tag| !tags::is_non_specific(tag));
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
            flow,
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
