//! The `--json` contract: a snapshot of every command's report (and of the error report), with
//! run-specific values (times, paths, user, endpoints) normalised. Each snapshot is also read
//! back into its type (`holdfast_report::AnyReport`) and must serialize to the same JSON, so a
//! snapshot, its Rust type and the published schema (`schemas/`, generated from the type) agree;
//! and every published schema must have a snapshot here. Regenerate after a deliberate change
//! with `HOLDFAST_UPDATE_SNAPSHOTS=1`.

mod common;
mod dynamo_support;
use aws_sdk_dynamodb::types::ScalarAttributeType;
use common::*;
use holdfast_report::AnyReport;
use holdfast_testkit::DynamoDbLocal;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn normalise(value: &mut Value, db_url: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "applied_at" | "applied_by" if !v.is_null() => {
                        *v = Value::String(format!("<{key}>"))
                    }
                    // Numbers stay numbers, so that the snapshot still reads back as its type.
                    "execution_ms" | "elapsed_ms" | "items_per_second" if !v.is_null() => {
                        *v = Value::from(0)
                    }
                    // Where the run's files were: a temporary folder.
                    "endpoint" | "dir" | "keys_file" | "checkpoint" | "arn" if v.is_string() => {
                        *v = Value::String(format!("<{key}>"))
                    }
                    "database" => {
                        *v = Value::String(
                            v.as_str().unwrap_or_default().replace(db_url, "<database>"),
                        )
                    }
                    _ => normalise(v, db_url),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalise(v, db_url)),
        _ => {}
    }
}

fn snapshots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// The report read back as its type serializes to the same JSON.
fn assert_round_trips(name: &str, value: &Value) -> AnyReport {
    let parsed = AnyReport::from_value(value.clone())
        .unwrap_or_else(|e| panic!("snapshot {name} is not a report of its type: {e}"));
    let again = serde_json::to_value(&parsed).unwrap();
    assert_eq!(
        &again, value,
        "snapshot {name}: its type drops or changes fields (the schema would not describe it)"
    );
    parsed
}

fn check(name: &str, run: &Run, db: &TempDatabase) {
    check_value(name, run.json(), &db.url);
}

fn check_value(name: &str, mut value: Value, db_url: &str) {
    normalise(&mut value, db_url);
    assert_round_trips(name, &value);
    let actual = serde_json::to_string_pretty(&value).unwrap() + "\n";
    let path = snapshots_dir().join(format!("{name}.json"));
    if std::env::var_os("HOLDFAST_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}: run with HOLDFAST_UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs (HOLDFAST_UPDATE_SNAPSHOTS=1 regenerates it)"
    );
}

#[test]
fn json_reports_match_their_snapshots() {
    let db = TempDatabase::new(Engine::Sqlite);
    let dir = MigrationDir::new();
    dir.write("V1__create_users.sql", "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n")
        .write(
            "V2__audit.sql",
            "CREATE TABLE audit (note TEXT);\nCREATE TRIGGER users_audit AFTER INSERT ON users BEGIN INSERT INTO audit VALUES ('new; user'); END;\n",
        )
        .write("R__users_view.sql", "DROP VIEW IF EXISTS user_emails;\nCREATE VIEW user_emails AS SELECT email FROM users;\n");

    check(
        "plan",
        migrate(&db, &dir, "plan", &["--json"]).expect(0),
        &db,
    );
    check("up", migrate(&db, &dir, "up", &["--json"]).expect(0), &db);
    check(
        "status",
        migrate(&db, &dir, "status", &["--json"]).expect(0),
        &db,
    );

    dir.write(
        "V1__create_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\n",
    )
    .write(
        "V3__broken.sql",
        "CREATE TABLE t3 (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    );
    check(
        "validate_drift",
        migrate(&db, &dir, "validate", &["--json"]).expect(3),
        &db,
    );
    check(
        "up_refused",
        migrate(&db, &dir, "up", &["--json"]).expect(3),
        &db,
    );
    dir.write(
        "V1__create_users.sql",
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
    );
    check(
        "up_failed",
        migrate(&db, &dir, "up", &["--json"]).expect(1),
        &db,
    );
    check(
        "error",
        migrate(&db, &dir, "up", &["--json", "--target", "x"]).expect(2),
        &db,
    );
}

#[test]
fn every_published_schema_has_a_snapshot_that_reads_back() {
    let mut covered = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(snapshots_dir()).expect("read snapshots") {
        let path = entry.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read snapshot");
        let value: Value = serde_json::from_str(&text).expect("snapshot is JSON");
        let name = path.display().to_string();
        covered.insert(assert_round_trips(&name, &value).schema_name());
    }
    let missing: Vec<String> = holdfast_report::schemas()
        .into_iter()
        .map(|s| s.name)
        .filter(|name| !covered.contains(name))
        .collect();
    assert!(
        missing.is_empty(),
        "reports without a snapshot: {missing:?}"
    );
}

#[test]
fn the_other_migrate_reports_match_their_snapshots() {
    let db = TempDatabase::new(Engine::Sqlite);
    let dir = MigrationDir::new();
    dir.write("V1__one.sql", "CREATE TABLE one (id INTEGER);\n")
        .write("V2__two.sql", "CREATE TABLE two (id INTEGER);\n");
    check(
        "baseline",
        migrate(&db, &dir, "baseline", &["--json", "--version", "1"]).expect(0),
        &db,
    );
    dir.write(
        "V3__three.sql",
        "CREATE TABLE three (id INTEGER);\nINSERT INTO nowhere VALUES (1);\n",
    );
    migrate(&db, &dir, "up", &["--json"]).expect(1);
    check(
        "repair",
        migrate(&db, &dir, "repair", &["--json", "--yes"]).expect(0),
        &db,
    );
    let fingerprint = holdfast(dir.path())
        .args(["migrate", "fingerprint", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .expect("run holdfast");
    check("fingerprint", Run::from(fingerprint).expect(0), &db);
}

fn guard_fixture(case_and_file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../holdfast-guard/tests/fixtures/guard")
        .join(case_and_file)
        .display()
        .to_string()
}

#[test]
fn guard_reports_match_their_snapshots() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let guard = |name: &str, args: &[String], code: i32| {
        let output = holdfast(cwd.path())
            .arg("guard")
            .args(args)
            .args(["--json", "--stage", "prod"])
            .output()
            .expect("run holdfast");
        let run = Run::from(output);
        let mut value = run.expect(code).json();
        // Fixture paths in locations and messages: relative to the fixture folder.
        let text = value.to_string().replace(&guard_fixture(""), "<fixtures>/");
        value = serde_json::from_str(&text).unwrap();
        check_value(name, value, "");
    };
    guard(
        "guard_diff",
        &[
            "diff".into(),
            guard_fixture("key-schema-change/old.yaml"),
            guard_fixture("key-schema-change/new.yaml"),
        ],
        3,
    );
    guard(
        "guard_check",
        &[
            "check".into(),
            guard_fixture("check-unprotected/template.yaml"),
        ],
        3,
    );
    guard(
        "guard_changeset",
        &[
            "changeset".into(),
            guard_fixture("changeset/changeset.json"),
        ],
        3,
    );
}

#[test]
fn env_reports_match_their_snapshots() {
    let cwd = tempfile::tempdir().expect("temp dir");
    let template = serde_json::json!({ "Resources": { "Api": {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Role": "arn:aws:iam::123456789012:role/api",
            "Environment": { "Variables": {
                "SECRET_KEY": "${env:SECRET_KEY}",
                "ORDERS_TABLE": "orders-prod",
                "PORT": "8080",
            } },
        },
    } } });
    std::fs::write(cwd.path().join("template.json"), template.to_string()).unwrap();
    std::fs::write(
        cwd.path().join("holdfast.toml"),
        "[env.keys.PORT]\ntype = \"int\"\nrequired = true\n[env.keys.LOG_LEVEL]\nrequired = true\n\
         [stages.staging]\n[stages.prod]\n",
    )
    .unwrap();
    let env = |name: &str, args: &[&str], code: i32| {
        let output = holdfast(cwd.path())
            .env("HOLDFAST_FINGERPRINT_KEY", "snapshot")
            .arg("env")
            .args(args)
            .args(["template.json", "--json"])
            .output()
            .expect("run holdfast");
        check_value(name, Run::from(output).expect(code).json(), "");
    };
    env("env_check", &["check", "--stage", "staging"], 3);
    env("env_init", &["init"], 0);

    // env verify, on a function deployed in moto: a reference that does not resolve, a
    // resolved one, and a key the schema requires.
    let moto = holdfast_testkit::moto::Moto::start();
    let aws = holdfast_testkit::deployed::Deployer::new(&moto);
    let secret = aws.secret("staging/api", r#"{"token":"t"}"#);
    aws.stack(
        "app-staging",
        &[holdfast_testkit::deployed::FunctionSpec {
            logical_id: "Api",
            name: Some("api-staging"),
            variables: &[
                ("API_SECRET_ARN", &secret),
                ("GONE_PARAM", "/app/staging/gone"),
                ("PORT", "8080"),
            ],
        }],
    );
    let output = holdfast_aws(cwd.path())
        .env("HOLDFAST_FINGERPRINT_KEY", "snapshot")
        .args([
            "env",
            "verify",
            "--stage",
            "staging",
            "--function",
            "api-staging",
        ])
        .args(["--endpoint-url", &moto.endpoint(), "--json"])
        .output()
        .expect("run holdfast");
    check_value("env_verify", Run::from(output).expect(3).json(), "");
}

#[test]
fn dynamo_reports_match_their_snapshots() {
    use dynamo_support::{client, create_table, load, runtime};
    let dynamodb = DynamoDbLocal::start();
    let endpoint = dynamodb.endpoint();
    let rt = runtime();
    rt.block_on(async {
        let c = client(&endpoint);
        for table in ["source", "target", "imported"] {
            create_table(&c, table, Some(("sk", ScalarAttributeType::N))).await;
        }
        load(&c, "source", 25).await;
    });
    let work = tempfile::tempdir().expect("temp dir");
    let dynamo = |name: &str, args: &[&str], code: i32| {
        let output = holdfast_aws(work.path())
            .arg("dynamo")
            .args(args)
            .args(["--endpoint-url", &endpoint, "--json"])
            .output()
            .expect("run holdfast");
        check_value(name, Run::from(output).expect(code).json(), "");
    };
    dynamo("dynamo_verify", &["verify", "source"], 0);
    dynamo("dynamo_copy", &["copy", "source", "target"], 0);
    dynamo("dynamo_compare", &["compare", "source", "target"], 0);
    let export = work.path().join("export");
    let export = export.to_str().unwrap();
    dynamo("dynamo_export", &["export", "source", export], 0);
    dynamo("dynamo_import", &["import", export, "imported"], 0);
    let migrations = work.path().join("data-migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("V1__count.toml"),
        "source = \"source\"\nfilter = '.visits = 1'\nsegments = 2\n",
    )
    .unwrap();
    dynamo(
        "dynamo_migrate",
        &["migrate", "--dir", migrations.to_str().unwrap()],
        0,
    );
}

#[test]
fn refresh_reports_match_their_snapshots() {
    let db = TempDatabase::new(Engine::Postgres);
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text, nickname text, born date)");
    db.execute("CREATE TABLE notes (body text)");
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("holdfast.toml"),
        "[refresh.tables.users]\nemail = \"email\"\nnickname = { keep = \"public handles\" }\nphone = \"phone\"\n",
    )
    .unwrap();
    let output = holdfast(cwd.path())
        .args(["refresh", "plan", "--json", "--source", &db.url])
        .output()
        .expect("run holdfast");
    check("refresh_plan", Run::from(output).expect(3), &db);
}

#[test]
fn refresh_copy_and_verify_reports_match_their_snapshots() {
    let source = TempDatabase::new(Engine::Postgres);
    source.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text, nickname text)");
    source.execute("INSERT INTO users VALUES (1, 'ann@corp.example', 'annie')");
    let target = TempDatabase::new(Engine::Postgres);
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(
        cwd.path().join("holdfast.toml"),
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.users]\nemail = \"email\"\nnickname = { keep = \"public handles\" }\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let output = holdfast(cwd.path())
            .env("HOLDFAST_REFRESH_KEY", "snapshot-key-0123456789")
            .args(args)
            .output()
            .expect("run holdfast");
        let mut value = Run::from(output).expect(0).json();
        for (field, db) in [("source", &source), ("target", &target)] {
            if value.get(field).is_none() {
                continue;
            }
            value[field] = Value::String(
                value[field]
                    .as_str()
                    .unwrap_or_default()
                    .replace(&db.url, &format!("<{field}>")),
            );
        }
        value
    };
    let (s, t) = (source.url.as_str(), target.url.as_str());
    check_value(
        "refresh_copy",
        run(&["refresh", "copy", "--json", "--source", s, "--target", t]),
        "",
    );
    check_value(
        "refresh_verify",
        run(&["refresh", "verify", "--json", "--source", s, "--target", t]),
        "",
    );
    // The target, once more the source's image, sanitized where it stands.
    target.execute("DROP TABLE users");
    target.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text, nickname text)");
    target.execute("INSERT INTO users VALUES (1, 'ann@corp.example', 'annie')");
    check_value(
        "refresh_sanitize",
        run(&[
            "refresh",
            "sanitize",
            "--json",
            "--in-place",
            "--database",
            t,
            "--expect-name",
            target.name(),
        ]),
        t,
    );
}
