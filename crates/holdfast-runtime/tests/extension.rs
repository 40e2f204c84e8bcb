//! Extension mode: reads through a stand-in of the Parameters and Secrets Lambda Extension
//! (its HTTP protocol, token header checked), and through the SDK against moto while the
//! extension cannot answer (the init phase: not listening, or "not ready").

#![cfg(feature = "aws")]

mod support;

use holdfast_runtime::secrets::{Extension, Item, Secrets};
use holdfast_testkit::SecretsExtension;
use std::time::Duration;
use support::Aws;

const TOKEN: &str = "session-token-of-the-test";

async fn through(extension: Extension, aws: &Aws) -> Secrets {
    Secrets::builder()
        .extension(extension)
        .sdk_config(aws.counted_config().await)
        .ttl(Duration::from_secs(300))
        .build()
        .await
        .expect("build")
}

#[tokio::test]
async fn the_extension_serves_secrets_and_parameters_given_the_session_token() {
    let aws = Aws::start().await;
    let stand_in = SecretsExtension::start(TOKEN);
    stand_in.put_secret("prod/db+1", r#"{"password":"from the extension"}"#);
    stand_in.put_parameter("/prod/flags", "a,b");
    let secrets = through(Extension::new(stand_in.endpoint(), TOKEN), &aws).await;

    let password = secrets
        .get_json_key(Item::Secret("prod/db+1"), "password")
        .await
        .unwrap();
    assert_eq!(password.expose(), "from the extension");
    let flags = secrets.get(Item::Parameter("/prod/flags")).await.unwrap();
    assert_eq!(flags.expose(), "a,b");
    // Cached: no second request.
    secrets.get(Item::Parameter("/prod/flags")).await.unwrap();

    let requests = stand_in.requests();
    let targets: Vec<&str> = requests.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        targets,
        [
            "/secretsmanager/get?secretId=prod%2Fdb%2B1",
            "/systemsmanager/parameters/get?name=%2Fprod%2Fflags&withDecryption=true",
        ]
    );
    assert!(requests.iter().all(|r| r.token_ok && r.status == 200));
    assert_eq!(aws.calls("GetSecretValue") + aws.calls("GetParameter"), 0);

    let missing = secrets.get(Item::Secret("absent")).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing:?}");
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_not_taken_for_the_init_phase() {
    let aws = Aws::start().await;
    let stand_in = SecretsExtension::start(TOKEN);
    stand_in.put_secret("s", "value");
    aws.create_secret("s", "from the SDK").await;
    let secrets = through(Extension::new(stand_in.endpoint(), "another token"), &aws).await;
    let error = secrets.get(Item::Secret("s")).await.unwrap_err();
    assert!(error.is_access_denied(), "{error:?}");
    assert!(!error.to_string().contains("another token"), "{error}");
    assert_eq!(stand_in.requests().len(), 1);
    assert!(!stand_in.requests()[0].token_ok);
    assert_eq!(aws.calls("GetSecretValue"), 0, "no fallback");
}

#[tokio::test]
async fn during_the_init_phase_reads_take_the_sdk_then_the_extension() {
    let aws = Aws::start().await;
    aws.create_secret("app/key", "from the SDK").await;
    aws.put_parameter("/app/p", "parameter from the SDK").await;

    // Not listening yet: a port nothing listens on.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let early = through(
        Extension::new(format!("http://127.0.0.1:{closed}"), TOKEN),
        &aws,
    )
    .await;
    let value = early.get(Item::Secret("app/key")).await.unwrap();
    assert_eq!(value.expose(), "from the SDK");
    let value = early.get(Item::Parameter("/app/p")).await.unwrap();
    assert_eq!(value.expose(), "parameter from the SDK");
    assert_eq!(
        (aws.calls("GetSecretValue"), aws.calls("GetParameter")),
        (1, 1)
    );

    // Listening but not ready: the SDK again; ready: the extension.
    let stand_in = SecretsExtension::start(TOKEN);
    stand_in.put_secret("app/key", "from the extension");
    stand_in.set_ready(false);
    let secrets = through(Extension::new(stand_in.endpoint(), TOKEN), &aws).await;
    let value = secrets.get(Item::Secret("app/key")).await.unwrap();
    assert_eq!(value.expose(), "from the SDK");
    assert_eq!(aws.calls("GetSecretValue"), 2);
    assert_eq!(stand_in.requests().len(), 1);
    assert_eq!(stand_in.requests()[0].status, 400);

    stand_in.set_ready(true);
    let value = secrets.refresh(Item::Secret("app/key")).await.unwrap();
    assert_eq!(value.expose(), "from the extension");
    assert_eq!(aws.calls("GetSecretValue"), 2, "no SDK call once ready");
    assert_eq!(stand_in.requests().len(), 2);
}
