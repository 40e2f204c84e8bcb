//! `holdfast refresh copy` and `refresh verify` on the built binary between real PostgreSQL
//! databases: a schema with a unique sanitized email that another table references (a foreign
//! key on a natural key), a domain, an enum, a partitioned table, a generated column, JSON, a
//! table without a primary key and a sequence. The copy keeps every row and relationship,
//! replaces every sanitized value deterministically (two runs, two tables), sets the sequences,
//! and proves no original remains; a planted original in a kept column and inside a JSON
//! document fails the proof (exit 3); an unclassified column stops the copy before anything is
//! written; a copy killed with SIGKILL mid-stream is dropped and made again, clean, by the same
//! command; no original appears in any output.

mod common;
mod refresh_fixture;
use common::*;
use refresh_fixture::*;
use std::path::Path;

const SCHEMA: &[&str] = &[
    "CREATE TYPE mood AS ENUM ('happy', 'sad')",
    "CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%@%')",
    "CREATE TABLE users (id bigserial PRIMARY KEY, email email_address UNIQUE NOT NULL, full_name text, phone varchar(40), mood mood, notes text, email_domain text GENERATED ALWAYS AS (split_part(email::text, '@', 2)) STORED)",
    "CREATE TABLE orders (id bigserial PRIMARY KEY, user_email text NOT NULL REFERENCES users (email), total numeric(10, 2), card text)",
    "CREATE TABLE audit (at date, payload jsonb)",
    "CREATE TABLE events (id bigint, at date NOT NULL, ip inet) PARTITION BY RANGE (at)",
    "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "INSERT INTO users (email, full_name, phone, mood, notes) VALUES ('ann.real@corp.example', 'Ann Real', '+44 7700 900123', 'happy', 'likes tea'), ('bob.real@corp.example', 'Bob Real', NULL, 'sad', NULL)",
    "INSERT INTO orders (user_email, total, card) VALUES ('ann.real@corp.example', 10.5, '4111 1111 1111 1111'), ('ann.real@corp.example', 3, NULL), ('bob.real@corp.example', 7, '5500 0000 0000 0004')",
    "INSERT INTO audit VALUES ('2024-05-01', '{\"user\": {\"email\": \"bob.real@corp.example\"}, \"action\": \"login\", \"ip\": \"203.0.113.9\"}')",
    "INSERT INTO events SELECT g, date '2024-01-01' + g, ('198.51.100.' || (g % 250))::inet FROM generate_series(1, 300) g",
];

fn source() -> TempDatabase {
    let db = TempDatabase::new(Engine::Postgres);
    for sql in SCHEMA {
        db.execute(sql);
    }
    db
}

fn copy(dir: &Path, from: &TempDatabase, to: &TempDatabase) -> Run {
    run(
        dir,
        &[
            "refresh", "copy", "--json", "--jobs", "3", "--source", &from.url, "--target", &to.url,
        ],
    )
}

#[test]
fn a_copy_keeps_rows_and_relationships_and_no_original() {
    let src = source();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holdfast.toml"), RULES).unwrap();
    let (a, b) = (
        TempDatabase::new(Engine::Postgres),
        TempDatabase::new(Engine::Postgres),
    );
    let first = copy(dir.path(), &src, &a);
    first.expect(0);
    let report = first.json();
    assert_eq!(report["summary"]["rows"], 2 + 3 + 1 + 300);
    assert_eq!(report["verify"]["hits"].as_array().unwrap().len(), 0);
    assert!(report["verify"]["originals"].as_u64().unwrap() >= 5);

    // Every row, the relationship on the sanitized natural key, the generated column, the
    // sequences, the kept and default-kept values.
    let one = |db: &TempDatabase, sql: &str| db.query_text(sql).join("|");
    assert_eq!(
        one(
            &a,
            "SELECT count(*)::text FROM orders o JOIN users u ON u.email = o.user_email"
        ),
        "3"
    );
    assert_eq!(
        one(
            &a,
            "SELECT string_agg(email_domain, ',' ORDER BY id) FROM users"
        ),
        "example.com,example.com"
    );
    assert_eq!(
        one(
            &a,
            "SELECT string_agg(coalesce(notes, 'NULL'), ',' ORDER BY id) FROM users"
        ),
        "likes tea,NULL"
    );
    assert_eq!(
        one(
            &a,
            "SELECT string_agg(mood::text, ',' ORDER BY id) FROM users"
        ),
        "happy,sad"
    );
    assert_eq!(
        one(&a, "SELECT count(*)::text FROM users WHERE phone IS NULL"),
        "1"
    );
    assert_eq!(one(&a, "SELECT count(*)::text FROM events_2024"), "300");
    assert_eq!(one(&a, "SELECT nextval('users_id_seq')::text"), "3");
    assert_eq!(one(&a, "SELECT payload->>'action' FROM audit"), "login");
    for table_col in [
        "users.email",
        "users.full_name",
        "orders.user_email",
        "orders.card",
    ] {
        let (t, c) = table_col.split_once('.').unwrap();
        let leaked = a.query_text(&format!(
            "SELECT {c}::text FROM {t} WHERE {c}::text LIKE '%real%' OR {c}::text LIKE '4111%'"
        ));
        assert!(leaked.is_empty(), "{table_col}: {leaked:?}");
    }
    assert!(one(&a, "SELECT payload::text FROM audit").contains("example.com"));
    assert_eq!(
        one(
            &a,
            "SELECT count(*)::text FROM events_2024 WHERE ip << '10.0.0.0/8'::inet"
        ),
        "300"
    );

    // Deterministic: a second copy gives the same values.
    copy(dir.path(), &src, &b).expect(0);
    let all =
        "SELECT string_agg(email || full_name || coalesce(phone, ''), ',' ORDER BY id) FROM users";
    assert_eq!(one(&a, all), one(&b, all));

    // A copy into a database that holds tables is refused, naming --target.
    let again = copy(dir.path(), &src, &a);
    again.expect(2);
    assert!(again.stderr.contains("already holds"), "{}", again.stderr);

    // The proof on its own: clean, then an original planted in a kept column and in a JSON
    // document is found, counted per column.
    let verify = |target: &TempDatabase| {
        run(
            dir.path(),
            &[
                "refresh",
                "verify",
                "--json",
                "--source",
                &src.url,
                "--target",
                &target.url,
            ],
        )
    };
    verify(&a).expect(0);
    a.execute("UPDATE users SET notes = 'forward to ann.real@corp.example' WHERE id = 1");
    a.execute(
        "UPDATE audit SET payload = jsonb_set(payload, '{note}', '\"call +44 7700 900123\"')",
    );
    let found = verify(&a);
    found.expect(3);
    let hits = found.json()["proof"]["hits"].clone();
    assert_eq!(hits.as_array().unwrap().len(), 2, "{hits}");
    let text = run(
        dir.path(),
        &[
            "refresh", "verify", "--source", &src.url, "--target", &a.url,
        ],
    );
    text.expect(3);
    assert!(
        text.stdout.contains("public.users.notes: 1 values"),
        "{}",
        text.stdout
    );
}

#[test]
fn an_unclassified_column_stops_the_copy_before_anything_is_written() {
    let src = source();
    src.execute("ALTER TABLE users ADD COLUMN nickname text");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holdfast.toml"), RULES).unwrap();
    let target = TempDatabase::new(Engine::Postgres);
    let refused = copy(dir.path(), &src, &target);
    refused.expect(3);
    assert_eq!(refused.json()["unclassified"][0]["column"], "nickname");
    assert!(user_tables(&target).is_empty(), "the target was written");

    // Without the key's variable: exit 2 naming it, nothing written.
    let run = Run::from(
        holdfast(dir.path())
            .args([
                "refresh",
                "copy",
                "--source",
                &src.url,
                "--target",
                &target.url,
            ])
            .output()
            .unwrap(),
    );
    run.expect(2);
    assert!(
        run.stderr.contains("HOLDFAST_REFRESH_KEY"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_fake_that_does_not_fit_its_column_fails_naming_it() {
    let src = TempDatabase::new(Engine::Postgres);
    src.execute("CREATE TABLE contacts (id int PRIMARY KEY, email varchar(12))");
    src.execute("INSERT INTO contacts VALUES (1, 'ann@corp.io')");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("holdfast.toml"),
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.contacts]\nemail = \"email\"\n",
    )
    .unwrap();
    let target = TempDatabase::new(Engine::Postgres);
    let failed = run(
        dir.path(),
        &[
            "refresh",
            "copy",
            "--source",
            &src.url,
            "--target",
            &target.url,
        ],
    );
    failed.expect(1);
    assert!(
        failed.stderr.contains("public.contacts.email") && failed.stderr.contains("does not fit"),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("marked unfinished") && failed.stderr.contains("starts over"),
        "{}",
        failed.stderr
    );
    assert!(!failed.all().contains("ann@corp.io"), "{}", failed.all());
    assert_eq!(failed.stderr.lines().count(), 1, "{}", failed.stderr);
}

/// A copy reads the originals before it writes a row: a fake that would re-create another
/// user's real phone number is drawn again (the number found by a first copy).
#[test]
fn a_fake_equal_to_a_real_value_is_drawn_again() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holdfast.toml"), RULES).unwrap();
    let (src, first) = (source(), TempDatabase::new(Engine::Postgres));
    copy(dir.path(), &src, &first).expect(0);
    let fake = first.query_text("SELECT phone FROM users WHERE phone IS NOT NULL");
    assert_eq!(fake.len(), 1, "{fake:?}");
    let fake = &fake[0];

    src.execute(&format!(
        "INSERT INTO users (email, full_name, phone) VALUES ('carol.real@corp.example', 'Carol Real', '{fake}')"
    ));
    let second = TempDatabase::new(Engine::Postgres);
    copy(dir.path(), &src, &second).expect(0);
    let phones = second.query_text("SELECT phone FROM users WHERE phone IS NOT NULL ORDER BY id");
    assert_eq!(phones.len(), 2, "{phones:?}");
    assert!(
        !phones.contains(fake),
        "{fake} is still in the target: {phones:?}"
    );
}

/// kill -9 while the rows stream: the target holds a copy marked unfinished; the same command
/// drops it and copies again, and the result equals an uninterrupted copy's.
#[test]
fn a_copy_killed_mid_stream_is_made_again_clean_by_the_same_command() {
    let src = source();
    src.execute("CREATE TABLE people (id int PRIMARY KEY, email text)");
    src.execute(
        "INSERT INTO people SELECT g, 'p' || g || '@corp.example' FROM generate_series(1, 100000) g",
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("holdfast.toml"),
        format!("{RULES}[refresh.tables.people]\nemail = \"email\"\n"),
    )
    .unwrap();
    let (killed, reference) = (
        TempDatabase::new(Engine::Postgres),
        TempDatabase::new(Engine::Postgres),
    );
    let streaming = format!(
        "SELECT count(*)::text FROM pg_stat_activity WHERE datname = '{}' AND query LIKE 'COPY%FROM STDIN'",
        killed.name()
    );
    kill_copy_while_writing(dir.path(), &src.url, &killed, &streaming);
    assert_eq!(
        killed.query_text("SELECT finished::text FROM holdfast_refresh.copy"),
        ["false"]
    );

    let again = copy(dir.path(), &src, &killed);
    again.expect(0);
    assert_eq!(again.json()["summary"]["restarted"], true);
    copy(dir.path(), &src, &reference).expect(0);
    let fingerprint = |db: &TempDatabase| {
        db.query_text(
            "SELECT (SELECT md5(string_agg(email, ',' ORDER BY id)) FROM people) || (SELECT md5(string_agg(email || coalesce(phone, ''), ',' ORDER BY id)) FROM users) || (SELECT count(*) FROM events)",
        )
    };
    assert_eq!(fingerprint(&killed), fingerprint(&reference));
    assert_eq!(
        killed.query_text("SELECT finished::text FROM holdfast_refresh.copy"),
        ["true"]
    );
    // A finished copy is not dropped by another run.
    let refused = copy(dir.path(), &src, &killed);
    refused.expect(2);
    assert!(
        refused.stderr.contains("finished copy"),
        "{}",
        refused.stderr
    );
    // Nor is a database whose tables no copy made.
    let theirs = TempDatabase::new(Engine::Postgres);
    theirs.execute("CREATE TABLE mine (id int)");
    theirs.execute("INSERT INTO mine VALUES (1)");
    let refused = copy(dir.path(), &src, &theirs);
    refused.expect(2);
    assert!(
        refused.stderr.contains("already holds 1 tables"),
        "{}",
        refused.stderr
    );
    assert_eq!(theirs.query_text("SELECT count(*)::text FROM mine"), ["1"]);
}
