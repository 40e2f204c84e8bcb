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

pub use holdfast_aws::call::{classify, CallError};
use holdfast_aws::FailureKind;
use holdfast_core::exit::Outcome;

/// The exit class of a failed call, the same in every DynamoDB operation: a named resource
/// that does not exist is bad input (exit 2); no answer, throttling, access denied and any
/// other failure fail the operation (exit 1).
#[must_use]
pub fn outcome_of(call: &CallError) -> Outcome {
    match call.kind {
        FailureKind::NotFound => Outcome::Usage,
        FailureKind::Unreachable
        | FailureKind::Throttled
        | FailureKind::AccessDenied
        | FailureKind::Other => Outcome::Failed,
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
