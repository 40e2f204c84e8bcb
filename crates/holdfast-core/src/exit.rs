//! The exit-code table shared by every command and front end.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success (warnings may be printed) |
//! | 1 | the operation failed; nothing is left half-done without a record of it |
//! | 2 | usage, configuration or bad input; nothing was changed |
//! | 3 | a check found problems (drift, failed or interrupted migrations, blocking findings) |
//! | 4 | stopped early with resumable progress recorded |
//! | 5 | busy: a lock is held elsewhere and the wait ran out; nothing was changed |

use serde::Serialize;

/// Success; warnings may have been printed.
pub const SUCCESS: i32 = 0;
/// The operation failed; anything partial is recorded and reported with how to recover.
pub const FAILED: i32 = 1;
/// Usage, configuration or bad input; nothing was changed.
pub const USAGE: i32 = 2;
/// A check found problems.
pub const CHECK_FAILED: i32 = 3;
/// Stopped early with resumable progress recorded.
pub const STOPPED_RESUMABLE: i32 = 4;
/// A lock is held elsewhere and the wait ran out; nothing was changed.
pub const BUSY: i32 = 5;

/// The class of an outcome, which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failed,
    Usage,
    CheckFailed,
    StoppedResumable,
    Busy,
}

impl Outcome {
    /// The process exit code for this outcome.
    pub fn code(self) -> i32 {
        match self {
            Outcome::Success => SUCCESS,
            Outcome::Failed => FAILED,
            Outcome::Usage => USAGE,
            Outcome::CheckFailed => CHECK_FAILED,
            Outcome::StoppedResumable => STOPPED_RESUMABLE,
            Outcome::Busy => BUSY,
        }
    }
}

/// Errors that know which exit code they deserve, and what the user can do about them.
pub trait Classify {
    /// The outcome class of this error.
    fn outcome(&self) -> Outcome;
    /// What to do next, for the front end to render in its own words (never part of the
    /// error's message, which names no front end's setting).
    fn remedy(&self) -> Option<crate::remedy::Remedy> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_documented_table() {
        let table = [
            (Outcome::Success, 0),
            (Outcome::Failed, 1),
            (Outcome::Usage, 2),
            (Outcome::CheckFailed, 3),
            (Outcome::StoppedResumable, 4),
            (Outcome::Busy, 5),
        ];
        for (outcome, code) in table {
            assert_eq!(outcome.code(), code, "{outcome:?}");
        }
    }
}
