//! `holdfast env check` and `holdfast env init` on the built binary, on templates written per
//! test: a Serverless `.serverless/` output, a SAM template with `Globals`, and plain
//! CloudFormation. Every rule is shown firing and not firing; exit codes 0, 3 and 2; and no
//! planted value ever appears in any output (text, JSON, SARIF, stderr).
//!
//! The fake credentials are assembled at run time (never written whole in this file), so
//! secret scanners do not mistake the tests for a leak.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An empty working folder of its own for one test.
fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("env-check")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the work folder");
    dir
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code, code,
            "expected exit {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
        self
    }

    #[track_caller]
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\n{}", self.stdout, self.stderr))
    }
}

/// Runs `holdfast ARGS…` in `cwd` with no `HOLDFAST_*` variables inherited.
fn holdfast(cwd: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_holdfast"));
    for (key, _) in std::env::vars() {
        if key.starts_with("HOLDFAST_") || key == "RUST_LOG" {
            cmd.env_remove(key);
        }
    }
    let out = cmd
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("run holdfast");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Fake credentials, assembled here so no whole token is written in the source.
struct Planted {
    stripe_live: String,
    stripe_test: String,
    github: String,
    aws_key: String,
    db_url: String,
    random_password: String,
}

fn planted() -> Planted {
    Planted {
        stripe_live: format!("sk_{}_{}", "live", "4eC39HqLyjWDarjtT1zdp7dcHOLDFASTx"),
        stripe_test: format!("sk_{}_{}", "test", "4eC39HqLyjWDarjtT1zdp7dcHOLDFASTy"),
        github: format!("gh{}_{}", "p", "16C7e42F292c6912E7710c838347Ae178B4a"),
        aws_key: format!("AKIA{}", "QYLPMN5HHHFPZAM2"),
        db_url: format!("postgres://app:{}@db.internal:5432/app", "Xk9pL2vQz7wR"),
        random_password: format!("{}{}", "q8Z!m3Vt", "9RwXe2Lp"),
    }
}

impl Planted {
    fn all(&self) -> Vec<&str> {
        vec![
            &self.stripe_live,
            &self.stripe_test,
            &self.github,
            &self.aws_key,
            &self.db_url,
            &self.random_password,
            "Xk9pL2vQz7wR",
        ]
    }

    #[track_caller]
    fn assert_absent(&self, what: &str, text: &str) {
        for value in self.all() {
            assert!(
                !text.contains(value),
                "{what} shows a planted value:\n{text}"
            );
        }
    }
}

fn function(env: Value) -> Value {
    json!({
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Runtime": "provided.al2023",
            "Handler": "bootstrap",
            "Code": { "ZipFile": "x" },
            "Role": "arn:aws:iam::123456789012:role/r",
            "Environment": { "Variables": env },
        }
    })
}

fn write_json(path: &Path, value: &Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

const SCHEMA: &str = r#"
[env.keys.LOG_LEVEL]
type = "enum"
values = ["debug", "info", "warn"]
default = "info"
[env.keys.LOG_LEVEL.production]
values = ["warn"]

[env.keys.ORDERS_TABLE]
required = true
type = "table"

[env.keys.TIMEOUT_SECONDS]
type = "int"

[env.keys.DB_SECRET_ARN]
secret = "ref"

[env.keys.FEATURE_FLAGS]
required = true

[env.keys.STRIPE_KEY]

[env.keys.GITHUB_TOKEN]
[env.keys.AWS_KEY]
[env.keys.DATABASE_URL]
[env.keys.SERVICE_PASSWORD]
[env.keys.SECRET_KEY]
[env.keys.EMPTY_ONE]

[stages.staging]
[stages.prod]
"#;

/// Findings as (function, key, rule).
fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn every_rule_fires_on_a_bad_function_and_none_on_a_good_one() {
    let dir = workdir("rules");
    let p = planted();
    std::fs::write(dir.join("holdfast.toml"), SCHEMA).unwrap();
    let bad = function(json!({
        "LOG_LEVEL": "verbose",
        "TIMEOUT_SECONDS": "soon",
        "DB_SECRET_ARN": "hunter2hunter2",
        "STRIPE_KEY": p.stripe_live,
        "GITHUB_TOKEN": p.github,
        "AWS_KEY": p.aws_key,
        "DATABASE_URL": p.db_url,
        "SERVICE_PASSWORD": p.random_password,
        "SECRET_KEY": "${env:SECRET_KEY}",
        "EMPTY_ONE": "",
        "ORDERS_TABLE": "orders-prod",
        "NOT_IN_SCHEMA": "1",
    }));
    let good = function(json!({
        "LOG_LEVEL": "info",
        "TIMEOUT_SECONDS": "30",
        "DB_SECRET_ARN": { "Ref": "DbSecret" },
        "STRIPE_KEY": p.stripe_test,
        "ORDERS_TABLE": "orders-staging",
        "FEATURE_FLAGS": { "Fn::Sub": "${AWS::Region}-${Table}" },
        "SECRET_KEY": "{{resolve:secretsmanager:staging/app:SecretString:key}}",
    }));
    let template = json!({
        "Resources": {
            "Bad": bad,
            "Good": good,
            "DbSecret": { "Type": "AWS::SecretsManager::Secret", "Properties": {} },
            "Table": { "Type": "AWS::DynamoDB::Table", "Properties": {} },
        }
    });
    write_json(&dir.join("template.json"), &template);
    let run = holdfast(
        &dir,
        &[
            "env",
            "check",
            "template.json",
            "--stage",
            "staging",
            "--json",
            "--sarif",
            "out.sarif",
        ],
    );
    run.expect(3);
    let report = run.json();
    assert_eq!(report["command"], "env check");
    assert_eq!(report["environment"], "staging");
    let got = findings(&report);
    let has = |f: &str, k: &str, r: &str| got.iter().any(|g| g.0 == f && g.1 == k && g.2 == r);
    for (key, rule) in [
        ("LOG_LEVEL", "env-not-allowed"),
        ("TIMEOUT_SECONDS", "env-type"),
        ("DB_SECRET_ARN", "env-plaintext-secret"),
        ("STRIPE_KEY", "env-live-key"),
        ("STRIPE_KEY", "env-plaintext-secret"),
        ("GITHUB_TOKEN", "env-plaintext-secret"),
        ("AWS_KEY", "env-plaintext-secret"),
        ("DATABASE_URL", "env-plaintext-secret"),
        ("SERVICE_PASSWORD", "env-plaintext-secret"),
        ("SECRET_KEY", "env-unresolved"),
        ("EMPTY_ONE", "env-empty"),
        ("ORDERS_TABLE", "env-cross-stage"),
        ("FEATURE_FLAGS", "env-missing"),
        ("NOT_IN_SCHEMA", "env-unknown"),
    ] {
        assert!(
            has("Bad", key, rule),
            "Bad {key} {rule} missing from {got:#?}"
        );
    }
    let good_findings: Vec<_> = got.iter().filter(|g| g.0 == "Good").collect();
    assert!(
        good_findings
            .iter()
            .all(|g| g.2 == "env-plaintext-secret" && g.1 == "STRIPE_KEY"),
        "the good function has findings: {good_findings:#?}"
    );
    // A test key outside production is fine (no env-live-key); it is still a literal key.
    assert!(!has("Good", "STRIPE_KEY", "env-live-key"));
    assert_eq!(report["summary"]["warnings"], 1, "env-unknown warns");
    let sarif = std::fs::read_to_string(dir.join("out.sarif")).unwrap();
    let sarif_json: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(sarif_json["version"], "2.1.0");
    for (what, text) in [
        ("JSON", &run.stdout),
        ("stderr", &run.stderr),
        ("SARIF", &sarif),
    ] {
        p.assert_absent(what, text);
    }
    let text = holdfast(
        &dir,
        &["env", "check", "template.json", "--stage", "staging"],
    );
    text.expect(3);
    p.assert_absent("text", &text.stdout);
    p.assert_absent("text stderr", &text.stderr);
    assert!(text.stdout.contains("env-unresolved"), "{}", text.stdout);
}

#[test]
fn a_live_key_is_fine_in_production_and_a_test_key_is_not() {
    let dir = workdir("live-test");
    let p = planted();
    std::fs::write(
        dir.join("holdfast.toml"),
        "[env.rules]\nenv-plaintext-secret = \"off\"\n",
    )
    .unwrap();
    let template = json!({ "Resources": {
        "Live": function(json!({ "STRIPE_KEY": p.stripe_live })),
        "Test": function(json!({ "STRIPE_KEY": p.stripe_test })),
    }});
    write_json(&dir.join("t.json"), &template);
    let prod = holdfast(
        &dir,
        &["env", "check", "t.json", "--stage", "prod", "--json"],
    );
    prod.expect(3);
    let got = findings(&prod.json());
    assert_eq!(
        got,
        [("Test".into(), "STRIPE_KEY".into(), "env-live-key".into())]
    );
    let dev = holdfast(
        &dir,
        &["env", "check", "t.json", "--stage", "dev", "--json"],
    );
    dev.expect(3);
    let got = findings(&dev.json());
    assert_eq!(
        got,
        [("Live".into(), "STRIPE_KEY".into(), "env-live-key".into())]
    );
    for run in [&prod, &dev] {
        p.assert_absent("JSON", &run.stdout);
    }
}

#[test]
fn serverless_output_with_a_literal_env_variable_is_caught() {
    let dir = workdir("serverless");
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "ApiLambdaFunction": function(json!({
                "SECRET_KEY": "${env:SECRET_KEY}",
                "TABLE": "${self:custom.tableName}",
                "FROM_SSM": "${ssm:/app/${sls:stage}/key, 'fallback'}",
                "OBJ": "[object Object]",
                "NESTED": "${{deep:5}}",
                "FINE": "plain",
            })),
        }
    });
    write_json(
        &dir.join(".serverless/cloudformation-template-update-stack.json"),
        &template,
    );
    let run = holdfast(&dir, &["env", "check", ".serverless", "--json"]);
    run.expect(3);
    let got = findings(&run.json());
    for key in ["SECRET_KEY", "TABLE", "FROM_SSM", "OBJ", "NESTED"] {
        assert!(
            got.iter().any(|g| g.1 == key && g.2 == "env-unresolved"),
            "{key}: {got:?}"
        );
    }
    assert!(!got.iter().any(|g| g.1 == "FINE"), "{got:?}");
    assert!(
        !run.stdout.contains("SECRET_KEY}"),
        "the literal is not shown"
    );
}

#[test]
fn sam_globals_reach_every_function_and_fn_sub_resolves_its_own_variables() {
    let dir = workdir("sam");
    let yaml = r#"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Environment:
      Variables:
        API_URL: https://api.dev.example.com
        QUEUE: !Sub "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:${QueueName}"
Parameters:
  QueueName:
    Type: String
    Default: jobs-prod
Resources:
  One:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Runtime: provided.al2023
      CodeUri: .
  Two:
    Type: AWS::Serverless::Function
    Properties:
      Handler: bootstrap
      Runtime: provided.al2023
      CodeUri: .
      Environment:
        Variables:
          OWN: !Sub "${!NotAVariable}-${env:LEFT}"
"#;
    std::fs::write(dir.join("template.yaml"), yaml).unwrap();
    std::fs::write(
        dir.join("holdfast.toml"),
        "[stages.dev]\n[stages.staging]\n[stages.prod]\n",
    )
    .unwrap();
    let run = holdfast(
        &dir,
        &[
            "env",
            "check",
            "template.yaml",
            "--stage",
            "staging",
            "--json",
        ],
    );
    run.expect(3);
    let report = run.json();
    let got = findings(&report);
    for f in ["One", "Two"] {
        assert!(
            got.contains(&(f.into(), "API_URL".into(), "env-cross-stage".into())),
            "{f}: {got:?}"
        );
        assert!(
            got.contains(&(f.into(), "QUEUE".into(), "env-cross-stage".into())),
            "a Fn::Sub's text is read with its parameters: {got:?}"
        );
    }
    assert!(got.contains(&("Two".into(), "OWN".into(), "env-unresolved".into())));
    assert_eq!(report["summary"]["functions"], 2);
    let location = &report["findings"][0]["location"];
    assert!(location["line"].as_u64().unwrap() > 1, "{location}");
}

#[test]
fn a_clean_template_exits_0_and_no_schema_means_only_value_rules() {
    let dir = workdir("clean");
    let template = json!({ "Resources": { "F": function(json!({ "LOG_LEVEL": "info" })) } });
    write_json(&dir.join("t.json"), &template);
    let run = holdfast(&dir, &["env", "check", "t.json", "--json"]);
    run.expect(0);
    let report = run.json();
    assert_eq!(report["findings"], json!([]));
    assert_eq!(report["environment"], "development");
}

#[test]
fn bad_schema_and_bad_input_exit_2_with_one_line_and_no_value() {
    let p = planted();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "[env.keys.A]\nrequird = true\n",
            "t.json",
            &["holdfast.toml", "line 2", "requird"],
        ),
        (
            "[env.keys.A]\ntype = \"enum\"\n",
            "t.json",
            &["[env.keys.A]", "values"],
        ),
        (
            "[env.rules]\nenv-nope = \"warn\"\n",
            "t.json",
            &["env-nope"],
        ),
        ("", "missing.json", &["missing.json"]),
        ("", "broken.json", &["broken.json", "line"]),
    ];
    for (i, (toml, input, message)) in cases.iter().enumerate() {
        let dir = workdir(&format!("bad-{i}"));
        std::fs::write(dir.join("holdfast.toml"), toml).unwrap();
        let template = json!({ "Resources": { "F": function(json!({ "K": p.stripe_live })) } });
        write_json(&dir.join("t.json"), &template);
        std::fs::write(
            dir.join("broken.json"),
            format!("{{\"Resources\": {{\"K\": \"{}\"", p.stripe_live),
        )
        .unwrap();
        let run = holdfast(&dir, &["env", "check", input, "--json"]);
        run.expect(2);
        let line = run.stderr.trim();
        assert_eq!(line.lines().count(), 1, "one line: {line}");
        for m in *message {
            assert!(line.contains(m), "{m:?} not in {line}");
        }
        assert_eq!(run.json()["outcome"], "usage");
        p.assert_absent("stderr", &run.stderr);
        p.assert_absent("JSON", &run.stdout);
    }
}

#[test]
fn init_drafts_a_schema_without_values_that_check_then_accepts() {
    let dir = workdir("init");
    let p = planted();
    let template = json!({ "Resources": {
        "A": function(json!({
            "PORT": "8080",
            "API_URL": "https://api.example.com",
            "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app-AbCdEf",
            "API_TOKEN": p.random_password,
        })),
        "B": function(json!({ "PORT": "9090" })),
    }});
    write_json(&dir.join("t.json"), &template);
    let run = holdfast(&dir, &["env", "init", "t.json", "--json"]);
    run.expect(0);
    let report = run.json();
    let toml = report["toml"].as_str().unwrap();
    p.assert_absent("draft", &run.stdout);
    assert!(
        !toml.contains("8080") && !toml.contains("api.example.com"),
        "{toml}"
    );
    assert!(
        toml.contains("[env.keys.PORT]\nrequired = true\ntype = \"int\""),
        "{toml}"
    );
    assert!(toml.contains("[env.keys.DB_SECRET_ARN]"), "{toml}");
    let keys = report["keys"].as_array().unwrap();
    let key = |k: &str| keys.iter().find(|d| d["key"] == k).unwrap().clone();
    assert_eq!(key("DB_SECRET_ARN")["secret"], true);
    assert_eq!(key("API_TOKEN")["secret"], true);
    assert_eq!(key("API_URL")["required"], false);
    std::fs::write(dir.join("holdfast.toml"), toml).unwrap();
    let check = holdfast(&dir, &["env", "check", "t.json", "--json"]);
    let got = findings(&check.json());
    assert!(
        got.iter().all(|g| g.1 == "API_TOKEN"),
        "the drafted schema accepts today's functions but for the literal token: {got:?}"
    );
}
