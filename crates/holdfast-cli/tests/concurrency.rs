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
