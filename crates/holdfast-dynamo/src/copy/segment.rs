//! One copy worker: it claims segments until none is left, and copies each page by page —
//! scan, transform, write, with up to `pages_in_flight` pages written at once — moving the
//! checkpoint past a page only when it and every page before it were acknowledged.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{BoxFuture, FutureExt as _};
use futures_util::stream::{FuturesOrdered, StreamExt as _};

use super::checks::{apply, in_place_output};
use super::{CopyProgress, CopyRequest};
use crate::checkpoint::{CheckpointError, Claim, Store};
use crate::keys::KeySpec;
use crate::scanner::{Page, ScanError, Scanner, Segment};
use crate::sdk_item::SdkItem;
use crate::stop::Stop;
use crate::transform::Transform;
use crate::writer::{BatchWriter, WriteError};

/// What every worker of a run shares.
pub(super) struct Ctx {
    pub(super) request: CopyRequest,
    pub(super) transform: Option<Arc<Transform>>,
    pub(super) source_key: KeySpec,
    pub(super) target_key: KeySpec,
    pub(super) scanner: Scanner,
    pub(super) writer: BatchWriter,
    pub(super) store: Store,
    pub(super) stop: Arc<Stop>,
    pub(super) progress: Arc<CopyProgress>,
    pub(super) in_place: bool,
    pub(super) dropped: AtomicU64,
    pub(super) split: AtomicU64,
    pub(super) unchanged: AtomicU64,
}

impl Ctx {
    /// Claims segments until none is left (or the run stops).
    pub(super) async fn worker(&self) -> Result<(), String> {
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

pub(super) enum SegmentEnd {
    LeaseLost(u32),
    Failed(String),
}
