//! The lease protocol (`holdfast_dynamo::lease`) against DynamoDB Local: once another holder
//! has taken a row, no write of the earlier holder succeeds — not a renewal, not a release, not
//! a fenced transaction — and the row stays as the new holder left it.

use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_sdk_dynamodb::Client;
use holdfast_dynamo::lease::{Clause, LeaseError, Leases, RowKey};
use holdfast_dynamo::state_table::{ensure_table, num};
use holdfast_testkit::DynamoDbLocal;

const TABLE: &str = "holdfast_leases";
const KEY: RowKey<'static> = RowKey {
    copy: "holdfast#lock",
    part: "lock",
};

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .http_client(holdfast_aws::build_http_client())
        .build();
    holdfast_dynamo::client::data_client(&Client::from_conf(config))
}

/// DynamoDB Local (kept running while the first value lives), a runtime and a client.
fn start() -> (DynamoDbLocal, tokio::runtime::Runtime, Client) {
    let dynamodb = DynamoDbLocal::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let c = client(&dynamodb.endpoint());
    (dynamodb, rt, c)
}

/// Ends the row's lease now, as the clock would once it ran out.
async fn expire(c: &Client) {
    c.update_item()
        .table_name(TABLE)
        .key("copy", AttributeValue::S(KEY.copy.into()))
        .key("part", AttributeValue::S(KEY.part.into()))
        .update_expression("SET lease_until = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
}

/// A fenced change: a counter bumped only while `leases` holds the row with `fence`.
async fn fenced_bump(c: &Client, leases: &Leases, fence: u64) -> bool {
    let update = aws_sdk_dynamodb::types::Update::builder()
        .table_name(TABLE)
        .key("copy", AttributeValue::S("counter".into()))
        .key("part", AttributeValue::S("counter".into()))
        .update_expression("ADD n :one")
        .expression_attribute_values(":one", AttributeValue::N("1".into()))
        .build()
        .unwrap();
    c.transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(leases.check(KEY, fence).unwrap())
                .build(),
        )
        .transact_items(TransactWriteItem::builder().update(update).build())
        .send()
        .await
        .is_ok()
}

#[test]
fn a_taken_over_lease_fences_out_its_earlier_holder() {
    let (_dynamodb, rt, c) = start();
    rt.block_on(async {
        ensure_table(&c, TABLE).await.unwrap();
        let a = Leases::new(c.clone(), TABLE, "a".into());
        let b = Leases::new(c.clone(), TABLE, "b".into());
        let lease = Duration::from_secs(600);

        let row = a.take(KEY, lease, None).await.unwrap().expect("a free row");
        let fence_a = num(&row, "fence");
        assert_eq!(fence_a, 1);
        assert!(b.take(KEY, lease, None).await.unwrap().is_none(), "held");
        assert!(fenced_bump(&c, &a, fence_a).await);
        assert!(!fenced_bump(&c, &b, fence_a).await, "not b's");

        // A stalls past its lease; B takes the row over and the token moves on.
        expire(&c).await;
        let row = b.take(KEY, lease, None).await.unwrap().expect("expired");
        let fence_b = num(&row, "fence");
        assert_eq!(fence_b, 2);
        let taken = b.holder(KEY).await.unwrap();
        assert_eq!(taken.owner.as_deref(), Some("b"));

        // A can change nothing any more.
        assert_eq!(
            a.renew(KEY, fence_a, u64::MAX, None).await,
            Err(LeaseError::Lost)
        );
        assert_eq!(a.renew(KEY, fence_a, 0, None).await, Err(LeaseError::Lost));
        assert!(!fenced_bump(&c, &a, fence_a).await);
        assert_eq!(b.holder(KEY).await.unwrap(), taken, "the row moved");

        // B renews with its own change, releases, and a release frees the row.
        let note = Clause {
            text: "extra_note = :note".into(),
            names: Vec::new(),
            values: vec![(":note", AttributeValue::S("b's".into()))],
        };
        b.renew(KEY, fence_b, u64::MAX, Some(&note)).await.unwrap();
        assert!(fenced_bump(&c, &b, fence_b).await);
        b.renew(KEY, fence_b, 0, None).await.unwrap();
        let row = a.take(KEY, lease, None).await.unwrap().expect("released");
        assert_eq!(num(&row, "fence"), 3);
        assert_eq!(
            row.get("extra_note"),
            Some(&AttributeValue::S("b's".into())),
            "a take keeps the row's other attributes"
        );
    });
}

#[test]
fn a_condition_of_the_caller_gates_the_take() {
    let (_dynamodb, rt, c) = start();
    rt.block_on(async {
        ensure_table(&c, TABLE).await.unwrap();
        let a = Leases::new(c.clone(), TABLE, "a".into());
        // A segment row must exist and not be done.
        let not_done = Clause {
            text: "attribute_exists(#c) AND done = :false".into(),
            names: vec![("#c", "copy")],
            values: vec![(":false", AttributeValue::Bool(false))],
        };
        let lease = Duration::from_secs(60);
        assert!(a.take(KEY, lease, Some(&not_done)).await.unwrap().is_none());
        c.put_item()
            .table_name(TABLE)
            .item("copy", AttributeValue::S(KEY.copy.into()))
            .item("part", AttributeValue::S(KEY.part.into()))
            .item("done", AttributeValue::Bool(false))
            .item("fence", AttributeValue::N("0".into()))
            .item("lease_until", AttributeValue::N("0".into()))
            .send()
            .await
            .unwrap();
        let row = a.take(KEY, lease, Some(&not_done)).await.unwrap();
        assert_eq!(row.map(|r| num(&r, "fence")), Some(1));
    });
}
