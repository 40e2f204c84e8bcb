//! Exactly once under concurrency: 16 processes of the built binary run `up` at once on a fresh
//! database, on each engine. Every migration's side-effect row proves how often it ran.

mod common;
use common::*;
use std::process::Stdio;

const RUNNERS: usize = 16;
const MIGRATIONS: usize = 12;

fn write_migrations(dir: &MigrationDir) {
    dir.write(
        "V1__side_effects.sql",
        "CREATE TABLE side_effects (version VARCHAR(20) NOT NULL);\nINSERT INTO side_effects (version) VALUES ('1');\n",
    );
    for v in 2..=MIGRATIONS {
        dir.write(
            &format!("V{v}__step_{v}.sql"),
            &format!(
                "{}INSERT INTO side_effects (version) VALUES ('{v}');\n",
                create_table(&format!("t{v}"))
            ),
        );
    }
    dir.write(
        "R__every_run.sql",
        "INSERT INTO side_effects (version) VALUES ('R');\n",
    );
}

#[test]
fn sixteen_runners_apply_each_migration_exactly_once() {
    for engine in Engine::ALL {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        write_migrations(&dir);
        let children: Vec<_> = (0..RUNNERS)
            .map(|_| {
                let mut cmd = holdfast(dir.path());
                cmd.args([
                    "migrate",
                    "up",
                    "--json",
                    "--lock-wait",
                    "2m",
                    "--database",
                    &db.url,
                    "--dir",
                ])
                .arg(dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
                cmd.spawn().expect("spawn holdfast")
            })
            .collect();
        let mut applied_by_runner = Vec::new();
        for child in children {
            let run = Run::from(child.wait_with_output().unwrap());
            run.expect(0);
            applied_by_runner.push(run.json()["applied"].as_array().unwrap().len());
        }
        // Every migration ran exactly once, across all runners together.
        let mut counts = db.query_text("SELECT version FROM side_effects ORDER BY version");
        counts.sort();
        let mut expected: Vec<String> = (1..=MIGRATIONS)
            .map(|v| v.to_string())
            .chain(["R".to_string()])
            .collect();
        expected.sort();
        assert_eq!(counts, expected, "{engine:?}: side effects");
        assert_eq!(
            applied_by_runner.iter().sum::<usize>(),
            MIGRATIONS + 1,
            "{engine:?}: {applied_by_runner:?}"
        );
        let history = history(&db);
        assert_eq!(history.len(), MIGRATIONS + 1, "{engine:?}: {history:?}");
        assert!(
            history.iter().all(|h| h.contains("|applied|")),
            "{engine:?}: {history:?}"
        );
    }
}

/// Runners waiting for the lock must not hold a snapshot: `CREATE INDEX CONCURRENTLY` waits for
/// every transaction with an older snapshot, so a waiter blocked inside a lock call would
/// deadlock against the holder (one of them killed with SQLSTATE 40P01, perhaps leaving an
/// INVALID index behind). MariaDB's online `ALTER TABLE … LOCK=NONE` is the same kind of
/// statement there.
#[test]
fn twelve_runners_and_an_online_index_build_all_succeed() {
    const ONLINE_RUNNERS: usize = 12;
    for engine in [Engine::Postgres, Engine::MySql] {
        let db = TempDatabase::new(engine);
        let dir = MigrationDir::new();
        let (fill, index) = match engine {
            Engine::Postgres => (
                "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;\n",
                "-- holdfast:no-transaction\nCREATE INDEX CONCURRENTLY t_note ON t (note);\n",
            ),
            _ => (
                "INSERT INTO t SELECT seq, md5(seq) FROM seq_1_to_20000;\n",
                "ALTER TABLE t ADD INDEX t_note (note), ALGORITHM=INPLACE, LOCK=NONE;\n",
            ),
        };
        dir.write(
            "V1__t.sql",
            &format!("CREATE TABLE t (id int PRIMARY KEY, note varchar(64));\n{fill}"),
        );
        dir.write("V2__idx.sql", index);
        dir.write("V3__after.sql", "CREATE TABLE after_index (id int);\n");
        let children: Vec<_> = (0..ONLINE_RUNNERS)
            .map(|_| {
                let mut cmd = holdfast(dir.path());
                cmd.args(["migrate", "up", "--json", "--lock-wait", "2m", "--database"])
                    .arg(&db.url)
                    .arg("--dir")
                    .arg(dir.path())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                cmd.spawn().expect("spawn holdfast")
            })
            .collect();
        let mut applied = 0;
        for child in children {
            let run = Run::from(child.wait_with_output().unwrap());
            run.expect(0);
            applied += run.json()["applied"].as_array().unwrap().len();
        }
        assert_eq!(
            applied, 3,
            "{engine:?}: each migration applied once across all runners"
        );
        let index_state = match engine {
            Engine::Postgres => db.query_text(
                "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_note'::regclass",
            ),
            _ => db.query_text(
                "SELECT CAST(COUNT(*) > 0 AS CHAR) FROM information_schema.statistics \
                 WHERE table_schema = DATABASE() AND index_name = 't_note'",
            ),
        };
        assert!(
            matches!(index_state.as_slice(), [v] if v == "true" || v == "1"),
            "{engine:?}: the index exists and is valid: {index_state:?}"
        );
        let history = history(&db);
        assert_eq!(history.len(), 3, "{engine:?}: {history:?}");
        assert!(
            history.iter().all(|h| h.contains("|applied|")),
            "{engine:?}: {history:?}"
        );
    }
}
