//! `RefreshSanitize` through the real `bootstrap` binary as a direct job (as a Step Functions
//! state runs it after restoring a snapshot), against real PostgreSQL and MariaDB: the
//! database rewritten in place with `[refresh]` from the deployed `holdfast.toml`, the report
//! returned, no original in the answer or the log; the wrong `ExpectName` refused with nothing
//! changed; a zero deadline stopping with the progress recorded, and the same job continuing.

mod support;

use holdfast_testkit::lambda::Answer;
use holdfast_testkit::{Engine, TempDatabase};
use serde_json::{json, Value};
use std::time::Duration;
use support::Function;

const KEY: &str = "lambda-refresh-key-0123456789abcdef";
const ORIGINAL: &str = "ann.real@corp.example";

fn answer(function: &Function, payload: &Value) -> Answer {
    let invoked = function.invoke(payload, Duration::from_secs(60));
    let answer = invoked.answer.clone().expect("an answer");
    let text = format!("{answer:?}{}", function.log());
    assert!(!text.contains(ORIGINAL) && !text.contains(KEY), "{text}");
    answer
}

#[test]
fn a_restored_database_is_sanitized_in_place_by_a_job() {
    let config = tempfile::tempdir().unwrap();
    let path = config.path().join("holdfast.toml");
    std::fs::write(
        &path,
        "[refresh]\nkey = { env = \"HOLDFAST_REFRESH_KEY\" }\n[refresh.tables.users]\nemail = \"email\"\n",
    )
    .unwrap();
    let function = Function::start(&[("HOLDFAST_REFRESH_KEY", KEY)]);
    for engine in [Engine::Postgres, Engine::MySql] {
        let db = TempDatabase::new(engine);
        db.execute("CREATE TABLE users (id int PRIMARY KEY, email varchar(200))");
        db.execute(&format!(
            "INSERT INTO users VALUES (1, '{ORIGINAL}'), (2, 'bob@corp.example')"
        ));
        let payload = |extra: Value| {
            let mut p = json!({
                "Operation": "RefreshSanitize",
                "DatabaseUrl": db.url,
                "ExpectName": db.name(),
                "ConfigPath": path.display().to_string(),
            });
            p.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            p
        };

        let Answer::Error { message, .. } =
            answer(&function, &payload(json!({"ExpectName": "staging"})))
        else {
            panic!("the wrong name was not refused");
        };
        let report: Value = serde_json::from_str(&message).unwrap();
        assert_eq!(report["exit_code"], 2, "{report}");
        assert_eq!(
            db.query_text("SELECT email FROM users ORDER BY id")[0],
            ORIGINAL
        );

        let Answer::Response(stopped) = answer(&function, &payload(json!({"Deadline": "0s"})))
        else {
            panic!("the stopped job failed:\n{}", function.log());
        };
        assert_eq!(stopped["exit_code"], 4, "{stopped}");

        let Answer::Response(done) = answer(&function, &payload(json!({}))) else {
            panic!("the job failed:\n{}", function.log());
        };
        assert_eq!(done["command"], "refresh sanitize", "{done}");
        assert_eq!(done["exit_code"], 0, "{done}");
        assert_eq!(done["summary"]["resumed"], true, "{done}");
        assert_eq!(done["verify"]["hits"], json!([]), "{done}");
        let emails = db.query_text("SELECT email FROM users ORDER BY id");
        assert!(
            emails.iter().all(|e| !e.ends_with("corp.example")),
            "{emails:?}"
        );
    }
}
