//! Waiting for the migration lock by polling, never by blocking inside the database.
//!
//! A session blocked in `pg_advisory_lock(…)` holds a snapshot for as long as it waits, and
//! PostgreSQL's `CREATE INDEX CONCURRENTLY` waits for every transaction with an older snapshot:
//! the holder (building the index) and the waiters would wait for each other until the
//! deadlock detector kills one of them. So every backend waits the same way: a non-blocking
//! attempt (`pg_try_advisory_lock`, `GET_LOCK(…, 0)`, a conditional update of the Data API's
//! lock row), then a pause outside any statement, growing exponentially with jitter so that
//! many runners do not poll in step, until the attempt succeeds or the wait runs out.

use std::time::{Duration, Instant};

/// The first pause after a failed attempt.
const FIRST_PAUSE: Duration = Duration::from_millis(25);
/// The longest pause: how late, at most, a waiter notices that the lock is free.
const LONGEST_PAUSE: Duration = Duration::from_millis(500);

/// The pauses of one wait for the lock, up to its deadline.
#[derive(Debug)]
pub(crate) struct LockWait {
    deadline: Instant,
    ceiling: Duration,
}

impl LockWait {
    /// A wait of at most `wait` from now.
    pub(crate) fn new(wait: Duration) -> LockWait {
        LockWait {
            deadline: Instant::now() + wait,
            ceiling: FIRST_PAUSE,
        }
    }

    /// The next pause: a uniformly random time in `[ceiling/2, ceiling]`, the ceiling doubling
    /// up to [`LONGEST_PAUSE`], never past the deadline. `None`: the wait has run out.
    pub(crate) fn next_pause(&mut self) -> Option<Duration> {
        let left = self.deadline.checked_duration_since(Instant::now())?;
        if left.is_zero() {
            return None;
        }
        let pause = self.ceiling.mul_f64(0.5 + fastrand::f64() / 2.0);
        self.ceiling = (self.ceiling * 2).min(LONGEST_PAUSE);
        Some(pause.min(left))
    }

    /// Sleeps for the next pause; `false` when the wait has run out.
    pub(crate) async fn pause(&mut self) -> bool {
        match self.next_pause() {
            Some(pause) => {
                tokio::time::sleep(pause).await;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_with_jitter_up_to_a_ceiling() {
        let mut wait = LockWait::new(Duration::from_secs(3600));
        let pauses: Vec<Duration> = (0..12).map(|_| wait.next_pause().unwrap()).collect();
        assert!(pauses[0] >= FIRST_PAUSE / 2 && pauses[0] <= FIRST_PAUSE);
        assert!(pauses.iter().all(|p| *p <= LONGEST_PAUSE));
        assert!(pauses[11] >= LONGEST_PAUSE / 2, "{pauses:?}");
        let distinct: std::collections::BTreeSet<_> = pauses[6..].iter().collect();
        assert!(distinct.len() > 1, "jittered: {pauses:?}");
    }

    #[test]
    fn a_wait_never_pauses_past_its_deadline() {
        let mut wait = LockWait::new(Duration::from_millis(30));
        let mut total = Duration::ZERO;
        while let Some(p) = wait.next_pause() {
            std::thread::sleep(p);
            total += p;
        }
        assert!(total <= Duration::from_millis(60), "{total:?}");
        assert!(LockWait::new(Duration::ZERO).next_pause().is_none());
    }
}
