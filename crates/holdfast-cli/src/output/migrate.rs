//! `migrate` reports as text.

use super::table;
use holdfast_report::migrate::{
    Entry, EntryState, PlanReport, Problem, RepairReport, StatusReport, UpReport,
};

fn state_text(e: &Entry) -> String {
    let at = |e: &Entry| {
        format!(
            "{} of {}",
            e.statements_applied.unwrap_or(0) + 1,
            e.statements_total.unwrap_or(0)
        )
    };
    match e.state {
        EntryState::Applied => "applied".into(),
        EntryState::Pending => "pending".into(),
        EntryState::Outdated => "changed, will re-apply".into(),
        EntryState::Drift => "DRIFT (file changed)".into(),
        EntryState::Missing => "MISSING file".into(),
        EntryState::Future => "applied, newer than files".into(),
        EntryState::Failed => format!("FAILED at statement {}", at(e)),
        EntryState::Interrupted => format!("INTERRUPTED at statement {}", at(e)),
        EntryState::Running => format!("RUNNING or interrupted at statement {}", at(e)),
        EntryState::OutOfOrder => "pending, OUT OF ORDER".into(),
        EntryState::BelowBaseline => "below baseline".into(),
        EntryState::Baseline => "baseline".into(),
    }
}

fn problems_and_warnings(problems: &[Problem], errors: &[String], warnings: &[String]) -> String {
    let mut out = String::new();
    if !errors.is_empty() {
        out.push_str("\nErrors:\n");
        for e in errors {
            out.push_str(&format!("  {e}\n"));
        }
    }
    if !problems.is_empty() {
        out.push_str("\nProblems:\n");
        for p in problems {
            out.push_str(&format!(
                "  {}: {}\n",
                p.migration,
                crate::remedies::with_remedy(&p.message, p.remedy.as_ref())
            ));
        }
    }
    if !warnings.is_empty() {
        out.push_str("\nWarnings:\n");
        for w in warnings {
            out.push_str(&format!("  {w}\n"));
        }
    }
    out
}

/// `status` / `validate` as text.
pub fn status_text(r: &StatusReport) -> String {
    let mut out = format!(
        "Database  {}\nHistory   {}{}\nVersion   {}  ({} pending)\n\n",
        r.database,
        r.history_table,
        if r.history_exists {
            ""
        } else {
            " (not created yet)"
        },
        r.current_version.as_deref().unwrap_or("none"),
        r.pending
    );
    if r.entries.is_empty() {
        out.push_str("  no migrations\n");
    } else {
        let mut rows = vec![vec![
            "VERSION".to_string(),
            "DESCRIPTION".to_string(),
            "STATE".to_string(),
            "APPLIED AT".to_string(),
        ]];
        for e in &r.entries {
            rows.push(vec![
                e.version.clone().unwrap_or_else(|| "R".into()),
                e.description.clone(),
                state_text(e),
                e.applied_at.clone().unwrap_or_default(),
            ]);
        }
        out.push_str(&table(&rows));
    }
    out.push_str(&problems_and_warnings(&r.problems, &r.errors, &r.warnings));
    out
}

/// `up` as text (the applied lines were shown as progress on stderr).
pub fn up_text(r: &UpReport) -> String {
    let mut out = String::new();
    match (&r.failed, r.applied.len()) {
        (Some(_), n) => out.push_str(&format!("Applied {n} migration(s) before the failure.\n")),
        (None, 0) if r.problems.is_empty() && r.errors.is_empty() => {
            out.push_str("Nothing to apply: the database is up to date.\n")
        }
        (None, 0) => {}
        (None, n) => out.push_str(&format!("Applied {n} migration(s).\n")),
    }
    out.push_str(&format!(
        "Database is at version {}.\n",
        r.current_version.as_deref().unwrap_or("none")
    ));
    if let Some(f) = &r.failed {
        out.push_str(&format!(
            "\nFailed: {} statement {} of {} (line {}): {}\n  {}\n",
            f.script,
            f.statement,
            f.statements_total,
            f.line,
            f.error,
            crate::remedies::render(&f.remedy)
        ));
    }
    out.push_str(&problems_and_warnings(&r.problems, &r.errors, &r.warnings));
    out
}

/// `plan` as SQL text with comments.
pub fn plan_text(r: &PlanReport) -> String {
    let mut out = format!("-- Plan for {}\n", r.database);
    if r.creates_history_table {
        out.push_str("-- The history table does not exist yet: `up` creates it first.\n");
    }
    if r.steps.is_empty() {
        out.push_str("-- Nothing to apply.\n");
    }
    for step in &r.steps {
        out.push_str(&format!(
            "\n-- {} ({}{})\n",
            step.script,
            if step.transactional {
                "in one transaction with its history row"
            } else {
                "statement by statement, progress recorded"
            },
            if step.resumed_from > 0 {
                format!(", resuming at statement {}", step.resumed_from + 1)
            } else {
                String::new()
            }
        ));
        for sql in &step.statements {
            out.push_str(sql);
            out.push_str(";\n");
        }
    }
    let notes = problems_and_warnings(&r.problems, &r.errors, &r.warnings);
    for line in notes.lines() {
        out.push_str(&format!("-- {line}\n"));
    }
    out
}

/// `repair` as text.
pub fn repair_text(r: &RepairReport) -> String {
    let mut out = String::new();
    if r.removed.is_empty() && r.realigned.is_empty() {
        out.push_str("Nothing to repair.\n");
    }
    for removed in &r.removed {
        out.push_str(&format!("Removed history row: {removed}\n"));
    }
    for realigned in &r.realigned {
        out.push_str(&format!("Accepted the changed checksum of {realigned}\n"));
    }
    out.push_str(&problems_and_warnings(&[], &[], &r.warnings));
    out
}
