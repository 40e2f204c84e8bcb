//! The CDK example (`examples/cdk/`) synthesizes offline into the template its README describes:
//! Holdfast's function, the `SqlMigrate` custom resource with the fingerprint that
//! `holdfast migrate fingerprint` prints, and an Aurora cluster with the Data API and a snapshot
//! policy; the `instance` variant uses `DatabaseSecretArn`. Both pass `holdfast guard check
//! --stage prod`. And the example's migrations apply on the test PostgreSQL.
//!
//! Needs Node.js and the example's `node_modules`, installed from its committed
//! `package-lock.json` by `scripts/test` up front (`npm ci`, scripts/lib/tools.sh). The test
//! installs nothing: when `node` is missing or too old, or `node_modules` was not installed from
//! the current lock file, it fails saying so ([`holdfast_testkit::tools::require_cdk_app`]). No
//! AWS account and no network: the stack has no `env`, synth runs with `--no-lookups` and
//! `--no-notices`, and the CDK CLI's version check, telemetry and credential probing are
//! switched off.
//!
//! The app is type-checked once with `tsc --noEmit`; the synths then run it with ts-node in
//! transpile-only mode, all at once (loading aws-cdk-lib dominates).

mod common;

use serde_json::{Map, Value};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Instant;

/// The property names `SqlMigrate` accepts (crates/holdfast-lambda/src/properties.rs): the
/// function rejects any other, so a typo in the example would fail the deploy.
const SQL_MIGRATE_PROPERTIES: &[&str] = &[
    "ServiceToken",
    "Operation",
    "DatabaseSecretArn",
    "DatabaseUrl",
    "DataApi",
    "Host",
    "Port",
    "DatabaseName",
    "Engine",
    "MigrationsPath",
    "Fingerprint",
    "Resume",
];

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the repository root")
}

fn app_dir() -> PathBuf {
    repo_root().join("examples/cdk")
}

fn migrations_dir() -> PathBuf {
    app_dir().join("layer/migrations")
}

fn describe(out: &Output) -> String {
    format!(
        "({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(mut cmd: Command, what: &str) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start it ({e})"));
    assert!(out.status.success(), "{what} failed {}", describe(&out));
    out
}

/// `holdfast migrate fingerprint --dir DIR`: one line.
fn fingerprint(dir: &Path, cwd: &Path) -> String {
    let mut cmd = common::holdfast(cwd);
    cmd.args(["migrate", "fingerprint", "--dir"])
        .arg(dir)
        .args(["--database", "postgres://localhost/app"]);
    let out = run(cmd, "holdfast migrate fingerprint");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {text:?}");
    assert!(
        !lines[0].trim().is_empty() && !lines[0].contains(' '),
        "{text:?}"
    );
    lines[0].to_owned()
}

/// A node tool of the example (`cdk`, `tsc`) started in its folder, with no AWS credentials,
/// profile or instance metadata to probe, nothing reported, and no `HOLDFAST_*` inherited.
fn node_tool(tool: &str, scratch: &Path) -> Command {
    let mut cmd = Command::new(app_dir().join("node_modules/.bin").join(tool));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if key.starts_with("AWS_") || key.starts_with("HOLDFAST_") || key.starts_with("CDK_") {
            cmd.env_remove(key);
        }
    }
    cmd.current_dir(app_dir())
        .env("AWS_CONFIG_FILE", scratch.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            scratch.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("CDK_DISABLE_VERSION_CHECK", "1")
        .env("CDK_DISABLE_CLI_TELEMETRY", "1")
        .env("TS_NODE_TRANSPILE_ONLY", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

struct Synth {
    what: &'static str,
    out: PathBuf,
    child: Child,
}

/// Starts `cdk synth --no-notices --no-lookups` into `scratch/name`. Only the first synth runs
/// CloudFormation's schema validation (errors, as cdk.json asks): it costs seconds, and the
/// other synths produce the same resources or a subset checked field by field.
fn synth(
    what: &'static str,
    scratch: &Path,
    name: &str,
    args: &[String],
    env: &[(&str, OsString)],
    validate: bool,
) -> Synth {
    let out = scratch.join(name);
    let mut cmd = node_tool("cdk", scratch);
    cmd.args([
        "synth",
        "--no-notices",
        "--no-lookups",
        "--quiet",
        "--output",
    ])
    .arg(&out)
    .args(args);
    if !validate {
        cmd.env("CDK_VALIDATION", "false");
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start cdk ({e})"));
    Synth { what, out, child }
}

fn wait(synth: Synth) -> (PathBuf, Output) {
    let out = synth.child.wait_with_output().expect("wait for cdk synth");
    eprintln!("cdk_example: {} exited {}", synth.what, out.status);
    (synth.out, out)
}

fn template(out: &Path) -> Value {
    let path = out.join("HoldfastExample.template.json");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("the template is JSON")
}

fn resources(t: &Value) -> &Map<String, Value> {
    t["Resources"].as_object().expect("Resources")
}

/// The (logical ID, resource) pairs whose type satisfies `pred`.
fn of_type(t: &Value, pred: impl Fn(&str) -> bool) -> Vec<(&String, &Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r["Type"].as_str().is_some_and(&pred))
        .collect()
}

fn only<'a>(t: &'a Value, ty: &str) -> (&'a String, &'a Value) {
    let found = of_type(t, |x| x == ty);
    assert_eq!(found.len(), 1, "one {ty}: {found:#?}");
    found[0]
}

/// Whether `v` contains `{"Ref": id}` or `{"Fn::GetAtt": [id, …]}` anywhere.
fn refers_to(v: &Value, id: &str) -> bool {
    match v {
        Value::Object(m) => {
            m.get("Ref").and_then(Value::as_str) == Some(id)
                || m.get("Fn::GetAtt").and_then(|g| g[0].as_str()) == Some(id)
                || m.values().any(|x| refers_to(x, id))
        }
        Value::Array(a) => a.iter().any(|x| refers_to(x, id)),
        _ => false,
    }
}

fn depends_on(r: &Value, id: &str) -> bool {
    match &r["DependsOn"] {
        Value::String(s) => s == id,
        Value::Array(a) => a.iter().any(|x| x == id),
        _ => false,
    }
}

/// Checks the function and the custom resource common to both variants; returns their
/// logical IDs and the resource's properties.
fn function_and_resource<'a>(t: &'a Value, fp: &str) -> (&'a str, &'a str, &'a Value) {
    let (fn_id, function) = only(t, "AWS::Lambda::Function");
    let props = &function["Properties"];
    assert_eq!(props["Runtime"], "provided.al2023");
    assert_eq!(props["Handler"], "bootstrap");
    assert_eq!(props["Architectures"], serde_json::json!(["x86_64"]));
    assert_eq!(props["MemorySize"], 256);
    assert_eq!(props["Timeout"], 600);
    let (layer_id, _) = only(t, "AWS::Lambda::LayerVersion");
    assert!(refers_to(&props["Layers"], layer_id), "{props:#}");

    let custom = of_type(t, |x| x.starts_with("Custom::"));
    assert_eq!(custom.len(), 1, "one custom resource: {custom:#?}");
    let (cr_id, cr) = custom[0];
    assert_eq!(cr["Type"], "Custom::HoldfastSqlMigrate");
    let p = &cr["Properties"];
    assert_eq!(
        p["ServiceToken"],
        serde_json::json!({"Fn::GetAtt": [fn_id, "Arn"]}),
        "the custom resource calls Holdfast's function directly"
    );
    assert_eq!(p["Operation"], "SqlMigrate");
    assert_eq!(p["MigrationsPath"], "/opt/migrations");
    assert_eq!(p["Fingerprint"], fp);
    for key in p.as_object().expect("Properties").keys() {
        assert!(
            SQL_MIGRATE_PROPERTIES.contains(&key.as_str()),
            "SqlMigrate has no property {key}: {p:#}"
        );
    }
    (fn_id, cr_id, p)
}

/// The actions of the policy statements attached to the function's role.
fn role_actions(t: &Value, fn_id: &str) -> Vec<String> {
    let role = &resources(t)[fn_id]["Properties"]["Role"]["Fn::GetAtt"][0];
    let role = role.as_str().expect("the function's role is in the stack");
    of_type(t, |x| x == "AWS::IAM::Policy")
        .into_iter()
        .filter(|(_, p)| refers_to(&p["Properties"]["Roles"], role))
        .flat_map(|(_, p)| {
            p["Properties"]["PolicyDocument"]["Statement"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The staged asset folder or file of the resource's `aws:asset:path` metadata.
fn asset(out: &Path, r: &Value) -> PathBuf {
    let rel = r["Metadata"]["aws:asset:path"]
        .as_str()
        .unwrap_or_else(|| panic!("no aws:asset:path: {r:#}"));
    out.join(rel)
}

fn check_aurora(out: &Path, fp: &str, zip: &[u8]) {
    let t = template(out);
    let (fn_id, cr_id, p) = function_and_resource(&t, fp);

    let (cluster_id, cluster) = only(&t, "AWS::RDS::DBCluster");
    let c = &cluster["Properties"];
    assert_eq!(c["EnableHttpEndpoint"], true, "the Data API is on");
    assert_eq!(c["Engine"], "aurora-postgresql");
    assert_eq!(c["DeletionProtection"], true);
    assert_eq!(c["StorageEncrypted"], true);
    assert!(c["ServerlessV2ScalingConfiguration"].is_object(), "{c:#}");
    for policy in ["DeletionPolicy", "UpdateReplacePolicy"] {
        let v = cluster[policy].as_str().unwrap_or("Delete");
        assert!(v == "Snapshot" || v == "Retain", "cluster {policy} {v}");
    }
    let (_, secret) = only(&t, "AWS::SecretsManager::Secret");
    assert_eq!(
        secret["DeletionPolicy"], "Retain",
        "the password outlives the stack"
    );
    let (writer_id, writer) = only(&t, "AWS::RDS::DBInstance");
    assert!(refers_to(
        &writer["Properties"]["DBClusterIdentifier"],
        cluster_id
    ));

    let api = p["DataApi"].as_object().expect("DataApi is an object");
    let mut keys: Vec<&str> = api.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["Database", "ResourceArn", "SecretArn"]);
    assert!(refers_to(&p["DataApi"]["ResourceArn"], cluster_id), "{p:#}");
    assert!(p["DataApi"]["SecretArn"].is_object(), "{p:#}");
    assert_eq!(p["DataApi"]["Database"], c["DatabaseName"]);
    assert!(p.get("DatabaseSecretArn").is_none());
    let cr = &resources(&t)[cr_id];
    assert!(
        depends_on(cr, writer_id),
        "migrations wait for the writer instance: {cr:#}"
    );

    let actions = role_actions(&t, fn_id);
    for needed in ["rds-data:ExecuteStatement", "secretsmanager:GetSecretValue"] {
        assert!(actions.iter().any(|a| a == needed), "{needed}: {actions:?}");
    }
    assert!(
        resources(&t)[fn_id]["Properties"]
            .get("VpcConfig")
            .is_none(),
        "with the Data API the function stays outside the VPC"
    );

    // Fn::GetAtt on the resource's Data.
    let outputs = t["Outputs"].as_object().expect("Outputs");
    for key in ["LatestVersion", "AppliedCount"] {
        let getatt = serde_json::json!({"Fn::GetAtt": [cr_id, key]});
        assert!(
            outputs.values().any(|o| o["Value"] == getatt),
            "an output reads {key}: {outputs:#?}"
        );
    }

    // What is uploaded: the zip as it is, and the layer with migrations/ at its root (so
    // under /opt/migrations), file for file.
    let staged = asset(out, &resources(&t)[fn_id]);
    assert_eq!(std::fs::read(&staged).expect("the staged zip"), zip);
    let (_, layer) = only(&t, "AWS::Lambda::LayerVersion");
    let staged = asset(out, layer).join("migrations");
    let names = |dir: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").file_name())
            .collect();
        v.sort();
        v
    };
    let source = names(&migrations_dir());
    assert_eq!(names(&staged), source);
    for name in &source {
        let read = |d: &Path| std::fs::read(d.join(name)).expect("a migration");
        assert_eq!(read(&staged), read(&migrations_dir()), "{name:?}");
    }

    // CloudFormation's schema validation ran (cdk.json makes its findings errors) and found
    // nothing.
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("validation-report.json"))
            .expect("validation-report.json"),
    )
    .expect("JSON");
    assert_eq!(report["pluginReports"], serde_json::json!([]), "{report:#}");
}

fn check_instance(out: &Path, fp: &str) {
    let t = template(out);
    let (fn_id, _, p) = function_and_resource(&t, fp);
    assert!(of_type(&t, |x| x == "AWS::RDS::DBCluster").is_empty());
    let (db_id, db) = only(&t, "AWS::RDS::DBInstance");
    assert_eq!(db["Properties"]["ManageMasterUserPassword"], true);
    assert_eq!(db["Properties"]["DeletionProtection"], true);
    assert_eq!(db["DeletionPolicy"], "Snapshot");
    assert_eq!(
        p["DatabaseSecretArn"],
        serde_json::json!({"Fn::GetAtt": [db_id, "MasterUserSecret.SecretArn"]})
    );
    assert_eq!(
        p["Host"],
        serde_json::json!({"Fn::GetAtt": [db_id, "Endpoint.Address"]})
    );
    assert_eq!(
        p["Port"],
        serde_json::json!({"Fn::GetAtt": [db_id, "Endpoint.Port"]})
    );
    assert_eq!(p["DatabaseName"], db["Properties"]["DBName"]);
    assert_eq!(p["Engine"], "postgres");
    assert!(p.get("DataApi").is_none());
    assert!(
        resources(&t)[fn_id]["Properties"]["VpcConfig"].is_object(),
        "the function runs in the VPC"
    );
    assert!(role_actions(&t, fn_id)
        .iter()
        .any(|a| a == "secretsmanager:GetSecretValue"));
    // From isolated subnets: Secrets Manager for the secret, S3 for the ResponseURL.
    let endpoints = of_type(&t, |x| x == "AWS::EC2::VPCEndpoint");
    let text = serde_json::to_string(&endpoints).expect("JSON");
    assert!(
        text.contains(".secretsmanager") && text.contains(".s3"),
        "{text}"
    );
}

#[test]
fn the_cdk_example_synthesizes_offline_into_the_documented_template() {
    holdfast_testkit::tools::require_cdk_app(app_dir());
    let started = Instant::now();
    let scratch = tempfile::tempdir().expect("temp dir");
    let scratch = scratch.path();

    // The fingerprint the deploy sends, and that it changes with a migration's text.
    let fp = fingerprint(&migrations_dir(), scratch);
    assert_eq!(fingerprint(&migrations_dir(), scratch), fp, "stable");
    let edited = scratch.join("edited");
    std::fs::create_dir(&edited).expect("mkdir");
    for entry in std::fs::read_dir(migrations_dir()).expect("read migrations") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, edited.join(path.file_name().expect("name"))).expect("copy");
    }
    let v3 = edited.join("V3__add_account_plan.sql");
    let text = std::fs::read_to_string(&v3).expect("read V3");
    std::fs::write(&v3, text.replace("'free'", "'trial'")).expect("write V3");
    assert_ne!(fingerprint(&edited, scratch), fp, "an edit changes it");

    // A placeholder for target/lambda-package/bootstrap.zip (an empty zip archive): synth only stages
    // the file as an asset and never runs it; the package itself is built and tested by
    // scripts/package-lambda's own test.
    let zip_bytes = *b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
    let zip = scratch.join("bootstrap.zip");
    std::fs::write(&zip, zip_bytes).expect("write the placeholder zip");

    let ctx = |kv: &str| ["-c".to_owned(), kv.to_owned()];
    let with_fp = ctx(&format!("holdfastFingerprint={fp}"));
    let with_zip = ctx(&format!("holdfastLambdaZip={}", zip.display()));
    let bin: OsString = common::bin().into();

    let mut tsc = node_tool("tsc", scratch);
    tsc.args(["--noEmit", "--project", "tsconfig.json"]);
    let tsc = tsc
        .spawn()
        .unwrap_or_else(|e| panic!("tsc: cannot start it ({e})"));
    let synths = [
        synth(
            "synth (aurora)",
            scratch,
            "aurora",
            &[with_fp.clone(), with_zip.clone()].concat(),
            &[],
            true,
        ),
        // Changing nothing changes nothing: the app runs `holdfast migrate fingerprint` itself
        // (HOLDFAST_BIN) and takes the zip from HOLDFAST_LAMBDA_ZIP: the same template.
        synth(
            "synth (aurora, fingerprint by the app)",
            scratch,
            "again",
            &[],
            &[
                ("HOLDFAST_BIN", bin.clone()),
                ("HOLDFAST_LAMBDA_ZIP", zip.clone().into()),
            ],
            false,
        ),
        synth(
            "synth (instance)",
            scratch,
            "instance",
            &[
                with_fp.clone(),
                with_zip.clone(),
                ctx("holdfastDatabase=instance"),
            ]
            .concat(),
            &[],
            false,
        ),
        synth(
            "synth (no package)",
            scratch,
            "no-zip",
            &with_fp,
            &[("HOLDFAST_LAMBDA_ZIP", scratch.join("missing.zip").into())],
            false,
        ),
        synth(
            "synth (no fingerprint)",
            scratch,
            "no-fingerprint",
            &with_zip,
            &[("HOLDFAST_BIN", scratch.join("no-such-holdfast").into())],
            false,
        ),
    ];
    let tsc_out = tsc.wait_with_output().expect("wait for tsc");
    assert!(
        tsc_out.status.success(),
        "tsc --noEmit (type-check the app) failed {}",
        describe(&tsc_out)
    );
    let [aurora, again, instance, no_zip, no_fp] = synths.map(wait);
    eprintln!("cdk_example: synths done after {:.1?}", started.elapsed());
    for (what, (_, out)) in [
        ("synth (aurora)", &aurora),
        ("synth (aurora, fingerprint by the app)", &again),
        ("synth (instance)", &instance),
    ] {
        assert!(out.status.success(), "{what} failed {}", describe(out));
    }

    check_aurora(&aurora.0, &fp, &zip_bytes);
    assert_eq!(
        template(&again.0),
        template(&aurora.0),
        "a second synth, fingerprint computed by the app, gives the same template"
    );
    check_instance(&instance.0, &fp);
    // Both variants pass Holdfast's own deploy guard at its strictest.
    for dir in [&aurora.0, &instance.0] {
        let mut guard = common::holdfast(scratch);
        guard
            .args(["guard", "check"])
            .arg(dir)
            .args(["--stage", "prod"]);
        run(guard, "holdfast guard check --stage prod");
    }

    let (_, out) = &no_zip;
    assert!(!out.status.success(), "synth without the package succeeded");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("scripts/package-lambda") && text.contains("missing.zip"),
        "the error names the packaging command and the path {}",
        describe(out)
    );
    let (_, out) = &no_fp;
    assert!(
        !out.status.success(),
        "synth without a fingerprint succeeded"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("holdfastFingerprint") && text.contains("HOLDFAST_BIN"),
        "the error says how to give the fingerprint {}",
        describe(out)
    );
    eprintln!("cdk_example: done in {:.1?}", started.elapsed());
}

/// The example's migrations are what the function runs on deploy: they apply on PostgreSQL, the
/// dollar-quoted function body with its `;` goes as one statement, and a second run (the next
/// deploy, or a rollback's Update) has nothing to do.
#[test]
fn the_example_migrations_apply_on_postgresql() {
    let db = common::TempDatabase::new(common::Engine::Postgres);
    let scratch = tempfile::tempdir().expect("temp dir");
    let up = || {
        let mut cmd = common::holdfast(scratch.path());
        cmd.args(["migrate", "up", "--json", "--database", &db.url, "--dir"])
            .arg(migrations_dir());
        let out = run(cmd, "holdfast migrate up");
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        report["applied"].as_array().expect("applied").clone()
    };
    let applied = up();
    let scripts: Vec<&str> = applied
        .iter()
        .map(|a| a["script"].as_str().expect("script"))
        .collect();
    assert_eq!(
        scripts,
        [
            "V1__create_accounts.sql",
            "V2__touch_updated_at.sql",
            "V3__add_account_plan.sql",
            "R__account_summary.sql"
        ]
    );
    assert_eq!(applied[1]["statements"], 2, "{:#}", applied[1]);
    assert!(up().is_empty(), "a second run applies nothing");
}
