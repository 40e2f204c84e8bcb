//! `--max-rcu` / `--max-wcu`: a token bucket fed by the capacity DynamoDB reports as consumed.
//!
//! Each request first waits until the bucket is not in debt, then takes its estimated cost;
//! when the response reports the capacity actually consumed (`ReturnConsumedCapacity: TOTAL`),
//! the difference is settled. The bucket refills at the rate (units per second) and holds at
//! most one second's worth, so the average over any few seconds stays at or below the rate. The
//! limit is per process: N processes sharing one copy may use N times the rate.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// A capacity-unit token bucket. `None` rate: unlimited (every call returns at once).
#[derive(Debug)]
pub struct RateLimiter {
    rate: Option<f64>,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// A limiter of `units_per_second` (`None` or 0: unlimited).
    #[must_use]
    pub fn new(units_per_second: Option<u32>) -> RateLimiter {
        let rate = units_per_second.filter(|r| *r > 0).map(f64::from);
        RateLimiter {
            rate,
            state: Mutex::new(State {
                tokens: rate.unwrap_or(0.0),
                updated: Instant::now(),
            }),
        }
    }

    /// Is there a limit at all?
    #[must_use]
    pub fn is_limited(&self) -> bool {
        self.rate.is_some()
    }

    /// Waits until the bucket is out of debt, then takes `estimate` units.
    pub async fn acquire(&self, estimate: f64) {
        let Some(rate) = self.rate else { return };
        loop {
            let wait = {
                let mut state = self
                    .state
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                state.refill(rate);
                if state.tokens >= 0.0 {
                    state.tokens -= estimate;
                    return;
                }
                Duration::from_secs_f64(-state.tokens / rate)
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Settles a request taken with `estimate` that consumed `actual` units.
    pub fn settle(&self, estimate: f64, actual: f64) {
        let Some(rate) = self.rate else { return };
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.refill(rate);
        state.tokens -= actual - estimate;
    }
}

impl State {
    fn refill(&mut self, rate: f64) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.updated).as_secs_f64();
        self.updated = now;
        self.tokens = (self.tokens + elapsed * rate).min(rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_average_stays_at_the_rate() {
        let limiter = RateLimiter::new(Some(100));
        let start = tokio::time::Instant::now();
        // 500 units in calls of 10: the first 100 are the initial burst, the other 400 take 4 s.
        for _ in 0..50 {
            limiter.acquire(10.0).await;
        }
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(3_800), "{elapsed:?}");
        assert!(elapsed <= Duration::from_millis(4_500), "{elapsed:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn reported_consumption_is_settled() {
        let limiter = RateLimiter::new(Some(10));
        let start = tokio::time::Instant::now();
        limiter.acquire(1.0).await;
        // The call really cost 50 units: 41 in debt → the next call waits ~4.1 s.
        limiter.settle(1.0, 50.0);
        limiter.acquire(1.0).await;
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_secs(4), "{elapsed:?}");
    }

    #[tokio::test]
    async fn unlimited_never_waits() {
        let limiter = RateLimiter::new(None);
        for _ in 0..1000 {
            limiter.acquire(1e9).await;
        }
        assert!(!limiter.is_limited());
    }
}
