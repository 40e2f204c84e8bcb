//! `SqlMigrate` custom resources through the real `bootstrap` binary, driven by the test kit's
//! Lambda Runtime API, against the real PostgreSQL and MariaDB: the whole CloudFormation life
//! cycle (Create, Update, a repeated request, a no-op Update, a rollback Update with the old
//! properties and the old migrations, Delete), failures with the database's error in `Reason`,
//! an invocation deadline shorter than the work, and the CDK provider framework's return values.

mod support;

use holdfast_testkit::lambda::Answer;
use holdfast_testkit::{Engine, MigrationDir, ResponseReceiver, TempDatabase};
use serde_json::json;
use std::time::Duration;
use support::{data, fingerprint, one_put, returned, Function, Request};

const TIMEOUT: Duration = Duration::from_secs(60);

fn dialect(engine: Engine) -> holdfast_core::Dialect {
    match engine {
        Engine::Postgres => holdfast_core::Dialect::Postgres,
        Engine::MySql => holdfast_core::Dialect::MySql,
        Engine::Sqlite => holdfast_core::Dialect::Sqlite,
    }
}

fn v1(engine: Engine) -> &'static str {
    match engine {
        // A function body with `;` inside: split on `;` it would break.
        Engine::Postgres => {
            "CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);\n\
             CREATE FUNCTION touch() RETURNS trigger AS $$\nBEGIN\n  NEW.email := lower(NEW.email);\n  RETURN NEW;\nEND;\n$$ LANGUAGE plpgsql;\n\
             INSERT INTO customers VALUES (1, 'a@example.com');\n"
        }
        _ => {
            "CREATE TABLE customers (id int PRIMARY KEY, email varchar(200) NOT NULL);\n\
             INSERT INTO customers VALUES (1, 'a@example.com');\n"
        }
    }
}

const V2: &str = "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL);\n";

fn properties(db: &TempDatabase, dir: &MigrationDir, engine: Engine) -> serde_json::Value {
    json!({
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:holdfast-test",
        "Operation": "SqlMigrate",
        "DatabaseUrl": db.url,
        "MigrationsPath": dir.path().display().to_string(),
        "Fingerprint": fingerprint(dir.path(), dialect(engine)),
    })
}

fn history_versions(db: &TempDatabase) -> Vec<String> {
    db.query_text(
        "SELECT version FROM holdfast_schema_history WHERE version IS NOT NULL ORDER BY id",
    )
}

#[test]
fn a_stack_life_cycle_on_postgres_and_mariadb() {
    for engine in [Engine::Postgres, Engine::MySql] {
        life_cycle(engine);
    }
}

fn life_cycle(engine: Engine) {
    let db = TempDatabase::new(engine);
    let function = Function::start(&[]);
    let receiver = ResponseReceiver::start();
    let old_set = MigrationDir::new();
    old_set.write("V1__customers.sql", v1(engine));
    let new_set = MigrationDir::new();
    new_set
        .write("V1__customers.sql", v1(engine))
        .write("V2__orders.sql", V2);
    let old_props = properties(&db, &old_set, engine);
    let new_props = properties(&db, &new_set, engine);
    let mut puts = 0;
    let mut send = |request: Request<'_>| {
        function.invoke(&request.event(), TIMEOUT);
        let body = one_put(&receiver, puts);
        puts += 1;
        body
    };

    // Create.
    let created = send(Request {
        request_type: "Create",
        response_url: receiver.url("create"),
        request_id: "req-create",
        properties: old_props.clone(),
        old_properties: None,
        physical_id: None,
    });
    assert_eq!(created["Status"], "SUCCESS", "{created:?}");
    let physical = created["PhysicalResourceId"].as_str().unwrap().to_owned();
    assert_eq!(created["RequestId"], "req-create");
    assert_eq!(created["LogicalResourceId"], "Migrations");
    assert_eq!(data(&created, "AppliedCount"), "1");
    assert_eq!(data(&created, "LatestVersion"), "1");
    assert_eq!(data(&created, "FingerprintMatches"), "true");
    assert_eq!(db.query_i64("SELECT count(*) FROM customers"), vec![1]);

    // Update with a new migration; CloudFormation's retry of the same request applies nothing.
    let update = |id| Request {
        request_type: "Update",
        response_url: receiver.url("update"),
        request_id: id,
        properties: new_props.clone(),
        old_properties: Some(old_props.clone()),
        physical_id: Some(&physical),
    };
    let updated = send(update("req-update"));
    assert_eq!(updated["Status"], "SUCCESS", "{updated:?}");
    assert_eq!(updated["PhysicalResourceId"], physical.as_str());
    assert_eq!(data(&updated, "AppliedCount"), "1");
    assert_eq!(data(&updated, "AppliedVersions"), "2");
    assert_eq!(data(&updated, "LatestVersion"), "2");
    let repeated = send(update("req-update"));
    assert_eq!(repeated["Status"], "SUCCESS", "{repeated:?}");
    assert_eq!(data(&repeated, "AppliedCount"), "0");
    assert_eq!(history_versions(&db), vec!["1", "2"]);

    // An Update that changes nothing in the migrations is a no-op.
    let noop = send(Request {
        request_type: "Update",
        response_url: receiver.url("noop"),
        request_id: "req-noop",
        properties: new_props.clone(),
        old_properties: Some(new_props.clone()),
        physical_id: Some(&physical),
    });
    assert_eq!(noop["Status"], "SUCCESS");
    assert_eq!(data(&noop, "AppliedCount"), "0");
    assert_eq!(data(&noop, "DatabaseAhead"), "false");

    // Rollback: CloudFormation sends an Update with the OLD properties to the old function
    // (whose folder lacks V2). It must succeed, say the database is ahead, and undo nothing.
    let rollback = send(Request {
        request_type: "Update",
        response_url: receiver.url("rollback"),
        request_id: "req-rollback",
        properties: old_props.clone(),
        old_properties: Some(new_props.clone()),
        physical_id: Some(&physical),
    });
    assert_eq!(rollback["Status"], "SUCCESS", "{rollback:?}");
    assert_eq!(data(&rollback, "DatabaseAhead"), "true");
    assert_eq!(data(&rollback, "AppliedCount"), "0");
    assert!(
        rollback["Reason"].as_str().unwrap().contains("ahead"),
        "{rollback:?}"
    );
    assert!(db.table_exists("orders"), "a rollback never undoes");
    assert_eq!(history_versions(&db), vec!["1", "2"]);

    // Delete: nothing happens to the data; the same PhysicalResourceId comes back.
    let deleted = send(Request {
        request_type: "Delete",
        response_url: receiver.url("delete"),
        request_id: "req-delete",
        properties: new_props.clone(),
        old_properties: None,
        physical_id: Some(&physical),
    });
    assert_eq!(deleted["Status"], "SUCCESS");
    assert_eq!(deleted["PhysicalResourceId"], physical.as_str());
    assert!(db.table_exists("customers") && db.table_exists("orders"));
    assert_eq!(db.query_i64("SELECT count(*) FROM customers"), vec![1]);
    assert_eq!(history_versions(&db), vec!["1", "2"]);

    // A Delete whose properties are garbage (a resource that never worked) still succeeds.
    let garbage = send(Request {
        request_type: "Delete",
        response_url: receiver.url("delete-garbage"),
        request_id: "req-delete-2",
        properties: json!({"Operation": "Nope"}),
        old_properties: None,
        physical_id: Some("holdfast-Other"),
    });
    assert_eq!(garbage["Status"], "SUCCESS");
    assert_eq!(garbage["PhysicalResourceId"], "holdfast-Other");
}

#[test]
fn bad_sql_fails_with_the_database_error_and_never_the_statement() {
    for engine in [Engine::Postgres, Engine::MySql] {
        let db = TempDatabase::new(engine);
        let function = Function::start(&[]);
        let receiver = ResponseReceiver::start();
        let dir = MigrationDir::new();
        dir.write("V1__customers.sql", v1(engine)).write(
            "V2__bad.sql",
            "CREATE TABLE audit (id int PRIMARY KEY);\n\
             INSERT INTO no_such_table VALUES ('4111-1111-1111-1111');\n",
        );
        let request = Request {
            request_type: "Create",
            response_url: receiver.url("create"),
            request_id: "req-bad",
            properties: properties(&db, &dir, engine),
            old_properties: None,
            physical_id: None,
        };
        function.invoke(&request.event(), TIMEOUT);
        let body = one_put(&receiver, 0);
        assert_eq!(body["Status"], "FAILED", "{body:?}");
        let reason = body["Reason"].as_str().unwrap();
        assert!(
            reason.contains("V2__bad.sql: statement 2 of 2 (line 2)"),
            "{reason}"
        );
        let code = if engine == Engine::Postgres {
            "SQLSTATE 42P01"
        } else {
            "SQLSTATE 42S02"
        };
        assert!(reason.contains(code), "{reason}");
        assert!(
            reason.contains("no_such_table"),
            "the primary message: {reason}"
        );
        for leaked in ["4111-1111", "INSERT INTO", "CloudWatch", "--resume"] {
            assert!(!reason.contains(leaked), "{leaked} in {reason}");
        }
        if engine == Engine::MySql {
            // Resumable: the property, not the CLI's flag.
            assert!(
                reason.contains("deploy again with `Resume: true`"),
                "{reason}"
            );
        }
        // The history is consistent: V1 applied; V2 rolled back whole (PostgreSQL) or recorded
        // as failed at statement 2 with statement 1 applied (MariaDB: DDL commits).
        let rows = db.query_text(
            "SELECT CONCAT(version, ':', state) FROM holdfast_schema_history WHERE version IS NOT NULL ORDER BY id",
        );
        if engine == Engine::Postgres {
            assert_eq!(rows, vec!["1:applied"]);
            assert!(!db.table_exists("audit"));
        } else {
            assert_eq!(rows, vec!["1:applied", "2:failed"]);
        }

        // The stack rolls back: the old function (V1 only) with the old properties succeeds.
        let old = MigrationDir::new();
        old.write("V1__customers.sql", v1(engine));
        let rollback = Request {
            request_type: "Update",
            response_url: receiver.url("rollback"),
            request_id: "req-rollback",
            properties: properties(&db, &old, engine),
            old_properties: Some(properties(&db, &dir, engine)),
            physical_id: Some("holdfast-Migrations"),
        };
        function.invoke(&rollback.event(), TIMEOUT);
        let body = one_put(&receiver, 1);
        assert_eq!(body["Status"], "SUCCESS", "{engine:?}: {body:?}");
    }
}

#[test]
fn an_invocation_deadline_shorter_than_the_work_is_answered_in_time() {
    let db = TempDatabase::new(Engine::Postgres);
    let function = Function::start(&[]);
    let receiver = ResponseReceiver::start();
    let dir = MigrationDir::new();
    dir.write(
        "V1__slow.sql",
        "CREATE TABLE t (id int);\nSELECT pg_sleep(60);\n",
    );
    let timeout = Duration::from_secs(9);
    let request = Request {
        request_type: "Create",
        response_url: receiver.url("create"),
        request_id: "req-slow",
        properties: properties(&db, &dir, Engine::Postgres),
        old_properties: None,
        physical_id: None,
    };
    let invoked = function.invoke(&request.event(), timeout);
    assert!(
        invoked.elapsed < timeout,
        "answered after {:?}",
        invoked.elapsed
    );
    let body = one_put(&receiver, 0);
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.contains("V1__slow.sql: statement 2"), "{reason}");
    assert!(reason.contains("57014"), "the statement timeout: {reason}");
    assert!(!db.table_exists("t"), "rolled back whole");

    // The lock was released before the answer: the fixed migration runs at once.
    dir.write("V1__slow.sql", "CREATE TABLE t (id int);\n");
    let retry = Request {
        request_id: "req-fixed",
        response_url: receiver.url("fixed"),
        properties: properties(&db, &dir, Engine::Postgres),
        ..request
    };
    let invoked = function.invoke(&retry.event(), Duration::from_secs(20));
    assert!(
        invoked.elapsed < Duration::from_secs(10),
        "{:?}",
        invoked.elapsed
    );
    let body = one_put(&receiver, 1);
    assert_eq!(body["Status"], "SUCCESS", "{body:?}");
    assert!(db.table_exists("t"));
}

#[test]
fn behind_the_provider_framework_it_returns_and_raises() {
    let db = TempDatabase::new(Engine::Postgres);
    let function = Function::start(&[]);
    let dir = MigrationDir::new();
    dir.write("V1__customers.sql", v1(Engine::Postgres));
    let request = Request {
        request_type: "Create",
        response_url: "...".into(),
        request_id: "req-provider",
        properties: properties(&db, &dir, Engine::Postgres),
        old_properties: None,
        physical_id: None,
    };
    let value = returned(&function.invoke(&request.event(), TIMEOUT));
    assert_eq!(value["PhysicalResourceId"], "holdfast-Migrations");
    assert_eq!(value["Data"]["AppliedCount"], "1");

    dir.write("V2__bad.sql", "SELECT * FROM no_such_table;\n");
    let failing = Request {
        request_type: "Update",
        request_id: "req-provider-2",
        properties: properties(&db, &dir, Engine::Postgres),
        physical_id: Some("holdfast-Migrations"),
        ..request
    };
    match function.invoke(&failing.event(), TIMEOUT).answer {
        Some(Answer::Error { message, .. }) => {
            assert!(message.contains("V2__bad.sql: statement 1"), "{message}");
            assert!(message.contains("42P01"), "{message}");
        }
        other => panic!("expected an error answer, got {other:?}"),
    }
}

#[test]
fn a_response_put_that_fails_is_retried() {
    let db = TempDatabase::new(Engine::Postgres);
    let function = Function::start(&[]);
    let receiver = ResponseReceiver::start();
    receiver.answer_next_with(&[500, 503]);
    let dir = MigrationDir::new();
    dir.write("V1__customers.sql", v1(Engine::Postgres));
    let request = Request {
        request_type: "Create",
        response_url: receiver.url("create"),
        request_id: "req-retry",
        properties: properties(&db, &dir, Engine::Postgres),
        old_properties: None,
        physical_id: None,
    };
    function.invoke(&request.event(), TIMEOUT);
    let puts = receiver.wait_for(3, Duration::from_secs(10));
    assert_eq!(puts.len(), 3, "two failures, then delivered");
    assert_eq!(puts[0].body, puts[2].body, "the same response each time");
    assert_eq!(puts[2].json()["Status"], "SUCCESS");
}

#[test]
fn bad_properties_fail_the_request_naming_the_property() {
    let function = Function::start(&[]);
    let receiver = ResponseReceiver::start();
    let request = Request {
        request_type: "Create",
        response_url: receiver.url("create"),
        request_id: "req-props",
        properties: json!({"Operation": "SqlMigrate", "DatabaseUrl": "postgres://x@127.0.0.1/x", "MigrationPath": "/tmp"}),
        old_properties: None,
        physical_id: None,
    };
    function.invoke(&request.event(), TIMEOUT);
    let body = one_put(&receiver, 0);
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(
        body["Reason"],
        "property MigrationPath: is not a property of this operation"
    );
}

#[test]
fn the_data_api_form_runs_through_the_data_api() {
    use holdfast_testkit::data_api::{CLUSTER_ARN, SECRET_ARN};
    let db = TempDatabase::new(Engine::Postgres);
    let endpoint = holdfast_testkit::DataApiEndpoint::start(&holdfast_testkit::postgres_url());
    let url = endpoint.endpoint();
    let function = Function::start(&[("AWS_ENDPOINT_URL", url.as_str())]);
    let receiver = ResponseReceiver::start();
    let dir = MigrationDir::new();
    dir.write("V1__customers.sql", v1(Engine::Postgres));
    let properties = json!({
        "Operation": "SqlMigrate",
        "DataApi": {"ResourceArn": CLUSTER_ARN, "SecretArn": SECRET_ARN, "Database": db.name()},
        "MigrationsPath": dir.path().display().to_string(),
    });
    for (i, applied) in ["1", "0"].into_iter().enumerate() {
        let request = Request {
            request_type: "Create",
            response_url: receiver.url("create"),
            request_id: "req-data-api",
            properties: properties.clone(),
            old_properties: None,
            physical_id: None,
        };
        function.invoke(&request.event(), TIMEOUT);
        let body = one_put(&receiver, i);
        assert_eq!(body["Status"], "SUCCESS", "{body:?}\n{}", function.log());
        assert_eq!(data(&body, "AppliedCount"), applied);
    }
    assert_eq!(db.query_i64("SELECT count(*) FROM customers"), vec![1]);
    assert_eq!(endpoint.open_transactions(), 0, "every transaction ended");
}

/// One `holdfast.toml` configures both front ends: deployed beside the migrations, it gives the
/// function the same history table (per `Stage`) that `holdfast migrate` uses, properties win
/// over it, and a missing `ConfigPath` or an unknown `Stage` fails the request naming it.
#[test]
fn the_deployed_holdfast_toml_configures_the_function_as_it_does_the_cli() {
    let db = TempDatabase::new(Engine::Postgres);
    let project = tempfile::tempdir().unwrap();
    let migrations = project.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("V1__marker.sql"),
        "CREATE TABLE IF NOT EXISTS marker (id int);\n",
    )
    .unwrap();
    std::fs::write(
        project.path().join("holdfast.toml"),
        "[migrate]\ndir = \"migrations\"\nhistory_table = \"app_history\"\n\n\
         [stages.prod.migrate]\nhistory_table = \"prod_history\"\nlock_wait = \"20s\"\n",
    )
    .unwrap();
    let function = Function::start(&[]);
    let receiver = ResponseReceiver::start();
    let mut puts = 0;
    let mut create = |id: &str, extra: serde_json::Value| {
        let mut properties = json!({
            "Operation": "SqlMigrate",
            "DatabaseUrl": db.url,
            "MigrationsPath": migrations.display().to_string(),
        });
        for (k, v) in extra.as_object().unwrap() {
            properties[k] = v.clone();
        }
        let request = Request {
            request_type: "Create",
            response_url: receiver.url(id),
            request_id: id,
            properties,
            old_properties: None,
            physical_id: None,
        };
        function.invoke(&request.event(), TIMEOUT);
        let body = one_put(&receiver, puts);
        puts += 1;
        body
    };
    let count = |table: &str| {
        db.query_i64(&format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = '{table}'"
        ))[0]
    };

    let staged = create("req-prod", json!({"Stage": "prod"}));
    assert_eq!(staged["Status"], "SUCCESS", "{staged:?}");
    assert_eq!(data(&staged, "AppliedCount"), "1");
    assert_eq!(
        (count("prod_history"), count("holdfast_schema_history")),
        (1, 0)
    );

    // No Stage: the top-level section, another history table (V1 is applied into it too).
    let top = create("req-top", json!({}));
    assert_eq!(top["Status"], "SUCCESS", "{top:?}");
    assert_eq!(count("app_history"), 1);
    // A property wins over the file.
    let own = create(
        "req-own",
        json!({"HistoryTable": "own_history", "Stage": "prod"}),
    );
    assert_eq!(own["Status"], "SUCCESS", "{own:?}");
    assert_eq!(count("own_history"), 1);

    let unknown = create("req-stage", json!({"Stage": "qa"}));
    assert_eq!(unknown["Status"], "FAILED");
    let reason = unknown["Reason"].as_str().unwrap();
    assert!(
        reason.contains("Stage") && reason.contains("`qa` is not defined"),
        "{reason}"
    );
    let missing = create(
        "req-config",
        json!({"ConfigPath": project.path().join("nope.toml").display().to_string()}),
    );
    assert_eq!(missing["Status"], "FAILED");
    assert!(
        missing["Reason"]
            .as_str()
            .unwrap()
            .starts_with("ConfigPath: "),
        "{missing:?}"
    );
}
