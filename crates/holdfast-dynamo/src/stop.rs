//! When to stop early: a deadline (`--deadline`) or an interruption (Ctrl-C, a Lambda about to
//! time out). Workers check it between pages and while they wait to retry; a stopped run
//! finishes no new page, keeps its checkpoint, and reports how to resume (exit 4).

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

pub use holdfast_core::stopping::StopReason;

/// A shared stop signal with an optional deadline.
#[derive(Debug)]
pub struct Stop {
    deadline: Option<Instant>,
    /// 0 = running, 1 = deadline, 2 = interrupted.
    state: AtomicU8,
    notify: Notify,
}

impl Stop {
    /// A signal that fires `after` from now (never, if `None`) or when [`Stop::interrupt`] is called.
    #[must_use]
    pub fn new(after: Option<Duration>) -> Stop {
        Stop {
            deadline: after.map(|d| Instant::now() + d),
            state: AtomicU8::new(0),
            notify: Notify::new(),
        }
    }

    /// Stop now (Ctrl-C).
    pub fn interrupt(&self) {
        if self
            .state
            .compare_exchange(0, 2, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            self.notify.notify_waiters();
        }
    }

    /// Why it stopped, if it has.
    pub fn reason(&self) -> Option<StopReason> {
        match self.state.load(Ordering::SeqCst) {
            2 => return Some(StopReason::Interrupted),
            1 => return Some(StopReason::Deadline),
            _ => {}
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = self
                .state
                .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
            return self.reason();
        }
        None
    }

    /// Has it stopped?
    pub fn is_stopped(&self) -> bool {
        self.reason().is_some()
    }

    /// Sleeps for `duration`, or less if the signal fires first. Returns `false` when stopped.
    pub async fn sleep(&self, duration: Duration) -> bool {
        if self.is_stopped() {
            return false;
        }
        let until = Instant::now() + duration;
        let until = self.deadline.map_or(until, |d| d.min(until));
        tokio::select! {
            () = tokio::time::sleep_until(until) => {}
            () = self.notify.notified() => {}
        }
        !self.is_stopped()
    }
}

impl holdfast_core::stopping::StopSignal for Stop {
    fn reason(&self) -> Option<StopReason> {
        Stop::reason(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_deadline_cuts_a_sleep_short() {
        let stop = Stop::new(Some(Duration::from_secs(1)));
        assert!(!stop.is_stopped());
        let start = Instant::now();
        assert!(!stop.sleep(Duration::from_secs(10)).await);
        assert_eq!(stop.reason(), Some(StopReason::Deadline));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_interruption_wins_over_a_later_deadline() {
        let stop = Stop::new(Some(Duration::from_secs(3600)));
        stop.interrupt();
        assert_eq!(stop.reason(), Some(StopReason::Interrupted));
        assert!(!stop.sleep(Duration::from_secs(10)).await);
    }
}
