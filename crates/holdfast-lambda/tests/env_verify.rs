//! `EnvVerify` through the test kit's Lambda Runtime API, against deployed functions in a real
//! moto server: a custom resource verifying its own stack (from the event's `StackId`) passes
//! when the environments are good and fails the deploy, naming rule, function and key, when a
//! staging function holds a live payment key or names a secret that does not exist. `Data`
//! carries counts only, and no planted value reaches a response or the function's log.

mod support;

use holdfast_testkit::deployed::{Deployer, FunctionSpec};
use holdfast_testkit::moto::Moto;
use holdfast_testkit::ResponseReceiver;
use serde_json::{json, Map, Value};
use std::time::Duration;
use support::{data, one_put, Function, Request};

const SCHEMA: &str = r#"
[stages.staging]
[stages.prod]

[env.keys.STRIPE_SECRET_ARN]
required = true
json_keys = ["api_key"]
[env.keys.LOG_LEVEL]
type = "enum"
values = ["debug", "info"]
"#;

#[test]
fn a_deploy_passes_on_good_environments_and_fails_on_bad_ones() {
    let moto = Moto::start();
    let aws = Deployer::new(&moto);
    // Assembled here, so no whole key is written in the source.
    let live = format!("sk_{}_{}", "live", "51HfGq2ExAmPlEkEyHOLDFASTvrfy2");
    let test = format!("sk_{}_{}", "test", "51HfGq2ExAmPlEkEyHOLDFASTvrfy3");
    let good = aws.secret("staging/stripe", &format!(r#"{{"api_key":"{test}"}}"#));
    let missing = good.replace("staging/stripe", "staging/gone");
    aws.stack(
        "billing-staging",
        &[FunctionSpec {
            logical_id: "BillingApi",
            name: None,
            variables: &[("STRIPE_SECRET_ARN", &good), ("LOG_LEVEL", "info")],
        }],
    );
    aws.stack(
        "bad-staging",
        &[
            FunctionSpec {
                logical_id: "BillingApi",
                name: None,
                variables: &[("STRIPE_SECRET_ARN", &missing), ("STRIPE_KEY", &live)],
            },
            FunctionSpec {
                logical_id: "Worker",
                name: None,
                variables: &[("STRIPE_SECRET_ARN", &good), ("LOG_LEVEL", "verbose")],
            },
        ],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("holdfast.toml");
    std::fs::write(&config, SCHEMA).unwrap();
    let config = config.display().to_string();

    let endpoint = moto.endpoint();
    let function = Function::start(&[("AWS_ENDPOINT_URL", endpoint.as_str())]);
    let receiver = ResponseReceiver::start();
    let mut puts = 0;
    let mut create = |stack: &str, properties: Value| -> Map<String, Value> {
        let request = Request {
            request_type: "Create",
            response_url: receiver.url("create"),
            request_id: "req-env",
            properties,
            old_properties: None,
            physical_id: None,
        };
        let mut event = request.event();
        event["StackId"] = Value::String(aws.stack_id(stack));
        function.invoke(&event, Duration::from_secs(60));
        let body = one_put(&receiver, puts);
        puts += 1;
        body
    };

    // Its own stack: the good environments pass.
    let body = create(
        "billing-staging",
        json!({"Operation": "EnvVerify", "Stage": "staging", "ConfigPath": config,
               "Revision": "3|7"}),
    );
    assert_eq!(body["Status"], "SUCCESS", "{body:?}");
    assert_eq!(data(&body, "Command"), "env verify");
    assert_eq!(data(&body, "Functions"), "1");
    assert_eq!(data(&body, "Blocking"), "0");
    assert_eq!(data(&body, "References"), "1");
    assert_eq!(data(&body, "Resolved"), "1");

    // Its own stack, with bad environments: the deploy fails, naming what and where.
    let body = create(
        "bad-staging",
        json!({"Operation": "EnvVerify", "Stage": "staging", "ConfigPath": config}),
    );
    assert_eq!(body["Status"], "FAILED", "{body:?}");
    let reason = body["Reason"].as_str().unwrap();
    for part in [
        // The live key is also a plaintext credential; Worker's LOG_LEVEL is the fourth.
        "4 blocking finding(s)",
        "[env-live-key] bad-staging/BillingApi STRIPE_KEY",
        "[env-reference] bad-staging/BillingApi STRIPE_SECRET_ARN",
        "and 1 more",
    ] {
        assert!(reason.contains(part), "{part} not in {reason}");
    }
    assert_eq!(data(&body, "Blocking"), "4");
    assert_eq!(data(&body, "ExitCode"), "3");

    // Another stack named in the properties, as a list.
    let body = create(
        "billing-staging",
        json!({"Operation": "EnvVerify", "Stage": "staging", "Stacks": ["bad-staging"],
               "ConfigPath": config}),
    );
    assert_eq!(body["Status"], "FAILED", "{body:?}");

    // A property error names the property.
    let body = create(
        "billing-staging",
        json!({"Operation": "EnvVerify", "Stage": "staging", "CompareStacks": "x",
               "ConfigPath": config}),
    );
    assert_eq!(body["Status"], "FAILED");
    assert!(
        body["Reason"]
            .as_str()
            .unwrap()
            .contains("property CompareStacks"),
        "{body:?}"
    );

    // Data holds counts, never values; nothing planted reaches a response or the log.
    let log = function.log();
    for put in receiver.received() {
        let body = String::from_utf8_lossy(&put.body);
        for value in [&live, &test] {
            assert!(!body.contains(value.as_str()), "{body}");
        }
    }
    for value in [&live, &test] {
        assert!(
            !log.contains(value.as_str()),
            "the log shows a value:\n{log}"
        );
    }
}
