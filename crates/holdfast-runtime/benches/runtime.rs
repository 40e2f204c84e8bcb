//! holdfast-runtime against the naive approach users write by hand: a process-wide map filled
//! by plain SDK calls, with no time to live.
//!
//! 1. **Cached read**: one read of a secret already in memory (ns per read): `Secrets::get`
//!    (TTL check, recency, a shared value) against a `Mutex<HashMap<String, String>>` lookup
//!    and clone.
//! 2. **Typed configuration**: `EnvConfig::load` of a six-field struct (µs) against reading
//!    and parsing the same variables by hand.
//! 3. **Cold start** (against a moto server, when one is found as the test kit finds it:
//!    `HOLDFAST_TEST_MOTO_SERVER`, `target/moto-venv`, `PATH`): from nothing to a loaded
//!    configuration and three secrets (ms) — new SDK configuration and clients each time, as a
//!    new execution environment has. holdfast-runtime reads the three at once; the peer one
//!    after another, as the hand-written map does.
//!
//! ```text
//! cargo bench -p holdfast-runtime --bench runtime
//! ```
//!
//! `HOLDFAST_BENCH_RUNS` sets the cold starts per side (default 30). Prints a Markdown table
//! of medians and ratios.

use holdfast_runtime::config::EnvConfig;
use holdfast_runtime::secrets::{build_http_client, Fetch, Item, SecretValue, Secrets, Source};
use serde::Deserialize;
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

const SECRETS: [&str; 3] = ["bench/stripe", "bench/database", "bench/webhook"];

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Settings {
    orders_table: String,
    port: u16,
    debug: bool,
    timeout: Duration,
    log_level: String,
    max_items: u32,
}

fn vars() -> Vec<(String, String)> {
    [
        ("ORDERS_TABLE", "orders"),
        ("PORT", "8080"),
        ("DEBUG", "false"),
        ("TIMEOUT", "5s"),
        ("STAGE", "prod"),
        ("PATH", "/usr/local/bin:/usr/bin:/bin"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_LAMBDA_FUNCTION_NAME", "orders"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn holdfast_config(vars: &[(String, String)]) -> Settings {
    EnvConfig::from_vars(vars.iter().cloned())
        .stage_var("STAGE")
        .default("LOG_LEVEL", "debug")
        .default_for(
            holdfast_runtime::stage::Environment::Production,
            "LOG_LEVEL",
            "warn",
        )
        .default("MAX_ITEMS", "100")
        .required("ORDERS_TABLE")
        .load()
        .expect("configuration")
}

/// What users write by hand: look each variable up and parse it.
fn naive_config(vars: &[(String, String)]) -> Settings {
    let map: HashMap<&str, &str> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let get = |k: &str| map.get(k).copied();
    let prod = get("STAGE") == Some("prod");
    Settings {
        orders_table: get("ORDERS_TABLE").expect("ORDERS_TABLE").to_owned(),
        port: get("PORT").unwrap_or("8080").parse().expect("PORT"),
        debug: get("DEBUG").unwrap_or("false").parse().expect("DEBUG"),
        timeout: Duration::from_secs(
            get("TIMEOUT")
                .unwrap_or("5s")
                .trim_end_matches('s')
                .parse()
                .expect("TIMEOUT"),
        ),
        log_level: get("LOG_LEVEL")
            .unwrap_or(if prod { "warn" } else { "debug" })
            .to_owned(),
        max_items: get("MAX_ITEMS")
            .unwrap_or("100")
            .parse()
            .expect("MAX_ITEMS"),
    }
}

/// The naive peer's cache: a process-wide map, no TTL.
fn naive_map() -> &'static Mutex<HashMap<String, String>> {
    static MAP: OnceLock<Mutex<HashMap<String, String>>> = OnceLock::new();
    MAP.get_or_init(|| Mutex::new(HashMap::new()))
}

/// In memory, for the cached-read measure (the source is never asked after the first read).
struct Fixed;

impl Source for Fixed {
    fn fetch<'a>(&'a self, item: Item<'a>) -> Fetch<'a> {
        Box::pin(async move { Ok(SecretValue::from(format!("value of {}", item.name()))) })
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// The median over 31 batches of the time per call of `f`, in ns.
fn per_call_ns(batch: u32, mut f: impl FnMut()) -> f64 {
    for _ in 0..batch {
        f();
    }
    let samples = (0..31)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..batch {
                f();
            }
            started.elapsed().as_nanos() as f64 / f64::from(batch)
        })
        .collect();
    median(samples)
}

/// The output of a future that is ready at its first poll (a cache hit never waits).
fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("a cache hit waited"),
    }
}

fn moto_available() -> bool {
    let venv = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../target/moto-venv/bin/moto_server"
    );
    std::env::var_os("HOLDFAST_TEST_MOTO_SERVER").is_some_and(|p| !p.is_empty())
        || std::path::Path::new(venv).is_file()
        || std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|d| d.join("moto_server").is_file())
        })
}

async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(
            holdfast_testkit::moto::AWS_TEST_REGION,
        ))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "testing", "testing", None, None, "bench",
        ))
        .http_client(build_http_client())
        .load()
        .await
}

async fn holdfast_cold_start(endpoint: &str, vars: &[(String, String)]) -> Duration {
    let started = Instant::now();
    let settings = holdfast_config(vars);
    let secrets = Secrets::builder()
        .sdk_config(sdk_config(endpoint).await)
        .build()
        .await
        .expect("build");
    let (a, b, c) = tokio::try_join!(
        secrets.get(Item::Secret(SECRETS[0])),
        secrets.get(Item::Secret(SECRETS[1])),
        secrets.get(Item::Secret(SECRETS[2])),
    )
    .expect("read");
    let elapsed = started.elapsed();
    black_box((settings, a, b, c));
    elapsed
}

async fn naive_cold_start(endpoint: &str, vars: &[(String, String)]) -> Duration {
    let started = Instant::now();
    let settings = naive_config(vars);
    let client = aws_sdk_secretsmanager::Client::new(&sdk_config(endpoint).await);
    naive_map().lock().unwrap().clear();
    for name in SECRETS {
        let value = client
            .get_secret_value()
            .secret_id(name)
            .send()
            .await
            .expect("GetSecretValue")
            .secret_string
            .expect("a string");
        naive_map().lock().unwrap().insert(name.to_owned(), value);
    }
    let elapsed = started.elapsed();
    black_box(settings);
    elapsed
}

fn ms(seconds: f64) -> String {
    format!("{:.2}", seconds * 1000.0)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut rows: Vec<(String, String, String, f64)> = Vec::new();

    // 1. A cached read.
    let secrets = rt.block_on(async {
        let secrets = Secrets::builder().source(Fixed).build().await.unwrap();
        secrets.get(Item::Secret(SECRETS[0])).await.unwrap();
        secrets
    });
    let hit = per_call_ns(200_000, || {
        let value = ready(secrets.get(Item::Secret(black_box(SECRETS[0]))));
        black_box(value.unwrap());
    });
    naive_map()
        .lock()
        .unwrap()
        .insert(SECRETS[0].to_owned(), "value".to_owned());
    let peer_hit = per_call_ns(200_000, || {
        let map = naive_map().lock().unwrap();
        black_box(map.get(black_box(SECRETS[0])).cloned());
    });
    rows.push((
        "cached read of a secret (ns)".into(),
        format!("{hit:.0}"),
        format!("{peer_hit:.0}"),
        hit / peer_hit,
    ));

    // 2. Typed configuration.
    let vars = vars();
    let config = per_call_ns(2_000, || {
        black_box(holdfast_config(black_box(&vars)));
    });
    let peer_config = per_call_ns(2_000, || {
        black_box(naive_config(black_box(&vars)));
    });
    rows.push((
        "typed configuration, 6 fields of 8 variables (µs)".into(),
        format!("{:.1}", config / 1000.0),
        format!("{:.1}", peer_config / 1000.0),
        config / peer_config,
    ));

    // 3. Cold start against moto.
    let runs: usize = std::env::var("HOLDFAST_BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(30);
    let moto = moto_available().then(holdfast_testkit::Moto::start);
    if let Some(moto) = &moto {
        let endpoint = moto.endpoint();
        rt.block_on(async {
            let client = aws_sdk_secretsmanager::Client::new(&sdk_config(&endpoint).await);
            for name in SECRETS {
                client
                    .create_secret()
                    .name(name)
                    .secret_string(format!(r#"{{"value":"{name}"}}"#))
                    .send()
                    .await
                    .expect("CreateSecret");
            }
            // Warm moto's own paths once per side.
            holdfast_cold_start(&endpoint, &vars).await;
            naive_cold_start(&endpoint, &vars).await;
        });
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            // Interleaved, so drift in the machine's load touches both alike.
            ours.push(
                rt.block_on(holdfast_cold_start(&endpoint, &vars))
                    .as_secs_f64(),
            );
            theirs.push(
                rt.block_on(naive_cold_start(&endpoint, &vars))
                    .as_secs_f64(),
            );
        }
        let (ours, theirs) = (median(ours), median(theirs));
        rows.push((
            "cold start: configuration + 3 secrets against moto (ms)".into(),
            ms(ours),
            ms(theirs),
            ours / theirs,
        ));
    }

    println!("| measure (median) | holdfast-runtime | naive peer | ratio |");
    println!("| --- | ---: | ---: | ---: |");
    for (measure, ours, theirs, ratio) in rows {
        println!("| {measure} | {ours} | {theirs} | {ratio:.2}x |");
    }
    if moto.is_none() {
        println!("\n(no moto_server found: the cold-start row needs one, see the test kit)");
    } else {
        println!("\n({runs} cold starts per side, interleaved)");
    }
}
