//! A migration's session. MySQL/MariaDB: a migration runs under the session the server's own client would give it,
//! and nothing it does to its session (`LOCK TABLES`, `SET autocommit = 0`, `SET sql_mode`)
//! reaches the history or the next migration. Real MariaDB, and its `mariadb` client as the
//! reference.

mod common;
use common::*;
use std::io::Write;
use std::process::{Command, Stdio};

fn table(name: &str) -> String {
    format!("CREATE TABLE {name} (id INT PRIMARY KEY);\n")
}

#[test]
fn lock_tables_in_a_migration_does_not_lock_out_the_history() {
    let db = TempDatabase::new(Engine::MySql);
    let dir = MigrationDir::new();
    dir.write("V1__t.sql", &table("t"));
    dir.write(
        "V2__locked.sql",
        "LOCK TABLES t WRITE;\nINSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\nUNLOCK TABLES;\n",
    );
    dir.write(
        "V3__left_locked.sql",
        "LOCK TABLES t WRITE;\nINSERT INTO t VALUES (3);\n",
    );
    dir.write("V4__after.sql", &table("after_lock"));
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(db.query_i64("SELECT id FROM t ORDER BY id"), [1, 2, 3]);
    migrate(&db, &dir, "validate", &[]).expect(0);
    let history = history(&db);
    assert!(
        history.iter().all(|h| h.contains("|applied|")) && history.len() == 4,
        "{history:?}"
    );
}

#[test]
fn autocommit_off_is_applied_only_when_committed() {
    let db = TempDatabase::new(Engine::MySql);
    let dir = MigrationDir::new();
    dir.write("V1__t.sql", &table("t"));
    // As mysqldump --no-autocommit writes it: committed, but the session is left with
    // autocommit off.
    dir.write(
        "V2__dump.sql",
        "SET autocommit = 0;\nINSERT INTO t VALUES (1);\nCOMMIT;\n",
    );
    // Runs on a fresh session: autocommit is on again, so this insert is committed.
    dir.write("V3__plain.sql", "INSERT INTO t VALUES (2);\n");
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(db.query_i64("SELECT id FROM t ORDER BY id"), [1, 2]);
    migrate(&db, &dir, "validate", &[]).expect(0);
    let status = migrate(&db, &dir, "status", &["--json"]);
    status.expect(0);

    // Never committed: loud, rolled back, and the history says exactly what is applied.
    dir.write(
        "V4__uncommitted.sql",
        "SET autocommit = 0;\nINSERT INTO t VALUES (3);\n",
    );
    let run = migrate(&db, &dir, "up", &["--json"]);
    run.expect(1);
    let failed = &run.json()["failed"];
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("ended inside a transaction"),
        "{failed}"
    );
    assert_eq!(db.query_i64("SELECT id FROM t ORDER BY id"), [1, 2]);
    assert_eq!(history(&db).last().unwrap(), "4|versioned|failed|1|2");
    // Fixed by committing; statement 1 is kept, so it resumes.
    dir.write(
        "V4__uncommitted.sql",
        "SET autocommit = 0;\nINSERT INTO t VALUES (3);\nCOMMIT;\n",
    );
    migrate(&db, &dir, "up", &["--resume"]).expect(0);
    assert_eq!(db.query_i64("SELECT id FROM t ORDER BY id"), [1, 2, 3]);
    migrate(&db, &dir, "validate", &[]).expect(0);
}

/// PostgreSQL too, in a `no-transaction` file: progress is recorded only outside the
/// migration's own transaction.
#[test]
fn a_failure_inside_the_migrations_own_transaction_rolls_it_back_and_says_so() {
    for engine in [Engine::MySql, Engine::Postgres] {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        dir.write("V1__t.sql", &table("t"));
        let body = |last: &str| {
            format!("-- holdfast:no-transaction\nINSERT INTO t VALUES (1);\nSTART TRANSACTION;\nINSERT INTO t VALUES (2);\nINSERT INTO {last} VALUES (3);\nCOMMIT;\n")
        };
        dir.write("V2__txn.sql", &body("missing"));
        let run = migrate(&db, &dir, "up", &["--json"]);
        run.expect(1);
        let failed = &run.json()["failed"];
        assert_eq!(failed["statement"], 4, "{engine:?}: {failed}");
        let error = failed["error"].as_str().unwrap();
        assert!(
            error.contains("statements 2..3 ran in a transaction")
                && error.contains("statements 1..1 are applied and recorded"),
            "{engine:?}: {error}"
        );
        assert_eq!(failed["remedy"]["action"], "fix-and-resume", "{failed}");
        assert_eq!(failed["remedy"]["applied"], 1, "{failed}");

        assert_eq!(
            db.query_i64("SELECT id FROM t ORDER BY id"),
            [1],
            "{engine:?}"
        );
        assert_eq!(
            history(&db).last().unwrap(),
            "2|versioned|failed|1|5",
            "{engine:?}"
        );
        dir.write("V2__txn.sql", &body("t"));
        migrate(&db, &dir, "up", &["--resume"]).expect(0);
        assert_eq!(
            db.query_i64("SELECT id FROM t ORDER BY id"),
            [1, 2, 3],
            "{engine:?}"
        );
    }
}

/// What a migration sees of its session, and what a routine it creates keeps of it.
const PROBE: &str = "CREATE TABLE probe (k VARCHAR(40) PRIMARY KEY, v VARCHAR(300));
INSERT INTO probe VALUES ('pipes', CAST(1 || 0 AS CHAR));
INSERT INTO probe VALUES ('sql_mode', @@SESSION.sql_mode);
INSERT INTO probe VALUES ('time_zone', @@SESSION.time_zone);
INSERT INTO probe VALUES ('character_set_client', @@character_set_client);
INSERT INTO probe VALUES ('collation_connection', @@collation_connection);
INSERT INTO probe VALUES ('autocommit', @@autocommit);
CREATE FUNCTION pipes() RETURNS VARCHAR(10) DETERMINISTIC RETURN 1 || 0;
INSERT INTO probe VALUES ('function', CAST(pipes() AS CHAR));
";

fn probe_values(db: &TempDatabase) -> Vec<String> {
    let mut values =
        db.query_text("SELECT CONCAT(k, '=', COALESCE(v, 'NULL')) FROM probe ORDER BY k");
    values.extend(db.query_text(
        "SELECT CONCAT_WS('|', SQL_MODE, CHARACTER_SET_CLIENT, COLLATION_CONNECTION, DATABASE_COLLATION) \
         FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'pipes'",
    ));
    values
}

#[test]
fn a_migration_runs_under_the_servers_own_client_settings() {
    let by_holdfast = TempDatabase::new(Engine::MySql);
    let dir = MigrationDir::new();
    dir.write("V1__probe.sql", PROBE);
    migrate(&by_holdfast, &dir, "up", &[]).expect(0);

    let by_client = TempDatabase::new(Engine::MySql);
    let url = url::Url::parse(&by_client.url).unwrap();
    let mut client = Command::new("mariadb")
        .args(["--default-character-set=utf8mb4", "--protocol=TCP"])
        .arg(format!("--host={}", url.host_str().unwrap()))
        .arg(format!("--port={}", url.port().unwrap_or(3306)))
        .arg(format!("--user={}", url.username()))
        .arg(by_client.name())
        .stdin(Stdio::piped())
        .spawn()
        .expect("the mariadb client (installed with MariaDB)");
    client
        .stdin
        .take()
        .unwrap()
        .write_all(PROBE.as_bytes())
        .unwrap();
    assert!(
        client.wait().unwrap().success(),
        "the mariadb client ran the probe"
    );

    let (ours, theirs) = (probe_values(&by_holdfast), probe_values(&by_client));
    assert_eq!(ours, theirs);
    // The point of it: `||` is OR, as the server is configured, not concatenation.
    assert!(ours.contains(&"pipes=1".to_string()), "{ours:?}");
    assert!(
        !ours
            .iter()
            .any(|v| v.contains("PIPES_AS_CONCAT") || v.contains("IGNORE_SPACE")),
        "{ours:?}"
    );
}

/// The driver's slow-statement warning printed a statement's whole text, with its literal
/// values; Holdfast's own line names the migration and statement number only.
#[test]
fn a_slow_statement_is_logged_by_number_never_by_its_text() {
    for engine in [Engine::Postgres, Engine::MySql] {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        let sleep = match engine {
            Engine::Postgres => "SELECT pg_sleep(5.2), 'card-4111111111111111' AS planted;\n",
            _ => "SELECT SLEEP(5.2), 'card-4111111111111111' AS planted;\n",
        };
        dir.write(
            "V1__slow.sql",
            &format!("-- holdfast:no-transaction\n{}{sleep}", table("t")),
        );
        let run = migrate(&db, &dir, "up", &[]);
        run.expect(0);
        let all = run.all();
        assert!(!all.contains("4111111111111111"), "{engine:?}: {all}");
        assert!(!all.contains("slow statement"), "{engine:?}: {all}");
        assert!(
            all.contains("V1__slow.sql: statement 2 of 2 took"),
            "{engine:?}: {all}"
        );
    }
}
