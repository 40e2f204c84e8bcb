//! Round trips item ↔ view ↔ item and item ↔ DynamoDB-JSON, and their strict errors.

use std::collections::BTreeMap;

use holdfast_dynamo::{
    item_from_dynamo_json, item_from_export_line, item_to_dynamo_json, item_to_export_line,
    item_to_view, item_to_view_json, view_json_to_item, view_to_item, Attr, Item, Number,
    Transform,
};
use proptest::prelude::*;
use serde_json::{json, Value};

fn view_err(text: &str) -> String {
    view_json_to_item(text).unwrap_err().to_string()
}

fn n(t: &str) -> Number {
    Number::parse(t).unwrap()
}

fn one(name: &str, a: Attr) -> Item {
    BTreeMap::from([(name.to_owned(), a)])
}

/// (attribute, its view as compact JSON, its DynamoDB-JSON)
fn cases() -> Vec<(Attr, String, Value)> {
    let d38 = "12345678901234567890123456789012345678";
    let v = |s: &str| s.to_owned();
    vec![
        (Attr::S("x".into()), v(r#""x""#), json!({"S": "x"})),
        (Attr::S(String::new()), v(r#""""#), json!({"S": ""})),
        (Attr::N(n("1.5")), v("1.5"), json!({"N": "1.5"})),
        (Attr::N(n("1.500")), v("1.500"), json!({"N": "1.500"})),
        (Attr::N(n("-7")), v("-7"), json!({"N": "-7"})),
        (Attr::N(n(d38)), v(d38), json!({"N": d38})),
        (
            Attr::N(n(&format!("-0.{d38}"))),
            format!("-0.{d38}"),
            json!({"N": format!("-0.{d38}")}),
        ),
        (
            Attr::N(n("-1.5e-129")),
            v("-1.5e-129"),
            json!({"N": "-1.5e-129"}),
        ),
        (
            Attr::N(n("0.000123")),
            v("0.000123"),
            json!({"N": "0.000123"}),
        ),
        (
            Attr::B(vec![0, 1, 255]),
            v(r#"{"$binary":"AAH/"}"#),
            json!({"B": "AAH/"}),
        ),
        (Attr::B(vec![]), v(r#"{"$binary":""}"#), json!({"B": ""})),
        (
            Attr::Ss(vec!["a".into(), "b".into()]),
            v(r#"{"$ss":["a","b"]}"#),
            json!({"SS": ["a", "b"]}),
        ),
        (
            Attr::Ns(vec![n("1"), n("2.5")]),
            v(r#"{"$ns":[1,2.5]}"#),
            json!({"NS": ["1", "2.5"]}),
        ),
        (
            Attr::Bs(vec![vec![1], vec![2]]),
            v(r#"{"$bs":["AQ==","Ag=="]}"#),
            json!({"BS": ["AQ==", "Ag=="]}),
        ),
        (Attr::Bool(true), v("true"), json!({"BOOL": true})),
        (Attr::Null, v("null"), json!({"NULL": true})),
        (Attr::L(vec![]), v("[]"), json!({"L": []})),
        (Attr::M(BTreeMap::new()), v("{}"), json!({"M": {}})),
        (
            Attr::M(BTreeMap::from([
                ("city".into(), Attr::S("Graz".into())),
                (
                    "geo".into(),
                    Attr::L(vec![
                        Attr::N(n("47.07")),
                        Attr::Null,
                        Attr::Ss(vec!["x".into()]),
                    ]),
                ),
            ])),
            v(r#"{"city":"Graz","geo":[47.07,null,{"$ss":["x"]}]}"#),
            json!({"M": {"city": {"S": "Graz"}, "geo": {"L": [{"N": "47.07"}, {"NULL": true}, {"SS": ["x"]}]}}}),
        ),
        // A map whose key looks like a tag is escaped with `$map`.
        (
            Attr::M(BTreeMap::from([("$ss".into(), Attr::Bool(true))])),
            v(r#"{"$map":{"$ss":true}}"#),
            json!({"M": {"$ss": {"BOOL": true}}}),
        ),
    ]
}

#[test]
fn every_type_round_trips_through_view_and_dynamo_json() {
    for (attr, view, ddb) in cases() {
        let item = one("a", attr.clone());
        assert_eq!(
            item_to_view_json(&item),
            format!(r#"{{"a":{view}}}"#),
            "{attr:?}"
        );
        assert_eq!(
            view_json_to_item(&item_to_view_json(&item)).unwrap(),
            item,
            "{attr:?}"
        );
        assert_eq!(
            view_to_item(&item_to_view(&item)).unwrap(),
            item,
            "{attr:?}"
        );
        assert_eq!(item_to_dynamo_json(&item), json!({"a": ddb}), "{attr:?}");
        assert_eq!(
            item_from_dynamo_json(&item_to_dynamo_json(&item)).unwrap(),
            item
        );
        let line = item_to_export_line(&item);
        assert_eq!(item_from_export_line(&line).unwrap(), item);
    }
}

#[test]
fn view_numbers_keep_their_exact_text() {
    let item = one("n", Attr::N(n("1.500")));
    assert_eq!(item_to_view_json(&item), r#"{"n":1.500}"#);
    let back = view_json_to_item(r#"{"n": 1.500}"#).unwrap();
    let Attr::N(num) = &back["n"] else { panic!() };
    assert_eq!(num.as_str(), "1.500");
    assert_eq!(num.canonical(), "1.5");
    // Texts that are no JSON literal are shown canonical.
    assert_eq!(
        item_to_view_json(&one("n", Attr::N(n("+.50")))),
        r#"{"n":0.5}"#
    );
}

#[test]
fn sets_compare_without_order_and_numbers_by_canonical_form() {
    assert_eq!(
        Attr::Ss(vec!["a".into(), "b".into()]),
        Attr::Ss(vec!["b".into(), "a".into()])
    );
    assert_eq!(
        Attr::Ns(vec![n("1.0"), n("2")]),
        Attr::Ns(vec![n("2"), n("1")])
    );
    assert_eq!(Attr::N(n("1E2")), Attr::N(n("100")));
    assert_ne!(Attr::S("1".into()), Attr::N(n("1")));
}

#[test]
fn malformed_views_are_rejected_with_the_path() {
    for (view, message) in [
        (
            "[1]",
            "attribute `(item)`: the item must be a JSON object, not an array",
        ),
        ("{", "attribute `(item)`: not JSON"),
        (
            r#"{"a": {"$ss": []}}"#,
            "attribute `a`: empty set (DynamoDB does not allow empty sets)",
        ),
        (
            r#"{"a": {"b": {"$ss": ["x", "x"]}}}"#,
            "attribute `a.b`: duplicate set member",
        ),
        (
            r#"{"a": {"$ns": [1, "2"]}}"#,
            "attribute `a`: malformed `$ns` object: member 1 must be a number, found a string",
        ),
        (
            r#"{"a": {"$ns": [1, 1.0]}}"#,
            "attribute `a`: duplicate set member",
        ),
        (
            r#"{"a": {"$ss": ["x"], "other": 1}}"#,
            "attribute `a`: malformed `$ss` object: `$ss` must be the only key",
        ),
        (
            r#"{"a": {"$binary": "!!"}}"#,
            "attribute `a`: invalid base64",
        ),
        (
            r#"{"a": {"$binary": 5}}"#,
            "attribute `a`: malformed `$binary` object: expected a base64 string, found a number",
        ),
        (
            r#"{"a": {"$bs": "AA=="}}"#,
            "attribute `a`: malformed `$bs` object: expected an array, found a string",
        ),
        (
            r#"{"a": {"$map": []}}"#,
            "attribute `a`: malformed `$map` object: expected an object, found an array",
        ),
        (
            r#"{"a": [0, {"b": 1e200}]}"#,
            "attribute `a[1].b`: out of DynamoDB's range",
        ),
        (
            r#"{"a": 123456789012345678901234567890123456789}"#,
            "attribute `a`: 39 significant digits",
        ),
        (
            r#"{"a": NaN}"#,
            "attribute `a`: a number is NaN or infinite",
        ),
    ] {
        let e = view_err(view);
        assert!(e.contains(message), "{view}: {e}");
    }
}

#[test]
fn malformed_dynamo_json_is_rejected_with_the_path() {
    for (ddb, message) in [
        (
            json!({"a": "x"}),
            "attribute `a`: expected an object with one type descriptor",
        ),
        (
            json!({"a": {"S": "x", "N": "1"}}),
            "attribute `a`: expected exactly one type descriptor, found 2 keys",
        ),
        (
            json!({"a": {"X": "x"}}),
            "attribute `a`: unknown type descriptor `X`",
        ),
        (
            json!({"a": {"N": 1}}),
            "attribute `a`: `N` must hold a string",
        ),
        (
            json!({"a": {"N": "1.2.3"}}),
            "attribute `a`: not a decimal number",
        ),
        (
            json!({"a": {"M": {"b": {"L": [{"S": "x"}, {"NS": ["1", "x"]}]}}}}),
            "attribute `a.b[1][1]`: not a decimal number",
        ),
        (json!({"a": {"SS": []}}), "attribute `a`: empty set"),
        (
            json!({"a": {"NS": ["1", "1.0"]}}),
            "attribute `a`: duplicate set member",
        ),
        (
            json!({"a": {"BS": ["AA", "AA=="]}}),
            "attribute `a[0]`: invalid base64",
        ),
        (
            json!({"a": {"NULL": false}}),
            "attribute `a`: `NULL` must hold true",
        ),
        (
            json!({"a": {"BOOL": "true"}}),
            "attribute `a`: `BOOL` must hold true or false",
        ),
    ] {
        let e = item_from_dynamo_json(&ddb).unwrap_err().to_string();
        assert!(e.contains(message), "{ddb}: {e}");
    }
    assert!(item_from_export_line(r#"{"a": {"S": "x"}}"#)
        .unwrap_err()
        .to_string()
        .contains("single key \"Item\""));
    assert!(item_from_export_line("{")
        .unwrap_err()
        .to_string()
        .contains("not JSON"));
}

fn number() -> impl Strategy<Value = Number> {
    // At most 38 digits × 10^88 < 10^126, inside DynamoDB's range.
    (any::<bool>(), "[1-9][0-9]{0,37}", -100i64..89).prop_map(|(neg, digits, exp)| {
        Number::parse(&format!("{}{}E{}", if neg { "-" } else { "" }, digits, exp)).unwrap()
    })
}

fn attr() -> impl Strategy<Value = Attr> {
    let leaf = prop_oneof![
        ".*".prop_map(Attr::S),
        number().prop_map(Attr::N),
        prop::collection::vec(any::<u8>(), 0..8).prop_map(Attr::B),
        prop::collection::btree_set(".*", 1..4).prop_map(|s| Attr::Ss(s.into_iter().collect())),
        // No leading or trailing zeros: distinct texts are distinct numbers.
        prop::collection::btree_set("-?[1-9][0-9]{0,4}(\\.[0-9]{0,2}[1-9])?", 1..4)
            .prop_map(|s| Attr::Ns(s.iter().map(|t| n(t)).collect())),
        prop::collection::btree_set(prop::collection::vec(any::<u8>(), 0..4), 1..4)
            .prop_map(|s| Attr::Bs(s.into_iter().collect())),
        any::<bool>().prop_map(Attr::Bool),
        Just(Attr::Null),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Attr::L),
            prop::collection::btree_map(
                prop_oneof![".*", Just("$ss".to_owned()), Just("$map".to_owned())],
                inner,
                0..4
            )
            .prop_map(Attr::M),
        ]
    })
}

proptest! {
    #[test]
    fn item_view_item_is_the_identity(item in prop::collection::btree_map(".*", attr(), 0..6)) {
        prop_assert_eq!(view_to_item(&item_to_view(&item)).unwrap(), item.clone());
        prop_assert_eq!(view_json_to_item(&item_to_view_json(&item)).unwrap(), item.clone());
        prop_assert_eq!(item_from_dynamo_json(&item_to_dynamo_json(&item)).unwrap(), item.clone());
        prop_assert_eq!(item_from_export_line(&item_to_export_line(&item)).unwrap(), item);
    }

    /// Through jaq and back: `.` changes nothing, not even a number's text.
    #[test]
    fn identity_filter_keeps_every_item(item in prop::collection::btree_map(".*", attr(), 0..6)) {
        let out = Transform::compile(".", "identity.jq").unwrap().apply(&item).unwrap();
        prop_assert_eq!(out.len(), 1);
        prop_assert_eq!(item_to_view_json(&out[0]), item_to_view_json(&item));
        prop_assert_eq!(&out[0], &item);
    }
}
