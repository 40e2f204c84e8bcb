//! DynamoDB Local and the fault proxy, driven by the official AWS SDK for Rust: every item of
//! a batch write through partial batches, throttling, 5xx and dropped connections arrives
//! exactly once, the schedule is the seed's, and DynamoDB Local leaves no process behind.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::Builder as HttpClientBuilder;
use holdfast_testkit::{DynamoDbLocal, Fault, FaultPlan, FaultProxy, Faults};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const TABLE: &str = "items";

/// A client for `endpoint`: fixed dummy credentials and region, rustls on `ring`, nothing read
/// from the environment (so no instance-metadata probe), the SDK's standard retries with at
/// most `attempts` attempts per call (1: every error reaches the caller).
fn client(endpoint: &str, attempts: u32) -> Client {
    let http = HttpClientBuilder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let timeouts = aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(20))
        .build();
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(endpoint)
        .http_client(http)
        .timeout_config(timeouts)
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .build();
    Client::from_conf(config)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn create_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
}

/// Item `i`: a string key and attributes of several types.
fn item(i: usize) -> HashMap<String, AttributeValue> {
    let mut item = HashMap::new();
    item.insert("pk".into(), AttributeValue::S(format!("item-{i:05}")));
    item.insert("n".into(), AttributeValue::N(format!("{}", i * 7)));
    item.insert("s".into(), AttributeValue::S("x".repeat(i % 50 + 1)));
    item.insert("b".into(), AttributeValue::Bool(i.is_multiple_of(2)));
    item.insert(
        "bin".into(),
        AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![
            (i % 256) as u8;
            4
        ])),
    );
    item.insert(
        "m".into(),
        AttributeValue::M(HashMap::from([(
            "nested".into(),
            AttributeValue::L(vec![
                AttributeValue::S(format!("{i}")),
                AttributeValue::Null(true),
            ]),
        )])),
    );
    item
}

/// What the batch writer saw.
#[derive(Debug, Default)]
struct WriteOutcome {
    batches_sent: u64,
    unprocessed_returned: u64,
    errors: u64,
}

/// Writes `items` in batches of 25, re-sending unprocessed items and whole batches after an
/// error (any error: the batch was not acknowledged), until everything is acknowledged.
async fn write_all(
    client: &Client,
    table: &str,
    items: Vec<HashMap<String, AttributeValue>>,
) -> WriteOutcome {
    let mut outcome = WriteOutcome::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    for chunk in items.chunks(25) {
        let mut pending: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .unwrap(),
                    )
                    .build()
            })
            .collect();
        while !pending.is_empty() {
            assert!(
                Instant::now() < deadline,
                "the batch writer made no progress"
            );
            outcome.batches_sent += 1;
            let result = client
                .batch_write_item()
                .request_items(table, pending.clone())
                .send()
                .await;
            match result {
                Ok(output) => {
                    pending = output
                        .unprocessed_items
                        .unwrap_or_default()
                        .remove(table)
                        .unwrap_or_default();
                    outcome.unprocessed_returned += pending.len() as u64;
                }
                Err(_) => outcome.errors += 1,
            }
        }
    }
    outcome
}

async fn scan_all(client: &Client, table: &str) -> Vec<HashMap<String, AttributeValue>> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .limit(500)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

fn faults() -> Faults {
    Faults {
        partial_batch: 0.3,
        throughput_exceeded: 0.025,
        throttling: 0.025,
        internal_error: 0.01,
        drop_before_forward: 0.005,
        drop_after_forward: 0.005,
    }
}

#[test]
fn every_item_arrives_exactly_through_the_faults() {
    let dynamodb = DynamoDbLocal::start();
    let proxy = FaultProxy::start(
        &dynamodb.endpoint(),
        // Seed 7 puts every kind of fault among the first 120 requests after CreateTable (the
        // schedule is a function of seed and request number), and 3,000 items take at least 120
        // batches: so each kind happens whatever the retries do.
        FaultPlan::new(7).operation("BatchWriteItem", faults()),
    );
    // No SDK retries: the test's own loop re-sends after every error.
    let client = client(&proxy.endpoint(), 1);
    let count = 3000;
    let started = Instant::now();
    let (outcome, scanned) = runtime().block_on(async {
        create_table(&client, TABLE).await;
        let outcome = write_all(&client, TABLE, (0..count).map(item).collect()).await;
        // Read back with the faults off (Scan has none configured anyway).
        proxy.set_enabled(false);
        (outcome, scan_all(&client, TABLE).await)
    });
    let stats = proxy.stats();
    eprintln!(
        "{count} items in {:?}: {outcome:?}\n{stats:#?}",
        started.elapsed()
    );

    assert_eq!(scanned.len(), count, "scan count");
    let mut by_key: HashMap<String, HashMap<String, AttributeValue>> = HashMap::new();
    for got in scanned {
        let key = got["pk"].as_s().unwrap().clone();
        assert!(by_key.insert(key.clone(), got).is_none(), "{key} twice");
    }
    for i in 0..count {
        let want = item(i);
        let key = want["pk"].as_s().unwrap();
        assert_eq!(by_key.get(key), Some(&want), "item {key}");
    }

    assert!(stats.partial_batches > 0, "{stats:?}");
    assert!(stats.unprocessed_items > 0, "{stats:?}");
    assert!(stats.throughput_exceeded > 0, "{stats:?}");
    assert!(stats.throttling > 0, "{stats:?}");
    assert!(stats.internal_errors > 0, "{stats:?}");
    assert!(stats.dropped_before_forward > 0, "{stats:?}");
    assert!(stats.dropped_after_forward > 0, "{stats:?}");
    assert_eq!(stats.upstream_errors, 0);
    // The client saw the partial batches as UnprocessedItems (the SDK does not retry those),
    // and every other fault as an error.
    assert_eq!(outcome.unprocessed_returned, stats.unprocessed_items);
    assert_eq!(
        outcome.errors,
        stats.throughput_exceeded
            + stats.throttling
            + stats.internal_errors
            + stats.dropped_before_forward
            + stats.dropped_after_forward
    );
}

/// The faults the BatchWriteItem requests met, in order.
fn batch_faults(proxy: &FaultProxy) -> Vec<Fault> {
    proxy
        .log()
        .into_iter()
        .filter(|r| r.operation == "BatchWriteItem")
        .map(|r| r.fault)
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_faults() {
    let dynamodb = DynamoDbLocal::start();
    let run = |seed: u64, table: &str| {
        let proxy = FaultProxy::start(
            &dynamodb.endpoint(),
            FaultPlan::new(seed).operation("BatchWriteItem", faults()),
        );
        let client = client(&proxy.endpoint(), 3);
        runtime().block_on(async {
            create_table(&client, table).await;
            write_all(&client, table, (0..500).map(item).collect()).await;
        });
        batch_faults(&proxy)
    };
    let first = run(11, "seed_a");
    let again = run(11, "seed_b");
    let other = run(12, "seed_c");
    assert!(first.iter().any(|f| *f != Fault::None));
    assert_eq!(first, again);
    assert_ne!(first, other);
}

#[test]
fn faults_can_be_turned_off_and_latency_added() {
    let dynamodb = DynamoDbLocal::start();
    let proxy = FaultProxy::start(
        &dynamodb.endpoint(),
        FaultPlan::new(1).other_operations(Faults {
            internal_error: 1.0,
            ..Faults::NONE
        }),
    );
    let client = client(&proxy.endpoint(), 3);
    runtime().block_on(async {
        assert!(client.list_tables().send().await.is_err());
        proxy.set_enabled(false);
        proxy.set_latency(Duration::from_millis(50));
        let started = Instant::now();
        client.list_tables().send().await.expect("list tables");
        assert!(started.elapsed() >= Duration::from_millis(50));
    });
    let stats = proxy.stats();
    // Three attempts of the SDK, all answered 500; then one forwarded.
    assert_eq!(stats.internal_errors, 3);
    assert_eq!(stats.forwarded, 1);
}

/// Whether a process with this id is running (a zombie counts as gone).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit(')')
                .next()
                .map(|rest| !rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

#[test]
fn dynamodb_local_is_killed_on_drop() {
    let dynamodb = DynamoDbLocal::start();
    let pid = dynamodb.pid();
    let port = dynamodb.port();
    assert!(running(pid));
    drop(dynamodb);
    assert!(!running(pid), "java process {pid} still running");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still answers"
    );
}

/// Sends raw HTTP requests on one kept-alive connection and reads each response.
fn raw_exchange(port: u16, bodies: &[String]) -> Vec<(String, HashMap<String, String>, Vec<u8>)> {
    use std::io::{BufRead, BufReader, Read, Write};
    let stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut responses = Vec::new();
    for body in bodies {
        write!(
            writer,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Target: DynamoDB_20120810.BatchWriteItem\r\n\
             Content-Type: application/x-amz-json-1.0\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        let mut headers = HashMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
        let mut body = vec![0; headers["content-length"].parse().unwrap()];
        reader.read_exact(&mut body).unwrap();
        responses.push((status.trim_end().to_string(), headers, body));
    }
    responses
}

#[test]
fn a_rewritten_response_has_a_correct_length_and_crc32() {
    let dynamodb = DynamoDbLocal::start();
    let proxy = FaultProxy::start(
        &dynamodb.endpoint(),
        FaultPlan::new(3).operation(
            "BatchWriteItem",
            Faults {
                partial_batch: 1.0,
                ..Faults::NONE
            },
        ),
    );
    let client = client(&dynamodb.endpoint(), 3);
    runtime().block_on(create_table(&client, TABLE));
    let batch = |from: usize| {
        let puts: Vec<String> = (from..from + 25)
            .map(|i| format!(r#"{{"PutRequest":{{"Item":{{"pk":{{"S":"raw-{i}"}}}}}}}}"#))
            .collect();
        format!(r#"{{"RequestItems":{{"{TABLE}":[{}]}}}}"#, puts.join(","))
    };
    // Two requests on one connection: keep-alive works.
    let responses = raw_exchange(proxy.port(), &[batch(0), batch(100)]);
    let mut unprocessed = 0;
    for (status, headers, body) in &responses {
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert_eq!(
            headers["x-amz-crc32"],
            holdfast_testkit::fault_proxy::crc32(body).to_string()
        );
        let json: serde_json::Value = serde_json::from_slice(body).unwrap();
        let left = json["UnprocessedItems"][TABLE].as_array().unwrap().len();
        assert!((1..25).contains(&left), "{left}");
        unprocessed += left as u64;
    }
    assert_eq!(proxy.stats().unprocessed_items, unprocessed);
    assert_eq!(proxy.stats().partial_batches, 2);
    // Exactly the forwarded part arrived.
    let stored = runtime().block_on(scan_all(&client, TABLE));
    assert_eq!(stored.len() as u64, 50 - unprocessed);
}
