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

use holdfast_core::remedy::{NextStep, Remedy, Setting};
use std::collections::HashSet;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::Client;
use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::dynamo::CopyReport;
use holdfast_report::{Command, Envelope};
use tokio::task::JoinSet;

use crate::checkpoint::file::FileStore;
use crate::checkpoint::table::TableStore;
use crate::checkpoint::{
    progress_line, CheckpointError, Claim, CopyIdentity, Location, SegmentRange, SegmentState,
    Store,
};
use crate::compare::{compare, CompareError, CompareRequest};
use crate::keys::{KeyError, KeySpec};
use crate::rate::RateLimiter;
use crate::retry::classify;
use crate::scanner::{Page, ScanError, Scanner, Segment, DEFAULT_PAGE_LIMIT};
use crate::sdk_item::{item_from_sdk, item_to_sdk, SdkItem};
use crate::stop::Stop;
use crate::transform::{Transform, TransformError};
use crate::writer::{BatchWriter, WriteCounters, WriteError};
use futures_util::future::{BoxFuture, FutureExt as _};
use futures_util::stream::{FuturesOrdered, StreamExt as _};

/// Pages of a segment written at once by default: enough that a segment's writes do not drain
/// to zero at every page boundary.
pub const DEFAULT_PAGES_IN_FLIGHT: usize = 3;

/// Items of the source the transform is tried on before anything is written.
pub const SAMPLE_ITEMS: i32 = 100;

/// A transform's text, checked to compile, and the digest of its text (part of the
/// checkpoint's identity). Compiled again with the source's key names once they are known.
#[derive(Debug, Clone)]
pub struct TransformSpec {
    pub name: String,
    pub text: String,
    pub digest: String,
}

impl TransformSpec {
    /// Checks that `text` compiles.
    ///
    /// # Errors
    /// [`TransformError::Compile`] with the line and column.
    pub fn new(name: &str, text: &str) -> Result<TransformSpec, TransformError> {
        Transform::compile(text, name)?;
        Ok(TransformSpec {
            name: name.to_owned(),
            text: text.to_owned(),
            digest: crate::digest::sha256_hex(text.as_bytes()),
        })
    }

    /// The filter, naming items by `key` in errors.
    ///
    /// # Errors
    /// As [`TransformSpec::new`].
    pub fn compile(&self, key: &KeySpec) -> Result<Arc<Transform>, TransformError> {
        Ok(Arc::new(
            Transform::compile(&self.text, &self.name)?.with_key(key.names().map(str::to_owned)),
        ))
    }
}

/// What to copy, validated (the CLI and the Lambda build this).
#[derive(Debug, Clone)]
pub struct CopyRequest {
    pub source: String,
    pub target: String,
    pub transform: Option<TransformSpec>,
    pub segments: u32,
    pub page_limit: i32,
    pub max_wcu: Option<u32>,
    pub max_rcu: Option<u32>,
    pub checkpoint: Location,
    pub resume: bool,
    pub deadline: Option<Duration>,
    /// `--segment-range a..b` (with `--total-segments` = `segments`).
    pub segment_range: Option<Range<u32>>,
    pub allow_nonempty_target: bool,
    pub verify: bool,
    /// Lease of a segment in a checkpoint table.
    pub lease: Duration,
    /// Where the verification writes differing keys.
    pub keys_file: Option<PathBuf>,
    /// The name of this copy's rows in a checkpoint table [default: `SOURCE→TARGET`].
    pub checkpoint_id: Option<String>,
    /// Check everything and create the checkpoint, then stop: workers (processes, Lambdas)
    /// join the prepared copy with `resume`.
    pub prepare_only: bool,
    /// Pages of a segment written at once (the checkpoint still moves page by page, in order).
    pub pages_in_flight: usize,
}

impl CopyRequest {
    /// Defaults for everything but the tables and the checkpoint.
    #[must_use]
    pub fn new(source: &str, target: &str, checkpoint: Location) -> CopyRequest {
        CopyRequest {
            source: source.to_owned(),
            target: target.to_owned(),
            transform: None,
            segments: 8,
            page_limit: DEFAULT_PAGE_LIMIT,
            max_wcu: None,
            max_rcu: None,
            checkpoint,
            resume: false,
            deadline: None,
            segment_range: None,
            allow_nonempty_target: false,
            verify: true,
            lease: Duration::from_secs(120),
            keys_file: None,
            checkpoint_id: None,
            prepare_only: false,
            pages_in_flight: DEFAULT_PAGES_IN_FLIGHT,
        }
    }

    /// Whether the copy rewrites its own source.
    #[must_use]
    pub fn in_place(&self) -> bool {
        self.source == self.target
    }
}

/// Why a copy did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("table {table} does not exist")]
    NoTable { table: String },
    #[error("table {table} is {status}, not ACTIVE")]
    NotActive { table: String, status: String },
    #[error("table {table}: {detail}")]
    Describe { table: String, detail: String },
    #[error("key schemas differ: {source_table} has {source_key}, {target_table} has {target_key}; a copy without a transform keeps keys as they are (a transform can derive the target's key)")]
    KeySchemas {
        source_table: String,
        source_key: String,
        target_table: String,
        target_key: String,
    },
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
            CopyError::Checkpoint(CheckpointError::Busy { .. }) => Outcome::Busy,
            CopyError::Failed { .. }
            | CopyError::Compare(_)
            | CopyError::Describe { .. }
            | CopyError::Checkpoint(
                CheckpointError::Io(_)
                | CheckpointError::Aws(_)
                | CheckpointError::LeaseLost { .. },
            ) => Outcome::Failed,
            _ => Outcome::Usage,
        }
    }

    fn remedy(&self) -> Option<Remedy> {
        match self {
            CopyError::Checkpoint(e) => e.remedy(),
            CopyError::TargetNotEmpty { .. } => Some(Remedy::AllowNonemptyTarget),
            CopyError::KeySchemas { .. } => Some(Remedy::using(Setting::Transform)),
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

/// A table's key schema, checking it exists and is ACTIVE.
///
/// # Errors
/// [`CopyError::NoTable`], [`CopyError::NotActive`], [`CopyError::Describe`].
pub async fn describe_key(client: &Client, table: &str) -> Result<(KeySpec, i64), CopyError> {
    let describe = client.describe_table().table_name(table);
    let out = match crate::retry::send_retrying(table, || describe.clone().send())
        .await
        .0
    {
        Ok(out) => out,
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => {
            return Err(CopyError::NoTable {
                table: table.into(),
            })
        }
        Err(e) => {
            return Err(CopyError::Describe {
                table: table.into(),
                detail: format!("DescribeTable: {}", classify(&e)),
            })
        }
    };
    let desc = out.table.ok_or_else(|| CopyError::Describe {
        table: table.into(),
        detail: "DescribeTable returned no table".into(),
    })?;
    let status = desc
        .table_status()
        .map_or("UNKNOWN", |s| s.as_str())
        .to_owned();
    if status != "ACTIVE" {
        return Err(CopyError::NotActive {
            table: table.into(),
            status,
        });
    }
    let key = KeySpec::from_description(&desc).ok_or_else(|| CopyError::Describe {
        table: table.into(),
        detail: "DescribeTable states no key schema".into(),
    })?;
    Ok((key, desc.item_count().unwrap_or(0)))
}

/// Both tables' keys (and the source's approximate item count), checking that a copy without
/// a transform keeps the key schema.
///
/// # Errors
/// As [`describe_key`]; [`CopyError::KeySchemas`].
pub async fn describe_both(
    client: &Client,
    source: &str,
    target: &str,
    transformed: bool,
) -> Result<(KeySpec, KeySpec, i64), CopyError> {
    let (source_key, approx) = describe_key(client, source).await?;
    let (target_key, _) = describe_key(client, target).await?;
    if !transformed && source_key != target_key {
        return Err(CopyError::KeySchemas {
            source_table: source.to_owned(),
            source_key: source_key.to_string(),
            target_table: target.to_owned(),
            target_key: target_key.to_string(),
        });
    }
    Ok((source_key, target_key, approx))
}

struct Ctx {
    request: CopyRequest,
    transform: Option<Arc<Transform>>,
    source_key: KeySpec,
    target_key: KeySpec,
    scanner: Scanner,
    writer: BatchWriter,
    store: Store,
    stop: Arc<Stop>,
    progress: Arc<CopyProgress>,
    in_place: bool,
    dropped: AtomicU64,
    split: AtomicU64,
    unchanged: AtomicU64,
}

/// Runs a copy. See the module docs.
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
    let started = Instant::now();
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
    let in_place = request.in_place();
    let mut scanner = Scanner::new(client.clone(), &request.source, rcu)
        .page_limit(request.page_limit)
        .consistent(in_place);
    scanner.read = Arc::clone(&progress.read);
    let writer = BatchWriter::new(
        client.clone(),
        &request.target,
        target_key.clone(),
        wcu,
        Arc::clone(&progress.written),
    );

    let identity = CopyIdentity {
        source: request.source.clone(),
        target: request.target.clone(),
        transform_digest: request.transform.as_ref().map(|t| t.digest.clone()),
        total_segments: request.segments,
    };
    let range = SegmentRange(request.segment_range.clone().unwrap_or(0..request.segments));
    if !request.resume {
        // Checks before a checkpoint exists, so a refused run leaves nothing behind.
        if let Location::File(path) = &request.checkpoint {
            if path.exists() {
                // Let the store say why (exists, foreign, busy).
                FileStore::open(path, &identity, false, range.clone())?;
            }
        }
        if !request.allow_nonempty_target
            && !in_place
            && !Scanner::new(
                client.clone(),
                &request.target,
                Arc::new(RateLimiter::new(None)),
            )
            .is_empty(&stop)
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
        if let Some(t) = &transform {
            sample_check(&scanner, &source_key, &target_key, t, in_place, &stop).await?;
        }
    }
    let store = match &request.checkpoint {
        Location::File(path) => {
            Store::File(FileStore::open(path, &identity, request.resume, range)?)
        }
        Location::Table(table) => Store::Table(
            TableStore::open_as(
                client.clone(),
                table,
                request
                    .checkpoint_id
                    .as_deref()
                    .unwrap_or(&format!("{}→{}", request.source, request.target)),
                &identity,
                request.resume,
                range,
                request.lease,
            )
            .await?,
        ),
    };
    let ctx = Arc::new(Ctx {
        request,
        transform,
        source_key,
        target_key,
        scanner,
        writer,
        store,
        stop,
        progress,
        in_place,
        dropped: AtomicU64::new(0),
        split: AtomicU64::new(0),
        unchanged: AtomicU64::new(0),
    });
    if ctx.request.prepare_only {
        ctx.store.release(&[]).await?;
        let states = ctx.store.states().await?;
        return Ok(CopyReport {
            resume: Some(NextStep::new(
                format!(
                    "{} prepared ({}); start the workers",
                    ctx.store.location(),
                    progress_line(&states)
                ),
                Remedy::Resume,
            )),
            ..empty_report(&ctx.request, ctx.store.location().to_string(), &states)
        });
    }
    let before = ctx.store.states().await?;
    ctx.progress.segments_done.store(
        before.iter().filter(|s| s.done).count() as u64,
        Ordering::Relaxed,
    );

    let workers = ctx
        .request
        .segment_range
        .as_ref()
        .map_or(ctx.request.segments, |r| r.end.saturating_sub(r.start))
        .clamp(1, ctx.request.segments.max(1));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let ctx = Arc::clone(&ctx);
        tasks.spawn(async move { ctx.worker().await });
    }
    let mut failure: Option<String> = None;
    while let Some(joined) = tasks.join_next().await {
        let result = joined.unwrap_or_else(|e| Err(format!("a copy worker panicked: {e}")));
        if let Err(e) = result {
            if failure.is_none() {
                failure = Some(e);
                // One failure stops the others at their next page.
                ctx.stop.interrupt();
            }
        }
    }
    let location = ctx.store.location().to_string();
    let finished = async {
        ctx.store.release(&[]).await?;
        ctx.store.states().await
    };
    let states = match (finished.await, failure) {
        (Ok(states), None) => states,
        (Ok(states), Some(error)) => {
            return Err(CopyError::Failed {
                error: error.trim_end_matches('.').to_owned(),
                resume: NextStep::new(
                    format!("{location} records {}", progress_line(&states)),
                    Remedy::Resume,
                ),
            })
        }
        // The run's own failure matters more than the checkpoint's.
        (Err(checkpoint), Some(error)) => {
            return Err(CopyError::Failed {
                error: error.trim_end_matches('.').to_owned(),
                resume: NextStep::new(
                    format!("{location} could not be read back ({checkpoint}); it is never ahead of the target"),
                    Remedy::Resume,
                ),
            })
        }
        (Err(checkpoint), None) => return Err(checkpoint.into()),
    };
    let resume_hint = NextStep::new(
        format!("{location} records {}", progress_line(&states)),
        Remedy::Resume,
    );
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
        Some(
            compare(
                client,
                &CompareRequest {
                    source: ctx.request.source.clone(),
                    target: ctx.request.target.clone(),
                    source_key: ctx.source_key.clone(),
                    target_key: ctx.target_key.clone(),
                    transform: ctx.transform.clone(),
                    segments: ctx.request.segments,
                    keys_file: ctx.request.keys_file.clone(),
                },
                Arc::new(Stop::new(None)),
            )
            .await?,
        )
    } else {
        None
    };
    let outcome = if stopped.is_some() {
        Outcome::StoppedResumable
    } else if verification.as_ref().is_some_and(|v| !v.equal) {
        Outcome::CheckFailed
    } else {
        Outcome::Success
    };
    let written = &ctx.progress.written;
    let items_written = written.written.load(Ordering::Relaxed);
    let elapsed = started.elapsed();
    Ok(CopyReport {
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
            crate::stop::StopReason::Deadline => "deadline".to_owned(),
            crate::stop::StopReason::Interrupted => "interrupted".to_owned(),
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
    })
}

/// A report of a run that copied nothing (a prepared copy).
fn empty_report(request: &CopyRequest, checkpoint: String, states: &[SegmentState]) -> CopyReport {
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

/// Runs the transform on the first page of the source and checks every output's key.
async fn sample_check(
    scanner: &Scanner,
    source_key: &KeySpec,
    target_key: &KeySpec,
    transform: &Transform,
    in_place: bool,
    stop: &Stop,
) -> Result<(), CopyError> {
    let mut probe = scanner.clone().page_limit(SAMPLE_ITEMS);
    probe.read = Arc::new(AtomicU64::new(0));
    let page = probe
        .page(None, None, stop)
        .await
        .map_err(|e| CopyError::Describe {
            table: scanner.table().to_owned(),
            detail: e.to_string(),
        })?;
    for item in &page.items {
        let outputs = apply(transform, source_key, item).map_err(|e| CopyError::Failed {
            error: format!("{e}; nothing was written"),
            resume: NextStep::new(
                "",
                Remedy::FixAndRunAgain {
                    file: "the transform".into(),
                },
            ),
        })?;
        if in_place {
            if let Err(problem) = in_place_output(source_key, item, &outputs) {
                return Err(CopyError::InPlaceSample {
                    name: transform.name().to_owned(),
                    key: source_key.render(item),
                    problem,
                });
            }
        }
        for (i, out) in outputs.iter().enumerate() {
            target_key
                .check(out)
                .map_err(|problem| CopyError::SampleCheck {
                    name: transform.name().to_owned(),
                    key: source_key.render(item),
                    output: i + 1,
                    problem,
                })?;
        }
    }
    Ok(())
}

/// The one output of an in-place transform that changes `item` (`None`: leave it as it is),
/// or why the outputs cannot be written in place.
fn in_place_output<'a>(
    key: &KeySpec,
    item: &SdkItem,
    outputs: &'a [SdkItem],
) -> Result<Option<&'a SdkItem>, String> {
    match outputs {
        [] => Ok(None),
        [out] => {
            if key.identity(out) != key.identity(item) {
                if key.check(out).is_err() {
                    return Err("the output has no complete key".to_owned());
                }
                return Err(format!("the output has another key, {}", key.render(out)));
            }
            Ok((crate::digest::item_hash(out) != crate::digest::item_hash(item)).then_some(out))
        }
        many => Err(format!(
            "{} outputs for one item (an in-place migration writes one item per key at most)",
            many.len()
        )),
    }
}

/// The transform's outputs for one source item, in SDK form.
fn apply(
    transform: &Transform,
    source_key: &KeySpec,
    item: &SdkItem,
) -> Result<Vec<SdkItem>, TransformError> {
    let model = item_from_sdk(item).map_err(|e| TransformError::Item {
        name: transform.name().to_owned(),
        key: source_key.render(item),
        reason: e.to_string(),
    })?;
    Ok(transform.apply(&model)?.iter().map(item_to_sdk).collect())
}

impl Ctx {
    /// Claims segments until none is left (or the run stops).
    async fn worker(&self) -> Result<(), String> {
        loop {
            if self.stop.is_stopped() {
                return Ok(());
            }
            let claim = self.store.claim().await.map_err(|e| e.to_string())?;
            let Some(claim) = claim else {
                match self.store.waiting().await.map_err(|e| e.to_string())? {
                    None => return Ok(()),
                    Some(wait) => {
                        let wait = wait.clamp(Duration::from_millis(200), Duration::from_secs(2));
                        if !self.stop.sleep(wait).await {
                            return Ok(());
                        }
                        continue;
                    }
                }
            };
            match self.segment(claim).await {
                Ok(()) => {}
                Err(SegmentEnd::LeaseLost(segment)) => {
                    tracing::warn!(
                        segment,
                        "lease lost to another worker; leaving the segment to it"
                    );
                }
                Err(SegmentEnd::Failed(e)) => return Err(e),
            }
        }
    }

    /// Copies one segment from its checkpoint to its end, or until the run stops: up to
    /// `pages_in_flight` pages are written at once (one in place) while the next page is read,
    /// and the checkpoint moves past a page only when it and every page before it were
    /// acknowledged. With a checkpoint table, the lease is renewed every third of it while
    /// writes are in flight (a throttled page can outlast a short lease).
    async fn segment(&self, mut claim: Claim) -> Result<(), SegmentEnd> {
        let total = self.request.segments;
        let seg = Segment {
            segment: claim.state.segment,
            total,
        };
        let fail =
            |e: String| SegmentEnd::Failed(format!("segment {} of {total}: {e}", seg.segment));
        let checkpoint_end = |e: CheckpointError| match e {
            CheckpointError::LeaseLost { segment } => SegmentEnd::LeaseLost(segment),
            e => fail(e.to_string()),
        };
        let start = claim.state.start_key().map_err(|e| fail(e.to_string()))?;
        // Outputs of the page that was being written when an in-place run stopped.
        let written_before: HashSet<String> = claim.state.in_flight.iter().cloned().collect();
        let window = if self.in_place {
            1
        } else {
            self.request.pages_in_flight.max(1)
        };
        let renews = matches!(self.store, Store::Table(_));
        let every = (self.request.lease / 3).max(Duration::from_millis(100));
        let mut renewal = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        let mut scan: Option<BoxFuture<'_, Result<Page, ScanError>>> =
            Some(self.scanner.page(Some(seg), start, &self.stop).boxed());
        let mut ready: Option<Page> = None;
        let mut writing = FuturesOrdered::new();
        let ended: Result<(), SegmentEnd> = loop {
            if writing.len() < window && !self.stop.is_stopped() {
                if let Some(page) = ready.take() {
                    let next = page.next.clone();
                    let read = page.items.len() as u64;
                    let outputs = match self.outputs(page.items, &written_before) {
                        Ok(o) => o,
                        Err(e) => break Err(fail(e)),
                    };
                    let written = outputs.len() as u64;
                    if self.in_place && !outputs.is_empty() {
                        claim.state.in_flight =
                            outputs.iter().map(crate::digest::short_hash).collect();
                        if let Err(e) = self.store.save_now(&claim).await {
                            break Err(checkpoint_end(e));
                        }
                    }
                    if let Some(k) = &next {
                        scan = Some(
                            self.scanner
                                .page(Some(seg), Some(k.clone()), &self.stop)
                                .boxed(),
                        );
                    }
                    writing.push_back(async move {
                        (
                            self.writer.put_all(outputs, &self.stop).await,
                            next,
                            read,
                            written,
                        )
                    });
                }
            }
            if writing.is_empty() && (self.stop.is_stopped() || (ready.is_none() && scan.is_none()))
            {
                // Stopped: what was acknowledged is recorded.
                break Ok(());
            }
            tokio::select! {
                Some((result, next, read, written)) = writing.next(), if !writing.is_empty() => {
                    match result {
                        Ok(()) => {}
                        Err(WriteError::Stopped) => break Ok(()),
                        Err(e) => break Err(fail(e.to_string())),
                    }
                    claim.state.advance(next.as_ref(), read, written);
                    if let Err(e) = self.store.save(&claim).await {
                        break Err(checkpoint_end(e));
                    }
                    if claim.state.done {
                        self.progress.segments_done.fetch_add(1, Ordering::Relaxed);
                        return Ok(());
                    }
                }
                page = async { scan.as_mut().expect("enabled only when set").await },
                    if scan.is_some() && ready.is_none() =>
                {
                    scan = None;
                    match page {
                        Ok(p) => ready = Some(p),
                        Err(ScanError::Stopped) => {}
                        Err(e) => break Err(fail(e.to_string())),
                    }
                }
                _ = renewal.tick(), if renews && !writing.is_empty() => {
                    // The position as it is: before the pages in flight, never ahead.
                    if let Err(e) = self.store.save_now(&claim).await {
                        break Err(checkpoint_end(e));
                    }
                }
            }
        };
        drop(writing);
        match ended {
            Ok(()) => self.release(&claim).await,
            Err(SegmentEnd::LeaseLost(segment)) => Err(SegmentEnd::LeaseLost(segment)),
            Err(e) => {
                let _ = self.release(&claim).await;
                Err(e)
            }
        }
    }

    async fn release(&self, claim: &Claim) -> Result<(), SegmentEnd> {
        match self.store.release(std::slice::from_ref(claim)).await {
            Ok(()) => Ok(()),
            Err(CheckpointError::LeaseLost { segment }) => Err(SegmentEnd::LeaseLost(segment)),
            Err(e) => Err(SegmentEnd::Failed(e.to_string())),
        }
    }

    /// A page's items as they are written: transformed and key-checked. In place, only the
    /// items that change, skipping those already written (`written_before`).
    fn outputs(
        &self,
        items: Vec<SdkItem>,
        written_before: &HashSet<String>,
    ) -> Result<Vec<SdkItem>, String> {
        let Some(t) = &self.transform else {
            return Ok(items);
        };
        let mut out = Vec::with_capacity(items.len());
        for item in &items {
            if self.in_place
                && !written_before.is_empty()
                && written_before.contains(&crate::digest::short_hash(item))
            {
                self.unchanged.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let outputs = apply(t, &self.source_key, item).map_err(|e| e.to_string())?;
            if self.in_place {
                match in_place_output(&self.source_key, item, &outputs).map_err(|problem| {
                    format!(
                        "in-place transform {} on item {}: {problem}",
                        t.name(),
                        self.source_key.render(item)
                    )
                })? {
                    Some(changed) => out.push(changed.clone()),
                    None => {
                        self.unchanged.fetch_add(1, Ordering::Relaxed);
                    }
                }
                continue;
            }
            match outputs.len() {
                0 => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                }
                n => {
                    self.split.fetch_add(n as u64 - 1, Ordering::Relaxed);
                }
            }
            for (i, o) in outputs.into_iter().enumerate() {
                self.target_key.check(&o).map_err(|problem| {
                    format!(
                        "transform {} on source item {}: output {} {problem}",
                        t.name(),
                        self.source_key.render(item),
                        i + 1
                    )
                })?;
                out.push(o);
            }
        }
        Ok(out)
    }
}

enum SegmentEnd {
    LeaseLost(u32),
    Failed(String),
}
