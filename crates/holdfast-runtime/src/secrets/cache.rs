//! The cache: values by item with their fetch time, a time to live per read, a bound on the
//! number of items (the least recently used goes first), and one fetch at a time per item.
//!
//! A read that finds a value younger than its time to live returns it under one short lock
//! (no await). Otherwise it waits for the item's fetch lock (a `tokio::sync::Mutex`, fair:
//! first come, first served), and then:
//! 1. if a fetch finished while this read waited, its outcome — value or error — is this
//!    read's too (so 100 concurrent first reads make one call, and share a failure); a forced
//!    refresh takes it only from a fetch that *started* after the refresh was asked for (so it
//!    never gets a value older than its request, and one that waited behind another refresh
//!    does not make a second call);
//! 2. else, unless forced, a value that became fresh meanwhile is returned;
//! 3. else this read fetches, stores a value (not an error), and leaves its outcome for the
//!    reads waiting behind it.
//!
//! A value's age counts from the start of the fetch that got it.

use super::error::SecretsError;
use super::item::{Item, SecretValue};
use super::source::Source;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// How one read may use the cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// This read's time to live (else the cache's).
    pub ttl: Option<Duration>,
    /// Fetch even when a fresh value is cached.
    pub force_refresh: bool,
}

impl ReadOptions {
    /// A read that accepts a cached value at most `ttl` old.
    #[must_use]
    pub fn ttl(ttl: Duration) -> ReadOptions {
        ReadOptions {
            ttl: Some(ttl),
            force_refresh: false,
        }
    }

    /// A read that fetches, whatever is cached.
    #[must_use]
    pub fn refresh() -> ReadOptions {
        ReadOptions {
            ttl: None,
            force_refresh: true,
        }
    }
}

/// The outcome of the last fetch of an item, for the reads that waited for it.
struct Attempt {
    started: Instant,
    finished: Instant,
    outcome: Result<SecretValue, SecretsError>,
}

/// One fetch at a time per item.
#[derive(Default)]
struct Slot {
    last: tokio::sync::Mutex<Option<Attempt>>,
}

struct Entry {
    value: Option<(SecretValue, Instant)>,
    slot: Arc<Slot>,
    /// The tick of its last read, for eviction.
    used: u64,
}

#[derive(Default)]
struct State {
    /// Secrets and parameters apart, so a lookup needs no allocation.
    secrets: HashMap<String, Entry>,
    parameters: HashMap<String, Entry>,
    tick: u64,
}

impl State {
    fn map(&mut self, item: Item<'_>) -> &mut HashMap<String, Entry> {
        if item.is_secret() {
            &mut self.secrets
        } else {
            &mut self.parameters
        }
    }

    fn len(&self) -> usize {
        self.secrets.len() + self.parameters.len()
    }

    /// Removes the least recently read entry other than `keep`.
    fn evict_one(&mut self, keep: Item<'_>) {
        let oldest = self
            .secrets
            .iter()
            .map(|(name, e)| (Item::Secret(name), e.used))
            .chain(
                self.parameters
                    .iter()
                    .map(|(name, e)| (Item::Parameter(name), e.used)),
            )
            .filter(|(item, _)| *item != keep)
            .min_by_key(|(_, used)| *used)
            .map(|(item, _)| (item.is_secret(), item.name().to_owned()));
        if let Some((secret, name)) = oldest {
            if secret {
                self.secrets.remove(&name);
            } else {
                self.parameters.remove(&name);
            }
        }
    }
}

/// Values by item; see the module documentation.
pub(crate) struct Cache {
    state: Mutex<State>,
    ttl: Duration,
    max_entries: usize,
}

impl Cache {
    pub(crate) fn new(ttl: Duration, max_entries: usize) -> Cache {
        Cache {
            state: Mutex::new(State::default()),
            ttl,
            max_entries: max_entries.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The value of `item`, cached or fetched from `source`.
    pub(crate) async fn get(
        &self,
        source: &dyn Source,
        item: Item<'_>,
        options: ReadOptions,
    ) -> Result<SecretValue, SecretsError> {
        let asked = Instant::now();
        let ttl = options.ttl.unwrap_or(self.ttl);
        let slot = match self.cached(item, asked, ttl, options.force_refresh) {
            Ok(value) => return Ok(value),
            Err(slot) => slot,
        };
        let mut last = slot.last.lock().await;
        let shared = |a: &&Attempt| {
            if options.force_refresh {
                a.started >= asked
            } else {
                a.finished >= asked
            }
        };
        if let Some(attempt) = last.as_ref().filter(shared) {
            return attempt.outcome.clone();
        }
        if !options.force_refresh {
            if let Some(value) = self.fresh(item, Instant::now(), ttl) {
                return Ok(value);
            }
        }
        let started = Instant::now();
        let outcome = source.fetch(item).await;
        if let Ok(value) = &outcome {
            self.store(item, value.clone(), started, &slot);
        }
        *last = Some(Attempt {
            started,
            finished: Instant::now(),
            outcome: outcome.clone(),
        });
        outcome
    }

    /// A fresh cached value (`Ok`), or the item's fetch slot (`Err`), marking it read.
    fn cached(
        &self,
        item: Item<'_>,
        now: Instant,
        ttl: Duration,
        force: bool,
    ) -> Result<SecretValue, Arc<Slot>> {
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        if let Some(entry) = state.map(item).get_mut(item.name()) {
            entry.used = tick;
            if let Some((value, at)) = &entry.value {
                if !force && now.saturating_duration_since(*at) < ttl {
                    return Ok(value.clone());
                }
            }
            return Err(Arc::clone(&entry.slot));
        }
        let slot = Arc::new(Slot::default());
        let entry = Entry {
            value: None,
            slot: Arc::clone(&slot),
            used: tick,
        };
        state.map(item).insert(item.name().to_owned(), entry);
        while state.len() > self.max_entries {
            state.evict_one(item);
        }
        Err(slot)
    }

    fn fresh(&self, item: Item<'_>, now: Instant, ttl: Duration) -> Option<SecretValue> {
        let mut state = self.lock();
        let entry = state.map(item).get(item.name())?;
        let (value, at) = entry.value.as_ref()?;
        (now.saturating_duration_since(*at) < ttl).then(|| value.clone())
    }

    /// Keeps a fetched value (in the entry of this slot, or a new one if it was evicted).
    fn store(&self, item: Item<'_>, value: SecretValue, at: Instant, slot: &Arc<Slot>) {
        let mut state = self.lock();
        state.tick += 1;
        let tick = state.tick;
        let entry = state
            .map(item)
            .entry(item.name().to_owned())
            .or_insert_with(|| Entry {
                value: None,
                slot: Arc::clone(slot),
                used: tick,
            });
        if entry.value.as_ref().is_none_or(|(_, old)| *old <= at) {
            entry.value = Some((value, at));
        }
        while state.len() > self.max_entries {
            state.evict_one(item);
        }
    }

    /// Forgets the value of `item` (the next read fetches).
    pub(crate) fn invalidate(&self, item: Item<'_>) {
        let mut state = self.lock();
        if let Some(entry) = state.map(item).get_mut(item.name()) {
            entry.value = None;
        }
    }

    /// How many items are cached (with or without a value).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::source::Fetch;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Counts fetches; answers `NAME#N` (the N-th fetch of any item), or fails for `missing`.
    #[derive(Default)]
    struct Counting {
        fetches: AtomicUsize,
        delay: Duration,
    }

    impl Source for Counting {
        fn fetch<'a>(&'a self, item: Item<'a>) -> Fetch<'a> {
            Box::pin(async move {
                let n = self.fetches.fetch_add(1, Ordering::SeqCst) + 1;
                tokio::time::sleep(self.delay).await;
                if item.name() == "missing" {
                    return Err(SecretsError::NotFound {
                        item: item.to_string(),
                        detail: "no such".into(),
                    });
                }
                Ok(SecretValue::from(format!("{}#{n}", item.name())))
            })
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn concurrent_first_reads_and_their_failure_are_shared() {
        rt().block_on(async {
            let source = Arc::new(Counting {
                delay: Duration::from_millis(50),
                ..Counting::default()
            });
            let cache = Arc::new(Cache::new(Duration::from_secs(60), 10));
            let mut tasks = Vec::new();
            for name in ["a", "missing"] {
                for _ in 0..50 {
                    let (cache, source) = (Arc::clone(&cache), Arc::clone(&source));
                    tasks.push(tokio::spawn(async move {
                        cache
                            .get(&*source, Item::Secret(name), ReadOptions::default())
                            .await
                    }));
                }
            }
            let mut ok = 0;
            for task in tasks {
                match task.await.unwrap() {
                    Ok(value) => {
                        assert!(value.expose().starts_with("a#"));
                        ok += 1;
                    }
                    Err(e) => assert!(e.is_not_found()),
                }
            }
            assert_eq!(ok, 50);
            assert_eq!(
                source.fetches.load(Ordering::SeqCst),
                2,
                "one fetch per name"
            );
        });
    }

    #[test]
    fn secrets_and_parameters_of_one_name_are_apart_and_the_least_recent_goes_first() {
        rt().block_on(async {
            let source = Counting::default();
            let cache = Cache::new(Duration::from_secs(60), 2);
            let get = |item| cache.get(&source, item, ReadOptions::default());
            assert_eq!(get(Item::Secret("x")).await.unwrap().expose(), "x#1");
            assert_eq!(get(Item::Parameter("x")).await.unwrap().expose(), "x#2");
            assert_eq!(get(Item::Secret("x")).await.unwrap().expose(), "x#1");
            // A third item evicts the parameter (read less recently than the secret).
            assert_eq!(get(Item::Secret("y")).await.unwrap().expose(), "y#3");
            assert_eq!(cache.len(), 2);
            assert_eq!(get(Item::Secret("x")).await.unwrap().expose(), "x#1");
            assert_eq!(get(Item::Parameter("x")).await.unwrap().expose(), "x#4");
        });
    }

    #[test]
    fn a_forced_refresh_fetches_and_a_short_ttl_expires() {
        rt().block_on(async {
            let source = Counting::default();
            let cache = Cache::new(Duration::from_secs(60), 10);
            let item = Item::Parameter("p");
            let read = |options| cache.get(&source, item, options);
            assert_eq!(read(ReadOptions::default()).await.unwrap().expose(), "p#1");
            assert_eq!(read(ReadOptions::refresh()).await.unwrap().expose(), "p#2");
            assert_eq!(read(ReadOptions::default()).await.unwrap().expose(), "p#2");
            let short = ReadOptions::ttl(Duration::from_millis(30));
            assert_eq!(read(short).await.unwrap().expose(), "p#2");
            tokio::time::sleep(Duration::from_millis(40)).await;
            assert_eq!(read(short).await.unwrap().expose(), "p#3");
            cache.invalidate(item);
            assert_eq!(read(ReadOptions::default()).await.unwrap().expose(), "p#4");
        });
    }
}
