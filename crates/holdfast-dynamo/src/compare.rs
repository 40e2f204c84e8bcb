//! `holdfast dynamo compare SOURCE TARGET [--transform F]`: are two tables equal, item for item?
//!
//! Exact, not sampled. Pass 1 reads both tables (parallel segments, strongly consistent reads)
//! into [`TableDigest`]s — per key-hash bucket, a count and a sum of item hashes, so the order
//! of reading does not matter. With a transform, the source side is the transformed source.
//! When the digests differ, pass 2 reads both tables again but keeps only items of the differing
//! buckets — in rounds of at most [`ROUND_ITEMS`] items, so memory stays bounded whatever the
//! number of differences — and lists every differing key: only in the source, only in the
//! target, or different. All of them go to a keys file (JSON lines, for `copy --keys-from`), a
//! sample to the report.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use holdfast_core::exit::{Classify, Outcome};
use holdfast_report::dynamo::{CompareReport, KeyDifference};
use holdfast_report::{Command, Envelope};
use serde_json::json;
use tokio::task::JoinSet;

use crate::copy::{TransformSpec, DEFAULT_TOTAL_SEGMENTS};
use crate::describe::{describe_key, TableError};
use crate::digest::{bucket_of, item_hash, TableDigest, BUCKETS};
use crate::item::item_to_dynamo_json;
use crate::keys::KeySpec;
use crate::rate::RateLimiter;
use crate::scanner::{ScanError, Scanner, Segment};
use crate::sdk_item::{item_from_sdk, item_to_sdk, SdkItem};
use crate::stop::Stop;
use crate::transform::{Transform, TransformError};

/// Items kept in memory per side in one round of pass 2.
pub const ROUND_ITEMS: u64 = 200_000;
/// Differing keys shown in the report.
pub const SAMPLE: usize = 10;

/// What to compare (the CLI builds this): the tables, a transform of the source, and where
/// differing keys go. [`compare_tables`] describes the tables and compiles the transform.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    pub source: String,
    pub target: String,
    pub transform: Option<TransformSpec>,
    /// Scan segments per table.
    pub segments: u32,
    /// Where to write every differing key (JSON lines); `None`: nowhere.
    pub keys_file: Option<PathBuf>,
}

impl CompareRequest {
    /// Defaults for everything but the tables.
    #[must_use]
    pub fn new(source: &str, target: &str) -> CompareRequest {
        CompareRequest {
            source: source.to_owned(),
            target: target.to_owned(),
            transform: None,
            segments: DEFAULT_TOTAL_SEGMENTS,
            keys_file: None,
        }
    }
}

/// A comparison with its tables' keys known and its transform compiled.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub source: String,
    pub target: String,
    pub source_key: KeySpec,
    pub target_key: KeySpec,
    pub transform: Option<Arc<Transform>>,
    pub segments: u32,
    /// Where to write every differing key (JSON lines); `None`: nowhere.
    pub keys_file: Option<PathBuf>,
}

impl Comparison {
    /// `copy`'s tables (with their keys and the transform) compared after it.
    #[must_use]
    pub fn after_copy(
        source: (&str, &KeySpec),
        target: (&str, &KeySpec),
        transform: Option<Arc<Transform>>,
        segments: u32,
        keys_file: Option<PathBuf>,
    ) -> Comparison {
        Comparison {
            source: source.0.to_owned(),
            target: target.0.to_owned(),
            source_key: source.1.clone(),
            target_key: target.1.clone(),
            transform,
            segments,
            keys_file,
        }
    }
}

/// Why the comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error(transparent)]
    Transform(#[from] TransformError),
    #[error("table {table}: item {key}: {reason}")]
    Item {
        table: String,
        key: String,
        reason: String,
    },
    #[error("keys file {path}: {reason}")]
    KeysFile { path: String, reason: String },
    #[error(transparent)]
    Table(#[from] TableError),
}

impl Classify for CompareError {
    fn outcome(&self) -> Outcome {
        match self {
            CompareError::Scan(e) => e.outcome(),
            CompareError::Transform(e) => e.outcome(),
            CompareError::Table(e) => e.outcome(),
            CompareError::Item { .. } | CompareError::KeysFile { .. } => Outcome::Failed,
        }
    }
}

/// A side's view of one item in pass 2.
#[derive(Debug, Clone)]
struct Seen {
    hash: [u8; 32],
    key: SdkItem,
    source_key: Option<SdkItem>,
}

/// Which buckets pass 2 keeps.
type BucketSet = Arc<Vec<bool>>;

struct Side {
    scanner: Scanner,
    key: KeySpec,
    transform: Option<Arc<Transform>>,
    segments: u32,
}

impl Side {
    /// The items of one source item as this side sees them: `(target-side item, source key)`.
    fn outputs(&self, item: SdkItem) -> Result<Vec<(SdkItem, Option<SdkItem>)>, CompareError> {
        let Some(t) = &self.transform else {
            return Ok(vec![(item, None)]);
        };
        let source_key = self.key.key_of(&item);
        let model = item_from_sdk(&item).map_err(|e| CompareError::Item {
            table: self.scanner.table().to_owned(),
            key: self.key.render(&item),
            reason: e.to_string(),
        })?;
        Ok(t.apply(&model)?
            .iter()
            .map(|o| (item_to_sdk(o), Some(source_key.clone())))
            .collect())
    }

    async fn digest(
        self: Arc<Self>,
        stop: Arc<Stop>,
        out_key: KeySpec,
    ) -> Result<TableDigest, CompareError> {
        let mut tasks = JoinSet::new();
        for segment in 0..self.segments {
            let side = Arc::clone(&self);
            let stop = Arc::clone(&stop);
            let out_key = out_key.clone();
            tasks.spawn(async move {
                let mut digest = TableDigest::default();
                side.each(segment, &stop, |item, _| {
                    digest.add(&out_key.identity(&item), &item_hash(&item));
                })
                .await?;
                Ok::<_, CompareError>(digest)
            });
        }
        let mut total = TableDigest::default();
        while let Some(joined) = tasks.join_next().await {
            total.merge(&joined.expect("compare task panicked")?);
        }
        Ok(total)
    }

    async fn collect(
        self: Arc<Self>,
        stop: Arc<Stop>,
        out_key: KeySpec,
        buckets: BucketSet,
    ) -> Result<HashMap<Vec<u8>, Seen>, CompareError> {
        let mut tasks = JoinSet::new();
        for segment in 0..self.segments {
            let side = Arc::clone(&self);
            let stop = Arc::clone(&stop);
            let out_key = out_key.clone();
            let buckets = Arc::clone(&buckets);
            tasks.spawn(async move {
                let mut seen = HashMap::new();
                side.each(segment, &stop, |item, source_key| {
                    let id = out_key.identity(&item);
                    if buckets[bucket_of(&id)] {
                        let hash = item_hash(&item);
                        seen.insert(
                            id,
                            Seen {
                                hash,
                                key: out_key.key_of(&item),
                                source_key,
                            },
                        );
                    }
                })
                .await?;
                Ok::<_, CompareError>(seen)
            });
        }
        let mut all = HashMap::new();
        while let Some(joined) = tasks.join_next().await {
            all.extend(joined.expect("compare task panicked")?);
        }
        Ok(all)
    }

    async fn each(
        &self,
        segment: u32,
        stop: &Stop,
        mut f: impl FnMut(SdkItem, Option<SdkItem>),
    ) -> Result<(), CompareError> {
        let seg = Segment {
            segment,
            total: self.segments,
        };
        let mut start = None;
        loop {
            let page = self.scanner.page(Some(seg), start, stop).await?;
            for item in page.items {
                for (out, source_key) in self.outputs(item)? {
                    f(out, source_key);
                }
            }
            match page.next {
                Some(next) => start = Some(next),
                None => return Ok(()),
            }
        }
    }
}

/// Describes both tables, compiles the transform and compares them ([`compare`]).
///
/// # Errors
/// [`CompareError::Table`] (a missing or inactive table), [`CompareError::Transform`], and
/// as [`compare`].
pub async fn compare_tables(
    client: &aws_sdk_dynamodb::Client,
    request: &CompareRequest,
    stop: Arc<Stop>,
) -> Result<CompareReport, CompareError> {
    let (source_key, _) = describe_key(client, &request.source).await?;
    let (target_key, _) = describe_key(client, &request.target).await?;
    let transform = match &request.transform {
        Some(spec) => Some(spec.compile(&source_key)?),
        None => None,
    };
    let comparison = Comparison::after_copy(
        (&request.source, &source_key),
        (&request.target, &target_key),
        transform,
        request.segments,
        request.keys_file.clone(),
    );
    compare(client, &comparison, stop).await
}

/// Compares two tables. A difference is in the report (exit 3), not an error.
///
/// # Errors
/// [`CompareError`]: a table could not be read, the transform failed on an item, the keys
/// file could not be written.
pub async fn compare(
    client: &aws_sdk_dynamodb::Client,
    request: &Comparison,
    stop: Arc<Stop>,
) -> Result<CompareReport, CompareError> {
    let started = Instant::now();
    let unlimited = Arc::new(RateLimiter::new(None));
    let side = |table: &str, key: &KeySpec, transform: Option<Arc<Transform>>| {
        Arc::new(Side {
            scanner: Scanner::new(client.clone(), table, Arc::clone(&unlimited)).consistent(true),
            key: key.clone(),
            transform,
            segments: request.segments.max(1),
        })
    };
    let source = side(
        &request.source,
        &request.source_key,
        request.transform.clone(),
    );
    let target = side(&request.target, &request.target_key, None);
    let out_key = request.target_key.clone();

    let (s, t) = tokio::join!(
        Arc::clone(&source).digest(Arc::clone(&stop), out_key.clone()),
        Arc::clone(&target).digest(Arc::clone(&stop), out_key.clone())
    );
    let (sd, td) = (s?, t?);
    let differing = sd.differing_buckets(&td);

    let mut only_in_source = 0u64;
    let mut only_in_target = 0u64;
    let mut different = 0u64;
    let mut sample = Vec::new();
    let mut keys_out = match &request.keys_file {
        Some(path) if !differing.is_empty() => Some(open_keys_file(path)?),
        _ => None,
    };

    // Pass 2, in rounds of bounded size.
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut round: Vec<usize> = Vec::new();
    let mut in_round = 0u64;
    for b in differing.iter().copied() {
        let n = sd.bucket_count(b).max(td.bucket_count(b));
        if !round.is_empty() && in_round + n > ROUND_ITEMS {
            rounds.push(std::mem::take(&mut round));
            in_round = 0;
        }
        round.push(b);
        in_round += n;
    }
    if !round.is_empty() {
        rounds.push(round);
    }
    for round in rounds {
        let mut set = vec![false; BUCKETS];
        round.iter().for_each(|b| set[*b] = true);
        let set: BucketSet = Arc::new(set);
        let (s, t) = tokio::join!(
            Arc::clone(&source).collect(Arc::clone(&stop), out_key.clone(), Arc::clone(&set)),
            Arc::clone(&target).collect(Arc::clone(&stop), out_key.clone(), Arc::clone(&set))
        );
        let (mut s, t) = (s?, t?);
        let mut record = |kind: &str, seen: &Seen| -> Result<(), CompareError> {
            if sample.len() < SAMPLE {
                sample.push(KeyDifference {
                    difference: kind.to_owned(),
                    key: out_key.render(&seen.key),
                });
            }
            if let Some((path, out)) = keys_out.as_mut() {
                let mut line = json!({"difference": kind, "key": sdk_json(&seen.key)});
                if let Some(sk) = &seen.source_key {
                    line["source_key"] = sdk_json(sk);
                }
                writeln!(out, "{line}").map_err(|e| CompareError::KeysFile {
                    path: path.clone(),
                    reason: e.to_string(),
                })?;
            }
            Ok(())
        };
        for (id, seen_t) in &t {
            match s.remove(id) {
                None => {
                    only_in_target += 1;
                    record("only_in_target", seen_t)?;
                }
                Some(seen_s) if seen_s.hash != seen_t.hash => {
                    different += 1;
                    record("different", &seen_s)?;
                }
                Some(_) => {}
            }
        }
        for seen_s in s.values() {
            only_in_source += 1;
            record("only_in_source", seen_s)?;
        }
    }
    if let Some((path, mut out)) = keys_out.take() {
        out.flush().map_err(|e| CompareError::KeysFile {
            path,
            reason: e.to_string(),
        })?;
    }
    let equal = differing.is_empty();
    let outcome = if equal {
        Outcome::Success
    } else {
        Outcome::CheckFailed
    };
    Ok(CompareReport {
        envelope: Envelope::new(Command::DynamoCompare, outcome),
        source: request.source.clone(),
        target: request.target.clone(),
        transformed: request.transform.is_some(),
        equal,
        source_items: sd.count(),
        target_items: td.count(),
        only_in_source,
        only_in_target,
        different,
        sample,
        keys_file: request
            .keys_file
            .as_ref()
            .filter(|_| !equal)
            .map(|p| p.display().to_string()),
        source_digest: sd.fingerprint(),
        target_digest: td.fingerprint(),
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

fn sdk_json(item: &SdkItem) -> serde_json::Value {
    item_from_sdk(item).map_or(serde_json::Value::Null, |i| item_to_dynamo_json(&i))
}

fn open_keys_file(
    path: &PathBuf,
) -> Result<(String, std::io::BufWriter<std::fs::File>), CompareError> {
    let shown = path.display().to_string();
    let fail = |e: std::io::Error| CompareError::KeysFile {
        path: shown.clone(),
        reason: e.to_string(),
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    let file = std::fs::File::create(path).map_err(fail)?;
    Ok((shown.clone(), std::io::BufWriter::new(file)))
}
