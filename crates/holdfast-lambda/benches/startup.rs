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

/// Starts a function made by `command` against a fresh Runtime API: the time to its first `next`
/// request and to the answer of `event`.
fn start_up(
    event: &serde_json::Value,
    command: impl FnOnce(&LambdaRuntime) -> std::process::Command,
) -> (Duration, Duration) {
    let runtime = LambdaRuntime::start();
    let started = Instant::now();
    let mut child = command(&runtime)
        .envs(holdfast_testkit::moto::AWS_TEST_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the function");
    let polled = runtime
        .wait_for_poll(1, Duration::from_secs(10))
        .expect("the function never asked for an event");
    let invoked = runtime.invoke(event, Duration::from_secs(10));
    assert!(
        matches!(invoked.answer, Some(Answer::Response(_))),
        "{invoked:?}"
    );
    let answered = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    (polled.duration_since(started), answered)
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
    let node_peer = root.join("bench/lambda/node-peer.js");
    let node_available = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let (mut to_next, mut to_answer) = (Vec::new(), Vec::new());
    let (mut node_next, mut node_answer) = (Vec::new(), Vec::new());
    // Interleaved: one start-up of each per round.
    for _ in 0..runs {
        let (next, answer) = start_up(&event, |runtime| runtime.function_command(&binary));
        to_next.push(next);
        to_answer.push(answer);
        if node_available {
            let (next, answer) = start_up(&event, |runtime| {
                let mut command = runtime.function_command(std::path::Path::new("node"));
                command.arg(&node_peer);
                command
            });
            node_next.push(next);
            node_answer.push(answer);
        }
    }
    let next_median = median(to_next.clone());
    let answer_median = median(to_answer.clone());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let mut out = String::new();
    out.push_str("## Lambda function\n\n");
    out.push_str("Reproduce: `bench/lambda/run.sh` (packages the function with `scripts/package-lambda`, untimed; start-ups: `HOLDFAST_BENCH_RUNS`, default 50).\n\n");
    out.push_str("The packaged `bootstrap` (profile `lambda`, glibc 2.34 target) is started as a child process against the test kit's local Lambda Runtime API, as Lambda starts it, and timed from spawn to its first `GET /runtime/invocation/next` (start-up: the Rust runtime, logging, the handler's set-up) and to the answer of a first invocation (a Delete behind the provider framework, which touches nothing). No AWS call and no database connection is included: those depend on the network. The peer is the smallest Node.js function (`bench/lambda/node-peer.js`: Node and a Runtime API loop, no AWS SDK, no handler code), a lower bound for the seeds' Node.js handlers; their Java (Liquibase) handler starts a JVM and is slower still. Start-ups alternate between the two.\n\n");
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
    if !node_next.is_empty() {
        let node_median = median(node_next.clone());
        out.push_str(&format!(
            "| peer: Node.js Runtime API loop (`bench/lambda/node-peer.js`), spawn → first `next` | {} <sub>({})</sub> | | bootstrap is {:.1}× faster |\n",
            ms(node_median),
            ms(percentile(node_next, 0.9)),
            node_median.as_secs_f64() / next_median.as_secs_f64()
        ));
        out.push_str(&format!(
            "| peer: Node.js, spawn → first invocation answered | {} <sub>({})</sub> | | |\n",
            ms(median(node_answer.clone())),
            ms(percentile(node_answer, 0.9))
        ));
    }
    print!("{out}");
    if let Some(path) = std::env::var_os("HOLDFAST_BENCH_OUT") {
        std::fs::write(path, out).expect("write the section");
    }
}
