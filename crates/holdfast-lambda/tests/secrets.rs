//! `SqlMigrate` with `DatabaseSecretArn`: the credentials come from Secrets Manager (moto
//! server), in the RDS secret shape (full, or RDS-managed with only username and password and
//! the rest from properties). The password never appears in the response or the function's log.

mod support;

use holdfast_testkit::moto::{Moto, AWS_TEST_REGION};
use holdfast_testkit::{Engine, MigrationDir, ResponseReceiver, TempDatabase};
use serde_json::json;
use std::time::Duration;
use support::{data, one_put, Function, Request};

/// The test PostgreSQL trusts 127.0.0.1, so any password logs in: this one must never show.
const PASSWORD: &str = "Sup3r-Secret-Pa55word!";

fn create_secret(moto: &Moto, name: &str, value: &serde_json::Value) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let config = aws_sdk_secretsmanager::Config::builder()
            .behavior_version(aws_sdk_secretsmanager::config::BehaviorVersion::latest())
            .region(aws_sdk_secretsmanager::config::Region::new(AWS_TEST_REGION))
            .endpoint_url(moto.endpoint())
            .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .http_client(holdfast_aws::build_http_client())
            .build();
        let client = aws_sdk_secretsmanager::Client::from_conf(config);
        client
            .create_secret()
            .name(name)
            .secret_string(value.to_string())
            .send()
            .await
            .expect("CreateSecret")
            .arn
            .expect("an ARN")
    })
}

/// Host, port and database name of a test database URL.
fn parts(url: &str) -> (String, u16, String) {
    let url = url::Url::parse(url).expect("URL");
    (
        url.host_str().expect("host").to_owned(),
        url.port().unwrap_or(5432),
        url.path().trim_start_matches('/').to_owned(),
    )
}

#[test]
fn credentials_from_an_rds_secret_never_show() {
    let moto = Moto::start();
    let db = TempDatabase::new(Engine::Postgres);
    let (host, port, dbname) = parts(&db.url);
    let full = create_secret(
        &moto,
        "app/db",
        &json!({"username": "postgres", "password": PASSWORD, "host": host, "port": port,
                "dbname": dbname, "engine": "postgres"}),
    );
    let managed = create_secret(
        &moto,
        "rds!cluster-1",
        &json!({"username": "postgres", "password": PASSWORD}),
    );
    let endpoint = moto.endpoint();
    let function = Function::start(&[("AWS_ENDPOINT_URL", endpoint.as_str())]);
    let receiver = ResponseReceiver::start();
    let dir = MigrationDir::new();
    dir.write("V1__t.sql", "CREATE TABLE t (id int);\n");
    let mut puts = 0;
    let mut create = |properties: serde_json::Value| {
        let request = Request {
            request_type: "Create",
            response_url: receiver.url("create"),
            request_id: "req-secret",
            properties,
            old_properties: None,
            physical_id: None,
        };
        function.invoke(&request.event(), Duration::from_secs(60));
        let body = one_put(&receiver, puts);
        puts += 1;
        body
    };
    let path = dir.path().display().to_string();

    let body = create(
        json!({"Operation": "SqlMigrate", "DatabaseSecretArn": full, "MigrationsPath": path}),
    );
    assert_eq!(body["Status"], "SUCCESS", "{body:?}");
    assert_eq!(data(&body, "AppliedCount"), "1");
    assert!(db.table_exists("t"));

    // RDS-managed: only username and password; the properties say where.
    let body = create(
        json!({"Operation": "SqlMigrate", "DatabaseSecretArn": managed,
        "Host": host, "Port": port.to_string(), "DatabaseName": dbname, "Engine": "aurora-postgresql",
        "MigrationsPath": path}),
    );
    assert_eq!(body["Status"], "SUCCESS", "{body:?}");
    assert_eq!(data(&body, "AppliedCount"), "0");

    // Without them: a reason naming what is missing.
    let body = create(
        json!({"Operation": "SqlMigrate", "DatabaseSecretArn": managed, "MigrationsPath": path}),
    );
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(
        reason.contains("has no `host`") && reason.contains("Host property"),
        "{reason}"
    );

    // A connection failure (wrong port) names the database, not the password.
    let body = create(
        json!({"Operation": "SqlMigrate", "DatabaseSecretArn": managed,
        "Host": "127.0.0.1", "Port": "1", "DatabaseName": dbname, "Engine": "postgres",
        "MigrationsPath": path}),
    );
    assert_eq!(body["Status"], "FAILED");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.contains("cannot connect"), "{reason}");

    // A secret that does not exist.
    let body = create(json!({"Operation": "SqlMigrate",
        "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf",
        "MigrationsPath": path}));
    assert_eq!(body["Status"], "FAILED");
    assert!(
        body["Reason"].as_str().unwrap().contains("cannot read it"),
        "{body:?}"
    );

    let log = function.log();
    for put in receiver.received() {
        let text = String::from_utf8_lossy(&put.body);
        assert!(
            !text.contains(PASSWORD) && !text.contains("Sup3r"),
            "{text}"
        );
    }
    assert!(!log.contains(PASSWORD) && !log.contains("Sup3r"), "{log}");
}
