//! `holdfast migrate` with `--database data-api://…`: the built binary against the test kit's
//! Data API endpoint, which runs every statement on the real test PostgreSQL. Dummy AWS
//! credentials and region; the endpoint through `--endpoint-url`.

mod common;
use common::*;
use holdfast_testkit::{postgres_url, DataApiEndpoint};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A database, an endpoint on its server, a migrations folder, and a working directory of its
/// own (for the empty AWS config files).
struct Setup {
    db: TempDatabase,
    endpoint: DataApiEndpoint,
    dir: MigrationDir,
    cwd: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let db = TempDatabase::new(Engine::Postgres);
        let endpoint = DataApiEndpoint::start(&postgres_url());
        Setup {
            db,
            endpoint,
            dir: MigrationDir::new(),
            cwd: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn url(&self) -> String {
        self.endpoint.database_url(self.db.name())
    }

    fn command(&self, sub: &str, extra: &[&str]) -> Command {
        let mut cmd = holdfast_aws(self.cwd.path());
        cmd.args(["migrate", sub, "--database", &self.url(), "--endpoint-url"])
            .arg(self.endpoint.endpoint())
            .arg("--dir")
            .arg(self.dir.path())
            .args(extra);
        cmd
    }

    fn migrate(&self, sub: &str, extra: &[&str]) -> Run {
        Run::from(self.command(sub, extra).output().expect("run holdfast"))
    }

    /// The lock row of the default history table: `owner|token`, or nothing.
    fn lock_row(&self) -> Vec<String> {
        self.db.query_text(
            "SELECT owner || '|' || token::text FROM holdfast_lock WHERE lock_name = 'public.holdfast_schema_history'",
        )
    }
}

/// The user tables: not the history table, not the lock table.
fn tables(db: &TempDatabase) -> Vec<String> {
    user_tables(db)
        .into_iter()
        .filter(|t| t != "holdfast_lock")
        .collect()
}

const FUNCTION: &str = "CREATE FUNCTION add_one(n integer) RETURNS integer AS $$\nDECLARE r integer;\nBEGIN\n  r := n + 1;\n  RETURN r;\nEND;\n$$ LANGUAGE plpgsql;\n";

#[test]
fn up_applies_versioned_and_repeatable_migrations_once_and_status_creates_nothing() {
    let s = Setup::new();
    s.dir
        .write(
            "V1__users.sql",
            "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL);\nINSERT INTO users VALUES (9007199254740993, 'a@example.com');\n",
        )
        .write("V2__function.sql", FUNCTION)
        .write(
            "R__user_view.sql",
            "CREATE OR REPLACE VIEW user_emails AS SELECT email FROM users;\n",
        );

    // A read-only look at a fresh database creates nothing, not even the lock table.
    let status = s.migrate("status", &["--json"]);
    status.expect(0);
    let report = status.json();
    assert_eq!(report["history_exists"], false, "{report}");
    assert_eq!(report["pending"], 3, "{report}");
    assert!(!s.db.table_exists("holdfast_schema_history"));
    assert!(!s.db.table_exists("holdfast_lock"));
    assert!(
        report["database"]
            .as_str()
            .unwrap()
            .starts_with("data-api://arn:aws:rds:"),
        "{report}"
    );

    let up = s.migrate("up", &["--json"]);
    up.expect(0);
    assert_eq!(
        up.json()["applied"].as_array().unwrap().len(),
        3,
        "{}",
        up.stdout
    );
    assert_eq!(tables(&s.db), ["users"]);
    assert_eq!(s.db.query_i64("SELECT add_one(41)::bigint"), [42]);
    assert_eq!(
        s.db.query_text("SELECT email FROM user_emails"),
        ["a@example.com"]
    );
    assert_eq!(
        history(&s.db),
        [
            "1|versioned|applied|2|2",
            "2|versioned|applied|1|1",
            "R|repeatable|applied|1|1"
        ]
    );
    // The lock was released: no owner, the token of the one take.
    assert_eq!(s.lock_row(), ["|1"]);
    assert_eq!(s.endpoint.open_transactions(), 0);

    // The history reads back through the Data API's records: applied, with a time.
    let status = s.migrate("status", &["--json"]);
    status.expect(0);
    let report = status.json();
    assert_eq!(report["pending"], 0, "{report}");
    assert_eq!(report["current_version"], "2", "{report}");
    let entries = report["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["state"] == "applied"), "{report}");

    // A second run applies nothing.
    let again = s.migrate("up", &["--json"]);
    again.expect(0);
    assert_eq!(again.json()["applied"].as_array().unwrap().len(), 0);
    assert_eq!(history(&s.db).len(), 3);
    assert_eq!(s.db.query_i64("SELECT COUNT(*)::bigint FROM users"), [1]);

    // validate and plan read too.
    s.migrate("validate", &[]).expect(0);
    s.migrate("plan", &[]).expect(0);
}

#[test]
fn bad_sql_fails_with_sqlstate_and_primary_message_only() {
    let s = Setup::new();
    s.dir.write("V1__ok.sql", &create_table("t1")).write(
        "V2__bad.sql",
        "CREATE TABLE t2 (id INTEGER);\nINSERT INTO missing_table (secret_column) VALUES ('s3cr3t-value');\n",
    );
    let up = s.migrate("up", &[]);
    up.expect(1);
    let all = up.all();
    assert!(all.contains("42P01"), "{all}");
    assert!(
        all.contains("relation \"missing_table\" does not exist"),
        "{all}"
    );
    // Neither the statement text nor the server's Position line.
    assert!(!all.contains("s3cr3t-value"), "{all}");
    assert!(!all.contains("secret_column"), "{all}");
    assert!(!all.contains("Position"), "{all}");
    assert!(!all.contains("SQLState"), "{all}");
    // The transactional migration was rolled back: t2 does not exist, no row for V2.
    assert_eq!(tables(&s.db), ["t1"]);
    assert_eq!(history(&s.db), ["1|versioned|applied|1|1"]);
    assert_eq!(s.endpoint.open_transactions(), 0);
    assert_eq!(s.lock_row(), ["|1"]);

    // Outside a transaction, progress is recorded statement by statement.
    s.dir.write(
        "V2__bad.sql",
        "-- holdfast:no-transaction\nCREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 VALUES (1);\nINSERT INTO t2 (nope) VALUES (2);\n",
    );
    let up = s.migrate("up", &[]);
    up.expect(1);
    assert!(up.all().contains("42703"), "{}", up.all());
    assert_eq!(
        history(&s.db),
        ["1|versioned|applied|1|1", "2|versioned|failed|2|3"]
    );
    assert_eq!(s.db.query_i64("SELECT COUNT(*)::bigint FROM t2"), [1]);
}

#[test]
fn six_runners_apply_each_migration_exactly_once() {
    const RUNNERS: usize = 6;
    const MIGRATIONS: usize = 5;
    let s = Setup::new();
    s.dir.write(
        "V1__side_effects.sql",
        "CREATE TABLE side_effects (version VARCHAR(20) NOT NULL);\nINSERT INTO side_effects (version) VALUES ('1');\n",
    );
    for v in 2..=MIGRATIONS {
        s.dir.write(
            &format!("V{v}__step_{v}.sql"),
            &format!(
                "{}INSERT INTO side_effects (version) VALUES ('{v}');\n",
                create_table(&format!("t{v}"))
            ),
        );
    }
    s.dir.write(
        "R__every_run.sql",
        "INSERT INTO side_effects (version) VALUES ('R');\n",
    );
    let children: Vec<_> = (0..RUNNERS)
        .map(|_| {
            s.command("up", &["--json", "--lock-wait", "2m"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn holdfast")
        })
        .collect();
    let mut applied = Vec::new();
    for child in children {
        let run = Run::from(child.wait_with_output().unwrap());
        run.expect(0);
        applied.push(run.json()["applied"].as_array().unwrap().len());
    }
    let mut effects =
        s.db.query_text("SELECT version FROM side_effects ORDER BY version");
    effects.sort();
    let mut expected: Vec<String> = (1..=MIGRATIONS)
        .map(|v| v.to_string())
        .chain(["R".to_string()])
        .collect();
    expected.sort();
    assert_eq!(effects, expected);
    assert_eq!(applied.iter().sum::<usize>(), MIGRATIONS + 1, "{applied:?}");
    let history = history(&s.db);
    assert_eq!(history.len(), MIGRATIONS + 1, "{history:?}");
    assert!(
        history.iter().all(|h| h.contains("|applied|")),
        "{history:?}"
    );
    // Every runner took and released the lock once.
    assert_eq!(s.lock_row(), [format!("|{RUNNERS}")]);
}

#[test]
fn an_expired_lock_is_taken_over_and_a_live_one_is_busy() {
    let s = Setup::new();
    s.dir.write("V1__one.sql", &create_table("t1"));
    // A holder that crashed a minute after its lease ran out.
    s.db.execute(
        "CREATE TABLE holdfast_lock (lock_name TEXT PRIMARY KEY, owner TEXT NOT NULL, token BIGINT NOT NULL, acquired_at TIMESTAMPTZ, expires_at TIMESTAMPTZ NOT NULL);
         INSERT INTO holdfast_lock VALUES ('public.holdfast_schema_history', 'crashed@host pid 1 #dead', 7, now() - interval '3 minutes', now() - interval '1 minute')",
    );
    s.migrate("up", &["--lock-wait", "1s"]).expect(0);
    assert_eq!(tables(&s.db), ["t1"]);
    assert_eq!(s.lock_row(), ["|8"]);

    // A live holder: the wait runs out, exit 5 naming it, nothing changed.
    s.db.execute(
        "UPDATE holdfast_lock SET owner = 'alive@elsewhere pid 2 #beef', token = 9, expires_at = now() + interval '10 minutes'",
    );
    s.dir.write("V2__two.sql", &create_table("t2"));
    let busy = s.migrate("up", &["--lock-wait", "1s"]);
    busy.expect(5);
    assert!(
        busy.all().contains("alive@elsewhere pid 2 #beef"),
        "{}",
        busy.all()
    );
    assert!(busy.all().contains("fencing token 9"), "{}", busy.all());
    assert_eq!(tables(&s.db), ["t1"]);
    assert_eq!(history(&s.db).len(), 1);
    assert_eq!(s.lock_row(), ["alive@elsewhere pid 2 #beef|9"]);
}

#[test]
fn a_statement_past_the_call_limit_fails_with_a_hint() {
    let s = Setup::new();
    s.endpoint.set_call_limit(Duration::from_secs(2));
    s.dir.write("V1__one.sql", &create_table("t1")).write(
        "V2__slow.sql",
        "CREATE TABLE t2 (id INTEGER);\nSELECT pg_sleep(10);\n",
    );
    let started = std::time::Instant::now();
    let up = s.migrate("up", &[]);
    up.expect(1);
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "{:?}",
        started.elapsed()
    );
    let all = up.all();
    assert!(all.contains("StatementTimeoutException"), "{all}");
    assert!(all.contains("time limit per call"), "{all}");
    assert!(all.contains("direct connection"), "{all}");
    assert!(!all.contains("pg_sleep"), "{all}");
    // Rolled back: t2 does not exist; V1 stays applied.
    assert_eq!(tables(&s.db), ["t1"]);
    assert_eq!(history(&s.db), ["1|versioned|applied|1|1"]);
    assert_eq!(s.endpoint.open_transactions(), 0);
}

#[test]
fn a_data_api_url_without_its_parameters_is_a_usage_error() {
    let cwd = tempfile::tempdir().unwrap();
    let dir = MigrationDir::new();
    let run = |url: &str| {
        let mut cmd = holdfast_aws(cwd.path());
        cmd.args(["migrate", "status", "--database", url, "--dir"])
            .arg(dir.path());
        Run::from(cmd.output().expect("run holdfast"))
    };
    let cluster = "arn:aws:rds:us-east-1:123456789012:cluster:c1";
    let r = run(&format!("data-api://{cluster}?database=app"));
    r.expect(2);
    assert!(r.stderr.contains("`secret`"), "{}", r.stderr);
    let r = run(&format!(
        "data-api://{cluster}?secret=arn:aws:secretsmanager:us-east-1:123456789012:secret:s"
    ));
    r.expect(2);
    assert!(r.stderr.contains("`database`"), "{}", r.stderr);

    // No credentials: a configuration error too, before any call.
    let mut cmd = holdfast_aws(cwd.path());
    cmd.args(["migrate", "status", "--database"])
        .arg(format!(
            "data-api://{cluster}?secret=arn:aws:secretsmanager:us-east-1:123456789012:secret:s&database=app"
        ))
        .args(["--endpoint-url", "http://127.0.0.1:9", "--dir"])
        .arg(dir.path())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY");
    let r = Run::from(cmd.output().expect("run holdfast"));
    r.expect(2);
    assert!(r.stderr.contains("no AWS credentials"), "{}", r.stderr);
}

#[test]
fn baseline_and_repair_work_over_the_data_api() {
    let s = Setup::new();
    s.migrate("baseline", &["--version", "1"]).expect(0);
    assert_eq!(history(&s.db), ["1|baseline|applied|0|0"]);
    s.dir
        .write("V1__before_baseline.sql", &create_table("never"))
        .write(
            "V2__partial.sql",
            "-- holdfast:no-transaction\nCREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (nope) VALUES (1);\n",
        );
    s.migrate("up", &[]).expect(1);
    assert_eq!(
        history(&s.db),
        ["1|baseline|applied|0|0", "2|versioned|failed|1|2"]
    );
    // Undo by hand, then repair removes the failed row.
    s.db.execute("DROP TABLE t2");
    s.migrate("repair", &["--yes"]).expect(0);
    assert_eq!(history(&s.db), ["1|baseline|applied|0|0"]);
    s.dir.write(
        "V2__partial.sql",
        "-- holdfast:no-transaction\nCREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1);\n",
    );
    s.migrate("up", &[]).expect(0);
    assert_eq!(tables(&s.db), ["t2"]);
    // An applied file edited afterwards: drift until repair realigns its checksum.
    s.dir.write(
        "V2__partial.sql",
        "-- holdfast:no-transaction\nCREATE TABLE t2 (id INTEGER);\nINSERT INTO t2 (id) VALUES (1); -- edited\n",
    );
    s.migrate("validate", &[]).expect(3);
    s.migrate("repair", &["--yes"]).expect(0);
    s.migrate("validate", &[]).expect(0);
}

#[test]
fn the_endpoint_can_come_from_aws_endpoint_url() {
    let s = Setup::new();
    s.dir.write("V1__one.sql", &create_table("t1"));
    let mut cmd = holdfast_aws(s.cwd.path());
    cmd.args(["migrate", "up", "--database", &s.url(), "--dir"])
        .arg(s.dir.path())
        .env("AWS_ENDPOINT_URL", s.endpoint.endpoint());
    Run::from(cmd.output().expect("run holdfast")).expect(0);
    assert_eq!(tables(&s.db), ["t1"]);
}

#[test]
fn status_tells_interrupted_from_running_by_reading_the_lock_row() {
    let s = Setup::new();
    s.dir.write(
        "V1__steps.sql",
        "-- holdfast:no-transaction\nCREATE TABLE t1 (id INTEGER);\nINSERT INTO t1 VALUES (1);\n",
    );
    s.migrate("up", &[]).expect(0);
    // As a runner killed before its first statement leaves it.
    s.db.execute("UPDATE holdfast_schema_history SET state = 'running', statements_applied = 0");
    let state = || {
        let run = s.migrate("status", &["--json"]);
        run.expect(0);
        run.json()["entries"][0]["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Nobody holds the lock: interrupted.
    assert_eq!(state(), "interrupted");
    // A live holder: it may still be running. The look changes nothing.
    s.db.execute(
        "UPDATE holdfast_lock SET owner = 'alive@elsewhere pid 2 #beef', token = 5, expires_at = now() + interval '10 minutes'",
    );
    assert_eq!(state(), "running");
    assert_eq!(s.lock_row(), ["alive@elsewhere pid 2 #beef|5"]);
}
