//! `holdfast dynamo copy` and `compare` on the built binary against DynamoDB Local, with the
//! test kit's fault-injecting proxy in front of it for the failure paths (DynamoDB Local never
//! throttles and never returns `UnprocessedItems`).

mod common;
mod dynamo_support;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};
use common::{holdfast_aws, Run};
use dynamo_support::{client, count, create_table, load, runtime};
use holdfast_testkit::{DynamoDbLocal, Fault, FaultPlan, FaultProxy, Faults};
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
        refused.stderr.contains("run the same command with `--resume` to continue, or remove checkpoint file ckpt.json to start over"),
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
fn a_prepared_copy_is_finished_by_workers_pinned_to_segment_ranges() {
    let total = 3_000;
    let (dynamodb, _rt, _c) = setup(total);
    let endpoint = dynamodb.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let shared = [
        "src",
        "dst",
        "--checkpoint-table",
        "fan_out",
        "--total-segments",
        "8",
    ];
    // Prepare: checks and the checkpoint, nothing copied.
    let prepared = copy(
        dir.path(),
        &endpoint,
        &[&shared[..], &["--prepare"]].concat(),
    );
    prepared.expect(0);
    let report = prepared.json();
    assert_eq!(report["items_read"], 0);
    assert_eq!(report["segments_done"], 0);
    // The remedy is typed in JSON.
    assert_eq!(report["resume"]["remedy"]["action"], "resume", "{report}");
    assert!(
        report["resume"]["state"]
            .as_str()
            .unwrap()
            .contains("prepared"),
        "{report}"
    );

    // Preparing twice is refused: the copy exists.
    let again = copy(
        dir.path(),
        &endpoint,
        &[&shared[..], &["--prepare"]].concat(),
    );
    again.expect(2);
    assert!(
        again.stderr.contains("with `--resume` to continue"),
        "{}",
        again.stderr
    );
    // Two workers, each pinned to half of the segments, at once.
    let worker = |range: &str| {
        holdfast_aws(dir.path())
            .args([
                "dynamo",
                "copy",
                "--endpoint-url",
                &endpoint,
                "--json",
                "--resume",
            ])
            .args(shared)
            .args(["--segment-range", range])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (worker("0..4"), worker("4..8"));
    let runs = [a, b].map(|child| Run::from(child.wait_with_output().unwrap()));
    for run in &runs {
        run.expect(0);
    }
    let read: u64 = runs
        .iter()
        .map(|r| r.json()["items_read"].as_u64().unwrap())
        .sum();
    assert_eq!(read, total, "each segment read once");
    assert!(
        runs.iter()
            .any(|r| r.json()["verification"]["equal"] == true),
        "the worker that finished last verified the copy"
    );
    compare(dir.path(), &endpoint, &["src", "dst"]).expect(0);
}

#[test]
fn a_lease_is_renewed_while_a_throttled_page_outlasts_it() {
    let total = 200;
    let (dynamodb, rt, c) = setup(total);
    // The first 10 writes are throttled: one page's write backs off for seconds (full jitter
    // on doubling caps of 50 ms .. 5 s), longer than the 2 s lease.
    let mut plan = FaultPlan::new(11);
    for ordinal in 0..10 {
        plan = plan.script("BatchWriteItem", ordinal, Fault::Throttling);
    }
    let proxy = FaultProxy::start(&dynamodb.endpoint(), plan);
    let endpoint = proxy.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let shared = [
        "src",
        "dst",
        "--checkpoint-table",
        "leases",
        "--segments",
        "1",
        "--page-size",
        "25",
        "--lease",
        "2s",
        "--no-verify",
    ];
    let spawn = |extra: &[&str]| {
        holdfast_aws(dir.path())
            .args(["dynamo", "copy", "--endpoint-url", &endpoint, "--json"])
            .args(shared)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    Run::from(spawn(&["--prepare"]).wait_with_output().unwrap()).expect(0);
    let first = spawn(&["--resume"]);
    // A second worker joins once the first holds the segment, and waits for its lease.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !rt
        .block_on(dynamo_support::checkpoint_rows(&c, "leases"))
        .iter()
        .any(|r| dynamo_support::row_number(r, "fence") == 1)
    {
        assert!(Instant::now() < deadline, "the first worker never claimed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = spawn(&["--resume"]);
    let first = Run::from(first.wait_with_output().unwrap());
    let second = Run::from(second.wait_with_output().unwrap());
    first.expect(0);
    second.expect(0);
    assert!(
        first.json()["calls_retried"].as_u64().unwrap() >= 10,
        "{}",
        first.stdout
    );
    assert_eq!(
        first.json()["items_read"],
        total,
        "the first kept its segment"
    );
    assert_eq!(second.json()["items_read"], 0, "{}", second.stdout);
    let rows = rt.block_on(dynamo_support::checkpoint_rows(&c, "leases"));
    assert_eq!(
        dynamo_support::row_number(&rows[0], "fence"),
        1,
        "never taken over"
    );
    assert_eq!(rt.block_on(count(&c, "dst")), total);
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
    assert_eq!(r["resume"]["remedy"]["action"], "resume", "{r}");
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
            "there is no checkpoint file .holdfast/copy-src-dst.checkpoint.json to resume from; run the same command without `--resume` to start",
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

    // With --transform the key may change: a derived sort key, and a third of the items dropped.
    std::fs::write(
        d.join("rekey.jq"),
        "select(.active | not) | .sk = \"S#\" + (.sk | tostring)",
    )
    .unwrap();
    let rekeyed = transfer(
        d,
        &endpoint,
        &["import", "out", "other_key", "--transform", "rekey.jq"],
    );
    rekeyed.expect(0);
    let report = rekeyed.json();
    let dropped = report["items_dropped"].as_u64().unwrap();
    assert_eq!(dropped, total.div_ceil(3), "{report}");
    assert_eq!(report["items"].as_u64().unwrap(), total - dropped);
    compare(
        d,
        &endpoint,
        &["src", "other_key", "--transform", "rekey.jq"],
    )
    .expect(0);
    // A transform that loses the key: refused on the sample, nothing written.
    std::fs::write(d.join("lose.jq"), "del(.sk)").unwrap();
    let lost = transfer(
        d,
        &endpoint,
        &["import", "out", "dst2", "--transform", "lose.jq"],
    );
    lost.expect(2);
    assert!(
        lost.stderr.contains("lose.jq") && lost.stderr.contains("nothing was written"),
        "{}",
        lost.stderr
    );
    assert_eq!(rt.block_on(count(&c, "dst2")), 0);

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

/// Values of the test items (`dynamo_support::item`) that no message may quote.
const ITEM_VALUES: [&str; 5] = ["user#", "Name ", "City ", "line 1", "1234567890123"];

/// A copy that failed mid-way: exit 1, one line on stderr (the error, then where to resume),
/// the same message in the JSON report, no item value anywhere. Returns the message.
#[track_caller]
fn assert_failed_mid_copy(run: &Run, checkpoint: &str) -> String {
    run.expect(1);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {}", run.stderr);
    let message = lines[0]
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("not an error line: {}", lines[0]));
    assert!(
        message.contains(&format!("; {checkpoint} records "))
            && message.ends_with("run the same command with `--resume` to continue"),
        "no resume line: {message}"
    );
    let report = run.json();
    assert_eq!(report["exit_code"], 1, "{report}");
    assert_eq!(report["error"], message, "{report}");
    for value in ITEM_VALUES {
        assert!(
            !run.all().contains(value),
            "item value {value:?} in the output:\n{}",
            run.all()
        );
    }
    message.to_owned()
}

#[test]
fn a_batch_throttled_past_the_retry_budget_fails_with_exit_1_and_resume_finishes() {
    let total = 300;
    let (dynamodb, rt, c) = setup(total);
    // The first 4 BatchWriteItem calls (4 pages of 25) go through, every later one is
    // throttled: no round makes progress, so the writer gives up after its budget.
    let plan = FaultPlan::new(11)
        .operation(
            "BatchWriteItem",
            Faults {
                throttling: 1.0,
                ..Faults::NONE
            },
        )
        .clean_first("BatchWriteItem", 4);
    let proxy = FaultProxy::start(&dynamodb.endpoint(), plan);
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
    let started = Instant::now();
    let failed = copy(dir.path(), &proxy.endpoint(), &args);
    let took = started.elapsed();
    let message = assert_failed_mid_copy(&failed, "checkpoint file c.json");
    // Why: the table, the throttling, the budget of rounds without progress.
    assert!(
        message.contains("table dst: gave up after 13 rounds without progress (25 items not acknowledged); last error: ThrottlingException"),
        "{message}"
    );
    assert!(proxy.stats().throttling >= 13, "{:?}", proxy.stats());
    // The default budget: 12 backoffs of at most 50 ms … 5 s (31.35 s in all).
    assert!(took < Duration::from_secs(45), "{took:?}");

    // The checkpoint holds the acknowledged pages it can record in order (the 4 acknowledged
    // pages, unless one of them follows a throttled page of its segment): never ahead of the
    // target.
    let recorded = dynamo_support::file_checkpoint(&dir.path().join("c.json"));
    let written: u64 = recorded.iter().map(|r| r.items_written).sum();
    assert!(written <= 100, "{recorded:?}");
    assert!(recorded.iter().all(|r| !r.done), "{recorded:?}");
    assert!(
        message.contains(&format!("0 of 2 segments done, {written} items written")),
        "{message}"
    );
    assert_eq!(rt.block_on(count(&c, "dst")), 100);
    resume_after_faults(&rt, &c, &proxy, dir.path(), &args, &recorded, total);
    assert_eq!(rt.block_on(count(&c, "dst")), total);
}

#[test]
fn a_batch_refused_as_invalid_fails_at_once_without_item_values_and_resume_finishes() {
    let total = 300;
    let (dynamodb, rt, c) = setup(total);
    // The fifth BatchWriteItem call is answered 400 ValidationException: no retry can fix it.
    let plan = FaultPlan::new(13).script("BatchWriteItem", 4, Fault::ValidationError);
    let proxy = FaultProxy::start(&dynamodb.endpoint(), plan);
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
    let failed = copy(dir.path(), &proxy.endpoint(), &args);
    let message = assert_failed_mid_copy(&failed, "checkpoint file c.json");
    assert!(
        message.contains(": table dst: BatchWriteItem refused: ValidationException: "),
        "{message}"
    );
    assert!(message.starts_with("segment "), "{message}");
    let stats = proxy.stats();
    assert_eq!(stats.validation_errors, 1, "{stats:?}");
    // Not retried (a retry, its next call, would have gone through and the copy succeeded):
    // the calls made are the four before it, it, and the writes already in flight then (up to
    // three pages of each of the two segments).
    let writes = proxy
        .log()
        .iter()
        .filter(|r| r.operation == "BatchWriteItem")
        .count();
    assert!(writes <= 4 + 1 + 2 * 3, "{writes} BatchWriteItem calls");

    // The checkpoint is never ahead of the target (pages written after the refused one may be
    // in the target without being recorded: they are written again on resume).
    let recorded = dynamo_support::file_checkpoint(&dir.path().join("c.json"));
    let written: u64 = recorded.iter().map(|r| r.items_written).sum();
    let in_target = rt.block_on(count(&c, "dst"));
    assert!(
        in_target >= 100,
        "the four calls before it were acknowledged: {in_target}"
    );
    assert!(in_target >= written, "{in_target} < {recorded:?}");
    resume_after_faults(&rt, &c, &proxy, dir.path(), &args, &recorded, total);
    compare(dir.path(), &dynamodb.endpoint(), &["src", "dst"]).expect(0);
}

/// After a copy of `src` → `dst` (2 segments) failed with `recorded` in its checkpoint: the
/// checkpoint is not ahead of the target; with faults off, `--resume` reads exactly what it
/// does not hold and verifies equal.
fn resume_after_faults(
    rt: &tokio::runtime::Runtime,
    c: &aws_sdk_dynamodb::Client,
    proxy: &FaultProxy,
    dir: &Path,
    args: &[&str],
    recorded: &[dynamo_support::Recorded],
    total: u64,
) {
    let written: u64 = recorded.iter().map(|r| r.items_written).sum();
    let covered = rt.block_on(dynamo_support::assert_checkpoint_not_ahead(
        c, "src", "dst", 2, recorded,
    ));
    assert_eq!(covered, written);
    proxy.set_enabled(false);
    let resumed = copy(dir, &proxy.endpoint(), &[args, &["--resume"]].concat());
    resumed.expect(0);
    let report = resumed.json();
    assert_eq!(report["items_read"], total - covered, "{report}");
    assert_eq!(report["verification"]["equal"], true, "{report}");
}

#[test]
fn after_a_kill_9_a_second_process_takes_the_expired_leases_over_and_finishes() {
    use dynamo_support::{checkpoint_rows, now_ms, row_number, row_recorded, row_string};
    let total = 2_000;
    let (dynamodb, rt, c) = setup(total);
    let direct = dynamodb.endpoint();
    let proxy = FaultProxy::start(&direct, FaultPlan::new(4).latency(Duration::from_millis(5)));
    let endpoint = proxy.endpoint();
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "src",
        "dst",
        "--checkpoint-table",
        "holdfast_checkpoints",
        "--segments",
        "2",
        "--page-size",
        "25",
        "--lease",
        "5s",
    ];
    // At most 100 WCU/s (items of 1 WCU): the first process cannot finish 2,000 items in less
    // than 19 s, so it is mid-copy when killed.
    let mut first = holdfast_aws(dir.path())
        .args(["dynamo", "copy", "--endpoint-url", &endpoint])
        .args(args)
        .args(["--max-wcu", "100"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill -9 once both segments have recorded progress, their leases renewed less than 1.5 s
    // ago (saves renew them about every second).
    let started = Instant::now();
    let rows = loop {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(50));
        let rows = rt.block_on(async {
            match c
                .describe_table()
                .table_name("holdfast_checkpoints")
                .send()
                .await
            {
                Ok(_) => checkpoint_rows(&c, "holdfast_checkpoints").await,
                Err(_) => Vec::new(),
            }
        });
        let fresh = |r: &dynamo_support::SdkItem| row_number(r, "lease_until") > now_ms() + 3_500;
        if rows.len() == 2 && rows.iter().all(|r| row_number(r, "pages") >= 1 && fresh(r)) {
            break rows;
        }
    };
    first.kill().unwrap();
    first.wait().unwrap();
    // A save the proxy had already read (5 ms of latency) may still land: let it.
    std::thread::sleep(Duration::from_millis(300));
    let rows_at_kill = rt.block_on(checkpoint_rows(&c, "holdfast_checkpoints"));
    assert!(rows_at_kill.len() == 2 && rows.len() == 2);
    let first_owner = row_string(&rows_at_kill[0], "owner");
    for row in &rows_at_kill {
        assert_eq!(row_number(row, "fence"), 1, "{row:?}");
        assert_eq!(row_string(row, "owner"), first_owner, "{row:?}");
        assert!(!row_recorded(row).done, "killed too late: {row:?}");
    }
    let recorded: Vec<_> = rows_at_kill.iter().map(row_recorded).collect();
    let recorded_read: u64 = recorded.iter().map(|r| r.items_read).sum();
    // The crashed process's leases still run; they end at these times.
    let lease_ends: Vec<u64> = rows_at_kill
        .iter()
        .map(|r| row_number(r, "lease_until"))
        .collect();
    assert!(lease_ends.iter().all(|t| *t > 0), "{rows_at_kill:?}");
    // A second process resumes: it must wait for the leases to end, then take both segments.
    let launched = now_ms();
    let second = holdfast_aws(dir.path())
        .args(["dynamo", "copy", "--endpoint-url", &endpoint, "--json"])
        .args(args)
        .arg("--resume")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        launched < *lease_ends.iter().min().unwrap(),
        "the second process started after the leases ended"
    );
    // What the crash left is not ahead of the target (checked while the leases still keep
    // the second process from writing; its writes could only add items anyway).
    rt.block_on(dynamo_support::assert_checkpoint_not_ahead(
        &c, "src", "dst", 2, &recorded,
    ));
    // Watch the rows: no segment may change hands before its lease ended.
    let mut taken_at: Vec<Option<u64>> = vec![None; 2];
    let deadline = Instant::now() + Duration::from_secs(40);
    while taken_at.iter().any(Option::is_none) && Instant::now() < deadline {
        let before = now_ms();
        let rows = rt.block_on(checkpoint_rows(&c, "holdfast_checkpoints"));
        for (i, row) in rows.iter().enumerate() {
            if taken_at[i].is_none() && row_number(row, "fence") >= 2 {
                // Claimed at or before `now`, after `before` at the latest poll before it.
                taken_at[i] = Some(now_ms());
                assert!(
                    now_ms() >= lease_ends[i],
                    "segment {i} taken over before its lease ended ({} ms early), started {} ms \
                     before the end",
                    lease_ends[i] - now_ms(),
                    lease_ends[i].saturating_sub(before)
                );
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = Run::from(second.wait_with_output().unwrap());
    let ended = now_ms();
    second.expect(0);
    let report = second.json();
    assert!(
        taken_at.iter().all(Option::is_some),
        "not seen taken over: {taken_at:?}"
    );
    // It cannot have finished before the last lease ended (it waited for them).
    assert!(ended >= *lease_ends.iter().max().unwrap());
    eprintln!(
        "second process launched {} ms before the leases ended",
        lease_ends.iter().min().unwrap().saturating_sub(launched)
    );
    // It went on from the crashed process's checkpoint: exactly the rest was read.
    assert_eq!(report["items_read"], total - recorded_read, "{report}");
    assert_eq!(report["segments_done"], 2, "{report}");
    assert_eq!(report["verification"]["equal"], true, "{report}");
    // Every row: done, taken over once (fencing token 2), by the second process.
    let rows = rt.block_on(checkpoint_rows(&c, "holdfast_checkpoints"));
    for row in &rows {
        assert_eq!(
            row.get("done"),
            Some(&AttributeValue::Bool(true)),
            "{row:?}"
        );
        assert_eq!(row_number(row, "fence"), 2, "{row:?}");
        assert_ne!(row_string(row, "owner"), first_owner, "{row:?}");
    }
    compare(dir.path(), &direct, &["src", "dst"]).expect(0);
}

#[test]
fn a_worker_whose_lease_was_taken_over_can_no_longer_save_progress() {
    use holdfast_dynamo::checkpoint::table::TableStore;
    use holdfast_dynamo::checkpoint::{CheckpointError, CopyIdentity, SegmentRange, Store};
    let dynamodb = DynamoDbLocal::start();
    let rt = runtime();
    let c = client(&dynamodb.endpoint());
    let identity = CopyIdentity {
        source: "src".into(),
        target: "dst".into(),
        transform_digest: None,
        total_segments: 1,
    };
    let table = "holdfast_checkpoints";
    let row = || async {
        dynamo_support::checkpoint_rows(&c, table)
            .await
            .pop()
            .expect("the segment row")
    };
    let open = |resume| {
        let c = c.clone();
        let identity = identity.clone();
        async move {
            Store::Table(
                TableStore::open(
                    c,
                    table,
                    &identity,
                    resume,
                    SegmentRange(0..1),
                    Duration::from_secs(600),
                )
                .await
                .unwrap(),
            )
        }
    };
    rt.block_on(async {
        let a = open(false).await;
        let mut claim_a = a.claim().await.unwrap().expect("a free segment");
        assert_eq!(claim_a.fence, 1);

        // While A's lease runs, B gets nothing and is told how long to wait.
        let b = open(true).await;
        assert!(b.claim().await.unwrap().is_none());
        let wait = b.waiting().await.unwrap().expect("a segment held");
        assert!(wait > Duration::from_secs(590), "{wait:?}");

        // A stalls past its lease: its expiry passes (set in the row, as the clock would).
        c.update_item()
            .table_name(table)
            .key("copy", AttributeValue::S("src→dst".into()))
            .key("part", AttributeValue::S("segment#00000".into()))
            .update_expression("SET lease_until = :past")
            .expression_attribute_values(":past", AttributeValue::N("1".into()))
            .send()
            .await
            .unwrap();
        let mut claim_b = b.claim().await.unwrap().expect("the expired segment");
        assert_eq!(claim_b.fence, 2, "the fencing token moves on");
        let taken = row().await;

        // A can no longer record progress (a save past the save interval, the end of the
        // segment) nor release the segment: each is refused with LeaseLost, the row unchanged.
        let next = dynamo_support::item(24);
        let next: std::collections::HashMap<_, _> = next
            .into_iter()
            .filter(|(k, _)| k == "pk" || k == "sk")
            .collect();
        claim_a.state.advance(Some(&next), 25, 25);
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let lost = |r: Result<(), CheckpointError>| {
            assert!(
                matches!(r, Err(CheckpointError::LeaseLost { segment: 0 })),
                "{r:?}"
            );
        };
        lost(a.save(&claim_a).await);
        lost(a.release(std::slice::from_ref(&claim_a)).await);
        claim_a.state.advance(None, 10, 10);
        assert!(claim_a.state.done);
        lost(a.save(&claim_a).await);
        assert_eq!(row().await, taken, "the row moved");
        assert_eq!(
            row_owner(&taken),
            match &b {
                Store::Table(s) => s.owner().to_owned(),
                Store::File(_) => unreachable!(),
            }
        );

        // B, the new holder, records progress and ends the segment.
        claim_b.state.advance(None, 35, 35);
        b.save(&claim_b).await.unwrap();
        let done = row().await;
        assert_eq!(done.get("done"), Some(&AttributeValue::Bool(true)));
        assert_eq!(dynamo_support::row_number(&done, "fence"), 2);
        assert_eq!(dynamo_support::row_number(&done, "items_written"), 35);
    });
}

fn row_owner(row: &dynamo_support::SdkItem) -> String {
    dynamo_support::row_string(row, "owner")
}

#[test]
fn checkpoint_table_calls_that_fail_or_go_unanswered_are_retried() {
    use holdfast_dynamo::checkpoint::table::TableStore;
    use holdfast_dynamo::checkpoint::{CopyIdentity, SegmentRange, Store};
    let dynamodb = DynamoDbLocal::start();
    // One fault on the first calls of every kind the store makes; "after forward": applied,
    // but the answer is lost, so the store must find out what its retry meets.
    let plan = FaultPlan::new(21)
        .script("DescribeTable", 0, Fault::InternalError)
        .script("GetItem", 0, Fault::Throttling)
        .script("PutItem", 0, Fault::DropBeforeForward)
        .script("PutItem", 3, Fault::DropAfterForward)
        .script("Query", 0, Fault::ThroughputExceeded)
        .script("UpdateItem", 0, Fault::DropAfterForward)
        .script("UpdateItem", 1, Fault::InternalError)
        .script("UpdateItem", 2, Fault::DropAfterForward);
    let proxy = FaultProxy::start(&dynamodb.endpoint(), plan);
    let rt = runtime();
    // As the copy's client: no SDK retries.
    let c = holdfast_dynamo::client::data_client(&client(&proxy.endpoint()));
    let identity = CopyIdentity {
        source: "src".into(),
        target: "dst".into(),
        transform_digest: None,
        total_segments: 2,
    };
    rt.block_on(async {
        let store = Store::Table(
            TableStore::open(
                c.clone(),
                "holdfast_checkpoints",
                &identity,
                false,
                SegmentRange(0..2),
                Duration::from_secs(600),
            )
            .await
            .expect("open through one failure of each call"),
        );
        // The claim was applied but unanswered; the retry's condition fails (the lease is
        // ours now): the store must recognise its own claim, not skip the segment.
        let mut claim = store.claim().await.unwrap().expect("a segment");
        assert_eq!(claim.fence, 1);
        // A save that fails (500), then is applied unanswered, then answered.
        claim.state.advance(None, 7, 7);
        store.save(&claim).await.expect("save");
        let other = store.claim().await.unwrap().expect("the other segment");
        assert_ne!(other.state.segment, claim.state.segment);
        let states = store.states().await.unwrap();
        assert_eq!(states.iter().filter(|s| s.done).count(), 1, "{states:?}");
    });
    let stats = proxy.stats();
    assert_eq!(
        (
            stats.internal_errors,
            stats.throttling + stats.throughput_exceeded,
            stats.dropped_before_forward,
            stats.dropped_after_forward
        ),
        (2, 2, 1, 3),
        "{stats:?}"
    );
}

#[test]
fn a_lease_shorter_than_the_save_interval_is_renewed_before_it_lapses() {
    use holdfast_dynamo::checkpoint::table::TableStore;
    use holdfast_dynamo::checkpoint::{CopyIdentity, SegmentRange, Store};
    let dynamodb = DynamoDbLocal::start();
    let rt = runtime();
    let c = client(&dynamodb.endpoint());
    let identity = CopyIdentity {
        source: "src".into(),
        target: "dst".into(),
        transform_digest: None,
        total_segments: 1,
    };
    rt.block_on(async {
        // A 900 ms lease: saves (which renew it) may be spaced by at most a third of it, not by
        // the usual second, or it would lapse while its worker makes progress.
        let store = Store::Table(
            TableStore::open(
                c.clone(),
                "holdfast_checkpoints",
                &identity,
                false,
                SegmentRange(0..1),
                Duration::from_millis(900),
            )
            .await
            .unwrap(),
        );
        let mut claim = store.claim().await.unwrap().expect("a segment");
        let claimed = dynamo_support::checkpoint_rows(&c, "holdfast_checkpoints").await;
        let first_end = dynamo_support::row_number(&claimed[0], "lease_until");
        tokio::time::sleep(Duration::from_millis(400)).await;
        let next: std::collections::HashMap<_, _> = dynamo_support::item(3)
            .into_iter()
            .filter(|(k, _)| k == "pk" || k == "sk")
            .collect();
        claim.state.advance(Some(&next), 25, 25);
        store.save(&claim).await.unwrap();
        let saved = dynamo_support::checkpoint_rows(&c, "holdfast_checkpoints").await;
        assert_eq!(
            dynamo_support::row_number(&saved[0], "pages"),
            1,
            "not saved"
        );
        assert!(
            dynamo_support::row_number(&saved[0], "lease_until") >= first_end + 400,
            "lease not renewed: {saved:?}"
        );
    });
}
