//! The credential detector's speed: the time to compile the built-in rules, and nanoseconds
//! per scan over 10,000 typical environment values (names, URLs, ARNs, paths, numbers, flags;
//! one in ten a random session secret, one in fifty a Stripe key).
//! `cargo bench -p holdfast-env --bench secrets`.

use std::hint::black_box;
use std::time::Instant;

use holdfast_env::secrets::Detector;

#[path = "../tests/fake/mod.rs"]
mod fake;

use fake::fake;

fn values(count: usize) -> Vec<(String, String)> {
    const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..count)
        .map(|i| {
            let n = i as u64;
            match i % 10 {
                0 => ("TABLE_NAME".into(), format!("orders-{i}-prod")),
                1 => (
                    "QUEUE_URL".into(),
                    format!("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs-{i}"),
                ),
                2 => (
                    "DB_SECRET_ARN".into(),
                    format!("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-{i}"),
                ),
                3 => ("LOG_LEVEL".into(), "info".into()),
                4 => ("TIMEOUT_MS".into(), format!("{}", 1000 + i)),
                5 => ("POWERTOOLS_SERVICE_NAME".into(), format!("service-{i}")),
                6 => ("API_KEY_PARAM".into(), format!("/prod/service-{i}/api-key")),
                7 => (
                    "DATABASE_URL".into(),
                    format!("postgres://app@db-{i}.example.com:5432/orders"),
                ),
                8 if i % 50 == 8 => (
                    "STRIPE_SECRET_KEY".into(),
                    format!("sk_{}_{}", "live", fake(ALNUM, 24, n)),
                ),
                8 => ("SESSION_SECRET".into(), fake(ALNUM, 32, n)),
                _ => ("FEATURE_FLAGS".into(), "checkout,search,beta-ui".into()),
            }
        })
        .collect()
}

fn main() {
    let started = Instant::now();
    let detector = Detector::builtin();
    let compiled = started.elapsed();
    println!(
        "compile {} rules: {:.1} ms",
        detector.rules().len(),
        compiled.as_secs_f64() * 1e3
    );

    let values = values(10_000);
    let mut best = f64::INFINITY;
    let mut hits = 0;
    for _ in 0..5 {
        let started = Instant::now();
        hits = values
            .iter()
            .filter(|(key, value)| black_box(detector.scan(key, value)).is_some())
            .count();
        let per_value = started.elapsed().as_secs_f64() * 1e9 / values.len() as f64;
        best = best.min(per_value);
    }
    println!(
        "scan {} values ({hits} hits): {best:.0} ns per value (best of 5)",
        values.len()
    );
}
