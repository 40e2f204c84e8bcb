//! Reading source items again by key: strongly consistent `BatchGetItem`, unprocessed keys
//! asked for again with backoff.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use aws_sdk_dynamodb::Client;
use holdfast_core::remedy::{NextStep, Remedy};

use super::CopyError;
use crate::keys::KeySpec;
use crate::retry::{classify, Backoff};
use crate::sdk_item::SdkItem;
use crate::stop::Stop;

/// Reads `keys` from `table` (strongly consistent), re-asking for unprocessed keys with
/// backoff; found items by key identity.
pub(super) async fn get_all(
    client: &Client,
    table: &str,
    key: &KeySpec,
    keys: Vec<SdkItem>,
    stop: &Stop,
) -> Result<HashMap<Vec<u8>, SdkItem>, CopyError> {
    let mut found = HashMap::with_capacity(keys.len());
    if keys.is_empty() {
        return Ok(found);
    }
    let mut pending = keys;
    pending.sort_by_key(|k| key.identity(k));
    pending.dedup_by_key(|k| key.identity(k));
    let backoff = Backoff::default();
    let mut without_progress = 0;
    loop {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(pending.clone()))
            .consistent_read(true)
            .build()
            .map_err(|e| CopyError::Describe {
                table: table.into(),
                detail: e.to_string(),
            })?;
        let result = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await;
        let before = pending.len();
        let last = match result {
            Ok(mut out) => {
                for item in out
                    .responses
                    .as_mut()
                    .and_then(|r| r.remove(table))
                    .unwrap_or_default()
                {
                    found.insert(key.identity(&item), item);
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if pending.is_empty() {
                    return Ok(found);
                }
                "unprocessed keys".to_owned()
            }
            Err(e) => {
                let e = classify(&e);
                if !e.retryable {
                    return Err(CopyError::Failed {
                        error: format!("table {table}: BatchGetItem refused: {e}"),
                        resume: NextStep::new("", Remedy::RunAgain),
                    });
                }
                e.to_string()
            }
        };
        without_progress = if pending.len() < before {
            0
        } else {
            without_progress + 1
        };
        if without_progress >= backoff.max_attempts {
            return Err(CopyError::Failed {
                error: format!(
                    "table {table}: BatchGetItem gave up after {without_progress} rounds without progress; last: {last}"
                ),
                resume: NextStep::new("", Remedy::RunAgain),
            });
        }
        if !stop.sleep(backoff.delay(without_progress)).await {
            return Err(CopyError::Failed {
                error: "stopped".into(),
                resume: NextStep::new("", Remedy::RunAgain),
            });
        }
    }
}
