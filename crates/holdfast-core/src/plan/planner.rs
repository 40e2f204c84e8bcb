//! The state of each migration, from its file and its history row: the entries, the steps
//! `up` will take, the problems that stop a run and the warnings.

use super::blockers::blockers;
use super::history_index::HistoryIndex;
use super::{Plan, PlanOptions, Step};
use crate::history::{HistoryRow, RowState};
use crate::migration::{prefix_checksum, Kind, Migration, MigrationSet, Version};
use crate::remedy::{Remedy, Setting};
use crate::split::Dialect;
use holdfast_report::migrate::{Entry, EntryState, Problem, ProblemKind};

pub(super) struct Planner<'a, 'o> {
    opts: &'o PlanOptions,
    steps: Vec<Step<'a>>,
    versioned_entries: Vec<Entry>,
    repeatable_entries: Vec<Entry>,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

impl<'a, 'o> Planner<'a, 'o> {
    pub(super) fn new(opts: &'o PlanOptions) -> Planner<'a, 'o> {
        Planner {
            opts,
            steps: Vec::new(),
            versioned_entries: Vec::new(),
            repeatable_entries: Vec::new(),
            problems: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The versioned migrations on disk, in version order: applied, drifted, unfinished,
    /// below the baseline, out of order, or pending (a step when within the target).
    pub(super) fn versioned(
        &mut self,
        source: &'a MigrationSet,
        index: &HistoryIndex<'_>,
        newest_applied: Option<&Version>,
    ) {
        let opts = self.opts;
        let within_target = |v: &Version| opts.target.as_ref().is_none_or(|t| v <= t);
        for m in &source.versioned {
            let v = m
                .version
                .as_ref()
                .expect("versioned migrations have versions");
            match index.versioned.get(v) {
                Some(row) => self.existing(m, row, within_target(v)),
                None if index.below_baseline(v) => {
                    self.entry(Some(m), None, EntryState::BelowBaseline);
                }
                None if newest_applied.is_some_and(|newest| v < newest) => {
                    self.entry(Some(m), None, EntryState::OutOfOrder);
                    if opts.allow_out_of_order {
                        if within_target(v) {
                            self.step(m, 0, None);
                        }
                    } else {
                        let newest = newest_applied.map(ToString::to_string).unwrap_or_default();
                        self.problem_with(
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
                    self.entry(Some(m), None, EntryState::Pending);
                    if within_target(v) {
                        self.step(m, 0, None);
                    }
                }
            }
        }
    }

    /// Versions in the history whose file is not on disk, in version order: the database is
    /// ahead (a warning) when they are newer than every file and applied (or tolerated), else
    /// the file is missing (a problem).
    pub(super) fn versions_not_on_disk(&mut self, source: &MigrationSet, index: &HistoryIndex<'_>) {
        let latest_on_disk = source.latest_version();
        let mut orphans: Vec<(&Version, &&HistoryRow)> = index
            .versioned
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
            if ahead && (row.state == RowState::Applied || self.opts.tolerate_newer_rows) {
                self.entry(None, Some(row), EntryState::Future);
                self.warnings.push(format!(
                    "version {v} ({}) is {} but not on disk: the database is ahead of these migrations",
                    row.script,
                    row.state.as_str()
                ));
            } else {
                self.entry(None, Some(row), EntryState::Missing);
                self.problem(
                    ProblemKind::Missing,
                    &row.script,
                    format!(
                        "version {v} is in the history ({}) but its file is missing",
                        row.state.as_str()
                    ),
                );
            }
        }
    }

    /// The baseline row, if any, as its own entry.
    pub(super) fn baseline(&mut self, index: &HistoryIndex<'_>) {
        if let Some((_, row)) = &index.baseline {
            self.entry(None, Some(row), EntryState::Baseline);
        }
    }

    /// The repeatable migrations on disk (none run when the target stops before the newest
    /// version), then those in the history whose file is gone.
    pub(super) fn repeatables(&mut self, source: &'a MigrationSet, index: &HistoryIndex<'_>) {
        let skip_repeatables = match (&self.opts.target, source.latest_version()) {
            (Some(t), Some(latest)) => t < latest,
            _ => false,
        };
        if skip_repeatables && !source.repeatable.is_empty() {
            self.warnings.push(
                "repeatable migrations are not applied when the target stops before the newest version"
                    .into(),
            );
        }
        for m in &source.repeatable {
            match index.repeatable.get(m.description.as_str()) {
                Some(row) => self.existing(m, row, !skip_repeatables),
                None => {
                    self.entry(Some(m), None, EntryState::Pending);
                    if !skip_repeatables {
                        self.step(m, 0, None);
                    }
                }
            }
        }
        let mut gone: Vec<&&HistoryRow> = index
            .repeatable
            .iter()
            .filter(|(d, _)| !source.repeatable.iter().any(|m| m.description == **d))
            .map(|(_, r)| r)
            .collect();
        gone.sort_by_key(|r| r.id);
        for row in gone {
            self.entry(None, Some(row), EntryState::Missing);
            self.warnings.push(format!(
                "repeatable migration `{}` is in the history but its file is gone",
                row.description
            ));
        }
    }

    /// A target below the current version undoes nothing: a warning says so.
    pub(super) fn target_below(&mut self, newest_applied: Option<&Version>) {
        if let (Some(t), Some(newest)) = (&self.opts.target, newest_applied) {
            if t < newest {
                self.warnings.push(format!(
                    "target {t} is below the current version {newest}: migrations are never undone"
                ));
            }
        }
    }

    /// The plan: versioned entries in version order, then the repeatable ones; the steps'
    /// blockers.
    pub(super) fn finish(self, newest_applied: Option<Version>) -> Plan<'a> {
        let blockers = blockers(&self.steps, self.opts);
        let mut entries = self.versioned_entries;
        entries.sort_by(|a, b| {
            let key = |e: &Entry| e.version.as_deref().and_then(Version::parse);
            key(a).cmp(&key(b))
        });
        entries.extend(self.repeatable_entries);
        Plan {
            steps: self.steps,
            entries,
            problems: self.problems,
            warnings: self.warnings,
            current_version: newest_applied.map(|v| v.to_string()),
            blockers,
        }
    }

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
