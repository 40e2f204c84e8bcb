//! A local AWS Lambda Runtime API, to drive a real `bootstrap` binary the way Lambda does, and a
//! receiver for the custom resource responses a function PUTs to its `ResponseURL`.
//!
//! [`LambdaRuntime`] speaks the documented protocol (version `2018-06-01`):
//! `GET /runtime/invocation/next` long-polls for the next event and answers it with the headers
//! `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
//! `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`;
//! `POST /runtime/invocation/{id}/response` and `…/{id}/error` record the answer (202);
//! `POST /runtime/init/error` records an initialisation failure. The function runs as a child
//! process started with [`LambdaRuntime::function_command`] (the environment Lambda sets:
//! `AWS_LAMBDA_RUNTIME_API`, function name, memory, version).
//!
//! What it does not emulate: Lambda freezing the process between invocations and killing it at
//! the deadline (a test checks that the answer came before the deadline, and kills the process
//! itself), concurrency (one function process), extensions, and the Telemetry/Logs APIs.
//!
//! [`ResponseReceiver`] stands in for the pre-signed S3 URL CloudFormation hands a custom
//! resource: it records every request (method, path, `Content-Type`, body) and answers 200, or
//! an error status for the first few when told to (to test the function's retries).

use crate::http1::{Message, Server};
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "/2018-06-01/runtime";

/// How the function answered an invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `…/response`: the returned value.
    Response(Value),
    /// `…/error`: the error's type and message.
    Error { error_type: String, message: String },
}

/// One invocation's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Invoked {
    pub request_id: String,
    /// `None`: no answer before the deadline (plus a grace second).
    pub answer: Option<Answer>,
    /// From queuing the event to the answer.
    pub elapsed: Duration,
    /// The deadline the function was given.
    pub timeout: Duration,
}

struct Queued {
    id: String,
    event: Vec<u8>,
    deadline_ms: u64,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Queued>,
    answers: HashMap<String, Answer>,
    /// When each `next` request arrived.
    polls: Vec<Instant>,
    init_error: Option<String>,
    stopped: bool,
    sequence: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn handle(&self, request: &Message) -> Message {
        let (method, path) = request.method_and_path();
        let Some(rest) = path.strip_prefix(PREFIX) else {
            return Message::response(404, "text/plain", b"not a Runtime API path".to_vec());
        };
        match (method, rest) {
            ("GET", "/invocation/next") => self.next(),
            ("POST", "/init/error") => {
                self.lock().init_error = Some(String::from_utf8_lossy(&request.body).into());
                self.changed.notify_all();
                accepted()
            }
            ("POST", rest) => {
                let Some((id, kind)) = rest
                    .strip_prefix("/invocation/")
                    .and_then(|r| r.split_once('/'))
                else {
                    return Message::response(404, "text/plain", b"unknown path".to_vec());
                };
                let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
                let answer = match kind {
                    "response" => Answer::Response(body),
                    "error" => Answer::Error {
                        error_type: body["errorType"].as_str().unwrap_or("").to_owned(),
                        message: body["errorMessage"].as_str().unwrap_or("").to_owned(),
                    },
                    _ => return Message::response(404, "text/plain", b"unknown path".to_vec()),
                };
                self.lock().answers.insert(id.to_owned(), answer);
                self.changed.notify_all();
                accepted()
            }
            _ => Message::response(404, "text/plain", b"unknown path".to_vec()),
        }
    }

    /// Blocks until an event is queued (or the runtime stops).
    fn next(&self) -> Message {
        let mut state = self.lock();
        state.polls.push(Instant::now());
        self.changed.notify_all();
        loop {
            if state.stopped {
                return Message::response(500, "text/plain", b"runtime stopped".to_vec());
            }
            if let Some(queued) = state.queue.pop_front() {
                let mut response = Message::response(200, "application/json", queued.event);
                response.headers.extend([
                    ("Lambda-Runtime-Aws-Request-Id".into(), queued.id.clone()),
                    (
                        "Lambda-Runtime-Deadline-Ms".into(),
                        queued.deadline_ms.to_string(),
                    ),
                    (
                        "Lambda-Runtime-Invoked-Function-Arn".into(),
                        "arn:aws:lambda:us-east-1:123456789012:function:holdfast-test".into(),
                    ),
                    (
                        "Lambda-Runtime-Trace-Id".into(),
                        format!("Root=1-00000000-{:024x};Sampled=0", queued.deadline_ms),
                    ),
                ]);
                return response;
            }
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }
}

fn accepted() -> Message {
    Message::response(202, "application/json", br#"{"status":"OK"}"#.to_vec())
}

/// A local Lambda Runtime API; stops on drop.
pub struct LambdaRuntime {
    shared: Arc<Shared>,
    server: Option<Server>,
}

impl LambdaRuntime {
    /// Starts the API on a free port.
    #[must_use]
    pub fn start() -> LambdaRuntime {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let handler_shared = Arc::clone(&shared);
        let server = Server::start(
            "lambda-runtime-api",
            Arc::new(move |request: &Message| handler_shared.handle(request)),
        );
        LambdaRuntime {
            shared,
            server: Some(server),
        }
    }

    /// `127.0.0.1:PORT`, the value of `AWS_LAMBDA_RUNTIME_API`.
    #[must_use]
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.server.as_ref().map_or(0, Server::port))
    }

    /// A command that runs `binary` as this runtime's function, with the environment Lambda
    /// sets (add the function's own variables to it).
    #[must_use]
    pub fn function_command(&self, binary: &Path) -> Command {
        let mut command = Command::new(binary);
        command
            .env("AWS_LAMBDA_RUNTIME_API", self.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", "holdfast-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/holdfast-test");
        command
    }

    /// Hands `event` to the function with `timeout` to answer it, and waits for the answer
    /// (at most the timeout plus a grace second).
    #[must_use]
    pub fn invoke(&self, event: &Value, timeout: Duration) -> Invoked {
        let started = Instant::now();
        let deadline_ms = SystemTime::now()
            .checked_add(timeout)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        let id = {
            let mut state = self.shared.lock();
            state.sequence += 1;
            let id = format!("00000000-0000-4000-8000-{:012}", state.sequence);
            state.queue.push_back(Queued {
                id: id.clone(),
                event: serde_json::to_vec(event).expect("an event serializes"),
                deadline_ms,
            });
            id
        };
        self.shared.changed.notify_all();
        let until = started + timeout + Duration::from_secs(1);
        let mut state = self.shared.lock();
        loop {
            if let Some(answer) = state.answers.remove(&id) {
                return Invoked {
                    request_id: id,
                    answer: Some(answer),
                    elapsed: started.elapsed(),
                    timeout,
                };
            }
            let now = Instant::now();
            if now >= until {
                // Like Lambda after a timeout: the event is no longer offered.
                state.queue.retain(|q| q.id != id);
                return Invoked {
                    request_id: id,
                    answer: None,
                    elapsed: started.elapsed(),
                    timeout,
                };
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, until - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// Waits until the function has sent its `n`-th `next` request (counted from 1); returns
    /// when it arrived.
    #[must_use]
    pub fn wait_for_poll(&self, n: usize, timeout: Duration) -> Option<Instant> {
        let until = Instant::now() + timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(at) = state.polls.get(n - 1) {
                return Some(*at);
            }
            let now = Instant::now();
            if now >= until {
                return None;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, until - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// The body of an `init/error` report, if the function sent one.
    #[must_use]
    pub fn init_error(&self) -> Option<String> {
        self.shared.lock().init_error.clone()
    }
}

impl Drop for LambdaRuntime {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_all();
        self.server.take();
    }
}

/// One request the [`ResponseReceiver`] got.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// `None`: no `Content-Type` header at all.
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Received {
    /// The body as JSON (`Null` if it is not JSON).
    #[must_use]
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Statuses to answer the next requests with, in order (then 200).
    scripted: VecDeque<u16>,
}

/// A local stand-in for a custom resource's pre-signed `ResponseURL`; stops on drop.
pub struct ResponseReceiver {
    state: Arc<(Mutex<ReceiverState>, Condvar)>,
    server: Server,
}

impl ResponseReceiver {
    /// Starts it on a free port.
    #[must_use]
    pub fn start() -> ResponseReceiver {
        let state = Arc::new((Mutex::new(ReceiverState::default()), Condvar::new()));
        let handler_state = Arc::clone(&state);
        let server = Server::start(
            "response-receiver",
            Arc::new(move |request: &Message| {
                let (lock, changed) = &*handler_state;
                let mut s = lock
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let (method, path) = request.method_and_path();
                s.received.push(Received {
                    method: method.to_owned(),
                    path: path.to_owned(),
                    content_type: request.header("content-type").map(str::to_owned),
                    body: request.body.clone(),
                });
                let status = s.scripted.pop_front().unwrap_or(200);
                changed.notify_all();
                Message::response(status, "application/xml", Vec::new())
            }),
        );
        ResponseReceiver { state, server }
    }

    /// A URL on it that looks like a pre-signed one (`http://127.0.0.1:PORT/NAME?X-Amz-…`).
    #[must_use]
    pub fn url(&self, name: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{name}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0123abcd",
            self.server.port()
        )
    }

    /// Answer the next requests with these statuses (then 200 again).
    pub fn answer_next_with(&self, statuses: &[u16]) {
        let (lock, _) = &*self.state;
        lock.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .scripted
            .extend(statuses);
    }

    /// Every request so far.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        let (lock, _) = &*self.state;
        lock.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .received
            .clone()
    }

    /// Waits until `n` requests have arrived; returns them all.
    #[must_use]
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let (lock, changed) = &*self.state;
        let until = Instant::now() + timeout;
        let mut s = lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while s.received.len() < n {
            let now = Instant::now();
            if now >= until {
                break;
            }
            s = changed
                .wait_timeout(s, until - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        s.received.clone()
    }
}
