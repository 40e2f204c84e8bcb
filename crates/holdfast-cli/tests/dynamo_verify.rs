//! `holdfast dynamo verify TABLE` on the built binary: against DynamoDB Local (one fresh server
//! per test, tables created here with the AWS SDK) and, for PITR, which DynamoDB Local does not
//! implement, against a moto server.

mod common;
mod dynamo_support;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType,
    PointInTimeRecoverySpecification, Projection, ProjectionType, ScalarAttributeType,
    StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;
use common::{holdfast_aws, Run};
use dynamo_support::{client, runtime};
use holdfast_testkit::moto::Moto;
use holdfast_testkit::DynamoDbLocal;
use std::path::Path;
use std::time::{Duration, Instant};

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .expect("key schema element")
}

fn attribute(name: &str, attribute_type: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(attribute_type)
        .build()
        .expect("attribute definition")
}

/// `pk:S,sk:N`, on demand; with `gsi`, a GSI `by-email` and a NEW_AND_OLD_IMAGES stream.
async fn create_table(client: &Client, name: &str, gsi: bool) {
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk", ScalarAttributeType::S))
        .attribute_definitions(attribute("sk", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range));
    if gsi {
        create = create
            .attribute_definitions(attribute("email", ScalarAttributeType::S))
            .global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name("by-email")
                    .key_schema(key("email", KeyType::Hash))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::KeysOnly)
                            .build(),
                    )
                    .build()
                    .expect("gsi"),
            )
            .stream_specification(
                StreamSpecification::builder()
                    .stream_enabled(true)
                    .stream_view_type(StreamViewType::NewAndOldImages)
                    .build()
                    .expect("stream"),
            );
    }
    create
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTable {name}: {e:?}"));
}

fn verify(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let output = holdfast_aws(dir)
        .args(["dynamo", "verify", "--endpoint-url", endpoint])
        .args(args)
        .output()
        .expect("run holdfast");
    Run::from(output)
}

fn check<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {json}"))
}

#[test]
fn verify_against_dynamodb_local() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let client = client(&endpoint);
        create_table(&client, "users", false).await;
        create_table(&client, "orders", true).await;
    });

    // Matching key: exit 0, a table of checks.
    let run = verify(
        dir.path(),
        &endpoint,
        &["users", "--require-key", "pk:S,sk:N"],
    );
    run.expect(0);
    assert!(run.stdout.contains("key_schema"), "{}", run.stdout);
    assert!(run.stdout.contains("APPROXIMATE"), "{}", run.stdout);
    // DynamoDB Local has no PITR API: reported, not failed, when not required.
    assert!(
        run.stdout.contains("cannot be verified on this endpoint"),
        "{}",
        run.stdout
    );

    // AWS_ENDPOINT_URL works as well as the flag.
    let run = Run::from(
        holdfast_aws(dir.path())
            .env("AWS_ENDPOINT_URL", &endpoint)
            .args(["dynamo", "verify", "users"])
            .output()
            .expect("run holdfast"),
    );
    run.expect(0);

    // Wrong key: exit 3, expected vs found.
    let run = verify(dir.path(), &endpoint, &["users", "--require-key", "id:S"]);
    run.expect(3);
    assert!(
        run.stdout.contains("expected id:S, found pk:S,sk:N"),
        "{}",
        run.stdout
    );
    let run = verify(
        dir.path(),
        &endpoint,
        &["users", "--require-key", "pk:S,sk:S"],
    );
    run.expect(3);
    assert!(
        run.stdout.contains("expected pk:S,sk:S, found pk:S,sk:N"),
        "{}",
        run.stdout
    );

    // Missing table: a failed check, exit 3.
    let run = verify(dir.path(), &endpoint, &["nope"]);
    run.expect(3);
    assert!(
        run.stdout.contains("table nope does not exist"),
        "{}",
        run.stdout
    );
    let run = verify(dir.path(), &endpoint, &["nope", "--json"]);
    run.expect(3);
    let json = run.json();
    assert_eq!(check(&json, "exists")["ok"], false);
    assert!(json["table_info"].is_null());

    // PITR required on an endpoint that cannot say: exit 3.
    let run = verify(dir.path(), &endpoint, &["users", "--require-pitr"]);
    run.expect(3);
    assert!(
        run.stdout.contains("cannot be verified on this endpoint"),
        "{}",
        run.stdout
    );

    // --json shape.
    let run = verify(
        dir.path(),
        &endpoint,
        &["orders", "--json", "--require-key", "pk:S,sk:N"],
    );
    run.expect(0);
    let json = run.json();
    assert_eq!(json["format_version"], holdfast_report::FORMAT_VERSION);
    assert_eq!(json["table"], "orders");
    assert_eq!(json["outcome"], "success");
    assert_eq!(json["exit_code"], 0);
    for c in json["checks"].as_array().expect("checks") {
        assert!(c["name"].is_string() && c["ok"].is_boolean() && c["detail"].is_string());
    }
    assert_eq!(check(&json, "key_schema")["ok"], true);
    assert_eq!(check(&json, "pitr")["required"], false);
    let info = &json["table_info"];
    assert_eq!(info["status"], "ACTIVE");
    assert_eq!(info["key_schema"][0]["name"], "pk");
    assert_eq!(info["key_schema"][0]["role"], "HASH");
    assert_eq!(info["key_schema"][1]["attribute_type"], "N");
    assert_eq!(info["global_secondary_indexes"][0]["name"], "by-email");
    assert_eq!(info["global_secondary_indexes"][0]["status"], "ACTIVE");
    assert_eq!(info["stream_enabled"], true);
    assert_eq!(info["stream_view_type"], "NEW_AND_OLD_IMAGES");
    assert!(info["pitr"].is_null());
    assert!(check(&json, "item_count")["detail"]
        .as_str()
        .unwrap()
        .contains("APPROXIMATE"));

    // --wait on an ACTIVE table returns at once.
    let started = Instant::now();
    verify(dir.path(), &endpoint, &["orders", "--wait", "5m"]).expect(0);
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_bad_require_key_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Checked before any call: the endpoint is never asked.
    for bad in ["pk:X", "pk", "a:S,b:S,c:S"] {
        let run = verify(
            dir.path(),
            "http://127.0.0.1:9",
            &["users", "--require-key", bad],
        );
        run.expect(2);
        assert!(run.stderr.contains("required key"), "{}", run.stderr);
    }
    let run = verify(
        dir.path(),
        "http://127.0.0.1:9",
        &["users", "--require-key", "pk:X", "--json"],
    );
    run.expect(2);
    assert_eq!(run.json()["exit_code"], 2);
}

#[test]
fn an_endpoint_that_does_not_answer_is_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let run = verify(dir.path(), &format!("http://127.0.0.1:{port}"), &["users"]);
    run.expect(1);
    assert!(
        run.stderr.contains("cannot reach DynamoDB"),
        "{}",
        run.stderr
    );
}

#[test]
fn pitr_against_moto() {
    let moto = Moto::start();
    let endpoint = moto.endpoint();
    let dir = tempfile::tempdir().expect("tempdir");
    runtime().block_on(async {
        let client = client(&endpoint);
        create_table(&client, "with-pitr", false).await;
        create_table(&client, "without-pitr", false).await;
        client
            .update_continuous_backups()
            .table_name("with-pitr")
            .point_in_time_recovery_specification(
                PointInTimeRecoverySpecification::builder()
                    .point_in_time_recovery_enabled(true)
                    .build()
                    .expect("pitr spec"),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateContinuousBackups: {e:?}"));
    });

    let run = verify(
        dir.path(),
        &endpoint,
        &["with-pitr", "--require-pitr", "--json"],
    );
    run.expect(0);
    let json = run.json();
    assert_eq!(check(&json, "pitr")["ok"], true);
    assert_eq!(json["table_info"]["pitr"], "ENABLED");

    let run = verify(dir.path(), &endpoint, &["without-pitr", "--require-pitr"]);
    run.expect(3);
    assert!(run.stdout.contains("DISABLED"), "{}", run.stdout);

    // Not required: reported, exit 0.
    verify(dir.path(), &endpoint, &["without-pitr"]).expect(0);
}

/// A stand-in DynamoDB endpoint for the wait paths (DynamoDB Local creates tables ACTIVE at
/// once): every DescribeTable answers a `pk:S` table that is CREATING for the first
/// `creating_for` answers (`usize::MAX`: for ever), then ACTIVE; anything else gets a 400.
fn fake_dynamodb(creating_for: usize) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        let mut described = 0usize;
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let mut reader = BufReader::new(stream);
            let (mut length, mut target) = (0usize, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = lower.strip_prefix("x-amz-target:") {
                    target = v.trim().to_string();
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let (status, answer) = if target.ends_with("describetable") {
                described += 1;
                let state = if described <= creating_for {
                    "CREATING"
                } else {
                    "ACTIVE"
                };
                (
                    "200 OK",
                    format!(
                        r#"{{"Table":{{"TableName":"t","TableStatus":"{state}","KeySchema":[{{"AttributeName":"pk","KeyType":"HASH"}}],"AttributeDefinitions":[{{"AttributeName":"pk","AttributeType":"S"}}]}}}}"#
                    ),
                )
            } else {
                (
                    "400 Bad Request",
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#UnknownOperationException","message":"not here"}"#.to_string(),
                )
            };
            let mut stream = reader.into_inner();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                answer.len()
            );
        }
    });
    endpoint
}

#[test]
fn wait_polls_until_active_or_times_out() {
    let dir = tempfile::tempdir().expect("tempdir");

    // Never ACTIVE: without --wait exit 3 at once; with --wait 2s exit 3 with the last status.
    let endpoint = fake_dynamodb(usize::MAX);
    let run = verify(dir.path(), &endpoint, &["t"]);
    run.expect(3);
    assert!(
        run.stdout.contains("not ACTIVE: table CREATING"),
        "{}",
        run.stdout
    );
    let started = Instant::now();
    let run = verify(dir.path(), &endpoint, &["t", "--wait", "2s"]);
    run.expect(3);
    assert!(started.elapsed() >= Duration::from_secs(2));
    assert!(
        run.stdout
            .contains("not ACTIVE after waiting 2s: table CREATING"),
        "{}",
        run.stdout
    );

    // ACTIVE on the third answer: --wait returns 0 once it is.
    let endpoint = fake_dynamodb(2);
    let run = verify(dir.path(), &endpoint, &["t", "--wait", "1m", "--json"]);
    run.expect(0);
    assert_eq!(run.json()["table_info"]["status"], "ACTIVE");
}
