//! The plan of a migration run: a pure function of (source migrations, applied history, options).
//!
//! `status`, `validate`, `plan` and `up` all start here. The plan says the state of every
//! migration, which problems block a run (drift, missing files, failed or interrupted rows,
//! versions out of order), and the exact steps `up` would take, in order.

use crate::history::{HistoryRow, RowState};
use crate::migration::{prefix_checksum, Kind, Migration, MigrationSet, Version};
use crate::remedy::{Remedy, Setting};
use crate::report::{Entry, EntryState, Problem, ProblemKind};
use crate::split::Dialect;
use crate::txn::transaction_blocker;
use std::collections::HashMap;

/// What the caller wants of the run.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub dialect: Dialect,
    /// PostgreSQL's `server_version_num`, when known.
    pub server_version: Option<u32>,
    /// Continue failed or interrupted migrations at the statement where they stopped.
    pub resume: bool,
    /// Apply pending versions lower than the newest applied one instead of refusing.
    pub allow_out_of_order: bool,
    /// Apply versioned migrations up to and including this version only.
    pub target: Option<Version>,
    /// Whether the caller holds the migration lock: then a `running` row is known to be
    /// interrupted; otherwise it may be in progress elsewhere.
    pub holds_lock: bool,
    /// The caller applies an older migration set on purpose (CloudFormation rolls a stack back
    /// by sending the old properties to the old function): history rows above the newest
    /// version on disk belong to the newer set, so even failed or interrupted ones are
    /// warnings ("the database is ahead"), not problems. Nothing is ever undone.
    pub tolerate_newer_rows: bool,
}

impl PlanOptions {
    /// Options for a read-only look (status, validate) on `dialect`.
    pub fn read_only(dialect: Dialect) -> PlanOptions {
        PlanOptions {
            dialect,
            server_version: None,
            resume: false,
            allow_out_of_order: false,
            target: None,
            holds_lock: false,
            tolerate_newer_rows: false,
        }
    }
}

/// One migration `up` will run.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub migration: &'a Migration,
    /// Index of the first statement to run (non-zero when resuming).
    pub start: usize,
    /// The failed or interrupted history row this step continues.
    pub row: Option<i64>,
    /// Whether the migration and its history row commit in one transaction.
    pub transactional: bool,
}

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

/// The outcome of planning.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    pub steps: Vec<Step<'a>>,
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
    pub warnings: Vec<String>,
    pub current_version: Option<String>,
    pub blockers: Vec<Blocker>,
}

impl Plan<'_> {
    /// Migrations not applied yet (pending, out of order, outdated repeatables, unfinished).
    pub fn pending_count(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| {
                matches!(
                    e.state,
                    EntryState::Pending
                        | EntryState::OutOfOrder
                        | EntryState::Outdated
                        | EntryState::Failed
                        | EntryState::Interrupted
                        | EntryState::Running
                )
            })
            .count()
    }
}

/// The digest of the history a database has when every migration of `source` is applied once,
/// in order (versioned by version, then repeatables by description) and nothing else: the
/// common state at deploy time. A backend that can compute [`history_digest`] on the server
/// lets `up` conclude "nothing to do" without reading every row; any other history gives another
/// digest and takes the full path.
pub fn applied_digest(source: &MigrationSet) -> String {
    digest_lines(source.iter().map(|m| {
        let key = m
            .version
            .as_ref()
            .map_or(m.description.clone(), ToString::to_string);
        (
            key,
            m.kind.as_str(),
            m.checksum.clone(),
            RowState::Applied.as_str(),
        )
    }))
}

/// The digest of history rows, in id order, as [`applied_digest`] defines it: SHA-256 (hex) of
/// the lines `key|kind|checksum|state` joined by `\n`, where key is the version, or the
/// description when there is none.
pub fn history_digest(rows: &[HistoryRow]) -> String {
    digest_lines(rows.iter().map(|r| {
        let key = r.version.clone().unwrap_or_else(|| r.description.clone());
        (key, r.kind.as_str(), r.checksum.clone(), r.state.as_str())
    }))
}

fn digest_lines(
    lines: impl Iterator<Item = (String, &'static str, String, &'static str)>,
) -> String {
    let text = lines
        .map(|(key, kind, checksum, state)| format!("{key}|{kind}|{checksum}|{state}"))
        .collect::<Vec<_>>()
        .join("\n");
    crate::migration::sha256_hex(text.as_bytes())
}

/// Plans a run. Pure: reads nothing but its arguments.
pub fn plan<'a>(source: &'a MigrationSet, history: &[HistoryRow], opts: &PlanOptions) -> Plan<'a> {
    let mut planner = Planner {
        opts,
        steps: Vec::new(),
        versioned_entries: Vec::new(),
        repeatable_entries: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    };

    let mut versioned_rows: HashMap<Version, &HistoryRow> = HashMap::new();
    let mut repeatable_rows: HashMap<&str, &HistoryRow> = HashMap::new();
    let mut baseline: Option<(Version, &HistoryRow)> = None;
    for row in history {
        match row.kind {
            Kind::Versioned => {
                if let Some(v) = row.version.as_deref().and_then(Version::parse) {
                    let keep = versioned_rows.get(&v).is_none_or(|old| old.id < row.id);
                    if keep {
                        versioned_rows.insert(v, row);
                    }
                }
            }
            Kind::Repeatable => {
                let keep = repeatable_rows
                    .get(row.description.as_str())
                    .is_none_or(|old| old.id < row.id);
                if keep {
                    repeatable_rows.insert(row.description.as_str(), row);
                }
            }
            Kind::Baseline => {
                if let Some(v) = row.version.as_deref().and_then(Version::parse) {
                    baseline = Some((v, row));
                }
            }
        }
    }
    let newest_applied = versioned_rows
        .iter()
        .filter(|(_, r)| r.state == RowState::Applied)
        .map(|(v, _)| v)
        .chain(baseline.as_ref().map(|(v, _)| v))
        .max()
        .cloned();
    let within_target = |v: &Version| opts.target.as_ref().is_none_or(|t| v <= t);

    for m in &source.versioned {
        let v = m
            .version
            .as_ref()
            .expect("versioned migrations have versions");
        match versioned_rows.get(v) {
            Some(row) => planner.existing(m, row, within_target(v)),
            None if baseline.as_ref().is_some_and(|(b, _)| v <= b) => {
                planner.entry(Some(m), None, EntryState::BelowBaseline);
            }
            None if newest_applied.as_ref().is_some_and(|newest| v < newest) => {
                planner.entry(Some(m), None, EntryState::OutOfOrder);
                if opts.allow_out_of_order {
                    if within_target(v) {
                        planner.step(m, 0, None);
                    }
                } else {
                    let newest = newest_applied
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default();
                    planner.problem_with(
                        ProblemKind::OutOfOrder,
                        m.label(),
                        format!(
                            "version {v} is pending but {newest} is already applied; give it a version above {newest}, or apply it out of order"
                        ),
                        Some(Remedy::using(Setting::AllowOutOfOrder)),
                    );
                }
            }
            None => {
                planner.entry(Some(m), None, EntryState::Pending);
                if within_target(v) {
                    planner.step(m, 0, None);
                }
            }
        }
    }

    let latest_on_disk = source.latest_version();
    let mut orphans: Vec<(&Version, &&HistoryRow)> = versioned_rows
        .iter()
        .filter(|(v, _)| {
            !source
                .versioned
                .iter()
                .any(|m| m.version.as_ref() == Some(*v))
        })
        .collect();
    orphans.sort_by(|a, b| a.0.cmp(b.0));
    for (v, row) in orphans {
        let ahead = latest_on_disk.is_none_or(|l| v > l);
        if ahead && (row.state == RowState::Applied || opts.tolerate_newer_rows) {
            planner.entry(None, Some(row), EntryState::Future);
            planner.warnings.push(format!(
                "version {v} ({}) is {} but not on disk: the database is ahead of these migrations",
                row.script,
                row.state.as_str()
            ));
        } else {
            planner.entry(None, Some(row), EntryState::Missing);
            planner.problem(
                ProblemKind::Missing,
                &row.script,
                format!(
                    "version {v} is in the history ({}) but its file is missing",
                    row.state.as_str()
                ),
            );
        }
    }
    if let Some((_, row)) = &baseline {
        planner.entry(None, Some(row), EntryState::Baseline);
    }

    let skip_repeatables = match (&opts.target, latest_on_disk) {
        (Some(t), Some(latest)) => t < latest,
        _ => false,
    };
    if skip_repeatables && !source.repeatable.is_empty() {
        planner.warnings.push(
            "repeatable migrations are not applied when the target stops before the newest version"
                .into(),
        );
    }
    for m in &source.repeatable {
        match repeatable_rows.get(m.description.as_str()) {
            Some(row) => planner.existing(m, row, !skip_repeatables),
            None => {
                planner.entry(Some(m), None, EntryState::Pending);
                if !skip_repeatables {
                    planner.step(m, 0, None);
                }
            }
        }
    }
    let mut gone: Vec<&&HistoryRow> = repeatable_rows
        .iter()
        .filter(|(d, _)| !source.repeatable.iter().any(|m| m.description == **d))
        .map(|(_, r)| r)
        .collect();
    gone.sort_by_key(|r| r.id);
    for row in gone {
        planner.entry(None, Some(row), EntryState::Missing);
        planner.warnings.push(format!(
            "repeatable migration `{}` is in the history but its file is gone",
            row.description
        ));
    }

    if let (Some(t), Some(newest)) = (&opts.target, &newest_applied) {
        if t < newest {
            planner.warnings.push(format!(
                "target {t} is below the current version {newest}: migrations are never undone"
            ));
        }
    }

    let blockers = planner
        .steps
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
        .collect();

    let mut entries = planner.versioned_entries;
    entries.sort_by(|a, b| {
        let key = |e: &Entry| e.version.as_deref().and_then(Version::parse);
        key(a).cmp(&key(b))
    });
    entries.extend(planner.repeatable_entries);
    Plan {
        steps: planner.steps,
        entries,
        problems: planner.problems,
        warnings: planner.warnings,
        current_version: newest_applied.map(|v| v.to_string()),
        blockers,
    }
}

struct Planner<'a, 'o> {
    opts: &'o PlanOptions,
    steps: Vec<Step<'a>>,
    versioned_entries: Vec<Entry>,
    repeatable_entries: Vec<Entry>,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

impl<'a> Planner<'a, '_> {
    fn step(&mut self, m: &'a Migration, start: usize, row: Option<i64>) {
        let transactional = self.opts.dialect != Dialect::MySql && !m.directives.no_transaction;
        self.steps.push(Step {
            migration: m,
            start,
            row,
            transactional,
        });
    }

    fn problem(&mut self, kind: ProblemKind, migration: &str, message: String) {
        self.problem_with(kind, migration, message, None);
    }

    fn problem_with(
        &mut self,
        kind: ProblemKind,
        migration: &str,
        message: String,
        remedy: Option<Remedy>,
    ) {
        self.problems.push(Problem {
            kind,
            migration: migration.to_string(),
            message,
            remedy,
        });
    }

    fn entry(&mut self, m: Option<&Migration>, row: Option<&HistoryRow>, state: EntryState) {
        let kind = m
            .map(|m| m.kind)
            .or(row.map(|r| r.kind))
            .unwrap_or(Kind::Versioned);
        let entry = Entry {
            kind,
            version: m
                .and_then(|m| m.version.as_ref().map(ToString::to_string))
                .or_else(|| row.and_then(|r| r.version.clone())),
            description: m
                .map(|m| m.description.clone())
                .or_else(|| row.map(|r| r.description.clone()))
                .unwrap_or_default(),
            script: m.map(|m| m.script.clone()),
            state,
            checksum: m.map(|m| m.checksum.clone()),
            applied_checksum: row.map(|r| r.checksum.clone()),
            applied_at: row.map(|r| r.applied_at.clone()),
            applied_by: row.map(|r| r.applied_by.clone()),
            execution_ms: row.map(|r| r.execution_ms),
            statements_applied: row.map(|r| r.statements_applied),
            statements_total: row
                .map(|r| r.statements_total)
                .or(m.map(|m| m.statements.len() as i64)),
            error: row.and_then(|r| r.error.clone()),
        };
        if kind == Kind::Repeatable {
            self.repeatable_entries.push(entry);
        } else {
            self.versioned_entries.push(entry);
        }
    }

    /// A migration on disk that has a history row.
    fn existing(&mut self, m: &'a Migration, row: &HistoryRow, may_run: bool) {
        match row.state {
            RowState::Applied if row.checksum == m.checksum => {
                self.entry(Some(m), Some(row), EntryState::Applied);
            }
            RowState::Applied if m.kind == Kind::Repeatable => {
                self.entry(Some(m), Some(row), EntryState::Outdated);
                if may_run {
                    self.step(m, 0, None);
                }
            }
            RowState::Applied => {
                self.entry(Some(m), Some(row), EntryState::Drift);
                self.problem_with(
                    ProblemKind::Drift,
                    m.label(),
                    "applied, but the file changed since (checksum differs)".into(),
                    Some(Remedy::RestoreOrRepair),
                );
            }
            RowState::Failed | RowState::Running => {
                let (state, kind, what) = match (row.state, self.opts.holds_lock) {
                    (RowState::Failed, _) => (EntryState::Failed, ProblemKind::Failed, "failed"),
                    (_, true) => (
                        EntryState::Interrupted,
                        ProblemKind::Interrupted,
                        "was interrupted (outcome of that statement unknown)",
                    ),
                    (_, false) => (
                        EntryState::Running,
                        ProblemKind::Interrupted,
                        "is running elsewhere or was interrupted",
                    ),
                };
                self.entry(Some(m), Some(row), state);
                let at = row.statements_applied + 1;
                let total = row.statements_total;
                if self.opts.resume {
                    let applied = usize::try_from(row.statements_applied).unwrap_or(0);
                    let same_prefix = row.prefix_checksum.as_deref()
                        == Some(
                            prefix_checksum(m.statements.iter().map(|s| s.sql.as_str()), applied)
                                .as_str(),
                        )
                        && applied <= m.statements.len();
                    if same_prefix {
                        if may_run {
                            self.step(m, applied, Some(row.id));
                        }
                    } else {
                        self.problem_with(
                            ProblemKind::ResumeMismatch,
                            m.label(),
                            format!("cannot resume at statement {at}: statements 1..{} changed since they were applied; restore them", at - 1),
                            Some(Remedy::CleanUpAndRepair),
                        );
                    }
                } else {
                    let error = row
                        .error
                        .as_deref()
                        .map(|e| format!(": {e}"))
                        .unwrap_or_default();
                    self.problem_with(
                        kind,
                        m.label(),
                        format!("{what} at statement {at} of {total}{error}"),
                        Some(Remedy::FixAndResume {
                            file: m.script.clone(),
                            statement: usize::try_from(at).unwrap_or(1),
                            applied: usize::try_from(at - 1).unwrap_or(0),
                        }),
                    );
                }
            }
        }
    }
}
