//! `holdfast dynamo copy` and `compare` on the built binary against DynamoDB Local, with the
//! test kit's fault-injecting proxy in front of it for the failure paths (DynamoDB Local never
//! throttles and never returns `UnprocessedItems`).

mod common;
mod dynamo_support;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use common::{holdfast_aws, Run};
use dynamo_support::{client, count, create_table, load, runtime};
use holdfast_testkit::{DynamoDbLocal, FaultPlan, FaultProxy, Faults};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn copy(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let output = holdfast_aws(dir)
        .args(["dynamo", "copy", "--endpoint-url", endpoint, "--json"])
        .args(args)
        .output()
        .expect("run holdfast");
    Run::from(output)
}

fn compare(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let output = holdfast_aws(dir)
        .args(["dynamo", "compare", "--endpoint-url", endpoint, "--json"])
        .args(args)
        .output()
        .expect("run holdfast");
    Run::from(output)
}

const SK_N: Option<(&str, ScalarAttributeType)> = Some(("sk", ScalarAttributeType::N));

/// A fresh DynamoDB Local with `src` holding items `0..total` and an empty `dst`, both keyed
/// `pk:S,sk:N`.
fn setup(
    total: u64,
) -> (
    DynamoDbLocal,
    tokio::runtime::Runtime,
    aws_sdk_dynamodb::Client,
) {
    let dynamodb = DynamoDbLocal::start();
    let rt = runtime();
    let c = client(&dynamodb.endpoint());
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", SK_N).await;
        load(&c, "src", total).await;
    });
    (dynamodb, rt, c)
}

#[test]
fn copies_100k_items_of_every_type_through_faults_without_losing_one() {
    let total = 100_000;
    let (dynamodb, rt, c) = setup(total);
    let direct = dynamodb.endpoint();
    let plan = FaultPlan::new(7)
        .operation(
            "BatchWriteItem",
            Faults {
                partial_batch: 0.30,
                throughput_exceeded: 0.025,
                throttling: 0.025,
                drop_before_forward: 0.005,
                drop_after_forward: 0.005,
                ..Faults::NONE
            },
        )
        .operation(
            "Scan",
            Faults {
                throttling: 0.02,
                internal_error: 0.01,
                drop_before_forward: 0.005,
                drop_after_forward: 0.005,
                ..Faults::NONE
            },
        );
    let proxy = FaultProxy::start(&direct, plan);
    let dir = tempfile::tempdir().unwrap();
    let run = copy(
        dir.path(),
        &proxy.endpoint(),
        &["src", "dst", "--checkpoint", "ckpt.json"],
    );
    run.expect(0);
    let report = run.json();
    assert_eq!(report["items_read"], total);
    assert_eq!(report["items_written"], total);
    assert_eq!(report["verification"]["equal"], true, "{report}");
    assert!(
        report["unprocessed_retried"].as_u64().unwrap() > 1000,
        "{report}"
    );
    assert!(report["calls_retried"].as_u64().unwrap() > 50, "{report}");
    let stats = proxy.stats();
    assert!(
        stats.partial_batches > 1000 && stats.dropped_after_forward > 10 && stats.throttling > 10,
        "{stats:?}"
    );

    // An independent comparison, straight to the server.
    let check = compare(dir.path(), &direct, &["src", "dst"]);
    check.expect(0);
    assert_eq!(check.json()["target_items"], total);
    assert_eq!(rt.block_on(count(&c, "dst")), total);
}

#[test]
fn kill_9_then_resume_continues_every_segment_from_its_checkpoint() {
    let total = 20_000;
    let (dynamodb, _rt, _c) = setup(total);
    let direct = dynamodb.endpoint();
    // 5 ms per request: a copy of several seconds to kill in the middle of.
    let proxy = FaultProxy::start(&direct, FaultPlan::new(1).latency(Duration::from_millis(5)));
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("ckpt.json");
    let mut child = holdfast_aws(dir.path())
        .args([
            "dynamo",
            "copy",
            "--endpoint-url",
            &proxy.endpoint(),
            "src",
            "dst",
        ])
        .args([
            "--checkpoint",
            "ckpt.json",
            "--segments",
            "4",
            "--page-size",
            "50",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until every segment has recorded progress, then kill -9.
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "no progress");
        if let Ok(text) = std::fs::read_to_string(&ckpt) {
            if let Ok(doc) = serde_json::from_str::<serde_json::Value>(&text) {
                let segs = doc["segments"].as_array().unwrap();
                if segs.iter().all(|s| s["pages"].as_u64().unwrap() >= 2) {
                    break;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&ckpt).unwrap()).unwrap();
    let segs = doc["segments"].as_array().unwrap().clone();
    assert!(
        segs.iter().any(|s| s["done"] == false),
        "killed too late: {doc}"
    );
    let recorded: u64 = segs.iter().map(|s| s["items_read"].as_u64().unwrap()).sum();

    // Without --resume: refused, nothing changes.
    let refused = copy(
        dir.path(),
        &proxy.endpoint(),
        &["src", "dst", "--checkpoint", "ckpt.json", "--segments", "4"],
    );
    refused.expect(2);
    assert!(
        refused.stderr.contains("pass --resume"),
        "{}",
        refused.stderr
    );

    let resumed = copy(
        dir.path(),
        &proxy.endpoint(),
        &[
            "src",
            "dst",
            "--checkpoint",
            "ckpt.json",
            "--segments",
            "4",
            "--page-size",
            "50",
            "--resume",
        ],
    );
    resumed.expect(0);
    let report = resumed.json();
    // Every segment went on from its checkpoint: exactly the unrecorded items were read again.
    assert_eq!(
        report["items_read"].as_u64().unwrap(),
        total - recorded,
        "{report}"
    );
    assert_eq!(report["verification"]["equal"], true);
    assert_eq!(report["segments_done"], 4);
}

#[test]
fn two_processes_share_one_copy_through_the_checkpoint_table() {
    let total = 20_000;
    let (dynamodb, rt, c) = setup(total);
    let direct = dynamodb.endpoint();
    let proxy = FaultProxy::start(&direct, FaultPlan::new(2).latency(Duration::from_millis(5)));
    let endpoint = proxy.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "src",
        "dst",
        "--checkpoint-table",
        "holdfast_checkpoints",
        "--segments",
        "8",
        "--page-size",
        "50",
        "--no-verify",
    ];
    let first = holdfast_aws(dir.path())
        .args(["dynamo", "copy", "--endpoint-url", &endpoint, "--json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The second joins once the first has created the copy's rows.
    let second = loop {
        std::thread::sleep(Duration::from_millis(100));
        let probe = holdfast_aws(dir.path())
            .args([
                "dynamo",
                "copy",
                "--endpoint-url",
                &endpoint,
                "--json",
                "--resume",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = probe.wait_with_output().unwrap();
        let run = Run::from(out);
        if run.code == 2 && run.stderr.contains("no checkpoint table") {
            continue;
        }
        break run;
    };
    let first = Run::from(first.wait_with_output().unwrap());
    first.expect(0);
    second.expect(0);
    let (a, b) = (first.json(), second.json());
    let read = |r: &serde_json::Value| r["items_read"].as_u64().unwrap();
    assert!(read(&a) > 0 && read(&b) > 0, "both worked: {a} {b}");
    // No segment done twice: the two runs together read the table exactly once.
    assert_eq!(read(&a) + read(&b), total);
    // Every segment row: done, claimed exactly once (fencing token 1).
    let rows = rt.block_on(async {
        c.scan()
            .table_name("holdfast_checkpoints")
            .send()
            .await
            .unwrap()
            .items
            .unwrap()
    });
    let segments: Vec<_> = rows
        .iter()
        .filter(
            |r| matches!(r.get("part"), Some(AttributeValue::S(p)) if p.starts_with("segment#")),
        )
        .collect();
    assert_eq!(segments.len(), 8);
    for row in segments {
        assert_eq!(
            row.get("done"),
            Some(&AttributeValue::Bool(true)),
            "{row:?}"
        );
        assert_eq!(
            row.get("fence"),
            Some(&AttributeValue::N("1".into())),
            "{row:?}"
        );
    }
    let check = compare(dir.path(), &direct, &["src", "dst"]);
    check.expect(0);
}

#[test]
fn transforms_rename_derive_keys_split_and_drop_and_compare_follows_them() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", Some(("recordType", ScalarAttributeType::S))).await;
        load(&c, "src", 300).await;
    });
    let dir = tempfile::tempdir().unwrap();
    // Drop sk 0, rename `name` to `fullName`, add a string sort key, split sk 1 in two.
    std::fs::write(
        dir.path().join("t.jq"),
        "select(.sk != 0)\n| .fullName = .name | del(.name)\n| if .sk == 1 then (.recordType = \"USER\"), (.recordType = \"AUDIT\" | {pk, recordType}) else .recordType = \"USER\" end\n",
    )
    .unwrap();
    let run = copy(
        dir.path(),
        &endpoint,
        &[
            "src",
            "dst",
            "--transform",
            "t.jq",
            "--checkpoint",
            "c.json",
        ],
    );
    run.expect(0);
    let r = run.json();
    let dropped = (0..300).filter(|i| i % 7 == 0).count() as u64;
    let split = (0..300).filter(|i| i % 7 == 1).count() as u64;
    assert_eq!(r["items_dropped"], dropped);
    assert_eq!(r["items_split"], split);
    assert_eq!(r["items_written"], 300 - dropped + split);
    assert_eq!(r["verification"]["equal"], true, "{r}");
    assert_eq!(rt.block_on(count(&c, "dst")), 300 - dropped + split);

    // compare --transform sees a change made behind the copy's back.
    rt.block_on(async {
        c.put_item()
            .table_name("dst")
            .item("pk", AttributeValue::S("user#000002".into()))
            .item("recordType", AttributeValue::S("USER".into()))
            .item("fullName", AttributeValue::S("changed".into()))
            .send()
            .await
            .unwrap();
    });
    let diff = compare(
        dir.path(),
        &endpoint,
        &[
            "src",
            "dst",
            "--transform",
            "t.jq",
            "--keys-file",
            "keys.jsonl",
        ],
    );
    diff.expect(3);
    let d = diff.json();
    assert_eq!(d["different"], 1);
    assert_eq!(
        d["sample"][0]["key"],
        "pk=\"user#000002\", recordType=\"USER\""
    );
    let keys = std::fs::read_to_string(dir.path().join("keys.jsonl")).unwrap();
    let line: serde_json::Value = serde_json::from_str(keys.lines().next().unwrap()).unwrap();
    assert_eq!(line["difference"], "different");
    assert_eq!(line["source_key"]["pk"]["S"], "user#000002");
}

#[test]
fn a_deadline_stops_with_exit_4_and_resume_finishes() {
    let (dynamodb, _rt, _c) = setup(10_000);
    let direct = dynamodb.endpoint();
    let proxy = FaultProxy::start(&direct, FaultPlan::new(3).latency(Duration::from_millis(5)));
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "src",
        "dst",
        "--checkpoint",
        "c.json",
        "--segments",
        "2",
        "--page-size",
        "25",
    ];
    let stopped = copy(
        dir.path(),
        &proxy.endpoint(),
        &[&args[..], &["--deadline", "1s"]].concat(),
    );
    stopped.expect(4);
    let r = stopped.json();
    assert_eq!(r["stopped"], "deadline");
    assert!(r["resume"].as_str().unwrap().contains("--resume"), "{r}");
    assert!(r["verification"].is_null());
    let resumed = copy(
        dir.path(),
        &proxy.endpoint(),
        &[&args[..], &["--resume"]].concat(),
    );
    resumed.expect(0);
    assert_eq!(resumed.json()["verification"]["equal"], true);
}

#[test]
fn max_wcu_limits_the_write_rate() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", SK_N).await;
        load(&c, "src", 300).await;
    });
    let dir = tempfile::tempdir().unwrap();
    // 300 items of 1 WCU at 100 WCU/s: a burst of 100, then at least 2 s.
    let started = Instant::now();
    let run = copy(
        dir.path(),
        &endpoint,
        &[
            "src",
            "dst",
            "--max-wcu",
            "100",
            "--no-verify",
            "--checkpoint",
            "c.json",
        ],
    );
    run.expect(0);
    assert!(
        started.elapsed() >= Duration::from_millis(1800),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn bad_inputs_are_refused_before_anything_is_written() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", SK_N).await;
        create_table(&c, "other_key", Some(("sk", ScalarAttributeType::S))).await;
        create_table(&c, "full", SK_N).await;
        load(&c, "src", 50).await;
        load(&c, "full", 1).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("bad.jq"), ".a = \n| .b").unwrap();
    std::fs::write(d.join("nokey.jq"), "del(.sk)").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["missing", "dst"], "table missing does not exist"),
        (
            vec!["src", "other_key"],
            "key schemas differ: src has pk:S,sk:N, other_key has pk:S,sk:S",
        ),
        (
            vec!["src", "dst", "--transform", "bad.jq"],
            "invalid jq filter bad.jq:2:",
        ),
        (
            vec!["src", "dst", "--transform", "nope.jq"],
            "--transform nope.jq: cannot read",
        ),
        (
            vec!["src", "dst", "--transform", "nokey.jq"],
            "has no key attribute `sk`",
        ),
        (vec!["src", "full"], "target table full is not empty"),
        (
            vec!["src", "dst", "--resume"],
            "--resume: there is no checkpoint file",
        ),
        (
            vec!["src", "dst", "--segment-range", "3..9"],
            "--segment-range 3..9: B is beyond the 8 segments",
        ),
    ];
    for (args, expected) in cases {
        let run = copy(d, &endpoint, &args);
        run.expect(2);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert_eq!(
            run.stderr.lines().count(),
            1,
            "{args:?}: one line: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("panicked"));
    }
    // Nothing written, no checkpoint left behind.
    assert_eq!(rt.block_on(count(&c, "dst")), 0);
    assert!(
        !d.join(".holdfast").exists()
            || std::fs::read_dir(d.join(".holdfast"))
                .unwrap()
                .next()
                .is_none()
    );

    // A checkpoint of another copy is refused with the reason.
    copy(
        d,
        &endpoint,
        &["src", "dst", "--checkpoint", "c.json", "--no-verify"],
    )
    .expect(0);
    let foreign = copy(
        d,
        &endpoint,
        &[
            "src",
            "full",
            "--checkpoint",
            "c.json",
            "--resume",
            "--allow-nonempty-target",
        ],
    );
    foreign.expect(2);
    assert!(
        foreign
            .stderr
            .contains("does not belong to this copy: it belongs to a copy of src → dst"),
        "{}",
        foreign.stderr
    );
}

fn transfer(dir: &Path, endpoint: &str, args: &[&str]) -> Run {
    let output = holdfast_aws(dir)
        .args(["dynamo"])
        .args(args)
        .args(["--endpoint-url", endpoint, "--json"])
        .output()
        .expect("run holdfast");
    Run::from(output)
}

#[test]
fn export_then_import_round_trips_and_a_corrupt_export_writes_nothing() {
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    let c = client(&endpoint);
    let total = 5_000;
    rt.block_on(async {
        create_table(&c, "src", SK_N).await;
        create_table(&c, "dst", SK_N).await;
        create_table(&c, "dst2", SK_N).await;
        create_table(&c, "other_key", Some(("sk", ScalarAttributeType::S))).await;
        load(&c, "src", total).await;
    });
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exported = transfer(d, &endpoint, &["export", "src", "out", "--segments", "4"]);
    exported.expect(0);
    assert_eq!(exported.json()["items"], total);
    assert_eq!(exported.json()["files"], 4);
    assert!(d.join("out/manifest-summary.json").is_file());
    // Into a non-empty folder: refused.
    transfer(d, &endpoint, &["export", "src", "out"]).expect(2);

    let imported = transfer(d, &endpoint, &["import", "out", "dst"]);
    imported.expect(0);
    assert_eq!(imported.json()["items"], total);
    compare(d, &endpoint, &["src", "dst"]).expect(0);

    // The key schema recorded in the export must match the target's.
    let wrong = transfer(d, &endpoint, &["import", "out", "other_key"]);
    wrong.expect(2);
    assert!(
        wrong
            .stderr
            .contains("the export holds table src with key pk:S,sk:N"),
        "{}",
        wrong.stderr
    );

    // A flipped byte in one data file: refused before anything is written.
    let data = std::fs::read_dir(d.join("out/data"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&data, bytes).unwrap();
    let corrupt = transfer(d, &endpoint, &["import", "out", "dst2"]);
    corrupt.expect(2);
    assert!(
        corrupt.stderr.contains("data/segment-"),
        "{}",
        corrupt.stderr
    );
    assert_eq!(rt.block_on(count(&c, "dst2")), 0);
}
