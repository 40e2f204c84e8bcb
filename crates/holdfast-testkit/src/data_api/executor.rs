//! Runs Data API requests on the real PostgreSQL: one dedicated connection per open
//! transaction id, a fresh connection (autocommit) for each statement outside a transaction,
//! the per-call time limit enforced client-side (on expiry the backend is cancelled with
//! `pg_cancel_backend` and the call answers `StatementTimeoutException`), and rows rendered as
//! the Data API's `Field` unions.

use super::params;
use futures_util::StreamExt;
use serde_json::{json, Map, Value};
use sqlx::postgres::{PgArguments, PgConnection, PgDatabaseError, PgValueFormat, PgValueRef};
use sqlx::{Arguments, Column, Connection, Either, Executor as _, Row, TypeInfo, ValueRef};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An error answer: HTTP status, the error type (`x-amzn-ErrorType`) and the message.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) kind: &'static str,
    pub(crate) message: String,
    pub(crate) connection_id: Option<i64>,
}

impl ApiError {
    pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            kind: "BadRequestException",
            message: message.into(),
            connection_id: None,
        }
    }

    fn internal(message: impl Into<String>) -> ApiError {
        ApiError {
            status: 500,
            kind: "InternalServerErrorException",
            message: message.into(),
            connection_id: None,
        }
    }

    /// A database error in the Data API's text form: `ERROR: message`, then the Detail and
    /// Position lines the server sent, then `; SQLState: XXXXX`.
    fn from_sqlx(e: &sqlx::Error) -> ApiError {
        if let Some(pg) = e
            .as_database_error()
            .and_then(|d| d.try_downcast_ref::<PgDatabaseError>())
        {
            let mut message = format!("ERROR: {}", pg.message());
            if let Some(detail) = pg.detail() {
                message.push_str(&format!("\n  Detail: {detail}"));
            }
            if let Some(sqlx::postgres::PgErrorPosition::Original(p)) = pg.position() {
                message.push_str(&format!("\n  Position: {p}"));
            }
            message.push_str(&format!("; SQLState: {}", pg.code()));
            return ApiError::bad_request(message);
        }
        ApiError::internal(format!("Database connection failed: {e}"))
    }
}

/// One PostgreSQL connection with its backend pid (for cancelling).
struct Conn {
    conn: PgConnection,
    pid: i32,
}

/// What an ExecuteStatement returned.
pub(crate) struct Outcome {
    pub(crate) records: Vec<Vec<Value>>,
    pub(crate) updated: u64,
}

pub(crate) struct Executor {
    /// The server URL; the request's `database` replaces its database.
    server: String,
    transactions: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Conn>>>>,
    call_limit_ms: AtomicU64,
    next_transaction: AtomicU64,
    /// Last, so that connections close while it still runs.
    runtime: tokio::runtime::Runtime,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Executor {
    pub(crate) fn new(server: &str) -> Executor {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("the Data API endpoint's runtime");
        Executor {
            server: server.to_string(),
            transactions: Mutex::new(HashMap::new()),
            call_limit_ms: AtomicU64::new(45_000),
            next_transaction: AtomicU64::new(1),
            runtime,
        }
    }

    pub(crate) fn set_call_limit(&self, limit: Duration) {
        let ms = u64::try_from(limit.as_millis()).unwrap_or(u64::MAX).max(1);
        self.call_limit_ms.store(ms, Ordering::SeqCst);
    }

    pub(crate) fn open_transactions(&self) -> usize {
        lock(&self.transactions).len()
    }

    /// Closes every transaction's connection (rolling it back).
    pub(crate) fn close_all(&self) {
        let all: Vec<_> = lock(&self.transactions).drain().collect();
        self.runtime.block_on(async move {
            for (_, conn) in all {
                let mut conn = conn.lock().await;
                let _ = conn.conn.execute("ROLLBACK").await;
            }
        });
    }

    async fn connect(&self, database: Option<&str>) -> Result<Conn, ApiError> {
        let url = match database {
            Some(db) => crate::with_database(&self.server, db),
            None => self.server.clone(),
        };
        let mut conn = PgConnection::connect(&url)
            .await
            .map_err(|e| ApiError::from_sqlx(&e))?;
        let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| ApiError::from_sqlx(&e))?;
        Ok(Conn { conn, pid })
    }

    pub(crate) fn begin(&self, database: Option<&str>) -> Result<String, ApiError> {
        let conn = self.runtime.block_on(async {
            let mut conn = self.connect(database).await?;
            conn.conn
                .execute("BEGIN")
                .await
                .map_err(|e| ApiError::from_sqlx(&e))?;
            Ok::<_, ApiError>(conn)
        })?;
        let n = self.next_transaction.fetch_add(1, Ordering::SeqCst);
        let id = format!("tx-{}-{n:06}", std::process::id());
        lock(&self.transactions).insert(id.clone(), Arc::new(tokio::sync::Mutex::new(conn)));
        Ok(id)
    }

    /// Ends a transaction with `COMMIT` or `ROLLBACK`.
    pub(crate) fn end(&self, id: &str, sql: &str) -> Result<(), ApiError> {
        let conn = lock(&self.transactions)
            .remove(id)
            .ok_or_else(|| ApiError::bad_request(format!("Transaction {id} is not found")))?;
        self.runtime.block_on(async move {
            let mut conn = conn.lock().await;
            conn.conn
                .execute(sql)
                .await
                .map(|_| ())
                .map_err(|e| ApiError::from_sqlx(&e))
        })
    }

    pub(crate) fn execute(
        &self,
        database: Option<&str>,
        transaction: Option<&str>,
        sql: &str,
        parameters: &[Value],
    ) -> Result<Outcome, ApiError> {
        let (sql, arguments) = bind(sql, parameters)?;
        let shared =
            match transaction {
                Some(id) => Some(lock(&self.transactions).get(id).cloned().ok_or_else(|| {
                    ApiError::bad_request(format!("Transaction {id} is not found"))
                })?),
                None => None,
            };
        let limit = Duration::from_millis(self.call_limit_ms.load(Ordering::SeqCst));
        self.runtime.block_on(async move {
            match shared {
                Some(shared) => {
                    let mut conn = shared.lock().await;
                    self.run_limited(&mut conn, &sql, arguments, limit).await
                }
                None => {
                    let mut conn = self.connect(database).await?;
                    let result = self.run_limited(&mut conn, &sql, arguments, limit).await;
                    let _ = conn.conn.close().await;
                    result
                }
            }
        })
    }

    async fn run_limited(
        &self,
        conn: &mut Conn,
        sql: &str,
        arguments: Option<PgArguments>,
        limit: Duration,
    ) -> Result<Outcome, ApiError> {
        let pid = conn.pid;
        let running = run(&mut conn.conn, sql, arguments);
        tokio::pin!(running);
        match tokio::time::timeout(limit, &mut running).await {
            Ok(result) => result,
            Err(_) => {
                // Stop it on the server, as the Data API does, then let the call finish.
                if let Ok(mut other) = PgConnection::connect(&self.server).await {
                    let _ = sqlx::query("SELECT pg_cancel_backend($1)")
                        .bind(pid)
                        .execute(&mut other)
                        .await;
                    let _ = other.close().await;
                }
                let _ = running.await;
                Err(ApiError {
                    status: 400,
                    kind: "StatementTimeoutException",
                    message: format!(
                        "The statement timed out after {} ms (the Data API's limit per call)",
                        limit.as_millis()
                    ),
                    connection_id: Some(i64::from(pid)),
                })
            }
        }
    }
}

/// The rewritten SQL and its arguments (`None`: no parameters, sent over the simple protocol,
/// like a plain statement).
fn bind(sql: &str, parameters: &[Value]) -> Result<(String, Option<PgArguments>), ApiError> {
    if parameters.is_empty() {
        return Ok((sql.to_string(), None));
    }
    let mut values: HashMap<String, &Map<String, Value>> = HashMap::new();
    for p in parameters {
        let name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let value = p
            .get("value")
            .and_then(Value::as_object)
            .ok_or_else(|| ApiError::bad_request(format!("Parameter {name} has no value")))?;
        values.insert(name.to_string(), value);
    }
    let names: Vec<String> = values.keys().cloned().collect();
    let (sql, order) = params::rewrite(sql, &names).map_err(ApiError::bad_request)?;
    let mut arguments = PgArguments::default();
    for name in order {
        let value = values[&name];
        let added = if let Some(s) = value.get("stringValue").and_then(Value::as_str) {
            arguments.add(s.to_string())
        } else if let Some(n) = value.get("longValue").and_then(Value::as_i64) {
            arguments.add(n)
        } else if let Some(d) = value.get("doubleValue").and_then(Value::as_f64) {
            arguments.add(d)
        } else if let Some(b) = value.get("booleanValue").and_then(Value::as_bool) {
            arguments.add(b)
        } else if value.get("isNull").and_then(Value::as_bool) == Some(true) {
            arguments.add(None::<String>)
        } else {
            return Err(ApiError::bad_request(format!(
                "Parameter {name}: the test kit's Data API supports stringValue, longValue, doubleValue, booleanValue and isNull"
            )));
        };
        added.map_err(|e| ApiError::bad_request(format!("Parameter {name}: {e}")))?;
    }
    Ok((sql, Some(arguments)))
}

async fn run(
    conn: &mut PgConnection,
    sql: &str,
    arguments: Option<PgArguments>,
) -> Result<Outcome, ApiError> {
    let mut stream = match arguments {
        Some(arguments) => conn.fetch_many(sqlx::query_with(sql, arguments)),
        None => conn.fetch_many(sql),
    };
    let mut records = Vec::new();
    let mut updated = 0;
    while let Some(item) = stream.next().await {
        match item.map_err(|e| ApiError::from_sqlx(&e))? {
            Either::Left(done) => updated += done.rows_affected(),
            Either::Right(row) => {
                let mut record = Vec::with_capacity(row.columns().len());
                for (i, column) in row.columns().iter().enumerate() {
                    let raw = row.try_get_raw(i).map_err(|e| ApiError::from_sqlx(&e))?;
                    record.push(field(column.name(), raw)?);
                }
                records.push(record);
            }
        }
    }
    // A query reports no updated records.
    let first_word = sql
        .trim_start()
        .split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    if matches!(first_word.as_str(), "SELECT" | "WITH" | "VALUES" | "SHOW") {
        updated = 0;
    }
    Ok(Outcome { records, updated })
}

/// One value as a `Field`: integers as `longValue`, floats as `doubleValue`, booleans as
/// `booleanValue`, NULL as `isNull`, anything else as its text in `stringValue`.
fn field(column: &str, value: PgValueRef<'_>) -> Result<Value, ApiError> {
    if value.is_null() {
        return Ok(json!({"isNull": true}));
    }
    let type_name = value.type_info().name().to_string();
    let unsupported = || {
        ApiError::bad_request(format!(
            "column {column}: the test kit's Data API cannot render {type_name} values sent in binary; cast it to text"
        ))
    };
    let bytes = value.as_bytes().map_err(|_| unsupported())?;
    let text_value = || String::from_utf8_lossy(bytes).into_owned();
    let number = |n: f64| {
        if n.is_finite() {
            json!({"doubleValue": n})
        } else {
            json!({"stringValue": n.to_string()})
        }
    };
    let fixed = |n: usize| -> Result<&[u8], ApiError> {
        (bytes.len() == n).then_some(bytes).ok_or_else(unsupported)
    };
    Ok(match (value.format(), type_name.as_str()) {
        (PgValueFormat::Text, "INT2" | "INT4" | "INT8" | "OID") => {
            let text = text_value();
            match text.parse::<i64>() {
                Ok(n) => json!({"longValue": n}),
                Err(_) => json!({"stringValue": text}),
            }
        }
        (PgValueFormat::Text, "FLOAT4" | "FLOAT8") => {
            let text = text_value();
            match text.parse::<f64>() {
                Ok(n) => number(n),
                Err(_) => json!({"stringValue": text}),
            }
        }
        (PgValueFormat::Text, "BOOL") => json!({"booleanValue": bytes == b"t"}),
        (PgValueFormat::Text, _) => json!({"stringValue": text_value()}),
        (PgValueFormat::Binary, "INT2") => {
            let b = fixed(2)?;
            json!({"longValue": i16::from_be_bytes([b[0], b[1]])})
        }
        (PgValueFormat::Binary, "INT4") => {
            let b = fixed(4)?;
            json!({"longValue": i32::from_be_bytes([b[0], b[1], b[2], b[3]])})
        }
        (PgValueFormat::Binary, "OID") => {
            let b = fixed(4)?;
            json!({"longValue": u32::from_be_bytes([b[0], b[1], b[2], b[3]])})
        }
        (PgValueFormat::Binary, "INT8") => {
            let b = fixed(8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            json!({"longValue": i64::from_be_bytes(a)})
        }
        (PgValueFormat::Binary, "FLOAT4") => {
            let b = fixed(4)?;
            number(f64::from(f32::from_be_bytes([b[0], b[1], b[2], b[3]])))
        }
        (PgValueFormat::Binary, "FLOAT8") => {
            let b = fixed(8)?;
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            number(f64::from_be_bytes(a))
        }
        (PgValueFormat::Binary, "BOOL") => json!({"booleanValue": fixed(1)?[0] != 0}),
        (PgValueFormat::Binary, "TEXT" | "VARCHAR" | "NAME" | "BPCHAR" | "UNKNOWN" | "JSON") => {
            json!({"stringValue": text_value()})
        }
        (PgValueFormat::Binary, "VOID") => json!({"stringValue": ""}),
        (PgValueFormat::Binary, _) => return Err(unsupported()),
    })
}
