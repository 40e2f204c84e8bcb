//! `holdfast guard diff stack:NAME NEW`: the OLD side is a deployed stack, read through the
//! CloudFormation API of a real moto server (one per test, started by the test kit). The stack
//! is created in moto with the AWS SDK for Rust, deployed with `Stage=prod` although its template
//! says `Default: dev`, so a test can tell the deployed values from the template's defaults.

mod common;

use aws_sdk_cloudformation::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudformation::types::Parameter;
use common::{holdfast_aws, Run};
use holdfast_testkit::moto::{Moto, AWS_TEST_REGION};
use std::path::Path;
use std::process::Command;

/// The deployed template: a DynamoDB table named after the stage.
const DEPLOYED: &str = r#"AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Stage:
    Type: String
    Default: dev
Resources:
  UsersTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "users-${Stage}"
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: id
          AttributeType: S
      KeySchema:
        - AttributeName: id
          KeyType: HASH
"#;

/// Creates `name` in moto from `template`, deployed with `Stage=prod`.
fn create_stack(moto: &Moto, name: &str, template: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let config = aws_sdk_cloudformation::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(AWS_TEST_REGION))
            .endpoint_url(moto.endpoint())
            .credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "holdfast-test",
            ))
            .http_client(holdfast_guard::deployed::build_http_client())
            .build();
        let client = aws_sdk_cloudformation::Client::from_conf(config);
        client
            .create_stack()
            .stack_name(name)
            .template_body(template)
            .parameters(
                Parameter::builder()
                    .parameter_key("Stage")
                    .parameter_value("prod")
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "CreateStack {name} in moto: {}",
                    aws_sdk_cloudformation::error::DisplayErrorContext(&e)
                )
            });
    });
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

/// `Stage=prod` for the NEW side (the engine applies it to both; OLD is deployed with it).
fn prod_parameters(dir: &Path) -> String {
    write(dir, "prod.json", r#"{"Stage": "prod"}"#)
}

fn run(cmd: &mut Command) -> Run {
    Run::from(cmd.output().expect("run holdfast"))
}

/// The deploy's action on a resource, if the report lists it.
fn action(run: &Run, logical_id: &str) -> Option<String> {
    run.json()["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["logical_id"] == logical_id)
        .map(|c| c["action"].as_str().unwrap_or("").to_string())
}

/// Exit 0, nothing blocking, and the table untouched.
#[track_caller]
fn assert_table_unchanged(run: &Run) {
    run.expect(0);
    assert_eq!(run.json()["summary"]["blocking"], 0, "{}", run.stdout);
    let action = action(run, "UsersTable");
    assert!(
        action.is_none() || action.as_deref() == Some("none"),
        "UsersTable: {action:?}\n{}",
        run.stdout
    );
}

fn rules(run: &Run) -> Vec<String> {
    run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {}", f["rule"].as_str().unwrap_or(""), f["logical_id"]))
        .collect()
}

#[test]
fn a_renamed_table_in_the_new_template_blocks() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    create_stack(&moto, "users-prod", DEPLOYED);
    let new = write(
        dir.path(),
        "new.yaml",
        &DEPLOYED.replace("  UsersTable:", "  UsersTable9725E9C8:"),
    );
    let params = prod_parameters(dir.path());
    let run = run(holdfast_aws(dir.path()).args([
        "guard",
        "diff",
        "stack:users-prod",
        &new,
        "--parameters",
        &params,
        "--endpoint-url",
        &moto.endpoint(),
        "--json",
    ]));
    run.expect(3);
    let found = rules(&run);
    assert!(
        found
            .iter()
            .any(|f| f == r#"stateful-rename "UsersTable9725E9C8""#),
        "expected stateful-rename, got {found:?}\n{}",
        run.stdout
    );
    let json = run.json();
    let old_table = json["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["logical_id"] == "UsersTable")
        .expect("the deployed table is in the changes");
    assert_eq!(old_table["action"], "delete", "{}", run.stdout);
    assert_eq!(old_table["stack"], "users-prod", "{}", run.stdout);
}

#[test]
fn an_unchanged_template_passes_with_the_endpoint_from_aws_endpoint_url() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    create_stack(&moto, "users-prod", DEPLOYED);
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let params = prod_parameters(dir.path());
    let run = run(holdfast_aws(dir.path())
        .env("AWS_ENDPOINT_URL", moto.endpoint())
        .args([
            "guard",
            "diff",
            "stack:users-prod",
            &new,
            "--parameters",
            &params,
            "--json",
        ]));
    assert_table_unchanged(&run);
}

#[test]
fn the_old_side_uses_the_deployed_parameter_values() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    create_stack(&moto, "users-prod", DEPLOYED);
    // No --parameters: NEW resolves Stage from its default, now `prod`; OLD must resolve it
    // from the deployed value (`prod`), not from its template's default (`dev`), for the table
    // name to be unchanged.
    let new = write(
        dir.path(),
        "new.yaml",
        &DEPLOYED.replace("Default: dev", "Default: prod"),
    );
    let diff = |new: &str| {
        run(holdfast_aws(dir.path()).args([
            "guard",
            "diff",
            "stack:users-prod",
            new,
            "--endpoint-url",
            &moto.endpoint(),
            "--json",
        ]))
    };
    assert_table_unchanged(&diff(&new));

    // The control: the unchanged template resolves Stage to `dev` on the NEW side only, so the
    // table is renamed users-prod -> users-dev: replaced.
    let unchanged = write(dir.path(), "unchanged.yaml", DEPLOYED);
    let run = diff(&unchanged);
    run.expect(3);
    assert_eq!(
        action(&run, "UsersTable").as_deref(),
        Some("replace"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_missing_stack_is_unreadable_input() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let run = run(holdfast_aws(dir.path()).args([
        "guard",
        "diff",
        "stack:no-such-stack",
        &new,
        "--endpoint-url",
        &moto.endpoint(),
        "--region",
        "eu-west-1",
    ]));
    run.expect(2);
    let error = run.stderr.trim();
    assert_eq!(error.lines().count(), 1, "one line: {error}");
    assert!(
        error.contains("stack:no-such-stack: no such stack in eu-west-1"),
        "{error}"
    );
    assert!(!error.contains("panicked"), "{error}");
}

/// No answer from CloudFormation is a failed operation (exit 1), as an unreachable DynamoDB
/// is: the input may be fine.
#[test]
fn an_unreachable_endpoint_fails_the_operation() {
    // A port nothing listens on: bound, then closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("temp dir");
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let endpoint = format!("http://user:hunter2@127.0.0.1:{port}");
    let run = run(holdfast_aws(dir.path()).args([
        "guard",
        "diff",
        "stack:users-prod",
        &new,
        "--endpoint-url",
        &endpoint,
    ]));
    run.expect(1);
    let error = run.stderr.trim();
    assert_eq!(error.lines().count(), 1, "one line: {error}");
    assert!(
        error.contains(&format!(
            "cannot reach CloudFormation at http://user:***@127.0.0.1:{port}"
        )),
        "{error}"
    );
    assert!(!run.all().contains("hunter2"), "{}", run.all());
}

/// The exit code is the error's own class, in the `--json` contract as on stderr: a call that
/// got no answer is a failed operation (1), while the other side, a template that is not one,
/// would be bad input (2).
#[test]
fn an_unreachable_endpoint_is_a_failed_operation_in_json_too() {
    let dir = tempfile::tempdir().expect("temp dir");
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let unreachable = run(holdfast_aws(dir.path()).args([
        "guard",
        "diff",
        "stack:users-prod",
        &new,
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--json",
    ]));
    unreachable.expect(1);
    let doc: serde_json::Value = serde_json::from_str(&unreachable.stdout).expect("stdout is JSON");
    assert_eq!(doc["outcome"], "failed", "{doc}");
    assert_eq!(doc["exit_code"], 1, "{doc}");
    assert!(
        doc["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot reach CloudFormation at http://127.0.0.1:9")),
        "{doc}"
    );

    let old = write(dir.path(), "old.yaml", DEPLOYED);
    let broken = write(dir.path(), "broken.yaml", "Resources: [1]\n");
    let bad = run(holdfast_aws(dir.path()).args(["guard", "diff", &old, &broken, "--json"]));
    bad.expect(2);
    let doc: serde_json::Value = serde_json::from_str(&bad.stdout).expect("stdout is JSON");
    assert_eq!(doc["outcome"], "usage", "{doc}");
}

#[test]
fn no_credentials_is_unreadable_input_and_shows_no_secret() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("temp dir");
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let run = run(holdfast_aws(dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
        .args([
            "guard",
            "diff",
            "stack:users-prod",
            &new,
            "--endpoint-url",
            &moto.endpoint(),
        ]));
    run.expect(2);
    let error = run.stderr.trim();
    assert_eq!(error.lines().count(), 1, "one line: {error}");
    assert!(error.contains("no AWS credentials"), "{error}");
    assert!(!run.all().contains("s3cr3t-value"), "{}", run.all());
}

#[test]
fn no_region_is_unreadable_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let run = run(holdfast_aws(dir.path())
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args([
            "guard",
            "diff",
            "stack:users-prod",
            &new,
            "--endpoint-url",
            "http://127.0.0.1:9",
        ]));
    run.expect(2);
    assert!(run.stderr.contains("no AWS region"), "{}", run.stderr);
}

#[test]
fn check_says_a_deployed_stack_is_for_diff() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = run(holdfast_aws(dir.path()).args(["guard", "check", "stack:users-prod"]));
    run.expect(2);
    assert!(run.stderr.contains("guard diff"), "{}", run.stderr);
}

/// A real TLS connection (rustls on `ring`, the provider sqlx also uses: no second provider in
/// the process, no panic on the handshake), to moto on HTTPS with a certificate trusted through
/// SSL_CERT_FILE: the API call goes through and answers that the stack does not exist.
#[test]
fn a_tls_endpoint_is_reached_with_rustls_on_ring() {
    let moto = Moto::start_tls();
    let dir = tempfile::tempdir().expect("temp dir");
    let new = write(dir.path(), "new.yaml", DEPLOYED);
    let endpoint = moto.endpoint();
    assert!(endpoint.starts_with("https://"), "{endpoint}");
    let diff = |trust: bool| {
        let mut cmd = holdfast_aws(dir.path());
        if trust {
            cmd.env("SSL_CERT_FILE", moto.ca_file().expect("a TLS server"));
        }
        run(cmd.args([
            "guard",
            "diff",
            "stack:no-such-stack",
            &new,
            "--endpoint-url",
            &endpoint,
        ]))
    };
    let trusted = diff(true);
    trusted.expect(2);
    assert!(
        trusted
            .stderr
            .contains("stack:no-such-stack: no such stack"),
        "{}",
        trusted.stderr
    );
    // Without the certificate, the handshake fails as it should: one line, no panic, and no
    // answer is a failed operation (exit 1).
    let untrusted = diff(false);
    untrusted.expect(1);
    assert!(
        untrusted.stderr.contains("cannot reach CloudFormation")
            && untrusted.stderr.contains("certificate"),
        "{}",
        untrusted.stderr
    );
    assert!(!untrusted.all().contains("panicked"), "{}", untrusted.all());
}
