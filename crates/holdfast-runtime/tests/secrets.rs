//! The secrets cache through the AWS SDK against a moto server, every call counted at the
//! server side (a proxy in front of moto): time to live, per-read TTL, forced refresh, the
//! bound on entries, JSON keys, one call for concurrent first reads, decrypted parameters,
//! refresh on an authentication failure, and errors that never hold a value.

#![cfg(feature = "aws")]

mod support;

use holdfast_runtime::secrets::{Item, ReadOptions, Secrets, SecretsError, UseError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::Aws;

const GET_SECRET: &str = "GetSecretValue";
const GET_PARAMETER: &str = "GetParameter";

async fn secrets(aws: &Aws, ttl: Duration, max_entries: usize) -> Secrets {
    Secrets::builder()
        .sdk_config(aws.counted_config().await)
        .ttl(ttl)
        .max_entries(max_entries)
        .build()
        .await
        .expect("build")
}

async fn text(secrets: &Secrets, item: Item<'_>) -> String {
    secrets.get(item).await.expect("read").expose().to_owned()
}

#[tokio::test]
async fn a_value_is_served_from_memory_until_its_ttl_has_passed() {
    let aws = Aws::start().await;
    aws.create_secret("app/token", "first").await;
    let secrets = secrets(&aws, Duration::from_millis(1500), 16).await;
    let item = Item::Secret("app/token");

    assert_eq!(text(&secrets, item).await, "first");
    aws.rotate_secret("app/token", "second").await;
    assert_eq!(text(&secrets, item).await, "first", "still fresh");
    assert_eq!(aws.calls(GET_SECRET), 1);

    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(text(&secrets, item).await, "second", "expired");
    assert_eq!(text(&secrets, item).await, "second");
    assert_eq!(aws.calls(GET_SECRET), 2);
}

#[tokio::test]
async fn a_reads_own_ttl_and_a_forced_refresh_fetch_the_new_value() {
    let aws = Aws::start().await;
    aws.create_secret("app/key", "v1").await;
    let secrets = secrets(&aws, Duration::from_secs(300), 16).await;
    let item = Item::Secret("app/key");

    assert_eq!(text(&secrets, item).await, "v1");
    aws.rotate_secret("app/key", "v2").await;
    let refreshed = secrets.refresh(item).await.unwrap();
    assert_eq!(refreshed.expose(), "v2");
    assert_eq!(
        text(&secrets, item).await,
        "v2",
        "the refreshed value is kept"
    );
    assert_eq!(aws.calls(GET_SECRET), 2);

    aws.rotate_secret("app/key", "v3").await;
    let short = ReadOptions::ttl(Duration::from_millis(200));
    let read = secrets.get_with(item, short).await.unwrap();
    assert_eq!(read.expose(), "v2", "younger than the read's TTL");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read = secrets.get_with(item, short).await.unwrap();
    assert_eq!(read.expose(), "v3", "older than the read's TTL");
    assert_eq!(text(&secrets, item).await, "v3");
    assert_eq!(aws.calls(GET_SECRET), 3);
}

#[tokio::test]
async fn the_least_recently_read_item_goes_first_beyond_max_entries() {
    let aws = Aws::start().await;
    for name in ["a", "b", "c"] {
        aws.create_secret(name, &format!("value of {name}")).await;
    }
    let secrets = secrets(&aws, Duration::from_secs(300), 2).await;
    let read = |name| {
        let secrets = secrets.clone();
        async move { text(&secrets, Item::Secret(name)).await }
    };
    for name in ["a", "b", "c"] {
        read(name).await;
    }
    assert_eq!(aws.calls(GET_SECRET), 3);
    // c evicted a: b and c are served from memory.
    read("b").await;
    read("c").await;
    assert_eq!(aws.calls(GET_SECRET), 3);
    // a comes back (and b, read before c, goes).
    assert_eq!(read("a").await, "value of a");
    assert_eq!(aws.calls(GET_SECRET), 4);
    read("c").await;
    assert_eq!(aws.calls(GET_SECRET), 4);
    read("b").await;
    assert_eq!(aws.calls(GET_SECRET), 5);
}

#[tokio::test]
async fn json_keys_are_read_and_a_missing_key_is_named_without_the_value() {
    let aws = Aws::start().await;
    let password = "Pa55-w0rd-n3ver-sh0wn";
    let secret = format!(r#"{{"username":"app","password":"{password}","port":5432}}"#);
    aws.create_secret("rds/app", &secret).await;
    aws.create_secret("plain", password).await;
    let secrets = secrets(&aws, Duration::from_secs(300), 16).await;
    let item = Item::Secret("rds/app");

    let got = secrets.get_json_key(item, "password").await.unwrap();
    assert_eq!(got.expose(), password);
    assert_eq!(format!("{got:?}"), "SecretValue(***)");
    assert_eq!(
        secrets.get_json_key(item, "port").await.unwrap().expose(),
        "5432"
    );
    let missing = secrets.get_json_key(item, "host").await.unwrap_err();
    assert!(
        matches!(&missing, SecretsError::MissingJsonKey { key, .. } if key == "host"),
        "{missing:?}"
    );
    assert_eq!(missing.to_string(), "secret `rds/app` has no key `host`");
    let not_json = secrets
        .get_json_key(Item::Secret("plain"), "password")
        .await
        .unwrap_err();
    assert_eq!(not_json.to_string(), "secret `plain` is not a JSON object");
    for error in [&missing, &not_json] {
        assert!(!format!("{error} {error:?}").contains(password));
    }
    assert_eq!(
        aws.calls(GET_SECRET),
        2,
        "keys are read from the cached value"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_first_reads_make_one_call_at_the_server() {
    let aws = Aws::start().await;
    aws.create_secret("hot", "shared").await;
    aws.put_parameter("/hot", "shared too").await;
    aws.slow_down(Duration::from_millis(100));
    let secrets = secrets(&aws, Duration::from_secs(300), 16).await;

    let mut tasks = Vec::new();
    for i in 0..200 {
        let secrets = secrets.clone();
        tasks.push(tokio::spawn(async move {
            let item = if i % 2 == 0 {
                Item::Secret("hot")
            } else {
                Item::Parameter("/hot")
            };
            secrets.get(item).await.map(|v| v.expose().to_owned())
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let value = task.await.expect("task").expect("read");
        let expected = if i % 2 == 0 { "shared" } else { "shared too" };
        assert_eq!(value, expected);
    }
    assert_eq!(aws.calls(GET_SECRET), 1, "100 reads of the secret");
    assert_eq!(aws.calls(GET_PARAMETER), 1, "100 reads of the parameter");
}

#[tokio::test]
async fn secure_string_parameters_come_back_decrypted() {
    let aws = Aws::start().await;
    aws.put_parameter("/app/api-key", "plain text").await;
    let secrets = secrets(&aws, Duration::from_secs(300), 16).await;
    assert_eq!(
        text(&secrets, Item::Parameter("/app/api-key")).await,
        "plain text"
    );
    // A secret and a parameter of one name are apart.
    aws.create_secret("/app/api-key", "the secret").await;
    assert_eq!(
        text(&secrets, Item::Secret("/app/api-key")).await,
        "the secret"
    );
    assert_eq!((aws.calls(GET_PARAMETER), aws.calls(GET_SECRET)), (1, 1));
}

/// A service that accepts one password, as a database would.
#[derive(Debug, PartialEq)]
enum ServiceError {
    Auth,
    Down,
}

#[tokio::test]
async fn a_rotated_secret_is_refreshed_once_on_an_authentication_failure() {
    let aws = Aws::start().await;
    aws.create_secret("db/password", "old").await;
    let secrets = secrets(&aws, Duration::from_secs(300), 16).await;
    let item = Item::Secret("db/password");
    let accepted = Arc::new(Mutex::new(String::from("old")));
    let down = Arc::new(Mutex::new(false));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let connect = |value: holdfast_runtime::secrets::SecretValue| {
        let (accepted, down, seen) = (accepted.clone(), down.clone(), seen.clone());
        async move {
            seen.lock().unwrap().push(value.expose().to_owned());
            if *down.lock().unwrap() {
                Err(ServiceError::Down)
            } else if *accepted.lock().unwrap() == value.expose() {
                Ok("connected")
            } else {
                Err(ServiceError::Auth)
            }
        }
    };
    let is_auth = |e: &ServiceError| *e == ServiceError::Auth;

    assert_eq!(
        secrets
            .get_or_refresh_on(item, is_auth, connect)
            .await
            .unwrap(),
        "connected"
    );
    assert_eq!(aws.calls(GET_SECRET), 1);

    // Rotation: the service takes the new password, the cache still holds the old one.
    aws.rotate_secret("db/password", "new").await;
    *accepted.lock().unwrap() = "new".into();
    assert_eq!(
        secrets
            .get_or_refresh_on(item, is_auth, connect)
            .await
            .unwrap(),
        "connected"
    );
    assert_eq!(aws.calls(GET_SECRET), 2, "one refresh");
    assert_eq!(seen.lock().unwrap()[1..], ["old", "new"]);
    assert_eq!(text(&secrets, item).await, "new", "the new value is kept");

    // Another failure is not retried, and costs no call.
    *down.lock().unwrap() = true;
    let error = secrets
        .get_or_refresh_on(item, is_auth, connect)
        .await
        .unwrap_err();
    assert!(matches!(error, UseError::Use(ServiceError::Down)));
    assert_eq!(aws.calls(GET_SECRET), 2);

    // An authentication failure with an unchanged secret is returned after one refresh.
    *down.lock().unwrap() = false;
    *accepted.lock().unwrap() = "something else".into();
    let error = secrets
        .get_or_refresh_on(item, is_auth, connect)
        .await
        .unwrap_err();
    assert!(matches!(error, UseError::Use(ServiceError::Auth)));
    assert_eq!(aws.calls(GET_SECRET), 3);
    assert_eq!(
        seen.lock().unwrap().len(),
        5,
        "no retry with the same value"
    );
}

#[tokio::test]
async fn missing_items_are_not_found_by_name_and_not_cached() {
    let aws = Aws::start().await;
    let secrets = secrets(&aws, Duration::from_secs(300), 16).await;
    let error = secrets.get(Item::Secret("nope")).await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert!(
        error.to_string().starts_with("secret `nope` was not found"),
        "{error}"
    );
    let error = secrets.get(Item::Parameter("/nope")).await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("parameter `/nope` was not found"),
        "{error}"
    );

    aws.create_secret("nope", "now it exists").await;
    assert_eq!(text(&secrets, Item::Secret("nope")).await, "now it exists");
    assert_eq!(aws.calls(GET_SECRET), 2);
}
