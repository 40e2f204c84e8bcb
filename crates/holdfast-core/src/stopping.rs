//! Why a long run stops early, and the signal it checks between pages or batches. The signal
//! itself (a deadline, Ctrl-C, a Lambda about to time out) lives with the runtime; a library
//! only asks it.

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    Deadline,
    Interrupted,
}

impl StopReason {
    /// As reports name it: `deadline`, `interrupted`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::Deadline => "deadline",
            StopReason::Interrupted => "interrupted",
        }
    }
}

/// What a run checks between units of work.
pub trait StopSignal: Send + Sync {
    /// Why it should stop, if it should.
    fn reason(&self) -> Option<StopReason>;

    /// Should it stop?
    fn is_stopped(&self) -> bool {
        self.reason().is_some()
    }
}
