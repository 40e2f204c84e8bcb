//! `holdfast dynamo copy SOURCE TARGET`: a parallel scan of the source, an optional jq
//! transform, batched writes that never drop an item, a checkpoint after every acknowledged
//! page, and a comparison at the end.
//!
//! The order of a run:
//! 1. Both tables are described: they must exist and be ACTIVE; without a transform their key
//!    schemas must be equal.
//! 2. The checkpoint is opened (resume) or created (a fresh run first checks that the target is
//!    empty, unless allowed otherwise, and runs the transform on a sample of the source, checking
//!    every output against the target's key schema). Nothing is written before these checks.
//! 3. One worker per segment (in range): claim a segment, then page by page: scan (with a page
//!    `Limit`, the next page read while earlier ones are written), transform, write — up to
//!    `pages_in_flight` pages at once — and only when every item of a page and of every page
//!    before it is acknowledged, record the page in the checkpoint.
//! 4. Stop (deadline, Ctrl-C): no new page is started, a page being written is abandoned (its
//!    checkpoint is not moved, so a resume writes it again), claims are released, exit 4.
//! 5. When every segment is done, the copy is verified with [`crate::compare`].
//!
//! **In place** (source = target, the data migrations' case): every output must keep its
//! item's key (one output per item at most; no output, or an output equal to the item, leaves
//! the item as it is and writes nothing). Reads are strongly consistent, and before a page is
//! written the checkpoint records the hashes of its outputs (`in_flight`), so a run resumed
//! after a crash skips the items of that page that were already written: no item is
//! transformed twice. There is nothing to compare afterwards.

mod checks;
mod report;
mod request;
mod segment;

pub use request::{
    default_checkpoint_file, default_keys_file, file_safe, CopyRequest, TransformSpec,
    DEFAULT_CHECKPOINT_TABLE, DEFAULT_LEASE, DEFAULT_PAGES_IN_FLIGHT, DEFAULT_PAGE_SIZE,
    DEFAULT_TOTAL_SEGMENTS, LOCAL_DIR, SAMPLE_ITEMS,
};

pub use crate::describe::{describe_both, describe_key, TableError};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_core::remedy::{NextStep, Remedy};
use holdfast_core::Resume;
use holdfast_report::dynamo::CopyReport;
use tokio::task::JoinSet;

use crate::checkpoint::file::FileStore;
use crate::checkpoint::table::TableStore;
use crate::checkpoint::{
    progress_line, CheckpointError, CopyIdentity, Location, SegmentRange, Store,
};
use crate::compare::CompareError;
use crate::keys::{KeyError, KeySpec};
use crate::rate::RateLimiter;
use crate::scanner::Scanner;
use crate::stop::Stop;
use crate::transform::Transform;
use crate::writer::{BatchWriter, WriteCounters};
use segment::Ctx;

/// Why a copy did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Table(#[from] TableError),
    /// A table could not be read (a scan before anything was written).
    #[error("table {table}: {detail}")]
    Describe { table: String, detail: String },
    #[error("source and target are the same table, {table}: copying a table onto itself needs a transform (an in-place migration)")]
    SameTable { table: String },
    #[error("target table {table} is not empty")]
    TargetNotEmpty { table: String },
    #[error(
        "transform {name} on source item {key}: output {output} {problem}; nothing was written"
    )]
    SampleCheck {
        name: String,
        key: String,
        output: usize,
        problem: KeyError,
    },
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    #[error("in-place transform {name} on item {key}: {problem}; nothing was written (an in-place migration keeps every item's key: write key changes to a new table)")]
    InPlaceSample {
        name: String,
        key: String,
        problem: String,
    },
    #[error("{location}: {reason}; nothing was written")]
    KeysFile { location: String, reason: String },
    #[error("{error}; {}", .resume.state)]
    Failed { error: String, resume: NextStep },
    #[error(transparent)]
    Compare(#[from] CompareError),
}

impl Classify for CopyError {
    fn outcome(&self) -> Outcome {
        match self {
            CopyError::Table(e) => e.outcome(),
            CopyError::Checkpoint(e) => e.outcome(),
            CopyError::Compare(e) => e.outcome(),
            CopyError::Failed { .. } | CopyError::Describe { .. } => Outcome::Failed,
            CopyError::SameTable { .. }
            | CopyError::TargetNotEmpty { .. }
            | CopyError::SampleCheck { .. }
            | CopyError::InPlaceSample { .. }
            | CopyError::KeysFile { .. } => Outcome::Usage,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            CopyError::Table(e) => e.remedy(),
            CopyError::Checkpoint(e) => e.remedy(),
            CopyError::TargetNotEmpty { .. } => Some(Remedy::AllowNonemptyTarget),
            CopyError::Failed { resume, .. } => Some(resume.remedy.clone()),
            _ => None,
        }
    }
}

/// Live counters for a progress display.
#[derive(Debug, Default)]
pub struct CopyProgress {
    pub read: Arc<AtomicU64>,
    pub written: Arc<WriteCounters>,
    pub segments_done: AtomicU64,
    pub total_segments: AtomicU64,
    /// Approximate item count of the source (DescribeTable), for an ETA.
    pub approximate_items: AtomicU64,
}

/// Runs a copy. See the module docs. [`Resume::IfPresent`] continues the copy's checkpoint
/// when there is one and starts a fresh copy (with its checks) when there is none.
///
/// # Errors
/// [`CopyError`]: checks that failed before anything was written (exit 2), a busy checkpoint
/// (exit 5), or a failure during the copy with where to resume (exit 1).
pub async fn copy(
    client: &Client,
    request: CopyRequest,
    stop: Arc<Stop>,
    progress: Arc<CopyProgress>,
) -> Result<CopyReport, CopyError> {
    if request.resume != Resume::IfPresent {
        return run(client, request, stop, progress).await;
    }
    let resumed = run(
        client,
        request.with_resume(Resume::Required),
        Arc::clone(&stop),
        Arc::clone(&progress),
    )
    .await;
    match resumed {
        Err(CopyError::Checkpoint(CheckpointError::NothingToResume { .. })) => {
            run(client, request.with_resume(Resume::Never), stop, progress).await
        }
        other => other,
    }
}

/// The tables' keys, the compiled transform, the scanner and the writer of a run.
struct Parts {
    source_key: KeySpec,
    target_key: KeySpec,
    transform: Option<Arc<Transform>>,
    scanner: Scanner,
    writer: BatchWriter,
}

/// One run with `request.resume` never or required.
async fn run(
    client: &Client,
    request: CopyRequest,
    stop: Arc<Stop>,
    progress: Arc<CopyProgress>,
) -> Result<CopyReport, CopyError> {
    let started = Instant::now();
    let parts = prepare(client, &request, &progress).await?;
    let identity = CopyIdentity {
        source: request.source.clone(),
        target: request.target.clone(),
        transform_digest: request.transform.as_ref().map(|t| t.digest.clone()),
        total_segments: request.segments,
    };
    let range = SegmentRange(request.segment_range.clone().unwrap_or(0..request.segments));
    if request.resume == Resume::Never {
        fresh_checks(client, &request, &parts, &identity, &range, &stop).await?;
    }
    let store = open_store(client, &request, &identity, range).await?;
    let in_place = request.in_place();
    let ctx = Arc::new(Ctx {
        request,
        transform: parts.transform,
        source_key: parts.source_key,
        target_key: parts.target_key,
        scanner: parts.scanner,
        writer: parts.writer,
        store,
        stop,
        progress,
        in_place,
        dropped: AtomicU64::new(0),
        split: AtomicU64::new(0),
        unchanged: AtomicU64::new(0),
    });
    if ctx.request.prepare_only {
        return prepared(&ctx).await;
    }
    let before = ctx.store.states().await?;
    ctx.progress.segments_done.store(
        before.iter().filter(|s| s.done).count() as u64,
        Ordering::Relaxed,
    );
    let failure = run_workers(&ctx).await;
    let states = report::read_back(&ctx, failure).await?;
    report::finish(client, &ctx, &states, || started.elapsed()).await
}

/// Describes both tables and builds what reads and writes them.
async fn prepare(
    client: &Client,
    request: &CopyRequest,
    progress: &CopyProgress,
) -> Result<Parts, CopyError> {
    let (source_key, target_key, approx) = describe_both(
        client,
        &request.source,
        &request.target,
        request.transform.is_some(),
    )
    .await?;
    if request.in_place() && request.transform.is_none() {
        return Err(CopyError::SameTable {
            table: request.source.clone(),
        });
    }
    progress
        .approximate_items
        .store(approx.max(0) as u64, Ordering::Relaxed);
    progress
        .total_segments
        .store(u64::from(request.segments), Ordering::Relaxed);
    let transform = match &request.transform {
        Some(spec) => Some(spec.compile(&source_key).map_err(|e| CopyError::Failed {
            error: e.to_string(),
            resume: NextStep::new(
                "nothing was written",
                Remedy::FixAndRunAgain {
                    file: "the transform".into(),
                },
            ),
        })?),
        None => None,
    };
    let rcu = Arc::new(RateLimiter::new(request.max_rcu));
    let wcu = Arc::new(RateLimiter::new(request.max_wcu));
    let mut scanner = Scanner::new(client.clone(), &request.source, rcu)
        .page_limit(request.page_limit)
        .consistent(request.in_place());
    scanner.read = Arc::clone(&progress.read);
    let writer = BatchWriter::new(
        client.clone(),
        &request.target,
        target_key.clone(),
        wcu,
        Arc::clone(&progress.written),
    );
    Ok(Parts {
        source_key,
        target_key,
        transform,
        scanner,
        writer,
    })
}

/// The checks of a fresh copy, before a checkpoint exists, so a refused run leaves nothing
/// behind: no checkpoint file in the way, an empty target (unless allowed), the transform's
/// sample.
async fn fresh_checks(
    client: &Client,
    request: &CopyRequest,
    parts: &Parts,
    identity: &CopyIdentity,
    range: &SegmentRange,
    stop: &Stop,
) -> Result<(), CopyError> {
    if let Location::File(path) = &request.checkpoint {
        if path.exists() {
            // Let the store say why (exists, foreign, busy).
            FileStore::open(path, identity, false, range.clone())?;
        }
    }
    if !request.allow_nonempty_target
        && !request.in_place()
        && !Scanner::new(
            client.clone(),
            &request.target,
            Arc::new(RateLimiter::new(None)),
        )
        .is_empty(stop)
        .await
        .map_err(|e| CopyError::Describe {
            table: request.target.clone(),
            detail: e.to_string(),
        })?
    {
        return Err(CopyError::TargetNotEmpty {
            table: request.target.clone(),
        });
    }
    if let Some(t) = &parts.transform {
        checks::sample_check(
            &parts.scanner,
            &parts.source_key,
            &parts.target_key,
            t,
            request.in_place(),
            stop,
        )
        .await?;
    }
    Ok(())
}

/// Opens the checkpoint (resuming) or creates it.
async fn open_store(
    client: &Client,
    request: &CopyRequest,
    identity: &CopyIdentity,
    range: SegmentRange,
) -> Result<Store, CopyError> {
    let resume = request.resume.allows();
    Ok(match &request.checkpoint {
        Location::File(path) => Store::File(FileStore::open(path, identity, resume, range)?),
        Location::Table(table) => Store::Table(
            TableStore::open_as(
                client.clone(),
                table,
                request
                    .checkpoint_id
                    .as_deref()
                    .unwrap_or(&format!("{}→{}", request.source, request.target)),
                identity,
                resume,
                range,
                request.lease,
            )
            .await?,
        ),
    })
}

/// A prepared copy: the checkpoint exists, nothing was copied.
async fn prepared(ctx: &Ctx) -> Result<CopyReport, CopyError> {
    ctx.store.release(&[]).await?;
    let states = ctx.store.states().await?;
    Ok(CopyReport {
        resume: Some(NextStep::new(
            format!(
                "{} prepared ({}); start the workers",
                ctx.store.location(),
                progress_line(&states)
            ),
            Remedy::Resume,
        )),
        ..report::empty_report(&ctx.request, ctx.store.location().to_string(), &states)
    })
}

/// Runs one worker per segment in range; the first failure stops the others at their next
/// page and is returned.
async fn run_workers(ctx: &Arc<Ctx>) -> Option<String> {
    let workers = ctx
        .request
        .segment_range
        .as_ref()
        .map_or(ctx.request.segments, |r| r.end.saturating_sub(r.start))
        .clamp(1, ctx.request.segments.max(1));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let ctx = Arc::clone(ctx);
        tasks.spawn(async move { ctx.worker().await });
    }
    let mut failure: Option<String> = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.unwrap_or_else(|e| Err(format!("a copy worker panicked: {e}")));
        if let Err(e) = result {
            if failure.is_none() {
                failure = Some(e);
                ctx.stop.interrupt();
            }
        }
    }
    failure
}
