//! Retrying DynamoDB calls: which errors are worth another attempt, and exponential backoff
//! with full jitter.
//!
//! The SDK's own retries are turned off for the data-plane client ([`crate::client`]): every
//! retry is Holdfast's, so it can be counted and bounded in one place. A response that never
//! arrived (dropped connection, timeout) is treated as "not acknowledged": the request is sent
//! again. That is safe for the calls retried here: puts, deletes and reads are idempotent.

use std::future::Future;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use holdfast_aws::{error_chain, one_line};

/// Service error codes that mean "try again later".
const RETRYABLE_CODES: [&str; 7] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
    "TransactionInProgressException",
];

/// A failed call, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// Worth another attempt (throttling, 5xx, no response).
    pub retryable: bool,
    /// The error code (`ThrottlingException`) or the kind of failure (`dispatch failure`).
    pub code: String,
    /// One line, without request data.
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

/// Classifies an SDK error.
pub fn classify<E>(error: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError").to_owned();
            let status = service.raw().status().as_u16();
            CallError {
                retryable: status >= 500 || RETRYABLE_CODES.contains(&code.as_str()),
                message: one_line(service.err().message().unwrap_or_default()),
                code: if code == "UnknownError" {
                    format!("HTTP {status}")
                } else {
                    code
                },
            }
        }
        SdkError::DispatchFailure(_) => CallError {
            retryable: true,
            code: "no response (connection failed or dropped)".into(),
            message: error_chain(error),
        },
        SdkError::TimeoutError(_) => CallError {
            retryable: true,
            code: "timeout".into(),
            message: String::new(),
        },
        SdkError::ResponseError(_) => CallError {
            retryable: true,
            code: "unreadable response".into(),
            message: error_chain(error),
        },
        _ => CallError {
            retryable: false,
            code: "request not sent".into(),
            message: error_chain(error),
        },
    }
}

/// Exponential backoff with full jitter: attempt *n* (from 0) waits a uniformly random time in
/// `[0, min(cap, base · 2ⁿ)]` (the "full jitter" of the AWS Architecture Blog's "Exponential
/// Backoff and Jitter"), which spreads many workers' retries apart.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// Consecutive attempts without progress before giving up.
    pub max_attempts: u32,
}

impl Default for Backoff {
    /// 25 ms doubling to 5 s, 12 rounds without progress (about 30 s of waiting on average
    /// before giving up).
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(25),
            cap: Duration::from_secs(5),
            max_attempts: 12,
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (0 = the first retry).
    #[must_use]
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(30)).unwrap_or(u32::MAX))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }
}

/// Sends a call until it is answered or fails for good: retryable failures are sent again
/// after [`Backoff`]'s wait, up to its budget. The flag: an earlier attempt failed, so it may
/// have been applied (a 5xx, a dropped connection). The data-plane client has the SDK's own
/// retries off, so single calls (describe, checkpoint and history tables) go through here.
pub async fn send_retrying<T, E, F, Fut>(
    table: &str,
    mut attempt: F,
) -> (Result<T, SdkError<E, HttpResponse>>, bool)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let backoff = Backoff::default();
    let mut failures = 0;
    loop {
        let result = attempt().await;
        match &result {
            Err(e) if failures < backoff.max_attempts && classify(e).retryable => {
                failures += 1;
                tracing::debug!(%table, error = %classify(e), "call retried");
                tokio::time::sleep(backoff.delay(failures)).await;
            }
            _ => return (result, failures > 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_jittered_below_a_doubling_cap() {
        let b = Backoff {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(100),
            max_attempts: 5,
        };
        for attempt in 0..40 {
            let ceiling = Duration::from_millis((10u64 << attempt.min(20)).min(100));
            for _ in 0..50 {
                assert!(b.delay(attempt) <= ceiling, "attempt {attempt}");
            }
        }
        // Full jitter: not always the ceiling.
        let delays: Vec<_> = (0..50).map(|_| b.delay(3)).collect();
        assert!(delays.iter().any(|d| *d < Duration::from_millis(70)));
    }
}
