//! The Data API calls Holdfast makes (ExecuteStatement, BeginTransaction, CommitTransaction,
//! RollbackTransaction) and how their errors become a [`DbError`].
//!
//! The client is built once per session from `holdfast_aws::sdk_config` (so `--endpoint-url`,
//! `AWS_ENDPOINT_URL`, region and credentials work as for every other AWS call), with an attempt
//! timeout above the Data API's 45-second limit per call and the SDK's own retries off: a
//! statement that may have run is never sent twice behind Holdfast's back. The one error that is
//! retried is `DatabaseResumingException` (a paused Aurora Serverless cluster waking up: the
//! call was not run), for up to 90 s with backoff.
//!
//! Errors: the Data API reports a database error as `BadRequestException` (or
//! `DatabaseErrorException`) with the server's text and a `; SQLState: XXXXX` suffix, e.g.
//! `ERROR: relation "x" does not exist\n  Position: 15; SQLState: 42P01`. Only the first line
//! (the primary message, without `ERROR: `) and the SQLSTATE are kept: never the Position,
//! Detail or Hint lines, the statement text or parameter values.

use super::target::DataApiTarget;
use crate::backend::DbError;
use aws_sdk_rdsdata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_rdsdata::operation::execute_statement::ExecuteStatementOutput;
use aws_sdk_rdsdata::types::{Field, SqlParameter};
use aws_sdk_rdsdata::Client;
use holdfast_core::redact::Redactor;
use std::time::Duration;

/// The Data API's time limit for one ExecuteStatement call (without `continueAfterTimeout`,
/// which Holdfast never sets: the statement is stopped when the call times out).
pub const CALL_LIMIT: Duration = Duration::from_secs(45);

/// The SDK's limit for one attempt: above [`CALL_LIMIT`], so the service's own timeout (with its
/// clear error) arrives first.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

/// What to do about a statement that outlasts a call.
pub const TIMEOUT_HINT: &str = "run this migration's long statement over a direct connection (postgres://… or mysql://…), or split it into shorter statements";

/// How long to keep trying while a paused Aurora Serverless cluster resumes
/// (`DatabaseResumingException`: the call was not run, so sending it again is safe).
const RESUME_WAIT: Duration = Duration::from_secs(90);
const RESUME_PAUSE: Duration = Duration::from_secs(1);

/// Whether the cluster is resuming (the statement was not run).
fn is_resuming<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    matches!(error, SdkError::ServiceError(s) if s.err().code() == Some("DatabaseResumingException"))
}

/// A Data API client for one target.
pub(crate) struct DataApi {
    client: Client,
    target: DataApiTarget,
}

/// A named parameter (`:name` in the SQL).
pub(crate) fn text(name: &str, value: Option<&str>) -> SqlParameter {
    let value = match value {
        Some(v) => Field::StringValue(v.to_string()),
        None => Field::IsNull(true),
    };
    SqlParameter::builder().name(name).value(value).build()
}

/// A named integer parameter.
pub(crate) fn long(name: &str, value: i64) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(Field::LongValue(value))
        .build()
}

impl DataApi {
    /// Builds the client from the shared SDK configuration.
    pub(crate) fn new(config: &aws_config::SdkConfig, target: DataApiTarget) -> Self {
        let timeouts = aws_sdk_rdsdata::config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(ATTEMPT_TIMEOUT + Duration::from_secs(5))
            .build();
        let conf = aws_sdk_rdsdata::config::Builder::from(config)
            .timeout_config(timeouts)
            .retry_config(aws_sdk_rdsdata::config::retry::RetryConfig::disabled())
            .build();
        DataApi {
            client: Client::from_conf(conf),
            target,
        }
    }

    /// Runs one statement, in `transaction` if given (else autocommit).
    pub(crate) async fn execute(
        &self,
        sql: &str,
        parameters: Vec<SqlParameter>,
        transaction: Option<&str>,
    ) -> Result<ExecuteStatementOutput, DbError> {
        let mut call = self
            .client
            .execute_statement()
            .resource_arn(&self.target.cluster_arn)
            .secret_arn(&self.target.secret_arn)
            .database(&self.target.database)
            .sql(sql)
            .continue_after_timeout(false);
        if !parameters.is_empty() {
            call = call.set_parameters(Some(parameters));
        }
        if let Some(id) = transaction {
            call = call.transaction_id(id);
        }
        let mut pause = RESUME_PAUSE;
        let started = std::time::Instant::now();
        loop {
            match call.clone().send().await {
                Err(e) if is_resuming(&e) && started.elapsed() < RESUME_WAIT => {
                    tracing::info!(
                        "the Aurora cluster is resuming; trying again in {} s",
                        pause.as_secs()
                    );
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(8));
                }
                other => return other.map_err(from_sdk),
            }
        }
    }

    /// Starts a transaction; returns its id.
    pub(crate) async fn begin(&self) -> Result<String, DbError> {
        let call = self
            .client
            .begin_transaction()
            .resource_arn(&self.target.cluster_arn)
            .secret_arn(&self.target.secret_arn)
            .database(&self.target.database);
        let mut pause = RESUME_PAUSE;
        let started = std::time::Instant::now();
        let out = loop {
            match call.clone().send().await {
                Err(e) if is_resuming(&e) && started.elapsed() < RESUME_WAIT => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(8));
                }
                other => break other.map_err(from_sdk)?,
            }
        };
        out.transaction_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| DbError {
                code: None,
                message: "the Data API returned no transaction id".into(),
            })
    }

    /// Commits a transaction.
    pub(crate) async fn commit(&self, id: &str) -> Result<(), DbError> {
        self.client
            .commit_transaction()
            .resource_arn(&self.target.cluster_arn)
            .secret_arn(&self.target.secret_arn)
            .transaction_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(from_sdk)
    }

    /// Rolls a transaction back.
    pub(crate) async fn rollback(&self, id: &str) -> Result<(), DbError> {
        self.client
            .rollback_transaction()
            .resource_arn(&self.target.cluster_arn)
            .secret_arn(&self.target.secret_arn)
            .transaction_id(id)
            .send()
            .await
            .map(|_| ())
            .map_err(from_sdk)
    }
}

/// An SDK error as a [`DbError`], one line.
fn from_sdk<E, R>(error: SdkError<E, R>) -> DbError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let redact = |text: String| Redactor::global().redact(&text);
    match &error {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let mut db = from_service(e.code().unwrap_or("UnknownError"), e.message().unwrap_or(""));
            db.message = redact(db.message);
            db
        }
        SdkError::TimeoutError(_) => DbError {
            code: None,
            message: format!(
                "the Data API did not answer within {} s (the SDK's limit per call); {TIMEOUT_HINT}",
                ATTEMPT_TIMEOUT.as_secs()
            ),
        },
        _ => DbError {
            code: None,
            message: redact(format!(
                "the Data API call failed: {}",
                holdfast_aws::error_chain(&error)
            )),
        },
    }
}

/// A service error (its code and message) as a [`DbError`].
pub(crate) fn from_service(code: &str, message: &str) -> DbError {
    if code == "StatementTimeoutException" {
        return DbError {
            code: None,
            message: format!(
                "the statement ran into the Data API's time limit per call ({} s on AWS) and was stopped (StatementTimeoutException); {TIMEOUT_HINT}",
                CALL_LIMIT.as_secs()
            ),
        };
    }
    let sqlstate = message.rfind("SQLState: ").and_then(|at| {
        let state: String = message[at + "SQLState: ".len()..]
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        (state.len() == 5).then_some(state)
    });
    let first = message.lines().next().unwrap_or("").trim();
    let first = match first.rfind("; SQLState: ") {
        Some(at) => &first[..at],
        None => first,
    };
    let primary = ["ERROR: ", "FATAL: ", "PANIC: "]
        .iter()
        .find_map(|p| first.strip_prefix(p))
        .unwrap_or(first)
        .trim();
    match sqlstate {
        Some(state) => DbError {
            code: Some(state),
            message: primary.to_string(),
        },
        None if primary.is_empty() => DbError {
            code: None,
            message: format!("Data API error {code}"),
        },
        None => DbError {
            code: None,
            message: format!("Data API error {code}: {primary}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_sqlstate_and_primary_message_only() {
        let e = from_service(
            "BadRequestException",
            "ERROR: relation \"x\" does not exist\n  Position: 15; SQLState: 42P01",
        );
        assert_eq!(e.code.as_deref(), Some("42P01"));
        assert_eq!(e.message, "relation \"x\" does not exist");
        let e = from_service(
            "BadRequestException",
            "ERROR: duplicate key value violates unique constraint \"t_pkey\"\n  Detail: Key (id)=(42) already exists.; SQLState: 23505",
        );
        assert_eq!(e.code.as_deref(), Some("23505"));
        assert!(!e.message.contains("42"), "{}", e.message);
        let e = from_service(
            "BadRequestException",
            "ERROR: syntax error; SQLState: 42601",
        );
        assert_eq!(
            (e.code.as_deref(), e.message.as_str()),
            (Some("42601"), "syntax error")
        );
    }

    #[test]
    fn other_errors_name_their_code() {
        let e = from_service("ForbiddenException", "Access denied");
        assert_eq!(e.code, None);
        assert_eq!(
            e.message,
            "Data API error ForbiddenException: Access denied"
        );
        let e = from_service("StatementTimeoutException", "Request timed out");
        assert!(e.message.contains("45 s"), "{}", e.message);
        assert!(e.message.contains("direct connection"), "{}", e.message);
        assert!(!e.message.contains('\n'));
    }
}
