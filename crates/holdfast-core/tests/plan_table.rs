//! Table-driven tests of the pure plan: (source migrations, applied history, options) →
//! (steps, entry states, problems, warnings, blockers).

use holdfast_core::history::{HistoryRow, RowState};
use holdfast_core::migration::{
    checksum, prefix_checksum, Directives, Kind, Migration, MigrationSet, Version,
};
use holdfast_core::plan::{plan, PlanOptions};
use holdfast_core::split::split;
use holdfast_core::Dialect;
use holdfast_report::migrate::{EntryState, ProblemKind};

fn migration(name: &str, text: &str) -> Migration {
    let parsed = holdfast_core::migration::parse_file_name(name)
        .unwrap()
        .unwrap();
    Migration {
        kind: parsed.kind,
        version: parsed.version,
        description: parsed.description,
        script: name.to_string(),
        checksum: checksum(text),
        directives: Directives::parse(text).unwrap(),
        statements: split(text, Dialect::Postgres).unwrap(),
    }
}

fn source(files: &[(&str, &str)]) -> MigrationSet {
    let mut set = MigrationSet::default();
    for (name, text) in files {
        let m = migration(name, text);
        if m.kind == Kind::Repeatable {
            set.repeatable.push(m);
        } else {
            set.versioned.push(m);
        }
    }
    set.versioned.sort_by(|a, b| a.version.cmp(&b.version));
    set
}

/// A history row for `name` as applied with `text`, in `state` after `done` statements.
fn row(id: i64, name: &str, text: &str, state: RowState, done: i64) -> HistoryRow {
    let m = migration(name, text);
    HistoryRow {
        id,
        version: m.version.as_ref().map(ToString::to_string),
        description: m.description.clone(),
        kind: m.kind,
        script: name.into(),
        checksum: m.checksum.clone(),
        applied_at: "2026-01-01T00:00:00Z".into(),
        applied_by: "test@host".into(),
        execution_ms: 1,
        state,
        statements_applied: done,
        statements_total: m.statements.len() as i64,
        prefix_checksum: Some(prefix_checksum(
            m.statements.iter().map(|s| s.sql.as_str()),
            done as usize,
        )),
        error: (state == RowState::Failed).then(|| "boom".into()),
    }
}

fn baseline(id: i64, version: &str) -> HistoryRow {
    HistoryRow {
        id,
        version: Some(version.into()),
        description: "baseline".into(),
        kind: Kind::Baseline,
        script: String::new(),
        checksum: String::new(),
        applied_at: String::new(),
        applied_by: String::new(),
        execution_ms: 0,
        state: RowState::Applied,
        statements_applied: 0,
        statements_total: 0,
        prefix_checksum: None,
        error: None,
    }
}

fn opts() -> PlanOptions {
    PlanOptions {
        holds_lock: true,
        tolerate_newer_rows: false,
        ..PlanOptions::read_only(Dialect::Postgres)
    }
}

const A: &str = "CREATE TABLE a (id int);";
const B: &str = "CREATE TABLE b (id int);\nCREATE TABLE b2 (id int);\nCREATE TABLE b3 (id int);";
const C: &str = "CREATE TABLE c (id int);";

struct Case {
    name: &'static str,
    files: Vec<(&'static str, &'static str)>,
    history: Vec<HistoryRow>,
    options: PlanOptions,
    /// (script, first statement index) of each step, in order.
    steps: Vec<(&'static str, usize)>,
    states: Vec<EntryState>,
    problems: Vec<ProblemKind>,
    warnings: usize,
    blockers: usize,
}

fn case(name: &'static str) -> Case {
    Case {
        name,
        files: vec![],
        history: vec![],
        options: opts(),
        steps: vec![],
        states: vec![],
        problems: vec![],
        warnings: 0,
        blockers: 0,
    }
}

#[test]
fn plans() {
    use EntryState as S;
    use ProblemKind as P;
    let cases = vec![
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B), ("R__r.sql", C)],
            steps: vec![("V1__a.sql", 0), ("V2__b.sql", 0), ("R__r.sql", 0)],
            states: vec![S::Pending, S::Pending, S::Pending],
            ..case("empty history: everything pending, repeatables last")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B), ("R__r.sql", C)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Applied, 3), row(3, "R__r.sql", C, RowState::Applied, 1)],
            states: vec![S::Applied, S::Applied, S::Applied],
            ..case("all applied: nothing to do")
        },
        Case {
            files: vec![("V1__a.sql", "CREATE TABLE a (id bigint);"), ("V2__b.sql", B)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1)],
            steps: vec![("V2__b.sql", 0)],
            states: vec![S::Drift, S::Pending],
            problems: vec![P::Drift],
            ..case("drift is a problem")
        },
        Case {
            files: vec![("V2__b.sql", B)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Applied, 3)],
            states: vec![S::Missing, S::Applied],
            problems: vec![P::Missing],
            ..case("a missing older file is a problem")
        },
        Case {
            files: vec![("V1__a.sql", A)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Applied, 3)],
            states: vec![S::Applied, S::Future],
            warnings: 1,
            ..case("a newer applied version (older code deployed) is a warning")
        },
        Case {
            files: vec![("V1__a.sql", A)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 3)],
            states: vec![S::Applied, S::Missing],
            problems: vec![P::Missing],
            ..case("a newer failed version is a problem by default")
        },
        Case {
            files: vec![("V1__a.sql", A)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 3)],
            options: PlanOptions { tolerate_newer_rows: true, ..opts() },
            states: vec![S::Applied, S::Future],
            warnings: 1,
            ..case("a rollback tolerates a newer failed version")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V3__c.sql", C)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 3)],
            options: PlanOptions { tolerate_newer_rows: true, ..opts() },
            steps: vec![("V3__c.sql", 0)],
            states: vec![S::Applied, S::Missing, S::Pending],
            problems: vec![P::Missing],
            ..case("a rollback still refuses a failed version below the newest on disk")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B), ("V3__c.sql", C)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V3__c.sql", C, RowState::Applied, 1)],
            states: vec![S::Applied, S::OutOfOrder, S::Applied],
            problems: vec![P::OutOfOrder],
            ..case("out of order is refused")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B), ("V3__c.sql", C)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V3__c.sql", C, RowState::Applied, 1)],
            options: PlanOptions { allow_out_of_order: true, ..opts() },
            steps: vec![("V2__b.sql", 0)],
            states: vec![S::Applied, S::OutOfOrder, S::Applied],
            ..case("out of order when allowed")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B), ("V3__c.sql", C)],
            history: vec![baseline(1, "2")],
            steps: vec![("V3__c.sql", 0)],
            states: vec![S::BelowBaseline, S::BelowBaseline, S::Baseline, S::Pending],
            ..case("baseline: files at or below it never run")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 1)],
            states: vec![S::Applied, S::Failed],
            problems: vec![P::Failed],
            ..case("a failed row blocks without --resume")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 1)],
            options: PlanOptions { resume: true, ..opts() },
            steps: vec![("V2__b.sql", 1)],
            states: vec![S::Applied, S::Failed],
            ..case("--resume continues at the failed statement")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", "CREATE TABLE bx (id int);\nCREATE TABLE b2 (id int);\nCREATE TABLE b3 (id int);")],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 1)],
            options: PlanOptions { resume: true, ..opts() },
            states: vec![S::Applied, S::Failed],
            problems: vec![P::ResumeMismatch],
            ..case("--resume refuses when an applied statement changed")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", "CREATE TABLE b (id int);\nCREATE TABLE b2 (id bigint);\nCREATE TABLE b3 (id int);")],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Failed, 1)],
            options: PlanOptions { resume: true, ..opts() },
            steps: vec![("V2__b.sql", 1)],
            states: vec![S::Applied, S::Failed],
            ..case("--resume accepts a fix of the failed statement itself")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Running, 2)],
            states: vec![S::Applied, S::Interrupted],
            problems: vec![P::Interrupted],
            ..case("a running row seen under the lock is interrupted")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "V2__b.sql", B, RowState::Running, 2)],
            options: PlanOptions::read_only(Dialect::Postgres),
            states: vec![S::Applied, S::Running],
            problems: vec![P::Interrupted],
            ..case("a running row seen without the lock may be in progress")
        },
        Case {
            files: vec![("V1__a.sql", A), ("R__r.sql", "CREATE VIEW r AS SELECT 2;"), ("R__s.sql", C)],
            history: vec![row(1, "V1__a.sql", A, RowState::Applied, 1), row(2, "R__r.sql", "CREATE VIEW r AS SELECT 1;", RowState::Applied, 1), row(3, "R__s.sql", C, RowState::Applied, 1)],
            steps: vec![("R__r.sql", 0)],
            states: vec![S::Applied, S::Outdated, S::Applied],
            ..case("a changed repeatable is applied again")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__b.sql", B), ("V3__c.sql", C), ("R__r.sql", C)],
            options: PlanOptions { target: Version::parse("2"), ..opts() },
            steps: vec![("V1__a.sql", 0), ("V2__b.sql", 0)],
            states: vec![S::Pending, S::Pending, S::Pending, S::Pending],
            warnings: 1,
            ..case("target stops early and holds repeatables back")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__idx.sql", "CREATE INDEX CONCURRENTLY i ON a (id);")],
            steps: vec![("V1__a.sql", 0), ("V2__idx.sql", 0)],
            states: vec![S::Pending, S::Pending],
            blockers: 1,
            ..case("CONCURRENTLY in a transactional file is a blocker")
        },
        Case {
            files: vec![("V1__a.sql", A), ("V2__idx.sql", "-- holdfast:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);")],
            steps: vec![("V1__a.sql", 0), ("V2__idx.sql", 0)],
            states: vec![S::Pending, S::Pending],
            ..case("CONCURRENTLY with the directive is fine")
        },
        Case {
            files: vec![("V1__idx.sql", "CREATE INDEX CONCURRENTLY i ON a (id);")],
            history: vec![row(1, "V1__idx.sql", "CREATE INDEX CONCURRENTLY i ON a (id);", RowState::Applied, 1)],
            states: vec![S::Applied],
            ..case("an applied file is not checked again")
        },
    ];
    for c in cases {
        let src = source(&c.files);
        let p = plan(&src, &c.history, &c.options);
        let steps: Vec<(&str, usize)> = p
            .steps
            .iter()
            .map(|s| (s.migration.script.as_str(), s.start))
            .collect();
        assert_eq!(steps, c.steps, "{}: steps", c.name);
        let states: Vec<EntryState> = p.entries.iter().map(|e| e.state).collect();
        assert_eq!(states, c.states, "{}: states", c.name);
        let problems: Vec<ProblemKind> = p.problems.iter().map(|e| e.kind).collect();
        assert_eq!(
            problems, c.problems,
            "{}: problems {:?}",
            c.name, p.problems
        );
        assert_eq!(
            p.warnings.len(),
            c.warnings,
            "{}: warnings {:?}",
            c.name,
            p.warnings
        );
        assert_eq!(
            p.blockers.len(),
            c.blockers,
            "{}: blockers {:?}",
            c.name,
            p.blockers
        );
    }
}

#[test]
fn transactional_mode_follows_dialect_and_directive() {
    let src = source(&[
        ("V1__a.sql", A),
        (
            "V2__b.sql",
            "-- holdfast:no-transaction\nCREATE TABLE b (id int);",
        ),
    ]);
    for (dialect, expected) in [
        (Dialect::Postgres, [true, false]),
        (Dialect::Sqlite, [true, false]),
        (Dialect::MySql, [false, false]),
    ] {
        let p = plan(&src, &[], &PlanOptions::read_only(dialect));
        let modes: Vec<bool> = p.steps.iter().map(|s| s.transactional).collect();
        assert_eq!(modes, expected, "{dialect:?}");
    }
}

#[test]
fn the_resume_step_continues_the_failed_row() {
    let src = source(&[("V1__b.sql", B)]);
    let history = [row(7, "V1__b.sql", B, RowState::Failed, 2)];
    let p = plan(
        &src,
        &history,
        &PlanOptions {
            resume: true,
            ..opts()
        },
    );
    assert_eq!(p.steps[0].row, Some(7));
    assert_eq!(p.steps[0].start, 2);
    assert_eq!(p.current_version, None);
}
