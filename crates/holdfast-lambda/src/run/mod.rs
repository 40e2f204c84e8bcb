//! Running an [`Operation`] with the same library code as the CLI, within the time the
//! invocation has left: each operation gets a *budget* (the invocation's deadline minus a margin
//! for answering) and turns its report into an [`OpResult`]: done, stopped with resumable progress,
//! or failed with the actual error — never a pointer to the logs.

mod clients;
mod dynamo;
pub(crate) mod env;
pub mod refresh;
mod sql;

use crate::properties::Operation;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::Command;
use serde_json::{Map, Value};
use std::time::Duration;
use tokio::time::Instant;

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpStatus {
    /// Finished: nothing left to do.
    Done,
    /// Stopped before the deadline with its progress recorded; the next run resumes it.
    Stopped,
    Failed,
}

/// What an operation reports: its status, a one-line reason (the error when failed, a note
/// otherwise), the short values for the response's `Data`, and the full report for direct jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct OpResult {
    pub status: OpStatus,
    /// The outcome class (the CLI's exit code): the report's, or the error's.
    pub outcome: Outcome,
    pub reason: String,
    pub data: Map<String, Value>,
    pub report: Value,
}

impl OpResult {
    /// A failure of class [`Outcome::Failed`] with `reason`.
    #[must_use]
    pub fn failed(reason: impl Into<String>) -> OpResult {
        OpResult::failed_as(Outcome::Failed, reason)
    }

    /// A failure of class `outcome` (bad input: [`Outcome::Usage`]; a held lock: `Busy`).
    #[must_use]
    pub fn failed_as(outcome: Outcome, reason: impl Into<String>) -> OpResult {
        OpResult {
            status: OpStatus::Failed,
            outcome,
            reason: reason.into(),
            data: Map::new(),
            report: Value::Null,
        }
    }

    /// The failure `error`, classified by itself, its remedy in the Lambda's words.
    #[must_use]
    pub fn error<E: std::fmt::Display + Classify + ?Sized>(error: &E) -> OpResult {
        OpResult::failed_as(
            error.outcome(),
            crate::remedies::with_remedy(&error.to_string(), error.remedy().as_ref()),
        )
    }

    /// Adds the report envelope to `Data` (`FormatVersion`, `Command`, `Outcome`, `ExitCode`:
    /// the same four values every report starts with, as `Fn::GetAtt` strings).
    pub fn stamp(&mut self, command: Command) {
        put(
            &mut self.data,
            "FormatVersion",
            holdfast_report::FORMAT_VERSION,
        );
        put(&mut self.data, "Command", command);
        put(&mut self.data, "Outcome", self.outcome);
        put(&mut self.data, "ExitCode", self.outcome.code());
    }
}

/// What the operation needs to know about its invocation.
#[derive(Debug, Clone)]
pub struct RunContext {
    /// When the operation must have finished (the invocation's deadline minus the answer margin).
    pub finish_by: Instant,
    /// A CloudFormation Update: it may be a rollback to an older migration set.
    pub is_update: bool,
    /// A custom resource request (rather than a direct job): a copy resumes its own checkpoint
    /// when the request is repeated or the stack is deployed again.
    pub custom_resource: bool,
    /// The custom resource's stack (its `StackId`); `None` for a direct job.
    pub stack_id: Option<String>,
}

impl RunContext {
    /// The time left, less a small margin for the operation's own wrap-up.
    #[must_use]
    pub fn budget(&self) -> Duration {
        self.finish_by.saturating_duration_since(Instant::now())
    }
}

impl Operation {
    /// The command whose report the operation returns.
    #[must_use]
    pub fn command(&self) -> Command {
        match self {
            Operation::SqlMigrate(_) => Command::MigrateUp,
            Operation::DynamoVerify(_) => Command::DynamoVerify,
            Operation::DynamoCopy(_) => Command::DynamoCopy,
            Operation::DynamoMigrate(_) => Command::DynamoMigrate,
            Operation::EnvVerify(_) => Command::EnvVerify,
            Operation::RefreshSanitize(_) => Command::RefreshSanitize,
        }
    }
}

/// Runs `operation`. The future is `Send` and `'static`, to run on a task of its own.
pub fn run(
    operation: Operation,
    ctx: RunContext,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = OpResult> + Send>> {
    match operation {
        Operation::SqlMigrate(op) => Box::pin(async move { sql::migrate(&op, &ctx).await }),
        Operation::DynamoVerify(op) => Box::pin(async move { dynamo::verify(&op, &ctx).await }),
        Operation::DynamoCopy(op) => Box::pin(async move { dynamo::copy(&op, &ctx).await }),
        Operation::DynamoMigrate(op) => Box::pin(async move { dynamo::migrate(&op, &ctx).await }),
        Operation::EnvVerify(op) => Box::pin(async move { env::verify(&op, &ctx).await }),
        Operation::RefreshSanitize(op) => {
            Box::pin(async move { refresh::sanitize(&op, &ctx).await })
        }
    }
}

/// A `Data` value: CloudFormation hands `Fn::GetAtt` strings.
pub(crate) fn put(data: &mut Map<String, Value>, key: &str, value: impl ToString) {
    data.insert(key.to_owned(), Value::String(value.to_string()));
}

/// A report as JSON for a direct job.
pub(crate) fn to_json(report: &impl serde::Serialize) -> Value {
    serde_json::to_value(report).unwrap_or(Value::Null)
}
