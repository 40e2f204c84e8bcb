//! A local RDS Data API endpoint on a real PostgreSQL, for testing Holdfast's `data-api://`
//! backend without AWS.
//!
//! [`DataApiEndpoint::start`] listens on a free port of 127.0.0.1 and speaks the Data API's
//! REST-JSON protocol over HTTP/1.1 with keep-alive (the test kit's `http1::Server`):
//! `POST /Execute` (ExecuteStatement), `/BeginTransaction`, `/CommitTransaction` and
//! `/RollbackTransaction`. Each statement runs on the PostgreSQL server it was started with, in
//! the request's `database`:
//!
//! - a transaction id owns one dedicated connection from `BeginTransaction` until
//!   `CommitTransaction` / `RollbackTransaction`; a statement without a transaction id runs on a
//!   fresh connection of its own, in autocommit (a call shares no session with the next);
//! - named parameters (`:name`) become `$n` (outside quotes, comments, dollar-quoted bodies
//!   and `::` casts) with `stringValue`, `longValue`, `doubleValue`, `booleanValue` or `isNull`
//!   values; statements without parameters go over the simple protocol, as written;
//! - results come back as `records` of `Field` unions (integers as `longValue`, floats as
//!   `doubleValue`, booleans as `booleanValue`, NULL as `isNull`, anything else as its text in
//!   `stringValue`) with `numberOfRecordsUpdated` (0 for queries);
//! - a database error is an HTTP 400 `BadRequestException` whose message has the Data API's
//!   form, `ERROR: <message>` then the server's `Detail:` and `Position:` lines, then
//!   `; SQLState: XXXXX`; an unknown transaction id is a `BadRequestException` too;
//! - the per-call time limit (45 s, [`DataApiEndpoint::set_call_limit`] to change it): a
//!   statement still running then is cancelled on the server (`pg_cancel_backend`) and the call
//!   answers HTTP 400 `StatementTimeoutException`;
//! - a cluster waking up: [`DataApiEndpoint::answer_resuming`] makes the next calls answer
//!   `DatabaseResumingException` without running anything.
//!
//! Not emulated: request signatures and credentials (anything is accepted), the secret (never
//! read: the endpoint connects with the server URL's own credentials), the cluster ARN (any is
//! accepted), result-size limits, `typeHint`s, `formatRecordsAs`/`formattedRecords`,
//! `includeResultMetadata`, `continueAfterTimeout`, `generatedFields` (always empty: MySQL's
//! auto-increment ids), `BatchExecuteStatement`, the idle timeout of transactions, MySQL, and
//! Aurora's real pausing (only the scripted `DatabaseResumingException` answers above).
//!
//! ```no_run
//! use holdfast_testkit::{postgres_url, DataApiEndpoint};
//! let endpoint = DataApiEndpoint::start(&postgres_url());
//! let url = endpoint.database_url("mydb"); // data-api://arn:aws:rds:…?secret=…&database=mydb
//! // holdfast migrate up --database "$url" --endpoint-url endpoint.endpoint()
//! ```

mod executor;
mod params;

use crate::http1::{Handler, Message, Server};
use executor::{ApiError, Executor};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A cluster ARN for tests (any is accepted).
pub const CLUSTER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:holdfast-test";
/// A secret ARN for tests (never read).
pub const SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:holdfast-test-AbCdEf";

struct Shared {
    executor: Executor,
    /// Requests still to answer `DatabaseResumingException`.
    resuming: AtomicUsize,
}

/// A running endpoint; stops (closing its connections, rolling back open transactions) on drop.
pub struct DataApiEndpoint {
    shared: Arc<Shared>,
    server: Option<Server>,
    port: u16,
}

impl DataApiEndpoint {
    /// Starts an endpoint that runs statements on the PostgreSQL server at
    /// `postgres_server_url` (e.g. [`crate::postgres_url`]); each request's `database` replaces
    /// the URL's database.
    ///
    /// # Panics
    /// When no port can be bound.
    pub fn start(postgres_server_url: &str) -> DataApiEndpoint {
        let shared = Arc::new(Shared {
            executor: Executor::new(postgres_server_url),
            resuming: AtomicUsize::new(0),
        });
        let handler_shared = Arc::clone(&shared);
        let handler: Handler = Arc::new(move |request: &Message| answer(&handler_shared, request));
        let server = Server::start("data-api", handler);
        let port = server.port();
        DataApiEndpoint {
            shared,
            server: Some(server),
            port,
        }
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint-url`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `data-api://CLUSTER_ARN?secret=SECRET_ARN&database=DATABASE` with the test ARNs.
    #[must_use]
    pub fn database_url(&self, database: &str) -> String {
        format!("data-api://{CLUSTER_ARN}?secret={SECRET_ARN}&database={database}")
    }

    /// Sets the time limit of one ExecuteStatement call (default 45 s, as the Data API's).
    pub fn set_call_limit(&self, limit: Duration) {
        self.shared.executor.set_call_limit(limit);
    }

    /// Answers the next `calls` requests (any operation) with `DatabaseResumingException`, as
    /// a paused Aurora Serverless cluster does while it wakes up; nothing of them is run.
    pub fn answer_resuming(&self, calls: usize) {
        self.shared.resuming.store(calls, Ordering::SeqCst);
    }

    /// How many transactions are open (begun, not yet committed or rolled back).
    #[must_use]
    pub fn open_transactions(&self) -> usize {
        self.shared.executor.open_transactions()
    }
}

impl Drop for DataApiEndpoint {
    fn drop(&mut self) {
        // No new requests first, then the transactions' connections.
        drop(self.server.take());
        self.shared.executor.close_all();
    }
}

/// One request → its response: the operation's JSON, or the Data API's error form.
fn answer(shared: &Shared, request: &Message) -> Message {
    let (_, path) = request.method_and_path();
    let resuming = shared
        .resuming
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answer = if resuming {
        Err(ApiError {
            status: 400,
            kind: "DatabaseResumingException",
            message: "The database is resuming after being auto-paused. Please wait a few seconds and try again.".into(),
            connection_id: None,
        })
    } else {
        serde_json::from_slice::<Value>(&request.body)
            .map_err(|e| ApiError::bad_request(format!("the request body is not JSON: {e}")))
            .and_then(|body| handle(&shared.executor, path, &body))
    };
    match answer {
        Ok(body) => Message::response(200, "application/json", body.to_string().into_bytes()),
        Err(e) => {
            let mut body = json!({ "message": e.message });
            if let Some(id) = e.connection_id {
                body["dbConnectionId"] = json!(id);
            }
            let mut response =
                Message::response(e.status, "application/json", body.to_string().into_bytes());
            response
                .headers
                .push(("x-amzn-ErrorType".into(), e.kind.into()));
            response
        }
    }
}

fn required<'a>(body: &'a Value, key: &str) -> Result<&'a str, ApiError> {
    body.get(key)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("{key} is required")))
}

/// One request → the response body.
fn handle(executor: &Executor, path: &str, body: &Value) -> Result<Value, ApiError> {
    required(body, "resourceArn")?;
    required(body, "secretArn")?;
    let database = body.get("database").and_then(Value::as_str);
    match path {
        "/Execute" => {
            let sql = required(body, "sql")?;
            let transaction = body.get("transactionId").and_then(Value::as_str);
            let parameters = body
                .get("parameters")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            let outcome = executor.execute(database, transaction, sql, parameters)?;
            Ok(json!({
                "records": outcome.records,
                "numberOfRecordsUpdated": outcome.updated,
                "generatedFields": [],
            }))
        }
        "/BeginTransaction" => Ok(json!({ "transactionId": executor.begin(database)? })),
        "/CommitTransaction" => {
            executor.end(required(body, "transactionId")?, "COMMIT")?;
            Ok(json!({ "transactionStatus": "Transaction Committed" }))
        }
        "/RollbackTransaction" => {
            executor.end(required(body, "transactionId")?, "ROLLBACK")?;
            Ok(json!({ "transactionStatus": "Rollback Complete" }))
        }
        other => Err(ApiError {
            status: 404,
            kind: "UnknownOperationException",
            message: format!("the test kit's Data API has no operation at {other}"),
            connection_id: None,
        }),
    }
}
