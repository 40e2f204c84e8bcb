//! A Lambda function's cold start with holdfast-runtime: typed configuration, three secrets
//! read at once, and the stage guard, before the first event is served.
//!
//! ```text
//! cargo run --example function -p holdfast-runtime
//! ```
//!
//! Run here, it reads `STAGE`, `ORDERS_TABLE` and the rest from the environment and its
//! secrets from Secrets Manager and Parameter Store (`AWS_REGION` and credentials as the SDK
//! finds them; `AWS_ENDPOINT_URL` for a local server), and says what it would serve with.
//!
//! In a real function the same `cold_start` runs once, before `lambda_runtime::run`, and the
//! handler borrows what it built (the secrets cache keeps serving, refreshing values after
//! their time to live):
//!
//! ```ignore
//! use lambda_runtime::{service_fn, Error, LambdaEvent};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let app = &*Box::leak(Box::new(cold_start().await?));
//!     lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| async move {
//!         let key = app.secrets.get(Item::Secret(&app.settings.stripe_secret)).await?;
//!         handle(app, key, event.payload).await
//!     }))
//!     .await
//! }
//! ```
//!
//! A failed cold start (a configuration problem, a secret that cannot be read, a live key
//! outside production) returns its error from `main`: Lambda reports it as an init error and
//! the function never serves an event with a wrong setting.

use holdfast_runtime::config::EnvConfig;
use holdfast_runtime::guard::Findings;
use holdfast_runtime::secrets::{Extension, Item, Secrets};
use holdfast_runtime::stage::Environment;
use serde::Deserialize;
use std::time::Duration;

/// The function's settings, from its environment.
#[derive(Debug, Deserialize)]
struct Settings {
    /// The table of orders.
    orders_table: String,
    /// How long a call to the payment webhook may take.
    webhook_timeout: Duration,
    /// `debug`, `info`, `warn`.
    log_level: String,
    /// Whether to read through the Parameters and Secrets Lambda Extension.
    use_extension: bool,
    /// The names of the secrets.
    stripe_secret: String,
    database_secret: String,
    feature_flags: String,
}

/// What the handler works with.
#[derive(Debug)]
struct App {
    environment: Environment,
    settings: Settings,
    secrets: Secrets,
}

#[derive(Debug, thiserror::Error)]
enum ColdStartError {
    #[error(transparent)]
    Config(#[from] holdfast_runtime::config::ConfigErrors),
    #[error(transparent)]
    Secrets(#[from] holdfast_runtime::secrets::SecretsError),
    #[error(transparent)]
    Guard(#[from] holdfast_runtime::guard::StageGuardError),
}

async fn cold_start() -> Result<App, ColdStartError> {
    let config = EnvConfig::from_env()
        .stage_var("STAGE")
        .default("STAGE", "dev")
        .default("WEBHOOK_TIMEOUT", "5s")
        .default("LOG_LEVEL", "debug")
        .default_for(Environment::Production, "LOG_LEVEL", "warn")
        .default("USE_EXTENSION", "false")
        .default("STRIPE_SECRET", "dev/stripe")
        .default_for(Environment::Production, "STRIPE_SECRET", "prod/stripe")
        .default("DATABASE_SECRET", "dev/database")
        .default_for(Environment::Production, "DATABASE_SECRET", "prod/database")
        .default("FEATURE_FLAGS", "/dev/feature-flags")
        .required("ORDERS_TABLE");
    let environment = config.environment();
    let settings: Settings = config.load()?;

    let mut builder = Secrets::builder().ttl(Duration::from_secs(300));
    if settings.use_extension {
        builder = builder.extension(Extension::from_env());
    }
    let secrets = builder.build().await?;

    // The three reads run at once: one round trip of cold start, not three.
    let (stripe, password, flags) = tokio::try_join!(
        secrets.get(Item::Secret(&settings.stripe_secret)),
        secrets.get_json_key(Item::Secret(&settings.database_secret), "password"),
        secrets.get(Item::Parameter(&settings.feature_flags)),
    )?;

    // No live key outside production, no test key in it: the variables and the secrets.
    let mut findings = Findings::new(environment);
    for (name, value) in std::env::vars() {
        findings.check(name, &value);
    }
    findings
        .check(
            format!("secret {}", settings.stripe_secret),
            stripe.expose(),
        )
        .check(
            format!("secret {}", settings.database_secret),
            password.expose(),
        )
        .check(
            format!("parameter {}", settings.feature_flags),
            flags.expose(),
        );
    findings.finish()?;

    Ok(App {
        environment,
        settings,
        secrets,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    match cold_start().await {
        Ok(app) => println!(
            "ready: a {} function on table {} (log level {}, webhook timeout {:?}), {:?}",
            app.environment,
            app.settings.orders_table,
            app.settings.log_level,
            app.settings.webhook_timeout,
            app.secrets
        ),
        Err(error) => {
            eprintln!("cold start failed: {error}");
            std::process::exit(1);
        }
    }
}
