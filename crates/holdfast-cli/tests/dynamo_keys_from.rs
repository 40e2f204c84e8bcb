//! `holdfast dynamo copy --keys-from FILE` against DynamoDB Local: after writes to the source
//! during (here: after) a copy, `compare` lists the differing keys and `copy --keys-from`
//! brings just those across; keys only in the target are deleted only when asked.

mod common;
mod dynamo_support;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use common::{holdfast_aws, Run};
use dynamo_support::{client, count, create_table, item, load, runtime};
use holdfast_testkit::DynamoDbLocal;
use std::path::Path;

const SK_N: Option<(&str, ScalarAttributeType)> = Some(("sk", ScalarAttributeType::N));

fn holdfast(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let output = holdfast_aws(dir)
        .args(["dynamo"])
        .args(args)
        .args(["--endpoint-url", endpoint, "--json"])
        .output()
        .expect("run holdfast");
    Run::from(output)
}

#[test]
fn keys_from_a_comparison_copies_just_the_differences() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", SK_N).await;
        load(&c, "src", 500).await;
    });
    let work = tempfile::tempdir().unwrap();
    holdfast(work.path(), &endpoint, &["copy", "src", "dst"]).expect(0);

    // Writes to the source after the copy: 5 changed, 3 new, 2 deleted.
    rt.block_on(async {
        for i in 0..5u64 {
            let mut changed = item(i);
            changed.insert("name".into(), AttributeValue::S(format!("changed {i}")));
            c.put_item()
                .table_name("src")
                .set_item(Some(changed))
                .send()
                .await
                .unwrap();
        }
        for i in 1_000..1_003u64 {
            c.put_item()
                .table_name("src")
                .set_item(Some(item(i)))
                .send()
                .await
                .unwrap();
        }
        for i in 100..102u64 {
            let it = item(i);
            c.delete_item()
                .table_name("src")
                .key("pk", it["pk"].clone())
                .key("sk", it["sk"].clone())
                .send()
                .await
                .unwrap();
        }
    });
    let diff = holdfast(
        work.path(),
        &endpoint,
        &["compare", "src", "dst", "--keys-file", "keys.jsonl"],
    );
    diff.expect(3);
    let keys = std::fs::read_to_string(work.path().join("keys.jsonl")).unwrap();
    assert_eq!(keys.lines().count(), 10, "{keys}");

    // A bad line anywhere: refused before anything is written.
    std::fs::write(
        work.path().join("bad.jsonl"),
        format!("{keys}{{\"difference\": \"different\", \"key\": {{\"pk\": {{\"S\": \"x\"}}}}}}\n"),
    )
    .unwrap();
    let bad = holdfast(
        work.path(),
        &endpoint,
        &["copy", "src", "dst", "--keys-from", "bad.jsonl"],
    );
    bad.expect(2);
    assert!(
        bad.stderr
            .contains("bad.jsonl:11: \"key\" does not fit the table's key")
            && bad.stderr.contains("nothing was written"),
        "{}",
        bad.stderr
    );
    let still = holdfast(
        work.path(),
        &endpoint,
        &["compare", "src", "dst", "--keys-file", "still.jsonl"],
    );
    still.expect(3);
    assert_eq!(
        still.json()["different"],
        5,
        "nothing written: {}",
        still.stdout
    );

    // Without --delete-only-in-target: changed and new items copied, the 2 deleted kept.
    let kept = holdfast(
        work.path(),
        &endpoint,
        &["copy", "src", "dst", "--keys-from", "keys.jsonl"],
    );
    kept.expect(3);
    let report = kept.json();
    assert_eq!(report["items_read"], 8, "{}", kept.stdout);
    assert_eq!(report["items_written"], 8);
    assert_eq!(report["keys_kept"], 2);
    assert_eq!(report["verification"]["only_in_target"], 2);
    assert_eq!(report["verification"]["different"], 0);
    assert_eq!(report["verification"]["only_in_source"], 0);
    assert_eq!(report["resume"]["remedy"]["action"], "use");
    assert_eq!(
        report["resume"]["remedy"]["setting"],
        "delete-only-in-target"
    );

    // With it: equal.
    let done = holdfast(
        work.path(),
        &endpoint,
        &[
            "copy",
            "src",
            "dst",
            "--keys-from",
            "keys.jsonl",
            "--delete-only-in-target",
        ],
    );
    done.expect(0);
    assert_eq!(done.json()["items_deleted"], 2);
    assert_eq!(done.json()["verification"]["equal"], true);
    assert_eq!(rt.block_on(count(&c, "dst")), 501);
}

#[test]
fn keys_from_gets_and_writes_everything_through_throttling_errors_and_dropped_connections() {
    use holdfast_testkit::{Fault, FaultPlan, FaultProxy, Faults};
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", SK_N).await;
        load(&c, "src", 400).await;
    });
    let work = tempfile::tempdir().unwrap();
    // Every key differs (the target is empty): 400 keys to get and write.
    holdfast(
        work.path(),
        &endpoint,
        &["compare", "src", "dst", "--keys-file", "keys.jsonl"],
    )
    .expect(3);
    let faults = Faults {
        throughput_exceeded: 0.1,
        throttling: 0.1,
        internal_error: 0.1,
        drop_before_forward: 0.05,
        drop_after_forward: 0.05,
        ..Faults::NONE
    };
    // The first gets meet each kind of failure for certain; the rest at random.
    let plan = FaultPlan::new(11)
        .operation("BatchGetItem", faults)
        .script("BatchGetItem", 0, Fault::Throttling)
        .script("BatchGetItem", 1, Fault::InternalError)
        .script("BatchGetItem", 2, Fault::DropBeforeForward)
        .script("BatchGetItem", 3, Fault::DropAfterForward)
        .script("BatchGetItem", 4, Fault::ThroughputExceeded)
        .operation(
            "BatchWriteItem",
            Faults {
                partial_batch: 0.3,
                ..faults
            },
        );
    let proxy = FaultProxy::start(&endpoint, plan);
    let copied = holdfast(
        work.path(),
        &proxy.endpoint(),
        &[
            "copy",
            "src",
            "dst",
            "--keys-from",
            "keys.jsonl",
            "--no-verify",
        ],
    );
    copied.expect(0);
    let report = copied.json();
    assert_eq!(report["items_read"], 400, "{}", copied.stdout);
    assert_eq!(report["items_written"], 400);
    let gets: Vec<_> = proxy
        .log()
        .into_iter()
        .filter(|r| r.operation == "BatchGetItem")
        .collect();
    assert!(
        gets.iter().filter(|r| r.fault != Fault::None).count() >= 5,
        "BatchGetItem met faults: {gets:?}"
    );
    holdfast(work.path(), &endpoint, &["compare", "src", "dst"]).expect(0);
    assert_eq!(rt.block_on(count(&c, "dst")), 400);
}
