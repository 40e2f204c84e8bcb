//! How a copy run ends: the checkpoint read back (or why the run failed, with where it
//! stands), the verification when every segment is done, and the report.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use holdfast_core::exit::Outcome;
use holdfast_core::remedy::{NextStep, Remedy};
use holdfast_report::dynamo::{CompareReport, CopyReport};
use holdfast_report::{Command, Envelope};

use super::segment::Ctx;
use super::{CopyError, CopyRequest};
use crate::checkpoint::{progress_line, SegmentState};
use crate::compare::{compare, Comparison};
use crate::stop::{Stop, StopReason};

/// Releases the claims and reads every segment's state back; a worker's `failure` becomes
/// the run's error, saying what the checkpoint records.
pub(super) async fn read_back(
    ctx: &Ctx,
    failure: Option<String>,
) -> Result<Vec<SegmentState>, CopyError> {
    let location = ctx.store.location().to_string();
    let finished = async {
        ctx.store.release(&[]).await?;
        ctx.store.states().await
    };
    match (finished.await, failure) {
        (Ok(states), None) => Ok(states),
        (Ok(states), Some(error)) => Err(CopyError::Failed {
            error: error.trim_end_matches('.').to_owned(),
            resume: NextStep::new(
                format!("{location} records {}", progress_line(&states)),
                Remedy::Resume,
            ),
        }),
        // The run's own failure matters more than the checkpoint's.
        (Err(checkpoint), Some(error)) => Err(CopyError::Failed {
            error: error.trim_end_matches('.').to_owned(),
            resume: NextStep::new(
                format!("{location} could not be read back ({checkpoint}); it is never ahead of the target"),
                Remedy::Resume,
            ),
        }),
        (Err(checkpoint), None) => Err(checkpoint.into()),
    }
}

/// Ends a run whose workers finished or stopped: verification when every segment is done
/// (and not in place, not stopped, not turned off), then the report.
pub(super) async fn finish(
    client: &Client,
    ctx: &Ctx,
    states: &[SegmentState],
    elapsed: impl Fn() -> Duration,
) -> Result<CopyReport, CopyError> {
    let all_done = states.iter().all(|s| s.done);
    let mine_done = states
        .iter()
        .filter(|s| {
            ctx.request
                .segment_range
                .as_ref()
                .is_none_or(|r| r.contains(&s.segment))
        })
        .all(|s| s.done);
    let stopped = ctx.stop.reason().filter(|_| !mine_done);
    let verification = if all_done && ctx.request.verify && !ctx.in_place && stopped.is_none() {
        Some(verify(client, ctx).await?)
    } else {
        None
    };
    Ok(report(
        ctx,
        states,
        stopped,
        mine_done,
        verification,
        elapsed(),
    ))
}

/// The comparison of a finished copy.
async fn verify(client: &Client, ctx: &Ctx) -> Result<CompareReport, CopyError> {
    Ok(compare(
        client,
        &Comparison::after_copy(
            (&ctx.request.source, &ctx.source_key),
            (&ctx.request.target, &ctx.target_key),
            ctx.transform.clone(),
            ctx.request.segments,
            ctx.request.keys_file.clone(),
        ),
        Arc::new(Stop::new(None)),
    )
    .await?)
}

fn report(
    ctx: &Ctx,
    states: &[SegmentState],
    stopped: Option<StopReason>,
    mine_done: bool,
    verification: Option<CompareReport>,
    elapsed: Duration,
) -> CopyReport {
    let location = ctx.store.location().to_string();
    let all_done = states.iter().all(|s| s.done);
    let resume_hint = NextStep::new(
        format!("{location} records {}", progress_line(states)),
        Remedy::Resume,
    );
    let outcome = if stopped.is_some() {
        Outcome::StoppedResumable
    } else if verification.as_ref().is_some_and(|v| !v.equal) {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    };
    let written = &ctx.progress.written;
    let items_written = written.written.load(Ordering::Relaxed);
    CopyReport {
        envelope: Envelope::new(Command::DynamoCopy, outcome),
        source: ctx.request.source.clone(),
        target: ctx.request.target.clone(),
        checkpoint: location.clone(),
        total_segments: ctx.request.segments,
        segments_done: states.iter().filter(|s| s.done).count() as u32,
        items_read: ctx.progress.read.load(Ordering::Relaxed),
        items_written,
        items_dropped: ctx.dropped.load(Ordering::Relaxed),
        items_split: ctx.split.load(Ordering::Relaxed),
        items_unchanged: ctx.unchanged.load(Ordering::Relaxed),
        items_deleted: 0,
        keys_kept: 0,
        duplicates_merged: written.duplicates_merged.load(Ordering::Relaxed),
        unprocessed_retried: written.unprocessed_retried.load(Ordering::Relaxed),
        calls_retried: written.calls_retried.load(Ordering::Relaxed),
        elapsed_ms: elapsed.as_millis() as u64,
        items_per_second: (ctx.progress.read.load(Ordering::Relaxed) as f64
            / elapsed.as_secs_f64().max(0.001)) as u64,
        stopped: stopped.map(|r| match r {
            StopReason::Deadline => "deadline".to_owned(),
            StopReason::Interrupted => "interrupted".to_owned(),
        }),
        resume: (!all_done).then_some(if stopped.is_some() || !mine_done {
            resume_hint
        } else {
            NextStep::new(
                format!("{location}: this run's segments are done"),
                Remedy::OtherWorkersFinish,
            )
        }),
        verification,
    }
}

/// A report of a run that copied nothing (a prepared copy).
pub(super) fn empty_report(
    request: &CopyRequest,
    checkpoint: String,
    states: &[SegmentState],
) -> CopyReport {
    CopyReport {
        envelope: Envelope::new(Command::DynamoCopy, Outcome::Success),
        source: request.source.clone(),
        target: request.target.clone(),
        checkpoint,
        total_segments: request.segments,
        segments_done: states.iter().filter(|s| s.done).count() as u32,
        items_read: 0,
        items_written: 0,
        items_dropped: 0,
        items_split: 0,
        items_unchanged: 0,
        items_deleted: 0,
        keys_kept: 0,
        duplicates_merged: 0,
        unprocessed_retried: 0,
        calls_retried: 0,
        elapsed_ms: 0,
        items_per_second: 0,
        stopped: None,
        resume: None,
        verification: None,
    }
}
