//! `holdfast refresh plan` on the built binary against real PostgreSQL and MariaDB databases:
//! a schema with an enum, a domain over text, a partitioned table, a generated column, JSON, a
//! table without a primary key and a foreign key on a natural key; every column classified
//! (exit 0); a new unclassified column failing the plan (exit 3) with a suggestion drawn from
//! its values, which never appear in the output; a rule for a dropped column named; bad
//! rules (exit 2, one line naming the table and column).

mod common;
use common::*;
use std::path::Path;

/// The values planted in the source: none may appear in any output.
const PLANTED: &[&str] = &[
    "ann.real@corp.example",
    "+44 7700 900123",
    "4242 4242 4242 4242",
];

fn plan(dir: &Path, db: &TempDatabase, json: bool) -> Run {
    let mut cmd = holdfast(dir);
    cmd.args(["refresh", "plan", "--source", &db.url]);
    if json {
        cmd.arg("--json");
    }
    let run = Run::from(cmd.output().expect("run holdfast"));
    for value in PLANTED {
        assert!(
            !run.all().contains(value),
            "a value was printed:\n{}",
            run.all()
        );
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

fn write_rules(dir: &Path, text: &str) {
    std::fs::write(dir.join("holdfast.toml"), text).expect("write holdfast.toml");
}

const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TYPE mood AS ENUM ('happy', 'sad')",
    "CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%@%')",
    "CREATE TABLE users (id bigserial PRIMARY KEY, email email_address UNIQUE NOT NULL, full_name text, phone varchar(40), mood mood, born date, notes text, email_domain text GENERATED ALWAYS AS (split_part(email::text, '@', 2)) STORED)",
    "CREATE TABLE orders (id bigserial PRIMARY KEY, user_email text REFERENCES users (email), total numeric(10, 2), placed_at timestamptz)",
    "CREATE TABLE audit (at timestamptz, payload jsonb)",
    "CREATE TABLE events (id bigint, at date NOT NULL, ip inet, tags text[]) PARTITION BY RANGE (at)",
    "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "INSERT INTO users (email, full_name, phone, mood, notes) VALUES ('ann.real@corp.example', 'Ann Real', '+44 7700 900123', 'happy', 'likes tea')",
    "INSERT INTO audit VALUES (now(), '{\"card\": \"4242 4242 4242 4242\"}')",
];

const POSTGRES_RULES: &str = r#"
[refresh]
key = { env = "HOLDFAST_REFRESH_KEY" }
[refresh.tables.users]
email = "email"
full_name = "full_name"
phone = { transform = "phone", country = "GB" }
notes = { keep = "reviewed: preferences only" }
[refresh.tables.orders]
user_email = "email"
[refresh.tables.audit]
payload = { transform = "json", paths = { "$.card" = "card", "$..email" = "email" } }
[refresh.tables.events]
ip = "ip"
tags = { keep = "product tags from a fixed list" }
"#;

#[test]
fn postgres_every_column_classified_then_a_new_one_fails_the_plan() {
    let db = TempDatabase::new(Engine::Postgres);
    for sql in POSTGRES_SCHEMA {
        db.execute(sql);
    }
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path(), POSTGRES_RULES);

    let run = plan(dir.path(), &db, true);
    run.expect(0);
    let report = run.json();
    assert_eq!(report["command"], "refresh plan");
    assert_eq!(report["summary"]["unclassified"], 0);
    let class = |table: &str, column: &str| -> String {
        report["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["table"] == table && c["column"] == column)
            .unwrap_or_else(|| panic!("{table}.{column} not in the plan"))["class"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(class("public.users", "email"), "sanitize"); // a domain over text
    assert_eq!(class("public.users", "mood"), "default_keep"); // an enum
    assert_eq!(class("public.users", "notes"), "keep");
    assert_eq!(class("public.users", "email_domain"), "generated");
    assert_eq!(class("public.events_2024", "ip"), "sanitize"); // the partitioned table's rule
    assert_eq!(class("public.events_2024", "tags"), "keep");
    assert_eq!(class("public.audit", "at"), "default_keep");

    // A column added since the rules were written: unclassified, with a suggestion from its
    // values (its name says nothing), and nothing else changes.
    db.execute("ALTER TABLE audit ADD COLUMN contact text");
    db.execute("INSERT INTO audit (contact) VALUES ('ann.real@corp.example')");
    let run = plan(dir.path(), &db, false);
    run.expect(3);
    assert!(run.stdout.contains("UNCLASSIFIED"), "{}", run.stdout);
    assert!(
        run.stdout.contains("public.audit.contact") && run.stdout.contains("suggested: email"),
        "{}",
        run.stdout
    );
    let json = plan(dir.path(), &db, true);
    json.expect(3);
    assert_eq!(json.json()["summary"]["unclassified"], 1);

    // A rule for a column that is gone is named.
    db.execute("ALTER TABLE audit DROP COLUMN contact");
    db.execute("ALTER TABLE users DROP COLUMN notes");
    let run = plan(dir.path(), &db, false);
    run.expect(3);
    assert!(run.stdout.contains("users.notes"), "{}", run.stdout);
}

#[test]
fn mariadb_columns_are_classified_by_their_types() {
    let db = TempDatabase::new(Engine::MySql);
    for sql in [
        "CREATE TABLE customers (id INT PRIMARY KEY AUTO_INCREMENT, email VARCHAR(200) UNIQUE, status ENUM('a', 'b'), profile JSON, avatar BLOB, score INT, created DATETIME, email_lower VARCHAR(200) AS (LOWER(email)) VIRTUAL)",
        "CREATE TABLE log_lines (line TEXT)",
        "INSERT INTO customers (email) VALUES ('ann.real@corp.example')",
        "INSERT INTO log_lines VALUES ('call +44 7700 900123 about the order')",
    ] {
        db.execute(sql);
    }
    let dir = tempfile::tempdir().unwrap();
    write_rules(
        dir.path(),
        "[refresh.tables.customers]\nemail = \"email\"\nprofile = { transform = \"json\", paths = { \"$.name\" = \"full_name\" } }\navatar = \"null\"\n",
    );
    let run = plan(dir.path(), &db, true);
    run.expect(3);
    let report = run.json();
    assert_eq!(report["engine"], "mysql");
    let columns = report["columns"].as_array().unwrap();
    let find = |t: &str, c: &str| {
        columns
            .iter()
            .find(|x| x["table"].as_str().unwrap().ends_with(t) && x["column"] == c)
            .unwrap()
            .clone()
    };
    assert_eq!(find(".customers", "status")["class"], "default_keep");
    assert_eq!(find(".customers", "email_lower")["class"], "generated");
    assert_eq!(find(".customers", "avatar")["class"], "sanitize");
    let line = find(".log_lines", "line");
    assert_eq!(line["class"], "unclassified");
    assert_eq!(line["suggestion"], "text");
    assert_eq!(report["summary"]["unclassified"], 1);
}

#[test]
fn bad_rules_and_urls_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for (rules, expected) in [
        (
            "[refresh.tables.users]\nphone = { transform = \"phone\", country = \"ZZ\" }\n",
            "[refresh].tables.users phone: unknown country `ZZ`",
        ),
        (
            "[refresh.tables.users]\nemail = \"emial\"\n",
            "users email: unknown transform `emial`",
        ),
        ("[refresh]\nkye = 1\n", "unknown field `kye`"),
    ] {
        write_rules(dir.path(), rules);
        let run = Run::from(
            holdfast(dir.path())
                .args(["refresh", "plan", "--source", "postgres://127.0.0.1/none"])
                .output()
                .unwrap(),
        );
        run.expect(2);
        assert!(run.stderr.contains(expected), "{}", run.stderr);
        assert!(run.stderr.contains("holdfast.toml"), "{}", run.stderr);
    }
    std::fs::remove_file(dir.path().join("holdfast.toml")).unwrap();
    let run = Run::from(
        holdfast(dir.path())
            .args(["refresh", "plan", "--source", "sqlite://x.db"])
            .output()
            .unwrap(),
    );
    run.expect(2);
    assert!(run.stderr.contains("--source"), "{}", run.stderr);
    let run = Run::from(
        holdfast(dir.path())
            .args([
                "refresh",
                "plan",
                "--source",
                "postgres://u:hunter2secret@127.0.0.1:1/x",
            ])
            .output()
            .unwrap(),
    );
    run.expect(1);
    assert!(!run.all().contains("hunter2secret"), "{}", run.all());
}
