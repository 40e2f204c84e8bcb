//! Where values come from: the [`Source`] trait, behind the cache.

use super::error::SecretsError;
use super::item::{Item, SecretValue};
use std::future::Future;
use std::pin::Pin;

/// A boxed future of one fetch.
pub type Fetch<'a> = Pin<Box<dyn Future<Output = Result<SecretValue, SecretsError>> + Send + 'a>>;

/// Reads one item, uncached. The SDK and the Parameters and Secrets Lambda Extension are the
/// built-in sources; a function's own tests can give [`SecretsBuilder::source`] a map.
///
/// [`SecretsBuilder::source`]: super::SecretsBuilder::source
pub trait Source: Send + Sync + 'static {
    /// Fetches the current value of `item`.
    fn fetch<'a>(&'a self, item: Item<'a>) -> Fetch<'a>;
}
