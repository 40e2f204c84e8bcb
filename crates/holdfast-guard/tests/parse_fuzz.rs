//! Property tests: the parser never panics on garbled input, every span it gives is inside the
//! text, and any JSON document serde_json writes parses to the same values.

use holdfast_guard::parse::parse;
use holdfast_guard::template::load;
use holdfast_guard::value::{Node, Value};
use proptest::prelude::*;

const SHORT_YAML: &str = include_str!("fixtures/parse/short_forms.yaml");
const LONG_JSON: &str = include_str!("fixtures/parse/short_forms.json");

/// YAML-significant fragments, glued together at random.
const FRAGMENTS: &[&str] = &[
    "\n",
    "\n  ",
    "\n    ",
    " ",
    "\t",
    "\r\n",
    ": ",
    ":",
    "- ",
    "-",
    "? ",
    "{",
    "}",
    "[",
    "]",
    ",",
    "#",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "<<: ",
    "---\n",
    "...\n",
    "\"",
    "'",
    "|\n",
    ">-\n",
    "!",
    "!Ref ",
    "!GetAtt ",
    "!Sub ",
    "!If ",
    "!!str ",
    "!!int ",
    "!!map ",
    "!<!Ref> ",
    "!Foo ",
    "%TAG ! tag:x:\n",
    "%YAML 1.2\n",
    "Resources",
    "Type",
    "Properties",
    "X",
    "a.b",
    "5432",
    "1.50",
    "true",
    "~",
    "null",
    "\\u00e9",
    "\\ud83d",
    "é",
    "😀",
    "\u{feff}",
    "\0",
    "@",
    "`",
    "Fn::ForEach::L",
    "\"k\"",
    "'v'",
    "%",
    "\\",
];

fn garbled() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..60).prop_map(|parts| parts.concat())
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, &'static str),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 1usize..20).prop_map(|(at, len)| Edit::Delete(at, len)),
        (any::<usize>(), prop::sample::select(FRAGMENTS)).prop_map(|(at, s)| Edit::Insert(at, s)),
    ];
    prop::collection::vec(edit, 1..6)
}

/// Apply `edits` to `text`, on character boundaries.
fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        match *edit {
            Edit::Delete(at, len) if !chars.is_empty() => {
                let at = at % chars.len();
                let end = (at + len).min(chars.len());
                chars.drain(at..end);
            }
            Edit::Delete(..) => {}
            Edit::Insert(at, s) => {
                let at = at % (chars.len() + 1);
                chars.splice(at..at, s.chars());
            }
        }
    }
    chars.into_iter().collect()
}

/// Every span is a real position: line within the text, column at least 1.
fn assert_spans_inside(node: &Node, lines: u32) {
    assert!(
        node.span.line >= 1 && node.span.line <= lines + 1,
        "{:?}",
        node.span
    );
    assert!(node.span.column >= 1, "{:?}", node.span);
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|n| assert_spans_inside(n, lines)),
        Value::Map(entries) => entries
            .iter()
            .for_each(|(_, n)| assert_spans_inside(n, lines)),
        _ => {}
    }
}

fn check(text: &str) {
    let lines = u32::try_from(text.split('\n').count()).unwrap();
    match parse(text) {
        Ok(node) => assert_spans_inside(&node, lines),
        Err(err) => {
            assert!(err.line >= 1 && err.column >= 1, "{err:?}");
            assert!(!err.message.is_empty());
        }
    }
    let _ = load(text);
}

/// The node serde_json's value should parse to.
fn expected(value: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => Value::Number(n.to_string()),
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::Seq(
            items
                .iter()
                .map(|v| Node::new(expected(v), Default::default()))
                .collect(),
        ),
        J::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), Node::new(expected(v), Default::default())))
                .collect(),
        ),
    }
}

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9:._/${}-]{0,12}",
        any::<String>(),
        "[ \\t\\n\"\\\\/#:,&*!|>?'%@`-]{0,8}",
        Just("true".to_string()),
        Just("5432".to_string()),
        Just(String::new()),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<u64>().prop_map(J::from),
        (-1e12f64..1e12).prop_map(J::from),
        json_string().prop_map(J::String),
    ];
    leaf.prop_recursive(5, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(J::Array),
            prop::collection::btree_map(json_string(), inner, 0..8)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn garbled_fragments_never_panic(text in garbled()) {
        check(&text);
    }

    #[test]
    fn mutated_yaml_template_never_panics(edits in edits()) {
        check(&mutate(SHORT_YAML, &edits));
    }

    #[test]
    fn mutated_json_template_never_panics(edits in edits()) {
        check(&mutate(LONG_JSON, &edits));
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        check(&text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn json_written_by_serde_json_parses_to_the_same_values(
        value in json_value(),
        pretty in any::<bool>(),
    ) {
        let root = serde_json::Value::Object(
            [("Root".to_string(), value)].into_iter().collect(),
        );
        let text = if pretty {
            serde_json::to_string_pretty(&root).unwrap()
        } else {
            serde_json::to_string(&root).unwrap()
        };
        let node = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let want = Node::new(expected(&root), Default::default());
        prop_assert!(node.same_as(&want), "{}\n{:#?}", text, node);
    }
}
