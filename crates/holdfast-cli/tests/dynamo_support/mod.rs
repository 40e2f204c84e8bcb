//! Shared helpers for the DynamoDB CLI tests: an SDK client for DynamoDB Local, tables, test
//! items of every attribute type, a fast loader, and a `holdfast` command with test credentials.
#![allow(dead_code)]

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, Select, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use holdfast_testkit::moto::AWS_TEST_REGION;
use std::collections::HashMap;

pub type SdkItem = HashMap<String, AttributeValue>;

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(AWS_TEST_REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "holdfast-test",
        ))
        .http_client(holdfast_aws::build_http_client())
        .build();
    Client::from_conf(config)
}

/// A table keyed `pk` (S) and, if given, a sort key of that name and type; on demand.
pub async fn create_table(client: &Client, name: &str, sort: Option<(&str, ScalarAttributeType)>) {
    let attr = |n: &str, t: ScalarAttributeType| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(t)
            .build()
            .expect("attr")
    };
    let key = |n: &str, t: KeyType| {
        KeySchemaElement::builder()
            .attribute_name(n)
            .key_type(t)
            .build()
            .expect("key")
    };
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash));
    if let Some((sk, t)) = sort {
        create = create
            .attribute_definitions(attr(sk, t))
            .key_schema(key(sk, KeyType::Range));
    }
    create
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTable {name}: {e:?}"));
}

/// Item `i`: `pk` S and `sk` N keys and one attribute of every type, with values that depend on `i`.
pub fn item(i: u64) -> SdkItem {
    let s = |v: String| AttributeValue::S(v);
    let n = |v: String| AttributeValue::N(v);
    let mut m = SdkItem::new();
    m.insert("pk".into(), s(format!("user#{i:06}")));
    m.insert("sk".into(), n(format!("{}", i % 7)));
    m.insert("name".into(), s(format!("Name {i} ü✓")));
    m.insert("amount".into(), n(format!("{}.{:03}", i * 3, i % 1000)));
    m.insert(
        "big".into(),
        n(format!("1234567890123456789012345678901234567{}", i % 10)),
    );
    m.insert(
        "blob".into(),
        AttributeValue::B(Blob::new(i.to_be_bytes().to_vec())),
    );
    m.insert(
        "tags".into(),
        AttributeValue::Ss(vec![format!("t{}", i % 3), "all".into()]),
    );
    m.insert(
        "scores".into(),
        AttributeValue::Ns(vec![format!("{}", i % 5), "0.5".into()]),
    );
    m.insert(
        "blobs".into(),
        AttributeValue::Bs(vec![
            Blob::new(vec![1, (i % 250) as u8]),
            Blob::new(vec![0]),
        ]),
    );
    m.insert(
        "address".into(),
        AttributeValue::M(HashMap::from([
            ("city".into(), s(format!("City {}", i % 100))),
            (
                "lines".into(),
                AttributeValue::L(vec![
                    s("line 1".into()),
                    AttributeValue::Null(true),
                    AttributeValue::Bool(i.is_multiple_of(2)),
                ]),
            ),
        ])),
    );
    m.insert("active".into(), AttributeValue::Bool(i.is_multiple_of(3)));
    m.insert("nothing".into(), AttributeValue::Null(true));
    m
}

/// Loads items `0..count` (direct to the server, 8 writers).
pub async fn load(client: &Client, table: &str, count: u64) {
    let chunks: Vec<Vec<u64>> = (0..count)
        .collect::<Vec<_>>()
        .chunks(25)
        .map(<[u64]>::to_vec)
        .collect();
    let per = chunks.len().div_ceil(8).max(1);
    let mut tasks = tokio::task::JoinSet::new();
    for group in chunks.chunks(per).map(<[Vec<u64>]>::to_vec) {
        let client = client.clone();
        let table = table.to_owned();
        tasks.spawn(async move {
            for chunk in group {
                let mut pending: Vec<WriteRequest> = chunk
                    .iter()
                    .map(|i| {
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder()
                                    .set_item(Some(item(*i)))
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                    })
                    .collect();
                while !pending.is_empty() {
                    let out = client
                        .batch_write_item()
                        .request_items(&table, pending)
                        .send()
                        .await
                        .expect("load batch");
                    pending = out
                        .unprocessed_items
                        .and_then(|mut m| m.remove(&table))
                        .unwrap_or_default();
                }
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("loader");
    }
}

pub async fn count(client: &Client, table: &str) -> u64 {
    let mut total = 0;
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .select(Select::Count)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("count");
        total += out.count() as u64;
        match out.last_evaluated_key.filter(|k| !k.is_empty()) {
            Some(k) => start = Some(k),
            None => return total,
        }
    }
}

/// One segment as a checkpoint records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub segment: u32,
    pub done: bool,
    pub items_read: u64,
    pub items_written: u64,
}

/// The segments of a checkpoint file.
pub fn file_checkpoint(path: &std::path::Path) -> Vec<Recorded> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let doc: serde_json::Value = serde_json::from_str(&text).expect("checkpoint JSON");
    let number = |v: &serde_json::Value, name: &str| {
        v[name].as_u64().unwrap_or_else(|| panic!("{name} in {v}"))
    };
    doc["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| Recorded {
            segment: number(s, "segment") as u32,
            done: s["done"] == true,
            items_read: number(s, "items_read"),
            items_written: number(s, "items_written"),
        })
        .collect()
}

/// Every item of `table` (strongly consistent).
pub async fn scan_all(client: &Client, table: &str) -> Vec<SdkItem> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan {table}: {e:?}"));
        items.extend(out.items.unwrap_or_default());
        match out.last_evaluated_key.filter(|k| !k.is_empty()) {
            Some(k) => start = Some(k),
            None => return items,
        }
    }
}

/// The segment rows of a checkpoint table (`part` = `segment#…`), in segment order.
pub async fn checkpoint_rows(client: &Client, table: &str) -> Vec<SdkItem> {
    let mut rows: Vec<SdkItem> = scan_all(client, table)
        .await
        .into_iter()
        .filter(
            |r| matches!(r.get("part"), Some(AttributeValue::S(p)) if p.starts_with("segment#")),
        )
        .collect();
    rows.sort_by_key(|r| row_number(r, "segment"));
    rows
}

/// A number attribute of a checkpoint row (0 when absent).
pub fn row_number(row: &SdkItem, name: &str) -> u64 {
    match row.get(name) {
        Some(AttributeValue::N(v)) => v.parse().expect("a whole number"),
        _ => 0,
    }
}

/// A string attribute of a checkpoint row.
pub fn row_string(row: &SdkItem, name: &str) -> String {
    match row.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

/// What a checkpoint table's row records.
pub fn row_recorded(row: &SdkItem) -> Recorded {
    Recorded {
        segment: row_number(row, "segment") as u32,
        done: row.get("done") == Some(&AttributeValue::Bool(true)),
        items_read: row_number(row, "items_read"),
        items_written: row_number(row, "items_written"),
    }
}

/// Milliseconds since the Unix epoch (the clock of a checkpoint table's leases).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Checks that a checkpoint is not ahead of the target: every item it records as copied (per
/// segment, the first `items_read` items of that segment's scan of `source` in scan order, all
/// of them when done) is in `target` with the source's `name`. Tables keyed `pk:S,sk:N`, no
/// transform. Returns how many items the checkpoint covers.
pub async fn assert_checkpoint_not_ahead(
    client: &Client,
    source: &str,
    target: &str,
    total_segments: u32,
    recorded: &[Recorded],
) -> u64 {
    assert_eq!(recorded.len(), total_segments as usize, "{recorded:?}");
    let key = |item: &SdkItem| format!("{:?}/{:?}", item.get("pk"), item.get("sk"));
    let mut written = HashMap::new();
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(target)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan the target");
        for item in out.items.unwrap_or_default() {
            written.insert(key(&item), item);
        }
        match out.last_evaluated_key.filter(|k| !k.is_empty()) {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    let mut covered = 0;
    for r in recorded {
        let mut start = None;
        let mut seen = 0u64;
        'pages: loop {
            let out = client
                .scan()
                .table_name(source)
                .segment(r.segment as i32)
                .total_segments(total_segments as i32)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan a source segment");
            for item in out.items.unwrap_or_default() {
                if !r.done && seen == r.items_read {
                    break 'pages;
                }
                seen += 1;
                let k = key(&item);
                let copy = written.get(&k).unwrap_or_else(|| {
                    panic!(
                        "the checkpoint is ahead of the target: segment {} records {} items read \
                         (done: {}), but its item number {seen} ({k}) is not in {target}",
                        r.segment, r.items_read, r.done
                    )
                });
                assert_eq!(copy.get("name"), item.get("name"), "{k}");
            }
            match out.last_evaluated_key.filter(|k| !k.is_empty()) {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        assert_eq!(
            seen, r.items_read,
            "segment {} records {} items read (done: {}), its scan has {seen}",
            r.segment, r.items_read, r.done
        );
        covered += seen;
    }
    covered
}
