//! A fault-injecting HTTP proxy for DynamoDB's JSON protocol, to put in front of
//! [`DynamoDbLocal`](crate::DynamoDbLocal) (which never throttles and never returns
//! `UnprocessedItems`) so the failure paths of a client can be tested against a real server.
//!
//! The protocol: `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>` and a JSON body,
//! HTTP/1.1 with keep-alive. The proxy listens on 127.0.0.1 (a free port), reads each request
//! (a `Content-Length` body), and either forwards it upstream unchanged (keeping its `Host`
//! header and signature: DynamoDB Local checks no signatures) or injects a fault, chosen per
//! operation by the probabilities of its [`Faults`]:
//!
//! - **partial batch** (`BatchWriteItem` only): only a random, non-empty, proper subset of the
//!   batch's write requests is forwarded; the rest come back in the `UnprocessedItems` of the
//!   normal 200 response, in the shape DynamoDB uses (`{"UnprocessedItems": {"T": [{"PutRequest":
//!   {"Item": …}}]}}`). A batch of one request cannot be split and is forwarded whole.
//! - **`ProvisionedThroughputExceededException`** or **`ThrottlingException`**: an HTTP 400 with
//!   DynamoDB's JSON error body (`{"__type": "…#ProvisionedThroughputExceededException",
//!   "message": "…"}`), nothing forwarded.
//! - **`InternalServerError`**: an HTTP 500, nothing forwarded.
//! - **dropped connection before forwarding**: the socket is closed without a response; nothing
//!   was applied.
//! - **dropped connection after forwarding**: the request is applied upstream, then the socket is
//!   closed without a response: the client never hears that its write succeeded.
//! - **`ValidationException`**: an HTTP 400 with DynamoDB's JSON error body, nothing forwarded:
//!   an error no retry can fix (DynamoDB answers it to a malformed or oversized request). It
//!   ends a client's work, so it is not drawn from probabilities: a plan places it on one
//!   request with [`FaultPlan::script`].
//!
//! The schedule is seeded: the fault of the *n*-th request the proxy receives (counted from 0,
//! in arrival order) is a function of the seed, *n*, the operation, the request's number among
//! that operation's requests (its *ordinal*, also from 0) and the request's body only (a
//! splitmix64 generator seeded with the seed and *n*), so a client that sends the same requests
//! in the same order meets the same faults. Two settings of a plan use the ordinal, for tests
//! that need some requests to succeed before the faults start:
//! [`FaultPlan::clean_first`] (the first *k* requests of an operation meet no drawn fault) and
//! [`FaultPlan::script`] (one request of an operation meets a given fault, e.g. the sixth
//! `BatchWriteItem` gets a `ValidationException`). [`FaultProxy::log`] records what each
//! request met, [`FaultProxy::stats`] counts them. [`FaultProxy::set_enabled`] turns faults
//! off (and on again); [`FaultProxy::set_latency`] adds a delay to every request (e.g. 5 ms, the
//! round trip of DynamoDB in-region), faults on or off.
//!
//! Every response the proxy writes carries a correct `Content-Length` and `x-amz-crc32` (the
//! CRC32 of the body, recomputed when the body was rewritten), whatever upstream sent.
//!
//! ```no_run
//! use holdfast_testkit::{DynamoDbLocal, FaultPlan, FaultProxy, Faults};
//! let dynamodb = DynamoDbLocal::start();
//! let plan = FaultPlan::new(42).operation(
//!     "BatchWriteItem",
//!     Faults { partial_batch: 0.3, throttling: 0.05, drop_after_forward: 0.01, ..Faults::NONE },
//! );
//! let proxy = FaultProxy::start(&dynamodb.endpoint(), plan);
//! // Point the SDK at proxy.endpoint(); afterwards: proxy.stats().partial_batches > 0 …
//! ```

use crate::http1::{read_message, Message};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::io::{self, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The probabilities (each 0.0–1.0) of the faults injected into one operation's requests. At
/// most one fault per request: the error and drop faults are drawn first, their probabilities
/// adding up (keep the sum at most 1); `partial_batch` then applies to a `BatchWriteItem` that
/// met none of them.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    /// `BatchWriteItem` only: part of the batch is returned as `UnprocessedItems`.
    pub partial_batch: f64,
    /// HTTP 400 `ProvisionedThroughputExceededException`, not forwarded.
    pub throughput_exceeded: f64,
    /// HTTP 400 `ThrottlingException`, not forwarded.
    pub throttling: f64,
    /// HTTP 500 `InternalServerError`, not forwarded.
    pub internal_error: f64,
    /// The connection is closed without a response, the request not forwarded.
    pub drop_before_forward: f64,
    /// The request is forwarded and applied, then the connection closed without a response.
    pub drop_after_forward: f64,
}

impl Faults {
    /// No faults.
    pub const NONE: Faults = Faults {
        partial_batch: 0.0,
        throughput_exceeded: 0.0,
        throttling: 0.0,
        internal_error: 0.0,
        drop_before_forward: 0.0,
        drop_after_forward: 0.0,
    };
}

/// What faults to inject: a seed and the [`Faults`] of each operation (by its name in
/// `X-Amz-Target`, e.g. `BatchWriteItem`), with a default for the others.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FaultPlan {
    seed: u64,
    operations: HashMap<String, Faults>,
    other: Faults,
    latency: Duration,
    /// Per operation: how many of its first requests meet no drawn fault.
    clean_first: HashMap<String, u64>,
    /// Per operation and ordinal: a fault set for that one request.
    scripted: HashMap<(String, u64), Fault>,
}

impl FaultPlan {
    /// No faults yet, with this seed.
    #[must_use]
    pub fn new(seed: u64) -> FaultPlan {
        FaultPlan {
            seed,
            ..FaultPlan::default()
        }
    }

    /// The faults of one operation (`BatchWriteItem`, `Scan`, …).
    #[must_use]
    pub fn operation(mut self, name: &str, faults: Faults) -> FaultPlan {
        self.operations.insert(name.to_string(), faults);
        self
    }

    /// The faults of every operation not named with [`FaultPlan::operation`].
    #[must_use]
    pub fn other_operations(mut self, faults: Faults) -> FaultPlan {
        self.other = faults;
        self
    }

    /// A delay added to every request before it is answered or forwarded.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> FaultPlan {
        self.latency = latency;
        self
    }

    /// The first `requests` requests of `operation` (its ordinals `0..requests`, in the order
    /// the proxy receives them) meet no fault drawn from the operation's [`Faults`]; the
    /// probabilities apply from the next one. A request set with [`FaultPlan::script`] still
    /// meets its fault.
    #[must_use]
    pub fn clean_first(mut self, operation: &str, requests: u64) -> FaultPlan {
        self.clean_first.insert(operation.to_string(), requests);
        self
    }

    /// The request of `operation` with this ordinal (its number among that operation's
    /// requests, from 0, in the order the proxy receives them) meets `fault`, whatever the
    /// probabilities say. Every fault but [`Fault::PartialBatch`] (which needs a batch to split)
    /// can be set; [`Fault::None`] forwards that request untouched.
    ///
    /// # Panics
    /// When `fault` is a [`Fault::PartialBatch`].
    #[must_use]
    pub fn script(mut self, operation: &str, ordinal: u64, fault: Fault) -> FaultPlan {
        assert!(
            !matches!(fault, Fault::PartialBatch { .. }),
            "a partial batch is drawn from Faults::partial_batch, not scripted"
        );
        self.scripted
            .insert((operation.to_string(), ordinal), fault);
        self
    }

    /// The seed.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    fn faults(&self, operation: &str) -> Faults {
        self.operations
            .get(operation)
            .copied()
            .unwrap_or(self.other)
    }

    /// The fault of the request numbered `index` (from 0, in arrival order), the `ordinal`-th
    /// request of `operation`, with the number of write requests of its batch
    /// (`BatchWriteItem`; 0 for others): a pure function of the plan and these arguments. For a
    /// partial batch, the returned mask says which write requests (in the body's order, table
    /// by table) are forwarded.
    fn decide(
        &self,
        index: u64,
        ordinal: u64,
        operation: &str,
        batch_len: usize,
    ) -> (Fault, Vec<bool>) {
        if let Some(fault) = self.scripted.get(&(operation.to_string(), ordinal)) {
            return (*fault, Vec::new());
        }
        if self
            .clean_first
            .get(operation)
            .is_some_and(|clean| ordinal < *clean)
        {
            return (Fault::None, Vec::new());
        }
        let faults = self.faults(operation);
        let mut rng = SplitMix64::new(self.seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
        let draw = rng.next_f64();
        let mut bound = 0.0;
        for (p, fault) in [
            (faults.throughput_exceeded, Fault::ThroughputExceeded),
            (faults.throttling, Fault::Throttling),
            (faults.internal_error, Fault::InternalError),
            (faults.drop_before_forward, Fault::DropBeforeForward),
            (faults.drop_after_forward, Fault::DropAfterForward),
        ] {
            bound += p;
            if draw < bound {
                return (fault, Vec::new());
            }
        }
        let partial = rng.next_f64() < faults.partial_batch;
        if !partial || operation != "BatchWriteItem" || batch_len < 2 {
            return (Fault::None, Vec::new());
        }
        // Each request kept with probability 1/2; at least one kept and one left out.
        let mut mask: Vec<bool> = (0..batch_len).map(|_| rng.next_u64() & 1 == 1).collect();
        let first = (rng.next_u64() % batch_len as u64) as usize;
        let second = (first + 1 + (rng.next_u64() % (batch_len as u64 - 1)) as usize) % batch_len;
        mask[first] = true;
        mask[second] = false;
        let unprocessed = mask.iter().filter(|kept| !**kept).count();
        (
            Fault::PartialBatch {
                forwarded: batch_len - unprocessed,
                unprocessed,
            },
            mask,
        )
    }
}

/// What one request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// Forwarded as it was.
    None,
    /// `forwarded` write requests went upstream, `unprocessed` came back as `UnprocessedItems`.
    PartialBatch {
        forwarded: usize,
        unprocessed: usize,
    },
    /// Answered `ProvisionedThroughputExceededException`.
    ThroughputExceeded,
    /// Answered `ThrottlingException`.
    Throttling,
    /// Answered HTTP 500.
    InternalError,
    /// Answered HTTP 400 `ValidationException` (not retryable); only set with
    /// [`FaultPlan::script`].
    ValidationError,
    /// Connection closed, nothing forwarded.
    DropBeforeForward,
    /// Forwarded (applied), then the connection closed without a response.
    DropAfterForward,
}

/// One request as the proxy saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// Its number, from 0, in arrival order.
    pub index: u64,
    /// Its number among the requests of its operation, from 0.
    pub ordinal: u64,
    /// The operation of `X-Amz-Target` (empty when there was none).
    pub operation: String,
    /// What it met.
    pub fault: Fault,
}

/// Counts of what the proxy did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultStats {
    /// Requests received.
    pub requests: u64,
    /// Requests forwarded upstream (in whole or in part).
    pub forwarded: u64,
    /// `BatchWriteItem` requests answered with some `UnprocessedItems`.
    pub partial_batches: u64,
    /// Write requests returned as `UnprocessedItems`, over all partial batches.
    pub unprocessed_items: u64,
    pub throughput_exceeded: u64,
    pub throttling: u64,
    pub internal_errors: u64,
    pub validation_errors: u64,
    pub dropped_before_forward: u64,
    pub dropped_after_forward: u64,
    /// Requests that could not be forwarded because upstream failed (answered 502).
    pub upstream_errors: u64,
}

struct Shared {
    upstream: String,
    plan: FaultPlan,
    enabled: AtomicBool,
    latency_micros: AtomicU64,
    next_index: AtomicU64,
    /// Requests received so far, per operation (the next ordinal).
    ordinals: Mutex<HashMap<String, u64>>,
    stats: Mutex<FaultStats>,
    log: Mutex<Vec<LoggedRequest>>,
    stop: AtomicBool,
    /// The open client connections, to close on drop.
    connections: Mutex<HashMap<u64, TcpStream>>,
}

/// A running proxy; stops (and closes its connections) on drop.
pub struct FaultProxy {
    shared: Arc<Shared>,
    port: u16,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy on a free port of 127.0.0.1 that forwards to `upstream`
    /// (`http://HOST:PORT`, e.g. [`DynamoDbLocal::endpoint`](crate::DynamoDbLocal::endpoint)).
    ///
    /// # Panics
    /// When `upstream` is not an `http://HOST:PORT` URL or no port can be bound.
    pub fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        let authority = upstream
            .strip_prefix("http://")
            .unwrap_or_else(|| {
                panic!("the proxy's upstream must be http://HOST:PORT, not {upstream}")
            })
            .trim_end_matches('/')
            .to_string();
        assert!(
            authority.to_socket_addrs().is_ok(),
            "the proxy's upstream must be http://HOST:PORT, not {upstream}"
        );
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let latency = plan.latency;
        let shared = Arc::new(Shared {
            upstream: authority,
            plan,
            enabled: AtomicBool::new(true),
            latency_micros: AtomicU64::new(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX)),
            next_index: AtomicU64::new(0),
            ordinals: Mutex::new(HashMap::new()),
            stats: Mutex::new(FaultStats::default()),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
        });
        let accept_shared = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name("fault-proxy-accept".into())
            .spawn(move || accept_loop(&listener, &accept_shared))
            .expect("start the fault proxy");
        FaultProxy {
            shared,
            port,
            accept: Some(accept),
        }
    }

    /// `http://127.0.0.1:PORT`, the endpoint for clients.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Turns fault injection on or off (latency stays). Requests still get numbers while off,
    /// so a schedule stays a function of the arrival order.
    pub fn set_enabled(&self, enabled: bool) {
        self.shared.enabled.store(enabled, Ordering::SeqCst);
    }

    /// Sets the delay added to every request.
    pub fn set_latency(&self, latency: Duration) {
        self.shared.latency_micros.store(
            u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    /// The counts so far.
    #[must_use]
    pub fn stats(&self) -> FaultStats {
        *lock(&self.shared.stats)
    }

    /// Every request so far, in arrival order, with what it met.
    #[must_use]
    pub fn log(&self) -> Vec<LoggedRequest> {
        let mut log = lock(&self.shared.log).clone();
        log.sort_by_key(|r| r.index);
        log
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        for (_, conn) in lock(&self.shared.connections).drain() {
            let _ = conn.shutdown(Shutdown::Both);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut next_id = 0u64;
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let id = next_id;
        next_id += 1;
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.connections).insert(id, clone);
        }
        let shared = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("fault-proxy-conn".into())
            .spawn(move || {
                let _ = serve_connection(stream, &shared);
                lock(&shared.connections).remove(&id);
            });
    }
}

/// The upstream connection of one client connection, opened on first use and again after a
/// failure.
struct Upstream {
    conn: Option<BufReader<TcpStream>>,
}

impl Upstream {
    fn exchange(&mut self, authority: &str, request: &Message) -> io::Result<Message> {
        // A kept-alive connection may have been closed by the server meanwhile: one retry on a
        // fresh one.
        for attempt in 0..2 {
            let reused = self.conn.is_some();
            if self.conn.is_none() {
                let stream = TcpStream::connect(authority)?;
                let _ = stream.set_nodelay(true);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
                self.conn = Some(BufReader::new(stream));
            }
            let conn = self.conn.as_mut().expect("connected");
            let result = request
                .write_to(conn.get_mut(), false)
                .and_then(|()| read_message(conn, true));
            match result {
                Ok(Some(response)) => {
                    if response.wants_close() {
                        self.conn = None;
                    }
                    return Ok(response);
                }
                Ok(None) | Err(_) if reused && attempt == 0 => self.conn = None,
                Ok(None) => {
                    self.conn = None;
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "upstream closed",
                    ));
                }
                Err(e) => {
                    self.conn = None;
                    return Err(e);
                }
            }
        }
        Err(io::Error::other("upstream failed twice"))
    }
}

fn serve_connection(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut upstream = Upstream { conn: None };
    while let Some(mut request) = read_message(&mut reader, false)? {
        if shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        let operation = request
            .header("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("")
            .to_string();
        // Both numbers under one lock: ordinals follow the arrival order.
        let (index, ordinal) = {
            let mut ordinals = lock(&shared.ordinals);
            let next = ordinals.entry(operation.clone()).or_insert(0);
            let ordinal = *next;
            *next += 1;
            (shared.next_index.fetch_add(1, Ordering::SeqCst), ordinal)
        };
        let latency = shared.latency_micros.load(Ordering::SeqCst);
        if latency > 0 {
            std::thread::sleep(Duration::from_micros(latency));
        }
        let enabled = shared.enabled.load(Ordering::SeqCst);
        // The body is parsed only when it may be split: a latency-only proxy stays cheap.
        let batch = (enabled
            && operation == "BatchWriteItem"
            && shared.plan.faults(&operation).partial_batch > 0.0)
            .then(|| serde_json::from_slice::<Value>(&request.body).ok())
            .flatten();
        let batch_len = batch.as_ref().map_or(0, |b| write_requests(b).count());
        let (fault, mask) = if enabled {
            shared.plan.decide(index, ordinal, &operation, batch_len)
        } else {
            (Fault::None, Vec::new())
        };
        lock(&shared.log).push(LoggedRequest {
            index,
            ordinal,
            operation: operation.clone(),
            fault,
        });
        let close = request.wants_close();
        {
            let mut stats = lock(&shared.stats);
            stats.requests += 1;
            match fault {
                Fault::None => {}
                Fault::PartialBatch { unprocessed, .. } => {
                    stats.partial_batches += 1;
                    stats.unprocessed_items += unprocessed as u64;
                }
                Fault::ThroughputExceeded => stats.throughput_exceeded += 1,
                Fault::Throttling => stats.throttling += 1,
                Fault::InternalError => stats.internal_errors += 1,
                Fault::ValidationError => stats.validation_errors += 1,
                Fault::DropBeforeForward => stats.dropped_before_forward += 1,
                Fault::DropAfterForward => stats.dropped_after_forward += 1,
            }
        }
        let response = match fault {
            Fault::ThroughputExceeded => error_response(
                400,
                "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded. \
                 Consider increasing your provisioning level with the UpdateTable API.",
            ),
            Fault::Throttling => error_response(
                400,
                "com.amazon.coral.availability#ThrottlingException",
                "Rate of requests exceeds the allowed throughput.",
            ),
            Fault::InternalError => error_response(
                500,
                "com.amazonaws.dynamodb.v20120810#InternalServerError",
                "Internal server error",
            ),
            Fault::ValidationError => error_response(
                400,
                "com.amazon.coral.validate#ValidationException",
                "One or more parameter values were invalid: the request was refused by the \
                 fault proxy",
            ),
            Fault::DropBeforeForward => {
                let _ = writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            Fault::None | Fault::DropAfterForward | Fault::PartialBatch { .. } => {
                let mut unprocessed = Map::new();
                if let (Fault::PartialBatch { .. }, Some(mut batch)) = (fault, batch) {
                    unprocessed = split_batch(&mut batch, &mask);
                    request.body = serde_json::to_vec(&batch).expect("JSON");
                }
                if request
                    .header("expect")
                    .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
                {
                    writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                }
                match upstream.exchange(&shared.upstream, &request) {
                    Ok(mut response) => {
                        lock(&shared.stats).forwarded += 1;
                        if fault == Fault::DropAfterForward {
                            let _ = writer.shutdown(Shutdown::Both);
                            return Ok(());
                        }
                        if !unprocessed.is_empty() {
                            merge_unprocessed(&mut response, unprocessed);
                        }
                        response
                    }
                    Err(e) => {
                        lock(&shared.stats).upstream_errors += 1;
                        let mut r = error_response(
                            502,
                            "holdfast.testkit#UpstreamError",
                            &format!("the fault proxy could not reach {}: {e}", shared.upstream),
                        );
                        r.start = "HTTP/1.1 502 Bad Gateway".into();
                        r
                    }
                }
            }
        };
        response.write_to(&mut writer, true)?;
        if close {
            let _ = writer.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
    Ok(())
}

/// The write requests of a `BatchWriteItem` body, table by table in the body's order.
fn write_requests(batch: &Value) -> impl Iterator<Item = &Value> {
    batch
        .get("RequestItems")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|tables| tables.values())
        .filter_map(Value::as_array)
        .flatten()
}

/// Keeps in `batch` the write requests whose `mask` entry is true; returns the others as an
/// `UnprocessedItems` map. Tables left with no request are removed from the batch.
fn split_batch(batch: &mut Value, mask: &[bool]) -> Map<String, Value> {
    let mut unprocessed = Map::new();
    let Some(tables) = batch.get_mut("RequestItems").and_then(Value::as_object_mut) else {
        return unprocessed;
    };
    let mut i = 0;
    let mut emptied = Vec::new();
    for (table, requests) in tables.iter_mut() {
        let Some(requests) = requests.as_array_mut() else {
            continue;
        };
        let mut kept = Vec::new();
        let mut left = Vec::new();
        for request in requests.drain(..) {
            if mask.get(i).copied().unwrap_or(true) {
                kept.push(request);
            } else {
                left.push(request);
            }
            i += 1;
        }
        if kept.is_empty() {
            emptied.push(table.clone());
        }
        *requests = kept;
        if !left.is_empty() {
            unprocessed.insert(table.clone(), Value::Array(left));
        }
    }
    for table in emptied {
        tables.remove(&table);
    }
    unprocessed
}

/// Adds `unprocessed` to the `UnprocessedItems` of a 200 response (others are left alone).
fn merge_unprocessed(response: &mut Message, unprocessed: Map<String, Value>) {
    if response.start.split(' ').nth(1) != Some("200") {
        return;
    }
    let Ok(mut body) = serde_json::from_slice::<Value>(&response.body) else {
        return;
    };
    let Some(object) = body.as_object_mut() else {
        return;
    };
    let items = object
        .entry("UnprocessedItems")
        .or_insert_with(|| Value::Object(Map::new()));
    if !items.is_object() {
        *items = Value::Object(Map::new());
    }
    let items = items.as_object_mut().expect("object");
    for (table, requests) in unprocessed {
        let entry = items
            .entry(table)
            .or_insert_with(|| Value::Array(Vec::new()));
        if let (Some(existing), Value::Array(more)) = (entry.as_array_mut(), requests) {
            existing.extend(more);
        }
    }
    response.body = serde_json::to_vec(&body).expect("JSON");
}

/// A DynamoDB JSON error response.
fn error_response(status: u16, error_type: &str, message: &str) -> Message {
    let reason = match status {
        400 => "Bad Request",
        500 => "Internal Server Error",
        _ => "Error",
    };
    let body = serde_json::json!({ "__type": error_type, "message": message });
    Message {
        start: format!("HTTP/1.1 {status} {reason}"),
        headers: vec![
            ("Content-Type".into(), "application/x-amz-json-1.0".into()),
            ("x-amzn-RequestId".into(), "HOLDFASTFAULTPROXY".into()),
        ],
        body: serde_json::to_vec(&body).expect("JSON"),
    }
}

/// splitmix64: a small, fast, well-mixed generator (Steele, Lea and Flood 2014).
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> SplitMix64 {
        SplitMix64(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// CRC-32 (IEEE, as zlib), the checksum of DynamoDB's `x-amz-crc32` header (decimal there),
/// for tests that check a response.
#[must_use]
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn the_schedule_is_a_function_of_seed_and_index() {
        let plan = |seed| {
            FaultPlan::new(seed).operation(
                "BatchWriteItem",
                Faults {
                    partial_batch: 0.3,
                    throttling: 0.05,
                    drop_after_forward: 0.01,
                    ..Faults::NONE
                },
            )
        };
        let run = |seed| {
            (0..2000)
                .map(|i| plan(seed).decide(i, i, "BatchWriteItem", 25))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let faults = run(7);
        let partial = faults
            .iter()
            .filter(|(f, _)| matches!(f, Fault::PartialBatch { .. }))
            .count();
        let throttled = faults
            .iter()
            .filter(|(f, _)| *f == Fault::Throttling)
            .count();
        // 0.95 * 0.3 of 2000 ≈ 570; 5% ≈ 100.
        assert!((450..700).contains(&partial), "{partial}");
        assert!((60..140).contains(&throttled), "{throttled}");
        for (fault, mask) in &faults {
            if let Fault::PartialBatch {
                forwarded,
                unprocessed,
            } = fault
            {
                assert!(*forwarded >= 1 && *unprocessed >= 1);
                assert_eq!(forwarded + unprocessed, 25);
                assert_eq!(mask.iter().filter(|k| **k).count(), *forwarded);
            }
        }
        // Other operations get the default (none); a batch of one is never split.
        assert!((0..500).all(|i| plan(7).decide(i, i, "Scan", 0).0 == Fault::None));
        assert!((0..500).all(|i| !matches!(
            plan(7).decide(i, i, "BatchWriteItem", 1).0,
            Fault::PartialBatch { .. }
        )));
    }

    #[test]
    fn clean_first_and_scripted_faults_follow_the_ordinal() {
        let plan = FaultPlan::new(5)
            .operation(
                "BatchWriteItem",
                Faults {
                    throttling: 1.0,
                    ..Faults::NONE
                },
            )
            .clean_first("BatchWriteItem", 3)
            .script("BatchWriteItem", 1, Fault::ValidationError)
            .script("Scan", 4, Fault::InternalError);
        let writes: Vec<Fault> = (0..6)
            .map(|o| plan.decide(100 + o, o, "BatchWriteItem", 25).0)
            .collect();
        assert_eq!(
            writes,
            [
                Fault::None,
                Fault::ValidationError,
                Fault::None,
                Fault::Throttling,
                Fault::Throttling,
                Fault::Throttling
            ]
        );
        // The global index does not matter to them, the ordinal does.
        assert_eq!(
            plan.decide(7, 1, "BatchWriteItem", 25).0,
            Fault::ValidationError
        );
        assert_eq!(plan.decide(1, 4, "Scan", 0).0, Fault::InternalError);
        assert!((0..50)
            .filter(|o| *o != 4)
            .all(|o| plan.decide(o, o, "Scan", 0).0 == Fault::None));
    }

    #[test]
    #[should_panic(expected = "not scripted")]
    fn a_partial_batch_cannot_be_scripted() {
        let _ = FaultPlan::new(1).script(
            "BatchWriteItem",
            0,
            Fault::PartialBatch {
                forwarded: 1,
                unprocessed: 1,
            },
        );
    }

    #[test]
    fn splits_a_batch_into_forwarded_and_unprocessed() {
        let mut batch = serde_json::json!({
            "RequestItems": {
                "a": [{"PutRequest": {"Item": {"pk": {"S": "1"}}}}, {"PutRequest": {"Item": {"pk": {"S": "2"}}}}],
                "b": [{"DeleteRequest": {"Key": {"pk": {"S": "3"}}}}]
            },
            "ReturnConsumedCapacity": "TOTAL"
        });
        let unprocessed = split_batch(&mut batch, &[true, false, false]);
        assert_eq!(
            batch,
            serde_json::json!({
                "RequestItems": {"a": [{"PutRequest": {"Item": {"pk": {"S": "1"}}}}]},
                "ReturnConsumedCapacity": "TOTAL"
            })
        );
        assert_eq!(
            Value::Object(unprocessed.clone()),
            serde_json::json!({
                "a": [{"PutRequest": {"Item": {"pk": {"S": "2"}}}}],
                "b": [{"DeleteRequest": {"Key": {"pk": {"S": "3"}}}}]
            })
        );
        let mut response = Message {
            start: "HTTP/1.1 200 OK".into(),
            headers: vec![],
            body: br#"{"UnprocessedItems":{}}"#.to_vec(),
        };
        merge_unprocessed(&mut response, unprocessed);
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(
            body["UnprocessedItems"]["b"][0]["DeleteRequest"]["Key"]["pk"]["S"],
            "3"
        );
    }
}
