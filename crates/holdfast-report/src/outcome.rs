//! The exit-code table shared by every command and front end, and the outcome class that
//! decides it.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success (warnings may be printed) |
//! | 1 | the operation failed; nothing is left half-done without a record of it |
//! | 2 | usage, configuration or bad input; nothing was changed |
//! | 3 | a check found problems (drift, failed or interrupted migrations, blocking findings) |
//! | 4 | stopped early with resumable progress recorded |
//! | 5 | busy: a lock is held elsewhere and the wait ran out; nothing was changed |

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Exit code 0.
    Success,
    /// Exit code 1.
    Failed,
    /// Exit code 2.
    Usage,
    /// Exit code 3.
    CheckFailed,
    /// Exit code 4.
    StoppedResumable,
    /// Exit code 5.
    Busy,
}

impl Outcome {
    /// Every outcome, in exit-code order.
    pub const ALL: [Outcome; 6] = [
        Outcome::Success,
        Outcome::Failed,
        Outcome::Usage,
        Outcome::CheckFailed,
        Outcome::StoppedResumable,
        Outcome::Busy,
    ];

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

    /// The name it has in reports (`check_failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Usage => "usage",
            Outcome::CheckFailed => "check_failed",
            Outcome::StoppedResumable => "stopped_resumable",
            Outcome::Busy => "busy",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
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
            let json = serde_json::to_value(outcome).unwrap();
            assert_eq!(json, outcome.as_str(), "{outcome:?}");
        }
        assert_eq!(Outcome::ALL.map(Outcome::code), [0, 1, 2, 3, 4, 5]);
    }
}
