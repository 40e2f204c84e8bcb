//! kill -9 in the middle of a long migration, then the next run recovers:
//! PostgreSQL and SQLite roll the migration back and apply it again; on MySQL the row is left
//! `running` at the statement in flight, `up` refuses, and `up --resume` continues there.

mod common;
use common::*;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn spawn_up(db: &TempDatabase, dir: &MigrationDir) -> Child {
    let mut cmd = holdfast(dir.path());
    cmd.args(["migrate", "up", "--database", &db.url, "--dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd.spawn().expect("spawn holdfast")
}

/// Waits until `ready` holds (polled), or panics after `limit`.
fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn postgres_rolls_back_a_killed_migration_and_applies_it_again() {
    let db = TempDatabase::new(Engine::Postgres);
    db.execute("CREATE TABLE go_slow (id int)");
    let dir = MigrationDir::new();
    dir.write(
        "V1__long.sql",
        "CREATE TABLE a (id int);\n\
         SELECT pg_sleep(CASE WHEN to_regclass('go_slow') IS NULL THEN 0 ELSE 60 END);\n\
         CREATE TABLE b (id int);\n",
    );
    let mut child = spawn_up(&db, &dir);
    wait_for(Duration::from_secs(30), "the long statement", || {
        db.query_i64(
            "SELECT COUNT(*)::bigint FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep(CASE%' AND pid <> pg_backend_pid()",
        )[0] > 0
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // The server notices the vanished client within seconds and rolls its transaction back.
    wait_for(Duration::from_secs(20), "the killed session to end", || {
        db.query_i64("SELECT COUNT(*)::bigint FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")[0] == 0
    });
    assert!(
        !db.table_exists("a"),
        "the killed migration was rolled back"
    );
    db.execute("DROP TABLE go_slow");
    let started = Instant::now();
    migrate(&db, &dir, "up", &["--lock-wait", "30s"]).expect(0);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(user_tables(&db), ["a", "b"]);
    assert_eq!(history(&db), ["1|versioned|applied|3|3"]);
}

#[test]
fn sqlite_rolls_back_a_killed_migration_and_applies_it_again() {
    let db = TempDatabase::new(Engine::Sqlite);
    db.execute("CREATE TABLE go_slow (id int)");
    let dir = MigrationDir::new();
    dir.write(
        "V1__long.sql",
        "CREATE TABLE a (id int);\n\
         INSERT INTO a WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
         WHERE x < (CASE WHEN EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'go_slow') THEN 500000000 ELSE 10 END)) SELECT x FROM c;\n\
         CREATE TABLE b (id int);\n",
    );
    let mut child = spawn_up(&db, &dir);
    let journal = db.sqlite_path().unwrap().with_extension("db-journal");
    // The rollback journal appears once the migration's transaction has written.
    wait_for(
        Duration::from_secs(30),
        "the migration to start writing",
        || journal.exists(),
    );
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    db.execute("DROP TABLE go_slow");
    migrate(&db, &dir, "up", &["--lock-wait", "30s"]).expect(0);
    assert_eq!(user_tables(&db), ["a", "b"]);
    assert_eq!(
        db.query_i64("SELECT COUNT(*) FROM a"),
        [10],
        "rows of the killed run were rolled back"
    );
    assert_eq!(history(&db), ["1|versioned|applied|3|3"]);
}

#[test]
fn mysql_records_an_interrupted_migration_and_resumes_it() {
    let db = TempDatabase::new(Engine::MySql);
    db.execute("CREATE TABLE go_slow (id int)");
    let dir = MigrationDir::new();
    dir.write(
        "V1__long.sql",
        "CREATE TABLE a (id int);\n\
         SELECT SLEEP(IF((SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'go_slow') > 0, 3, 0));\n\
         CREATE TABLE b (id int);\n",
    );
    let mut child = spawn_up(&db, &dir);
    wait_for(Duration::from_secs(30), "statement 2 to start", || {
        db.table_exists("holdfast_schema_history") && history(&db) == ["1|versioned|running|1|3"]
    });
    child.kill().unwrap();
    child.wait().unwrap();
    db.execute("DROP TABLE go_slow");

    // Under the lock a `running` row can only mean a dead runner: interrupted, up refuses.
    let refused = migrate(&db, &dir, "up", &["--lock-wait", "30s", "--json"]);
    refused.expect(3);
    assert_eq!(refused.json()["problems"][0]["kind"], "interrupted");
    assert_eq!(user_tables(&db), ["a"]);
    // The killed runner's server session ended with its statement, and the lock with it:
    // status can tell that the runner died.
    let status = migrate(&db, &dir, "status", &[]);
    status.expect(0);
    assert!(
        status.stdout.contains("INTERRUPTED at statement 2 of 3"),
        "{}",
        status.stdout
    );

    migrate(&db, &dir, "up", &["--resume", "--lock-wait", "30s"]).expect(0);
    assert_eq!(user_tables(&db), ["a", "b"]);
    assert_eq!(history(&db), ["1|versioned|applied|3|3"]);
}
