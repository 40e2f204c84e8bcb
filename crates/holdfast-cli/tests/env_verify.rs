//! `holdfast env verify` on the built binary against a real moto server: Lambda functions
//! deployed in CloudFormation stacks with good and bad environments, the secrets and SSM
//! parameters they name, and a production stage whose secret value staging shares. Every
//! finding is shown firing (and a clean stage passing), exit codes 0, 3, 2 and 1, and no
//! planted value appears in any output.
//!
//! The fake credentials are assembled at run time (never written whole in this file).

mod common;

use common::{holdfast_aws, Run};
use holdfast_testkit::deployed::{Deployer, FunctionSpec};
use holdfast_testkit::moto::Moto;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("env-verify")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the work folder");
    dir
}

fn verify(dir: &Path, moto: &Moto, args: &[&str]) -> Run {
    let out = holdfast_aws(dir)
        .args(["env", "verify", "--endpoint-url", &moto.endpoint()])
        .args(args)
        .output()
        .expect("run holdfast");
    let run = Run::from(out);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

struct Planted {
    stripe_live: String,
    stripe_test: String,
    github: String,
    db_password: String,
    webhook: String,
}

fn planted() -> Planted {
    Planted {
        stripe_live: format!("sk_{}_{}", "live", "51HfGq2ExAmPlEkEyHOLDFASTvrfy0"),
        stripe_test: format!("sk_{}_{}", "test", "51HfGq2ExAmPlEkEyHOLDFASTvrfy1"),
        github: format!("gh{}_{}", "p", "16C7e42F292c6912E7710c838347Ae178B4a"),
        db_password: format!("{}{}", "v7Qm!2pXz", "R8sLw4Kd"),
        webhook: format!("whsec_{}", "Zk3Lq9Vm2Xp7Rt5Wn8Yb1Hc4"),
    }
}

impl Planted {
    #[track_caller]
    fn assert_absent(&self, run: &Run) {
        for value in [
            &self.stripe_live,
            &self.stripe_test,
            &self.github,
            &self.db_password,
            &self.webhook,
        ] {
            assert!(
                !run.stdout.contains(value.as_str()) && !run.stderr.contains(value.as_str()),
                "a planted value shows:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
    }
}

const SCHEMA: &str = r#"
[stages.staging]
[stages.prod]
[stages.prod.env]
stacks = ["billing-prod"]

[env.keys.STRIPE_SECRET_ARN]
required = true
json_keys = ["api_key"]
functions = ["Billing*"]

[env.keys.LOG_LEVEL]
type = "enum"
values = ["debug", "info", "warn"]

[env.keys.DB_PARAM]
type = "ssm-path"
[env.keys.DB_SECRET_ARN]
json_keys = ["username", "password"]
[env.keys.WEBHOOK_PARAM]
"#;

fn findings(report: &Value) -> Vec<(String, String, String)> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["function"].as_str().unwrap().to_string(),
                f["key"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[track_caller]
fn has(found: &[(String, String, String)], rule: &str, function: &str, key: &str) {
    assert!(
        found
            .iter()
            .any(|(r, f, k)| r == rule && f == function && k == key),
        "no {rule} on {function} {key} in {found:?}"
    );
}

#[test]
fn a_clean_stage_passes_and_every_live_rule_fires_on_a_bad_one() {
    let moto = Moto::start();
    let aws = Deployer::new(&moto);
    let p = planted();
    let good_secret = aws.secret(
        "staging/stripe",
        &format!(r#"{{"api_key":"{}"}}"#, p.stripe_test),
    );
    let live_secret = aws.secret(
        "staging/stripe-live",
        &format!(r#"{{"api_key":"{}"}}"#, p.stripe_live),
    );
    let keyless = aws.secret("staging/stripe-nokey", r#"{"other":"x"}"#);
    let missing = good_secret.replace("staging/stripe", "staging/gone");
    aws.parameter("/svc/staging/db", &p.db_password, true);
    aws.parameter("/svc/staging/token", &p.github, false);
    aws.parameter("/svc/prod/config", "prod-only", false);

    aws.stack(
        "billing-staging",
        &[FunctionSpec {
            logical_id: "BillingApi",
            name: None,
            variables: &[
                ("STRIPE_SECRET_ARN", &good_secret),
                ("LOG_LEVEL", "info"),
                ("DB_PARAM", "/svc/staging/db"),
            ],
        }],
    );
    let unresolved = format!("${{{}:SECRET_KEY}}", "env");
    let bad = aws.stack(
        "bad-staging",
        &[
            FunctionSpec {
                logical_id: "BillingWorker",
                name: None,
                variables: &[("STRIPE_SECRET_ARN", &live_secret)],
            },
            FunctionSpec {
                logical_id: "BillingCron",
                name: None,
                variables: &[("STRIPE_SECRET_ARN", &keyless), ("LOG_LEVEL", "verbose")],
            },
            FunctionSpec {
                logical_id: "Mailer",
                name: Some("mailer-staging"),
                variables: &[
                    ("MAIL_SECRET_ARN", &missing),
                    ("SESSION_SECRET", &unresolved),
                    ("CONFIG_PARAM", "/svc/prod/config"),
                    ("TOKEN_PARAM", "/svc/staging/token"),
                ],
            },
        ],
    );
    let dir = workdir("rules");
    std::fs::write(dir.join("holdfast.toml"), SCHEMA).unwrap();

    // The clean stage: both references resolved, nothing found.
    let run = verify(
        &dir,
        &moto,
        &["--stage", "staging", "--stack", "billing-staging", "--json"],
    );
    run.expect(0);
    p.assert_absent(&run);
    let report = run.json();
    assert_eq!(report["command"], "env verify");
    assert_eq!(report["environment"], "staging");
    assert_eq!(report["summary"]["functions"], 1);
    assert_eq!(report["verify"]["references"], 2, "{report}");
    assert_eq!(report["verify"]["resolved"], 2, "{report}");
    assert!(findings(&report).is_empty(), "{report}");

    // The bad stage.
    let run = verify(
        &dir,
        &moto,
        &["--stage", "staging", "--stack", "bad-staging", "--json"],
    );
    run.expect(3);
    p.assert_absent(&run);
    let report = run.json();
    let found = findings(&report);
    has(
        &found,
        "env-live-key",
        "BillingWorker",
        "STRIPE_SECRET_ARN → api_key",
    );
    has(
        &found,
        "env-reference",
        "BillingCron",
        "STRIPE_SECRET_ARN → api_key",
    );
    has(&found, "env-not-allowed", "BillingCron", "LOG_LEVEL");
    has(&found, "env-reference", "Mailer", "MAIL_SECRET_ARN");
    has(&found, "env-unresolved", "Mailer", "SESSION_SECRET");
    has(&found, "env-cross-stage", "Mailer", "CONFIG_PARAM");
    has(&found, "env-plaintext-secret", "Mailer", "TOKEN_PARAM");
    // The production parameter is not read for staging: 3 secrets and 1 parameter are.
    assert_eq!(report["verify"]["references"], 4, "{report}");
    assert_eq!(report["verify"]["resolved"], 3, "{report}");
    // A stack's functions are named by their logical ids, under the stack.
    assert!(report["functions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f == "bad-staging/Mailer"));

    // The same functions named one by one (no stack) carry their deployed names; the text
    // report names rule, function and key, never a value.
    let run = verify(&dir, &moto, &["--stage", "staging", "--function", &bad[2]]);
    run.expect(3);
    p.assert_absent(&run);
    assert!(
        run.stdout
            .contains("[env-unresolved] mailer-staging SESSION_SECRET"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("references"), "{}", run.stdout);
}

#[test]
fn staging_sharing_a_secret_value_with_production_is_caught() {
    let moto = Moto::start();
    let aws = Deployer::new(&moto);
    let p = planted();
    let db = |stage: &str| {
        format!(
            r#"{{"username":"app","password":"{}","host":"db.{stage}.internal"}}"#,
            p.db_password
        )
    };
    let prod_db = aws.secret("prod/db", &db("prod"));
    let staging_db = aws.secret("staging/db", &db("staging"));
    let prod_stripe = aws.secret(
        "prod/stripe",
        &format!(r#"{{"api_key":"{}"}}"#, p.stripe_live),
    );
    let staging_stripe = aws.secret(
        "staging/stripe",
        &format!(r#"{{"api_key":"{}"}}"#, p.stripe_test),
    );
    aws.parameter("/billing/prod/webhook", &p.webhook, true);
    aws.parameter("/billing/staging/webhook", &p.webhook, true);
    aws.stack(
        "billing-prod",
        &[FunctionSpec {
            logical_id: "BillingApi",
            name: Some("billing-api-prod"),
            variables: &[
                ("STRIPE_SECRET_ARN", &prod_stripe),
                ("DB_SECRET_ARN", &prod_db),
                ("WEBHOOK_PARAM", "/billing/prod/webhook"),
            ],
        }],
    );
    let staging = aws.stack(
        "billing-staging",
        &[FunctionSpec {
            logical_id: "BillingApi",
            name: Some("billing-api-staging"),
            variables: &[
                ("STRIPE_SECRET_ARN", &staging_stripe),
                ("DB_SECRET_ARN", &staging_db),
                ("WEBHOOK_PARAM", "/billing/staging/webhook"),
            ],
        }],
    );
    let dir = workdir("shared");
    std::fs::write(dir.join("holdfast.toml"), SCHEMA).unwrap();

    // Alone, staging is clean: its own secrets, test keys.
    let run = verify(
        &dir,
        &moto,
        &["--stage", "staging", "--stack", "billing-staging", "--json"],
    );
    run.expect(0);

    // Compared with production (its stacks from holdfast.toml): the shared password (in a JSON
    // field, under another secret's name) and the shared webhook secret (another parameter's
    // name) are caught; the whole
    // secrets differ (their hosts do) and the Stripe keys differ.
    let run = verify(
        &dir,
        &moto,
        &[
            "--stage",
            "staging",
            "--stack",
            "billing-staging",
            "--compare-stage",
            "prod",
            "--json",
        ],
    );
    run.expect(3);
    p.assert_absent(&run);
    let report = run.json();
    let found = findings(&report);
    has(
        &found,
        "env-shared-secret",
        "BillingApi",
        "DB_SECRET_ARN → password",
    );
    has(&found, "env-shared-secret", "BillingApi", "WEBHOOK_PARAM");
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(report["verify"]["compare_stage"], "prod");
    assert_eq!(report["verify"]["compared_functions"], 1);
    assert_eq!(report["verify"]["shared"], 2);
    let message = report["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("stage `prod`") && message.contains("billing-api-prod"),
        "{message}"
    );
    // One value, one fingerprint in both findings' runs; never the value.
    assert!(report["findings"][0]["fingerprint"]
        .as_str()
        .unwrap()
        .starts_with("fp:"));

    // The compared stage's functions named on the command line.
    let run = verify(
        &dir,
        &moto,
        &[
            "--stage",
            "staging",
            "--function",
            &staging[0],
            "--compare-stage",
            "prod",
            "--compare-function",
            "billing-api-prod",
        ],
    );
    run.expect(3);
    p.assert_absent(&run);
    assert!(run.stdout.contains("env-shared-secret"), "{}", run.stdout);
}

#[test]
fn bad_settings_and_missing_functions_are_exit_2_and_no_answer_is_exit_1() {
    let moto = Moto::start();
    let dir = workdir("bad");
    std::fs::write(dir.join("holdfast.toml"), SCHEMA).unwrap();
    let one_line = |run: &Run, text: &str| {
        assert!(run.stderr.contains(text), "{}", run.stderr);
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    };

    let run = verify(&dir, &moto, &["--stack", "billing-staging"]);
    run.expect(2);
    one_line(&run, "--stage is required");

    let run = verify(&dir, &moto, &["--stage", "staging"]);
    run.expect(2);
    one_line(&run, "[stages.staging.env]");

    let run = verify(&dir, &moto, &["--stage", "staging", "--stack", "nope"]);
    run.expect(2);
    one_line(&run, "stack:nope: not found");

    let run = verify(&dir, &moto, &["--stage", "staging", "--function", "nope"]);
    run.expect(2);
    one_line(&run, "function nope: not found");

    let run = verify(
        &dir,
        &moto,
        &[
            "--stage",
            "staging",
            "--function",
            "x",
            "--compare-stage",
            "staging",
        ],
    );
    run.expect(2);
    one_line(&run, "names the stage verified");

    std::fs::write(dir.join("holdfast.toml"), "[env.keys.X]\nrequird = true\n").unwrap();
    let run = verify(&dir, &moto, &["--stage", "staging", "--function", "x"]);
    run.expect(2);
    one_line(&run, "line 2");

    // Nothing listens on port 1.
    std::fs::write(dir.join("holdfast.toml"), SCHEMA).unwrap();
    let out = holdfast_aws(&dir)
        .args([
            "env",
            "verify",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--stage",
            "staging",
            "--function",
            "x",
        ])
        .output()
        .expect("run holdfast");
    let run = Run::from(out);
    run.expect(1);
    one_line(&run, "cannot reach Lambda");
}
