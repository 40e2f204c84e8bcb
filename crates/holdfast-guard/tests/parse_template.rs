//! Parsing templates: short forms, scalars, spans, anchors, JSON, and the template model.

use holdfast_guard::parse::parse;
use holdfast_guard::template::{load, Template};
use holdfast_guard::value::{Node, Span, Value};

const SHORT_YAML: &str = include_str!("fixtures/parse/short_forms.yaml");
const LONG_JSON: &str = include_str!("fixtures/parse/short_forms.json");

fn yaml_template() -> Template {
    load(SHORT_YAML).expect("short_forms.yaml loads")
}

/// Find the 1-based line of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> u32 {
    let index = text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in text"));
    u32::try_from(index + 1).unwrap()
}

fn path<'a>(node: &'a Node, keys: &[&str]) -> &'a Node {
    keys.iter().fold(node, |n, k| {
        n.get(k).unwrap_or_else(|| panic!("no key {k}"))
    })
}

#[test]
fn every_short_form_equals_its_long_form() {
    let yaml = yaml_template();
    let json = load(LONG_JSON).expect("short_forms.json loads");
    assert!(yaml.same_as(&json), "YAML:\n{yaml:#?}\nJSON:\n{json:#?}");
    // Node by node, so a failure names the property.
    let (yt, jt) = (
        yaml.resource("Table").unwrap(),
        json.resource("Table").unwrap(),
    );
    let (yp, jp) = (
        yt.properties.as_ref().unwrap(),
        jt.properties.as_ref().unwrap(),
    );
    for (key, node) in yp.as_map().unwrap() {
        assert!(
            node.same_as(jp.get(key).unwrap()),
            "property {key}: {node:#?}"
        );
    }
    // And the whole trees.
    assert!(parse(SHORT_YAML)
        .unwrap()
        .same_as(&parse(LONG_JSON).unwrap()));
}

#[test]
fn short_forms_expand_as_documented() {
    let t = yaml_template();
    let props = t.resource("Table").unwrap().properties.clone().unwrap();
    let get_att = |key: &str| -> Vec<String> {
        let (name, arg) = props.get(key).unwrap().intrinsic().unwrap();
        assert_eq!(name, "Fn::GetAtt");
        arg.as_seq()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(get_att("StreamArn"), ["Bucket", "Arn"]);
    assert_eq!(get_att("Nested"), ["Stack", "Outputs.Value"]);
    assert_eq!(get_att("SeqGetAtt"), ["Queue", "QueueName"]);
    let (name, arg) = props.get("TableName").unwrap().intrinsic().unwrap();
    assert_eq!((name, arg.as_str()), ("Fn::Sub", Some("${Stage}-table")));
    let (name, arg) = props.get("Port").unwrap().intrinsic().unwrap();
    assert_eq!((name, arg.as_str()), ("Ref", Some("Port")));
    // A tagged scalar is a string, even when it looks like a number.
    let node = parse("A: !Ref 5432").unwrap();
    assert_eq!(
        node.get("A").unwrap().intrinsic().unwrap().1.value,
        Value::String("5432".into())
    );
    // !GetAtt without a dot is a one-element list.
    let node = parse("A: !GetAtt Bucket").unwrap();
    let arg = node.get("A").unwrap().intrinsic().unwrap().1;
    assert_eq!(arg.as_seq().unwrap().len(), 1);
}

#[test]
fn template_model_reads_every_section() {
    let t = yaml_template();
    assert_eq!(
        t.transform.as_ref().unwrap().as_seq().unwrap()[1].as_str(),
        Some("AWS::Serverless-2016-10-31")
    );
    let names: Vec<_> = t.parameters.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["Stage", "DbPassword", "Port"]);
    assert!(t.parameter("DbPassword").unwrap().no_echo);
    assert!(!t.parameter("Stage").unwrap().no_echo);
    assert_eq!(t.parameter("Port").unwrap().type_, "Number");
    assert_eq!(
        t.parameter("Port").unwrap().default.as_ref().unwrap().value,
        Value::Number("5432".into())
    );
    let conditions: Vec<_> = t.conditions.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(conditions, ["IsProd", "IsDev", "Both"]);
    assert!(t.mappings.is_some());
    let ids: Vec<_> = t.resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(ids, ["Table", "Bucket", "Queue", "Stack"]);
    assert_eq!(t.for_each.len(), 1);
    assert_eq!(t.for_each[0].0, "Fn::ForEach::Topics");
    assert_eq!(t.nested_stacks, ["Stack"]);
    let table = t.resource("Table").unwrap();
    assert_eq!(table.type_, "AWS::DynamoDB::Table");
    assert_eq!(table.condition.as_deref(), Some("IsProd"));
    assert_eq!(table.depends_on, ["Bucket", "Queue"]);
    assert_eq!(
        table
            .deletion_policy
            .as_ref()
            .unwrap()
            .intrinsic()
            .unwrap()
            .0,
        "Fn::If"
    );
    assert_eq!(
        table.update_replace_policy.as_ref().unwrap().as_str(),
        Some("Retain")
    );
    assert_eq!(t.resource("Bucket").unwrap().depends_on, ["Queue"]);
    assert!(t.resource("Bucket").unwrap().metadata.is_some());
    assert!(t.resource("Bucket").unwrap().properties.is_none());
    assert!(t.resource("Nope").is_none());
}

#[test]
fn spans_point_at_the_right_lines() {
    let t = yaml_template();
    let table = t.resource("Table").unwrap();
    // A block mapping starts at its first key.
    assert_eq!(
        table.span,
        Span::new(line_of(SHORT_YAML, "Type: AWS::DynamoDB::Table"), 5)
    );
    assert_eq!(
        t.parameter("Port").unwrap().span.line,
        line_of(SHORT_YAML, "Type: Number")
    );
    assert_eq!(t.for_each[0].1.line, line_of(SHORT_YAML, "- TopicName"));
    let props = table.properties.as_ref().unwrap();
    let sub = props.get("TableName").unwrap();
    let line = line_of(SHORT_YAML, "TableName: !Sub");
    assert_eq!(sub.span.line, line);
    // The tagged value's position (the scalar after the tag).
    assert_eq!(sub.span.column, 23);
    let arn = props.get("StreamArn").unwrap().intrinsic().unwrap().1;
    let parts = arn.as_seq().unwrap();
    assert_eq!(
        parts[0].span,
        Span::new(line_of(SHORT_YAML, "StreamArn:"), 26)
    );
    assert_eq!(
        parts[1].span,
        Span::new(line_of(SHORT_YAML, "StreamArn:"), 33)
    );
    let user_data = props.get("UserData").unwrap();
    assert_eq!(user_data.span.line, line_of(SHORT_YAML, "Fn::Sub: |"));

    // JSON: positions too.
    let json = load(LONG_JSON).unwrap();
    let bucket = json.resource("Bucket").unwrap();
    assert_eq!(bucket.span.line, line_of(LONG_JSON, "\"Bucket\": {"));
    assert_eq!(bucket.span.column, 15);
    let node = parse(LONG_JSON).unwrap();
    let queue = path(&node, &["Resources", "Queue", "Type"]);
    assert_eq!(queue.span.line, line_of(LONG_JSON, "\"Queue\": {"));
    assert_eq!(node.span, Span::new(1, 1));
}

#[test]
fn spans_in_a_small_template() {
    let text = "Resources:\n  A:\n    Type: X\n  B: {Type: Y}\n  C:\n  - 1\n";
    let node = parse(text).unwrap();
    assert_eq!(node.span, Span::new(1, 1));
    assert_eq!(path(&node, &["Resources"]).span, Span::new(2, 3));
    assert_eq!(path(&node, &["Resources", "A"]).span, Span::new(3, 5));
    assert_eq!(
        path(&node, &["Resources", "A", "Type"]).span,
        Span::new(3, 11)
    );
    assert_eq!(path(&node, &["Resources", "B"]).span, Span::new(4, 6));
    // An indentless block sequence starts at its first item (the event has no `-` position).
    assert_eq!(path(&node, &["Resources", "C"]).span, Span::new(6, 5));
    // An empty value points at its key (its event sits at the next token).
    let empty = parse("a: 1\nb:\n\n\nc: 2\n").unwrap();
    assert_eq!(empty.get("b").unwrap().value, Value::Null);
    assert_eq!(empty.get("b").unwrap().span, Span::new(2, 1));
    // CRLF line endings count lines the same way.
    let crlf = text.replace('\n', "\r\n");
    assert!(parse(&crlf).unwrap().same_as(&node));
    assert_eq!(
        path(&parse(&crlf).unwrap(), &["Resources", "A", "Type"]).span,
        Span::new(3, 11)
    );
}

#[test]
fn quoted_and_plain_scalars_have_the_same_text() {
    let node = parse(
        "a: \"5432\"\nb: 5432\nc: true\nd: 'true'\ne: 1.50\nf: '1.5'\ng: 5432.0\nh: +7\ni: 007\nj: True\n",
    )
    .unwrap();
    let text = |k: &str| node.get(k).unwrap().scalar_text().unwrap();
    assert_eq!(node.get("a").unwrap().value, Value::String("5432".into()));
    assert_eq!(node.get("b").unwrap().value, Value::Number("5432".into()));
    assert_eq!(text("a"), text("b"));
    assert!(node
        .get("a")
        .unwrap()
        .cfn_equivalent(node.get("b").unwrap()));
    assert!(!node.get("a").unwrap().same_as(node.get("b").unwrap()));
    assert_eq!(text("c"), text("d"));
    assert_eq!(text("c"), "true");
    assert_eq!(text("j"), "true");
    assert_eq!(text("e"), text("f"));
    assert_eq!(text("g"), "5432");
    assert_eq!(text("h"), "7");
    assert_eq!(text("i"), "007");
    // Deep equivalence across a JSON and a YAML spelling.
    let json = parse(r#"{"Port": 5432, "Enabled": "true", "Tags": [{"Value": 1.50}]}"#).unwrap();
    let yaml = parse("Port: '5432'\nEnabled: true\nTags:\n  - Value: '1.5'\n").unwrap();
    assert!(json.cfn_equivalent(&yaml));
    assert!(!json.same_as(&yaml));
}

#[test]
fn plain_scalars_resolve_like_cloudformation() {
    let node = parse(
        "a: ~\nb:\nc: null\nd: false\ne: -0.5\nf: 1e3\ng: yes\nh: 2010-09-09\ni: '~'\nj: |\n  x\nk: 0x1F\n",
    )
    .unwrap();
    let v = |k: &str| node.get(k).unwrap().value.clone();
    assert_eq!(v("a"), Value::Null);
    assert_eq!(v("b"), Value::Null);
    assert_eq!(v("c"), Value::Null);
    assert_eq!(v("d"), Value::Bool(false));
    assert_eq!(v("e"), Value::Number("-0.5".into()));
    assert_eq!(v("f"), Value::Number("1e3".into()));
    assert_eq!(v("g"), Value::String("yes".into()));
    assert_eq!(v("h"), Value::String("2010-09-09".into()));
    assert_eq!(v("i"), Value::String("~".into()));
    assert_eq!(v("j"), Value::String("x\n".into()));
    assert_eq!(v("k"), Value::String("0x1F".into()));
}

#[test]
fn standard_tags() {
    let node = parse(
        "a: !!str 5432\nb: !!int \"12\"\nc: !!float 1.5\nd: !!bool 'true'\ne: !!null ''\nf: !!map {x: 1}\ng: !!seq [1]\nh: !<tag:yaml.org,2002:str> 7\ni: !<!Ref> X\n",
    )
    .unwrap();
    let v = |k: &str| node.get(k).unwrap().value.clone();
    assert_eq!(v("a"), Value::String("5432".into()));
    assert_eq!(v("b"), Value::Number("12".into()));
    assert_eq!(v("c"), Value::Number("1.5".into()));
    assert_eq!(v("d"), Value::Bool(true));
    assert_eq!(v("e"), Value::Null);
    assert!(node.get("f").unwrap().as_map().is_some());
    assert!(node.get("g").unwrap().as_seq().is_some());
    assert_eq!(v("h"), Value::String("7".into()));
    assert_eq!(node.get("i").unwrap().intrinsic().unwrap().0, "Ref");
}

#[test]
fn anchors_and_aliases_are_copied() {
    let node = parse(
        "Tags: &tags\n  - Key: a\n    Value: !Ref B\nOther: *tags\nName: &n hello\nAgain: *n\n*n : key-from-alias\n",
    )
    .unwrap();
    assert!(node
        .get("Tags")
        .unwrap()
        .same_as(node.get("Other").unwrap()));
    assert_eq!(node.get("Other").unwrap().span, Span::new(4, 8));
    assert_eq!(node.get("Again").unwrap().as_str(), Some("hello"));
    assert_eq!(node.get("hello").unwrap().as_str(), Some("key-from-alias"));
    // An anchored tag is copied expanded.
    let node = parse("A: &r !Ref X\nB: *r\n").unwrap();
    assert_eq!(node.get("B").unwrap().intrinsic().unwrap().0, "Ref");
}

#[test]
fn map_keeps_source_order() {
    let node = parse("z: 1\na: 2\nm: 3\n").unwrap();
    let keys: Vec<_> = node
        .as_map()
        .unwrap()
        .iter()
        .map(|e| e.0.as_str())
        .collect();
    assert_eq!(keys, ["z", "a", "m"]);
    // Keys are their source text, whatever they would resolve to.
    let node = parse("true: 1\n5432: 2\n~: 3\n").unwrap();
    let keys: Vec<_> = node
        .as_map()
        .unwrap()
        .iter()
        .map(|e| e.0.as_str())
        .collect();
    assert_eq!(keys, ["true", "5432", "~"]);
}

#[test]
fn typical_json_templates_parse() {
    let text = r#"{"a":"x\/y\u00e9\t\"q\"\\","b":[1,-0.5,1e3,-1.5E+10,0,true,false,null],"c":{"d":{"e":[[],{}]}}}"#;
    let node = parse(text).unwrap();
    assert_eq!(node.get("a").unwrap().as_str(), Some("x/yé\t\"q\"\\"));
    let b: Vec<_> = node
        .get("b")
        .unwrap()
        .as_seq()
        .unwrap()
        .iter()
        .map(|n| n.value.clone())
        .collect();
    assert_eq!(
        b,
        [
            Value::Number("1".into()),
            Value::Number("-0.5".into()),
            Value::Number("1e3".into()),
            Value::Number("-1.5E+10".into()),
            Value::Number("0".into()),
            Value::Bool(true),
            Value::Bool(false),
            Value::Null,
        ]
    );
    assert!(path(&node, &["c", "d", "e"]).as_seq().unwrap()[1]
        .as_map()
        .unwrap()
        .is_empty());
    // Tab-indented, pretty-printed JSON with a large array; and a byte-order mark.
    let items: Vec<String> = (0..5000).map(|i| format!("\t\t{i}")).collect();
    let text = format!(
        "\u{feff}{{\n\t\"big\": [\n{}\n\t],\n\t\"s\": \"\\b\\f\\n\\r\"\n}}\n",
        items.join(",\n")
    );
    let node = parse(&text).unwrap();
    let big = node.get("big").unwrap().as_seq().unwrap();
    assert_eq!(big.len(), 5000);
    assert_eq!(big[4999].value, Value::Number("4999".into()));
    assert_eq!(big[4999].span.line, 5002);
    assert_eq!(node.get("s").unwrap().as_str(), Some("\u{8}\u{c}\n\r"));
    // The generated JSON of serde_json itself round-trips.
    let value = serde_json::json!({"Resources": {"T": {"Type": "X", "Properties": {"N": [1.25, "é", {"k": null}]}}}});
    let node = parse(&serde_json::to_string_pretty(&value).unwrap()).unwrap();
    assert_eq!(
        path(&node, &["Resources", "T", "Properties", "N"])
            .as_seq()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn json_the_yaml_parser_rejects_falls_back_to_serde_json() {
    // A surrogate-pair escape and a key longer than YAML's 1,024-character limit.
    let long_key = "k".repeat(2000);
    let text = format!(
        "{{\n  \"Resources\": {{\n    \"T\": {{\"Type\": \"X\", \"Properties\": {{\"Emoji\": \"\\ud83d\\ude00\", \"{long_key}\": 1.50}}}}\n  }}\n}}"
    );
    let t = load(&text).unwrap();
    let props = t.resource("T").unwrap().properties.as_ref().unwrap();
    assert_eq!(props.get("Emoji").unwrap().as_str(), Some("😀"));
    assert_eq!(
        props.get(&long_key).unwrap().scalar_text().as_deref(),
        Some("1.5")
    );
    // Positions are lost: every node sits at the root.
    assert_eq!(t.resource("T").unwrap().span, Span::new(1, 1));
    let keys: Vec<_> = props.as_map().unwrap().iter().map(|e| e.0.len()).collect();
    assert_eq!(keys, [5, 2000], "order kept");
    // Duplicate keys are caught on that path too.
    let dup = "{\"a\": \"\\ud83d\\ude00\", \"a\": 2}";
    let err = parse(dup).unwrap_err();
    assert!(err.message.contains("duplicate key `a`"), "{err}");
}

#[test]
fn template_sections_may_be_null_or_absent() {
    let t =
        load("Parameters:\nConditions:\nResources:\n  A:\n    Type: X\n    Properties:\n").unwrap();
    assert!(t.parameters.is_empty());
    assert!(t.conditions.is_empty());
    assert!(t.resources[0].properties.is_none());
    assert!(t.transform.is_none());
    let t = load("{\"Transform\": \"AWS::Serverless-2016-10-31\", \"Resources\": {}}").unwrap();
    assert_eq!(
        t.transform.unwrap().as_str(),
        Some("AWS::Serverless-2016-10-31")
    );
    assert!(t.resources.is_empty());
}

// ---------------------------------------------------------------------------------------------
// YAML that PyYAML (and so cfn-lint) and CloudFormation accept, though strict YAML 1.2 readers
// reject it or read it wrong. Each expectation is what PyYAML reads.

const PYYAML_YAML: &str = include_str!("fixtures/parse/pyyaml_constructs.yaml");
const PYYAML_JSON: &str = include_str!("fixtures/parse/pyyaml_constructs.json");

/// The span of the first occurrence of `needle` in `text` (1-based line and column, in
/// characters).
fn at(text: &str, needle: &str) -> Span {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in text"));
    let before = &text[..byte];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Span::new(u32::try_from(line).unwrap(), u32::try_from(column).unwrap())
}

fn string(s: &str) -> Value {
    Value::String(s.into())
}

/// The scalar values of a sequence.
fn strings(node: &Node) -> Vec<Value> {
    node.as_seq()
        .unwrap_or_else(|| panic!("not a list: {node:?}"))
        .iter()
        .map(|n| n.value.clone())
        .collect()
}

#[test]
fn the_pyyaml_fixture_reads_as_cfn_lint_reads_it() {
    let yaml = parse(PYYAML_YAML).unwrap_or_else(|e| panic!("pyyaml_constructs.yaml: {e}"));
    let json = parse(PYYAML_JSON).unwrap();
    // Section by section, so a failure names the part.
    for (key, node) in json.as_map().unwrap() {
        let got = yaml.get(key).unwrap_or_else(|| panic!("no {key}"));
        assert!(got.same_as(node), "{key}:\n{got:#?}\nexpected:\n{node:#?}");
    }
    assert!(yaml.same_as(&json));
    load(PYYAML_YAML).expect("the template model reads it");
}

#[test]
fn the_non_specific_tag_leaves_a_plain_value() {
    // `!` is YAML's non-specific tag: the node is an untagged string, list or mapping.
    let text = "Value: ! \"some text\"\nSingle: ! 'x'\nPlain: ! some text\nPort: ! 5432\nFlag: ! true\nList: ! [a, !Ref B]\nMap: ! {a: b}\nBlock: !\n  a: b\n! Key: v\nInFlow: [! \"x\", ! y]\n";
    let node = parse(text).unwrap();
    let v = |k: &str| {
        node.get(k)
            .unwrap_or_else(|| panic!("no {k}"))
            .value
            .clone()
    };
    assert_eq!(v("Value"), string("some text"));
    assert_eq!(v("Single"), string("x"));
    assert_eq!(v("Plain"), string("some text"));
    // YAML: a `!` scalar is a string, never resolved (PyYAML reads 5432 and true here; the
    // template means the same either way, see `cfn_equivalent`).
    assert_eq!(v("Port"), string("5432"));
    assert!(node
        .get("Port")
        .unwrap()
        .cfn_equivalent(&parse("5432").unwrap()));
    assert_eq!(v("Flag"), string("true"));
    let list = node.get("List").unwrap();
    assert_eq!(list.as_seq().unwrap()[0].value, string("a"));
    assert_eq!(list.as_seq().unwrap()[1].intrinsic().unwrap().0, "Ref");
    assert_eq!(path(&node, &["Map", "a"]).value, string("b"));
    assert_eq!(path(&node, &["Block", "a"]).value, string("b"));
    assert_eq!(v("Key"), string("v"));
    assert_eq!(
        strings(node.get("InFlow").unwrap()),
        [string("x"), string("y")]
    );
    // Positions: the value after the tag, as for every tag.
    assert_eq!(node.get("Value").unwrap().span, at(text, "\"some text\""));
    assert_eq!(node.get("Port").unwrap().span, at(text, "5432"));
    assert_eq!(node.get("List").unwrap().span, at(text, "[a, "));
    assert_eq!(node.get("Block").unwrap().span, at(text, "a: b\n!"));
    assert_eq!(
        node.get("InFlow").unwrap().as_seq().unwrap()[1].span,
        at(text, "y]")
    );
}

#[test]
fn flow_collections_may_close_and_continue_left_of_their_key() {
    let head = "Resources:\n  F:\n    Type: X\n    Properties:\n";
    let arch = |node: &Node| path(node, &["Resources", "F", "Properties", "Architectures"]).clone();
    for (what, body) in [
        (
            "closing below the content",
            "      Architectures: [\n        \"arm64\"\n       ]\n",
        ),
        (
            "closing at the key's column",
            "      Architectures: [\n        \"arm64\"\n      ]\n",
        ),
        (
            "closing at the parent's column",
            "      Architectures: [\n        \"arm64\"\n    ]\n",
        ),
        (
            "closing at column 1",
            "      Architectures: [\n        \"arm64\"\n]\n",
        ),
        (
            "content at the key's column",
            "      Architectures: [\n      \"arm64\"\n      ]\n",
        ),
        (
            "content at column 1",
            "      Architectures: [\n\"arm64\"\n]\n",
        ),
        (
            "content and comma at column 1",
            "      Architectures: [\n\"arm64\"\n,\nx86_64 ]\n",
        ),
    ] {
        let text = format!("{head}{body}      Runtime: python3.12\n");
        let node = parse(&text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
        let list = arch(&node);
        let expected = if what.contains("comma") {
            vec![string("arm64"), string("x86_64")]
        } else {
            vec![string("arm64")]
        };
        assert_eq!(strings(&list), expected, "{what}");
        assert_eq!(list.span, at(&text, "["), "{what}");
        assert_eq!(
            list.as_seq().unwrap()[0].span,
            at(&text, "\"arm64\""),
            "{what}"
        );
        // The block mapping goes on after the flow collection.
        assert_eq!(
            path(&node, &["Resources", "F", "Properties", "Runtime"]).value,
            string("python3.12"),
            "{what}"
        );
    }

    // Mappings, nested collections, tags and plain scalars across lines.
    let text = "A:\n  B: {\n    k: !Ref X,\n  j: [1,\n2], l: {m:\n n}\n}\n  C:\n  - [\n    x\n]\n  - [y\n  z]\nD: [\nplain\n  words, 'quoted\n words'\n]\n";
    let node = parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(path(&node, &["A", "B", "k"]).intrinsic().unwrap().0, "Ref");
    assert_eq!(
        strings(path(&node, &["A", "B", "j"])),
        [Value::Number("1".into()), Value::Number("2".into())]
    );
    assert_eq!(path(&node, &["A", "B", "l", "m"]).value, string("n"));
    assert_eq!(path(&node, &["A", "B"]).span, at(text, "{\n"));
    assert_eq!(
        path(&node, &["A", "B", "j"]).as_seq().unwrap()[1].span,
        at(text, "2]")
    );
    let c = path(&node, &["A", "C"]).as_seq().unwrap();
    assert_eq!(strings(&c[0]), [string("x")]);
    assert_eq!(strings(&c[1]), [string("y z")]);
    assert_eq!(
        strings(node.get("D").unwrap()),
        [string("plain words"), string("quoted words")]
    );
    assert_eq!(
        node.get("D").unwrap().as_seq().unwrap()[0].span,
        at(text, "plain")
    );

    // The whole template at column 1 inside a root flow mapping, as some generators write JSON.
    let text = "{\n\"Resources\": {\n\"T\": {\"Type\": \"X\"}\n}\n}\n";
    let node = parse(text).unwrap();
    assert_eq!(path(&node, &["Resources", "T"]).span, at(text, "{\"Type\""));
}

#[test]
fn single_pair_mappings_inside_flow_sequences() {
    let one = |k: &str, v: Node| Value::Map(vec![(k.to_string(), v)]);
    let text = "Key: [ \"a\", ID: [ \"x\" ] ]\n";
    let node = parse(text).unwrap();
    let items = node.get("Key").unwrap().as_seq().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].value, string("a"));
    assert_eq!(strings(items[1].get("ID").unwrap()), [string("x")]);
    assert_eq!(items[1].as_map().unwrap().len(), 1);
    // The pair's mapping starts at its key.
    assert_eq!(items[1].span, at(text, "ID"));
    assert_eq!(items[1].get("ID").unwrap().span, at(text, "[ \"x"));
    assert_eq!(
        items[1].get("ID").unwrap().as_seq().unwrap()[0].span,
        at(text, "\"x\"")
    );

    // A mapping value; a quoted key; several pairs; a tagged value; an empty value; an
    // intrinsic function's long form; and a pair after a collection.
    let text = "A: [ a: {b: c, d: e} ]\nB: [ \"k\": [x], 'l': {y: z} ]\nC: [ K: !Sub [x, {}], L: !Ref R ]\nD: [ K: ]\nE: [ Fn::If: [c, a, b] ]\nF: [ [1], m: [2], {n: 3}, o: p ]\n";
    let node = parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let item = |k: &str, i: usize| node.get(k).unwrap().as_seq().unwrap()[i].clone();
    assert_eq!(path(&item("A", 0), &["a", "b"]).value, string("c"));
    assert_eq!(path(&item("A", 0), &["a", "d"]).value, string("e"));
    assert_eq!(item("A", 0).as_map().unwrap().len(), 1);
    assert_eq!(strings(item("B", 0).get("k").unwrap()), [string("x")]);
    assert_eq!(path(&item("B", 1), &["l", "y"]).value, string("z"));
    assert_eq!(item("B", 1).span, at(text, "'l'"));
    assert_eq!(
        item("C", 0).get("K").unwrap().intrinsic().unwrap().0,
        "Fn::Sub"
    );
    assert_eq!(item("C", 1).get("L").unwrap().intrinsic().unwrap().0, "Ref");
    assert_eq!(
        item("D", 0).value,
        one("K", Node::new(Value::Null, at(text, "K: ]")))
    );
    assert_eq!(item("E", 0).intrinsic().unwrap().0, "Fn::If");
    assert_eq!(strings(item("E", 0).get("Fn::If").unwrap()).len(), 3);
    let f = node.get("F").unwrap().as_seq().unwrap();
    assert_eq!(f.len(), 4);
    assert_eq!(strings(f[1].get("m").unwrap()), [Value::Number("2".into())]);
    assert_eq!(f[3].get("o").unwrap().value, string("p"));
    assert_eq!(f[3].span, at(text, "o: p"));
}
#[test]
fn a_fn_transform_in_resources_is_kept_not_rejected() {
    let t = load(
        "Resources:\n  Fn::Transform:\n    Name: AWS::Include\n    Parameters:\n      Location: s3://b/r.yaml\n  Queue:\n    Type: AWS::SQS::Queue\n",
    )
    .unwrap();
    assert_eq!(t.resources.len(), 1);
    assert_eq!(t.resources[0].logical_id, "Queue");
    let include = t.resources_transform.expect("the include is kept");
    assert_eq!(
        include.get("Name").and_then(|n| n.as_str()),
        Some("AWS::Include")
    );
}
