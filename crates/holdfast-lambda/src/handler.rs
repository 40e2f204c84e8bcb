//! The one handler: classify the event, run the operation within the invocation's time, and
//! answer the way the caller expects.
//!
//! - **Direct custom resource** (an https `ResponseURL`): always PUT a response — on success, on
//!   failure (with the actual error as `Reason`), on a panic, and a little before the deadline.
//!   The handler returns after the PUT, so locks are released and the response is out before
//!   Lambda freezes the process.
//! - **CDK provider framework** (`ResponseURL` is a placeholder): return
//!   `{PhysicalResourceId, Data}`, fail the invocation with the reason. With
//!   `HOLDFAST_ROLE=on-event` a copy that stops at the deadline returns `Complete: "false"` for the
//!   framework's `isComplete` handler, which is this function again with
//!   `HOLDFAST_ROLE=is-complete`: it continues the copy and answers `{IsComplete, Data}`.
//! - **Direct job** (Step Functions, schedules): return the operation's report; fail the
//!   invocation with the reason. A stopped copy is not a failure: its report says
//!   `stopped_resumable`.
//!
//! Create and Update run the operation; Delete never touches data and answers SUCCESS with the
//! same PhysicalResourceId. The PhysicalResourceId never changes on Update, so CloudFormation
//! never sends a Delete for a replaced one. Every operation is idempotent (migration histories,
//! copy checkpoints), so a repeated request (same RequestId) applies nothing twice.

use crate::deliver::put_response;
use crate::event::{Answer, CustomResource, Invocation, RequestType};
use crate::properties::Operation;
use crate::response::{CfnResponse, Status};
use crate::run::{self, OpResult, OpStatus, RunContext};
use holdfast_core::exit::Outcome;
use holdfast_core::redact::Redactor;
use holdfast_report::{Command, Envelope, ErrorReport};
use serde_json::{json, Map, Value};
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Time kept back from the deadline for answering (the PUT, or the return value).
pub const ANSWER_MARGIN: Duration = Duration::from_millis(2500);
/// Time kept back for the operation to wrap up after its budget (a copy finishing its pages in
/// flight, a migration run recording a statement timeout).
pub const WRAP_UP_MARGIN: Duration = Duration::from_secs(3);

/// Which handler of the CDK provider framework this function is, if any (`HOLDFAST_ROLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// A direct custom resource, a provider framework `onEvent` handler without an
    /// `isComplete` one, or a job.
    #[default]
    Plain,
    /// The provider framework's `onEvent` handler with an `isComplete` handler behind it.
    OnEvent,
    /// The provider framework's `isComplete` handler.
    IsComplete,
}

impl Role {
    /// `HOLDFAST_ROLE`: unset or empty, `on-event`, `is-complete`.
    ///
    /// # Errors
    /// Any other value, named.
    pub fn from_env() -> Result<Role, String> {
        match std::env::var("HOLDFAST_ROLE").unwrap_or_default().as_str() {
            "" => Ok(Role::Plain),
            "on-event" => Ok(Role::OnEvent),
            "is-complete" => Ok(Role::IsComplete),
            other => Err(format!(
                "HOLDFAST_ROLE `{other}` is not on-event or is-complete (or unset)"
            )),
        }
    }
}

/// Why an invocation fails: Lambda's `errorType` says the class (`Holdfast.Usage`,
/// `Holdfast.Busy` …, for a Step Functions `Retry`/`Catch`), `errorMessage` the rest. For a job
/// the message is the error report (the JSON every report shares: `format_version`, `command`,
/// `outcome`, `exit_code`, `error`); behind the provider framework, which shows it as the
/// stack event's reason, it is the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub outcome: Outcome,
    pub message: String,
}

impl Failure {
    /// A failure with a one-line reason.
    pub fn plain(outcome: Outcome, reason: impl Into<String>) -> Failure {
        Failure {
            outcome,
            message: reason.into(),
        }
    }

    /// A job's failure: the message is `command`'s error report.
    pub fn job(command: Command, outcome: Outcome, reason: &str) -> Failure {
        let report = ErrorReport {
            envelope: Envelope::new(command, outcome),
            error: reason.to_owned(),
            remedy: None,
        };
        Failure {
            outcome,
            message: serde_json::to_string(&report).unwrap_or_else(|_| reason.to_owned()),
        }
    }

    /// Lambda's `errorType`: `Holdfast.` and the outcome (`Holdfast.CheckFailed`).
    pub fn error_type(&self) -> &'static str {
        match self.outcome {
            Outcome::Success => "Holdfast.Success",
            Outcome::Failed => "Holdfast.Failed",
            Outcome::Usage => "Holdfast.Usage",
            Outcome::CheckFailed => "Holdfast.CheckFailed",
            Outcome::StoppedResumable => "Holdfast.StoppedResumable",
            Outcome::Busy => "Holdfast.Busy",
        }
    }
}

impl holdfast_core::exit::Classify for Failure {
    fn outcome(&self) -> Outcome {
        self.outcome
    }
}

/// The failure `e`, of its own class.
fn usage(e: impl std::fmt::Display + holdfast_core::exit::Classify) -> Failure {
    Failure::plain(e.outcome(), e.to_string())
}

/// Handles one event. `deadline`: when Lambda stops the invocation.
///
/// # Errors
/// [`Failure`] with the reason: an event that is neither a custom resource request nor a job,
/// a failed operation behind the provider framework or in a job, or a response that could not be
/// delivered (Lambda retries an asynchronous invocation; the operations are idempotent).
pub async fn handle(event: Value, deadline: SystemTime, role: Role) -> Result<Value, Failure> {
    let answer_by = instant_of(deadline)
        .checked_sub(ANSWER_MARGIN)
        .unwrap_or_else(Instant::now);
    let finish_by = answer_by
        .checked_sub(WRAP_UP_MARGIN)
        .unwrap_or_else(Instant::now);
    let earlier_data = event.get("Data").and_then(Value::as_object).cloned();
    let invocation = Invocation::parse(event).map_err(usage)?;
    match invocation {
        Invocation::Job(properties) => {
            let operation = Operation::from_properties(&properties).map_err(usage)?;
            let command = operation.command();
            let ctx = RunContext {
                finish_by,
                is_update: false,
                custom_resource: false,
                stack_id: None,
            };
            let result = guarded(run::run(operation, ctx), answer_by).await;
            match result.status {
                OpStatus::Failed => Err(Failure::job(
                    command,
                    result.outcome,
                    &redact(&result.reason),
                )),
                _ => Ok(result.report),
            }
        }
        Invocation::CustomResource(request) => {
            custom_resource(*request, role, earlier_data, finish_by, answer_by).await
        }
    }
}

async fn custom_resource(
    request: CustomResource,
    role: Role,
    earlier_data: Option<Map<String, Value>>,
    finish_by: Instant,
    answer_by: Instant,
) -> Result<Value, Failure> {
    let physical_id = request
        .physical_resource_id
        .clone()
        .unwrap_or_else(|| format!("holdfast-{}", request.logical_resource_id));
    let result = match request.request_type {
        RequestType::Delete => OpResult {
            status: OpStatus::Done,
            outcome: Outcome::Success,
            reason: "Delete changes no data: Holdfast never deletes what it migrated or copied"
                .into(),
            data: Map::new(),
            report: Value::Null,
        },
        _ if role == Role::IsComplete
            && earlier_data
                .as_ref()
                .and_then(|d| d.get("Complete"))
                .and_then(Value::as_str)
                == Some("true") =>
        {
            OpResult {
                status: OpStatus::Done,
                outcome: Outcome::Success,
                reason: String::new(),
                data: earlier_data.clone().unwrap_or_default(),
                report: Value::Null,
            }
        }
        RequestType::Create | RequestType::Update => {
            match Operation::from_properties(&request.properties) {
                Err(e) => OpResult::failed_as(Outcome::Usage, e.to_string()),
                Ok(operation) => {
                    let command = operation.command();
                    let ctx = RunContext {
                        finish_by,
                        is_update: request.request_type == RequestType::Update,
                        custom_resource: true,
                        stack_id: Some(request.stack_id.clone()),
                    };
                    let mut result = guarded(run::run(operation, ctx), answer_by).await;
                    result.stamp(command);
                    result
                }
            }
        }
    };
    tracing::info!(
        request_type = ?request.request_type,
        logical_resource_id = %request.logical_resource_id,
        status = ?result.status,
        reason = %redact(&result.reason),
        "custom resource request handled"
    );

    if role == Role::IsComplete {
        return match result.status {
            OpStatus::Failed => Err(Failure::plain(result.outcome, redact(&result.reason))),
            OpStatus::Stopped => Ok(json!({ "IsComplete": false })),
            OpStatus::Done => Ok(json!({ "IsComplete": true, "Data": result.data })),
        };
    }
    let status = match (result.status, role) {
        (OpStatus::Done, _) | (OpStatus::Stopped, Role::OnEvent) => Status::Success,
        _ => Status::Failed,
    };
    let response = CfnResponse {
        status,
        reason: redact(&result.reason),
        physical_resource_id: physical_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        no_echo: false,
        data: result.data,
    };
    match &request.answer {
        Answer::PutTo(url) => {
            let body = response.to_body();
            put_response(url, body.clone())
                .await
                .map_err(|e| Failure::plain(Outcome::Failed, e.to_string()))?;
            Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
        }
        Answer::Return if status == Status::Failed => {
            Err(Failure::plain(result.outcome, response.reason))
        }
        Answer::Return => Ok(json!({
            "PhysicalResourceId": response.physical_resource_id,
            "Data": response.data,
        })),
    }
}

/// Runs the operation on its own task, so that a panic becomes a failure with its message and
/// the answer goes out by `answer_by` even if the operation is stuck (it is then abandoned: its
/// database session closes, which releases a session lock; a lease-based lock expires).
async fn guarded(
    work: impl std::future::Future<Output = OpResult> + Send + 'static,
    answer_by: Instant,
) -> OpResult {
    let task = tokio::spawn(work);
    let abort = task.abort_handle();
    match tokio::time::timeout_at(answer_by, task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) if join.is_panic() => {
            let panic = join.into_panic();
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            OpResult::failed(format!("internal error (a panic): {message}"))
        }
        Ok(Err(_)) => OpResult::failed("the operation was cancelled"),
        Err(_) => {
            abort.abort();
            OpResult::failed(
                "the invocation's time ran out before the operation finished: what was done is recorded (migration history, copy checkpoint) and the next deploy continues from there; raise the function's timeout",
            )
        }
    }
}

/// The tokio instant of a wall-clock deadline.
fn instant_of(deadline: SystemTime) -> Instant {
    let left = deadline
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO);
    Instant::now() + left
}

fn redact(text: &str) -> String {
    Redactor::global().redact(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The guard on its own, with stand-in work: no real operation panics on purpose, and none
    // can be made to hang for a test without a broken server.

    #[tokio::test]
    async fn a_panic_becomes_a_failure_with_its_message() {
        let result = guarded(
            async { panic!("index out of bounds") },
            Instant::now() + Duration::from_secs(5),
        )
        .await;
        assert_eq!(result.status, OpStatus::Failed);
        assert_eq!(
            result.reason,
            "internal error (a panic): index out of bounds"
        );
    }

    #[tokio::test]
    async fn stuck_work_is_abandoned_at_the_answer_time() {
        let started = Instant::now();
        let result = guarded(
            async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                OpResult::failed("never")
            },
            Instant::now() + Duration::from_millis(200),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(result.status, OpStatus::Failed);
        assert!(result.reason.contains("time ran out"), "{}", result.reason);
    }
}
