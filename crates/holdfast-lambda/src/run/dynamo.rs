//! `DynamoVerify`, `DynamoCopy` and `DynamoMigrate`: the CLI's `dynamo verify`, `dynamo copy`
//! (with a checkpoint table, so Lambdas can share and continue a copy) and `dynamo migrate`.
//!
//! Each maps its properties onto the library's request and nothing more. A copy stops at the
//! budget with its checkpoint saved (`Stopped`). Behind a custom resource it continues its own
//! checkpoint when one exists (`Resume: if-present`) — a repeated request, a deploy after a
//! stop, or a rollback to properties whose copy is done — so nothing is copied twice and a
//! finished copy answers at once (after its verification).

use super::{clients, put, to_json, OpResult, OpStatus, RunContext};
use crate::properties::{DynamoCopy, DynamoMigrate, DynamoVerify};
use crate::remedies;
use holdfast_core::exit::Outcome;
use holdfast_core::Resume;
use holdfast_dynamo::checkpoint::Location;
use holdfast_dynamo::copy::{self as copy_mod, CopyProgress, CopyRequest, TransformSpec};
use holdfast_dynamo::key_schema::KeySpec;
use holdfast_dynamo::keys_from::{copy_keys, KeysCopyRequest};
use holdfast_dynamo::migrate::{self as migrate_mod, MigrateRequest};
use holdfast_dynamo::stop::Stop;
use holdfast_dynamo::verify::VerifyRequest;
use serde_json::Map;
use std::sync::Arc;
use std::time::Duration;

/// `DynamoVerify`: waits (within the budget) for the table to be ACTIVE, then checks it.
pub(super) async fn verify(op: &DynamoVerify, ctx: &RunContext) -> OpResult {
    let require_key = match op.require_key.as_deref().map(str::parse::<KeySpec>) {
        None => None,
        Some(Ok(spec)) => Some(spec),
        Some(Err(e)) => {
            return OpResult::failed_as(Outcome::Usage, format!("property RequireKey: {e}"))
        }
    };
    let dynamo = match clients::dynamo().await {
        Ok(d) => d,
        Err(e) => return OpResult::failed(e),
    };
    let request = VerifyRequest {
        table: op.table.clone(),
        require_key,
        require_pitr: op.require_pitr,
        wait: Some(within(op.wait, ctx)),
    };
    let report = match dynamo.verify(&request).await {
        Ok(r) => r,
        Err(e) => return OpResult::error(&e),
    };
    let mut data = Map::new();
    if let Some(info) = &report.table_info {
        put(&mut data, "TableStatus", &info.status);
        if let Some(arn) = &info.arn {
            put(&mut data, "TableArn", arn);
        }
        if let Some(count) = info.approximate_item_count {
            put(&mut data, "ApproximateItemCount", count);
        }
    }
    let failed: Vec<String> = report
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    put(&mut data, "FailedChecks", failed.len());
    put(&mut data, "Complete", true);
    let (status, reason) = if report.outcome() == Outcome::Success {
        (OpStatus::Done, String::new())
    } else {
        (
            OpStatus::Failed,
            format!("table {}: {}", op.table, failed.join("; ")),
        )
    };
    OpResult {
        status,
        outcome: report.outcome(),
        reason,
        data,
        report: to_json(&report),
    }
}

/// The time an operation may take: `limit`, capped by the invocation's time left.
fn within(limit: Option<Duration>, ctx: &RunContext) -> Duration {
    limit.map_or(ctx.budget(), |l| l.min(ctx.budget()))
}

/// `DynamoCopy`'s properties as the library's request. Behind a custom resource, this copy's
/// own checkpoint is continued when it exists (a repeated request, a deploy after a stop, a
/// rollback to a finished copy's properties): unset or `false`, `Resume` is `if-present`
/// there, so a repeated request never fails on its own checkpoint.
fn copy_request(
    op: &DynamoCopy,
    ctx: &RunContext,
    transform: Option<TransformSpec>,
) -> CopyRequest {
    let mut request = CopyRequest::new(
        &op.source,
        &op.target,
        Location::Table(op.checkpoint_table.clone()),
    );
    request.transform = transform;
    request.segments = op.total_segments;
    request.segment_range = op.segment_range.clone();
    request.page_limit = op.page_size;
    request.pages_in_flight = op.pages_in_flight;
    request.max_wcu = op.max_wcu;
    request.max_rcu = op.max_rcu;
    request.lease = op.lease;
    request.resume = match op.resume.unwrap_or(Resume::Never) {
        Resume::Never if ctx.custom_resource && !op.prepare => Resume::IfPresent,
        resume => resume,
    };
    request.prepare_only = op.prepare;
    request.verify = !op.no_verify;
    request.allow_nonempty_target = op.allow_nonempty_target;
    request.deadline = Some(within(op.deadline, ctx));
    request.keys_file = Some(op.keys_file.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!(
            "holdfast-compare-{}.keys.jsonl",
            std::process::id()
        ))
    }));
    request
}

/// `DynamoCopy`.
pub(super) async fn copy(op: &DynamoCopy, ctx: &RunContext) -> OpResult {
    let transform = match transform(op) {
        Ok(t) => t,
        Err(e) => return OpResult::failed(e),
    };
    let dynamo = match clients::dynamo().await {
        Ok(d) => d,
        Err(e) => return OpResult::failed(e),
    };
    let client = dynamo.data_client();
    let request = copy_request(op, ctx, transform);
    let stop = Arc::new(Stop::new(request.deadline));
    let result = match &op.keys_from {
        Some(keys_from) => {
            let keys =
                KeysCopyRequest::from_copy(&request, keys_from.clone(), op.delete_only_in_target);
            copy_keys(&client, keys, stop).await
        }
        None => copy_mod::copy(&client, request, stop, Arc::new(CopyProgress::default())).await,
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => return OpResult::error(&e),
    };
    let mut data = Map::new();
    put(&mut data, "ItemsRead", report.items_read);
    put(&mut data, "ItemsWritten", report.items_written);
    put(&mut data, "ItemsDropped", report.items_dropped);
    put(&mut data, "SegmentsDone", report.segments_done);
    put(&mut data, "TotalSegments", report.total_segments);
    put(&mut data, "Checkpoint", &report.checkpoint);
    let (status, reason) = match report.outcome() {
        Outcome::Success => (OpStatus::Done, String::new()),
        Outcome::StoppedResumable => (
            OpStatus::Stopped,
            format!(
                "the copy stopped at the invocation's deadline with {} of {} segments done; {}",
                report.segments_done,
                report.total_segments,
                next_step(report.resume.as_ref())
            ),
        ),
        _ => (
            OpStatus::Failed,
            format!(
                "the copy's verification found differences between {} and {}; {}",
                report.source,
                report.target,
                next_step(report.resume.as_ref())
            ),
        ),
    };
    put(&mut data, "Complete", status == OpStatus::Done);
    OpResult {
        status,
        outcome: report.outcome(),
        reason,
        data,
        report: to_json(&report),
    }
}

fn transform(op: &DynamoCopy) -> Result<Option<TransformSpec>, String> {
    let (name, text) = match (&op.transform_file, &op.transform) {
        (Some(path), _) => (
            path.display().to_string(),
            std::fs::read_to_string(path)
                .map_err(|e| format!("property TransformFile {}: {e}", path.display()))?,
        ),
        (None, Some(filter)) => ("the Transform property".to_owned(), filter.clone()),
        (None, None) => return Ok(None),
    };
    TransformSpec::new(&name, &text)
        .map(Some)
        .map_err(|e| e.to_string())
}

/// `DynamoMigrate`.
pub(super) async fn migrate(op: &DynamoMigrate, ctx: &RunContext) -> OpResult {
    let dynamo = match clients::dynamo().await {
        Ok(d) => d,
        Err(e) => return OpResult::failed(e),
    };
    let client = dynamo.data_client();
    let mut request = MigrateRequest::new(op.migrations_path.clone());
    request.history_table = op.history_table.clone();
    request.lease = op.lease;
    request.lock_wait = within(Some(op.lock_wait), ctx);
    request.dry_run = op.dry_run;
    request.keys_dir = Some(std::env::temp_dir());
    let stop = Arc::new(Stop::new(Some(within(op.deadline, ctx))));
    let report = match migrate_mod::migrate(&client, &request, stop).await {
        Ok(r) => r,
        Err(e) => return OpResult::error(&e),
    };
    let mut data = Map::new();
    put(&mut data, "AppliedCount", report.applied_now);
    put(&mut data, "PendingCount", report.pending);
    let latest = report
        .migrations
        .iter()
        .filter(|m| m.state == "applied")
        .map(|m| m.version.as_str())
        .next_back()
        .unwrap_or("");
    put(&mut data, "LatestVersion", latest);
    let (status, reason) = match report.outcome() {
        Outcome::Success => (OpStatus::Done, String::new()),
        Outcome::StoppedResumable => (
            OpStatus::Stopped,
            format!(
                "stopped at the invocation's deadline; {}",
                next_step(report.resume.as_ref())
            ),
        ),
        _ => (
            OpStatus::Failed,
            if report.problems.is_empty() {
                format!(
                    "a data migration's verification found differences; {}",
                    next_step(report.resume.as_ref())
                )
            } else {
                format!(
                    "the history does not match the migrations, nothing was run: {}",
                    report.problems.join("; ")
                )
            },
        ),
    };
    put(&mut data, "Complete", status == OpStatus::Done);
    OpResult {
        status,
        outcome: report.outcome(),
        reason,
        data,
        report: to_json(&report),
    }
}

/// A report's next step in the function's words (empty when there is none).
fn next_step(step: Option<&holdfast_core::remedy::NextStep>) -> String {
    step.map(|s| s.render(&remedies::Properties))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::properties::Operation;
    use serde_json::json;

    fn op(props: serde_json::Value) -> DynamoCopy {
        let serde_json::Value::Object(mut m) = props else {
            unreachable!()
        };
        m.insert("Operation".into(), json!("DynamoCopy"));
        m.insert("Source".into(), json!("a"));
        m.insert("Target".into(), json!("b"));
        match Operation::from_properties(&m).unwrap() {
            Operation::DynamoCopy(c) => *c,
            _ => unreachable!(),
        }
    }

    fn ctx(custom_resource: bool) -> RunContext {
        RunContext {
            finish_by: tokio::time::Instant::now() + Duration::from_secs(60),
            is_update: false,
            custom_resource,
            stack_id: None,
        }
    }

    /// A custom resource continues its own checkpoint unless told to require one or to
    /// prepare; a direct job resumes only when asked.
    #[test]
    fn resume_follows_the_invocation() {
        for (props, custom, want) in [
            (json!({}), true, Resume::IfPresent),
            (json!({"Resume": "false"}), true, Resume::IfPresent),
            (json!({"Resume": "true"}), true, Resume::Required),
            (json!({"Prepare": "true"}), true, Resume::Never),
            (json!({}), false, Resume::Never),
            (json!({"Resume": "if-present"}), false, Resume::IfPresent),
            (json!({"Resume": "true"}), false, Resume::Required),
        ] {
            let request = copy_request(&op(props.clone()), &ctx(custom), None);
            assert_eq!(request.resume, want, "{props} custom={custom}");
        }
    }

    #[test]
    fn a_deadline_is_capped_by_the_time_left() {
        let request = copy_request(&op(json!({"Deadline": "1h"})), &ctx(true), None);
        assert!(request.deadline.unwrap() <= Duration::from_secs(60));
        let request = copy_request(
            &op(json!({"Deadline": "10s", "PagesInFlight": "7"})),
            &ctx(true),
            None,
        );
        assert_eq!(request.deadline, Some(Duration::from_secs(10)));
        assert_eq!(request.pages_in_flight, 7);
    }
}
