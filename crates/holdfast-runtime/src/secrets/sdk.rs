//! The AWS SDK source: `GetSecretValue` and `GetParameter` (`WithDecryption`), one client of
//! each built once from one SDK configuration, on an HTTPS client of rustls with `ring`.

use super::error::{chain, SecretsError};
use super::item::{Item, SecretValue};
use super::source::{Fetch, Source};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use std::time::Duration;

/// A new HTTPS client for the AWS SDK: rustls with the `ring` provider and the system's root
/// certificates. The SDK crates are built here without their default client (rustls on
/// aws-lc-rs), so an SDK configuration made by hand for [`SecretsBuilder::sdk_config`] needs
/// one: give it this. It keeps its connections on the Tokio runtime of its first request.
///
/// [`SecretsBuilder::sdk_config`]: super::SecretsBuilder::sdk_config
#[must_use]
pub fn build_http_client() -> aws_sdk_secretsmanager::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK configuration from the function's environment (Lambda sets `AWS_REGION` and the
/// role's credentials), with short time limits for a cold start: 3 s to connect, 10 s per
/// attempt, 30 s per call.
///
/// # Errors
/// [`SecretsError::NoRegion`].
pub async fn load_sdk_config() -> Result<SdkConfig, SecretsError> {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(3))
        .operation_attempt_timeout(Duration::from_secs(10))
        .operation_timeout(Duration::from_secs(30))
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .http_client(build_http_client())
        .timeout_config(timeouts)
        .load()
        .await;
    if config.region().is_none_or(|r| r.as_ref().is_empty()) {
        return Err(SecretsError::NoRegion);
    }
    Ok(config)
}

/// Secrets Manager and Parameter Store through the SDK.
#[derive(Debug, Clone)]
pub(crate) struct SdkSource {
    secrets: aws_sdk_secretsmanager::Client,
    parameters: aws_sdk_ssm::Client,
}

impl SdkSource {
    pub(crate) fn new(config: &SdkConfig) -> SdkSource {
        SdkSource {
            secrets: aws_sdk_secretsmanager::Client::new(config),
            parameters: aws_sdk_ssm::Client::new(config),
        }
    }

    pub(crate) async fn read(&self, item: Item<'_>) -> Result<SecretValue, SecretsError> {
        match item {
            Item::Secret(id) => {
                let output = self
                    .secrets
                    .get_secret_value()
                    .secret_id(id)
                    .send()
                    .await
                    .map_err(|e| classify(item, "Secrets Manager", &e))?;
                match output.secret_string {
                    Some(text) => Ok(SecretValue::from(text)),
                    None => Err(SecretsError::Binary {
                        item: item.to_string(),
                    }),
                }
            }
            Item::Parameter(name) => {
                let output = self
                    .parameters
                    .get_parameter()
                    .name(name)
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| classify(item, "Parameter Store", &e))?;
                let value = output.parameter.and_then(|p| p.value);
                value
                    .map(SecretValue::from)
                    .ok_or_else(|| SecretsError::Failed {
                        item: item.to_string(),
                        detail: "GetParameter answered without a value".into(),
                    })
            }
        }
    }
}

impl Source for SdkSource {
    fn fetch<'a>(&'a self, item: Item<'a>) -> Fetch<'a> {
        Box::pin(self.read(item))
    }
}

/// A failed SDK call as a [`SecretsError`], by the service's error code.
fn classify<E, R>(item: Item<'_>, service: &'static str, error: &SdkError<E, R>) -> SecretsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let item = item.to_string();
    let detail = chain(error);
    if matches!(
        error,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        return SecretsError::Unreachable {
            item,
            service,
            detail,
        };
    }
    let code = error.code().unwrap_or_default();
    let detail = match error.message() {
        Some(message) => format!("{code}: {message}"),
        None if !code.is_empty() => code.to_owned(),
        None => detail,
    };
    match code {
        "ResourceNotFoundException" | "ParameterNotFound" | "ParameterVersionNotFound" => {
            SecretsError::NotFound { item, detail }
        }
        "AccessDeniedException"
        | "AccessDenied"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "InvalidSignatureException"
        | "SignatureDoesNotMatch"
        | "ExpiredTokenException"
        | "ExpiredToken"
        | "DecryptionFailure"
        | "KMSAccessDeniedException" => SecretsError::AccessDenied { item, detail },
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" => {
            SecretsError::Throttled { item, detail }
        }
        _ => SecretsError::Failed { item, detail },
    }
}
