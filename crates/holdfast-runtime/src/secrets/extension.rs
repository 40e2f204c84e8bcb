//! The AWS Parameters and Secrets Lambda Extension as a source, with the SDK behind it for
//! the init phase.
//!
//! The extension (a Lambda layer) answers on `http://localhost:PORT` (`PORT` from
//! `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, default 2773):
//! `GET /secretsmanager/get?secretId=ID` and
//! `GET /systemsmanager/parameters/get?name=NAME&withDecryption=true`, each with the header
//! `X-Aws-Parameters-Secrets-Token: $AWS_SESSION_TOKEN`, answering the JSON of
//! `GetSecretValue` and `GetParameter`. It keeps its own cache (`SECRETS_MANAGER_TTL`,
//! `SSM_PARAMETER_STORE_TTL`, 300 s by default), in front of this one.
//!
//! It cannot answer during the function's init phase, which is where a cold start reads its
//! secrets: its HTTP server is not listening yet, or it answers that it is not ready. So a
//! read whose request fails before an answer (connection refused, reset or closed), or that
//! is answered `400` with "not ready", is made through the SDK instead — detected per read, with no flag
//! to set: reads during the init phase take the SDK, later ones the extension. The SDK's
//! clients are built on the first such read (not at all if the extension always answers).

use super::error::{short, SecretsError};
use super::item::{Item, SecretValue};
use super::sdk::{load_sdk_config, SdkSource};
use super::source::{Fetch, Source};
use aws_config::SdkConfig;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use std::fmt;
use std::time::Duration;

/// The extension's default port.
pub const DEFAULT_PORT: u16 = 2773;

/// How long one request to the extension may take (the extension itself may call AWS).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the extension listens and the token it wants.
#[derive(Clone)]
pub struct Extension {
    endpoint: String,
    token: String,
}

impl Extension {
    /// As Lambda runs it: `http://localhost:PORT` with `PORT` from
    /// `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (default 2773), and the function's
    /// `AWS_SESSION_TOKEN` as the token.
    #[must_use]
    pub fn from_env() -> Extension {
        let port = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(DEFAULT_PORT);
        let token = std::env::var("AWS_SESSION_TOKEN").unwrap_or_default();
        Extension::new(format!("http://localhost:{port}"), token)
    }

    /// At `endpoint` (`http://HOST:PORT`) with `token`.
    #[must_use]
    pub fn new(endpoint: impl Into<String>, token: impl Into<String>) -> Extension {
        Extension {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            token: token.into(),
        }
    }

    /// `http://HOST:PORT`.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    fn url(&self, item: Item<'_>) -> String {
        match item {
            Item::Secret(id) => format!(
                "{}/secretsmanager/get?secretId={}",
                self.endpoint,
                encode(id)
            ),
            Item::Parameter(name) => format!(
                "{}/systemsmanager/parameters/get?name={}&withDecryption=true",
                self.endpoint,
                encode(name)
            ),
        }
    }
}

impl fmt::Debug for Extension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extension")
            .field("endpoint", &self.endpoint)
            .field("token", &"***")
            .finish()
    }
}

/// The extension, then the SDK when the extension cannot answer yet.
pub(crate) struct ExtensionSource {
    extension: Extension,
    client: Client<HttpConnector, Empty<Bytes>>,
    /// The SDK configuration to build the fallback from (else the environment's).
    sdk_config: Option<SdkConfig>,
    sdk: tokio::sync::OnceCell<SdkSource>,
}

/// What one request to the extension came to.
enum Answer {
    Value(SecretValue),
    /// Not listening or not ready: the init phase.
    NotReady,
}

impl ExtensionSource {
    pub(crate) fn new(extension: Extension, sdk_config: Option<SdkConfig>) -> ExtensionSource {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(1)));
        let client = Client::builder(TokioExecutor::new()).build(connector);
        ExtensionSource {
            extension,
            client,
            sdk_config,
            sdk: tokio::sync::OnceCell::new(),
        }
    }

    async fn read(&self, item: Item<'_>) -> Result<SecretValue, SecretsError> {
        match self.ask(item).await? {
            Answer::Value(value) => Ok(value),
            Answer::NotReady => self.sdk().await?.read(item).await,
        }
    }

    async fn sdk(&self) -> Result<&SdkSource, SecretsError> {
        self.sdk
            .get_or_try_init(|| async {
                let config = match &self.sdk_config {
                    Some(config) => config.clone(),
                    None => load_sdk_config().await?,
                };
                Ok(SdkSource::new(&config))
            })
            .await
    }

    async fn ask(&self, item: Item<'_>) -> Result<Answer, SecretsError> {
        let unreachable = |detail: String| SecretsError::Unreachable {
            item: item.to_string(),
            service: "the Parameters and Secrets Lambda Extension",
            detail,
        };
        let request = hyper::Request::get(self.extension.url(item))
            .header("X-Aws-Parameters-Secrets-Token", &self.extension.token)
            .body(Empty::new())
            .map_err(|e| unreachable(format!("bad request: {e}")))?;
        // Any failure before an answer's head (refused, reset, closed) is an extension not
        // yet serving; one while reading the body is not.
        let exchange = async {
            let Ok(response) = self.client.request(request).await else {
                return Ok(None);
            };
            let status = response.status().as_u16();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, hyper::Error>(Some((status, body)))
        };
        let (status, body) = match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Err(_) => {
                return Err(unreachable(format!(
                    "no answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                )))
            }
            Ok(Ok(None)) => return Ok(Answer::NotReady),
            Ok(Err(e)) => return Err(unreachable(super::error::chain(&e))),
            Ok(Ok(Some(answer))) => answer,
        };
        let text = String::from_utf8_lossy(&body);
        if status == 200 {
            return parse(item, &text).map(Answer::Value);
        }
        if status == 400 && text.to_ascii_lowercase().contains("not ready") {
            return Ok(Answer::NotReady);
        }
        Err(error_of(item, status, &text))
    }
}

impl Source for ExtensionSource {
    fn fetch<'a>(&'a self, item: Item<'a>) -> Fetch<'a> {
        Box::pin(self.read(item))
    }
}

/// The value of an extension's 200 answer: `SecretString` (secrets) or `Parameter.Value`.
fn parse(item: Item<'_>, text: &str) -> Result<SecretValue, SecretsError> {
    let failed = |detail: &str| SecretsError::Failed {
        item: item.to_string(),
        detail: detail.to_owned(),
    };
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|_| failed("the extension's answer is not JSON"))?;
    let value = if item.is_secret() {
        if json.get("SecretString").is_none() && json.get("SecretBinary").is_some() {
            return Err(SecretsError::Binary {
                item: item.to_string(),
            });
        }
        json.get("SecretString")
    } else {
        json.get("Parameter").and_then(|p| p.get("Value"))
    };
    value
        .and_then(serde_json::Value::as_str)
        .map(SecretValue::from)
        .ok_or_else(|| failed("the extension's answer has no value"))
}

/// An extension's error answer: its status, and the AWS error code its body names.
fn error_of(item: Item<'_>, status: u16, body: &str) -> SecretsError {
    let item = item.to_string();
    let detail = format!("the extension answered {status}: {}", short(body, 200));
    let names = |codes: &[&str]| codes.iter().any(|c| body.contains(c));
    if status == 404 || names(&["ResourceNotFoundException", "ParameterNotFound"]) {
        SecretsError::NotFound { item, detail }
    } else if status == 401
        || status == 403
        || names(&["AccessDenied", "UnrecognizedClient", "ExpiredToken"])
    {
        SecretsError::AccessDenied { item, detail }
    } else if status == 429 || names(&["Throttling", "TooManyRequests"]) {
        SecretsError::Throttled { item, detail }
    } else {
        SecretsError::Failed { item, detail }
    }
}

/// Percent-encodes a query value: every byte but the unreserved ones (RFC 3986).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_arns_are_encoded_into_the_query() {
        assert_eq!(encode("prod/db+1=a b"), "prod%2Fdb%2B1%3Da%20b");
        let arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf";
        assert_eq!(
            encode(arn),
            "arn%3Aaws%3Asecretsmanager%3Aeu-west-1%3A123456789012%3Asecret%3Ax-AbCdEf"
        );
        let extension = Extension::new("http://localhost:2773/", "the-session-token");
        assert_eq!(
            extension.url(Item::Parameter("/app/key")),
            "http://localhost:2773/systemsmanager/parameters/get?name=%2Fapp%2Fkey&withDecryption=true"
        );
        assert!(!format!("{extension:?}").contains("the-session-token"));
    }

    #[test]
    fn answers_are_read_as_the_apis_json() {
        let secret = Item::Secret("s");
        let value = parse(
            secret,
            r#"{"Name":"s","SecretString":"v","VersionStages":["AWSCURRENT"]}"#,
        );
        assert_eq!(value.unwrap().expose(), "v");
        let binary = parse(secret, r#"{"Name":"s","SecretBinary":"AAEC"}"#).unwrap_err();
        assert!(matches!(binary, SecretsError::Binary { .. }));
        let parameter = Item::Parameter("/p");
        let value = parse(
            parameter,
            r#"{"Parameter":{"Name":"/p","Type":"SecureString","Value":"v2"}}"#,
        );
        assert_eq!(value.unwrap().expose(), "v2");
        assert!(parse(parameter, "not json").is_err());
        let errors = [
            (400, r#"{"__type":"ResourceNotFoundException"}"#, "NotFound"),
            (401, "Unauthorized", "AccessDenied"),
            (400, "AccessDeniedException: no", "AccessDenied"),
            (429, "", "Throttled"),
            (500, "boom", "Failed"),
        ];
        for (status, body, kind) in errors {
            let error = format!("{:?}", error_of(secret, status, body));
            assert!(error.starts_with(kind), "{status} {body}: {error}");
        }
    }
}
