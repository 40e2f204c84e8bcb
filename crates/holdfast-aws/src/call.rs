//! What a failed AWS call means, the same for every service and capability.
//!
//! One classification of the SDK's errors: [`FailureKind`] says what happened (no answer,
//! throttled, access denied, not found, anything else) and whether another attempt may help; a
//! capability turns it into its own error (naming its table, stack, secret …) and every front
//! end gives the same kind the same exit code: an unreachable endpoint or a refusal is a failed
//! operation (exit 1), never "bad input".

use crate::{error_chain, one_line};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// What kind of failure a call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// No answer: the connection failed or dropped, or the call timed out.
    Unreachable,
    /// Throttled: too many requests, or over the provisioned capacity.
    Throttled,
    /// The caller may not do this, or its credentials were refused.
    AccessDenied,
    /// The named resource does not exist.
    NotFound,
    /// Anything else the service or the SDK reported.
    Other,
}

impl FailureKind {
    /// A few words for messages.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            FailureKind::Unreachable => "no answer",
            FailureKind::Throttled => "throttled",
            FailureKind::AccessDenied => "access denied",
            FailureKind::NotFound => "not found",
            FailureKind::Other => "error",
        }
    }
}

/// Codes that mean "slow down and try again".
const THROTTLING: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "Throttling",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "LimitExceededException",
];

/// Codes of transient server-side states worth another attempt.
const TRANSIENT: [&str; 3] = [
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionInProgressException",
];

/// Codes that mean the caller is not allowed, or not recognised.
const DENIED: [&str; 9] = [
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
];

/// A failed call, classified, on one line and without request data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub kind: FailureKind,
    /// Worth another attempt (throttling, 5xx, no answer).
    pub retryable: bool,
    /// The service's error code (`ThrottlingException`), or the kind of failure (`timeout`).
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

/// Classifies an SDK error of any service.
pub fn classify<E>(error: &SdkError<E, HttpResponse>) -> CallError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("UnknownError").to_owned();
            let message = one_line(service.err().message().unwrap_or_default());
            let status = service.raw().status().as_u16();
            let kind = service_failure(&code, &message, status);
            CallError {
                kind,
                retryable: kind == FailureKind::Throttled
                    || status >= 500
                    || TRANSIENT.contains(&code.as_str()),
                message,
                code: if code == "UnknownError" {
                    format!("HTTP {status}")
                } else {
                    code
                },
            }
        }
        SdkError::DispatchFailure(_) => CallError {
            kind: FailureKind::Unreachable,
            retryable: true,
            code: "no response (connection failed or dropped)".into(),
            message: error_chain(error),
        },
        SdkError::TimeoutError(_) => CallError {
            kind: FailureKind::Unreachable,
            retryable: true,
            code: "timeout".into(),
            message: String::new(),
        },
        SdkError::ResponseError(_) => CallError {
            kind: FailureKind::Other,
            retryable: true,
            code: "unreadable response".into(),
            message: error_chain(error),
        },
        _ => CallError {
            kind: FailureKind::Other,
            retryable: false,
            code: "request not sent".into(),
            message: error_chain(error),
        },
    }
}

/// The kind of a service's error answer, from its code, message and HTTP status.
fn service_failure(code: &str, message: &str, status: u16) -> FailureKind {
    if THROTTLING.contains(&code) || status == 429 {
        FailureKind::Throttled
    } else if DENIED.contains(&code) || status == 401 || status == 403 {
        FailureKind::AccessDenied
    } else if code.contains("NotFound")
        || code.starts_with("NoSuch")
        || status == 404
        // CloudFormation answers a missing stack with a ValidationError.
        || (code == "ValidationError" && message.contains("does not exist"))
    {
        FailureKind::NotFound
    } else {
        FailureKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_answers_are_classified_by_code_and_status() {
        for (code, message, status, kind) in [
            ("ThrottlingException", "", 400, FailureKind::Throttled),
            (
                "ProvisionedThroughputExceededException",
                "",
                400,
                FailureKind::Throttled,
            ),
            ("Whatever", "", 429, FailureKind::Throttled),
            ("AccessDeniedException", "", 400, FailureKind::AccessDenied),
            (
                "UnrecognizedClientException",
                "",
                400,
                FailureKind::AccessDenied,
            ),
            ("Other", "", 403, FailureKind::AccessDenied),
            ("ResourceNotFoundException", "", 400, FailureKind::NotFound),
            ("ParameterNotFound", "", 400, FailureKind::NotFound),
            ("NoSuchBucket", "", 404, FailureKind::NotFound),
            (
                "ValidationError",
                "Stack with id x does not exist",
                400,
                FailureKind::NotFound,
            ),
            (
                "ValidationError",
                "Template format error",
                400,
                FailureKind::Other,
            ),
            ("InternalServerError", "", 500, FailureKind::Other),
        ] {
            assert_eq!(
                service_failure(code, message, status),
                kind,
                "{code} {status}"
            );
        }
    }
}
