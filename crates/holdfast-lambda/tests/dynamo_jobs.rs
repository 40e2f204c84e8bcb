//! DynamoDB operations through the real `bootstrap` binary against DynamoDB Local (behind the
//! test kit's proxy, which adds latency so that copies outlast short invocations):
//!
//! - the scale-out example's Step Functions flow (`examples/dynamo-scale-out/`), played by the
//!   test: Prepare, two workers pinned to segment ranges re-invoked while they answer
//!   `stopped_resumable`, then Verify;
//! - a `DynamoCopy` custom resource behind the CDK provider framework with an `isComplete`
//!   handler (`HOLDFAST_ROLE`), and a direct one stopped at its deadline, continued by the next
//!   deploy, and repeated without copying anything twice;
//! - `DynamoVerify` as a custom resource.

#[path = "../../holdfast-cli/tests/dynamo_support/mod.rs"]
mod dynamo_support;
mod support;

use aws_sdk_dynamodb::types::ScalarAttributeType;
use dynamo_support::{client, count, create_table, load, runtime};
use holdfast_testkit::lambda::Answer;
use holdfast_testkit::{DynamoDbLocal, FaultPlan, FaultProxy, ResponseReceiver};
use serde_json::{json, Value};
use std::time::Duration;
use support::{data, one_put, returned, Function, Request};

const ITEMS: u64 = 1500;

/// DynamoDB Local with `source` loaded and an empty `target`, behind a proxy adding `latency`.
fn tables(latency: Duration) -> (DynamoDbLocal, FaultProxy) {
    let dynamodb = DynamoDbLocal::start();
    let rt = runtime();
    rt.block_on(async {
        let c = client(&dynamodb.endpoint());
        create_table(&c, "source", Some(("sk", ScalarAttributeType::N))).await;
        create_table(&c, "target", Some(("sk", ScalarAttributeType::N))).await;
        load(&c, "source", ITEMS).await;
    });
    let proxy = FaultProxy::start(&dynamodb.endpoint(), FaultPlan::new(7).latency(latency));
    (dynamodb, proxy)
}

fn target_count(dynamodb: &DynamoDbLocal) -> u64 {
    runtime().block_on(count(&client(&dynamodb.endpoint()), "target"))
}

fn job(function: &Function, payload: Value, timeout: Duration) -> Value {
    match function.invoke(&payload, timeout).answer {
        Some(Answer::Response(v)) => v,
        other => panic!("job {payload}: {other:?}\nlog:\n{}", function.log()),
    }
}

#[test]
fn the_scale_out_state_machine_copies_everything_across_short_invocations() {
    let (dynamodb, proxy) = tables(Duration::from_millis(50));
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint())];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let common = json!({
        "Operation": "DynamoCopy", "Source": "source", "Target": "target",
        "CheckpointTable": "copy_checkpoints", "TotalSegments": "4", "PageSize": "10"
    });
    let with = |extra: Value| {
        let mut payload = common.clone();
        payload
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        payload
    };

    let coordinator = Function::start(&env);
    let prepared = job(
        &coordinator,
        with(json!({"Prepare": "true"})),
        Duration::from_secs(60),
    );
    assert_eq!(prepared["items_written"], 0, "{prepared}");
    assert_eq!(target_count(&dynamodb), 0, "Prepare copies nothing");

    // The Map state: two workers at once, each re-invoked while it stops at its deadline.
    let worker_runs = std::thread::scope(|scope| {
        let workers: Vec<_> = ["0..2", "2..4"]
            .into_iter()
            .map(|range| {
                let (env, with) = (&env, &with);
                scope.spawn(move || {
                    let function = Function::start(env);
                    let mut runs = Vec::new();
                    for _ in 0..30 {
                        let result = job(
                            &function,
                            with(json!({"SegmentRange": range, "Resume": "true", "NoVerify": "true"})),
                            // Leaves each invocation about a second and a half of copying.
                            Duration::from_secs(7),
                        );
                        let outcome = result["outcome"].as_str().unwrap().to_owned();
                        eprintln!("worker {range}: {outcome}, {} read, {} written", result["items_read"], result["items_written"]);
                        runs.push(result);
                        if outcome != "stopped_resumable" {
                            assert_eq!(outcome, "success");
                            return runs;
                        }
                    }
                    panic!("worker {range} never finished");
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .collect::<Vec<_>>()
    });
    let invocations: usize = worker_runs.iter().map(Vec::len).sum();
    assert!(
        invocations > 2,
        "at least one worker stopped at its deadline and was invoked again ({invocations} invocations)"
    );
    let read: u64 = worker_runs
        .iter()
        .flatten()
        .map(|r| r["items_read"].as_u64().unwrap())
        .sum();
    // Resumed, never restarted: only pages read but not yet written when a worker stopped
    // are read again (at most pages in flight + 1 per segment, 2 segments per worker).
    let stops = (invocations - 2) as u64;
    assert!(
        read >= ITEMS && read <= ITEMS + stops * 2 * 4 * 10,
        "{read} items read over {invocations} invocations"
    );

    let verified = job(
        &coordinator,
        with(json!({"Resume": "true"})),
        Duration::from_secs(60),
    );
    assert_eq!(verified["outcome"], "success", "{verified}");
    assert_eq!(verified["items_read"], 0, "nothing left to copy");
    assert_eq!(verified["verification"]["equal"], true, "{verified}");
    assert_eq!(target_count(&dynamodb), ITEMS);
}

#[test]
fn a_copy_resource_behind_the_provider_framework_completes_through_is_complete() {
    let (dynamodb, proxy) = tables(Duration::from_millis(50));
    let endpoint = proxy.endpoint();
    let on_event = Function::start(&[
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("HOLDFAST_ROLE", "on-event"),
    ]);
    let is_complete = Function::start(&[
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("HOLDFAST_ROLE", "is-complete"),
    ]);
    let request = Request {
        request_type: "Create",
        response_url: "...".into(),
        request_id: "req-copy",
        properties: json!({
            "Operation": "DynamoCopy", "Source": "source", "Target": "target",
            "TotalSegments": "2", "PageSize": "10", "CheckpointTable": "cr_checkpoints"
        }),
        old_properties: None,
        physical_id: None,
    };
    // About a second and a half of copying per invocation: far from the whole table.
    let started = returned(&on_event.invoke(&request.event(), Duration::from_secs(7)));
    assert_eq!(started["Data"]["Complete"], "false", "{started}");
    // The framework polls isComplete with the event plus onEvent's result.
    let mut poll = request.event();
    poll["PhysicalResourceId"] = started["PhysicalResourceId"].clone();
    poll["Data"] = started["Data"].clone();
    let mut polls = 0;
    loop {
        polls += 1;
        assert!(polls < 30, "never complete");
        let answer = returned(&is_complete.invoke(&poll, Duration::from_secs(10)));
        if answer["IsComplete"] == true {
            assert_eq!(answer["Data"]["Complete"], "true", "{answer}");
            break;
        }
    }
    assert_eq!(target_count(&dynamodb), ITEMS);
}

#[test]
fn a_direct_copy_resource_continues_on_the_next_deploy_and_never_copies_twice() {
    let (dynamodb, proxy) = tables(Duration::from_millis(50));
    let endpoint = proxy.endpoint();
    let function = Function::start(&[("AWS_ENDPOINT_URL", endpoint.as_str())]);
    let receiver = ResponseReceiver::start();
    let properties = json!({
        "Operation": "DynamoCopy", "Source": "source", "Target": "target",
        "TotalSegments": "2", "PageSize": "10"
    });
    let request = |id, timeout: u64| {
        let r = Request {
            request_type: "Create",
            response_url: receiver.url(id),
            request_id: id,
            properties: properties.clone(),
            old_properties: None,
            physical_id: None,
        };
        function.invoke(&r.event(), Duration::from_secs(timeout));
    };
    // Too short: FAILED, with where it stopped and the checkpoint.
    request("req-1", 8);
    let stopped = one_put(&receiver, 0);
    assert_eq!(stopped["Status"], "FAILED", "{stopped:?}");
    let reason = stopped["Reason"].as_str().unwrap();
    assert!(
        reason.contains("stopped at the invocation's deadline"),
        "{reason}\n{}",
        function.log()
    );
    // A CloudFormation user is told the property, never the CLI's flag.
    assert!(
        reason.contains("deploy again with `Resume: true` to continue") && !reason.contains("--"),
        "{reason}"
    );
    assert_eq!(data(&stopped, "Complete"), "false");
    assert!(data(&stopped, "Checkpoint").contains("holdfast_copy_checkpoints"));
    let partial = target_count(&dynamodb);
    // Some or none of it (the checks and the checkpoint come first): never all of it.
    assert!(partial < ITEMS, "{partial}");

    // The next deploy (a new request) continues the checkpoint; the same request again copies
    // nothing.
    request("req-2", 120);
    let done = one_put(&receiver, 1);
    assert_eq!(done["Status"], "SUCCESS", "{done:?}");
    let written: u64 = data(&done, "ItemsWritten").parse().unwrap();
    assert!(
        written <= ITEMS - partial + 2 * 4 * 25,
        "resumed: {written}"
    );
    request("req-2", 120);
    let again = one_put(&receiver, 2);
    assert_eq!(again["Status"], "SUCCESS", "{again:?}");
    assert_eq!(data(&again, "ItemsWritten"), "0");
    assert_eq!(target_count(&dynamodb), ITEMS);
}

#[test]
fn verify_as_a_custom_resource() {
    let (_dynamodb, proxy) = tables(Duration::ZERO);
    let endpoint = proxy.endpoint();
    let function = Function::start(&[("AWS_ENDPOINT_URL", endpoint.as_str())]);
    let receiver = ResponseReceiver::start();
    for (i, (key, status)) in [("pk:S,sk:N", "SUCCESS"), ("id:S", "FAILED")]
        .into_iter()
        .enumerate()
    {
        let r = Request {
            request_type: "Create",
            response_url: receiver.url("verify"),
            request_id: "req-verify",
            properties: json!({"Operation": "DynamoVerify", "TableName": "source", "RequireKey": key}),
            old_properties: None,
            physical_id: None,
        };
        function.invoke(&r.event(), Duration::from_secs(30));
        let body = one_put(&receiver, i);
        assert_eq!(body["Status"], status, "{body:?}");
        assert_eq!(data(&body, "TableStatus"), "ACTIVE");
        // The report envelope, as every report carries it.
        assert_eq!(data(&body, "Command"), "dynamo verify");
        assert_eq!(
            data(&body, "FormatVersion"),
            holdfast_report::FORMAT_VERSION.to_string()
        );
        let (outcome, code) = if status == "SUCCESS" {
            ("success", "0")
        } else {
            ("check_failed", "3")
        };
        assert_eq!(
            (data(&body, "Outcome"), data(&body, "ExitCode")),
            (outcome, code)
        );
        if status == "FAILED" {
            let reason = body["Reason"].as_str().unwrap();
            assert!(reason.starts_with("table source: key_schema"), "{reason}");
        }
    }
}

#[test]
fn a_failed_job_says_its_class_and_returns_the_error_report() {
    let (_dynamodb, proxy) = tables(Duration::ZERO);
    let function = Function::start(&[("AWS_ENDPOINT_URL", proxy.endpoint().as_str())]);
    let payload = json!({"Operation": "DynamoCopy", "Source": "no_such_table", "Target": "target"});
    let Some(Answer::Error {
        error_type,
        message,
    }) = function.invoke(&payload, Duration::from_secs(30)).answer
    else {
        panic!("the job did not fail:\n{}", function.log());
    };
    let report: Value = serde_json::from_str(&message).expect("the message is the error report");
    assert_eq!(report["command"], "dynamo copy", "{report}");
    assert_eq!(report["format_version"], holdfast_report::FORMAT_VERSION);
    assert!(
        report["error"].as_str().unwrap().contains("no_such_table"),
        "{report}"
    );
    // A source table that does not exist is bad input: nothing was written.
    assert_eq!(error_type, "Holdfast.Usage", "{report}");
    assert_eq!(report["outcome"], "usage", "{report}");
    assert_eq!(report["exit_code"], 2, "{report}");
}
