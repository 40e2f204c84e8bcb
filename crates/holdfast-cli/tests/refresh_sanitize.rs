//! `holdfast refresh sanitize --in-place` on the built binary against real PostgreSQL and
//! MariaDB databases: the same rows as `refresh copy` gives (so each value is rewritten
//! exactly once, in batches, with foreign keys on a sanitized natural key, a table without a
//! primary key, a partition and a unique email), the leak proof at the end and later from the
//! originals file, the refusals (no --in-place, the wrong --expect-name, the production
//! database, an unclassified column, another session writing) with nothing changed, and kill -9
//! part-way then a resume that finishes with the same result as an uninterrupted run. No
//! original appears in any output.

mod common;
mod refresh_fixture;
use common::*;
use refresh_fixture::*;
use std::path::Path;
use std::time::{Duration, Instant};

const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TYPE mood AS ENUM ('happy', 'sad')",
    "CREATE DOMAIN email_address AS text CHECK (VALUE LIKE '%@%')",
    "CREATE TABLE users (id bigserial PRIMARY KEY, email email_address UNIQUE NOT NULL, full_name text, phone varchar(40), mood mood, notes text, email_domain text GENERATED ALWAYS AS (split_part(email::text, '@', 2)) STORED)",
    "CREATE TABLE orders (id bigserial PRIMARY KEY, user_email text NOT NULL REFERENCES users (email), total numeric(10, 2), card text)",
    "CREATE TABLE audit (at date, payload jsonb)",
    "CREATE TABLE events (id bigint, at date NOT NULL, ip inet) PARTITION BY RANGE (at)",
    "CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')",
    "CREATE FUNCTION forbid() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'user triggers must not fire'; END $$",
    "CREATE TRIGGER no_updates BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION forbid()",
    "INSERT INTO users (email, full_name, phone, mood, notes) VALUES ('ann.real@corp.example', 'Ann Real', '+44 7700 900123', 'happy', 'likes tea'), ('bob.real@corp.example', 'Bob Real', NULL, 'sad', NULL)",
    "INSERT INTO users (email, full_name, mood) SELECT 'user' || g || '@corp.example', 'User ' || g, 'happy' FROM generate_series(1, 40) g",
    "INSERT INTO orders (user_email, total, card) VALUES ('ann.real@corp.example', 10.5, '4111 1111 1111 1111'), ('ann.real@corp.example', 3, NULL), ('bob.real@corp.example', 7, '5500 0000 0000 0004')",
    "INSERT INTO audit VALUES ('2024-05-01', '{\"user\": {\"email\": \"bob.real@corp.example\"}, \"action\": \"login\", \"ip\": \"203.0.113.9\"}')",
    "INSERT INTO events SELECT g, date '2024-01-01' + g, ('198.51.100.' || (g % 250))::inet FROM generate_series(1, 300) g",
];

const MYSQL_SCHEMA: &[&str] = &[
    "CREATE TABLE users (id bigint AUTO_INCREMENT PRIMARY KEY, email varchar(200) NOT NULL UNIQUE, full_name varchar(200), phone varchar(40), mood enum('happy', 'sad'), notes varchar(200))",
    "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, user_email varchar(200) NOT NULL, total decimal(10, 2), card varchar(40), FOREIGN KEY (user_email) REFERENCES users (email))",
    "CREATE TABLE audit (at date, payload json)",
    "CREATE TABLE events (id bigint PRIMARY KEY, at date NOT NULL, ip varchar(45))",
    "INSERT INTO users (email, full_name, phone, mood, notes) VALUES ('ann.real@corp.example', 'Ann Real', '+44 7700 900123', 'happy', 'likes tea'), ('bob.real@corp.example', 'Bob Real', NULL, 'sad', NULL)",
    "INSERT INTO users (email, full_name, mood) SELECT CONCAT('user', seq, '@corp.example'), CONCAT('User ', seq), 'happy' FROM seq_1_to_40",
    "INSERT INTO orders (user_email, total, card) VALUES ('ann.real@corp.example', 10.5, '4111 1111 1111 1111'), ('ann.real@corp.example', 3, NULL), ('bob.real@corp.example', 7, '5500 0000 0000 0004')",
    "INSERT INTO audit VALUES ('2024-05-01', '{\"user\": {\"email\": \"bob.real@corp.example\"}, \"action\": \"login\", \"ip\": \"203.0.113.9\"}')",
    "INSERT INTO events SELECT seq, DATE '2024-01-01' + INTERVAL seq DAY, CONCAT('198.51.100.', seq % 250) FROM seq_1_to_300",
];

fn database(engine: Engine) -> TempDatabase {
    let db = TempDatabase::new(engine);
    let schema = match engine {
        Engine::MySql => MYSQL_SCHEMA,
        _ => POSTGRES_SCHEMA,
    };
    for sql in schema {
        db.execute(sql);
    }
    db
}

fn rules_dir(rules: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("holdfast.toml"), rules).unwrap();
    dir
}

fn sanitize(dir: &Path, db: &TempDatabase, extra: &[&str]) -> Run {
    let mut args = vec![
        "refresh",
        "sanitize",
        "--json",
        "--in-place",
        "--database",
        &db.url,
        "--expect-name",
        db.name(),
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

/// Every value a sanitize or copy writes, in a stable order.
fn fingerprint(db: &TempDatabase) -> String {
    [
        "SELECT email, full_name, coalesce(phone, '-'), coalesce(notes, '-') FROM users ORDER BY id",
        "SELECT user_email, coalesce(card, '-') FROM orders ORDER BY id",
        "SELECT concat(ip, '') FROM events ORDER BY id",
    ]
    .iter()
    .map(|sql| db.query_text(sql).join(","))
    .collect::<Vec<_>>()
    .join("\n")
}

fn leaked(db: &TempDatabase) -> Vec<String> {
    db.query_text(
        "SELECT email FROM users WHERE email LIKE '%corp.example' UNION ALL SELECT user_email FROM orders WHERE user_email LIKE '%real%' UNION ALL SELECT card FROM orders WHERE card LIKE '4111%'",
    )
}

#[test]
fn postgres_sanitize_in_batches_equals_the_copy_and_proves_it() {
    let (db, original) = (database(Engine::Postgres), database(Engine::Postgres));
    let dir = rules_dir(RULES);
    let originals = dir.path().join("originals.bin");
    let done = sanitize(
        dir.path(),
        &db,
        &[
            "--batch-rows",
            "7",
            "--originals-file",
            originals.to_str().unwrap(),
        ],
    );
    done.expect(0);
    let report = done.json();
    assert_eq!(report["summary"]["rows"], 42 + 3 + 1 + 300, "{report}");
    assert_eq!(report["verify"]["hits"].as_array().unwrap().len(), 0);
    assert!(leaked(&db).is_empty(), "{:?}", leaked(&db));
    // The relationship on the sanitized natural key, the generated column, the partition.
    assert_eq!(
        db.query_text("SELECT count(*)::text FROM orders o JOIN users u ON u.email = o.user_email"),
        ["3"]
    );
    assert_eq!(
        db.query_text("SELECT DISTINCT email_domain FROM users"),
        ["example.com"]
    );
    assert_eq!(
        db.query_text("SELECT payload->>'action' FROM audit"),
        ["login"]
    );
    // Only the run record stays; the originals' hashes are gone from the database.
    assert_eq!(
        db.query_text("SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'holdfast_refresh'"),
        ["run"]
    );

    // Every value rewritten exactly once: the same as a copy of the original gives.
    let copied = TempDatabase::new(Engine::Postgres);
    run(
        dir.path(),
        &[
            "refresh",
            "copy",
            "--source",
            &original.url,
            "--target",
            &copied.url,
        ],
    )
    .expect(0);
    assert_eq!(fingerprint(&db), fingerprint(&copied));

    // Repeating the command changes nothing.
    let again = sanitize(dir.path(), &db, &[]);
    again.expect(0);
    assert_eq!(again.json()["summary"]["finished_before"], true);
    assert_eq!(fingerprint(&db), fingerprint(&copied));

    // The proof later, from the originals file: clean, then a planted original is found.
    let verify = |target: &TempDatabase| {
        run(
            dir.path(),
            &[
                "refresh",
                "verify",
                "--json",
                "--originals",
                originals.to_str().unwrap(),
                "--target",
                &target.url,
            ],
        )
    };
    verify(&db).expect(0);
    db.execute("ALTER TABLE users DISABLE TRIGGER no_updates");
    db.execute("UPDATE users SET notes = 'mail ann.real@corp.example' WHERE id = 2");
    let found = verify(&db);
    found.expect(3);
    assert_eq!(found.json()["proof"]["hits"][0]["column"], "notes");
}

#[test]
fn mariadb_sanitize_equals_the_postgres_fakes_and_handles_a_table_without_a_key() {
    let db = database(Engine::MySql);
    let dir = rules_dir(RULES);
    let done = sanitize(dir.path(), &db, &["--batch-rows", "5"]);
    done.expect(0);
    let report = done.json();
    assert_eq!(report["summary"]["rows"], 42 + 3 + 1 + 300, "{report}");
    assert_eq!(report["verify"]["hits"].as_array().unwrap().len(), 0);
    assert!(leaked(&db).is_empty(), "{:?}", leaked(&db));
    assert_eq!(
        db.query_text(
            "SELECT CAST(count(*) AS CHAR) FROM orders o JOIN users u ON u.email = o.user_email"
        ),
        ["3"]
    );
    assert_eq!(
        db.query_text(
            "SELECT CAST(JSON_UNQUOTE(JSON_EXTRACT(payload, '$.action')) AS CHAR(20)) FROM audit"
        ),
        ["login"]
    );
    // The walking column of the table without a key is gone.
    assert_eq!(
        db.query_text("SELECT CAST(count(*) AS CHAR) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME = 'holdfast_refresh_rowid'"),
        ["0"]
    );
    // The same fakes as the PostgreSQL rewrite of the same originals.
    let pg = database(Engine::Postgres);
    sanitize(dir.path(), &pg, &[]).expect(0);
    let emails = "SELECT email FROM users ORDER BY id";
    assert_eq!(db.query_text(emails), pg.query_text(emails));
}

/// `refresh copy` between MariaDB databases gives the rows the in-place rewrite gives, moves
/// the schema (a view, and a trigger created only after the rows, so it fires for none), and a
/// target marked unfinished is dropped and copied again.
#[test]
fn mariadb_copy_equals_the_in_place_sanitize_and_adds_triggers_after_the_rows() {
    let src = database(Engine::MySql);
    src.execute(
        "CREATE TRIGGER bump BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = NEW.total + 1000",
    );
    src.execute("CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 5");
    let target = TempDatabase::new(Engine::MySql);
    let dir = rules_dir(RULES);
    let copy = |to: &TempDatabase| {
        run(
            dir.path(),
            &[
                "refresh", "copy", "--json", "--jobs", "2", "--source", &src.url, "--target",
                &to.url,
            ],
        )
    };
    let done = copy(&target);
    done.expect(0);
    let report = done.json();
    assert_eq!(report["summary"]["rows"], 42 + 3 + 1 + 300, "{report}");
    assert_eq!(report["verify"]["hits"].as_array().unwrap().len(), 0);
    assert!(leaked(&target).is_empty(), "{:?}", leaked(&target));

    let in_place = database(Engine::MySql);
    sanitize(dir.path(), &in_place, &[]).expect(0);
    assert_eq!(fingerprint(&target), fingerprint(&in_place));
    let totals = "SELECT CAST(total AS CHAR) FROM orders ORDER BY id";
    assert_eq!(target.query_text(totals), src.query_text(totals));
    assert_eq!(
        target.query_text("SELECT CAST(TRIGGER_NAME AS CHAR) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()"),
        ["bump"]
    );
    assert_eq!(
        target.query_text("SELECT CAST(count(*) AS CHAR) FROM big_orders"),
        ["2"]
    );

    // A copy that did not finish (as a kill leaves it) is dropped and made again.
    target.execute("UPDATE holdfast_refresh_copy SET finished = false");
    target.execute("DELETE FROM events WHERE id > 10");
    let again = copy(&target);
    again.expect(0);
    assert_eq!(again.json()["summary"]["restarted"], true);
    assert_eq!(fingerprint(&target), fingerprint(&in_place));
    let refused = copy(&target);
    refused.expect(2);
    assert!(
        refused.stderr.contains("finished copy"),
        "{}",
        refused.stderr
    );
}

/// kill -9 while a MariaDB copy writes rows: the same command drops the unfinished copy and
/// makes it again, equal to an uninterrupted one.
#[test]
fn mariadb_copy_killed_mid_stream_is_made_again_by_the_same_command() {
    let src = TempDatabase::new(Engine::MySql);
    src.execute("CREATE TABLE people (id int PRIMARY KEY, email varchar(200), note varchar(20))");
    src.execute(
        "INSERT INTO people SELECT seq, CONCAT('p', seq, '@corp.example'), 'n' FROM seq_1_to_150000",
    );
    let dir = rules_dir(
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.people]\nemail = \"email\"\nnote = { keep = \"constant\" }\n",
    );
    let (killed, reference) = (
        TempDatabase::new(Engine::MySql),
        TempDatabase::new(Engine::MySql),
    );
    let inserting = format!(
        "SELECT CAST(count(*) AS CHAR) FROM information_schema.PROCESSLIST WHERE DB = '{}' AND INFO LIKE 'INSERT INTO%'",
        killed.name()
    );
    kill_copy_while_writing(dir.path(), &src.url, &killed, &inserting);
    assert_eq!(
        killed.query_text("SELECT CAST(finished AS CHAR) FROM holdfast_refresh_copy"),
        ["0"]
    );
    let copy = |to: &TempDatabase| {
        run(
            dir.path(),
            &[
                "refresh", "copy", "--json", "--source", &src.url, "--target", &to.url,
            ],
        )
    };
    let again = copy(&killed);
    again.expect(0);
    assert_eq!(again.json()["summary"]["restarted"], true);
    copy(&reference).expect(0);
    let all = "SELECT CAST(CONCAT(count(*), ':', SUM(CRC32(CONCAT(id, ':', email)))) AS CHAR) FROM people";
    assert_eq!(killed.query_text(all), reference.query_text(all));
}

#[test]
fn refusals_change_nothing() {
    let db = database(Engine::Postgres);
    let before = fingerprint(&db);
    let dir = rules_dir(RULES);

    let no_flag = run(
        dir.path(),
        &[
            "refresh",
            "sanitize",
            "--database",
            &db.url,
            "--expect-name",
            db.name(),
        ],
    );
    no_flag.expect(2);
    assert!(no_flag.stderr.contains("--in-place"), "{}", no_flag.stderr);

    let wrong = run(
        dir.path(),
        &[
            "refresh",
            "sanitize",
            "--in-place",
            "--database",
            &db.url,
            "--expect-name",
            "staging",
        ],
    );
    wrong.expect(2);
    assert!(
        wrong.stderr.contains("`staging`") && wrong.stderr.contains(db.name()),
        "{}",
        wrong.stderr
    );

    let production = rules_dir(&format!(
        "{RULES}\n[refresh.production]\nurl = \"{}\"\n",
        db.url
    ));
    let refused = sanitize(production.path(), &db, &[]);
    refused.expect(2);
    assert!(refused.stderr.contains("production"), "{}", refused.stderr);

    let unclassified = rules_dir(&RULES.replace("card = \"card\"\n", ""));
    let stopped = sanitize(unclassified.path(), &db, &[]);
    stopped.expect(3);
    assert_eq!(stopped.json()["unclassified"][0]["column"], "card");

    // Another session holding a write in an open transaction.
    let mut writer = std::process::Command::new("psql")
        .args([
            db.url.as_str(),
            "-c",
            "BEGIN; UPDATE events SET at = at WHERE id = 1; SELECT pg_sleep(60);",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("psql");
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.query_text("SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL") != ["1"] {
        assert!(Instant::now() < deadline, "the writer never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    let busy = sanitize(dir.path(), &db, &[]);
    let _ = writer.kill();
    let _ = writer.wait();
    busy.expect(5);
    assert!(
        busy.stderr.contains("writes in progress"),
        "{}",
        busy.stderr
    );

    assert_eq!(fingerprint(&db), before, "a refusal changed the database");
    assert_eq!(
        db.query_text("SELECT (to_regnamespace('holdfast_refresh') IS NULL)::text"),
        ["true"],
        "a refusal left refresh state behind"
    );
}

/// MySQL cannot switch triggers off for a session: an `UPDATE` trigger on any table to
/// rewrite refuses the run before any table changes (not when that table's turn comes).
#[test]
fn mariadb_an_update_trigger_is_refused_before_any_table_changes() {
    let db = database(Engine::MySql);
    db.execute(
        "CREATE TRIGGER orders_audit BEFORE UPDATE ON orders FOR EACH ROW SET NEW.total = NEW.total",
    );
    let before = fingerprint(&db);
    let dir = rules_dir(RULES);
    let refused = sanitize(dir.path(), &db, &["--jobs", "4"]);
    refused.expect(2);
    assert!(
        refused.stderr.contains("orders_audit on orders")
            && refused.stderr.contains("nothing was changed"),
        "{}",
        refused.stderr
    );
    assert_eq!(fingerprint(&db), before, "a refusal changed the database");
    assert_eq!(
        db.query_text(
            "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'holdfast\\_refresh\\_%'"
        ),
        ["0"],
        "a refusal left refresh state behind"
    );
}

#[test]
fn a_unique_collision_names_the_column_and_a_fixed_rule_starts_over() {
    let db = TempDatabase::new(Engine::Postgres);
    db.execute("CREATE TABLE accounts (id int PRIMARY KEY, login text UNIQUE)");
    db.execute("INSERT INTO accounts VALUES (1, 'ann'), (2, 'bob')");
    let dir = rules_dir(
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.accounts]\nlogin = { transform = \"constant\", value = \"x\" }\n",
    );
    let failed = sanitize(dir.path(), &db, &[]);
    failed.expect(2);
    assert!(
        failed.stderr.contains("public.accounts.login")
            && failed.stderr.contains("nothing was changed"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        db.query_text("SELECT login FROM accounts ORDER BY id"),
        ["ann", "bob"]
    );
    assert_eq!(
        db.query_text("SELECT (to_regnamespace('holdfast_refresh') IS NULL)::text"),
        ["true"],
        "the check before the run left refresh state behind"
    );
    let fixed = rules_dir(
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.accounts]\nlogin = \"hash\"\n",
    );
    sanitize(fixed.path(), &db, &[]).expect(0);
    let logins = db.query_text("SELECT login FROM accounts ORDER BY id");
    assert!(!logins.contains(&"ann".to_string()), "{logins:?}");
}

/// A unique key over several columns is the database's to check, when the rows are written:
/// the constraint is named and the batch rolled back.
#[test]
fn a_collision_under_a_unique_key_of_several_columns_names_the_constraint() {
    let db = TempDatabase::new(Engine::Postgres);
    db.execute(
        "CREATE TABLE members (id int PRIMARY KEY, team int, handle text, UNIQUE (team, handle))",
    );
    db.execute("INSERT INTO members VALUES (1, 7, 'ann'), (2, 7, 'bob')");
    let dir = rules_dir(
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.members]\nhandle = { transform = \"constant\", value = \"x\" }\n",
    );
    let failed = sanitize(dir.path(), &db, &[]);
    failed.expect(2);
    assert!(
        failed.stderr.contains("members_team_handle_key"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        db.query_text("SELECT handle FROM members ORDER BY id"),
        ["ann", "bob"]
    );
}

/// Ann's fake phone, found by sanitizing one database, is made another user's real phone in a
/// second: there the fake would re-create a real number, so it is drawn again, and the leak
/// proof passes with that number nowhere in the target.
fn a_fake_equal_to_a_real_value_is_drawn_again(engine: Engine) {
    let dir = rules_dir(RULES);
    let first = database(engine);
    sanitize(dir.path(), &first, &[]).expect(0);
    let fake = first.query_text("SELECT phone FROM users WHERE phone IS NOT NULL");
    assert_eq!(fake.len(), 1, "{fake:?}");
    let fake = &fake[0];

    let db = database(engine);
    db.execute(&format!(
        "INSERT INTO users (email, full_name, phone) VALUES ('carol.real@corp.example', 'Carol Real', '{fake}')"
    ));
    let run = sanitize(dir.path(), &db, &[]);
    run.expect(0);
    assert!(!run.all().contains(fake.as_str()), "{}", run.all());
    let phones = db.query_text("SELECT phone FROM users WHERE phone IS NOT NULL ORDER BY id");
    assert_eq!(phones.len(), 2, "{phones:?}");
    assert!(
        !phones.contains(fake),
        "{fake} is still in the target: {phones:?}"
    );
}

#[test]
fn postgres_a_fake_equal_to_a_real_value_is_drawn_again() {
    a_fake_equal_to_a_real_value_is_drawn_again(Engine::Postgres);
}

#[test]
fn mariadb_a_fake_equal_to_a_real_value_is_drawn_again() {
    a_fake_equal_to_a_real_value_is_drawn_again(Engine::MySql);
}

/// Kills the run once its checkpoint shows progress, then resumes: the result equals an
/// uninterrupted run's.
fn kill_then_resume(engine: Engine) {
    let rows = 60_000;
    let (create, fill, exists, progress, count) = match engine {
        Engine::MySql => (
            "CREATE TABLE people (id int PRIMARY KEY, email varchar(200), note varchar(20))",
            format!("INSERT INTO people SELECT seq, CONCAT('p', seq, '@corp.example'), 'n' FROM seq_1_to_{rows}"),
            "SELECT CAST(count(*) AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'holdfast_refresh_tables'",
            "SELECT CAST(COALESCE(SUM(`rows`), 0) AS CHAR) FROM holdfast_refresh_tables",
            "SELECT CAST(count(*) AS CHAR) FROM people WHERE email NOT LIKE '%corp.example'",
        ),
        _ => (
            "CREATE TABLE people (id int PRIMARY KEY, email text, note text)",
            format!("INSERT INTO people SELECT g, 'p' || g || '@corp.example', 'n' FROM generate_series(1, {rows}) g"),
            "SELECT (to_regclass('holdfast_refresh.tables') IS NOT NULL)::int::text",
            "SELECT coalesce(sum(rows), 0)::text FROM holdfast_refresh.tables",
            "SELECT count(*)::text FROM people WHERE email NOT LIKE '%corp.example'",
        ),
    };
    let (db, reference) = (TempDatabase::new(engine), TempDatabase::new(engine));
    for d in [&db, &reference] {
        d.execute(create);
        d.execute(&fill);
    }
    let dir = rules_dir(
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.people]\nemail = \"email\"\nnote = { keep = \"constant\" }\n",
    );
    let mut child = holdfast(dir.path())
        .env("HOLDFAST_REFRESH_KEY", KEY)
        .args([
            "refresh",
            "sanitize",
            "--in-place",
            "--database",
            &db.url,
            "--expect-name",
            db.name(),
            "--batch-rows",
            "500",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: i64 = if db.query_text(exists) == ["1"] {
            db.query_text(progress)
                .first()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        } else {
            0
        };
        if done >= 2_000 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "no progress recorded");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let sanitized = db.query_text(count);
    let partial: i64 = sanitized[0].parse().unwrap();
    assert!(
        partial > 0 && partial < rows,
        "{partial} of {rows} rewritten before the kill"
    );

    let resumed = sanitize(dir.path(), &db, &["--batch-rows", "500"]);
    resumed.expect(0);
    assert_eq!(resumed.json()["summary"]["resumed"], true);
    sanitize(dir.path(), &reference, &[]).expect(0);
    let all = "SELECT email FROM people ORDER BY id";
    assert_eq!(db.query_text(all), reference.query_text(all));
}

#[test]
fn postgres_kill_9_then_resume_rewrites_every_row_once() {
    kill_then_resume(Engine::Postgres);
}

#[test]
fn mariadb_kill_9_then_resume_rewrites_every_row_once() {
    kill_then_resume(Engine::MySql);
}

#[test]
fn a_deadline_stops_with_exit_4_and_the_same_command_continues() {
    let db = database(Engine::Postgres);
    let dir = rules_dir(RULES);
    let stopped = sanitize(dir.path(), &db, &["--deadline", "0s"]);
    stopped.expect(4);
    let report = stopped.json();
    assert_eq!(report["stopped"], "deadline");
    assert_eq!(
        report["resume"]["remedy"]["action"], "run-again",
        "{report}"
    );
    let text = run(
        dir.path(),
        &[
            "refresh",
            "sanitize",
            "--in-place",
            "--database",
            &db.url,
            "--expect-name",
            db.name(),
        ],
    );
    text.expect(0);
    assert!(text.stdout.contains("resumed"), "{}", text.stdout);
    assert!(leaked(&db).is_empty());
}
