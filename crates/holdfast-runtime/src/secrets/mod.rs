//! Secrets Manager secrets and Parameter Store parameters, cached (feature `aws`).
//!
//! ```no_run
//! # async fn cold_start() -> Result<(), holdfast_runtime::secrets::SecretsError> {
//! use holdfast_runtime::secrets::{Item, Secrets};
//! use std::time::Duration;
//!
//! // Once per process, at cold start: one Secrets Manager client and one SSM client.
//! let secrets = Secrets::builder().ttl(Duration::from_secs(300)).build().await?;
//! let api_key = secrets.get(Item::Secret("prod/stripe")).await?;
//! let password = secrets.get_json_key(Item::Secret("prod/db"), "password").await?;
//! let flags = secrets.get(Item::Parameter("/prod/flags")).await?;
//! # let _ = (api_key.expose(), password, flags);
//! # Ok(()) }
//! ```
//!
//! - **Time to live**: a value is served from memory until it is older than the cache's TTL
//!   (default [`DEFAULT_TTL`], 5 minutes) or the read's own ([`ReadOptions::ttl`]);
//!   [`Secrets::refresh`] fetches whatever is cached.
//! - **Bounded**: at most [`SecretsBuilder::max_entries`] items (default
//!   [`DEFAULT_MAX_ENTRIES`]); the least recently read goes first.
//! - **One call per item at a time**: concurrent reads of an item that is not cached wait for
//!   one fetch and share its outcome (see the cache's rules in `cache.rs`).
//! - **Rotation**: [`Secrets::get_or_refresh_on`] runs the caller's use of a secret and, when
//!   that fails with what the caller calls an authentication failure, refreshes the secret
//!   once and retries with the new value.
//! - **Sources**: the AWS SDK (default), or the AWS Parameters and Secrets Lambda Extension
//!   ([`SecretsBuilder::extension`]) with the SDK behind it for the init phase, where the
//!   extension cannot answer yet; or any [`Source`] (a function's own tests).
//!
//! Errors ([`SecretsError`]) name the item, never its value; [`SecretValue`]'s `Debug` hides
//! the value.

mod cache;
mod error;
mod extension;
mod item;
mod json;
mod sdk;
mod source;

pub use cache::ReadOptions;
pub use error::{SecretsError, UseError};
pub use extension::{Extension, DEFAULT_PORT};
pub use item::{Item, SecretValue};
pub use sdk::{build_http_client, load_sdk_config};
pub use source::{Fetch, Source};

use aws_config::SdkConfig;
use cache::Cache;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// The default time to live of a cached value.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// The default bound on the number of cached items.
pub const DEFAULT_MAX_ENTRIES: usize = 256;

/// The cache and its source. Clone it freely: clones share both. Build one per process, at
/// cold start, and keep it (a `static` `OnceLock`, or the handler's state).
#[derive(Clone)]
pub struct Secrets {
    cache: Arc<Cache>,
    source: Arc<dyn Source>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("cached", &self.cache.len())
            .finish_non_exhaustive()
    }
}

/// How [`Secrets`] is built.
pub struct SecretsBuilder {
    ttl: Duration,
    max_entries: usize,
    sdk_config: Option<SdkConfig>,
    extension: Option<Extension>,
    source: Option<Arc<dyn Source>>,
}

impl SecretsBuilder {
    /// How long a value is served from memory (default [`DEFAULT_TTL`]).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> SecretsBuilder {
        self.ttl = ttl;
        self
    }

    /// How many items are kept at most (default [`DEFAULT_MAX_ENTRIES`]; at least 1).
    #[must_use]
    pub fn max_entries(mut self, max_entries: usize) -> SecretsBuilder {
        self.max_entries = max_entries;
        self
    }

    /// The SDK configuration for the clients (else [`load_sdk_config`]'s, from the
    /// environment). One made by hand needs an HTTP client: [`build_http_client`].
    #[must_use]
    pub fn sdk_config(mut self, config: SdkConfig) -> SecretsBuilder {
        self.sdk_config = Some(config);
        self
    }

    /// Reads through the Parameters and Secrets Lambda Extension ([`Extension::from_env`] as
    /// Lambda runs it), and through the SDK while the extension cannot answer (the init
    /// phase): see [`Extension`]'s module documentation.
    #[must_use]
    pub fn extension(mut self, extension: Extension) -> SecretsBuilder {
        self.extension = Some(extension);
        self
    }

    /// Reads from `source` instead of AWS (an in-memory map in a function's tests).
    #[must_use]
    pub fn source(mut self, source: impl Source) -> SecretsBuilder {
        self.source = Some(Arc::new(source));
        self
    }

    /// Builds the clients (the SDK's from [`SecretsBuilder::sdk_config`] or the environment;
    /// with the extension, the SDK's only when first needed). Calls nothing.
    ///
    /// # Errors
    /// [`SecretsError::NoRegion`] when the environment gives no region.
    pub async fn build(self) -> Result<Secrets, SecretsError> {
        let source: Arc<dyn Source> = match (self.source, self.extension) {
            (Some(source), _) => source,
            (None, Some(extension)) => {
                Arc::new(extension::ExtensionSource::new(extension, self.sdk_config))
            }
            (None, None) => {
                let config = match self.sdk_config {
                    Some(config) => config,
                    None => load_sdk_config().await?,
                };
                Arc::new(sdk::SdkSource::new(&config))
            }
        };
        Ok(Secrets {
            cache: Arc::new(Cache::new(self.ttl, self.max_entries)),
            source,
        })
    }
}

impl Secrets {
    /// A builder with the defaults: the SDK, [`DEFAULT_TTL`], [`DEFAULT_MAX_ENTRIES`].
    #[must_use]
    pub fn builder() -> SecretsBuilder {
        SecretsBuilder {
            ttl: DEFAULT_TTL,
            max_entries: DEFAULT_MAX_ENTRIES,
            sdk_config: None,
            extension: None,
            source: None,
        }
    }

    /// The value of `item`, from memory while it is fresh.
    ///
    /// # Errors
    /// [`SecretsError`] when it must be fetched and cannot be.
    pub async fn get(&self, item: Item<'_>) -> Result<SecretValue, SecretsError> {
        self.get_with(item, ReadOptions::default()).await
    }

    /// [`Secrets::get`] with this read's own time to live, or a forced refresh.
    ///
    /// # Errors
    /// As [`Secrets::get`].
    pub async fn get_with(
        &self,
        item: Item<'_>,
        options: ReadOptions,
    ) -> Result<SecretValue, SecretsError> {
        self.cache.get(&*self.source, item, options).await
    }

    /// Fetches `item` whatever is cached, and keeps the new value.
    ///
    /// # Errors
    /// As [`Secrets::get`].
    pub async fn refresh(&self, item: Item<'_>) -> Result<SecretValue, SecretsError> {
        self.get_with(item, ReadOptions::refresh()).await
    }

    /// Forgets the cached value of `item`: the next read fetches.
    pub fn invalidate(&self, item: Item<'_>) {
        self.cache.invalidate(item);
    }

    /// One key of a JSON object value (`{"username": …, "password": …}`, as RDS secrets
    /// are): a string as it is, a number or boolean as its JSON text.
    ///
    /// # Errors
    /// As [`Secrets::get`]; [`SecretsError::NotJsonObject`], [`SecretsError::MissingJsonKey`]
    /// or [`SecretsError::JsonKeyNotScalar`] (none of them quoting the value).
    pub async fn get_json_key(
        &self,
        item: Item<'_>,
        key: &str,
    ) -> Result<SecretValue, SecretsError> {
        let value = self.get(item).await?;
        json::key(item, &value, key)
    }

    /// Runs `use_secret` with the value of `item`; when it fails with an error that
    /// `is_auth_failure` accepts (the secret was rotated under a cached value), refreshes
    /// the secret once and, if its value changed, runs `use_secret` again with the new one.
    /// Any other error, and a second failure, is returned as it is.
    ///
    /// # Errors
    /// [`UseError::Secret`] when the secret cannot be read or refreshed; [`UseError::Use`]
    /// with `use_secret`'s error.
    pub async fn get_or_refresh_on<T, E, F, Fut>(
        &self,
        item: Item<'_>,
        is_auth_failure: impl Fn(&E) -> bool,
        mut use_secret: F,
    ) -> Result<T, UseError<E>>
    where
        F: FnMut(SecretValue) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let value = self.get(item).await?;
        match use_secret(value.clone()).await {
            Err(error) if is_auth_failure(&error) => {
                let fresh = self.refresh(item).await?;
                if fresh == value {
                    return Err(UseError::Use(error));
                }
                use_secret(fresh).await.map_err(UseError::Use)
            }
            result => result.map_err(UseError::Use),
        }
    }
}
