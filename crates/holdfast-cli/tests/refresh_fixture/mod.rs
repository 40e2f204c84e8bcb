//! What the refresh tests share: the key, the originals no output may show, the rules of the
//! users/orders/audit/events schema, and a run of the binary that checks its output for them.
#![allow(dead_code)]

use crate::common::{holdfast, Run};
use std::path::Path;

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
