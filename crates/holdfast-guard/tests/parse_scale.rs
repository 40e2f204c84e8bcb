//! A 2,000-resource template, in YAML and in JSON: it loads, and the time is printed
//! (`cargo test --release -p holdfast-guard --test parse_scale -- --nocapture`; no assertion on
//! time, machines differ).

use std::fmt::Write as _;
use std::time::Instant;

use holdfast_guard::template::load;

const RESOURCES: usize = 2000;

fn yaml_template() -> String {
    let mut text = String::from("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n");
    for i in 0..RESOURCES {
        write!(
            text,
            "  Table{i}:\n    Type: AWS::DynamoDB::Table\n    DeletionPolicy: Retain\n    Properties:\n      TableName: !Sub '${{AWS::StackName}}-t{i}'\n      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions:\n        - AttributeName: pk\n          AttributeType: S\n      KeySchema:\n        - AttributeName: pk\n          KeyType: HASH\n      StreamArn: !GetAtt Stream{i}.Arn\n      Port: 5432\n"
        )
        .unwrap();
    }
    text
}

fn json_template() -> String {
    let resources: serde_json::Map<String, serde_json::Value> = (0..RESOURCES)
        .map(|i| {
            let body = serde_json::json!({
                "Type": "AWS::DynamoDB::Table",
                "DeletionPolicy": "Retain",
                "Properties": {
                    "TableName": {"Fn::Sub": format!("${{AWS::StackName}}-t{i}")},
                    "BillingMode": "PAY_PER_REQUEST",
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "StreamArn": {"Fn::GetAtt": [format!("Stream{i}"), "Arn"]},
                    "Port": 5432
                }
            });
            (format!("Table{i}"), body)
        })
        .collect();
    let root =
        serde_json::json!({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources});
    serde_json::to_string_pretty(&root).unwrap()
}

#[test]
fn two_thousand_resources_load() {
    let yaml = yaml_template();
    let json = json_template();
    let start = Instant::now();
    let from_yaml = load(&yaml).unwrap();
    let yaml_time = start.elapsed();
    let start = Instant::now();
    let from_json = load(&json).unwrap();
    let json_time = start.elapsed();
    println!(
        "{RESOURCES} resources: YAML {} KiB in {yaml_time:?}, JSON {} KiB in {json_time:?}",
        yaml.len() / 1024,
        json.len() / 1024
    );
    assert_eq!(from_yaml.resources.len(), RESOURCES);
    assert_eq!(from_json.resources.len(), RESOURCES);
    // The JSON went through the YAML parser: it has real positions.
    assert!(from_json.resources[RESOURCES - 1].span.line > 1000);
    assert_eq!(
        from_yaml.resources[RESOURCES - 1].span.line,
        3 + 14 * (RESOURCES as u32 - 1) + 1
    );
    // serde_json sorts keys (no preserve_order), so compare by logical ID.
    for r in &from_yaml.resources {
        let other = from_json.resource(&r.logical_id).unwrap();
        assert!(r.same_as(other), "{}", r.logical_id);
    }
}

#[test]
fn a_long_line_of_tagged_and_anchored_items_loads_in_linear_time() {
    // Positions after a tag or anchor are found in the text: once through it, not once per item.
    let items: Vec<String> = (0..50_000).map(|i| format!("&a{i} !Ref R{i}")).collect();
    let text = format!(
        "Resources:\n  T:\n    Type: X\n    Properties:\n      L: [{}]\n",
        items.join(", ")
    );
    let start = Instant::now();
    let node = holdfast_guard::parse::parse(&text).unwrap();
    println!("50,000 tagged items on one line: {:?}", start.elapsed());
    let list = node
        .get("Resources")
        .unwrap()
        .get("T")
        .unwrap()
        .get("Properties")
        .unwrap()
        .get("L")
        .unwrap();
    let last = &list.as_seq().unwrap()[49_999];
    assert_eq!(last.intrinsic().unwrap().1.as_str(), Some("R49999"));
    let column = text.lines().nth(4).unwrap().rfind("R49999").unwrap() + 1;
    assert_eq!(last.span.line, 5);
    assert_eq!(last.span.column as usize, column);
}
