//! What the refresh tests share: the key, the originals no output may show, the rules of the
//! users/orders/audit/events schema, and a run of the binary that checks its output for them.
#![allow(dead_code)]

use crate::common::{holdfast, Run, TempDatabase};
use std::path::Path;
use std::time::{Duration, Instant};

pub const KEY: &str = "k3y-for-the-refresh-tests-0123456789";

/// Original values of the test schemas: never in any output.
pub const ORIGINALS: &[&str] = &[
    "ann.real@corp.example",
    "bob.real@corp.example",
    "+44 7700 900123",
];

pub const RULES: &str = r#"
[refresh]
key = { env = "HOLDFAST_REFRESH_KEY" }
[refresh.tables.users]
email = "email"
full_name = "full_name"
phone = "phone"
notes = { keep = "reviewed: preferences only" }
[refresh.tables.orders]
user_email = "email"
card = "card"
[refresh.tables.audit]
payload = { transform = "json", paths = { "$..email" = "email", "$.ip" = "ip" } }
[refresh.tables.events]
ip = "ip"
"#;

/// `holdfast ARGS` in `dir` with the key set; fails the test if the output holds an original
/// or the key, or a panic.
pub fn run(dir: &Path, args: &[&str]) -> Run {
    let run = Run::from(
        holdfast(dir)
            .env("HOLDFAST_REFRESH_KEY", KEY)
            .args(args)
            .output()
            .expect("run holdfast"),
    );
    for v in ORIGINALS.iter().chain(&[KEY]) {
        assert!(!run.all().contains(v), "printed {v}:\n{}", run.all());
    }
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// Starts `holdfast refresh copy` from `source` into `target` in `dir`, waits until `busy` (a
/// count query on `target`) is not 0 — rows are being written — and kills it with SIGKILL.
pub fn kill_copy_while_writing(dir: &Path, source: &str, target: &TempDatabase, busy: &str) {
    let mut child = holdfast(dir)
        .env("HOLDFAST_REFRESH_KEY", KEY)
        .args([
            "refresh",
            "copy",
            "--source",
            source,
            "--target",
            &target.url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start holdfast");
    let deadline = Instant::now() + Duration::from_secs(60);
    while target.query_text(busy) == ["0"] {
        assert!(
            child.try_wait().expect("poll holdfast").is_none(),
            "the copy ended before it could be killed"
        );
        assert!(Instant::now() < deadline, "the copy never wrote rows");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill holdfast");
    child.wait().expect("reap holdfast");
}
