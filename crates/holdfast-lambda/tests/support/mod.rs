//! Shared by the `bootstrap` tests: the real binary run as a Lambda function against the test
//! kit's Runtime API, custom resource events, and the migration set's fingerprint.

#![allow(dead_code)]

use holdfast_testkit::lambda::{Answer, Invoked, Received};
use holdfast_testkit::{LambdaRuntime, ResponseReceiver};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

/// The `bootstrap` binary running as a function; killed on drop. Its log is kept for checks.
pub struct Function {
    pub runtime: LambdaRuntime,
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Function {
    /// Starts the function with the test AWS environment and `env`.
    pub fn start(env: &[(&str, &str)]) -> Function {
        let runtime = LambdaRuntime::start();
        let log = tempfile::NamedTempFile::new().expect("log file");
        let mut command = runtime.function_command(Path::new(env!("CARGO_BIN_EXE_bootstrap")));
        command
            .envs(holdfast_testkit::moto::AWS_TEST_ENV)
            .env("RUST_LOG", "info")
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("HOLDFAST_ROLE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.reopen().expect("log"))
            .stderr(log.reopen().expect("log"));
        let child = command.spawn().expect("start bootstrap");
        Function {
            runtime,
            child,
            log,
        }
    }

    /// Invokes it with `timeout` and expects an answer.
    pub fn invoke(&self, event: &Value, timeout: Duration) -> Invoked {
        let invoked = self.runtime.invoke(event, timeout);
        assert!(
            invoked.answer.is_some(),
            "no answer within {timeout:?}; log:\n{}",
            self.log()
        );
        invoked
    }

    /// Everything the function printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CloudFormation custom resource request.
pub struct Request<'a> {
    pub request_type: &'a str,
    pub response_url: String,
    pub request_id: &'a str,
    pub properties: Value,
    pub old_properties: Option<Value>,
    pub physical_id: Option<&'a str>,
}

impl Request<'_> {
    pub fn event(&self) -> Value {
        let mut event = json!({
            "RequestType": self.request_type,
            "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:holdfast-test",
            "ResponseURL": self.response_url,
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/app/0a1b2c3d",
            "RequestId": self.request_id,
            "ResourceType": "Custom::Holdfast",
            "LogicalResourceId": "Migrations",
            "ResourceProperties": self.properties,
        });
        let map = event.as_object_mut().expect("object");
        if let Some(old) = &self.old_properties {
            map.insert("OldResourceProperties".into(), old.clone());
        }
        if let Some(id) = self.physical_id {
            map.insert("PhysicalResourceId".into(), Value::String(id.into()));
        }
        event
    }
}

/// The only response PUT since `before` responses: checks the PUT's shape and returns its body.
pub fn one_put(receiver: &ResponseReceiver, before: usize) -> Map<String, Value> {
    let all = receiver.wait_for(before + 1, Duration::from_secs(5));
    assert_eq!(all.len(), before + 1, "expected one more PUT: {all:?}");
    let put: &Received = &all[before];
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.content_type.as_deref(),
        Some(""),
        "the signature covers an empty Content-Type"
    );
    assert!(put.body.len() <= 4096, "body over 4,096 bytes");
    let body = put.json();
    let map = body.as_object().expect("a JSON object").clone();
    for key in [
        "Status",
        "Reason",
        "PhysicalResourceId",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "Data",
        "NoEcho",
    ] {
        assert!(map.contains_key(key), "{key} missing from {body}");
    }
    map
}

/// The answer's returned value (panics on an error answer).
pub fn returned(invoked: &Invoked) -> Value {
    match &invoked.answer {
        Some(Answer::Response(v)) => v.clone(),
        other => panic!("expected a returned value, got {other:?}"),
    }
}

/// The migration set's fingerprint, as `holdfast migrate fingerprint` computes it.
pub fn fingerprint(dir: &Path, dialect: holdfast_core::Dialect) -> String {
    let set = holdfast_core::migration::load_dir(dir, dialect).expect("migrations load");
    holdfast_core::plan::applied_digest(&set)
}

/// `Data.KEY` of a response body.
pub fn data<'a>(body: &'a Map<String, Value>, key: &str) -> &'a str {
    body["Data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("Data.{key} missing: {body:?}"))
}
