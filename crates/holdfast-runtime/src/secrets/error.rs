//! Why a secret or parameter could not be had. Messages name the item and never hold its
//! value (nor the extension's token).

/// A failed read. Clone: one failed fetch is the answer of every caller that waited for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The secret or parameter does not exist (or that version or stage does not).
    #[error("{item} was not found: {detail}")]
    NotFound { item: String, detail: String },
    /// The function's role may not read it (`secretsmanager:GetSecretValue`,
    /// `ssm:GetParameter`, `kms:Decrypt` for a customer-managed key), or its credentials were
    /// refused.
    #[error("not allowed to read {item}: {detail}")]
    AccessDenied { item: String, detail: String },
    /// Too many requests: AWS (or the extension) asked to slow down.
    #[error("reading {item} was throttled: {detail}")]
    Throttled { item: String, detail: String },
    /// No answer: the endpoint could not be reached, or did not answer in time.
    #[error("could not reach {service} to read {item}: {detail}")]
    Unreachable {
        item: String,
        service: &'static str,
        detail: String,
    },
    /// Any other failure of the call.
    #[error("reading {item} failed: {detail}")]
    Failed { item: String, detail: String },
    /// A binary secret (`SecretBinary`): this cache holds text.
    #[error("{item} is a binary secret; only text secrets are read")]
    Binary { item: String },
    /// [`Secrets::get_json_key`](super::Secrets::get_json_key) on a value that is not a JSON
    /// object.
    #[error("{item} is not a JSON object")]
    NotJsonObject { item: String },
    /// [`Secrets::get_json_key`](super::Secrets::get_json_key): the object has no such key.
    #[error("{item} has no key `{key}`")]
    MissingJsonKey { item: String, key: String },
    /// [`Secrets::get_json_key`](super::Secrets::get_json_key): the key holds an object, an
    /// array or null.
    #[error("the key `{key}` of {item} is not a string, number or boolean")]
    JsonKeyNotScalar { item: String, key: String },
    /// The SDK configuration has no region (`AWS_REGION`, which Lambda always sets).
    #[error(
        "no AWS region: set AWS_REGION (Lambda sets it) or give an SDK configuration with one"
    )]
    NoRegion,
}

impl SecretsError {
    /// Whether the read was refused for lack of permission or credentials.
    #[must_use]
    pub fn is_access_denied(&self) -> bool {
        matches!(self, SecretsError::AccessDenied { .. })
    }

    /// Whether the item does not exist.
    #[must_use]
    pub fn is_not_found(&self) -> bool {
        matches!(self, SecretsError::NotFound { .. })
    }
}

/// An error of the caller's own use of a secret, or of reading it
/// ([`Secrets::get_or_refresh_on`](super::Secrets::get_or_refresh_on)).
#[derive(Debug, thiserror::Error)]
pub enum UseError<E> {
    /// The secret could not be read (or refreshed).
    #[error(transparent)]
    Secret(SecretsError),
    /// The caller's use of it failed (after a refresh and a retry, for an authentication
    /// failure).
    #[error(transparent)]
    Use(E),
}

impl<E> From<SecretsError> for UseError<E> {
    fn from(error: SecretsError) -> UseError<E> {
        UseError::Secret(error)
    }
}

/// One line of at most `max` characters: an answer's body for a message.
pub(crate) fn short(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// An error and its causes on one line, each said once.
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = short(&e.to_string(), 300);
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}
