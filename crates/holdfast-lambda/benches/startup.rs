//! The Lambda function's size and start-up: how long the packaged `bootstrap` takes from `exec`
//! to its first `next` request on a local Lambda Runtime API (the test kit's), and to the answer
//! of a first invocation (a Delete, which touches nothing) — a cold start's share that is ours.
//! Run by `bench/lambda/run.sh`, which packages the function first.
//!
//! Environment: `HOLDFAST_BENCH_BOOTSTRAP` (the binary; default
//! target/x86_64-unknown-linux-gnu/lambda/bootstrap), `HOLDFAST_BENCH_ZIP` (its zip),
//! `HOLDFAST_BENCH_RUNS` (start-ups, default 50), `HOLDFAST_BENCH_OUT` (write the Markdown
//! section there).

use holdfast_testkit::lambda::Answer;
use holdfast_testkit::LambdaRuntime;
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort_unstable();
    let index = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[index]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let binary = std::env::var_os("HOLDFAST_BENCH_BOOTSTRAP").map_or_else(
        || target.join("x86_64-unknown-linux-gnu/lambda/bootstrap"),
        PathBuf::from,
    );
    let zip = std::env::var_os("HOLDFAST_BENCH_ZIP").map_or_else(
        || target.join("lambda-package/bootstrap.zip"),
        PathBuf::from,
    );
    let runs: usize = std::env::var("HOLDFAST_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let size = std::fs::metadata(&binary)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run scripts/package-lambda first)",
                binary.display()
            )
        })
        .len();
    let zip_size = std::fs::metadata(&zip).map(|m| m.len()).ok();

    let event = json!({
        "RequestType": "Delete", "ResponseURL": "...", "StackId": "s", "RequestId": "r",
        "LogicalResourceId": "Migrations", "PhysicalResourceId": "holdfast-Migrations",
        "ResourceProperties": {"Operation": "SqlMigrate"}
    });
    let (mut to_next, mut to_answer) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let runtime = LambdaRuntime::start();
        let started = Instant::now();
        let mut child = runtime
            .function_command(&binary)
            .envs(holdfast_testkit::moto::AWS_TEST_ENV)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start bootstrap");
        let polled = runtime
            .wait_for_poll(1, Duration::from_secs(10))
            .expect("bootstrap never asked for an event");
        to_next.push(polled.duration_since(started));
        let invoked = runtime.invoke(&event, Duration::from_secs(10));
        assert!(
            matches!(invoked.answer, Some(Answer::Response(_))),
            "{invoked:?}"
        );
        to_answer.push(started.elapsed());
        let _ = child.kill();
        let _ = child.wait();
    }
    let next_median = median(to_next.clone());
    let answer_median = median(to_answer.clone());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    out.push_str("## Lambda function\n\n");
    out.push_str("Reproduce: `bench/lambda/run.sh` (packages the function with `scripts/package-lambda`, untimed; start-ups: `HOLDFAST_BENCH_RUNS`, default 50).\n\n");
    out.push_str("The packaged `bootstrap` (profile `lambda`, glibc 2.34 target) is started as a child process against the test kit's local Lambda Runtime API, as Lambda starts it, and timed from spawn to its first `GET /runtime/invocation/next` (start-up: the Rust runtime, logging, the handler's set-up) and to the answer of a first invocation (a Delete behind the provider framework, which touches nothing). No AWS call and no database connection is included: those depend on the network. There is no peer to run here: the seeds' handlers need Lambda's Node.js or Java runtime.\n\n");
    out.push_str(&format!(
        "Measured on {cores} cores, {runs} start-ups; medians <sub>(90th percentile)</sub>.\n\n"
    ));
    out.push_str("| measure | value | aim | met |\n| --- | ---: | ---: | --- |\n");
    out.push_str(&format!(
        "| `bootstrap` size (stripped) | {} | under 25 MB | {} |\n",
        mb(size),
        if size < 25_000_000 { "yes" } else { "**no**" }
    ));
    if let Some(z) = zip_size {
        out.push_str(&format!("| `bootstrap.zip` size | {} | | |\n", mb(z)));
    }
    out.push_str(&format!(
        "| start-up: spawn → first `next` request | {} <sub>({})</sub> | under 50 ms | {} |\n",
        ms(next_median),
        ms(percentile(to_next, 0.9)),
        if next_median < Duration::from_millis(50) {
            "yes"
        } else {
            "**no**"
        }
    ));
    out.push_str(&format!(
        "| spawn → first invocation answered | {} <sub>({})</sub> | | |\n",
        ms(answer_median),
        ms(percentile(to_answer, 0.9))
    ));
    print!("{out}");
    if let Some(path) = std::env::var_os("HOLDFAST_BENCH_OUT") {
        std::fs::write(path, out).expect("write the section");
    }
}
