//! The `--json` contract: snapshots of each report, with run-specific values (times, paths,
//! user) normalised. Regenerate after a deliberate change with `HOLDFAST_UPDATE_SNAPSHOTS=1`.

mod common;
use common::*;
use serde_json::Value;

fn normalise(value: &mut Value, db_url: &str) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "applied_at" | "applied_by" if !v.is_null() => {
                        *v = Value::String(format!("<{key}>"))
                    }
                    "execution_ms" if !v.is_null() => *v = Value::String("<ms>".into()),
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

fn check(name: &str, run: &Run, db: &TempDatabase) {
    let mut value = run.json();
    normalise(&mut value, &db.url);
    let actual = serde_json::to_string_pretty(&value).unwrap() + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(format!("{name}.json"));
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
