//! Delivering a response to a direct custom resource: an HTTP `PUT` of the JSON body to the
//! request's pre-signed `ResponseURL` (an S3 URL), with an empty `Content-Type` — the signature
//! covers the content type, and CloudFormation signs it empty.
//!
//! Retried a few times with backoff on a dropped connection or a 5xx; a 4xx (an expired or
//! altered URL) is final. Messages name the URL's host only: its query string is a signature.

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::Duration;

/// Attempts before giving up.
const ATTEMPTS: u32 = 4;

/// Why the response could not be delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot deliver the response to {host}: {detail}")]
pub struct DeliverError {
    pub host: String,
    pub detail: String,
}

impl holdfast_core::exit::Classify for DeliverError {
    fn outcome(&self) -> holdfast_core::exit::Outcome {
        holdfast_core::exit::Outcome::Failed
    }
}

/// PUTs `body` to `url`.
///
/// # Errors
/// [`DeliverError`] after the last attempt, or at once on a 4xx answer.
pub async fn put_response(url: &str, body: String) -> Result<(), DeliverError> {
    let host = url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "the ResponseURL".into());
    let error = |detail: String| DeliverError {
        host: host.clone(),
        detail,
    };
    let uri: hyper::Uri = url
        .parse()
        .map_err(|_| error("the ResponseURL is not a valid URL".into()))?;
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_webpki_roots()
        .https_or_http()
        .enable_http1()
        .build();
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(connector);
    let body = Bytes::from(body);
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
        }
        let request = hyper::Request::put(uri.clone())
            .header(hyper::header::CONTENT_TYPE, "")
            .header(hyper::header::CONTENT_LENGTH, body.len())
            .body(Full::new(body.clone()))
            .map_err(|e| error(format!("cannot build the request: {e}")))?;
        match tokio::time::timeout(Duration::from_secs(10), client.request(request)).await {
            Err(_) => last = "no answer within 10 s".into(),
            Ok(Err(e)) => last = holdfast_aws::error_chain(&e),
            Ok(Ok(response)) => {
                let status = response.status();
                // Read the body so the connection can be reused or closed cleanly.
                let _ = response.into_body().collect().await;
                if status.is_success() {
                    return Ok(());
                }
                last = format!("HTTP {status}");
                if status.is_client_error() {
                    break;
                }
            }
        }
        tracing::warn!(attempt = attempt + 1, %host, error = %last, "response not delivered");
    }
    Err(error(last))
}
