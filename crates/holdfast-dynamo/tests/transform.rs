//! jq transforms: renames, derived keys, drops, splits, number exactness and errors.

use holdfast_dynamo::{item_to_view_json, view_json_to_item, Item, Transform, TransformError};
use serde_json::{json, Value};

/// An item from a view given as serde_json (tests without exact numbers).
fn item(v: Value) -> Item {
    view(&v.to_string())
}

/// An item from a view given as JSON text (numbers exact).
fn view(text: &str) -> Item {
    view_json_to_item(text).unwrap()
}

/// Outputs as serde_json values (for comparisons that do not need exact numbers).
fn run(filter: &str, input: &Item) -> Result<Vec<Value>, TransformError> {
    let t = Transform::compile(filter, "t.jq")?.with_key(["pk", "sk"]);
    Ok(t.apply(input)?
        .iter()
        .map(|i| serde_json::from_str(&item_to_view_json(i)).unwrap())
        .collect())
}

/// Outputs as compact view JSON with exact numbers.
fn run_text(filter: &str, input: &str) -> Result<Vec<String>, TransformError> {
    let t = Transform::compile(filter, "t.jq")?.with_key(["pk", "sk"]);
    Ok(t.apply(&view(input))?
        .iter()
        .map(item_to_view_json)
        .collect())
}

fn user() -> Item {
    item(json!({"pk": "u1", "id": "42", "old": "x", "active": true,
                "tags": {"$ss": ["a"]}, "pic": {"$binary": "AAE="}}))
}

#[test]
fn reshaping_filters() {
    for (filter, expected) in [
        (
            ".newName = .old | del(.old)",
            vec![
                json!({"pk": "u1", "id": "42", "newName": "x", "active": true, "tags": {"$ss": ["a"]}, "pic": {"$binary": "AAE="}}),
            ],
        ),
        (
            ".sk = \"USER#\" + .id | {pk, sk}",
            vec![json!({"pk": "u1", "sk": "USER#42"})],
        ),
        (
            ".recordType = \"USER\" | {pk, recordType}",
            vec![json!({"pk": "u1", "recordType": "USER"})],
        ),
        ("select(.active) | {pk}", vec![json!({"pk": "u1"})]),
        ("select(.active | not)", vec![]),
        ("empty", vec![]),
        (
            "{pk} | ., (.sk = \"COPY\")",
            vec![json!({"pk": "u1"}), json!({"pk": "u1", "sk": "COPY"})],
        ),
        (
            ".tags[\"$ss\"] += [\"b\"] | {tags}",
            vec![json!({"tags": {"$ss": ["a", "b"]}})],
        ),
        (
            "{pic, both: {\"$bs\": [.pic[\"$binary\"], \"Ag==\"]}}",
            vec![json!({"pic": {"$binary": "AAE="}, "both": {"$bs": ["AAE=", "Ag=="]}})],
        ),
        (
            ".",
            vec![serde_json::from_str(&item_to_view_json(&user())).unwrap()],
        ),
    ] {
        assert_eq!(run(filter, &user()).unwrap(), expected, "{filter}");
    }
}

#[test]
fn numbers_stay_exact() {
    let d30 = "123456789012345678901234567890";
    let big = format!(
        r#"{{"pk": "k", "n": 41, "price": 1.500, "big": {d30}, "tiny": 1.5e-100, "dec": 0.{d30}}}"#
    );
    let small = r#"{"pk": "k", "n": 41, "price": 1.500, "x": 0.25}"#;
    for (input, filter, expected) in [
        // untouched numbers keep their exact text, whatever their precision
        (
            big.as_str(),
            ".",
            format!(
                r#"{{"big":{d30},"dec":0.{d30},"n":41,"pk":"k","price":1.500,"tiny":1.5e-100}}"#
            ),
        ),
        (
            big.as_str(),
            "{p: .price, b: .big, d: .dec} | .x = 1",
            format!(r#"{{"b":{d30},"d":0.{d30},"p":1.500,"x":1}}"#),
        ),
        (big.as_str(), "{n: (.n + 1)}", r#"{"n":42}"#.to_owned()),
        (big.as_str(), "{n: (.n * 3 - 1)}", r#"{"n":122}"#.to_owned()),
        (big.as_str(), "{n: -.price}", r#"{"n":-1.500}"#.to_owned()),
        // integer arithmetic is exact at any size (jaq-json 2 uses big integers)
        (
            big.as_str(),
            "{big: (.big + 1)}",
            r#"{"big":123456789012345678901234567891}"#.to_owned(),
        ),
        (
            big.as_str(),
            "{big: (.big * 1000 - .big)}",
            r#"{"big":123333332223333333222333333322110}"#.to_owned(),
        ),
        // float arithmetic whose result has at most 15 significant digits
        (small, "{p: (.price * 2)}", r#"{"p":3.0}"#.to_owned()),
        (small, "{p: (.price / 4)}", r#"{"p":0.375}"#.to_owned()),
        (small, "{p: (.x + 0.5)}", r#"{"p":0.75}"#.to_owned()),
        (small, "{p: (.n / 2)}", r#"{"p":20.5}"#.to_owned()),
    ] {
        let out = run_text(filter, input).unwrap_or_else(|e| panic!("{filter}: {e}"));
        assert_eq!(out, vec![expected], "{filter}");
    }
}

#[test]
fn inexact_arithmetic_is_an_error_naming_the_key() {
    let d30 = "123456789012345678901234567890";
    let small = r#"{"pk": "k1", "sk": 7, "email": "secret@example.com", "n": 10, "x": 0.1}"#;
    let big = format!(
        r#"{{"pk": "k1", "sk": 7, "email": "secret@example.com", "n": 10, "big": {d30}, "dec": 1.{d30}}}"#
    );
    for (input, filter, reason) in [
        (
            small,
            ".x = .x + 0.2",
            "inexact number (17 significant digits",
        ),
        (small, ".x = .x * 3", "inexact number"),
        (small, ".n = .n / 3", "inexact number"),
        (small, ".n = (.n / 0)", "non-finite"),
        (
            small,
            ".x = .x * 1.0000000000000000001",
            "may have rounded it",
        ),
        (
            big.as_str(),
            ".dec = .dec + 1",
            "more than 15 significant digits may have rounded it",
        ),
        (
            big.as_str(),
            ".big = .big * 1.0",
            "more than 15 significant digits may have rounded it",
        ),
        // conservative: any float result in an item holding an imprecise number
        (
            big.as_str(),
            ".n = .n + 0.5",
            "more than 15 significant digits may have rounded it",
        ),
        (
            big.as_str(),
            ".big = .big * .big",
            "a number has 57 significant digits; DynamoDB keeps at most 38",
        ),
    ] {
        let e = run_text(filter, input).unwrap_err().to_string();
        assert!(
            e.starts_with("transform t.jq failed on item pk=\"k1\", sk=7: output 1: "),
            "{filter}: {e}"
        );
        assert!(e.contains(reason), "{filter}: {e}");
        assert!(!e.contains("secret"), "{e}");
    }
}

#[test]
fn outputs_must_be_valid_items() {
    let input = r#"{"pk": "k2", "name": "Alice Secret"}"#;
    for (filter, reason) in [
        (".name", "output 1 is a string, not an object"),
        ("., 5", "output 2 is a number, not an object"),
        ("[.]", "output 1 is an array, not an object"),
        (
            ".tags = {\"$ss\": []}",
            "output 1: attribute `tags`: empty set",
        ),
        (
            ".b = {\"$binary\": \"not base64!\"}",
            "output 1: attribute `b`: invalid base64",
        ),
        (
            ".x = {\"$ss\": [\"a\"], \"y\": 1}",
            "malformed `$ss` object",
        ),
        (
            "{(1): 2}",
            "output 1: attribute `(item)`: an object key is not a string",
        ),
    ] {
        match run_text(filter, input) {
            Err(e) => {
                let e = e.to_string();
                assert!(
                    e.starts_with("transform t.jq failed on item pk=\"k2\", sk=<missing>: "),
                    "{e}"
                );
                assert!(e.contains(reason), "{filter}: {e}");
                assert!(!e.contains("Alice"), "{e}");
            }
            Ok(out) => panic!("{filter} gave {out:?}"),
        }
    }
}

#[test]
fn jq_runtime_errors_are_masked() {
    let e = run_text(
        ".name + 1",
        r#"{"pk": "k3", "name": "Alice Secret", "n": 123}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("transform t.jq failed on item pk=\"k3\", sk=<missing>: jq error: "),
        "{e}"
    );
    assert!(!e.contains("Alice"), "{e}");
    // Messages of `error(...)` may interpolate values: masked too.
    let e = run_text("error(\"bad \\(.n)\")", r#"{"pk": "k3", "n": 123}"#)
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("jq error: \"…\""), "{e}");
}

#[test]
fn invalid_filters_are_one_line_errors_with_a_position() {
    for (filter, expected) in [
        (
            ".a = ",
            "invalid jq filter t.jq:1:6: expected term, found end of input",
        ),
        (
            ".a |\n  .b +* 2",
            "invalid jq filter t.jq:2:6: unexpected `+*`",
        ),
        (
            "nosuchfn(1)",
            "invalid jq filter t.jq:1:1: undefined filter `nosuchfn`",
        ),
        ("$x", "invalid jq filter t.jq:1:1: undefined variable `$x`"),
        (
            "(.a",
            "invalid jq filter t.jq:1:4: expected closing parenthesis",
        ),
        ("\"\\q\"", "invalid jq filter t.jq:1:"),
    ] {
        let e = Transform::compile(filter, "t.jq").unwrap_err().to_string();
        assert!(e.starts_with(expected), "{filter:?}: {e}");
        assert!(!e.contains('\n'), "{e}");
    }
}

#[test]
fn without_key_attributes_errors_say_so() {
    let t = Transform::compile(".a", "t.jq").unwrap();
    let e = t.apply(&view(r#"{"a": "x"}"#)).unwrap_err().to_string();
    assert!(e.contains("(key attributes not configured)"), "{e}");
}

#[test]
fn transforms_can_be_shared_across_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Transform>();
}

#[test]
fn rounding_functions_do_not_hide_float_rounding() {
    let small = r#"{"pk": "k4", "n": 41, "price": 1.500, "e20": 1e20}"#;
    let big = r#"{"pk": "k4", "n": 41, "big": 123456789012345678901234567890}"#;
    for (input, filter, expected) in [
        (small, "{x: (.price * 3 | floor)}", Ok(r#"{"x":4}"#)),
        (small, "{x: (.n / 2 | round)}", Ok(r#"{"x":21}"#)),
        (small, "{x: (.n / 2 | ceil)}", Ok(r#"{"x":21}"#)),
        (small, "{x: (.n | floor)}", Ok(r#"{"x":41}"#)),
        // 0.9999999999999998 in f64: floor would silently give 0
        (
            small,
            "{x: ((1 - 0.9) * 10 | floor)}",
            Err("floor of a float that floating-point arithmetic made inexact"),
        ),
        // 33333333333333331968 in f64
        (
            small,
            "{x: (.e20 / 3 | floor)}",
            Err("floor of a float that floating-point arithmetic made inexact"),
        ),
        (
            big,
            "{x: (.big * 1.0 | round)}",
            Err("round of a float that floating-point arithmetic made inexact"),
        ),
        (
            big,
            "{x: (.n * 1.5 | ceil)}",
            Err("ceil of a non-integer on an item or filter that holds a number with more than 15"),
        ),
        // no float involved: exact
        (
            big,
            "{x: (.big | floor)}",
            Ok(r#"{"x":123456789012345678901234567890}"#),
        ),
        (
            big,
            "{x: ([.big, .n] | max)}",
            Ok(r#"{"x":123456789012345678901234567890}"#),
        ),
        (
            big,
            "{x: (.big | tostring | tonumber)}",
            Ok(r#"{"x":123456789012345678901234567890}"#),
        ),
    ] {
        match (run_text(filter, input), expected) {
            (Ok(out), Ok(want)) => assert_eq!(out, vec![want.to_owned()], "{filter}"),
            (Err(e), Err(want)) => {
                let e = e.to_string();
                assert!(
                    e.starts_with("transform t.jq failed on item pk=\"k4\", sk=<missing>: "),
                    "{e}"
                );
                assert!(e.contains(want), "{filter}: {e}");
            }
            (got, want) => panic!("{filter}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn positions_count_only_the_users_filter() {
    let e = Transform::compile("{a: 1} |\n  .b |||", "f.jq")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("invalid jq filter f.jq:2:"), "{e}");
    let e = Transform::compile("foo", "f.jq").unwrap_err().to_string();
    assert_eq!(e, "invalid jq filter f.jq:1:1: undefined filter `foo`");
}
