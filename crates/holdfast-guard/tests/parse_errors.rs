//! Every parse and template error: its message and the line it points at.

use holdfast_guard::parse::{parse, ParseError};
use holdfast_guard::template::{load, TemplateError};

#[track_caller]
fn parse_err(text: &str) -> ParseError {
    match parse(text) {
        Ok(node) => panic!("expected an error for {text:?}, got {node:?}"),
        Err(e) => e,
    }
}

/// Asserts the parse error's line and that its message contains `needle`.
#[track_caller]
fn assert_parse_err(text: &str, line: u32, needle: &str) -> ParseError {
    let err = parse_err(text);
    assert_eq!(err.line, line, "{err}");
    assert!(
        err.message.contains(needle),
        "{err:?} should contain {needle:?}"
    );
    assert!(err
        .to_string()
        .starts_with(&format!("line {line}, column {}: ", err.column)));
    // `load` reports it unchanged.
    assert_eq!(load(text).unwrap_err(), TemplateError::Parse(err.clone()));
    err
}

/// Asserts the template error's line, key and that its message contains `needle`.
#[track_caller]
fn assert_template_err(text: &str, line: u32, key: &str, needle: &str) {
    let err = load(text).expect_err("an invalid template");
    let TemplateError::Invalid {
        span,
        key: got_key,
        message,
    } = &err
    else {
        panic!("expected an invalid-template error, got {err:?}");
    };
    assert_eq!(span.line, line, "{err}");
    assert_eq!(err.span(), *span);
    assert_eq!(got_key, key, "{err}");
    assert!(message.contains(needle), "{err} should contain {needle:?}");
    assert!(
        err.to_string()
            .starts_with(&format!("line {line}, column ")),
        "{err}"
    );
}

#[test]
fn unknown_tags_are_named_with_their_line() {
    let base = "Resources:\n  A:\n    Type: X\n    Properties:\n";
    let err = assert_parse_err(&format!("{base}      P: !Foo bar\n"), 5, "unknown tag !Foo");
    assert_eq!(err.column, 15);
    assert_parse_err(&format!("{base}      P: !Bar [a]\n"), 5, "!Bar");
    assert_parse_err(
        &format!("{base}      P:\n        !Baz\n        a: 1\n"),
        7,
        "!Baz",
    );
    assert_parse_err("a: !!set {x: 1}\n", 1, "unknown tag !!set");
    assert_parse_err(
        "a: !!binary aGVsbG8=\n",
        1,
        "!!binary: CloudFormation does not support it",
    );
    assert_parse_err("a:\n  b: !!timestamp 2001-12-14\n", 2, "!!timestamp");
    assert_parse_err("a: !<tag:example.com:x> 1\n", 1, "tag:example.com:x");
    assert_parse_err("a: !GetAttr A.B\n", 1, "!GetAttr");
}

#[test]
fn standard_tags_must_fit_their_value() {
    assert_parse_err("a: !!int abc\n", 1, "`abc` is not a !!int");
    assert_parse_err("a: !!float x\n", 1, "not a !!float");
    assert_parse_err("a: !!bool maybe\n", 1, "not a !!bool");
    assert_parse_err(
        "a:\n  b: !!seq x\n",
        2,
        "!!seq cannot be applied to a scalar",
    );
    assert_parse_err("a: !!str [1]\n", 1, "!!str cannot be applied to a list");
    assert_parse_err(
        "a: !!seq {b: 1}\n",
        1,
        "!!seq cannot be applied to a mapping",
    );
}

#[test]
fn duplicate_keys_are_named_with_both_lines() {
    let text = "Resources:\n  A:\n    Type: X\n  A:\n    Type: Y\n";
    assert_parse_err(text, 4, "duplicate key `A` (first at line 2)");
    assert_parse_err("a: {b: 1, b: 2}\n", 1, "duplicate key `b`");
    assert_parse_err(
        "{\n  \"a\": 1,\n  \"b\": {\"c\": 1,\n   \"c\": 2}\n}\n",
        4,
        "duplicate key `c` (first at line 3)",
    );
    // Quoting does not make a key different.
    assert_parse_err("a: 1\n'a': 2\n", 2, "duplicate key `a`");
}

#[test]
fn several_documents_are_rejected() {
    assert_parse_err("a: 1\n---\nb: 2\n", 2, "second YAML document");
    assert_parse_err("--- \na: 1\n...\n---\nb: 2\n", 4, "second YAML document");
}

#[test]
fn empty_templates_are_rejected() {
    for text in [
        "",
        "   \n\n",
        "# only a comment\n",
        "---\n",
        "\u{feff}",
        "---\n...\n",
    ] {
        assert_parse_err(text, 1, "empty template");
    }
}

#[test]
fn merge_keys_are_rejected() {
    let text = "Base: &b {Type: X}\nResources:\n  A:\n    <<: *b\n";
    assert_parse_err(text, 4, "merge keys (`<<`) are not supported");
    // A quoted "<<" is an ordinary key.
    assert!(parse("\"<<\": 1\n").is_ok());
}

#[test]
fn keys_must_be_scalars() {
    assert_parse_err(
        "? [a, b]\n: 1\n",
        1,
        "mapping key must be a scalar, found a list",
    );
    assert_parse_err(
        "x: 1\n!Ref a: b\n",
        2,
        "mapping key must be a scalar, found a mapping",
    );
}

#[test]
fn syntax_errors_point_at_the_fault() {
    assert_parse_err("a: b: c\n", 1, "mapping values are not allowed");
    let err = parse_err("Resources:\n  A:\n    Type: [X\n  B: 1\n");
    assert!(err.line >= 3, "{err}");
    let err = parse_err("a:\n\tb: 1\n");
    assert_eq!(err.line, 2, "{err}");
    let err = parse_err("{\"a\": 1,, \"b\": 2}");
    assert_eq!(err.line, 1, "{err}");
    let err = parse_err("a: \"unterminated\n");
    assert!(err.line >= 1, "{err}");
    // An alias to an unknown anchor.
    assert!(parse("a: *nope\n").is_err());
}

#[test]
fn an_error_inside_a_flow_collection_names_where_it_opened() {
    // Flow collections may spread over lines at any indentation (as PyYAML reads them), so a
    // missing `]` shows where the text stops making sense; the message says where it opened.
    let err = assert_parse_err(
        "Resources:\n  A:\n    Type: [X\n  B: 1\n",
        4,
        "inside the flow list opened at line 3, column 11)",
    );
    assert_eq!(err.column, 4, "{err}");
    assert_parse_err(
        "Resources:\n  A:\n    Type: X\n    Properties:\n      Env: {A: 1\n      B: 2\n",
        6,
        "inside the flow mapping opened at line 5, column 12)",
    );
    assert_parse_err(
        "A: [a, b\n",
        2,
        "inside the flow list opened at line 1, column 4",
    );
    // On the line it opened, the position says it all.
    let err = assert_parse_err("A: [a}\n", 1, "expected ',' or ']'");
    assert!(!err.message.contains("opened at"), "{err}");
    assert_parse_err("A: [a]]\n", 1, "misplaced bracket");
}

#[test]
fn yaml_that_pyyaml_rejects_too_is_an_error() {
    // An empty entry between commas.
    assert_parse_err("A: [a, , b]\n", 1, "did not find expected node content");
    // A tab after `:` or as indentation, in block and in flow context.
    assert_parse_err("A:\tb\n", 1, "must be followed by a valid YAML whitespace");
    assert_parse_err("A:\n\tb: 1\n", 2, "tab");
    assert_parse_err("A: [\n\ta\n]\n", 2, "tabs disallowed");
}

#[test]
fn limits_are_enforced() {
    // Block nesting deeper than the limit.
    let mut deep = String::new();
    for depth in 0..300 {
        deep.push_str(&" ".repeat(depth));
        deep.push_str("a:\n");
    }
    let err = parse_err(&deep);
    assert!(
        err.message.contains("nesting deeper than 256 levels"),
        "{err}"
    );
    assert_eq!(err.line, 257, "{err}");
    // Flow nesting: the YAML library's own limit or ours, an error either way.
    let flow = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse(&flow).is_err());
    // "Billion laughs": aliases expanding exponentially.
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        laughs.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    let err = parse_err(&laughs);
    assert!(err.message.contains("expands to more than"), "{err}");
    // A recursive alias.
    assert!(parse("a: &x [1, *x]\n").is_err());
}

#[test]
fn root_must_be_a_mapping() {
    assert_template_err(
        "- a\n- b\n",
        1,
        "",
        "a template must be a mapping, found a list",
    );
    assert_template_err("hello\n", 1, "", "found a string");
    assert_template_err("\n\n[1]", 3, "", "found a list");
}

#[test]
fn resources_must_be_present_and_a_mapping() {
    assert_template_err(
        "AWSTemplateFormatVersion: '2010-09-09'\nParameters: {}\n",
        1,
        "Resources",
        "`Resources` is missing",
    );
    assert_template_err(
        "Description: x\nResources: [a]\n",
        2,
        "Resources",
        "`Resources` must be a mapping, found a list",
    );
    assert_template_err(
        "Description: x\n\nResources: 5\n",
        3,
        "Resources",
        "found a number",
    );
    // An empty value points at its key.
    assert_template_err(
        "Description: x\nResources:\n",
        2,
        "Resources",
        "`Resources` must be a mapping, found null",
    );
}

#[test]
fn resources_must_be_well_formed() {
    assert_template_err(
        "Resources:\n  A: hello\n",
        2,
        "Resources.A",
        "resource `A` must be a mapping, found a string",
    );
    assert_template_err(
        "Resources:\n  Ok:\n    Type: X\n  A:\n    Properties: {}\n",
        5,
        "Resources.A.Type",
        "Resources.A: `Type` is missing",
    );
    assert_template_err(
        "Resources:\n  A:\n    Type: !Ref X\n",
        3,
        "Resources.A.Type",
        "`Type` must be a string, found a mapping",
    );
    assert_template_err(
        "Resources:\n  A:\n    Type: 5\n",
        3,
        "Resources.A.Type",
        "found a number",
    );
    assert_template_err(
        "Resources:\n  A:\n    Type: X\n    Properties: [1]\n",
        4,
        "Resources.A.Properties",
        "Resources.A: `Properties` must be a mapping, found a list",
    );
    assert_template_err(
        "Resources:\n  A:\n    Type: X\n    Condition: [a]\n",
        4,
        "Resources.A.Condition",
        "`Condition` must be a string",
    );
    assert_template_err(
        "Resources:\n  A:\n    Type: X\n    DependsOn:\n      - B\n      - {Ref: C}\n",
        6,
        "Resources.A.DependsOn",
        "`DependsOn` must be a logical ID or a list of them, found a mapping",
    );
    assert_template_err(
        "Resources:\n  A:\n    Type: X\n    DependsOn: 5\n",
        4,
        "Resources.A.DependsOn",
        "found a number",
    );
}

#[test]
fn parameters_and_conditions_must_be_well_formed() {
    let resources = "Resources:\n  A:\n    Type: X\n";
    assert_template_err(
        &format!("Parameters: [a]\n{resources}"),
        1,
        "Parameters",
        "`Parameters` must be a mapping, found a list",
    );
    assert_template_err(
        &format!("Parameters:\n  P: x\n{resources}"),
        2,
        "Parameters.P",
        "parameter `P` must be a mapping",
    );
    assert_template_err(
        &format!("Parameters:\n  P:\n    Default: 1\n{resources}"),
        3,
        "Parameters.P.Type",
        "Parameters.P: `Type` is missing",
    );
    assert_template_err(
        &format!("{resources}Conditions: x\n"),
        4,
        "Conditions",
        "`Conditions` must be a mapping, found a string",
    );
}

#[test]
fn json_template_errors_have_lines_too() {
    assert_template_err(
        "{\n  \"Resources\": {\n    \"A\": {\"Properties\": {}}\n  }\n}\n",
        3,
        "Resources.A.Type",
        "`Type` is missing",
    );
    assert_template_err(
        "{\n  \"Resources\": {\n    \"A\": {\n      \"Type\": \"X\",\n      \"Properties\": \"no\"\n    }\n  }\n}\n",
        5,
        "Resources.A.Properties",
        "found a string",
    );
}
