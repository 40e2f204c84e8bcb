//! Holdfast's shared AWS set-up: the one HTTPS client of the process and the SDK
//! configuration from `--endpoint-url`, `--region` and `--profile`.
//!
//! [`sdk_config`] resolves the configuration once per command (flags first, then the SDK's
//! usual sources — `AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`,
//! `AWS_ENDPOINT_URL_<SERVICE>`, the shared config files, the container and instance roles),
//! checks that there is a region and that credentials resolve, and returns an
//! [`SdkConfig`] from which each service builds its client once.
//!
//! TLS: the HTTPS client uses rustls with the `ring` provider, as sqlx does (two rustls
//! providers in one process can panic on the first handshake). It is built once
//! per process and shared by every client: it keeps its connection pool on the Tokio runtime of
//! the first request, so use it from one runtime (the CLI has one).
//!
//! Errors are one line each, with no credentials or secret values in them. [`call`] classifies
//! a failed call of any service the same way for every capability.

#![forbid(unsafe_code)]

pub mod call;

pub use call::{classify, CallError, FailureKind};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::Builder as HttpClientBuilder;
use holdfast_core::redact::redact_url;
use std::sync::OnceLock;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Where and as whom to call AWS. `None` leaves each to the SDK's usual sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// `--endpoint-url` (a local server such as moto or DynamoDB Local); else
    /// `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL` or the profile's `endpoint_url`; else
    /// AWS's endpoint for the region.
    pub endpoint_url: Option<String>,
    /// `--region`; else `AWS_REGION`, `AWS_DEFAULT_REGION` or the profile's region.
    pub region: Option<String>,
    /// `--profile`; else `AWS_PROFILE`, else `default`.
    pub profile: Option<String>,
}

/// Why no usable AWS configuration could be resolved.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS region")]
    NoRegion,
    #[error("no AWS credentials ({detail}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in (aws sso login)")]
    NoCredentials { detail: String },
}

impl holdfast_core::exit::Classify for AwsError {
    /// Configuration: nothing was called.
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Usage
    }

    fn remedy(&self) -> Option<holdfast_core::remedy::Remedy> {
        use holdfast_core::remedy::{Remedy, Setting};
        match self {
            AwsError::NoRegion => Some(Remedy::using(Setting::Region)),
            AwsError::NoCredentials { .. } => None,
        }
    }
}

/// A new HTTPS client for the AWS SDK: rustls on `ring`, native root certificates. The SDK
/// crates are built without an HTTPS client of their own (theirs would bring in `aws-lc-rs`),
/// so any client built outside [`sdk_config`] (a test's) needs this one.
#[must_use]
pub fn build_http_client() -> SharedHttpClient {
    HttpClientBuilder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The one HTTPS client of the process, shared by every client built from [`sdk_config`].
#[must_use]
pub fn http_client() -> SharedHttpClient {
    static CLIENT: OnceLock<SharedHttpClient> = OnceLock::new();
    CLIENT.get_or_init(build_http_client).clone()
}

/// Resolves region, credentials and endpoint. Calls no service API; resolving credentials may
/// call the configured provider (SSO, STS, container or instance metadata). The credentials
/// provider is kept (not the resolved credentials), so long runs pick up refreshed ones.
///
/// # Errors
/// [`AwsError::NoRegion`] or [`AwsError::NoCredentials`].
pub async fn sdk_config(options: &AwsOptions) -> Result<SdkConfig, AwsError> {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_secs(90))
        .build();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts);
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if config.region().is_none_or(|r| r.as_ref().is_empty()) {
        return Err(AwsError::NoRegion);
    }
    let provider = config
        .credentials_provider()
        .ok_or_else(|| AwsError::NoCredentials {
            detail: "no credentials provider is configured".into(),
        })?;
    // Resolved once here, for a clear error before any call.
    provider.provide_credentials().await.map_err(|e| {
        let detail = error_chain(&e);
        AwsError::NoCredentials {
            detail: match &options.profile {
                Some(profile) => format!("profile `{profile}`: {detail}"),
                None => detail,
            },
        }
    })?;
    Ok(config)
}

/// The resolved region of `config` (empty if none; [`sdk_config`] ensures one).
#[must_use]
pub fn region(config: &SdkConfig) -> String {
    config.region().map(ToString::to_string).unwrap_or_default()
}

/// For messages: the endpoint URL of `config`, redacted, or "AWS's SERVICE endpoint for REGION".
#[must_use]
pub fn endpoint_description(config: &SdkConfig, service: &str) -> String {
    match config.endpoint_url() {
        Some(url) => redact_url(url),
        None => format!("AWS's {service} endpoint for {}", region(config)),
    }
}

/// An error and its causes on one line (`dispatch failure: io error: … Connection refused`),
/// without the Debug dump the SDK's own `DisplayErrorContext` appends.
#[must_use]
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = one_line(&e.to_string());
        // Some layers repeat their cause in their own message.
        if !text.is_empty() && !parts.last().is_some_and(|last| last.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Joins a multi-line message onto one line.
#[must_use]
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_joins_causes_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("refused\n(os error 111)"));
        assert_eq!(error_chain(&e), "outer: refused (os error 111)");
    }

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
