//! Reading the secret key of the transforms from where `[refresh] key` says: an environment
//! variable, or a Secrets Manager secret's string. The key is registered with the redactor, so
//! that it never appears in output even if an error were to echo it.

use crate::config::KeySource;
use crate::transform::Key;
use crate::RefreshError;
use holdfast_core::redact::Redactor;

/// The key, read from `source` (`None`: `[refresh] key` is missing).
///
/// # Errors
/// No key is configured, the variable is unset, the secret cannot be read, or the key is too
/// short.
pub async fn read(
    source: Option<&KeySource>,
    file: &str,
    aws: &holdfast_aws::AwsOptions,
) -> Result<Key, RefreshError> {
    let text = match source {
        None => {
            return Err(RefreshError::Rules(format!(
                "{file}: [refresh] key: missing; name where the secret key is read, e.g. key = {{ env = \"HOLDFAST_REFRESH_KEY\" }}"
            )))
        }
        Some(KeySource::Env(name)) => std::env::var(name).map_err(|_| {
            RefreshError::Usage(format!(
                "the refresh key's variable {name} is not set ([refresh] key in {file})"
            ))
        })?,
        Some(KeySource::SecretArn(arn)) => {
            let config = holdfast_aws::sdk_config(aws)
                .await
                .map_err(|e| RefreshError::Usage(format!("reading the refresh key {arn}: {e}")))?;
            let client = aws_sdk_secretsmanager::Client::new(&config);
            let out = client
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| RefreshError::Usage(format!(
                    "reading the refresh key {arn}: {}",
                    holdfast_aws::error_chain(&e)
                )))?;
            out.secret_string()
                .map(str::to_string)
                .ok_or_else(|| RefreshError::Usage(format!("the refresh key {arn} has no string value")))?
        }
    };
    let text = text.trim().to_string();
    Redactor::global().register(&text);
    Key::new(text.into_bytes()).map_err(RefreshError::Usage)
}
