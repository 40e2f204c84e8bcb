//! What stops a planned step from running at all, found before anything runs: an empty file, or
//! a statement its transaction cannot hold.

use super::{PlanOptions, Step};
use crate::txn::transaction_blocker;

/// What stops a pending migration from being applied at all: bad input, found before anything
/// runs (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Blocker {
    /// A statement that cannot run inside the transaction its file would run in.
    #[error("{script}: statement {statement} (line {line}): {reason}; add `-- holdfast:no-transaction` as the file's first line to run it outside a transaction")]
    Transaction {
        script: String,
        /// 1-based.
        statement: usize,
        line: usize,
        reason: &'static str,
    },
    /// A file with no statements yet (as `migrate new` creates it): applying it would record
    /// it as done, and the SQL written into it later would then be drift.
    #[error("{script} has no SQL statements yet: write them, or delete the file")]
    Empty { script: String },
}

impl crate::exit::Classify for Blocker {
    /// A step that cannot run is bad input, found before anything runs.
    fn outcome(&self) -> crate::exit::Outcome {
        crate::exit::Outcome::Usage
    }
}

/// The blockers of every step, in step order: an empty file, then each statement (from where
/// the step starts) that its transaction cannot hold.
pub(super) fn blockers(steps: &[Step<'_>], opts: &PlanOptions) -> Vec<Blocker> {
    steps
        .iter()
        .flat_map(|s| {
            let m = s.migration;
            let empty = m.statements.is_empty().then(|| Blocker::Empty {
                script: m.script.clone(),
            });
            let in_transaction = m
                .statements
                .iter()
                .enumerate()
                .skip(s.start)
                .filter(|_| s.transactional)
                .filter_map(|(i, st)| {
                    transaction_blocker(&st.sql, opts.dialect, opts.server_version).map(|reason| {
                        Blocker::Transaction {
                            script: m.script.clone(),
                            statement: i + 1,
                            line: st.line,
                            reason,
                        }
                    })
                });
            empty.into_iter().chain(in_transaction)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Classify as _;

    #[test]
    fn a_blocker_is_bad_input() {
        let empty = Blocker::Empty {
            script: "V1__x.sql".into(),
        };
        assert_eq!(empty.outcome().code(), 2, "{empty}");
    }
}
