//! A stand-in for the AWS Parameters and Secrets Lambda Extension: its HTTP protocol on a free
//! port of 127.0.0.1, serving the secrets and parameters a test puts in it.
//!
//! - `GET /secretsmanager/get?secretId=ID` → 200 with `GetSecretValue`'s JSON (`ARN`, `Name`,
//!   `SecretString`, `VersionId`, `VersionStages`, `CreatedDate`), or 400 with a
//!   `ResourceNotFoundException` body;
//! - `GET /systemsmanager/parameters/get?name=NAME[&withDecryption=true]` → 200 with
//!   `GetParameter`'s JSON (`{"Parameter": {…, "Value": …}, "ResultMetadata": {}}`), or 400
//!   with a `ParameterNotFound` body;
//! - a request without the header `X-Aws-Parameters-Secrets-Token` holding the token given to
//!   [`SecretsExtension::start`] → 401;
//! - while [`SecretsExtension::set_ready`] is false → 400 `not ready to serve traffic, please
//!   wait`, as the extension answers before it has started.
//!
//! Query values are percent-decoded. Every request is recorded ([`SecretsExtension::requests`]).

use crate::http1::{Message, Server};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One request as the stand-in saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRequest {
    /// The path and query, as sent.
    pub target: String,
    /// Whether it carried the right token.
    pub token_ok: bool,
    /// The status it was answered with.
    pub status: u16,
}

#[derive(Default)]
struct Store {
    secrets: HashMap<String, String>,
    parameters: HashMap<String, String>,
    requests: Vec<ExtensionRequest>,
}

struct Shared {
    token: String,
    ready: AtomicBool,
    store: Mutex<Store>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running stand-in; stops on drop.
pub struct SecretsExtension {
    shared: Arc<Shared>,
    server: Server,
}

impl SecretsExtension {
    /// Starts serving (ready), wanting `token` in every request.
    ///
    /// # Panics
    /// When no port can be bound.
    #[must_use]
    pub fn start(token: &str) -> SecretsExtension {
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            ready: AtomicBool::new(true),
            store: Mutex::new(Store::default()),
        });
        let handler_shared = Arc::clone(&shared);
        let server = Server::start(
            "secrets-extension",
            Arc::new(move |request: &Message| answer(&handler_shared, request)),
        );
        SecretsExtension { shared, server }
    }

    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port())
    }

    /// Sets (or replaces) a secret's `SecretString`.
    pub fn put_secret(&self, id: &str, value: &str) {
        self.shared
            .lock()
            .secrets
            .insert(id.to_owned(), value.to_owned());
    }

    /// Sets (or replaces) a parameter's value.
    pub fn put_parameter(&self, name: &str, value: &str) {
        self.shared
            .lock()
            .parameters
            .insert(name.to_owned(), value.to_owned());
    }

    /// Whether it answers (else 400 "not ready").
    pub fn set_ready(&self, ready: bool) {
        self.shared.ready.store(ready, Ordering::SeqCst);
    }

    /// Every request so far, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<ExtensionRequest> {
        self.shared.lock().requests.clone()
    }
}

fn answer(shared: &Shared, request: &Message) -> Message {
    let (method, target) = request.method_and_path();
    let token_ok = request.header("x-aws-parameters-secrets-token") == Some(shared.token.as_str());
    let response = respond(shared, method, target, token_ok);
    let status = response
        .start
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    shared.lock().requests.push(ExtensionRequest {
        target: target.to_owned(),
        token_ok,
        status,
    });
    response
}

fn respond(shared: &Shared, method: &str, target: &str, token_ok: bool) -> Message {
    let json = |status, body: serde_json::Value| {
        Message::response(status, "application/json", body.to_string().into_bytes())
    };
    if !shared.ready.load(Ordering::SeqCst) {
        let body = b"not ready to serve traffic, please wait".to_vec();
        return Message::response(400, "text/plain", body);
    }
    if !token_ok {
        return Message::response(401, "text/plain", b"Unauthorized".to_vec());
    }
    if method != "GET" {
        return Message::response(400, "text/plain", b"only GET".to_vec());
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query: HashMap<String, String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    match path {
        "/secretsmanager/get" => {
            let id = query.get("secretId").cloned().unwrap_or_default();
            match shared.lock().secrets.get(&id) {
                Some(value) => json(
                    200,
                    serde_json::json!({
                        "ARN": format!("arn:aws:secretsmanager:us-east-1:123456789012:secret:{id}-AbCdEf"),
                        "Name": id,
                        "SecretString": value,
                        "VersionId": "01234567-89ab-cdef-0123-456789abcdef",
                        "VersionStages": ["AWSCURRENT"],
                        "CreatedDate": "2024-01-01T00:00:00.000Z",
                    }),
                ),
                None => json(
                    400,
                    serde_json::json!({
                        "__type": "ResourceNotFoundException",
                        "message": "Secrets Manager can't find the specified secret.",
                    }),
                ),
            }
        }
        "/systemsmanager/parameters/get" => {
            let name = query.get("name").cloned().unwrap_or_default();
            match shared.lock().parameters.get(&name) {
                Some(value) => json(
                    200,
                    serde_json::json!({
                        "Parameter": {
                            "ARN": format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}"),
                            "DataType": "text",
                            "LastModifiedDate": "2024-01-01T00:00:00.000Z",
                            "Name": name,
                            "Type": "SecureString",
                            "Value": value,
                            "Version": 1,
                        },
                        "ResultMetadata": {},
                    }),
                ),
                None => json(
                    400,
                    serde_json::json!({"__type": "ParameterNotFound", "message": ""}),
                ),
            }
        }
        _ => Message::response(404, "text/plain", b"unknown path".to_vec()),
    }
}

/// Percent-decoding of a query value (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(decode("prod%2Fdb%2B1%3Da+b"), "prod/db+1=a b");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
    }
}
