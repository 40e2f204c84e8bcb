//! `holdfast migrate` on real PostgreSQL, MariaDB and SQLite: apply, status, plan, validate,
//! drift, missing, out of order, baseline, repair, resume, `new`, configuration, redaction.

mod common;
use common::*;

#[test]
fn applies_pending_migrations_once_then_does_nothing() {
    for engine in Engine::ALL {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        dir.write("V1__first.sql", &create_table("first_t"))
            .write(
                "V2__second.sql",
                &format!(
                    "{}INSERT INTO first_t (id, note) VALUES (1, 'a;b');\n",
                    create_table("second_t")
                ),
            )
            .write(
                "R__view.sql",
                "CREATE VIEW notes AS SELECT note FROM first_t;\n",
            );
        let run = migrate(&db, &dir, "up", &[]);
        run.expect(0);
        assert!(
            run.stderr.contains("Applied V1__first.sql"),
            "{}",
            run.stderr
        );
        assert_eq!(user_tables(&db), ["first_t", "second_t"], "{engine:?}");
        assert_eq!(
            history(&db),
            [
                "1|versioned|applied|1|1",
                "2|versioned|applied|2|2",
                "R|repeatable|applied|1|1"
            ],
            "{engine:?}"
        );
        assert_eq!(db.query_text("SELECT note FROM notes"), ["a;b"]);

        let again = migrate(&db, &dir, "up", &[]);
        again.expect(0);
        assert!(
            again.stdout.contains("Nothing to apply"),
            "{}",
            again.stdout
        );
        assert_eq!(history(&db).len(), 3, "{engine:?}");

        // A changed repeatable is applied again; versioned ones are not.
        dir.write(
            "R__view.sql",
            "DROP VIEW notes;\nCREATE VIEW notes AS SELECT note, id FROM first_t;\n",
        );
        migrate(&db, &dir, "up", &[]).expect(0);
        assert_eq!(
            history(&db).last().unwrap(),
            "R|repeatable|applied|2|2",
            "{engine:?}"
        );
        let status = migrate(&db, &dir, "status", &["--json"]).expect(0).json();
        assert_eq!(status["pending"], 0);
        assert_eq!(status["current_version"], "2");
    }
}

#[test]
fn read_only_commands_create_nothing() {
    for engine in Engine::ALL {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        dir.write("V1__first.sql", &create_table("first_t"));
        if engine != Engine::Sqlite {
            for sub in ["status", "plan", "validate"] {
                let run = migrate(&db, &dir, sub, &[]);
                // validate on a fresh database: one pending migration is not a problem.
                run.expect(0);
                assert!(
                    !db.table_exists("holdfast_schema_history"),
                    "{engine:?} {sub}"
                );
                assert!(user_tables(&db).is_empty(), "{engine:?} {sub}");
            }
        } else {
            let path = db.sqlite_path().unwrap();
            for sub in ["status", "plan", "validate"] {
                migrate(&db, &dir, sub, &[]).expect(0);
                assert!(!path.exists(), "{sub} created the SQLite file");
            }
        }
        let plan = migrate(&db, &dir, "plan", &[]).expect(0).stdout.clone();
        assert!(plan.contains("CREATE TABLE first_t"), "{plan}");
        assert!(plan.contains("does not exist yet"), "{plan}");
    }
}

#[test]
fn drift_is_found_and_repair_accepts_it() {
    let db = TempDatabase::new(Engine::Sqlite);
    let dir = MigrationDir::new();
    dir.write("V1__first.sql", &create_table("first_t"));
    migrate(&db, &dir, "up", &[]).expect(0);

    // Line endings and trailing whitespace are not drift.
    dir.write(
        "V1__first.sql",
        &create_table("first_t").replace('\n', "  \r\n"),
    );
    migrate(&db, &dir, "validate", &[]).expect(0);

    dir.write("V1__first.sql", &create_table("first_renamed"));
    let run = migrate(&db, &dir, "validate", &["--json"]);
    run.expect(3);
    let report = run.json();
    assert_eq!(report["problems"][0]["kind"], "drift");
    assert_eq!(report["problems"][0]["migration"], "V1__first.sql");
    let text = migrate(&db, &dir, "validate", &[]);
    text.expect(3);
    assert!(
        text.stderr
            .contains("validation failed: 1 problem between the files and the history: drift"),
        "{}",
        text.stderr
    );
    migrate(&db, &dir, "up", &[]).expect(3);
    migrate(&db, &dir, "repair", &[]).expect(2);
    let repaired = migrate(&db, &dir, "repair", &["--yes"]);
    repaired.expect(0);
    assert!(
        repaired.stdout.contains("V1__first.sql"),
        "{}",
        repaired.stdout
    );
    migrate(&db, &dir, "validate", &[]).expect(0);
}

#[test]
fn missing_files_are_problems_but_newer_applied_versions_are_not() {
    let db = TempDatabase::new(Engine::Sqlite);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"))
        .write("V2__b.sql", &create_table("b"))
        .write("V3__c.sql", &create_table("c"));
    migrate(&db, &dir, "up", &[]).expect(0);

    // A deploy of older code: V3 is applied but not on disk. Not a problem (rollbacks do this).
    dir.remove("V3__c.sql");
    let run = migrate(&db, &dir, "validate", &[]);
    run.expect(0);
    assert!(
        run.stdout.contains("ahead of these migrations"),
        "{}",
        run.stdout
    );
    migrate(&db, &dir, "up", &[]).expect(0);

    // A hole: V1 applied, file gone, V2 still there.
    dir.remove("V1__a.sql");
    let run = migrate(&db, &dir, "validate", &["--json"]);
    run.expect(3);
    assert_eq!(run.json()["problems"][0]["kind"], "missing");
}

#[test]
fn out_of_order_versions_are_refused_unless_allowed() {
    let db = TempDatabase::new(Engine::Postgres);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"))
        .write("V3__c.sql", &create_table("c"));
    migrate(&db, &dir, "up", &[]).expect(0);
    dir.write("V2__b.sql", &create_table("b"));
    let run = migrate(&db, &dir, "up", &[]);
    run.expect(3);
    assert!(
        run.stdout.contains("--allow-out-of-order"),
        "{}",
        run.stdout
    );
    assert_eq!(user_tables(&db), ["a", "c"]);
    migrate(&db, &dir, "validate", &[]).expect(3);
    migrate(&db, &dir, "up", &["--allow-out-of-order"]).expect(0);
    assert_eq!(user_tables(&db), ["a", "b", "c"]);
}

#[test]
fn target_stops_at_a_version() {
    let db = TempDatabase::new(Engine::MySql);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"))
        .write("V1.1__b.sql", &create_table("b"))
        .write("V2__c.sql", &create_table("c"));
    migrate(&db, &dir, "up", &["--target", "1.1"]).expect(0);
    assert_eq!(user_tables(&db), ["a", "b"]);
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(user_tables(&db), ["a", "b", "c"]);
    migrate(&db, &dir, "up", &["--target", "one"]).expect(2);
}

#[test]
fn baseline_skips_what_the_database_already_has() {
    for engine in [Engine::Postgres, Engine::Sqlite] {
        let db = TempDatabase::new(engine);
        db.execute(&create_table("a"));
        let dir = MigrationDir::new();
        dir.write("V1__a.sql", &create_table("a"))
            .write("V2__b.sql", &create_table("b"))
            .write("V3__c.sql", &create_table("c"));
        migrate(&db, &dir, "baseline", &["--version", "1"]).expect(0);
        migrate(&db, &dir, "up", &[]).expect(0);
        assert_eq!(user_tables(&db), ["a", "b", "c"]);
        assert_eq!(history(&db)[0], "1|baseline|applied|0|0");
        // A second baseline is refused: the history is not empty.
        migrate(&db, &dir, "baseline", &["--version", "3"]).expect(2);
    }
}

/// Statement-by-statement files (all MySQL files; no-transaction files elsewhere) record
/// progress, fail at statement k, and resume there.
#[test]
fn failed_statement_is_recorded_and_resumed() {
    for engine in [Engine::MySql, Engine::Postgres, Engine::Sqlite] {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        let directive = if engine == Engine::MySql {
            ""
        } else {
            "-- holdfast:no-transaction\n"
        };
        dir.write("V1__a.sql", &create_table("a"));
        let broken = format!(
            "{directive}{}{}INSERT INTO no_such_table (id) VALUES (1);\n{}",
            create_table("s1"),
            create_table("s2"),
            create_table("s4")
        );
        dir.write("V2__steps.sql", &broken);
        let run = migrate(&db, &dir, "up", &["--json"]);
        run.expect(1);
        let report = run.json();
        assert_eq!(report["failed"]["statement"], 3, "{engine:?}");
        assert_eq!(report["failed"]["statements_total"], 4);
        assert_eq!(report["failed"]["rolled_back"], false);
        assert_eq!(report["failed"]["remedy"]["action"], "fix-and-resume");
        assert_eq!(report["failed"]["remedy"]["statement"], 3);
        assert_eq!(report["failed"]["remedy"]["applied"], 2);
        assert_eq!(history(&db)[1], "2|versioned|failed|2|4", "{engine:?}");
        assert_eq!(user_tables(&db), ["a", "s1", "s2"], "{engine:?}");

        let status = migrate(&db, &dir, "status", &[]);
        status.expect(0);
        assert!(
            status.stdout.contains("FAILED at statement 3 of 4"),
            "{}",
            status.stdout
        );
        migrate(&db, &dir, "validate", &[]).expect(3);
        // Without --resume, up refuses.
        migrate(&db, &dir, "up", &[]).expect(3);

        // Changing an applied statement makes resuming unsafe: refused.
        dir.write("V2__steps.sql", &broken.replace("s1", "s1x"));
        let run = migrate(&db, &dir, "up", &["--resume", "--json"]);
        run.expect(3);
        assert_eq!(run.json()["problems"][0]["kind"], "resume_mismatch");

        // Fix statement 3 only: resume continues there.
        dir.write("V2__steps.sql", &broken.replace("no_such_table", "a"));
        let run = migrate(&db, &dir, "up", &["--resume"]);
        run.expect(0);
        assert!(
            run.stderr.contains("Resuming V2__steps.sql at statement 3"),
            "{}",
            run.stderr
        );
        assert_eq!(history(&db)[1], "2|versioned|applied|4|4", "{engine:?}");
        assert_eq!(user_tables(&db), ["a", "s1", "s2", "s4"], "{engine:?}");
        migrate(&db, &dir, "validate", &[]).expect(0);
    }
}

/// A failed transactional migration leaves nothing behind.
#[test]
fn failed_transactional_migration_rolls_back_whole() {
    for engine in [Engine::Postgres, Engine::Sqlite] {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        dir.write("V1__a.sql", &create_table("a"));
        dir.write(
            "V2__bad.sql",
            &format!(
                "{}INSERT INTO no_such_table VALUES (1);\n",
                create_table("b")
            ),
        );
        let run = migrate(&db, &dir, "up", &["--json"]);
        run.expect(1);
        let report = run.json();
        assert_eq!(report["failed"]["rolled_back"], true);
        assert_eq!(report["failed"]["statement"], 2);
        assert_eq!(report["failed"]["line"], 2);
        assert_eq!(report["applied"].as_array().unwrap().len(), 1);
        assert_eq!(user_tables(&db), ["a"], "{engine:?}");
        assert_eq!(history(&db), ["1|versioned|applied|1|1"], "{engine:?}");
        // Fixed, it applies normally.
        dir.write("V2__bad.sql", &create_table("b"));
        migrate(&db, &dir, "up", &[]).expect(0);
        assert_eq!(user_tables(&db), ["a", "b"]);
    }
}

#[test]
fn history_table_is_schema_qualified() {
    let db = TempDatabase::new(Engine::Postgres);
    let dir = MigrationDir::new();
    dir.write(
        "V1__elsewhere.sql",
        "CREATE SCHEMA other;\nSET search_path TO other;\nCREATE TABLE t (id int);\n",
    )
    .write("V2__more.sql", "CREATE TABLE t2 (id int);\n");
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(history(&db).len(), 2);
    let in_other = "SELECT COUNT(*)::bigint FROM information_schema.tables WHERE table_schema = 'other' AND table_name = 'holdfast_schema_history'";
    assert_eq!(db.query_i64(in_other), [0]);
    assert_eq!(
        db.query_i64(
            "SELECT COUNT(*)::bigint FROM information_schema.tables WHERE table_schema = 'other'"
        ),
        [1]
    );
}

#[test]
fn postgres_concurrently_runs_outside_a_transaction() {
    let db = TempDatabase::new(Engine::Postgres);
    let dir = MigrationDir::new();
    dir.write("V1__t.sql", &create_table("t"))
        .write("V2__idx.sql", "-- holdfast:no-transaction\n-- holdfast:statement-timeout=1m\nCREATE INDEX CONCURRENTLY t_note ON t (note);\n");
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(
        db.query_i64("SELECT COUNT(*)::bigint FROM pg_indexes WHERE indexname = 't_note'"),
        [1]
    );
}

#[test]
fn new_creates_the_next_file() {
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", "SELECT 1;")
        .write("V2__b.sql", "SELECT 1;");
    let mut cmd = holdfast(dir.path());
    cmd.args(["migrate", "new", "--dir"])
        .arg(dir.path())
        .arg("add users email");
    let run = Run::from(cmd.output().unwrap());
    run.expect(0);
    assert!(
        dir.path().join("V3__add_users_email.sql").exists(),
        "{}",
        run.stdout
    );
    // A new file holds no statement yet: status shows it pending and says why up will not
    // apply it; up refuses it rather than record an empty migration (whose SQL, written later,
    // would then be drift).
    let db = TempDatabase::new(Engine::Sqlite);
    let status = migrate(&db, &dir, "status", &["--json"]);
    status.expect(0);
    assert_eq!(status.json()["pending"], 3, "{}", status.stdout);
    assert!(
        status.json()["errors"][0]
            .as_str()
            .unwrap()
            .contains("V3__add_users_email.sql has no SQL statements yet"),
        "{}",
        status.stdout
    );
    let run = migrate(&db, &dir, "up", &[]);
    run.expect(2);
    assert!(
        run.all()
            .contains("V3__add_users_email.sql has no SQL statements yet"),
        "{}",
        run.all()
    );
    assert_eq!(
        migrate(&db, &dir, "status", &["--json"]).json()["pending"],
        3
    );
    dir.write("V3__add_users_email.sql", &create_table("users"));
    migrate(&db, &dir, "up", &[]).expect(0);
}

/// With no `$USER` (a container, a CI job), the history names the OS account of the user id.
#[test]
fn applied_by_is_the_os_user_without_user_variables() {
    let db = TempDatabase::new(Engine::Sqlite);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"));
    let mut cmd = holdfast(dir.path());
    cmd.env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("USERNAME")
        .args(["migrate", "up", "--database", &db.url, "--dir"])
        .arg(dir.path());
    Run::from(cmd.output().unwrap()).expect(0);
    let id = std::process::Command::new("id")
        .arg("-un")
        .output()
        .unwrap();
    let user = String::from_utf8(id.stdout).unwrap().trim().to_string();
    let applied_by = db.query_text("SELECT applied_by FROM holdfast_schema_history");
    assert_eq!(applied_by.len(), 1);
    assert!(
        applied_by[0].starts_with(&format!("{user}@")),
        "{applied_by:?} (OS user {user})"
    );
}

#[test]
fn the_fingerprint_changes_exactly_when_the_migrations_do() {
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", "CREATE TABLE a (id INT);\n")
        .write("R__v.sql", "CREATE VIEW v AS SELECT 1;\n");
    let fingerprint = |extra: &[&str]| {
        let mut cmd = holdfast(dir.path());
        cmd.args(["migrate", "fingerprint", "--dir"])
            .arg(dir.path())
            .args(extra);
        let run = Run::from(cmd.output().unwrap());
        run.expect(0);
        run.stdout.trim().to_owned()
    };
    let first = fingerprint(&[]);
    assert_eq!(first.len(), 64, "{first}");
    assert!(first.bytes().all(|b| b.is_ascii_hexdigit()), "{first}");
    assert_eq!(fingerprint(&[]), first, "stable");
    // Line endings and trailing blanks do not change a migration's checksum, nor the fingerprint.
    dir.write("V1__a.sql", "CREATE TABLE a (id INT);   \r\n\r\n");
    assert_eq!(fingerprint(&[]), first);
    // An edit, a new file or a removed one does.
    dir.write("V1__a.sql", "CREATE TABLE a (id BIGINT);\n");
    let edited = fingerprint(&[]);
    assert_ne!(edited, first);
    dir.write("V2__b.sql", "CREATE TABLE b (id INT);\n");
    let added = fingerprint(&[]);
    assert_ne!(added, edited);
    dir.remove("R__v.sql");
    assert_ne!(fingerprint(&[]), added);
    // JSON: the count and the latest version too; the dialect comes from the URL's scheme
    // (nothing connects).
    let mut cmd = holdfast(dir.path());
    cmd.args([
        "migrate",
        "fingerprint",
        "--json",
        "--database",
        "mysql://nobody@127.0.0.1:1/x",
        "--dir",
    ])
    .arg(dir.path());
    let run = Run::from(cmd.output().unwrap());
    run.expect(0);
    let report = run.json();
    assert_eq!(report["migrations"], 2);
    assert_eq!(report["latest_version"], "2");
    assert_eq!(report["fingerprint"].as_str().unwrap().len(), 64);
    // A broken file is exit 2 naming it.
    dir.write(
        "V3__bad.sql",
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1;\n",
    );
    let mut cmd = holdfast(dir.path());
    cmd.args(["migrate", "fingerprint", "--dir"])
        .arg(dir.path());
    let run = Run::from(cmd.output().unwrap());
    run.expect(2);
    assert!(run.stderr.contains("V3__bad.sql"), "{}", run.stderr);
}

#[test]
fn settings_come_from_file_stage_variable_and_flag() {
    let db = TempDatabase::new(Engine::Sqlite);
    let other = TempDatabase::new(Engine::Sqlite);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"));
    let project = tempfile_dir();
    std::fs::write(
        project.join("holdfast.toml"),
        format!(
            "[migrate]\ndatabase = \"{}\"\ndir = \"{}\"\n\n[stages.staging.migrate]\ndatabase = \"{}\"\n",
            db.url,
            dir.path().display(),
            other.url
        ),
    )
    .unwrap();
    let run = |args: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = holdfast(&project);
        cmd.arg("migrate").args(args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap())
    };
    run(&["up"], None).expect(0);
    assert!(db.table_exists("a"));
    assert!(!other.sqlite_path().unwrap().exists());
    run(&["up", "--stage", "staging"], None).expect(0);
    assert!(other.table_exists("a"));
    let third = TempDatabase::new(Engine::Sqlite);
    run(&["up"], Some(("HOLDFAST_DATABASE_URL", &third.url))).expect(0);
    assert!(third.table_exists("a"));
    // An unknown stage and an unknown key are configuration errors naming what is wrong.
    let bad = run(&["status", "--stage", "prod"], None);
    bad.expect(2);
    assert!(bad.stderr.contains("stage `prod`"), "{}", bad.stderr);
    std::fs::write(
        project.join("holdfast.toml"),
        "[migrate]\ndatabse = \"x\"\n",
    )
    .unwrap();
    let bad = run(&["status"], None);
    bad.expect(2);
    assert!(
        bad.stderr.contains("holdfast.toml: line 2") && bad.stderr.contains("databse"),
        "{}",
        bad.stderr
    );
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "holdfast-cli-test-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_password_in_the_url_is_never_printed() {
    let db = TempDatabase::new(Engine::Postgres);
    let secret = "Sup3r-Secret-Pw";
    // The test server trusts local connections, so any password is accepted.
    let url = db
        .url
        .replacen("postgres@", &format!("postgres:{secret}@"), 1);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"))
        .write("V2__bad.sql", "SELECT * FROM nowhere;\n");
    for args in [
        vec!["up"],
        vec!["up", "--json"],
        vec!["status"],
        vec!["status", "--json"],
        vec!["plan"],
        vec!["validate", "--json"],
    ] {
        let mut cmd = holdfast(dir.path());
        cmd.args(["migrate", args[0], "--database", &url, "--dir"])
            .arg(dir.path())
            .args(&args[1..])
            .arg("-v");
        let run = Run::from(cmd.output().unwrap());
        assert!(
            !run.all().contains(secret),
            "{args:?} printed the password:\n{}",
            run.all()
        );
        if args[0] != "up" || args.len() > 1 {
            assert!(
                run.all().contains("postgres:***@"),
                "{args:?} shows the URL masked:\n{}",
                run.all()
            );
        }
    }
    // An unreachable server: the error names the URL, masked.
    let unreachable = format!("postgres://app:{secret}@127.0.0.1:1/db");
    let mut cmd = holdfast(dir.path());
    cmd.args(["migrate", "status", "--database", &unreachable, "--dir"])
        .arg(dir.path());
    let run = Run::from(cmd.output().unwrap());
    run.expect(1);
    assert!(!run.all().contains(secret), "{}", run.all());
    assert!(run.stderr.contains("app:***@127.0.0.1:1"), "{}", run.stderr);
    // Also through the environment.
    let mut cmd = holdfast(dir.path());
    cmd.env("HOLDFAST_DATABASE_URL", &unreachable)
        .args(["migrate", "status", "--dir"])
        .arg(dir.path());
    let run = Run::from(cmd.output().unwrap());
    assert!(!run.all().contains(secret), "{}", run.all());
}

/// The URL's password field is masked, not every occurrence of the same string: a password
/// that is also a common word leaves the rest of a message readable.
#[test]
fn a_password_that_is_a_common_word_is_masked_only_in_the_url() {
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"));
    let mut cmd = holdfast(dir.path());
    cmd.args([
        "migrate",
        "status",
        "--database",
        "postgres://app:database@127.0.0.1:1/database",
        "--dir",
    ])
    .arg(dir.path());
    let run = Run::from(cmd.output().unwrap());
    run.expect(1);
    assert!(
        run.stderr
            .contains("postgres://app:***@127.0.0.1:1/database"),
        "{}",
        run.stderr
    );
    assert_eq!(run.all().matches("***").count(), 1, "{}", run.all());
}

#[test]
fn a_held_lock_makes_a_second_runner_exit_busy_after_its_wait() {
    for engine in Engine::ALL {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        let slow = match engine {
            Engine::Postgres => "SELECT pg_sleep(4);\n".to_string(),
            Engine::MySql => "SELECT SLEEP(4);\n".to_string(),
            Engine::Sqlite => "-- holdfast:no-transaction\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 40000000) SELECT count(*) FROM c;\n".to_string(),
        };
        dir.write("V1__slow.sql", &slow);
        let mut first = holdfast(dir.path());
        first
            .args(["migrate", "up", "--database", &db.url, "--dir"])
            .arg(dir.path());
        let mut first = first
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let second = migrate(&db, &dir, "up", &["--lock-wait", "500ms"]);
        second.expect(5);
        assert!(
            second.stderr.contains("held by"),
            "{engine:?}: {}",
            second.stderr
        );
        if engine == Engine::Postgres {
            assert!(
                second.stderr.contains("holdfast"),
                "names the holder: {}",
                second.stderr
            );
        }
        if engine == Engine::MySql {
            // A statement-by-statement migration in progress: its row is `running` and the
            // lock is held, so status must not call it interrupted.
            let status = migrate(&db, &dir, "status", &[]);
            status.expect(0);
            assert!(
                status
                    .stdout
                    .contains("RUNNING or interrupted at statement 1 of 1"),
                "{}",
                status.stdout
            );
        }
        assert!(first.wait().unwrap().success());
        migrate(&db, &dir, "up", &[]).expect(0);
        assert_eq!(history(&db), ["1|versioned|applied|1|1"], "{engine:?}");
    }
}

/// One real TLS handshake (rustls with the ring provider): `sslmode=require` fails unless the
/// session is encrypted.
#[test]
fn postgres_over_tls() {
    let db = TempDatabase::new(Engine::Postgres);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"));
    let url = format!("{}?sslmode=require", db.url);
    let mut cmd = holdfast(dir.path());
    cmd.args(["migrate", "up", "--database", &url, "--dir"])
        .arg(dir.path());
    Run::from(cmd.output().unwrap()).expect(0);
    assert_eq!(user_tables(&db), ["a"]);
}

/// PostgreSQL sends a transactional migration in one message: comments at the end of a
/// statement, dollar-quoted bodies and semicolons in strings must survive that.
#[test]
fn postgres_batches_keep_every_statement_intact() {
    let db = TempDatabase::new(Engine::Postgres);
    let dir = MigrationDir::new();
    dir.write(
        "V1__tricky.sql",
        "CREATE TABLE t (id int, note text) -- a trailing comment\n;\n\
         INSERT INTO t VALUES (1, 'semi; colon -- not a comment');\n\
         CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;\n\
         INSERT INTO t SELECT f() + 1, E'it\\'s';\n",
    );
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(
        db.query_text("SELECT note FROM t ORDER BY id"),
        ["semi; colon -- not a comment", "it's"]
    );
    assert_eq!(history(&db), ["1|versioned|applied|4|4"]);
}

/// PostgreSQL answers "nothing to do" from a digest of the history; every other history state
/// must still take the full path and be judged as before.
#[test]
fn postgres_no_op_shortcut_never_hides_a_change() {
    let db = TempDatabase::new(Engine::Postgres);
    let dir = MigrationDir::new();
    dir.write("V1__a.sql", &create_table("a"))
        .write("V2__b.sql", &create_table("b"))
        .write("R__v.sql", "CREATE VIEW v AS SELECT 1 AS x;\n");
    migrate(&db, &dir, "up", &[]).expect(0);
    let again = migrate(&db, &dir, "up", &["--json"]);
    again.expect(0);
    assert_eq!(again.json()["current_version"], "2");

    dir.write("V1__a.sql", &create_table("a_changed"));
    migrate(&db, &dir, "up", &[]).expect(3);
    dir.write("V1__a.sql", &create_table("a"));

    dir.remove("V2__b.sql");
    let older = migrate(&db, &dir, "up", &["--json"]);
    older.expect(0);
    assert_eq!(
        older.json()["warnings"].as_array().unwrap().len(),
        1,
        "{}",
        older.stdout
    );
    dir.write("V2__b.sql", &create_table("b"));

    dir.write("V3__c.sql", &create_table("c"));
    migrate(&db, &dir, "up", &[]).expect(0);
    assert_eq!(user_tables(&db), ["a", "b", "c"]);

    db.execute("UPDATE holdfast_schema_history SET state = 'failed' WHERE version = '3'");
    migrate(&db, &dir, "up", &[]).expect(3);
}
