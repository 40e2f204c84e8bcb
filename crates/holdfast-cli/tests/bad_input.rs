//! Every bad input: a one-line message naming the file, line or key at fault, exit code 2, and
//! the database untouched (no history table, no user table, no SQLite file).

mod common;
use common::*;

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    engine: Engine,
    extra: &'static [&'static str],
    /// Every one of these must appear in stderr.
    message: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "duplicate version",
        files: &[
            ("V1__a.sql", "CREATE TABLE a (id int);"),
            ("V1.0__b.sql", "CREATE TABLE b (id int);"),
        ],
        engine: Engine::Sqlite,
        extra: &[],
        message: &["V1__a.sql", "V1.0__b.sql", "both have version"],
    },
    Case {
        name: "unparseable name",
        files: &[
            ("V1__a.sql", "CREATE TABLE a (id int);"),
            ("V2_b.sql", "CREATE TABLE b (id int);"),
        ],
        engine: Engine::Sqlite,
        extra: &[],
        message: &["V2_b.sql", "not a valid migration name"],
    },
    Case {
        name: "empty file",
        files: &[
            ("V1__a.sql", "CREATE TABLE a (id int);"),
            ("V2__empty.sql", "-- nothing yet\n"),
        ],
        engine: Engine::Postgres,
        extra: &[],
        message: &["V2__empty.sql", "has no SQL statements yet"],
    },
    Case {
        name: "unterminated string",
        files: &[(
            "V1__a.sql",
            "CREATE TABLE a (id int);\nINSERT INTO a VALUES ('oops);\n",
        )],
        engine: Engine::MySql,
        extra: &[],
        message: &["V1__a.sql:2", "unterminated"],
    },
    Case {
        name: "unterminated dollar quote",
        files: &[(
            "V1__f.sql",
            "CREATE FUNCTION f() RETURNS int AS $$\nSELECT 1;\n",
        )],
        engine: Engine::Postgres,
        extra: &[],
        message: &["V1__f.sql:1", "unterminated"],
    },
    Case {
        name: "unknown directive",
        files: &[(
            "V1__a.sql",
            "-- holdfast:no-transactoin\nCREATE TABLE a (id int);",
        )],
        engine: Engine::Postgres,
        extra: &[],
        message: &["V1__a.sql:1", "unknown directive"],
    },
    Case {
        name: "COPY FROM stdin",
        files: &[(
            "V1__a.sql",
            "CREATE TABLE a (id int);\nCOPY a FROM stdin;\n1\n\\.\n",
        )],
        engine: Engine::Postgres,
        extra: &[],
        message: &["V1__a.sql:2", "COPY", "not supported"],
    },
    Case {
        name: "CONCURRENTLY inside a transaction",
        files: &[(
            "V1__a.sql",
            "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n",
        )],
        engine: Engine::Postgres,
        extra: &[],
        message: &[
            "V1__a.sql",
            "statement 2 (line 2)",
            "holdfast:no-transaction",
        ],
    },
    Case {
        name: "explicit COMMIT inside a transaction",
        files: &[(
            "V1__a.sql",
            "CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);\n",
        )],
        engine: Engine::Sqlite,
        extra: &[],
        message: &["V1__a.sql", "statement 2", "transaction control"],
    },
    Case {
        name: "invalid UTF-8",
        files: &[
            ("V1__a.sql", "CREATE TABLE a (id int);\n"),
            ("V2__b.sql", "\u{0}"),
        ],
        engine: Engine::Sqlite,
        extra: &[],
        message: &["V2__b.sql"],
    },
    Case {
        name: "bad target",
        files: &[("V1__a.sql", "CREATE TABLE a (id int);")],
        engine: Engine::Sqlite,
        extra: &["--target", "latest"],
        message: &["--target", "latest"],
    },
    Case {
        name: "bad lock wait",
        files: &[("V1__a.sql", "CREATE TABLE a (id int);")],
        engine: Engine::Sqlite,
        extra: &["--lock-wait", "forever"],
        message: &["--lock-wait"],
    },
    Case {
        name: "bad history table name",
        files: &[("V1__a.sql", "CREATE TABLE a (id int);")],
        engine: Engine::Postgres,
        extra: &["--history-table", "x; DROP TABLE y"],
        message: &["history table name", "not a plain identifier"],
    },
];

#[test]
fn bad_input_is_refused_before_anything_changes() {
    for case in CASES {
        let db = TempDatabase::new(case.engine);
        let dir = MigrationDir::new();
        for (name, text) in case.files {
            if *name == "V2__b.sql" && case.name == "invalid UTF-8" {
                std::fs::write(dir.path().join(name), [0x53, 0x45, 0xff, 0xfe, b';']).unwrap();
            } else {
                dir.write(name, text);
            }
        }
        // --target belongs to `up` only.
        let subs: &[&str] = if case.extra.contains(&"--target") {
            &["up"]
        } else {
            &["up", "plan", "validate"]
        };
        for &sub in subs {
            let run = migrate(&db, &dir, sub, case.extra);
            assert_eq!(
                run.code, 2,
                "{} ({sub}): expected exit 2\nstdout:\n{}\nstderr:\n{}",
                case.name, run.stdout, run.stderr
            );
            let text = run.all();
            for needle in case.message {
                assert!(
                    text.contains(needle),
                    "{} ({sub}): missing `{needle}` in:\n{text}",
                    case.name
                );
            }
            assert!(!text.contains("panicked"), "{}: {text}", case.name);
            match case.engine {
                Engine::Sqlite => {
                    let path = db.sqlite_path().unwrap();
                    assert!(
                        !path.exists(),
                        "{} ({sub}): the SQLite file was created",
                        case.name
                    );
                }
                _ => {
                    assert!(
                        !db.table_exists("holdfast_schema_history"),
                        "{} ({sub}): history created",
                        case.name
                    );
                    assert!(
                        user_tables(&db).is_empty(),
                        "{} ({sub}): tables created",
                        case.name
                    );
                }
            }
        }
    }
}

#[test]
fn usage_errors_exit_2() {
    let dir = MigrationDir::new();
    let cases: &[(&[&str], &str)] = &[
        (&["migrate", "status", "--dir", "."], "no database"),
        (
            &["migrate", "status", "--database", "sqlite://x.db"],
            "no migrations folder",
        ),
        (
            &[
                "migrate",
                "status",
                "--database",
                "oracle://x",
                "--dir",
                ".",
            ],
            "not supported",
        ),
        (
            &[
                "migrate",
                "status",
                "--database",
                "sqlite://x.db",
                "--dir",
                "/no/such/folder",
            ],
            "/no/such/folder",
        ),
        (&["migrate", "frobnicate"], "frobnicate"),
        (
            &[
                "migrate",
                "repair",
                "--database",
                "sqlite://x.db",
                "--dir",
                ".",
            ],
            "--yes",
        ),
        (
            &["--config", "/no/such/holdfast.toml", "migrate", "status"],
            "/no/such/holdfast.toml",
        ),
    ];
    for (args, needle) in cases {
        let run = Run::from(holdfast(dir.path()).args(*args).output().unwrap());
        assert_eq!(run.code, 2, "{args:?}: {}", run.all());
        assert!(
            run.stderr.contains(needle),
            "{args:?}: missing `{needle}` in {}",
            run.stderr
        );
        assert!(!dir.path().join("x.db").exists());
    }
}

/// The AWS SDK's credential chain logs a multi-line dump at WARN when a profile is broken;
/// without -v the user sees only Holdfast's own one-line error.
#[test]
fn a_broken_aws_profile_gives_one_line_not_the_sdks_dump() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    std::fs::write(
        &config,
        "[profile broken]\nsso_start_url = https://example.invalid\n",
    )
    .unwrap();
    let output = std::process::Command::new(bin())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "broken")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "dynamo",
            "verify",
            "users",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ])
        .output()
        .unwrap();
    let run = Run::from(output);
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "{}", run.stderr);
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("no AWS credentials"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("WARN"), "{}", run.stderr);
}

/// `--total-segments`, as README writes it beside `--segment-range`, is shown by `--help`.
#[test]
fn copy_help_shows_total_segments() {
    let output = std::process::Command::new(bin())
        .args(["dynamo", "copy", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("total-segments"), "{help}");
}

#[test]
fn config_and_stage_are_refused_by_commands_that_read_no_configuration() {
    let dir = tempfile::tempdir().unwrap();
    for (flags, named) in [
        (vec!["--stage", "prod", "dynamo", "verify", "t"], "--stage"),
        (
            vec!["dynamo", "verify", "t", "--config", "x.toml"],
            "--config",
        ),
    ] {
        let output = holdfast(dir.path())
            .args(&flags)
            .args(["--endpoint-url", "http://127.0.0.1:9", "--json"])
            .output()
            .unwrap();
        let run = Run::from(output);
        run.expect(2);
        assert!(
            run.stderr.contains(named) && run.stderr.contains("dynamo verify"),
            "{}",
            run.stderr
        );
        assert_eq!(run.json()["command"], "dynamo verify");
        assert_eq!(run.json()["outcome"], "usage");
    }
    // The variables stay ignored: a CI job may set them for every command.
    let output = holdfast(dir.path())
        .env("HOLDFAST_STAGE", "prod")
        .args([
            "dynamo",
            "verify",
            "t",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .output()
        .unwrap();
    let run = Run::from(output);
    assert!(!run.stderr.contains("does not apply"), "{}", run.stderr);
}
